#!/usr/bin/python3
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
"""Speak SMTP to "sendmail -bs" over its stdin/stdout, as Symfony Mailer's
SendmailTransport does, following a script; print one TAP-free result line
per expectation and exit 1 on the first mismatch.

usage: bs_dialogue.py SCRIPT TRANSCRIPT -- COMMAND [ARGS...]

SCRIPT lines (blank lines and '#' comments are skipped):
  > TEXT        queue TEXT + CRLF for sending (sent when a reply is awaited:
                several '>' in a row are therefore pipelined)
  >raw HEX      queue raw bytes given in hex
  >long N C     queue a line of N characters C + CRLF
  >file PATH    queue the file's bytes as they are
  < RE          flush what is queued, read one (multi-line) reply and match
                its first line against the regular expression RE
  <ehlo WORD    the last reply (multi-line) must contain a line with WORD
  close         flush and close the child's stdin (EOF)
  exit N        wait for the child; its exit status must be N
The transcript (both directions) goes to TRANSCRIPT.
"""

import re
import subprocess
import sys


def main():
    script, transcript = sys.argv[1], sys.argv[2]
    cmd = sys.argv[sys.argv.index("--") + 1:]
    log = open(transcript, "w", encoding="utf-8", errors="replace")
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    out = p.stdout
    pending = bytearray()
    last = []

    def flush():
        if pending:
            for ln in bytes(pending).split(b"\r\n")[:20]:
                log.write("C: %r\n" % ln[:200])
            p.stdin.write(bytes(pending))
            p.stdin.flush()
            pending.clear()

    def reply():
        lines = []
        while True:
            ln = out.readline()
            if not ln:
                raise SystemExit("FAIL: end of output while waiting for a reply")
            if not ln.endswith(b"\r\n"):
                raise SystemExit("FAIL: reply line not ending in CRLF: %r" % ln)
            ln = ln[:-2].decode("utf-8", "replace")
            log.write("S: %s\n" % ln)
            lines.append(ln)
            if len(ln) < 4 or ln[3] != "-":
                return lines

    n = 0
    for raw in open(script, encoding="utf-8"):
        line = raw.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        op, _, arg = line.partition(" ")
        if op == ">":
            pending += arg.encode("utf-8") + b"\r\n"
        elif op == ">raw":
            pending += bytes.fromhex(arg)
        elif op == ">long":
            cnt, ch = arg.split(" ")
            pending += ch.encode() * int(cnt) + b"\r\n"
        elif op == ">file":
            pending += open(arg, "rb").read()
        elif op == "<":
            flush()
            last = reply()
            n += 1
            if not re.match(arg, last[0]):
                print("FAIL: reply %d: want /%s/, got %r" % (n, arg, last[0]))
                log.flush()
                p.kill()
                sys.exit(1)
            print("reply %d: %s" % (n, last[0]))
        elif op == "<ehlo":
            if not any(re.match(r"^250[- ]" + re.escape(arg) + r"\b", l)
                       for l in last):
                print("FAIL: %s not in %r" % (arg, last))
                sys.exit(1)
        elif op == "close":
            flush()
            p.stdin.close()
        elif op == "exit":
            if not p.stdin.closed:
                flush()
                p.stdin.close()
            rest = out.read()
            if rest:
                log.write("S(after): %r\n" % rest[:500])
            rc = p.wait(timeout=60)
            if rc != int(arg):
                print("FAIL: exit status %d, want %s" % (rc, arg))
                sys.exit(1)
            if rest:
                print("FAIL: unexpected output after the end: %r" % rest[:200])
                sys.exit(1)
            print("exit %d" % rc)
        else:
            raise SystemExit("bad script line: %r" % line)
    log.close()
    print("done")


if __name__ == "__main__":
    main()
