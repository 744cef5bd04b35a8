#!/bin/sh
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# t-login-device-timing.sh -- the device flow's polling rules (RFC 8628
# §3.5) against a scripted HTTPS token endpoint started by this test:
# slow_down adds 5 s to this and every later poll; a code that expires
# (client-side deadline, or the server's expired_token) exits 77 with
# "the code expired" and nothing stored.
. "$top_srcdir/tests/integration/lib.sh"
need_oauthmail
start_kernel_keyring || start_keyring || skip_all "no keyring available"

# A token endpoint that plays a script: SCRIPT is a comma-separated list of
# answers for successive polls (pending, slow_down, expired_token, ok);
# EXPIRES is the device code's expires_in. Every poll's time is logged.
cat >"$T/devsrv.py" <<'EOF'
import http.server, json, os, ssl, sys, threading, time
cert, key, portfile, log, script, expires = sys.argv[1:7]
answers = script.split(",")
polls = []
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass
    def reply(self, code, obj):
        b = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(n)
        if self.path == "/devicecode":
            return self.reply(200, {"device_code": "dc-1", "user_code": "1234-5678",
                "verification_uri": "https://127.0.0.1/device",
                "expires_in": int(expires), "interval": 1})
        i = len(polls)
        polls.append(time.time())
        with open(log, "a") as f:
            f.write("%.3f\n" % polls[-1])
        a = answers[i] if i < len(answers) else answers[-1]
        if a == "ok":
            return self.reply(200, {"access_token": "at-scripted", "token_type": "Bearer",
                "expires_in": 3600, "refresh_token": "rt-scripted"})
        names = {"pending": "authorization_pending"}
        self.reply(400, {"error": names.get(a, a)})
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
open(portfile + ".tmp", "w").write(str(srv.server_address[1]))
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
EOF

# start_devsrv SCRIPT EXPIRES -- sets DEV_URL, DEV_LOG; rewrites the config.
start_devsrv() {
	_dd=$(mktemp -d "$T/dev.XXXXXX")
	DEV_LOG=$_dd/polls
	$PY "$T/devsrv.py" "$CERTS/server.pem" "$CERTS/server.key" "$_dd/port" \
	    "$DEV_LOG" "$1" "$2" 2>"$_dd/err" &
	_lib_pids="$_lib_pids $!"
	wait_file "$_dd/port" 10 || { diag "$(cat "$_dd/err")"; return 1; }
	DEV_URL=https://127.0.0.1:$(cat "$_dd/port")
	write_config "${ACCOUNT:-}" "token_endpoint $DEV_URL/token" \
	    "device_endpoint $DEV_URL/devicecode" "flow device"
}

# The gaps between successive polls, rounded to whole seconds.
poll_gaps() {
	$PY -c '
import sys
t = [float(x) for x in open(sys.argv[1])]
print(" ".join(str(round(b - a)) for a, b in zip(t, t[1:])))' "$DEV_LOG"
}

# --- slow_down ---------------------------------------------------------------
start_devsrv "pending,slow_down,pending,ok" 900 || bail "scripted server"
at_exit "keyring_del $ACCOUNT token"
_run om login "$ACCOUNT" --device
is "$RC" 0 "login succeeds after slow_down"
is "$(wc -l <"$DEV_LOG" | tr -d ' ')" 4 "four polls"
is "$(poll_gaps)" "1 6 6" "slow_down adds 5 s to this and every later poll"
is "$(token_record "$ACCOUNT" refresh_token)" rt-scripted "the token record is stored"
keyring_del "$ACCOUNT" token

# --- the code's lifetime runs out while pending --------------------------------
start_devsrv "pending" 3 || bail "scripted server"
_run om login "$ACCOUNT" --device
is "$RC" 77 "an expired code exits 77"
like "$(cat "$T/err")" "the code expired" "and says the code expired"
if keyring_get "$ACCOUNT" token >/dev/null; then
	fail "nothing is stored"
else
	pass "nothing is stored"
fi

# --- the server says expired_token --------------------------------------------
start_devsrv "pending,expired_token" 900 || bail "scripted server"
_run om login "$ACCOUNT" --device
is "$RC" 77 "expired_token exits 77"
like "$(cat "$T/err")" "the code expired; run 'oauthmail login" \
    "and says to run login again"
if keyring_get "$ACCOUNT" token >/dev/null; then
	fail "nothing is stored after expired_token"
else
	pass "nothing is stored after expired_token"
fi

# --- access_denied (the RFC's name for a declined code) ------------------------
start_devsrv "access_denied" 900 || bail "scripted server"
_run om login "$ACCOUNT" --device
is "$RC" 77 "access_denied exits 77"
like "$(cat "$T/err")" "declined" "and says the sign-in was declined"

done_testing
