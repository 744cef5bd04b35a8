# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# Secret hygiene: canary tokens (access and refresh, before and after a
# refresh and a new sign-in) and a canary client secret never appear in
# stdout or stderr at -v -v, the log file, syslog, any file oauthmail
# writes, or the command line and environment of a running oauthmail; core
# dumps are off while it runs. Only `oauthmail token` prints a token, on
# its stdout, which is the point of that command. App-only accounts
# without a secret add canaries: the private key of a client certificate
# (imported with secret --key) and its signed assertions, and a federated
# assertion file's token.
. "$top_srcdir/tests/integration/lib.sh"
need_oauthmail

C=$T/certs
have_openssl=0
mkdir -m 700 "$C"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=canary \
    -keyout "$C/app.key" -out "$C/app.pem" >/dev/null 2>&1 &&
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=idp \
    -keyout "$C/idp.key" -out "$C/idp.pem" >/dev/null 2>&1 && have_openssl=1
if [ "$have_openssl" = 1 ]; then
	start_oauth --device-interval 1 --client-cert "cert-client=$C/app.pem" \
	    --federated "fed-client=$C/idp.pem" || bail "OAuth server"
else
	start_oauth --device-interval 1 || bail "OAuth server"
fi
start_smtpd || bail "SMTP server"
start_kernel_keyring || skip_all "no kernel keyring"
have_syslog=0
start_syslog && have_syslog=1
write_config "" "timeout 5" "syslog on" "device_endpoint $OAUTH_DEVICE_URL" \
    "flow device"
at_exit "keyring_del $ACCOUNT client_secret; keyring_del $ACCOUNT token"
Q=$XDG_STATE_HOME/oauthmail/queue
OUT=$T/captured
mkdir -p "$OUT"
k=0
# cap NAME CMD...: run CMD (stdin /dev/null unless redirected by the
# caller), keep stdout and stderr under $OUT for the final scan.
cap() {
	_n=$1; shift
	k=$((k + 1))
	"$@" >"$OUT/$k-$_n.out" 2>"$OUT/$k-$_n.err"
	RC=$?
}
CANARIES=""
add_canary() { [ -n "$1" ] && CANARIES="$CANARIES $1"; }
current_tokens() {
	add_canary "$(token_record "$ACCOUNT" access_token)"
	add_canary "$(token_record "$ACCOUNT" refresh_token)"
}

# A token that is already expired: the first send refreshes it.
seed_token "$ACCOUNT" alice@example.test "expires_in=-1" || bail "seed"
add_canary "$SEED_ACCESS"
add_canary "$SEED_REFRESH"
test_message >"$T/msg"
cap send "$OAUTHMAIL" -v -v bob@example.test <"$T/msg"
is "$RC" 0 "send -v -v with a refresh exits 0"
is "$(oauth_stat counts.refresh_ok)" 1 "the token was refreshed"
like "$(cat "$OUT/$k-send.err")" "AUTH" "the -v -v transcript is on stderr"
current_tokens
isnt "$(token_record "$ACCOUNT" refresh_token)" "$SEED_REFRESH" "the refresh token rotated"

# Queue one, then every other command at -v -v.
smtpd_faults greet421
cap queue-send "$OAUTHMAIL" -v -v carol@example.test <"$T/msg"
smtpd_faults
cap mailq "$OAUTHMAIL" -v -v -bp
like "$(cat "$OUT/$k-mailq.out")" "carol@" "mailq lists it"
cap flush "$OAUTHMAIL" -v -v -q
is "$RC" 0 "-q -v -v exits 0"
cap status om status -v -v
ok "$RC" "status -v -v"
cap check om check -v -v "$ACCOUNT"
ok "$RC" "check -v -v"
k=$((k + 1))
om token -v -v "$ACCOUNT" >"$T/token.out" 2>"$OUT/$k-token.err"
ok $? "token -v -v"
is "$(cat "$T/token.out")" "$(token_record "$ACCOUNT" access_token)" \
    "token prints the stored access token (its stdout is not scanned)"
SECRET="canary-client-secret-$$-Zq8x"
add_canary "$SECRET"
k=$((k + 1))
printf '%s\n' "$SECRET" | om secret -v -v "$ACCOUNT" >"$OUT/$k-secret.out" 2>"$OUT/$k-secret.err"
ok $? "secret -v -v (from stdin)"
is "$(keyring_get "$ACCOUNT" client_secret)" "$SECRET" "the client secret is in the keyring"
current_tokens

# A send blocked at MAIL: sample the running process.
smtpd_faults hang_mail
"$OAUTHMAIL" -v -v blocked@example.test <"$T/msg" >"$OUT/blocked.out" 2>"$OUT/blocked.err" &
bpid=$!
wait_for 10 grep -q 'MAIL FROM' "$OUT/blocked.err" || diag "no MAIL FROM seen"
if [ -r "/proc/$bpid/limits" ]; then
	cat "/proc/$bpid/limits" >"$T/limits" 2>/dev/null
	cat "/proc/$bpid/cmdline" 2>/dev/null | tr '\0' '\n' >"$OUT/proc-cmdline"
	cat "/proc/$bpid/environ" 2>/dev/null | tr '\0' '\n' >"$OUT/proc-environ"
	like "$(grep -i 'core file' "$T/limits")" "core file size +0 +0 " \
	    "core dumps are disabled while oauthmail runs"
	like "$(cat "$OUT/proc-cmdline")" "blocked@example.test" "/proc/PID/cmdline was sampled"
