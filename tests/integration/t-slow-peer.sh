#!/bin/sh
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# t-slow-peer.sh -- a token endpoint or an SMTP server that takes more
# than 2 s to answer gets one line "waiting for HOST..." on a terminal
# (a pty from script(1)) and at -v; with stderr to a file and no -v,
# nothing; a prompt peer, nothing. The mail goes through either way.
. "$top_srcdir/tests/integration/lib.sh"
need_oauthmail
command -v script >/dev/null || skip_all "script (util-linux) missing"
start_kernel_keyring || start_keyring || skip_all "no keyring available"
start_oauth || bail "oauth server did not start"
start_smtpd --slow-seconds 4 || bail "smtpd did not start"
write_config
at_exit "keyring_del $ACCOUNT token"
test_message >"$T/msg"

# Runs oauthmail ARGS on a pty, stdin from $T/msg; output in $T/tty.
om_tty() {
	script -qfec "'$OAUTHMAIL' -C '$CONFIG' $* <'$T/msg'" /dev/null \
	    >"$T/tty" 2>&1 </dev/null
	RC=$?
}

# --- the token endpoint --------------------------------------------------------
seed_token "$ACCOUNT" alice@example.test "expires_in=-1"
oauth_fault slow 1 4
om_tty token "$ACCOUNT"
is "$RC" 0 "a slow refresh on a terminal succeeds"
like "$(cat "$T/tty")" "waiting for 127\.0\.0\.1:$OAUTH_PORT\.\.\." \
    "and says what it waits for"
is "$(grep -c 'waiting for' "$T/tty")" 1 "once"

seed_token "$ACCOUNT" alice@example.test "expires_in=-1"
oauth_fault slow 1 4
run_ok "a slow refresh with stderr to a file succeeds" om token "$ACCOUNT"
unlike "$(cat "$T/err")" "waiting for" "and prints nothing extra"

seed_token "$ACCOUNT" alice@example.test "expires_in=-1"
oauth_fault slow 1 4
run_ok "a slow refresh at -v succeeds" om token "$ACCOUNT" -v
like "$(cat "$T/err")" "waiting for 127\.0\.0\.1:$OAUTH_PORT\.\.\." "and -v says what it waits for"

seed_token "$ACCOUNT" alice@example.test "expires_in=-1"
om_tty token "$ACCOUNT"
is "$RC" 0 "a prompt refresh on a terminal succeeds"
unlike "$(cat "$T/tty")" "waiting for" "with no note"

# --- the SMTP server -------------------------------------------------------------
seed_token "$ACCOUNT"
smtpd_faults slow_greeting
om_tty bob@example.test
is "$RC" 0 "a send to a slow server on a terminal exits 0"
like "$(cat "$T/tty")" "waiting for 127\.0\.0\.1\.\.\." "and says what it waits for"
wait_msgs 1
is "$(msg_count)" 1 "the message arrived"

send_msg bob@example.test
is "$RC" 0 "a send to a slow server with stderr to a file exits 0"
unlike "$(cat "$T/err")" "waiting for" "and prints nothing extra"

smtpd_faults
om_tty bob@example.test
is "$RC" 0 "a send to a prompt server on a terminal exits 0"
unlike "$(cat "$T/tty")" "waiting for" "with no note"
wait_msgs 3
is "$(msg_count)" 3 "every message arrived"

done_testing
