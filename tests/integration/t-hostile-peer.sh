# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# Hostile SMTP and OAuth peers: oversized or garbage replies, servers that
# hang or drop the connection at every step, STARTTLS that fails, TLS 1.1,
# bad certificates. Each ends in bounded time with a clear log line and
# the message queued (exit 0) -- never a hang, a crash or a token sent to
# a server whose certificate did not verify.
. "$top_srcdir/tests/integration/lib.sh"
need_oauthmail

start_oauth || bail "OAuth server"
start_smtpd || bail "SMTP server"
start_kernel_keyring || skip_all "no kernel keyring"
write_config "" "timeout 3"
seed_token "$ACCOUNT" || bail "seed"
Q=$XDG_STATE_HOME/oauthmail/queue
queued() { find "$Q/q" -name '*.env' 2>/dev/null | wc -l | tr -d ' '; }
clear_queue() { find "$Q" -type f -delete 2>/dev/null; :; }
# bounded DESC: sends one message with a 60 s guard; passes when it exits 0
# within LIMIT seconds (default 30) and left the message queued.
bounded() {
	_d=$1 _lim=${2:-30}
	clear_queue
	_s=$(date +%s)
	printf 'Subject: peer\n\nbody\n' | timeout 60 "$OAUTHMAIL" bob@example.test \
	    >"$T/out" 2>"$T/err"
	RC=$? _e=$(( $(date +%s) - _s ))
	if [ "$RC" -eq 0 ] && [ "$_e" -le "$_lim" ]; then
		pass "$_d: exit 0 in ${_e}s"
	else
		fail "$_d: exit 0 within ${_lim}s" "exit $RC after ${_e}s" "$(cat "$T/err")"
	fi
	is "$(queued)" 1 "$_d: the message is queued"
}
lastlog() { tail -n 3 "$T/oauthmail.log" 2>/dev/null; }
[ -n "${SHOWLOG:-}" ] && at_exit 'cat "$T/oauthmail.log" >&2'

# Oversized and malformed replies.
smtpd_faults long_reply
bounded "a 10,000-line EHLO reply"
like "$(lastlog)" "reply longer than [0-9]+ lines" "the log names the oversized reply"
smtpd_faults long_line
bounded "a 20,000-character reply line"
like "$(lastlog)" "longer than [0-9]+ bytes" "the log names the long line"
smtpd_faults garbage_ehlo
bounded "garbage EHLO reply"
like "$(lastlog)" "malformed SMTP reply" "the log names the bad reply"

# Hangs at every step: "timeout 3" bounds each wait.
for f in hang_greeting hang_ehlo hang_auth hang_mail hang_data_end; do
	smtpd_faults "$f"
	bounded "$f with timeout 3" 20
	like "$(lastlog)" "[Tt]ime(d )?out" "$f: the log says it timed out"
done
smtpd_faults
clear_queue

# STARTTLS offered then refused: never authenticates in clear text.
a0=$(smtp_stat auth_attempts)
smtpd_faults starttls454
bounded "STARTTLS answered 454"
like "$(lastlog)" "STARTTLS.*454" "the log names the STARTTLS failure"
is "$(smtp_stat auth_attempts)" "$a0" "no AUTH attempted without TLS"
smtpd_faults

# Disconnects at each step, by a scripted implicit-TLS server that drops
# the connection on the N-th command (0: right after the TLS handshake).
cat >"$T/drop.py" <<'PYEOF'
import os, socket, ssl, sys, threading
d, cert, key = sys.argv[1], sys.argv[2], sys.argv[3]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(8)
open(d + "/port.tmp", "w").write(str(ls.getsockname()[1]))
os.rename(d + "/port.tmp", d + "/port")
def serve(c):
    try:
        c = ctx.wrap_socket(c, server_side=True)
        step = int(open(d + "/step").read())
        f = c.makefile("rb")
        n = 0
        def out(s):
            c.sendall(s.encode() + b"\r\n")
        if step == 0:
            return
        out("220 drop.test ESMTP")
        while True:
            line = f.readline()
            if not line:
                return
            n += 1
            if n == step:
                return
            cmd = line[:4].upper()
            if cmd in (b"EHLO", b"HELO"):
                out("250-drop.test\r\n250-AUTH XOAUTH2 OAUTHBEARER\r\n250 8BITMIME")
            elif cmd == b"AUTH":
                open(d + "/auth", "a").write("x\n")
                out("235 2.7.0 ok")
            elif cmd == b"DATA":
                out("354 go")
                while True:
                    l = f.readline()
                    if not l or l in (b".\r\n", b".\n"):
                        break
                n += 1
                if n == step:
                    return
                out("250 2.0.0 stored")
            elif cmd == b"QUIT":
                out("221 bye")
                return
            else:
                out("250 2.1.0 ok")
    except Exception:
        pass
    finally:
        try:
            c.close()
        except Exception:
            pass
