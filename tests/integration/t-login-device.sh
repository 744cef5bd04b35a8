#!/bin/sh
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# t-login-device.sh -- `oauthmail login ACCOUNT --device` (RFC 8628) against
# the test OAuth server: the code is approved through the server's control
# endpoint, the token record lands in the keyring and the token works for a
# send; a denied code exits 77 with nothing stored.
. "$top_srcdir/tests/integration/lib.sh"
need_oauthmail
start_kernel_keyring || start_keyring || skip_all "no keyring available"
start_oauth --device-interval 1 || bail "oauth server did not start"
start_smtpd || bail "smtpd did not start"
write_config "" "device_endpoint $OAUTH_DEVICE_URL" "flow device"
at_exit "keyring_del $ACCOUNT token"

# Runs `login` in the background; its stderr goes to $T/login.err. A
# non-interactive shell starts background jobs with SIGINT ignored (and
# oauthmail keeps an ignored SIGINT ignored, as under nohup), so SIGINT
# is reset to its default before exec for the Ctrl-C test.
login_bg() {
	$PY -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execv(sys.argv[1], sys.argv[1:])' "$OAUTHMAIL" login -C "$CONFIG" \
	    "$ACCOUNT" "$@" >"$T/login.out" 2>"$T/login.err" </dev/null &
	LOGIN_PID=$!
}

# Waits for the program to show the user code; sets USER_CODE.
wait_user_code() {
	wait_for 20 grep -Eq '[0-9]{4}-[0-9]{4}' "$T/login.err" || return 1
	USER_CODE=$(grep -Eo '[0-9]{4}-[0-9]{4}' "$T/login.err" | head -n 1)
}

# Waits for the background login to end; sets RC (lib.sh wait_bg).
wait_login() {
	wait_bg "$LOGIN_PID" "${1:-30}"
}

# --- approved --------------------------------------------------------------
login_bg --device
if wait_user_code; then
	pass "the user code is shown on stderr"
else
	fail "the user code is shown on stderr" "$(cat "$T/login.err")"
fi
like "$(cat "$T/login.err")" "/device" "the verification URI (or the server's message) is shown"
_polled() { [ "$(oauth_stat 'counts.device_poll:authorization_pending')" != 0 ]; }
wait_for 10 _polled
isnt "$(oauth_stat 'counts.device_poll:authorization_pending')" "0" \
    "the program polls while the code is pending"
oauth_ctl POST "/_control/device/approve?user_code=$USER_CODE" >/dev/null
wait_login 20
is "$RC" 0 "login exits 0 once the code is approved"
like "$(cat "$T/login.err")" "signed in as .*token stored in" \
    "one line says who signed in and where the token went"
rec=$(token_record "$ACCOUNT")
if [ -n "$rec" ]; then pass "a token record is in the keyring"; else
	fail "a token record is in the keyring"; fi
is "$(token_record "$ACCOUNT" needs_login)" false "needs_login is false"
at=$(token_record "$ACCOUNT" access_token)
rt=$(token_record "$ACCOUNT" refresh_token)
isnt "$rt" "" "the refresh token is stored"
unlike "$(cat "$T/login.err" "$T/login.out")" "${at:-NO-TOKEN}|${rt:-NO-TOKEN}" \
    "no token appears in the output"
is "$(oauth_stat 'counts.device_poll:slow_down')" 0 "the interval was honoured (no slow_down)"
smtp_client --mech XOAUTH2 --user alice@example.test --token "$at" \
    --to bob@example.test >"$T/client.out" 2>&1
ok $? "the stored access token authenticates at the SMTP server"
send_msg bob@example.test
is "$RC" 0 "a send with the stored token works"

# --- denied ------------------------------------------------------------------
keyring_del "$ACCOUNT" token
login_bg --device
wait_user_code || fail "the user code is shown on stderr (2)"
oauth_ctl POST "/_control/device/deny?user_code=$USER_CODE" >/dev/null
wait_login 20
is "$RC" 77 "a declined sign-in exits 77"
like "$(cat "$T/login.err")" "declined" "and says the sign-in was declined"
if keyring_get "$ACCOUNT" token >/dev/null; then
	fail "nothing is stored after a declined sign-in"
else
	pass "nothing is stored after a declined sign-in"
fi

# --- Ctrl-C ------------------------------------------------------------------
login_bg --device
wait_user_code || fail "the user code is shown on stderr (3)"
kill -INT "$LOGIN_PID"
wait_login 10
isnt "$RC" 0 "Ctrl-C while waiting stops the sign-in"
like "$(cat "$T/login.err")" "interrupted" "and says so"
if keyring_get "$ACCOUNT" token >/dev/null; then
	fail "nothing is stored after Ctrl-C"
else
	pass "nothing is stored after Ctrl-C"
fi

done_testing
