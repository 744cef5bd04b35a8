#!/usr/bin/python3
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
"""Test SMTP submission server for oauthmail's integration tests (aiosmtpd).

Listens on 127.0.0.1 (port 0 by default) and writes the chosen port to
DIR/port when ready. Everything it keeps is under --dir DIR:
  DIR/port           the listening port
  DIR/maildir/new/   NNNNNN.eml (message bytes as received after DATA,
                     dot-unstuffed, CRLF kept) + NNNNNN.json (sidecar)
  DIR/stats.json     counters (rewritten atomically after every event)
  DIR/smtpd.log      transcript; AUTH payloads are never written
  DIR/faults.json    optional, re-read at every new connection:
                     {"faults": ["greet421", "mail452:2", ...],
                      "slow_seconds": 3, "rcpt_rules": [{"match": REGEX,
                      "reply": "550 5.7.1 no", "delay": 0}],
                      "replies": [{"at": "mail", "reply": "432 4.3.2 ...",
                      "times": 1, "after": 1, "close": true}]}
A fault "NAME:N" applies to the next N connections (counted from the moment
the faults file last changed), "NAME" to all.

Modes: starttls (STARTTLS offered, AUTH only after TLS), implicit (TLS from
the first byte), plain (no TLS at all, AUTH offered in clear).

AUTH: XOAUTH2 and OAUTHBEARER tokens are checked at the OAuth server's
RFC 7662 introspection endpoint (--introspect URL, --oauth-ca CA); the token
must be active and, when it names a user, belong to the user= / a= identity.
PLAIN and LOGIN accept any user with --password (default "testpass").
A failed bearer AUTH answers Gmail style (334 base64 JSON challenge, then
535 5.7.8 after the client's empty line / AQ==) or Microsoft style (535
5.7.3 directly), chosen with --auth-fail-style google|microsoft.

Scripted replies ("replies", tried in order; the first that applies answers):
  at      "auth", "mail", "rcpt" or "data_end": the command it answers
  reply   the reply line(s) to send instead ("\r\n" between lines)
  times   how many times it answers (counted from the moment the faults file
          last changed); absent: always
  after   only on a connection that has already stored this many messages
  authed  true: only after a successful AUTH
  match   at rcpt: only for addresses matching this regular expression
  close   true: drop the connection right after the reply (as Exchange Online
          does after 535 5.7.3 and after a 421)
Every use counts in stats.json under "scripted" (by "at").

Session faults (see FAULTS below), recipient faults by local part:
  tempfail@ -> 451 4.2.0   reject@ -> 550 5.1.1   slow@ -> delay then 250
  full@ -> 552 5.2.2       (also "tempfail+x@", "reject-2@" etc.)
"""

import argparse
import asyncio
import base64
import json
import logging
import os
import re
import signal
import ssl
import sys
import threading
import time
import urllib.parse
import urllib.request

from aiosmtpd.smtp import SMTP, AuthResult, MISSING

import srvlife

FAULTS = {
    "greet421": "421 4.3.2 Service not available, closing transmission channel",
    "greet554": "554 5.3.2 No SMTP service here",
    "slow_greeting": "delay the greeting by slow_seconds",
    "hang_greeting": "accept, never greet",
    "hang_ehlo": "never answer EHLO",
    "hang_auth": "never answer AUTH",
    "hang_mail": "never answer MAIL",
    "hang_data_end": "never answer the final dot",
    "long_reply": "EHLO reply of 10,000 lines",
    "long_line": "a 20,000-character EHLO reply line",
    "garbage_ehlo": "EHLO answered with a malformed line",
    "nostarttls": "STARTTLS neither offered nor accepted (454)",
    "starttls454": "STARTTLS offered, answered 454 4.7.0",
    "tls11": "TLS 1.0/1.1 only (handshake fails for TLS >= 1.2 clients)",
    "noauth": "no AUTH in EHLO",
    "auth454": "454 4.7.0 Temporary authentication failure",
    "auth_reject": "every AUTH fails (in the chosen style), even a valid token",
    "auth_expiring": "501 5.5.127 Invalid XOAUTH2 auth data - Token will expire soon",
    "auth_disabled": "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled",
    "auth_disabled_tenant": "535 5.7.139 Authentication unsuccessful, SMTP client authentication "
                            "is disabled for the Tenant.",
    "mail452": "452 4.3.1 Insufficient system storage",
    "mail552": "552 5.3.4 Message size exceeds fixed maximum message size",
    "thread_limit": "432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded",
    "disconnect_data": "drop the connection after the first DATA line",
    "disconnect_after_data": "store the message, then drop the connection without a reply",
    "gate_data_end": "store the message, write DIR/gate.wait, answer 250 only once DIR/gate.open exists",
    "data451": "451 4.3.0 Temporary server error after the final dot",
    "data554": "554 5.6.0 Message rejected after the final dot",
    "sendas_denied": "554 5.2.252 SendAsDenied after the final dot (Microsoft)",
    "quota_exceeded": "554 5.2.0 ...SubmissionQuotaExceededException after the final dot",
    "msgid_rewrite": "250 after DATA carries a new Message-ID (Outlook)",
}

