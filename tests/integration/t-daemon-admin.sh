# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# The daemon warns days before a sign-in will be needed: a log line, and a
# message to the account's admin address when one is configured.
. "$top_srcdir/tests/integration/lib.sh"

start_oauth || bail "OAuth server"
start_smtpd || bail "SMTP server"
start_kernel_keyring || skip_all "no kernel keyring"
# A Google account (7-day refresh tokens for apps in testing) pointed at the
# test servers; signed in 5 days ago.
write_config "" "provider google" "tls_starttls on" "auth xoauth2" \
    "token_endpoint $OAUTH_URL/token" "admin ops@example.test" "timeout 10"
seed_token "$ACCOUNT" || bail "seed"
five=$(( $(date +%s) - 5 * 86400 ))
rec=$(token_record "$ACCOUNT" | $PY -c 'import json, sys; r = json.load(sys.stdin); r["refresh_issued"] = int(sys.argv[1]); print(json.dumps(r))' "$five")
keyring_put "$ACCOUNT" token "$rec"

"$OAUTHMAIL" -q1h >"$T/daemon.out" 2>&1 &
DPID=$!
at_exit "kill $DPID 2>/dev/null || :"
_warned() { [ "$(msg_count)" -ge 1 ]; }
wait_for 15 _warned
ok $? "a warning message was sent"
is "$(msg_field rcpt_tos)" "ops@example.test" "to the admin address"
is "$(msg_field mail_from)" "alice@example.test" "through the account"
like "$(msg_header Subject)" "needs a sign-in soon" "with a subject that says why"
like "$(msg_body)" "oauthmail login $ACCOUNT" "naming the command to run"
is "$(msg_header Auto-Submitted)" "auto-generated" "marked Auto-Submitted"
log_contains "sign-in expires" "the warning is logged too"
kill -TERM $DPID
wait $DPID
is "$?" 0 "the daemon exits 0 on SIGTERM"

# Without an admin address: only the log line.
write_config "$ACCOUNT" "provider google" "tls_starttls on" "auth xoauth2" \
    "token_endpoint $OAUTH_URL/token" "timeout 10"
n=$(msg_count)
"$OAUTHMAIL" -q1h >"$T/daemon2.out" 2>&1 &
DPID=$!
at_exit "kill $DPID 2>/dev/null || :"
sleep 2
kill -TERM $DPID
wait $DPID
is "$(msg_count)" "$n" "no admin address, no message"
done_testing
