#!/usr/bin/python3
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
"""pf_milter.py -- a recording milter for the Postfix test tier.

Postfix hands every SMTP transaction to its milters with the MAIL FROM and
RCPT TO commands exactly as the client sent them (address and ESMTP
parameters) and with its macros (queue id, SASL method and user). This
milter accepts everything and, at the end of each message, appends one JSON
line to --out:

  {"qid": "43A9BA7A161", "mail": ["<alice@example.test>", "BODY=8BITMIME"],
   "rcpts": [["<bob@example.test>", "NOTIFY=SUCCESS"], ...],
   "auth_type": "XOAUTH2", "auth_authen": "alice@example.test"}

with "connection" (Postfix opens one milter connection per SMTP session),
"message_in_connection" and "time" (when the message ended), so the tests
can read the envelope Postfix received (lib.sh's msg_field
under OM_SERVER=postfix). It speaks the Sendmail milter protocol version 6
on 127.0.0.1 (port written to --port-file when ready); it never changes
or refuses a message.
"""
import argparse
import json
import signal
import socket
import socketserver
import struct
import threading
import time

import srvlife

SMFIP_NOCONNECT = 0x01
SMFIP_NOHELO = 0x02
SMFIP_NOBODY = 0x10
SMFIP_NOHDRS = 0x20
SMFIP_NOEOH = 0x40
SMFIP_NOUNKNOWN = 0x100
SMFIP_NODATA = 0x200
SKIP = (SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOBODY | SMFIP_NOHDRS |
        SMFIP_NOEOH | SMFIP_NOUNKNOWN | SMFIP_NODATA)
NO_REPLY = b"DAKQ"      # macros, abort, quit, quit-new-connection

lock = threading.Lock()
out_path = None
conn_serial = 0


def strings(data):
    """NUL-terminated strings -> list of str."""
    parts = data.split(b"\0")
    if parts and parts[-1] == b"":
        parts.pop()
    return [p.decode("utf-8", "replace") for p in parts]


class Handler(socketserver.BaseRequestHandler):
    def recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.request.recv(n - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
        return buf

    def send(self, cmd, data=b""):
        self.request.sendall(struct.pack("!I", len(data) + 1) + cmd + data)

    def reset(self):
        self.mail = None
        self.rcpts = []
        self.macros = {}

    def handle(self):
        global conn_serial
        with lock:
            conn_serial += 1
            self.conn = conn_serial
        self.n_msgs = 0
        self.reset()
        try:
            while True:
                (n,) = struct.unpack("!I", self.recv_exact(4))
                if n < 1 or n > 1 << 24:
                    return
                pkt = self.recv_exact(n)
                cmd, data = pkt[:1], pkt[1:]
                if cmd == b"O":
                    ver, _act, proto = struct.unpack("!III", data[:12])
                    self.send(b"O", struct.pack("!III", min(ver, 6), 0, proto & SKIP))
                    continue
                if cmd == b"D":
                    kv = strings(data[1:])
                    for i in range(0, len(kv) - 1, 2):
                        self.macros[kv[i].strip("{}")] = kv[i + 1]
                elif cmd == b"M":
                    # The MAIL stage macros came just before (a "D").
                    self.mail = strings(data)
                    self.rcpts = []
                elif cmd == b"R":
                    self.rcpts.append(strings(data))
                elif cmd == b"E":
                    self.record()
                    self.mail, self.rcpts = None, []
                elif cmd == b"A":
                    self.mail, self.rcpts = None, []
                elif cmd == b"Q":
                    return
                if cmd not in NO_REPLY:
                    self.send(b"c")
        except (EOFError, ConnectionError, struct.error):
            return

    def record(self):
        self.n_msgs += 1
        rec = {"connection": self.conn, "message_in_connection": self.n_msgs,
               "qid": self.macros.get("i"), "mail": self.mail or [],
               "rcpts": self.rcpts, "auth_type": self.macros.get("auth_type"),
               "auth_authen": self.macros.get("auth_authen"),
               "time": time.time()}
        line = json.dumps(rec) + "\n"
        with lock:
            with open(out_path, "a") as f:
                f.write(line)
                f.flush()


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    global out_path
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--parent-pid", type=int, default=0)
    opts = ap.parse_args()
    out_path = opts.out
    open(out_path, "a").close()
    srv = Server(("127.0.0.1", 0), Handler)
    srvlife.exit_on(signal.SIGTERM)
    srvlife.exit_with_parent(opts.parent_pid)
    srvlife.write_port(opts.port_file, srv.server_address[1])
    srv.serve_forever()


if __name__ == "__main__":
    main()