RCPT_LOCAL = [
    (re.compile(r"^tempfail([+\-.].*)?$", re.I), "451 4.2.0 Mailbox temporarily unavailable, try again later", 0),
    (re.compile(r"^reject([+\-.].*)?$", re.I), "550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown", 0),
    (re.compile(r"^full([+\-.].*)?$", re.I), "552 5.2.2 <{rcpt}>: Mailbox full", 0),
    (re.compile(r"^slow([+\-.].*)?$", re.I), None, -1),
]

MS_SENDAS = ("554 5.2.252 SendAsDenied; {auth} not allowed to send as {sender}; "
             "STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; "
             "Failed to process message due to a permanent exception with message "
             "[BeginDiagnosticData]Cannot submit message. [Hostname=TEST.PROD.OUTLOOK.COM]")


class Stats:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.d = {"connections": 0, "open": 0, "max_concurrent": 0, "ehlo": 0, "helo": 0,
                  "starttls": 0, "auth_attempts": 0, "auth_success": 0, "auth_failure": 0,
                  "auth_by_mech": {}, "auth_fail_ack": {}, "mail": 0, "mail_rejected_noauth": 0,
                  "rcpt_ok": 0, "rcpt_rejected": 0, "rcpt_tempfail": 0, "data": 0,
                  "messages": 0, "rset": 0, "quit": 0, "faults_applied": {}}
        self.flush()

    def inc(self, key, n=1, sub=None):
        with self.lock:
            if sub is None:
                self.d[key] = self.d.get(key, 0) + n
            else:
                self.d.setdefault(key, {})
                self.d[key][sub] = self.d[key].get(sub, 0) + n
            if key == "open":
                self.d["max_concurrent"] = max(self.d["max_concurrent"], self.d["open"])
        self.flush()

    def flush(self):
        with self.lock:
            tmp = self.path + ".tmp"
            with open(tmp, "w") as f:
                json.dump(self.d, f, indent=1, sort_keys=True)
            os.replace(tmp, self.path)


class Faults:
    """Reads DIR/faults.json at every connection and merges the CLI faults."""

    def __init__(self, path, cli_faults, slow):
        self.path = path
        self.cli = cli_faults
        self.slow = slow
        self.sig = None
        self.used = {}
        self.replies = []
        self.replies_used = {}
        self.lock = threading.Lock()

    def for_connection(self):
        data = {}
        try:
            with open(self.path, "rb") as f:
                raw = f.read()
            data = json.loads(raw or b"{}")
        except FileNotFoundError:
            raw = b""
        except ValueError as e:
            logging.getLogger("smtpd").warning("bad faults file: %s", e)
            raw = b""
        names = list(self.cli) + list(data.get("faults", []))
        active = set()
        with self.lock:
            if raw != self.sig:
                self.sig = raw
                self.used = {}
                self.replies = list(data.get("replies", []))
                self.replies_used = {}
            for spec in names:
                name, _, n = spec.partition(":")
                if n:
                    if self.used.get(name, 0) >= int(n):
                        continue
                    self.used[name] = self.used.get(name, 0) + 1
                active.add(name)
        rules = []
        for r in data.get("rcpt_rules", []):
            rules.append((re.compile(r["match"], re.I), r.get("reply"), float(r.get("delay", 0))))
        return active, float(data.get("slow_seconds", self.slow)), rules

    def take_reply(self, at, msgs, authed, addr=None):
        """The first scripted reply for this command that applies, or None."""
        with self.lock:
            for i, r in enumerate(self.replies):
                if r.get("at") != at:
                    continue
                if msgs < int(r.get("after", 0)):
                    continue
                if r.get("authed") and not authed:
                    continue
                if r.get("match") and not (addr and re.search(r["match"], addr, re.I)):
                    continue
                if "times" in r and self.replies_used.get(i, 0) >= int(r["times"]):
                    continue
                self.replies_used[i] = self.replies_used.get(i, 0) + 1
                return r
        return None


class AuthData:
    def __init__(self, login, mech):
        self.login = login
        self.mech = mech