else
	fail "the blocked oauthmail can be inspected" "pid $bpid gone"
fi
wait "$bpid"
is "$?" 0 "the blocked send times out and queues (exit 0)"
smtpd_faults

# A new sign-in (device flow): its tokens are canaries too.
"$OAUTHMAIL" login -v -v -C "$CONFIG" "$ACCOUNT" --device >"$OUT/login.out" \
    2>"$OUT/login.err" </dev/null &
lpid=$!
if wait_for 20 grep -Eq '[0-9]{4}-[0-9]{4}' "$OUT/login.err"; then
	oauth_ctl POST "/_control/device/approve" >/dev/null
	wait_for 20 sh -c "! kill -0 $lpid 2>/dev/null"
	wait "$lpid"
	is "$?" 0 "login --device -v -v"
	current_tokens
	cap send2 "$OAUTHMAIL" -v -v dave@example.test <"$T/msg"
	is "$RC" 0 "a send with the new tokens"
	cap flush2 "$OAUTHMAIL" -v -v -q
else
	kill "$lpid" 2>/dev/null
	skip "the device flow did not start: $(head -n 2 "$OUT/login.err")" 3
fi

# App-only sign-in without a secret: a certificate's key, its assertions,
# a federated token.
fed_jwt() {	# a token of another issuer, signed with idp.key
	$PY - "$C/idp.key" <<'EOF'
import base64, json, sys, time
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
k = serialization.load_pem_private_key(open(sys.argv[1], "rb").read(), None)
e = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
now = int(time.time())
h = e(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
c = e(json.dumps({"iss": "https://oidc.example.test", "sub": "system:serviceaccount:a:b",
                  "aud": "api://AzureADTokenExchange", "exp": now + 3600}).encode())
print(h + "." + c + "." + e(k.sign((h + "." + c).encode(), padding.PKCS1v15(), hashes.SHA256())))
EOF
}
# The whole JWT, and the start of its claims: a -v -v line that showed a
# part of it would be caught too.
add_jwt_canaries() {
	add_canary "$1"
	add_canary "$(printf '%s' "$1" | cut -d. -f2 | cut -c1-40)"
}
if [ "$have_openssl" = 1 ]; then
	CC="flow client_credentials"
	write_config "cert$$" "timeout 5" "syslog on" "client_id cert-client" \
	    "$CC" "client_certificate $C/app.pem"
	at_exit "keyring_del cert$$ token; keyring_del cert$$ client_key"
	add_canary "$(sed -n 2p "$C/app.key")"
	add_canary "$(sed -n 10p "$C/app.key")"
	cp "$C/app.key" "$T/import.key"
	cap secret-key om secret -v -v "cert$$" --key "$T/import.key"
	is "$RC" 0 "secret --key -v -v"
	rm -f "$T/import.key"
	cap send-cert "$OAUTHMAIL" -v -v erin@example.test <"$T/msg"
	is "$RC" 0 "a send signed in with the certificate at -v -v"
	is "$(oauth_stat counts.assertion_ok)" 1 "with a verified client assertion"
	add_jwt_canaries "$(oauth_ctl GET /_control/stats | json_get last_assertion)"
	current_tokens
	fed_jwt >"$C/fed.jwt"
	add_jwt_canaries "$(cat "$C/fed.jwt")"
	write_config "fed$$" "timeout 5" "syslog on" "client_id fed-client" \
	    "$CC" "client_assertion_file $C/fed.jwt"
	at_exit "keyring_del fed$$ token"
	cap send-fed "$OAUTHMAIL" -v -v frank@example.test <"$T/msg"
	is "$RC" 0 "a send with a federated assertion at -v -v"
	is "$(oauth_stat counts.assertion_ok)" 2 "the assertion was verified"
	current_tokens
else
	skip "no openssl command: no certificate canaries" 5
fi

# The scan: every capture, the log file, syslog, every file under $HOME.
n=0
for c in $CANARIES; do n=$((n + 1)); done
[ "$n" -ge 7 ] && pass "$n distinct canaries collected" ||
    fail "canaries collected" "only $n: $CANARIES"
cp "$T/oauthmail.log" "$OUT/logfile" 2>/dev/null
[ "$have_syslog" = 1 ] && cp "$SYSLOG_FILE" "$OUT/syslog"
[ -s "$OUT/logfile" ] && pass "the log file was written" || fail "the log file was written"
if [ "$have_syslog" = 1 ]; then
	[ -s "$OUT/syslog" ] && pass "syslog was captured" || fail "syslog was captured"
else
	skip "/dev/log is in use: no syslog capture"
fi
nfiles=$(find "$HOME" "$OUT" -type f | wc -l | tr -d ' ')
scan() { # prints "abcd...: files" for every canary found
	for c in $CANARIES; do
		hits=$(grep -rlF -- "$c" "$HOME" "$OUT" 2>/dev/null)
		[ -n "$hits" ] && printf '%s...: %s\n' "${c%"${c#????}"}" "$hits"
	done
}
leaks=$(scan)
if [ -z "$leaks" ]; then
	pass "no canary in any of $nfiles files (captures, log, syslog, queue, config, /proc)"
else
	fail "no canary anywhere" "$leaks"
fi
# The scan can find things: plant the token command's stdout.
cp "$T/token.out" "$OUT/planted"
like "$(scan)" "planted" "the scan finds a planted canary"
done_testing
