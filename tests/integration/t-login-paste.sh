#!/bin/sh
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# t-login-paste.sh -- `oauthmail login ACCOUNT --paste`: authorization code
# + PKCE with the loopback redirect URI, where the user opens the printed
# address on any machine and pastes back the address the browser failed
# to load (or just the code). The test plays the browser (as in
# t-login-browser.sh) and the user, who writes lines into stdin (a fifo).
# The listener keeps running meanwhile: whichever brings the code first
# wins, and the code is exchanged exactly once. A wrong state or issuer
# (RFC 9207) is refused and the wait goes on, on either side. Without a
# display the default is this flow, also when Microsoft refuses the
# device flow.
. "$top_srcdir/tests/integration/lib.sh"
need_oauthmail
command -v curl >/dev/null || skip_all "curl missing"
start_kernel_keyring || start_keyring || skip_all "no keyring available"
start_oauth --require-pkce || bail "oauth server did not start"
start_smtpd || bail "smtpd did not start"
write_config "" "auth_endpoint $OAUTH_AUTH_URL" "flow authcode"
at_exit "keyring_del $ACCOUNT token"
unset DISPLAY WAYLAND_DISPLAY
# A line pasted after the program ended (the race below) must not kill us.
trap '' PIPE

# Starts `oauthmail login` with its stdin on a fifo that fd 7 writes to.
login_bg() {
	: >"$T/login.err"
	rm -f "$T/in"
	mkfifo "$T/in"
	om login "$ACCOUNT" "$@" >"$T/login.out" 2>"$T/login.err" <"$T/in" &
	LOGIN_PID=$!
	exec 7>"$T/in"
}

# The user pastes a line.
paste_line() {
	printf '%s\n' "$1" >&7 2>/dev/null
}

wait_login() {
	wait_bg "$LOGIN_PID" "${1:-30}"
	exec 7>&-
}

exchanges() {
	oauth_stat "counts.grant:authorization_code"
}

still_waiting() {
	kill -0 "$LOGIN_PID" 2>/dev/null
	ok $? "$1"
}

signed_in() {
	wait_login 30
	is "$RC" 0 "$1: login exits 0"
	is "$(exchanges)" "$2" "$1: the code was exchanged once"
	isnt "$(token_record "$ACCOUNT" refresh_token)" "" "$1: the token is stored"
	keyring_del "$ACCOUNT" token
}

# --- the whole address ---------------------------------------------------------
login_bg --paste
if wait_auth_url; then
	pass "the authorization URL is printed on stderr"
else
	fail "the authorization URL is printed on stderr" "$(cat "$T/login.err")"
	done_testing
fi
like "$(cat "$T/login.err")" "on any machine" "it says the address can be opened anywhere"
like "$(cat "$T/login.err")" "paste it here \(or just the code\)" "and what to paste back"
like "$(cat "$T/login.err")" "Address or code: $" "then prompts"
LOC=$(authorize)
like "$LOC" "^http://127\.0\.0\.1:$LPORT/\?code=.*&iss=" "the provider redirects to the listener's address, with iss"
paste_line "$LOC"
signed_in "the pasted address" 1
like "$(cat "$T/login.err")" "signed in as alice@example.test" "one line says who signed in"
unlike "$(cat "$T/login.err" "$T/login.out")" "code=code-" "the code is not echoed"
curl -sS --max-time 5 -o /dev/null "http://127.0.0.1:$LPORT/" 2>/dev/null
isnt "$?" 0 "the listener is closed after the flow"

# --- just the code -------------------------------------------------------------
login_bg --paste
wait_auth_url || fail "the authorization URL is printed (code)"
CODE=$(authorize | sed -n 's/.*[?&]code=\([^&]*\).*/\1/p')
paste_line "  $CODE  "
signed_in "the pasted code" 2

# --- garbage, a wrong state, then the right address ----------------------------
login_bg --paste
wait_auth_url || fail "the authorization URL is printed (state)"
LOC=$(authorize)
paste_line "two words"
paste_line "http://127.0.0.1:1/?code=x&state=y"
paste_line "$(printf '%s\n' "$LOC" | sed 's/state=[^&]*/state=forged/')"
wait_for 10 grep -q "state does not match" "$T/login.err"
like "$(cat "$T/login.err")" "neither the address nor a code" "garbage gets one line saying what to paste"
like "$(cat "$T/login.err")" "does not go to this sign-in" "an address elsewhere is refused"
like "$(cat "$T/login.err")" "refused that address: its state does not match" "a wrong state is refused"
still_waiting "the prompt stays open after a wrong state"
is "$(exchanges)" 2 "no code was exchanged for them"
paste_line "$LOC"
signed_in "the right address after a wrong one" 3