class Handler:
    def __init__(self, opts, stats, log):
        self.opts = opts
        self.stats = stats
        self.log = log
        self.maildir = os.path.join(opts.dir, "maildir")
        for sub in ("tmp", "new"):
            os.makedirs(os.path.join(self.maildir, sub), exist_ok=True)
        self.seq = 0
        self.lock = threading.Lock()

    # -- EHLO ----------------------------------------------------------------
    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        self.stats.inc("ehlo")
        f = server.faults
        if "hang_ehlo" in f:
            server.note_fault("hang_ehlo")
            await asyncio.sleep(3600)
        if "garbage_ehlo" in f:
            server.note_fault("garbage_ehlo")
            return ["250-" + server.hostname, "25O-PIPELINING", "garbage"]
        caps = []
        if self.opts.size:
            caps.append("SIZE %d" % self.opts.size)
        caps += ["8BITMIME", "PIPELINING", "ENHANCEDSTATUSCODES"]
        if not self.opts.no_dsn:
            caps.append("DSN")
        if not self.opts.no_smtputf8:
            caps.append("SMTPUTF8")
        if server.tls_context and not server._tls_protocol and "nostarttls" not in f:
            caps.append("STARTTLS")
        if (server.is_tls() or self.opts.mode == "plain") and "noauth" not in f:
            caps.append("AUTH " + " ".join(self.opts.auth_mechs))
        if "long_reply" in f:
            server.note_fault("long_reply")
            caps += ["X-PADDING-%05d" % i for i in range(10000)]
        if "long_line" in f:
            server.note_fault("long_line")
            caps.append("X-LONG " + "x" * 20000)
        out = ["250-" + server.hostname + " Hello " + hostname]
        for i, c in enumerate(caps):
            out.append(("250 " if i == len(caps) - 1 else "250-") + c)
        return out

    # -- DATA ----------------------------------------------------------------
    async def handle_DATA(self, server, session, envelope):
        f = server.faults
        self.stats.inc("data")
        if "hang_data_end" in f:
            server.note_fault("hang_data_end")
            await asyncio.sleep(3600)
        auth = session.auth_data
        if server.script is not None:
            r = server.script.take_reply("data_end", server.msg_count, bool(session.authenticated))
            if r is not None:
                server.stats.inc("scripted", sub="data_end")
                server.log("#%d scripted reply at data_end" % server.conn_id)
                if r.get("close"):
                    await server.push(r["reply"])
                    server.transport.close()
                    await asyncio.sleep(3600)
                return r["reply"]
        for name in ("data451", "data554", "sendas_denied", "quota_exceeded"):
            if name in f:
                server.note_fault(name)
                if name == "data451":
                    return "451 4.3.0 Temporary server error. Please try again later"
                if name == "data554":
                    return "554 5.6.0 Message rejected (test fault)"
                if name == "quota_exceeded":
                    return ("554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; "
                            "Failed to process message due to a permanent exception [Hostname=TEST]")
                return MS_SENDAS.format(auth=getattr(auth, "login", "?"), sender=envelope.mail_from)
        seq = self.store(server, session, envelope)
        self.stats.inc("messages")
        if "disconnect_after_data" in f:
            server.note_fault("disconnect_after_data")
            server.transport.close()
            await asyncio.sleep(3600)
        if "gate_data_end" in f:
            server.note_fault("gate_data_end")
            await self.gate(seq)
        if "msgid_rewrite" in f:
            server.note_fault("msgid_rewrite")
            return ("250 2.0.0 OK <TEST%06d@TEST.PROD.OUTLOOK.COM> "
                    "[Hostname=TEST.PROD.OUTLOOK.COM]" % seq)
        return "250 2.0.0 OK: queued as %06d" % seq

    async def gate(self, seq):
        """Holds the reply to the final dot until the test creates
        DIR/gate.open (at most 60 s), so that it can act (fill the disk,
        kill the client) between the message being stored and the 250."""
        wait = os.path.join(self.opts.dir, "gate.wait")
        opened = os.path.join(self.opts.dir, "gate.open")
        with open(wait + ".tmp", "w") as fp:
            fp.write("%06d\n" % seq)
        os.replace(wait + ".tmp", wait)
        deadline = time.monotonic() + 60
        while not os.path.exists(opened) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        for path in (wait, opened):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass

    def store(self, server, session, envelope):
        with self.lock:
            self.seq += 1
            seq = self.seq
        ver, cipher = server.tls_info()
        auth = session.auth_data
        side = {
            "seq": seq, "time": time.time(), "peer": list(session.peer or ()),
            "connection": server.conn_id, "message_in_connection": server.msg_count + 1,
            "helo": session.host_name, "mode": self.opts.mode,
            "mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos),
            "mail_options": list(envelope.mail_options),
            "rcpt_options": [list(x) for x in getattr(envelope, "per_rcpt_options", [])],
            "auth_user": getattr(auth, "login", None), "auth_mech": getattr(auth, "mech", None),
            "tls_version": ver, "tls_cipher": cipher, "size": len(envelope.original_content),
            "smtputf8": bool(envelope.smtp_utf8),
        }
        server.msg_count += 1
        base = "%06d" % seq
        tmp = os.path.join(self.maildir, "tmp")
        new = os.path.join(self.maildir, "new")
        with open(os.path.join(tmp, base + ".json"), "w") as fp:
            json.dump(side, fp, indent=1)
        with open(os.path.join(tmp, base + ".eml"), "wb") as fp:
            fp.write(envelope.original_content)
        os.replace(os.path.join(tmp, base + ".json"), os.path.join(new, base + ".json"))
        os.replace(os.path.join(tmp, base + ".eml"), os.path.join(new, base + ".eml"))
        self.log("#%d stored message %s (%d bytes) from <%s> to %s" % (
            server.conn_id, base, side["size"], envelope.mail_from, ",".join(envelope.rcpt_tos)))
        return seq

    # -- bearer mechanisms --------------------------------------------------------
    async def auth_XOAUTH2(self, server, args):
        return await server.bearer_auth("XOAUTH2", args)

    async def auth_OAUTHBEARER(self, server, args):
        return await server.bearer_auth("OAUTHBEARER", args)


