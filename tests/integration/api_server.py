#!/usr/bin/python3
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
"""Fake Microsoft Graph and Gmail API for oauthmail's integration tests.

HTTPS on 127.0.0.1 (port 0 by default; the port is written to DIR/port when
ready). Bearer tokens are checked at the OAuth test server's introspection
endpoint (--introspect URL, --oauth-ca CA): the token must be active and
carry one of the API's scopes (--scope, repeatable; Graph refuses the SMTP
token, whose scope is outlook.office.com's, as the real service does).

  POST /v1.0/users/{user}/sendMail       Graph: Content-Type text/plain,
        body = base64 of the MIME message; 202 and a request-id header.
  POST /upload/gmail/v1/users/me/messages/send?uploadType=media
        Gmail: Content-Type message/rfc822, raw bytes; 200 {"id", ...}.

Every message taken is kept as DIR/msgs/NNNNNN.eml (the decoded message as
received) with NNNNNN.json: api, path_user, token_user, token_scope,
token_client_id, recipients (what
the real service would deliver to: To + Cc + Bcc), bcc, content_type,
request_length, request_id. DIR/stats.json: counters (requests, by status,
largest request, Expect headers seen).

Faults: POST /_control/fault?name=F[&count=N][&retry_after=S] (count 0: until
cleared; name=none clears). F is one of:
  401 403_denied 403_policy 403_sendas 403_gmail_perm 403_gmail_rate 404_mailbox
  429 503 504 500 413 size_exceeded 400_base64 400_recipients 400_gmail_precondition
  429_gmail_daily (Gmail's daily sending limit: "Retry after" two hours on, in
  the message) 403_gmail_daily (reason dailyLimitExceeded) 429_gmail_user
  (per-minute: userRateLimitExceeded)
  200 (a 2xx that is not Graph's 202) 201 drop (no reply after the body)
--max-request N answers 413 to a request larger than N bytes (Graph: 4 MB).
"""

import argparse
import base64
import binascii
import email
import email.policy
import email.utils
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
import urllib.request
import http.server

# The threaded HTTPS server and the line log of the OAuth test server.
from oauth_server import LineLog, Server
import srvlife

GRAPH_SCOPES = ["https://graph.microsoft.com/Mail.Send", "https://graph.microsoft.com/.default"]
GMAIL_SCOPES = ["https://www.googleapis.com/auth/gmail.send", "https://mail.google.com/"]


def graph_error(code, msg):
    return {"error": {"code": code, "message": msg,
                      "innerError": {"request-id": "x", "date": time.strftime("%Y-%m-%dT%H:%M:%S")}}}


def gmail_error(code, status, reason, msg):
    return {"error": {"code": code, "message": msg, "status": status,
                      "errors": [{"message": msg, "domain": "global", "reason": reason}]}}


FAULTS = {
    "401": (401, graph_error("InvalidAuthenticationToken", "Access token has expired or is not yet valid.")),
    "403_denied": (403, graph_error("ErrorAccessDenied", "Access is denied. Check credentials and try again.")),
    "403_policy": (403, graph_error("ErrorAccessDenied", "Access to OData is disabled: [RAOP] : Blocked by tenant configured AppOnly AccessPolicy settings.")),
    "403_sendas": (403, graph_error("ErrorSendAsDenied", "The user account which was used to submit this request does not have the right to send mail on behalf of the specified sending account. Cannot submit message.")),
    "403_gmail_perm": (403, gmail_error(403, "PERMISSION_DENIED", "insufficientPermissions", "Request had insufficient authentication scopes.")),
    "403_gmail_rate": (403, gmail_error(403, "PERMISSION_DENIED", "userRateLimitExceeded", "User-rate limit exceeded.")),
    "404_mailbox": (404, graph_error("MailboxNotEnabledForRESTAPI", "The mailbox is either inactive, soft-deleted, or is hosted on-premise.")),
    "429": (429, graph_error("ApplicationThrottled", "Application is over its MailboxConcurrency limit.")),
    "503": (503, graph_error("serviceNotAvailable", "Service Unavailable")),
    "504": (504, graph_error("UnknownError", "Gateway Timeout")),
    "500": (500, graph_error("UnknownError", "")),
    "413": (413, graph_error("RequestEntityTooLarge", "The maximum request length supported is 4MB.")),
    "size_exceeded": (400, graph_error("ErrorMessageSizeExceeded", "The message exceeds the maximum supported size.")),
    "400_base64": (400, graph_error("ErrorMimeContentInvalidBase64String", "Invalid base64 string for MIME content.")),
    "400_recipients": (400, graph_error("ErrorInvalidRecipients", "At least one recipient is not valid., A message can't be sent because it contains no recipients.")),
    "400_gmail_precondition": (400, gmail_error(400, "FAILED_PRECONDITION", "failedPrecondition", "Mail service not enabled")),
    "200": (200, {}),
    "201": (201, {}),
    "403_gmail_daily": (403, gmail_error(403, "PERMISSION_DENIED", "dailyLimitExceeded", "Daily Limit Exceeded")),
    "429_gmail_user": (429, gmail_error(429, "RESOURCE_EXHAUSTED", "userRateLimitExceeded", "User-rate limit exceeded.")),
}


