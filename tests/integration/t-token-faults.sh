#!/bin/sh
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# t-token-faults.sh -- token endpoint failures on the send path.
# Transient (down, 500, slow, temporarily_unavailable): the message is
# queued (exit 0), the keyring record is byte-for-byte unchanged, mailq
# says why, and -q delivers once the endpoint works. invalid_grant: the
# message is held, the record gets needs_login and keeps its refresh token,
# status and `oauthmail token` name `oauthmail login ACCOUNT`; after a new
# sign-in -q delivers. invalid_client / invalid_scope: the log line says
# what to fix and nothing is deleted.
. "$top_srcdir/tests/integration/lib.sh"
need_oauthmail
start_oauth || bail "OAuth server did not start"
start_smtpd || bail "SMTP server did not start"
start_kernel_keyring || start_keyring || skip_all "no keyring available"
write_config "" "timeout 3" "refresh_margin 0"
at_exit "keyring_del $ACCOUNT token"
Q=$XDG_STATE_HOME/oauthmail/queue
nq() { ls "$Q/$1" 2>/dev/null | grep -c '\.env$'; }

# expired_seed: a token pair whose access token has just expired.
expired_seed() {
	seed_token "$ACCOUNT" "" "expires_in=-1" || bail "seed"
}

for f in down 500 slow temporarily_unavailable; do
	expired_seed
	before=$(token_record "$ACCOUNT")
	# slow: the endpoint answers after 30 s, long after the client's 3 s
	# timeout and after the -q below, so that late answer cannot rotate the
	# refresh token before -q uses it (with 8 s it could, on a busy machine).
	if [ "$f" = slow ]; then oauth_fault slow 0 30; else oauth_fault "$f"; fi
	n=$(msg_count)
	t0=$(date +%s)
	send_msg bob@example.test
	t1=$(date +%s)
	is "$RC" 0 "$f: the message is accepted (exit 0)"
	is "$(msg_count)" "$n" "$f: nothing delivered"
	is "$(nq q)" 1 "$f: the message is queued"
	is "$(token_record "$ACCOUNT")" "$before" "$f: the keyring record is unchanged"
	[ "$f" = slow ] && { if [ $((t1 - t0)) -le 7 ]; then pass "slow: gave up after the timeout ($((t1 - t0)) s)"; else fail "slow: gave up after the timeout" "took $((t1 - t0)) s"; fi; }
	run_ok "$f: mailq" "$OAUTHMAIL" -bp
	case $f in
	down) why='token endpoint|connection|reply' ;;
	500) why='HTTP 500' ;;
	slow) why='[Tt]imeout|timed out' ;;
	temporarily_unavailable) why='temporarily_unavailable' ;;
	esac
	like "$(cat "$T/out")" "$why" "$f: mailq says why"
	diag "$f: $(grep -E "$why" "$T/out" | head -n 1)"
	oauth_fault none
	run_ok "$f: -q after the fault clears" "$OAUTHMAIL" -q
	is "$(msg_count)" "$((n + 1))" "$f: delivered by -q"
	is "$(nq q)" 0 "$f: queue empty"
	isnt "$(token_record "$ACCOUNT" refresh_token)" "$SEED_REFRESH" "$f: refreshed and rotated on the retry"
done

# invalid_grant: held, needs_login, refresh token kept.
expired_seed
old_rt=$SEED_REFRESH
oauth_fault invalid_grant
n=$(msg_count)
send_msg bob@example.test
is "$RC" 0 "invalid_grant: the message is accepted (exit 0)"
is "$(msg_count)" "$n" "invalid_grant: nothing delivered"
is "$(nq hold)" 1 "invalid_grant: the message is held"
is "$(nq q)" 0 "invalid_grant: not in the active queue"
is "$(token_record "$ACCOUNT" needs_login)" true "invalid_grant: needs_login is set"
is "$(token_record "$ACCOUNT" refresh_token)" "$old_rt" "invalid_grant: the refresh token is kept"
log_contains "oauthmail login $ACCOUNT" "invalid_grant: the log names the command"
run_rc 77 "status exits 77: mail cannot go out" om status "$ACCOUNT"
like "$(cat "$T/out")" "sign-in needed: run 'oauthmail login $ACCOUNT'" "status says sign-in needed, with the command"
like "$(cat "$T/out")" "held +1" "status counts the held message"
r0=$(oauth_stat counts.token_requests)
run_rc 77 "token exits 77 when sign-in is needed" om token "$ACCOUNT"
like "$(cat "$T/err")" "oauthmail login $ACCOUNT" "token names 'oauthmail login ACCOUNT'"
is "$(cat "$T/out")" "" "token prints no token"
is "$(oauth_stat counts.token_requests)" "$r0" "needs_login: no new token request"
# A second send while sign-in is needed: held without asking the server.
send_msg bob@example.test
is "$RC" 0 "needs_login: a second send is accepted"
is "$(nq hold)" 2 "needs_login: held too"
is "$(oauth_stat counts.token_requests)" "$r0" "needs_login: the server was not asked again"
# Sign in again (simulated: a fresh record), then -q releases the held mail.
oauth_fault none
seed_token "$ACCOUNT" || bail "seed"
run_ok "-q after sign-in" "$OAUTHMAIL" -q
is "$(msg_count)" "$((n + 2))" "the held messages are delivered"
is "$(nq hold)" 0 "hold is empty"
run_ok "status after sign-in" om status "$ACCOUNT"
like "$(cat "$T/out")" "signed in" "status says signed in"

# Configuration errors: queued (nothing lost), the log says what to fix,
# the record is untouched.
for f in invalid_client invalid_scope; do
	expired_seed
	before=$(token_record "$ACCOUNT")
	oauth_fault "$f"
	: >"$T/oauthmail.log"
	send_msg bob@example.test
	is "$RC" 0 "$f: accepted (exit 0), not lost"
	is "$(token_record "$ACCOUNT")" "$before" "$f: the keyring record is unchanged"
	case $f in
	invalid_client) fix="oauthmail secret $ACCOUNT|client_id|Allow public client flows" ;;
	invalid_scope) fix="fix 'scope' for account $ACCOUNT" ;;
	esac
	log_contains "$fix" "$f: the log line says what to fix"
	run_rc 78 "$f: 'oauthmail token' exits 78 (EX_CONFIG)" om token "$ACCOUNT"
	like "$(cat "$T/err")" "$fix" "$f: and says what to fix"
	oauth_fault none
	run_ok "$f: -q after the fix" "$OAUTHMAIL" -q
	is "$(nq q)" 0 "$f: delivered after the fix"
done
done_testing