class TestSMTP(SMTP):
    conn_counter = 0

    def __init__(self, handler, faults, slow, rules, opts, stats, log, script=None, **kw):
        super().__init__(handler, **kw)
        self.script = script
        self.faults = faults
        self.slow = slow
        self.rules = rules
        self.opts = opts
        self.stats = stats
        self.log = log
        self.msg_count = 0
        TestSMTP.conn_counter += 1
        self.conn_id = TestSMTP.conn_counter

    def _client_connected_cb(self, reader, writer):
        super()._client_connected_cb(reader, writer)
        # AUTH continuation lines may be long (RFC 4954: >= 12288 octets);
        # DATA lines are still held to --max-line.
        reader._limit = 65536

    # -- helpers -----------------------------------------------------------------
    async def scripted(self, at, addr=None):
        """Sends a scripted reply for this command; True if one was sent."""
        if self.script is None:
            return False
        r = self.script.take_reply(at, self.msg_count, bool(self.session.authenticated), addr)
        if r is None:
            return False
        self.stats.inc("scripted", sub=at)
        self.log("#%d scripted reply at %s%s" % (self.conn_id, at, " (then close)" if r.get("close") else ""))
        await self.push(r["reply"])
        if r.get("close"):
            self.transport.close()
        return True

    def note_fault(self, name):
        self.stats.inc("faults_applied", sub=name)
        self.log("#%d fault %s" % (self.conn_id, name))

    def is_tls(self):
        return self._tls_protocol is not None or self.opts.mode == "implicit"

    def tls_info(self):
        obj = None
        if self._tls_protocol is not None:
            obj = self._tls_protocol._extra.get("ssl_object")
        elif self.transport is not None:
            obj = self.transport.get_extra_info("ssl_object")
        if obj is None:
            return None, None
        c = obj.cipher()
        return obj.version(), c[0] if c else None

    async def push(self, status):
        text = status if isinstance(status, str) else status.decode("utf-8", "replace")
        first = text.split("\r\n", 1)[0]
        if len(text) > 300:
            first = first[:200] + " ...(%d bytes)" % len(text)
        if first.startswith("334 ") and len(first) > 4:
            first = "334 [challenge]"
        self.log("#%d < %s" % (self.conn_id, first))
        await super().push(status)

    def connection_made(self, transport):
        first = self.transport is None
        super().connection_made(transport)
        if first:
            self.stats.inc("connections")
            self.stats.inc("open")
            self.log("#%d connect %s faults=%s" % (self.conn_id, self.session.peer,
                                                    ",".join(sorted(self.faults)) or "-"))

    def connection_lost(self, error):
        super().connection_lost(error)
        if not getattr(self, "_lost_counted", False):
            self._lost_counted = True
            self.stats.inc("open", -1)
            self.log("#%d closed" % self.conn_id)

    async def _handle_client(self):
        f = self.faults
        if "hang_greeting" in f:
            self.note_fault("hang_greeting")
            await asyncio.sleep(3600)
        for name in ("greet421", "greet554"):
            if name in f:
                self.note_fault(name)
                await self.push(FAULTS[name])
                self.transport.close()
                return
        if "slow_greeting" in f:
            self.note_fault("slow_greeting")
            await asyncio.sleep(self.slow)
        return await super()._handle_client()

    # -- commands --------------------------------------------------------------------
    async def smtp_HELO(self, hostname):
        self.stats.inc("helo")
        return await super().smtp_HELO(hostname)

    async def smtp_STARTTLS(self, arg):
        self.log("#%d > STARTTLS" % self.conn_id)
        if "starttls454" in self.faults:
            self.note_fault("starttls454")
            return await self.push("454 4.7.0 TLS not available due to temporary reason")
        if not self.tls_context or self._tls_protocol is not None:
            return await self.push("454 4.7.0 TLS not available")
        self.stats.inc("starttls")
        return await super().smtp_STARTTLS(arg)

    async def smtp_AUTH(self, arg):
        mech = (arg or "").split(" ", 1)[0].upper()
        self.log("#%d > AUTH %s%s" % (self.conn_id, mech, " [initial response]" if arg and " " in arg else ""))
        if self.session.extended_smtp and not self.session.authenticated and mech:
            self.stats.inc("auth_attempts")
            self.stats.inc("auth_by_mech", sub=mech + ":attempts")
        f = self.faults
        if "hang_auth" in f:
            self.note_fault("hang_auth")
            await asyncio.sleep(3600)
        if "auth454" in f:
            self.note_fault("auth454")
            return await self.push("454 4.7.0 Temporary authentication failure")
        if "auth_disabled" in f:
            self.note_fault("auth_disabled")
            return await self.push("535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication "
                                   "is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled "
                                   "for more information. [TEST.PROD.OUTLOOK.COM]")
        if "auth_disabled_tenant" in f:
            self.note_fault("auth_disabled_tenant")
            return await self.push(FAULTS["auth_disabled_tenant"])
        if self.session.extended_smtp and not self.session.authenticated and mech and \
                await self.scripted("auth"):
            if mech:
                self.stats.inc("auth_failure")
            return
        if "auth_expiring" in f and mech in ("XOAUTH2", "OAUTHBEARER"):
            self.note_fault("auth_expiring")
            return await self.push("501 5.5.127 Invalid XOAUTH2 auth data - Token will expire soon")
        was = self.session.authenticated
        await super().smtp_AUTH(arg)
        if self.session.authenticated and not was:
            self.stats.inc("auth_success")
            self.stats.inc("auth_by_mech", sub=mech + ":success")
            self.log("#%d authenticated as %s with %s" % (
                self.conn_id, getattr(self.session.auth_data, "login", "?"), mech))
        elif not was and self.session.extended_smtp and mech:
            self.stats.inc("auth_failure")

    def check_bearer(self, token, user):
        """Returns (ok, reason) for token; runs in a worker thread."""
        if not self.opts.introspect:
            return False, "no introspection endpoint configured"
        ctx = ssl.create_default_context(cafile=self.opts.oauth_ca) if self.opts.oauth_ca else None
        data = urllib.parse.urlencode({"token": token}).encode()
        try:
            with urllib.request.urlopen(self.opts.introspect, data=data, timeout=10, context=ctx) as r:
                info = json.load(r)
        except Exception as e:
            return False, "introspection failed: %s" % e.__class__.__name__
        if not info.get("active"):
            return False, "token not active (unknown or expired)"
        if info.get("username") and user is not None and info["username"].lower() != user.lower() \
                and not self.opts.no_user_check:
            return False, "token belongs to another user"
        return True, "ok"

    async def bearer_auth(self, mech, args):
        if len(args) == 1:
            blob = await self.challenge_auth("")
            if blob is MISSING:
                return AuthResult(success=False, handled=True)
        elif args[1] == "=":
            blob = b""
        else:
            try:
                blob = base64.b64decode(args[1].encode(), validate=True)
            except Exception:
                await self.push("501 5.5.2 Cannot decode base64")
                return AuthResult(success=False, handled=True)
        user, token, why = None, None, None
        try:
            text = blob.decode("utf-8")
        except UnicodeDecodeError:
            text, why = "", "not UTF-8"
        if mech == "XOAUTH2" and not why:
            m = re.fullmatch(r"user=([^\x01]*)\x01auth=Bearer ([^\x01 ]+)\x01\x01", text)
            if m:
                user, token = m.group(1), m.group(2)
            else:
                why = "malformed XOAUTH2 response"
        elif not why:
            m = re.fullmatch(r"n,(?:a=([^,]*))?,\x01((?:[A-Za-z]+=[^\x01]*\x01)*)\x01", text)
            if m:
                user = m.group(1).replace("=2C", ",").replace("=3D", "=") if m.group(1) is not None else None
                kv = dict(p.split("=", 1) for p in m.group(2).split("\x01") if p)
                a = kv.get("auth", "")
                if a[:7].lower() == "bearer " and a[7:] and " " not in a[7:]:
                    token = a[7:]
                else:
                    why = "OAUTHBEARER without auth=Bearer"
                if not why and self.opts.check_host_port:
                    if kv.get("port") not in (None, str(self.opts.actual_port)):
                        why = "OAUTHBEARER port= mismatch"
            else:
                why = "malformed OAUTHBEARER response"
        ok = False
        if not why:
            if "auth_reject" in self.faults:
                self.note_fault("auth_reject")
                why = "auth_reject fault"
            else:
                ok, why = await asyncio.get_running_loop().run_in_executor(
                    None, self.check_bearer, token, user)
        if ok:
            return AuthResult(success=True, auth_data=AuthData(user, mech))
        self.log("#%d %s failed for %s: %s" % (self.conn_id, mech, user, why))
        self.stats.inc("auth_fail_reason", sub=why.split(":")[0])
        if self.opts.auth_fail_style == "google":
            if mech == "XOAUTH2":
                ch = {"status": "400", "schemes": "Bearer", "scope": "https://mail.google.com/"}
            else:
                ch = {"status": "invalid_token", "scope": "https://mail.google.com/",
                      "openid-configuration": "https://accounts.google.com/.well-known/openid-configuration"}
            await self.push(b"334 " + base64.b64encode(json.dumps(ch).encode()))
            line = await self._reader.readline()
            resp = line.strip()
            if resp == b"*":
                self.stats.inc("auth_fail_ack", sub="abort")
                await self.push("501 5.7.0 Auth aborted")
                return AuthResult(success=False, handled=True)
            kind = "empty" if resp == b"" else ("AQ==" if resp == b"AQ==" else "other")
            self.stats.inc("auth_fail_ack", sub=kind)
            return AuthResult(success=False, handled=False,
                              message="535-5.7.8 Username and Password not accepted. Learn more at\r\n"
                                      "535 5.7.8  https://support.google.com/mail/?p=BadCredentials test")
        return AuthResult(success=False, handled=False,
                          message="535 5.7.3 Authentication unsuccessful [TEST.PROD.OUTLOOK.COM]")

    async def smtp_MAIL(self, arg):
        self.log("#%d > MAIL %s" % (self.conn_id, arg))
        if await self.check_helo_needed():
            return
        self.stats.inc("mail")
        if await self.scripted("mail"):
            return
        if self.opts.require_auth and not self.session.authenticated:
            self.stats.inc("mail_rejected_noauth")
            return await self.push("530 5.7.57 Client not authenticated to send mail")
        f = self.faults
        if "hang_mail" in f:
            self.note_fault("hang_mail")
            await asyncio.sleep(3600)
        for name in ("thread_limit", "mail452", "mail552"):
            if name in f:
                self.note_fault(name)
                return await self.push(FAULTS[name])
        if getattr(self.envelope, "mail_seen", False):
            return await self.push("503 5.5.1 Error: nested MAIL command")
        s = self._strip_command_keyword("FROM:", arg or "")
        if s is None:
            return await self.push("501 5.5.4 Syntax: MAIL FROM:<address> [parameters]")
        if s.startswith("<>"):
            address, rest = "", s[2:]
        else:
            address, rest = self._getaddr(s)
            if not address:
                return await self.push("553 5.1.3 Error: malformed address")
        opts = (rest or "").split()
        params = {}
        for p in opts:
            k, eq, v = p.partition("=")
            params[k.upper()] = v if eq else True
        allowed = {"SIZE", "BODY", "SMTPUTF8", "AUTH"} | (set() if self.opts.no_dsn else {"RET", "ENVID"})
        bad = [k for k in params if k not in allowed]
        if bad:
            return await self.push("555 5.5.4 MAIL parameter %s not recognized" % bad[0])
        if "SIZE" in params:
            sz = params["SIZE"]
            if not isinstance(sz, str) or not sz.isdigit():
                return await self.push("501 5.5.4 Bad SIZE parameter")
            if self.opts.size and int(sz) > self.opts.size:
                return await self.push("552 5.3.4 Message size exceeds fixed maximum message size")
        if "BODY" in params and str(params["BODY"]).upper() not in ("7BIT", "8BITMIME"):
            return await self.push("501 5.5.4 BODY must be 7BIT or 8BITMIME")
        if params.get("SMTPUTF8") and self.opts.no_smtputf8:
            return await self.push("555 5.5.4 SMTPUTF8 not supported")
        self.envelope.mail_from = address
        self.envelope.mail_seen = True
        self.envelope.smtp_utf8 = bool(params.get("SMTPUTF8"))
        self.envelope.mail_options.extend(opts)
        self.envelope.per_rcpt_options = []
        await self.push("250 2.1.0 Sender <%s> OK" % address)

    async def smtp_RCPT(self, arg):
        self.log("#%d > RCPT %s" % (self.conn_id, arg))
        if await self.check_helo_needed():
            return
        if self.opts.require_auth and not self.session.authenticated:
            return await self.push("530 5.7.57 Client not authenticated to send mail")
        if not getattr(self.envelope, "mail_seen", False):
            return await self.push("503 5.5.1 Error: need MAIL command")
        s = self._strip_command_keyword("TO:", arg or "")
        if s is None:
            return await self.push("501 5.5.4 Syntax: RCPT TO:<address> [parameters]")
        address, rest = self._getaddr(s)
        if not address:
            return await self.push("553 5.1.3 Error: malformed address")
        if await self.scripted("rcpt", address):
            self.stats.inc("rcpt_rejected")
            return
        opts = (rest or "").split()
        allowed = set() if self.opts.no_dsn else {"NOTIFY", "ORCPT"}
        for p in opts:
            if p.partition("=")[0].upper() not in allowed:
                return await self.push("555 5.5.4 RCPT parameter %s not recognized" % p)
        local = address.rsplit("@", 1)[0]
        for rx, reply, delay in RCPT_LOCAL:
            if rx.match(local):
                if delay < 0:
                    await asyncio.sleep(self.slow)
                    break
                code = reply[0]
                self.stats.inc("rcpt_tempfail" if code == "4" else "rcpt_rejected")
                return await self.push(reply.format(rcpt=address))
        for rx, reply, delay in self.rules:
            if rx.search(address):
                if delay:
                    await asyncio.sleep(delay)
                if reply:
                    self.stats.inc("rcpt_tempfail" if reply[0] == "4" else "rcpt_rejected")
                    return await self.push(reply.format(rcpt=address))
                break
        if len(self.envelope.rcpt_tos) >= self.opts.max_rcpt:
            self.stats.inc("rcpt_tempfail")
            return await self.push("452 4.5.3 Too many recipients")
        self.envelope.rcpt_tos.append(address)
        self.envelope.rcpt_options.extend(opts)
        self.envelope.per_rcpt_options.append(opts)
        self.stats.inc("rcpt_ok")
        await self.push("250 2.1.5 Recipient <%s> OK" % address)

    async def smtp_DATA(self, arg):
        self.log("#%d > DATA" % self.conn_id)
        if await self.check_helo_needed():
            return
        if self.opts.require_auth and not self.session.authenticated:
            return await self.push("530 5.7.57 Client not authenticated to send mail")
        if "disconnect_data" in self.faults and self.envelope.rcpt_tos:
            self.note_fault("disconnect_data")
            await self.push("354 Start mail input; end with <CRLF>.<CRLF>")
            await self._reader.readline()
            self.transport.close()
            await asyncio.sleep(3600)   # connection_lost cancels us
            return
        return await super().smtp_DATA(arg)

    async def smtp_RSET(self, arg):
        self.log("#%d > RSET" % self.conn_id)
        self.stats.inc("rset")
        return await super().smtp_RSET(arg)

    async def smtp_QUIT(self, arg):
        self.log("#%d > QUIT" % self.conn_id)
        self.stats.inc("quit")
        return await super().smtp_QUIT(arg)

    async def smtp_EHLO(self, hostname):
        self.log("#%d > EHLO %s" % (self.conn_id, hostname))
        return await super().smtp_EHLO(hostname)