# --- a wrong issuer (RFC 9207), pasted and at the listener ---------------------
login_bg --paste
wait_auth_url || fail "the authorization URL is printed (iss)"
oauth_fault wrong_iss
LOC=$(authorize)
oauth_fault none
like "$LOC" "iss=https%3A%2F%2Fevil.test" "the forged redirect names another issuer"
paste_line "$LOC"
code=$(curl -sS --max-time 10 -o "$T/page.html" -w '%{http_code}' "$LOC")
is "$code" 400 "the listener refuses it with an error page"
wait_for 10 sh -c "grep -c 'issuer (iss)' '$T/login.err' | grep -q 2"
like "$(cat "$T/login.err")" "refused that address: its issuer \(iss\) is not the server" "the pasted one is refused"
like "$(cat "$T/login.err")" "ignored a request to the listener: its issuer" "and the one at the listener"
still_waiting "still waiting after a wrong issuer"
LOC=$(authorize)
paste_line "$LOC"
signed_in "the right issuer after a wrong one" 4

# --- a stray request with the wrong state at the listener ----------------------
login_bg --paste
wait_auth_url || fail "the authorization URL is printed (stray)"
LOC=$(authorize)
BAD=$(printf '%s\n' "$LOC" | sed 's/state=[^&]*/state=forged/')
code=$(curl -sS --max-time 10 -o "$T/page.html" -w '%{http_code}' "$BAD")
is "$code" 400 "a redirect with the wrong state gets 400"
file_contains "$T/page.html" "refused" "and a page saying it is refused"
still_waiting "the sign-in goes on after a stray wrong-state request"
like "$(cat "$T/login.err")" "ignored a request to the listener: its state does not match" "the terminal says it was ignored"
curl -sS --max-time 30 "$LOC" >"$T/page.html"
file_contains "$T/page.html" "Signed in" "the right redirect then signs in"
signed_in "the listener after a stray request" 5

# --- listener and paste racing: one exchange -----------------------------------
login_bg --paste
wait_auth_url || fail "the authorization URL is printed (race)"
LOC=$(authorize)
curl -sS --max-time 30 -o "$T/page.html" "$LOC" &
cpid=$!
paste_line "$LOC"
wait "$cpid"
signed_in "listener and paste at once" 6
is "$(oauth_stat counts.authorization_code_ok)" 6 "every exchange succeeded (none was a second use of a code)"

# --- stdin at its end: the listener alone --------------------------------------
login_bg --paste
exec 7>&-
wait_auth_url || fail "the authorization URL is printed (eof)"
still_waiting "the end of stdin does not end the sign-in"
curl -sS --max-time 30 -o /dev/null "$(authorize)"
exec 7>/dev/null
signed_in "the listener after stdin ended" 7

# --- the default without a display ---------------------------------------------
login_bg
wait_auth_url || fail "the authorization URL is printed (default)"
like "$(cat "$T/login.err")" "Address or code: $" "with no display, the default is the paste-back sign-in"
paste_line "$(authorize)"
signed_in "the default" 8

# ... also when Microsoft refuses the device flow (Conditional Access).
write_config "$ACCOUNT" "provider microsoft" "auth_endpoint $OAUTH_AUTH_URL" \
    "token_endpoint $OAUTH_TOKEN_URL" "device_endpoint $OAUTH_DEVICE_URL"
oauth_fault device_ca 1
login_bg
wait_auth_url || fail "the authorization URL is printed (device refused)" "$(cat "$T/login.err")"
like "$(cat "$T/login.err")" "device sign-in was refused \(.*AADSTS53003" "the device refusal is named"
like "$(cat "$T/login.err")" "oauthmail login $ACCOUNT --paste" "with the fix"
is "$(oauth_stat counts.device_authorization_requests)" 1 "the device flow was tried first"
paste_line "$(authorize)"
signed_in "the paste-back after a refused device flow" 9
oauth_fault device_ca 1
run_rc 77 "--device refused by Conditional Access exits 77" om login "$ACCOUNT" --device
like "$(cat "$T/err")" "AADSTS53003" "with Microsoft's reason"
like "$(cat "$T/err")" "oauthmail login $ACCOUNT --paste" "and offers --paste"

# --- every provider preset ------------------------------------------------------
n=9
for p in microsoft outlook google custom; do
	write_config "$ACCOUNT" "provider $p" "auth_endpoint $OAUTH_AUTH_URL" \
	    "token_endpoint $OAUTH_TOKEN_URL"
	login_bg --paste
	wait_auth_url || fail "$p: the authorization URL is printed"
	paste_line "$(authorize)"
	n=$((n + 1))
	signed_in "provider $p" "$n"
done

done_testing