while True:
    c, _ = ls.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PYEOF
mkdir -p "$T/drop"
$PY "$T/drop.py" "$T/drop" "$CERTS/server.pem" "$CERTS/server.key" 2>"$T/drop/err" &
_lib_pids="$_lib_pids $!"
wait_file "$T/drop/port" 10 || bail "drop server"
SAVE_PORT=$SMTP_PORT SAVE_MODE=$SMTP_MODE
SMTP_PORT=$(cat "$T/drop/port") SMTP_MODE=implicit
write_config "$ACCOUNT" "timeout 3"
step=0
for what in "after the TLS handshake" "at EHLO" "at AUTH" "at MAIL" "at RCPT" \
    "at DATA" "after the final dot"; do
	echo "$step" >"$T/drop/step"
	bounded "disconnect $what" 20
	like "$(lastlog)" "status=deferred \\(.*(eof|closed|disconnect|reset)" \
	    "disconnect $what: the log says the connection ended"
	step=$((step + 1))
done
echo 100 >"$T/drop/step"
run_ok "-q against the same server, now working" "$OAUTHMAIL" -q
is "$(queued)" 0 "the queue is empty"
SMTP_PORT=$SAVE_PORT SMTP_MODE=$SAVE_MODE
write_config "$ACCOUNT" "timeout 3"

# TLS 1.1 only (implicit TLS): the handshake fails, nothing is sent.
stop_smtpd
start_smtpd -n tls11 --mode implicit --fault tls11 || bail "TLS 1.1 server"
write_config "$ACCOUNT" "timeout 3"
bounded "a TLS 1.1-only server"
like "$(lastlog)" "TLS handshake" "the log names the TLS failure"
is "$(smtp_stat auth_attempts)" 0 "no AUTH attempted"
stop_smtpd tls11

# Bad certificates: queued, the log names the problem, no AUTH attempted.
for c in expired wronghost selfsigned; do
	SMTP_CERT=$c start_smtpd -n "$c" || bail "$c server"
	write_config "$ACCOUNT" "timeout 3"
	bounded "a $c certificate"
	case $c in
	expired) re="expired" ;;
	wronghost) re="mismatch" ;;
	selfsigned) re="self-signed" ;;
	esac
	like "$(lastlog)" "$re" "$c: the log names the certificate problem"
	like "$(lastlog)" "TLS certificate of 127\.0\.0\.1 not trusted" "$c: the log says the certificate is not trusted"
	is "$(smtp_stat auth_attempts)" 0 "$c: no AUTH attempted"
	is "$(smtp_stat mail)" 0 "$c: no MAIL sent"
	stop_smtpd "$c"
done

# The OAuth server with a self-signed certificate: the refresh fails
# transiently, the message stays queued and the refresh token is kept.
clear_queue
start_smtpd -n good || bail "SMTP server"
stop_oauth
OAUTH_CERT=selfsigned start_oauth || bail "self-signed OAuth server"
# Our own control calls must not verify (lib.sh's oauth_ctl does).
oauth_ctl() {
	curl -sS -k --max-time 20 -X "$1" "$OAUTH_URL$2"
}
# A new account: the restarted server's token_endpoint (another port) is
# another identity, under which the first account's token is not used.
write_config "${ACCOUNT}s" "timeout 3"
seed_token "$ACCOUNT" alice@example.test "expires_in=-1" || bail "seed"
bounded "token endpoint with a self-signed certificate"
like "$(lastlog)" "token endpoint: SSL certificate problem: self-signed" "the log names the certificate problem"
is "$(token_record "$ACCOUNT" refresh_token)" "$SEED_REFRESH" "the refresh token is untouched"
is "$(token_record "$ACCOUNT" needs_login)" false "no sign-in demanded for a transient failure"
is "$(oauth_stat counts.refresh_ok)" 0 "no refresh reached the server"
is "$(smtp_stat auth_attempts)" 0 "no AUTH with the expired token"
done_testing
