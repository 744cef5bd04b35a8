#!/bin/sh
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# t-refresh-cas.sh -- a token refreshed during an SMTP session verifies the
# token endpoint with the CAs the SMTP connection already loaded: the
# trust file is read once, the refresh succeeds and the message arrives; a
# refresh with no SMTP connection open (oauthmail token) loads them
# itself; a token endpoint whose certificate names another host is still
# refused (the host name is checked, the message waits, the refresh token
# is kept).
. "$top_srcdir/tests/integration/lib.sh"
need_oauthmail
start_oauth || bail "OAuth server did not start"
start_smtpd || bail "SMTP server did not start"
start_kernel_keyring || skip_all "no kernel keyring"
cp "$CERTS/ca.pem" "$T/cas.pem"
write_config "" "timeout 10" "tls_trust_file $T/cas.pem"
at_exit "keyring_del $ACCOUNT token"
# opens FILE: how many times the last traced run opened the trust file
opens() { grep -c "open.*\"$T/cas.pem\"" "$1"; }

# 1. A refresh during the SMTP session.
seed_token "$ACCOUNT" "" "expires_in=-1" || bail "seed"
if command -v strace >/dev/null 2>&1; then
	# LeakSanitizer (a sanitizer build) cannot run under a tracer.
	test_message | ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
	    strace -f -qq -e trace=open,openat -o "$T/trace" \
	    "$OAUTHMAIL" -C "$CONFIG" bob@example.test >"$T/out" 2>"$T/err"
	is "$?" 0 "send that refreshes: exit 0"
	is "$(opens "$T/trace")" 1 "the trust file is read once, not again for the refresh"
else
	send_msg bob@example.test
	is "$RC" 0 "send that refreshes: exit 0"
	skip "strace missing" 1
fi
is "$(msg_count)" 1 "delivered"
is "$(oauth_stat counts.refresh_ok)" 1 "one refresh at the token endpoint"

# 2. No SMTP connection: libcurl loads the trust file itself.
seed_token "$ACCOUNT" "" "expires_in=-1" || bail "seed"
run_ok "oauthmail token refreshes without an SMTP session" \
    "$OAUTHMAIL" -C "$CONFIG" token "$ACCOUNT"
isnt "$(cat "$T/out")" "$SEED_ACCESS" "a new access token"
is "$(oauth_stat counts.refresh_ok)" 2 "refreshed at the token endpoint"

# 3. A token endpoint whose certificate is for another host (same CA).
stop_oauth
OAUTH_CERT=wronghost start_oauth || bail "OAuth server (wronghost)"
oauth_ctl() {
	curl -sS -k --max-time 20 -X "$1" "$OAUTH_URL$2"
}
write_config "${ACCOUNT}w" "timeout 10" "tls_trust_file $T/cas.pem"
at_exit "keyring_del $ACCOUNT token"
seed_token "$ACCOUNT" "" "expires_in=-1" || bail "seed"
send_msg bob@example.test
is "$(msg_count)" 1 "wrong host name: nothing delivered"
like "$(cat "$T/oauthmail.log")" "token endpoint: .*(certificate|host ?name)" \
    "wrong host name: the log names the certificate problem"
is "$(oauth_stat counts.refresh_ok)" 0 "wrong host name: no refresh reached the server"
is "$(token_record "$ACCOUNT" refresh_token)" "$SEED_REFRESH" \
    "wrong host name: the refresh token is kept"
is "$(ls "$XDG_STATE_HOME/oauthmail/queue/q" 2>/dev/null | grep -c '\.env$')" 1 \
    "wrong host name: the message waits in the queue"
done_testing
