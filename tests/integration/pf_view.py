#!/usr/bin/python3
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
"""pf_view.py -- what the Postfix tier received, in smtpd.py's layout.

lib.sh runs this under OM_SERVER=postfix so that its msg_* readers work
unchanged: Postfix delivers one Maildir copy per recipient, each with
Return-Path, X-Original-To, Delivered-To and its own Received header
prepended and LF line ends. This groups the copies by queue id into one
message per SMTP transaction ("messages submitted"), in the order Postfix
accepted them, and writes for message N (1-based, after --skip)

  OUT/new/NNNNNN.eml   the message as submitted: Postfix's prepended
                       headers removed, CRLF line ends (as on the wire)
  OUT/new/NNNNNN.json  mail_from, rcpt_tos, mail_options, rcpt_options
                       (from the recording milter, pf_milter.py: what the
                       client sent in MAIL FROM / RCPT TO), auth_mech,
                       auth_user (the SASL macros), connection,
                       message_in_connection and time (the milter's count
                       of SMTP sessions and when the message ended),
                       tls_version (Postfix's Received header), size,
                       queue_id, copies

Mail Postfix made itself (bounces, delivery reports) is not counted: only
copies whose Received header says the message came in over SMTP. Prints
the number of messages written.
"""
import argparse
import json
import os
import re
import shutil
import sys

PREPENDED = (b"return-path", b"x-original-to", b"delivered-to")


def split_headers(raw):
    """-> list of (name_lower, whole_field_bytes), rest_bytes."""
    fields = []
    pos = 0
    while pos < len(raw):
        end = raw.find(b"\n", pos)
        end = len(raw) if end < 0 else end + 1
        line = raw[pos:end]
        if line in (b"\n", b"\r\n"):
            break
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] = (fields[-1][0], fields[-1][1] + line)
        else:
            fields.append((line.split(b":", 1)[0].strip().lower(), line))
        pos = end
    return fields, raw[pos:]


def value(field):
    v = field.split(b":", 1)[1] if b":" in field else b""
    return b" ".join(v.split()).decode("utf-8", "replace")


def addr(s):
    s = s.strip()
    if s.startswith("<") and s.endswith(">"):
        s = s[1:-1]
    return s


def read_copy(path):
    with open(path, "rb") as f:
        raw = f.read()
    fields, rest = split_headers(raw)
    info = {"path": path, "mtime": os.stat(path).st_mtime_ns}
    i = 0
    while i < len(fields) and fields[i][0] in PREPENDED:
        info[fields[i][0].decode()] = value(fields[i][1])
        i += 1
    if i < len(fields) and fields[i][0] == b"received":
        rcv = value(fields[i][1])
        if "(Postfix)" in rcv:
            info["received"] = rcv
            i += 1
    submitted = b"".join(f for _, f in fields[i:]) + rest
    info["eml"] = submitted.replace(b"\n", b"\r\n")
    rcv = info.get("received", "")
    m = re.search(r"\bid ([0-9A-Za-z]+)", rcv)
    info["qid"] = m.group(1) if m else None
    m = re.search(r"\(Postfix\)\s+with (\S+)", rcv)
    info["proto"] = m.group(1).rstrip(";") if m else ""
    m = re.search(r"using (TLSv[0-9.]+|SSLv[0-9.]+)", rcv)
    info["tls"] = m.group(1) if m else None
    m = re.search(r"Authenticated sender: ([^)\s]+)", rcv)
    info["sasl_user"] = m.group(1) if m else None
    return info


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--maildir", required=True)
    ap.add_argument("--milter-log", default="")
    ap.add_argument("--pflog", default="")
    ap.add_argument("--out", required=True)
    ap.add_argument("--skip", type=int, default=0)
    opts = ap.parse_args()

    records = {}
    order = []
    if opts.milter_log and os.path.exists(opts.milter_log):
        with open(opts.milter_log) as f:
            for line in f:
                try:
                    r = json.loads(line)
                except ValueError:
                    continue
                if r.get("qid") and r["qid"] not in records:
                    order.append(r["qid"])
                records[r.get("qid")] = r
    sasl = {}
    if opts.pflog and os.path.exists(opts.pflog):
        with open(opts.pflog, errors="replace") as f:
            for line in f:
                m = re.search(r"\]: ([0-9A-Za-z]+): client=.*sasl_method=([^,\s]+)"
                              r"(?:, sasl_username=(\S+))?", line)
                if m:
                    sasl[m.group(1)] = (m.group(2), m.group(3))

    groups = {}
    for sub in ("new", "cur"):
        d = os.path.join(opts.maildir, sub)
        if not os.path.isdir(d):
            continue
        for name in os.listdir(d):
            c = read_copy(os.path.join(d, name))
            if not c["qid"] or "SMTP" not in c["proto"].upper():
                continue    # made by Postfix itself (a bounce or report)
            groups.setdefault(c["qid"], []).append(c)
    known = [q for q in order if q in groups]
    rest = sorted((q for q in groups if q not in records),
                  key=lambda q: min(c["mtime"] for c in groups[q]))
    qids = (known + rest)[opts.skip:]

    out = os.path.join(opts.out, "new")
    tmp = os.path.join(opts.out, "new.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    for n, q in enumerate(qids, 1):
        copies = sorted(groups[q], key=lambda c: c.get("x-original-to", c.get("delivered-to", "")))
        first = copies[0]
        r = records.get(q)
        if r:
            mail_from = addr(r["mail"][0]) if r["mail"] else ""
            mail_options = r["mail"][1:]
            rcpt_tos = [addr(x[0]) for x in r["rcpts"] if x]
            rcpt_options = [x[1:] for x in r["rcpts"] if x]
            mech, user = r.get("auth_type"), r.get("auth_authen")
        else:
            mail_from = addr(first.get("return-path", ""))
            mail_options, rcpt_options = [], []
            rcpt_tos = sorted(c.get("x-original-to", c.get("delivered-to", "")) for c in copies)
            mech, user = sasl.get(q, (None, None))
            user = user or first["sasl_user"]
        side = {"mail_from": mail_from, "rcpt_tos": rcpt_tos,
                "mail_options": mail_options, "rcpt_options": rcpt_options,
                "auth_user": user, "auth_mech": mech,
                "tls_version": first["tls"], "size": len(first["eml"]),
                "queue_id": q, "copies": [c["path"] for c in copies],
                "delivered_to": sorted(c.get("delivered-to", "") for c in copies)}
        for k in ("connection", "message_in_connection", "time"):
            if r and k in r:
                side[k] = r[k]
        base = os.path.join(tmp, "%06d" % n)
        with open(base + ".eml", "wb") as f:
            f.write(first["eml"])
        with open(base + ".json", "w") as f:
            json.dump(side, f)
    shutil.rmtree(out, ignore_errors=True)
    os.rename(tmp, out)
    print(len(qids))


if __name__ == "__main__":
    sys.exit(main())
