#!/usr/bin/python3
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
"""Test OAuth 2.0 authorization server for oauthmail's integration tests.

HTTPS on 127.0.0.1 (port 0 by default; the chosen port is written to
--port-file once the server is ready). State lives in memory only.

Endpoints (paths are fixed; see --help for options):
  POST /token            grant_type = refresh_token | client_credentials |
                         authorization_code (PKCE S256 or plain) |
                         urn:ietf:params:oauth:grant-type:device_code
  GET  /authorize        auto-approves: 302 to redirect_uri?code=..&state=..
  POST /devicecode       device authorization (RFC 8628); alias /device_authorization
  POST /revoke           RFC 7009 (token=...)
  POST /introspect       RFC 7662 (token=...) -> {"active":..,"sub":..,"exp":..}
  GET  /.well-known/openid-configuration
Control (tests only, no auth):
  GET  /_control/stats             JSON counters and state sizes
  POST /_control/mode?fault=F[&count=N][&delay=S]   inject a fault on /token
                                   (and /devicecode); fault=none clears it
  POST /_control/config?access_ttl=S&rotate=0|1&keep_old_refresh=0|1&refresh_ttl=S
                       &clock_skew=S (the client assertion checks' clock, S s ahead)
  POST /_control/seed?user=U[&client_id=C][&scope=S][&expires_in=S]
                                   -> {"access_token","refresh_token","expires_in",
                                       "expires_at","scope","user"}
  POST /_control/device/approve[?user_code=X]   approve (all pending if no code)
  POST /_control/device/deny[?user_code=X]
  POST /_control/revoke_all[?user=U]   invalidate refresh + access tokens
  POST /_control/expire_access[?user=U] make access tokens expired now
  POST /_control/reset_stats
Faults: none down 500 503 slow invalid_grant temporarily_unavailable
        invalid_client invalid_scope bad_json no_refresh_token
        device_ca (AADSTS53003, Conditional Access)
        wrong_iss (on /authorize: the redirect names another issuer)

Client assertions (RFC 7523 §2.2, private_key_jwt), with python3-cryptography:
  --client-cert CLIENT_ID=CERT.pem   the client signs assertions with the key
      of this certificate: header x5t#S256 must name it; RS256, PS256 or
      ES256 verified; aud = this server's /token, iss = sub = client_id,
      exp in the future and at most 1 h after iat, nbf not in the future,
      jti never seen before (a replay is refused).
  --federated CLIENT_ID=CERT.pem     workload identity: the client presents a
      JWT of another issuer, signed with this certificate's key, aud
      api://AzureADTokenExchange, exp in the future.
  Stats: counts.assertion_ok, counts.assertion_rejected, and (strings)
  counts.last_assertion_alg, counts.last_assertion_jti,
  counts.last_assertion_sub; "last_assertion" holds the last one accepted.
"""

import argparse
import base64
import hashlib
import http.server
import json
import os
import secrets
import signal
import socket
import ssl
import sys
import threading
import time
import urllib.parse

import srvlife

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
FEDERATED_AUD = "api://AzureADTokenExchange"


