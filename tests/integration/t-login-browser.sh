#!/bin/sh
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# t-login-browser.sh -- `oauthmail login ACCOUNT --browser`: authorization
# code + PKCE (S256) with the loopback redirect listener. The test plays
# the browser: it takes the URL the program prints on stderr (no DISPLAY,
# so no browser is started), fetches it from the test OAuth server's
# authorize endpoint (which answers 302 to the loopback listener) and
# follows the redirect to 127.0.0.1. Also: stray requests are ignored, a
# redirect with the wrong state is refused and the wait goes on, a
# declined sign-in exits 77, and the listener is closed when the flow is
# over.
. "$top_srcdir/tests/integration/lib.sh"
need_oauthmail
command -v curl >/dev/null || skip_all "curl missing"
start_kernel_keyring || start_keyring || skip_all "no keyring available"
start_oauth --require-pkce || bail "oauth server did not start"
start_smtpd || bail "smtpd did not start"
write_config "" "auth_endpoint $OAUTH_AUTH_URL" "flow authcode"
at_exit "keyring_del $ACCOUNT token"

login_bg() {
	: >"$T/login.err"
	om login "$ACCOUNT" "$@" >"$T/login.out" 2>"$T/login.err" </dev/null &
	LOGIN_PID=$!
}

wait_login() {
	wait_bg "$LOGIN_PID" "${1:-30}"
}

# --- the whole flow ------------------------------------------------------------
login_bg --browser
if wait_auth_url; then
	pass "the authorization URL is printed on stderr"
else
	fail "the authorization URL is printed on stderr" "$(cat "$T/login.err")"
	done_testing
fi
like "$AUTH_URL" "code_challenge_method=S256" "PKCE S256 is requested"
like "$AUTH_URL" "code_challenge=[A-Za-z0-9_-]{43}(&|$)" "the challenge is 43 base64url characters"
like "$AUTH_URL" "state=[^&]{16,}" "a random state is sent"
like "$AUTH_URL" "response_type=code" "response_type is code"
like "$(cat "$T/login.err")" "ssh -L $LPORT:127.0.0.1:$LPORT" \
    "without a display, the ssh -L hint names the listener's port"

# Stray and hostile requests do not end the flow.
code=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$LPORT/favicon.ico")
is "$code" 404 "/favicon.ico gets 404"
code=$(printf 'BLAH\r\n\r\n' | $PY -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(sys.stdin.buffer.read())
print(s.recv(100).split(b" ")[1].decode())' "$LPORT")
is "$code" 400 "a malformed request gets 400"
code=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' \
    "http://127.0.0.1:$LPORT/?code=x&code=y&state=z")
is "$code" 400 "a repeated parameter gets 400"
kill -0 "$LOGIN_PID" 2>/dev/null
ok $? "the program is still waiting after stray requests"

LOC=$(authorize)
like "$LOC" "^http://127\.0\.0\.1:$LPORT/\?code=" "the authorize endpoint redirects to the loopback listener"
curl -sS --max-time 30 "$LOC" >"$T/page.html"
ok $? "the browser's redirect is answered"
file_contains "$T/page.html" "Signed in" "the page says the sign-in worked"
wait_login 30
is "$RC" 0 "login exits 0"
like "$(cat "$T/login.err")" "signed in as alice@example.test .*token stored in" \
    "one line says who signed in and where the token went"
is "$(oauth_stat counts.authorization_code_ok)" 1 "the code was exchanged with a matching code_verifier"
is "$(oauth_stat counts.pkce_failed)" 0 "no PKCE failure"
at=$(token_record "$ACCOUNT" access_token)
isnt "$(token_record "$ACCOUNT" refresh_token)" "" "the refresh token is stored"
is "$(token_record "$ACCOUNT" needs_login)" false "needs_login is false"
unlike "$(cat "$T/login.err" "$T/login.out")" "${at:-NO-TOKEN}|code=code-" \
    "neither the token nor the code appears in the output"
curl -sS --max-time 5 -o /dev/null "http://127.0.0.1:$LPORT/" 2>/dev/null
isnt "$?" 0 "the listener is closed after the flow"
smtp_client --mech XOAUTH2 --user alice@example.test --token "$at" \
    --to bob@example.test >"$T/client.out" 2>&1
ok $? "the stored access token authenticates at the SMTP server"
send_msg bob@example.test
is "$RC" 0 "a send with the stored token works"

# --- wrong state: refused, and the wait goes on ----------------------------------
keyring_del "$ACCOUNT" token
login_bg --browser
wait_auth_url || fail "the authorization URL is printed (2)"
LOC=$(authorize)
BAD=$(printf '%s\n' "$LOC" | sed 's/state=[^&]*/state=forged/')
curl -sS --max-time 30 "$BAD" >"$T/page.html"
file_contains "$T/page.html" "refused" "a redirect with the wrong state is refused in the page"
wait_for 10 grep -q "state does not match" "$T/login.err"
like "$(cat "$T/login.err")" "ignored a request to the listener: its state does not match" \
    "the terminal says the request was ignored"
kill -0 "$LOGIN_PID" 2>/dev/null
ok $? "the sign-in goes on after a wrong state"
is "$(oauth_stat counts.authorization_code_ok)" 1 "the code was not exchanged"
curl -sS --max-time 30 "$LOC" >"$T/page.html"
wait_login 30
is "$RC" 0 "the right redirect after it signs in"
is "$(oauth_stat counts.authorization_code_ok)" 2 "with one exchange"
keyring_del "$ACCOUNT" token

# --- declined in the browser ---------------------------------------------------
oauth_fault access_denied
login_bg --browser
wait_auth_url || fail "the authorization URL is printed (3)"
LOC=$(authorize)
like "$LOC" "error=access_denied" "the provider redirects with error=access_denied"
curl -sS --max-time 30 "$LOC" >"$T/page.html"
wait_login 30
is "$RC" 77 "a declined sign-in exits 77"
like "$(cat "$T/login.err")" "declined" "and says so"
oauth_fault none
if keyring_get "$ACCOUNT" token >/dev/null; then
	fail "nothing is stored after a declined sign-in"
else
	pass "nothing is stored after a declined sign-in"
fi

done_testing