def make_ctx(cert, key, tls11=False):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    if tls11:
        import warnings
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    return ctx


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="faults:\n" + "\n".join("  %-22s %s" % kv for kv in FAULTS.items()))
    ap.add_argument("--dir", required=True, help="state directory (port, maildir, stats, log)")
    ap.add_argument("--mode", choices=["starttls", "implicit", "plain"], default="starttls")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--hostname", default="localhost")
    ap.add_argument("--introspect", help="OAuth introspection URL")
    ap.add_argument("--oauth-ca", help="CA file to verify the OAuth server")
    ap.add_argument("--auth-fail-style", choices=["google", "microsoft"], default="microsoft")
    ap.add_argument("--auth-mechs", default="XOAUTH2 OAUTHBEARER PLAIN LOGIN",
                    help="space-separated mechanisms to offer")
    ap.add_argument("--password", default="testpass", help="password for PLAIN/LOGIN")
    ap.add_argument("--no-require-auth", dest="require_auth", action="store_false")
    ap.add_argument("--no-user-check", action="store_true", help="accept a token of another user")
    ap.add_argument("--check-host-port", action="store_true", help="OAUTHBEARER port= must match")
    ap.add_argument("--size", type=int, default=1000000, help="SIZE limit (0 = none advertised)")
    ap.add_argument("--max-rcpt", type=int, default=500)
    ap.add_argument("--max-line", type=int, default=1001, help="longest DATA line accepted")
    ap.add_argument("--no-dsn", action="store_true")
    ap.add_argument("--no-smtputf8", action="store_true")
    ap.add_argument("--fault", action="append", default=[], help="session fault (repeatable, or a,b,c)")
    ap.add_argument("--slow-seconds", type=float, default=3.0)
    ap.add_argument("--timeout", type=float, default=120, help="idle timeout per connection")
    ap.add_argument("--parent-pid", type=int, default=0, help="exit when this process is gone")
    opts = ap.parse_args()
    opts.auth_mechs = opts.auth_mechs.upper().split()
    cli_faults = [x for f in opts.fault for x in f.split(",") if x]
    for f in cli_faults:
        if f.partition(":")[0] not in FAULTS:
            ap.error("unknown fault %r" % f)
    os.makedirs(opts.dir, exist_ok=True)
    if opts.mode != "plain" and not (opts.cert and opts.key):
        ap.error("--cert and --key are needed for TLS modes")

    logf = open(os.path.join(opts.dir, "smtpd.log"), "a", buffering=1)
    loglock = threading.Lock()

    def log(msg):
        with loglock:
            logf.write("%s %s\n" % (time.strftime("%H:%M:%S"), msg))

    logging.basicConfig(stream=logf, level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    stats = Stats(os.path.join(opts.dir, "stats.json"))
    faults = Faults(os.path.join(opts.dir, "faults.json"), cli_faults, opts.slow_seconds)
    handler = Handler(opts, stats, log)
    ctx = ctx11 = None
    if opts.mode != "plain":
        ctx = make_ctx(opts.cert, opts.key)
        ctx11 = make_ctx(opts.cert, opts.key, tls11=True)
    TestSMTP.line_length_limit = opts.max_line

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = auth_data.password.decode("utf-8", "replace") == opts.password
        if not ok:
            server.log("#%d %s failed for %s: wrong password" % (
                server.conn_id, mechanism, auth_data.login.decode("utf-8", "replace")))
            return AuthResult(success=False, handled=False,
                              message="535 5.7.8 Authentication credentials invalid")
        return AuthResult(success=True, auth_data=AuthData(auth_data.login.decode("utf-8", "replace"),
                                                           mechanism))

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    all_mechs = {"XOAUTH2", "OAUTHBEARER", "PLAIN", "LOGIN"}

    def factory():
        try:
            return make_protocol()
        except Exception:
            import traceback
            log("factory failed: " + traceback.format_exc())
            raise

    def make_protocol():
        active, slow, rules = faults.for_connection()
        tls_ctx = None
        if opts.mode == "starttls" and "nostarttls" not in active:
            tls_ctx = ctx11 if "tls11" in active else ctx
        return TestSMTP(handler, active, slow, rules, opts, stats, log, script=faults,
                        hostname=opts.hostname, ident="oauthmail test ESMTP",
                        tls_context=tls_ctx, require_starttls=False,
                        data_size_limit=opts.size or None, enable_SMTPUTF8=not opts.no_smtputf8,
                        decode_data=False, timeout=opts.timeout, auth_required=False,
                        auth_require_tls=(opts.mode == "starttls"),
                        auth_exclude_mechanism=list(all_mechs - set(opts.auth_mechs)),
                        authenticator=authenticator, loop=loop)

    implicit = None
    if opts.mode == "implicit":
        implicit = ctx11 if "tls11" in cli_faults else ctx
    server = loop.run_until_complete(loop.create_server(factory, "127.0.0.1", opts.port, ssl=implicit))
    port = server.sockets[0].getsockname()[1]
    opts.actual_port = port

    srvlife.exit_on(signal.SIGTERM, signal.SIGINT)
    srvlife.exit_with_parent(opts.parent_pid)
    with open(os.path.join(opts.dir, "pid"), "w") as f:
        f.write("%d\n" % os.getpid())
    srvlife.write_port(os.path.join(opts.dir, "port"), port)
    log("listening on 127.0.0.1:%d mode=%s faults=%s" % (port, opts.mode, ",".join(cli_faults) or "-"))
    loop.run_forever()


if __name__ == "__main__":
    main()
