#!/bin/sh
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# t-login-oidc-paste.sh -- `oauthmail login ACCOUNT --paste` against a real
# authorization server, the npm package oidc-provider (oidc/server.mjs,
# PKCE required, RFC 9207 iss in its redirects). The test plays the
# browser with curl and a cookie jar as t-login-oidc-browser.sh does, but
# never lets it reach oauthmail's listener: the user pastes the address
# the provider redirected to (first with a forged state, refused, then as
# it is), and in a second sign-in just the code. Skipped when node/npm
# are missing or the install fails.
. "$top_srcdir/tests/integration/lib.sh"
need_oauthmail
command -v curl >/dev/null || skip_all "curl missing"
. "$top_srcdir/tests/integration/lib-oidc.sh"
start_kernel_keyring || start_keyring || skip_all "no keyring available"
start_oidc
start_smtpd --introspect "$U/_control/introspect" --oauth-ca "$CERTS/ca.pem" ||
    bail "smtpd did not start"
write_config "" "auth_endpoint $U/auth" "token_endpoint $U/token" \
    "flow authcode" "scope openid offline_access" "timeout 10"
at_exit "keyring_del $ACCOUNT token"
unset DISPLAY WAYLAND_DISPLAY
trap '' PIPE

login_bg() {
	: >"$T/login.err"
	rm -f "$T/in" "$JAR"
	mkfifo "$T/in"
	om login "$ACCOUNT" --paste >"$T/login.out" 2>"$T/login.err" <"$T/in" &
	LOGIN_PID=$!
	exec 7>"$T/in"
}
paste_line() { printf '%s\n' "$1" >&7 2>/dev/null; }
wait_login() {
	wait_bg "$LOGIN_PID" 30
	exec 7>&-
}

# Signs in at the provider as the browser would; sets LOC, where the
# provider sends the browser afterwards.
sign_in_at_provider() {
	wait_for 20 grep -q "^    $U/auth?" "$T/login.err" || return 1
	AUTH_URL=$(grep "^    $U/auth?" "$T/login.err" | head -n 1 | sed 's/^ *//')
	LPORT=$(printf '%s\n' "$AUTH_URL" | sed -n 's/.*redirect_uri=http%3A%2F%2F127\.0\.0\.1%3A\([0-9]*\)%2F.*/\1/p')
	follow "$AUTH_URL" >/dev/null || return 1
	ACTION=$(form_action)
	follow --data-urlencode "login=alice@example.test" "$U$ACTION" >/dev/null || return 1
	ACTION=$(form_action)
	r=$(follow -X POST "$U$ACTION") || return 1
	LOC=${r#* }
}

# --- the whole address, after a forged one -------------------------------------
login_bg
sign_in_at_provider || fail "signed in at the provider" "$(cat "$T/login.err")"
like "$LOC" "^http://127\.0\.0\.1:$LPORT/\?code=" "the provider redirects to the loopback address"
like "$LOC" "[?&]iss=https%3A%2F%2F127\.0\.0\.1%3A" "with its issuer (RFC 9207)"
paste_line "$(printf '%s\n' "$LOC" | sed 's/state=[^&]*/state=forged/')"
wait_for 10 grep -q "state does not match" "$T/login.err"
like "$(cat "$T/login.err")" "refused that address: its state does not match" "a forged state is refused"
kill -0 "$LOGIN_PID" 2>/dev/null
ok $? "and the prompt stays open"
is "$(grants)" 0 "no code was exchanged for it"
paste_line "$LOC"
wait_login
is "$RC" 0 "the pasted address signs in"
is "$(grants)" 1 "one code exchange at the provider (with the right code_verifier)"
at=$(token_record "$ACCOUNT" access_token)
isnt "$(token_record "$ACCOUNT" refresh_token)" "" "a refresh token from oidc-provider is in the keyring"
is "$(introspect "${at:-none}")" true "the provider says the access token is active"
send_msg bob@example.test
is "$RC" 0 "a send with the new sign-in works"
keyring_del "$ACCOUNT" token

# --- just the code -------------------------------------------------------------
login_bg
sign_in_at_provider || fail "signed in at the provider (code)" "$(cat "$T/login.err")"
paste_line "$(printf '%s\n' "$LOC" | sed -n 's/.*[?&]code=\([^&]*\).*/\1/p')"
wait_login
is "$RC" 0 "the pasted code signs in"
is "$(grants)" 2 "one more code exchange"
isnt "$(token_record "$ACCOUNT" access_token)" "" "the token is stored"
done_testing
