#!/usr/bin/python3
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
"""Minimal SMTP submission client for testing the test servers (swaks in
Debian 12 has no XOAUTH2/OAUTHBEARER).

  smtp_client.py --port P [--mode starttls|implicit|plain] [--ca CA]
                 [--mech XOAUTH2|OAUTHBEARER|PLAIN|LOGIN|none] [--user U]
                 [--token T | --token-file F | --password PW] [--two-step]
                 [--from A] [--to B ...] [--message FILE|-] [--ehlo NAME]
Prints the dialogue (client lines with '> ', server lines with '< ';
AUTH payloads are shown as [redacted]). Exit: 0 message accepted (or AUTH
ok with no --to), 1 refused by the server, 2 connection/TLS error.
"""
import argparse, base64, smtplib, socket, ssl, sys

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--host", default="127.0.0.1")
ap.add_argument("--mode", choices=["starttls", "implicit", "plain"], default="starttls")
ap.add_argument("--ca")
ap.add_argument("--servername", default=None, help="name to verify (default: host)")
ap.add_argument("--mech", default="XOAUTH2")
ap.add_argument("--user", default="alice@example.test")
ap.add_argument("--token")
ap.add_argument("--token-file")
ap.add_argument("--password")
ap.add_argument("--two-step", action="store_true", help="no initial response in the AUTH command")
ap.add_argument("--from", dest="sender", default="alice@example.test")
ap.add_argument("--to", action="append", default=[])
ap.add_argument("--message")
ap.add_argument("--ehlo", default="client.test")
ap.add_argument("--timeout", type=float, default=15)
a = ap.parse_args()

def say(s):
    print(s, flush=True)

def reply(code, msg):
    for line in (msg.decode("utf-8", "replace") if isinstance(msg, bytes) else msg).split("\n"):
        say("< %d %s" % (code, line))

ctx = ssl.create_default_context(cafile=a.ca) if a.ca else ssl.create_default_context()
try:
    if a.mode == "implicit":
        s = smtplib.SMTP_SSL(a.host, a.port, local_hostname=a.ehlo, timeout=a.timeout, context=ctx)
    else:
        s = smtplib.SMTP(a.host, a.port, local_hostname=a.ehlo, timeout=a.timeout)
    code, msg = s.ehlo()
    say("> EHLO %s" % a.ehlo); reply(code, msg)
    if code != 250:
        sys.exit(1)
    if a.mode == "starttls":
        if not s.has_extn("starttls"):
            say("! no STARTTLS offered"); sys.exit(1)
        code, msg = s.docmd("STARTTLS")
        say("> STARTTLS"); reply(code, msg)
        if code != 220:
            sys.exit(1)
        s.sock = ctx.wrap_socket(s.sock, server_hostname=a.servername or a.host)
        s.file = None
        say("! TLS %s %s" % (s.sock.version(), s.sock.cipher()[0]))
        s.helo_resp = s.ehlo_resp = None; s.esmtp_features = {}; s.does_esmtp = False
        code, msg = s.ehlo()
        say("> EHLO %s" % a.ehlo); reply(code, msg)
    elif a.mode == "implicit":
        say("! TLS %s %s" % (s.sock.version(), s.sock.cipher()[0]))
    mech = a.mech.upper()
    if mech != "NONE":
        token = a.token
        if a.token_file:
            token = open(a.token_file).read().strip()
        if mech == "XOAUTH2":
            ir = "user=%s\x01auth=Bearer %s\x01\x01" % (a.user, token)
            err_ack = ""
        elif mech == "OAUTHBEARER":
            ir = "n,a=%s,\x01host=%s\x01port=%d\x01auth=Bearer %s\x01\x01" % (a.user, a.host, a.port, token)
            err_ack = "AQ=="
        elif mech == "PLAIN":
            ir = "\0%s\0%s" % (a.user, a.password)
            err_ack = "*"
        elif mech == "LOGIN":
            ir = None
        b64 = base64.b64encode(ir.encode()).decode() if ir is not None else None
        if mech == "LOGIN":
            code, msg = s.docmd("AUTH LOGIN"); say("> AUTH LOGIN"); reply(code, msg)
            if code == 334:
                code, msg = s.docmd(base64.b64encode(a.user.encode()).decode()); say("> [user]"); reply(code, msg)
            if code == 334:
                code, msg = s.docmd(base64.b64encode(a.password.encode()).decode()); say("> [redacted]"); reply(code, msg)
        elif a.two_step:
            code, msg = s.docmd("AUTH " + mech); say("> AUTH " + mech); reply(code, msg)
            if code == 334:
                code, msg = s.docmd(b64); say("> [redacted]"); reply(code, msg)
        else:
            code, msg = s.docmd("AUTH %s %s" % (mech, b64)); say("> AUTH %s [redacted]" % mech); reply(code, msg)
        if code == 334:      # error challenge (Gmail style)
            code, msg = s.docmd(err_ack); say("> %s" % (err_ack or "(empty line)")); reply(code, msg)
        if code != 235:
            s.close(); sys.exit(1)
    if not a.to:
        s.quit(); sys.exit(0)
    data = (open(a.message, "rb").read() if a.message and a.message != "-" else
            sys.stdin.buffer.read() if a.message == "-" else
            b"From: %s\r\nTo: %s\r\nSubject: test\r\n\r\nhello\r\n" % (a.sender.encode(), a.to[0].encode()))
    code, msg = s.docmd("MAIL FROM:<%s>" % a.sender); say("> MAIL FROM:<%s>" % a.sender); reply(code, msg)
    if code != 250:
        s.close(); sys.exit(1)
    good = 0
    for r in a.to:
        code, msg = s.docmd("RCPT TO:<%s>" % r); say("> RCPT TO:<%s>" % r); reply(code, msg)
        good += code in (250, 251)
    if not good:
        s.close(); sys.exit(1)
    code, msg = s.data(data); say("> DATA ... ."); reply(code, msg)
    if code != 250:
        s.close(); sys.exit(1)
    s.quit()
    sys.exit(0)
except smtplib.SMTPConnectError as e:
    reply(e.smtp_code, e.smtp_error)
    sys.exit(1)
except (smtplib.SMTPServerDisconnected, ssl.SSLError, OSError) as e:
    say("! %s: %s" % (e.__class__.__name__, e))
    sys.exit(2)