def b64u_dec(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64u_enc(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def load_cert(path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    with open(path, "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    return {"key": cert.public_key(),
            "x5t#S256": b64u_enc(cert.fingerprint(hashes.SHA256())),
            "x5t": b64u_enc(cert.fingerprint(hashes.SHA1()))}


def verify_jws(pub, alg, data, sig):
    """Raises on a bad signature."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, utils
    if alg == "RS256":
        pub.verify(sig, data, padding.PKCS1v15(), hashes.SHA256())
    elif alg == "PS256":
        pub.verify(sig, data, padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                          salt_length=32), hashes.SHA256())
    elif alg == "ES256":
        if len(sig) != 64:
            raise InvalidSignature("ES256 signature is not 64 bytes")
        der = utils.encode_dss_signature(int.from_bytes(sig[:32], "big"),
                                         int.from_bytes(sig[32:], "big"))
        pub.verify(der, data, ec.ECDSA(hashes.SHA256()))
    else:
        raise InvalidSignature("alg %r" % alg)


class State:
    def __init__(self, opts):
        self.lock = threading.Lock()
        self.opts = opts
        self.access_ttl = opts.access_ttl
        self.refresh_ttl = opts.refresh_ttl
        self.rotate = not opts.no_rotate
        self.keep_old_refresh = opts.keep_old_refresh
        self.clients = {}          # client_id -> secret or None (public)
        for c in opts.client:
            cid, _, sec = c.partition(":")
            self.clients[cid] = sec or None
        self.access = {}           # token -> {user, client_id, scope, exp}
        self.refresh = {}          # token -> {user, client_id, scope, exp, issued}
        self.codes = {}            # code -> {client_id, redirect_uri, challenge, method, scope, user, exp}
        self.devices = {}          # device_code -> {user_code, client_id, scope, status, exp, last_poll, interval}
        self.client_certs = {}     # client_id -> load_cert()
        for c in opts.client_cert:
            cid, _, path = c.partition("=")
            self.client_certs[cid] = load_cert(path)
            self.clients.setdefault(cid, None)
        self.federated = {}        # client_id -> load_cert()
        for c in opts.federated:
            cid, _, path = c.partition("=")
            self.federated[cid] = load_cert(path)
            self.clients.setdefault(cid, None)
        self.jtis = set()          # assertion ids seen (replays refused)
        self.clock_skew = 0        # seconds the assertion checks' clock is ahead
        self.last_assertion = None
        self.fault = None
        self.fault_count = 0       # 0 = until cleared
        self.fault_delay = opts.slow_delay
        self.stats = {}

    def count(self, key, n=1):
        self.stats[key] = self.stats.get(key, 0) + n

    def new_pair(self, user, client_id, scope, refresh=True, ttl=None):
        now = int(time.time())
        ttl = self.access_ttl if ttl is None else ttl
        at = "at-" + secrets.token_urlsafe(24)
        self.access[at] = {"user": user, "client_id": client_id, "scope": scope,
                           "exp": now + ttl, "iat": now}
        out = {"access_token": at, "token_type": "Bearer", "expires_in": ttl,
               "scope": scope}
        if refresh:
            rt = "rt-" + secrets.token_urlsafe(24)
            self.refresh[rt] = {"user": user, "client_id": client_id, "scope": scope,
                                "issued": now,
                                "exp": now + self.refresh_ttl if self.refresh_ttl else 0}
            out["refresh_token"] = rt
        self.count("access_tokens_issued")
        return out


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "oauthmail-test-oauth/1.0"
    protocol_version = "HTTP/1.1"

    # -- plumbing -------------------------------------------------------
    def log_message(self, fmt, *args):
        self.server.logf.write("%s %s\n" % (time.strftime("%H:%M:%S"), fmt % args))

    def log_event(self, what):
        self.server.logf.write("%s   %s\n" % (time.strftime("%H:%M:%S"), what))

    def send_json(self, code, obj, headers=None):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def send_raw(self, code, ctype, body):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def oauth_error(self, code, err, desc=None, headers=None):
        obj = {"error": err}
        if desc:
            obj["error_description"] = desc
        self.log_event("-> %d %s" % (code, err))
        self.send_json(code, obj, headers)

    def read_form(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        self.raw_body = raw
        form = {k: v[0] for k, v in urllib.parse.parse_qs(raw.decode("utf-8", "replace"),
                                                          keep_blank_values=True).items()}
        return form

    def parts(self):
        u = urllib.parse.urlsplit(self.path)
        q = {k: v[0] for k, v in urllib.parse.parse_qs(u.query, keep_blank_values=True).items()}
        return u.path, q

    def client_auth(self, form):
        """Returns (client_id, secret) from HTTP Basic or the form."""
        h = self.headers.get("Authorization", "")
        if h.lower().startswith("basic "):
            try:
                dec = base64.b64decode(h[6:].strip()).decode()
                cid, _, sec = dec.partition(":")
                return urllib.parse.unquote_plus(cid), urllib.parse.unquote_plus(sec)
            except Exception:
                return None, None
        return form.get("client_id"), form.get("client_secret")

    # -- fault injection --------------------------------------------------
    def apply_fault(self):
        """Returns True if the request was answered (or dropped) by a fault."""
        st = self.server.state
        with st.lock:
            f = st.fault
            if f and st.fault_count > 0:
                st.fault_count -= 1
                if st.fault_count == 0:
                    st.fault = None
            if f:
                st.count("faults_applied")
            delay = st.fault_delay
        if not f:
            return False
        self.log_event("fault %s" % f)
        if f == "down":
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return True
        if f == "slow":
            time.sleep(delay)
            return False            # then answer normally (if the client waited)
        if f == "500":
            self.send_raw(500, "text/html", b"<html><body>Internal Server Error</body></html>")
        elif f == "503":
            self.send_raw(503, "text/html", b"<html><body>Service Unavailable</body></html>")
        elif f == "invalid_grant":
            self.oauth_error(400, "invalid_grant", "AADSTS70000: The provided grant has expired or was revoked (test fault)")
        elif f == "temporarily_unavailable":
            self.oauth_error(400, "temporarily_unavailable", "test fault")
        elif f == "invalid_client":
            self.oauth_error(401, "invalid_client", "AADSTS7000218: client_secret required (test fault)",
                             {"WWW-Authenticate": 'Basic realm="test"'})
        elif f == "device_ca":
            self.oauth_error(400, "invalid_grant", "AADSTS53003: Access has been blocked by "
                             "Conditional Access policies. The access policy does not allow "
                             "token issuance. (test fault)")
        elif f == "invalid_scope":
            self.oauth_error(400, "invalid_scope", "test fault")
        elif f == "bad_json":
            self.send_raw(200, "application/json", b'{"access_token": "trunc')
        else:
            return False           # no_refresh_token and unknown: handled in grant
        return True

    # -- HTTP verbs -------------------------------------------------------
    def do_GET(self):
        path, q = self.parts()
        st = self.server.state
        with st.lock:
            st.count("http_requests")
        if path == "/_control/stats":
            return self.send_json(200, self.stats_obj())
        if path == "/authorize":
            return self.authorize(q)
        if path == "/.well-known/openid-configuration":
            base = "https://127.0.0.1:%d" % self.server.server_address[1]
            return self.send_json(200, {
                "issuer": base, "authorization_endpoint": base + "/authorize",
                "token_endpoint": base + "/token",
                "device_authorization_endpoint": base + "/devicecode",
                "revocation_endpoint": base + "/revoke",
                "introspection_endpoint": base + "/introspect"})
        self.send_json(404, {"error": "not_found"})

    def do_POST(self):
        path, q = self.parts()
        form = self.read_form()
        st = self.server.state
        with st.lock:
            st.count("http_requests")
        if path.startswith("/_control/"):
            return self.control(path[len("/_control/"):], {**form, **q})
        if path == "/token":
            with st.lock:
                st.count("token_requests")
                st.count("grant:" + form.get("grant_type", "(none)"))
            self.log_event("token form: %s" % json.dumps(form))
            if self.apply_fault():
                return
            return self.token(form)
        if path in ("/devicecode", "/device_authorization", "/device/code"):
            with st.lock:
                st.count("device_authorization_requests")
            if self.apply_fault():
                return
            return self.device_authorization(form)
        if path == "/revoke":
            return self.revoke(form)
        if path == "/introspect":
            return self.introspect(form)
        self.send_json(404, {"error": "not_found"})

    # -- control ------------------------------------------------------------
    def stats_obj(self):
        st = self.server.state
        now = time.time()
        with st.lock:
            return {
                "counts": dict(st.stats),
                "access_tokens_valid": sum(1 for v in st.access.values() if v["exp"] > now),
                "refresh_tokens_valid": len(st.refresh),
                "pending_devices": sum(1 for v in st.devices.values() if v["status"] == "pending"),
                "fault": st.fault, "fault_count": st.fault_count,
                "access_ttl": st.access_ttl, "rotate": st.rotate,
                "keep_old_refresh": st.keep_old_refresh,
                "port": self.server.server_address[1],
                "last_assertion": st.last_assertion,
            }

    def control(self, what, q):
        st = self.server.state
        self.log_event("control %s %s" % (what, json.dumps(q)))
        if what == "stats":
            return self.send_json(200, self.stats_obj())
        if what == "reset_stats":
            with st.lock:
                st.stats = {}
            return self.send_json(200, {"ok": True})
        if what == "mode":
            f = q.get("fault", "none")
            with st.lock:
                st.fault = None if f in ("none", "") else f
                st.fault_count = int(q.get("count", "0") or 0)
                if "delay" in q:
                    st.fault_delay = float(q["delay"])
            return self.send_json(200, {"ok": True, "fault": st.fault, "count": st.fault_count})
        if what == "config":
            with st.lock:
                if "access_ttl" in q:
                    st.access_ttl = int(q["access_ttl"])
                if "refresh_ttl" in q:
                    st.refresh_ttl = int(q["refresh_ttl"])
                if "rotate" in q:
                    st.rotate = q["rotate"] not in ("0", "no", "false")
                if "keep_old_refresh" in q:
                    st.keep_old_refresh = q["keep_old_refresh"] not in ("0", "no", "false")
                if "clock_skew" in q:
                    st.clock_skew = int(q["clock_skew"])
            return self.send_json(200, self.stats_obj())
        if what == "seed":
            user = q.get("user", "alice@example.test")
            cid = q.get("client_id", self.server.opts.default_client)
            scope = q.get("scope", self.server.opts.scope)
            ttl = int(q["expires_in"]) if "expires_in" in q else None
            with st.lock:
                out = st.new_pair(user, cid, scope, True, ttl)
                st.count("seeds")
            out["user"] = user
            out["expires_at"] = int(time.time()) + out["expires_in"]
            return self.send_json(200, out)
        if what in ("device/approve", "device/deny"):
            code = q.get("user_code")
            n = 0
            with st.lock:
                for d in st.devices.values():
                    if d["status"] == "pending" and (code is None or d["user_code"] == code):
                        d["status"] = "approved" if what.endswith("approve") else "denied"
                        d["user"] = q.get("user", d.get("user") or self.server.opts.user)
                        n += 1
            return self.send_json(200 if n else 404, {"changed": n})
        if what == "revoke_all":
            user = q.get("user")
            with st.lock:
                for tab in (st.refresh, st.access):
                    for k in [k for k, v in tab.items() if user is None or v["user"] == user]:
                        del tab[k]
            return self.send_json(200, {"ok": True})
        if what == "expire_access":
            user = q.get("user")
            with st.lock:
                for v in st.access.values():
                    if user is None or v["user"] == user:
                        v["exp"] = int(time.time()) - 1
            return self.send_json(200, {"ok": True})
        return self.send_json(404, {"error": "unknown control " + what})

    # -- OAuth endpoints ------------------------------------------------------
    def assertion_fault(self, cid, hdr, cl, sig, data):
        """What is wrong with a client assertion, or None."""
        st = self.server.state
        fed = cid in st.federated
        reg = st.federated.get(cid) or st.client_certs.get(cid)
        if reg is None:
            return "AADSTS700027: no certificate is registered for the client"
        if not fed and hdr.get("x5t#S256") != reg["x5t#S256"]:
            return ("AADSTS700027: Client assertion failed signature validation. "
                    "[Reason - The key was not found.]")
        if not fed and "x5t" in hdr and hdr["x5t"] != reg["x5t"]:
            return "AADSTS700027: x5t does not match the certificate"
        if hdr.get("typ", "JWT") != "JWT":
            return "typ is not JWT"
        try:
            verify_jws(reg["key"], hdr.get("alg"), data, sig)
        except Exception:
            return ("AADSTS700027: Client assertion failed signature validation. "
                    "[Reason - The provided signature value did not match the expected signature value.]")
        now = time.time() + st.clock_skew
        want_aud = FEDERATED_AUD if fed else \
            "https://127.0.0.1:%d/token" % self.server.server_address[1]
        if cl.get("aud") != want_aud:
            return "AADSTS700016: the assertion's aud is %r, not %r" % (cl.get("aud"), want_aud)
        exp, nbf, iat = cl.get("exp"), cl.get("nbf", 0), cl.get("iat", 0)
        if not isinstance(exp, int) or exp <= now or nbf > now + 60:
            return "AADSTS700024: Client assertion is not within its valid time range."
        if fed:
            return None
        if cl.get("iss") != cid or cl.get("sub") != cid:
            return "AADSTS700023: iss and sub must be the client_id"
        if not isinstance(iat, int) or exp - iat > 3600:
            return "AADSTS700024: the assertion lives longer than an hour"
        jti = cl.get("jti")
        if not isinstance(jti, str) or len(b64u_dec(jti)) < 16:
            return "AADSTS700021: jti missing or shorter than 128 bits"
        with st.lock:
            if jti in st.jtis:
                return "AADSTS700023: the assertion's jti was already used (replay)"
            st.jtis.add(jti)
        return None

    def check_assertion(self, form):
        """client_assertion instead of a secret: client_id or None."""
        st = self.server.state
        cid = form.get("client_id")
        text = form.get("client_assertion", "")
        why = None
        if form.get("client_assertion_type") != JWT_BEARER:
            why = "AADSTS700025: client_assertion_type must be " + JWT_BEARER
        elif "client_secret" in form:
            why = "AADSTS700025: both a client secret and an assertion"
        else:
            p = text.split(".")
            try:
                if len(p) != 3:
                    raise ValueError("parts")
                hdr, cl = json.loads(b64u_dec(p[0])), json.loads(b64u_dec(p[1]))
                sig = b64u_dec(p[2])
            except Exception:
                why = "AADSTS50027: JWT token is invalid or malformed."
            else:
                why = self.assertion_fault(cid, hdr, cl, sig,
                                           (p[0] + "." + p[1]).encode())
        if why:
            with st.lock:
                st.count("assertion_rejected")
            self.oauth_error(401, "invalid_client", why)
            return None
        with st.lock:
            st.count("assertion_ok")
            st.stats["last_assertion_alg"] = hdr.get("alg")
            st.stats["last_assertion_jti"] = cl.get("jti")
            st.stats["last_assertion_sub"] = cl.get("sub")
            st.last_assertion = text
        return cid

    def check_client(self, form, need_secret):
        """Returns client_id, or None after answering with an error."""
        st = self.server.state
        if "client_assertion" in form or "client_assertion_type" in form:
            return self.check_assertion(form)
        cid, sec = self.client_auth(form)
        if not cid or cid not in st.clients:
            self.oauth_error(401 if need_secret else 400, "invalid_client", "unknown client_id")
            return None
        want = st.clients[cid]
        if need_secret and want is None:
            self.oauth_error(400, "unauthorized_client", "public client cannot use this grant")
            return None
        if want is not None and sec != want:
            self.oauth_error(401, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
            return None
        return cid

    def issue(self, user, cid, scope, refresh=True):
        st = self.server.state
        fault = st.fault
        with st.lock:
            out = st.new_pair(user, cid, scope, refresh)
            if fault == "no_refresh_token":
                out.pop("refresh_token", None)
        self.log_event("-> 200 issued access token for %s (expires_in %d)%s" %
                       (user, out["expires_in"], " + refresh token" if "refresh_token" in out else ""))
        self.send_json(200, out)

    def token(self, form):
        st = self.server.state
        gt = form.get("grant_type")
        if gt == "refresh_token":
            cid = self.check_client(form, False)
            if cid is None:
                return
            rt = form.get("refresh_token", "")
            with st.lock:
                rec = st.refresh.get(rt)
                if rec and rec["exp"] and rec["exp"] < time.time():
                    del st.refresh[rt]
                    rec = None
                if rec is None:
                    st.count("invalid_grant")
                elif rec["client_id"] != cid:
                    rec = "client"
            if rec is None:
                return self.oauth_error(400, "invalid_grant", "AADSTS70008: refresh token invalid or expired")
            if rec == "client":
                return self.oauth_error(400, "invalid_grant", "refresh token issued to another client")
            scope = form.get("scope") or rec["scope"]
            if set(scope.split()) - set(rec["scope"].split()):
                return self.oauth_error(400, "invalid_scope", "scope exceeds the original grant")
            if not st.rotate:
                with st.lock:
                    out = st.new_pair(rec["user"], cid, scope, False)
                    st.count("refresh_ok")
                return self.send_json(200, out)
            with st.lock:
                if not st.keep_old_refresh:
                    st.refresh.pop(rt, None)
                st.count("refresh_ok")
            return self.issue(rec["user"], cid, scope)
        if gt == "client_credentials":
            cid = self.check_client(form, True)
            if cid is None:
                return
            scope = form.get("scope", "")
            with st.lock:
                st.count("client_credentials_ok")
            return self.issue(None, cid, scope, refresh=False)
        if gt == "authorization_code":
            cid = self.check_client(form, False)
            if cid is None:
                return
            code = form.get("code", "")
            with st.lock:
                rec = st.codes.pop(code, None)
            if rec is None or rec["exp"] < time.time() or rec["client_id"] != cid:
                return self.oauth_error(400, "invalid_grant", "AADSTS70000: invalid or expired code")
            if form.get("redirect_uri", "") != rec["redirect_uri"]:
                return self.oauth_error(400, "invalid_grant", "redirect_uri mismatch")
            if rec["challenge"]:
                ver = form.get("code_verifier", "")
                if rec["method"] == "S256":
                    calc = base64.urlsafe_b64encode(hashlib.sha256(ver.encode()).digest()).rstrip(b"=").decode()
                else:
                    calc = ver
                if not ver or calc != rec["challenge"]:
                    with st.lock:
                        st.count("pkce_failed")
                    return self.oauth_error(400, "invalid_grant", "AADSTS501481: code_verifier does not match code_challenge")
            elif self.server.opts.require_pkce:
                return self.oauth_error(400, "invalid_request", "PKCE required")
            with st.lock:
                st.count("authorization_code_ok")
            return self.issue(rec["user"], cid, rec["scope"])
        if gt == DEVICE_GRANT:
            cid = self.check_client(form, False)
            if cid is None:
                return
            dc = form.get("device_code", "")
            now = time.time()
            with st.lock:
                d = st.devices.get(dc)
                if d is None or d["client_id"] != cid:
                    res = ("bad_verification_code", None)
                elif d["exp"] < now:
                    res = ("expired_token", None)
                elif d["status"] == "denied":
                    res = (self.server.opts.device_denied_error, None)
                elif d["status"] == "approved":
                    del st.devices[dc]
                    res = (None, d)
                elif d["last_poll"] and now - d["last_poll"] < d["interval"] - 0.5 and not self.server.opts.no_slow_down:
                    d["interval"] += 5
                    res = ("slow_down", None)
                else:
                    res = ("authorization_pending", None)
                if d is not None:
                    d["last_poll"] = now
                st.count("device_poll:" + (res[0] or "ok"))
            if res[0]:
                return self.oauth_error(400, res[0])
            return self.issue(res[1].get("user") or self.server.opts.user, cid, res[1]["scope"])
        self.oauth_error(400, "unsupported_grant_type", "grant_type %r" % gt)

    def authorize(self, q):
        st = self.server.state
        with st.lock:
            st.count("authorize_requests")
        cid = q.get("client_id")
        ru = q.get("redirect_uri", "")
        if cid not in st.clients:
            return self.send_raw(400, "text/plain", b"unknown client_id\n")
        if not (ru.startswith("http://127.0.0.1:") or ru.startswith("http://localhost:")
                or ru.startswith("http://127.0.0.1/") or ru.startswith("http://localhost/")):
            return self.send_raw(400, "text/plain", b"redirect_uri must be a loopback URI\n")
        if q.get("response_type") != "code":
            return self.send_raw(400, "text/plain", b"response_type must be code\n")
        method = q.get("code_challenge_method", "plain" if q.get("code_challenge") else "")
        if q.get("code_challenge") and method not in ("S256", "plain"):
            return self.send_raw(400, "text/plain", b"bad code_challenge_method\n")
        sep = "&" if "?" in ru else "?"
        extra = {"state": q["state"]} if "state" in q else {}
        # RFC 9207: the issuer in the response (fault wrong_iss: another).
        extra["iss"] = ("https://evil.test" if st.fault == "wrong_iss" else
                        "https://127.0.0.1:%d" % self.server.server_address[1])
        if st.fault == "access_denied":
            loc = ru + sep + urllib.parse.urlencode({"error": "access_denied",
                                                      "error_description": "user declined (test)", **extra})
        else:
            code = "code-" + secrets.token_urlsafe(16)
            with st.lock:
                st.codes[code] = {"client_id": cid, "redirect_uri": ru,
                                  "challenge": q.get("code_challenge", ""), "method": method,
                                  "scope": q.get("scope", self.server.opts.scope),
                                  "user": q.get("login_hint") or self.server.opts.user,
                                  "exp": time.time() + 600}
            loc = ru + sep + urllib.parse.urlencode({"code": code, **extra})
        self.send_response(302)
        self.send_header("Location", loc)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def device_authorization(self, form):
        st = self.server.state
        cid = form.get("client_id")
        if cid not in st.clients:
            return self.oauth_error(400, "invalid_client", "unknown client_id")
        dc = "dc-" + secrets.token_urlsafe(24)
        uc = "%04d-%04d" % (secrets.randbelow(10000), secrets.randbelow(10000))
        interval = self.server.opts.device_interval
        with st.lock:
            st.devices[dc] = {"user_code": uc, "client_id": cid,
                              "scope": form.get("scope", self.server.opts.scope),
                              "status": "pending", "exp": time.time() + 900,
                              "last_poll": 0, "interval": interval,
                              "user": form.get("login_hint")}
        base = "https://127.0.0.1:%d" % self.server.server_address[1]
        self.send_json(200, {"device_code": dc, "user_code": uc,
                             "verification_uri": base + "/device",
                             "expires_in": 900, "interval": interval,
                             "message": "To sign in, open %s/device and enter the code %s." % (base, uc)})

    def revoke(self, form):
        st = self.server.state
        tok = form.get("token", "")
        with st.lock:
            st.count("revocations")
            st.refresh.pop(tok, None)
            st.access.pop(tok, None)
        self.send_raw(200, "text/plain", b"")

    def introspect(self, form):
        st = self.server.state
        tok = form.get("token", "")
        with st.lock:
            st.count("introspections")
            rec = st.access.get(tok)
            if rec and rec["exp"] > time.time():
                out = {"active": True, "sub": rec["user"], "username": rec["user"],
                       "client_id": rec["client_id"], "scope": rec["scope"],
                       "exp": rec["exp"], "iat": rec["iat"], "token_type": "Bearer"}
                st.count("introspect_active")
            else:
                out = {"active": False}
                st.count("introspect_inactive")
        self.send_json(200, out)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def finish_request(self, request, client_address):
        # TLS handshake in the worker thread, so a stalled client cannot
        # block accept().
        request.settimeout(30)
        request = self.ssl_ctx.wrap_socket(request, server_side=True)
        self.RequestHandlerClass(request, client_address, self)

    def handle_error(self, request, client_address):
        # TLS handshake failures from clients testing bad trust are normal.
        self.logf.write("%s connection error from %s: %s\n" % (
            time.strftime("%H:%M:%S"), client_address, sys.exc_info()[1]))


class LineLog:
    def __init__(self, path):
        self.f = open(path, "a", buffering=1) if path else sys.stderr
        self.lock = threading.Lock()

    def write(self, s):
        with self.lock:
            self.f.write(s)
            self.f.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cert", required=True, help="server certificate (PEM, may include chain)")
    ap.add_argument("--key", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", help="write the chosen port here when ready")
    ap.add_argument("--pid-file")
    ap.add_argument("--log", help="request log file (may contain tokens; test server only)")
    ap.add_argument("--access-ttl", type=int, default=3600, help="access token lifetime (s)")
    ap.add_argument("--refresh-ttl", type=int, default=0, help="refresh token lifetime (s), 0 = none")
    ap.add_argument("--no-rotate", action="store_true", help="refresh grant returns no new refresh token (Google style)")
    ap.add_argument("--keep-old-refresh", action="store_true", help="rotated-out refresh tokens stay valid (Microsoft style)")
    ap.add_argument("--client", action="append", default=[],
                    help="CLIENT_ID[:SECRET]; repeatable (default demo-client public, conf-client:conf-secret)")
    ap.add_argument("--client-cert", action="append", default=[],
                    help="CLIENT_ID=CERT.pem: the client signs assertions with its key")
    ap.add_argument("--federated", action="append", default=[],
                    help="CLIENT_ID=CERT.pem: the client presents federated JWTs signed with its key")
    ap.add_argument("--scope", default="https://outlook.office.com/SMTP.Send offline_access")
    ap.add_argument("--user", default="alice@example.test", help="user for approved device/auth-code grants")
    ap.add_argument("--fault", default=None, help="initial fault (see /_control/mode)")
    ap.add_argument("--slow-delay", type=float, default=30.0, help="seconds for fault=slow")
    ap.add_argument("--device-interval", type=int, default=1)
    ap.add_argument("--device-denied-error", default="authorization_declined",
                    help="error for a denied device grant (MS: authorization_declined, RFC: access_denied)")
    ap.add_argument("--no-slow-down", action="store_true", help="never answer slow_down")
    ap.add_argument("--require-pkce", action="store_true")
    ap.add_argument("--tls-max", choices=["1.1", "1.2", "1.3"], default=None)
    ap.add_argument("--parent-pid", type=int, default=0, help="exit when this process is gone")
    opts = ap.parse_args()
    if not opts.client:
        opts.client = ["demo-client", "conf-client:conf-secret"]
    opts.default_client = opts.client[0].partition(":")[0]

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(opts.cert, opts.key)
    if opts.tls_max == "1.1":
        import warnings
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    elif opts.tls_max == "1.2":
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2

    srv = Server(("127.0.0.1", opts.port), Handler)
    srv.ssl_ctx = ctx
    srv.state = State(opts)
    srv.state.fault = opts.fault
    srv.opts = opts
    srv.logf = LineLog(opts.log)
    port = srv.server_address[1]

    srvlife.exit_on(signal.SIGTERM, signal.SIGINT)
    srvlife.exit_with_parent(opts.parent_pid)
    if opts.pid_file:
        with open(opts.pid_file, "w") as f:
            f.write("%d\n" % os.getpid())
    if opts.port_file:
        srvlife.write_port(opts.port_file, port)
    srv.logf.write("%s listening on https://127.0.0.1:%d\n" % (time.strftime("%H:%M:%S"), port))
    srv.serve_forever()


if __name__ == "__main__":
    main()