def gmail_daily():
    """The Gmail API's reply to a send over the daily limit: the time to
    retry is in the message, two hours on here."""
    at = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() + 7200))
    return (429, gmail_error(429, "RESOURCE_EXHAUSTED", "rateLimitExceeded",
                             "User-rate limit exceeded.  Retry after %s (Mail sending)" % at))


class State:
    def __init__(self, opts):
        self.lock = threading.Lock()
        self.opts = opts
        self.fault = None
        self.fault_count = 0
        self.retry_after = None
        self.stats = {"requests": 0, "sent": 0, "by_status": {}, "max_request": 0,
                      "expect_seen": 0, "faults_applied": 0, "auth_fail": 0}
        self.n = 0

    def save_stats(self):
        p = os.path.join(self.opts.dir, "stats.json")
        with open(p + ".tmp", "w") as f:
            json.dump(self.stats, f)
        os.replace(p + ".tmp", p)

    def take_fault(self):
        with self.lock:
            f = self.fault
            if f and self.fault_count > 0:
                self.fault_count -= 1
                if self.fault_count == 0:
                    self.fault = None
            if f:
                self.stats["faults_applied"] += 1
            return f, self.retry_after


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "oauthmail-test-api/1.0"

    def log_message(self, fmt, *args):
        self.server.logf.write("%s %s\n" % (time.strftime("%H:%M:%S"), fmt % args))

    def reply(self, code, obj=None, headers=None):
        st = self.server.state
        body = json.dumps(obj).encode() if obj is not None else b""
        self.send_response(code)
        rid = secrets.token_hex(8)
        self.send_header("request-id" if self.server.opts.kind == "graph" else "x-request-id", rid)
        if body:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
        with st.lock:
            st.stats["by_status"][str(code)] = st.stats["by_status"].get(str(code), 0) + 1
            st.save_stats()
        return rid

    def token_info(self):
        h = self.headers.get("Authorization", "")
        if not h.startswith("Bearer "):
            return None
        data = urllib.parse.urlencode({"token": h[7:]}).encode()
        ctx = ssl.create_default_context(cafile=self.server.opts.oauth_ca)
        try:
            with urllib.request.urlopen(self.server.opts.introspect, data=data, timeout=10, context=ctx) as r:
                info = json.load(r)
        except Exception:
            return None
        if not info.get("active"):
            return None
        scopes = (info.get("scope") or "").split()
        if not any(s in scopes for s in self.server.opts.scope):
            return None
        return info

    def do_POST(self):
        st = self.server.state
        u = urllib.parse.urlsplit(self.path)
        if u.path.startswith("/_control/"):
            return self.control(u.path[10:], dict(urllib.parse.parse_qsl(u.query)))
        n = int(self.headers.get("Content-Length") or 0)
        with st.lock:
            st.stats["requests"] += 1
            st.stats["max_request"] = max(st.stats["max_request"], n)
            if self.headers.get("Expect"):
                st.stats["expect_seen"] += 1
        kind = self.server.opts.kind
        if kind == "graph":
            parts = u.path.split("/")
            ok = len(parts) == 5 and parts[1] == "v1.0" and parts[2] == "users" and parts[4] == "sendMail"
            ctype = "text/plain"
        else:
            ok = u.path == "/upload/gmail/v1/users/me/messages/send" and \
                urllib.parse.parse_qs(u.query).get("uploadType") == ["media"]
            ctype = "message/rfc822"
        if self.server.opts.max_request and n > self.server.opts.max_request:
            left = n
            while left > 0:
                c = self.rfile.read(min(left, 65536))
                if not c:
                    break
                left -= len(c)
            return self.reply(413, FAULTS["413"][1])
        body = self.rfile.read(n) if n else b""
        if not ok:
            return self.reply(404, {"error": {"code": "BadRequest", "message": "unknown path " + u.path}})
        f, ra = st.take_fault()
        if f == "drop":
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        info = self.token_info()
        if info is None:
            with st.lock:
                st.stats["auth_fail"] += 1
            return self.reply(401, graph_error("InvalidAuthenticationToken", "Access token validation failure. Invalid audience."),
                              {"WWW-Authenticate": 'Bearer realm=""'})
        if f in FAULTS or f == "429_gmail_daily":
            code, obj = gmail_daily() if f == "429_gmail_daily" else FAULTS[f]
            hdrs = {"Retry-After": str(ra)} if ra is not None else None
            return self.reply(code, obj, hdrs)
        if (self.headers.get("Content-Type") or "").split(";")[0].strip() != ctype:
            return self.reply(400, graph_error("ErrorInvalidContentType", "wrong Content-Type"))
        if kind == "graph":
            try:
                raw = base64.b64decode(body, validate=True)
            except (binascii.Error, ValueError):
                return self.reply(400, FAULTS["400_base64"][1])
            path_user = urllib.parse.unquote(u.path.split("/")[3])
        else:
            raw = body
            path_user = "me"
        msg = email.message_from_bytes(raw, policy=email.policy.compat32)
        rcpts = [a for _, a in email.utils.getaddresses(
            msg.get_all("To", []) + msg.get_all("Cc", []) + msg.get_all("Bcc", [])) if a]
        bcc = [a for _, a in email.utils.getaddresses(msg.get_all("Bcc", [])) if a]
        if not rcpts:
            return self.reply(400, FAULTS["400_recipients"][1])
        with st.lock:
            st.n += 1
            k = st.n
        d = os.path.join(self.server.opts.dir, "msgs")
        base = os.path.join(d, "%06d" % k)
        with open(base + ".eml.tmp", "wb") as fh:
            fh.write(raw)
        side = {"api": kind, "path_user": path_user, "token_user": info.get("sub"),
                "token_scope": info.get("scope"), "token_client_id": info.get("client_id"),
                "recipients": rcpts, "bcc": bcc,
                "content_type": self.headers.get("Content-Type"), "request_length": n}
        if kind == "graph":
            rid = self.reply(202)
        else:
            mid = secrets.token_hex(8)
            rid = self.reply(200, {"id": mid, "threadId": mid, "labelIds": ["SENT"]})
            side["id"] = mid
        side["request_id"] = rid
        with open(base + ".json", "w") as fh:
            json.dump(side, fh)
        os.replace(base + ".eml.tmp", base + ".eml")
        with st.lock:
            st.stats["sent"] += 1
            st.save_stats()

    def control(self, what, q):
        st = self.server.state
        if what == "fault":
            with st.lock:
                name = q.get("name", "none")
                st.fault = None if name in ("none", "") else name
                st.fault_count = int(q.get("count", "0") or 0)
                st.retry_after = q.get("retry_after")
            body = b'{"ok": true}'
        elif what == "reset":
            with st.lock:
                st.stats.update({"requests": 0, "sent": 0, "by_status": {}, "max_request": 0})
                st.save_stats()
            body = b'{"ok": true}'
        else:
            body = b'{"ok": false}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kind", choices=["graph", "gmail"], required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--introspect", required=True)
    ap.add_argument("--oauth-ca", required=True)
    ap.add_argument("--scope", action="append", default=[])
    ap.add_argument("--max-request", type=int, default=0)
    ap.add_argument("--parent-pid", type=int, default=0)
    opts = ap.parse_args()
    if not opts.scope:
        opts.scope = GRAPH_SCOPES if opts.kind == "graph" else GMAIL_SCOPES
    os.makedirs(os.path.join(opts.dir, "msgs"), exist_ok=True)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(opts.cert, opts.key)
    srv = Server(("127.0.0.1", 0), Handler)
    srv.ssl_ctx = ctx
    srv.opts = opts
    srv.state = State(opts)
    srv.state.save_stats()
    srv.logf = LineLog(os.path.join(opts.dir, "api.log"))
    srvlife.exit_on(signal.SIGTERM)
    srvlife.exit_with_parent(opts.parent_pid)
    srvlife.write_port(os.path.join(opts.dir, "port"), srv.server_address[1])
    srv.serve_forever()


if __name__ == "__main__":
    main()
