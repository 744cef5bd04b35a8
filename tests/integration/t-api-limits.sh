# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# The HTTPS APIs' limits (fake Gmail API, api_server.py): Gmail's daily
# sending limit (429 "... (Mail sending)", reason dailyLimitExceeded)
# defers the mail for an hour at least, or until the time Google names,
# bounces nothing, and mailq and status say why and until when; plain
# throttling (429, userRateLimitExceeded) keeps the short backoff or the
# Retry-After asked for; and a throttled or limited reply stops the
# account's run: the rest waits as long, without a request each.
. "$top_srcdir/tests/integration/lib.sh"
need_oauthmail

start_oauth --scope "https://mail.google.com/" || bail "OAuth server did not start"
start_smtpd || bail "SMTP server did not start"
start_kernel_keyring || skip_all "no kernel keyring"
start_api gmail || bail "fake Gmail API did not start"
ACCOUNT=$(unique_account)
write_config "$ACCOUNT" "provider google" \
    "token_endpoint $OAUTH_URL/token" "auth_endpoint $OAUTH_AUTH_URL" \
    "transport gmail-api" "gmail_endpoint $API_URL"
seed_token "$ACCOUNT" alice@example.test "scope=https://mail.google.com/" || bail "seed"
Q=$XDG_STATE_HOME/oauthmail/queue
qcount() { ls "$Q/$1" 2>/dev/null | grep -c '\.env$'; }
reqs() { api_stat requests; }
# Every "next try in" of mailq, one a line.
nexts() { "$OAUTHMAIL" -bp 2>&1 | sed -n 's/.*next try in \([0-9dhms]*\).*/\1/p'; }
clear_queue() { rm -f "$Q"/q/* "$Q"/hold/* "$Q"/failed/*; }
queue3() {
	for i in 1 2 3; do
		printf 'Subject: m%s\nTo: bob@example.test\n\nx\n' "$i" |
		    "$OAUTHMAIL" -odq bob@example.test || return 1
	done
}

# 1. The daily limit (429, "Retry after" two hours on, "(Mail sending)"):
#    deferred until then, not on the short backoff; no bounce; mailq and
#    status say why and until when.
api_fault 429_gmail_daily 0
r0=$(reqs) n=$(api_msg_count)
send_msg bob@example.test
is "$RC" 0 "daily limit: exit 0 (the message is safe in the queue)"
is "$(reqs)" $((r0 + 1)) "daily limit: one request"
is "$(qcount q)" 1 "daily limit: deferred"
is "$(qcount failed)$(qcount hold)" "00" "daily limit: neither failed nor held"
is "$(msg_count)$(api_msg_count)" "0$n" "daily limit: no bounce"
"$OAUTHMAIL" -bp >"$T/out" 2>&1
like "$(cat "$T/out")" "Mail sending" "daily limit: mailq says why"
like "$(cat "$T/out")" "24-hour window" "daily limit: mailq explains the limit"
like "$(nexts)" "^(1h59m|2h00m)$" "daily limit: next try when Google said, two hours on: $(nexts)"
run_ok "daily limit: status exits 0" om status
like "$(cat "$T/out")" "waiting +1 message: Gmail daily sending limit reached" "daily limit: status says what waits"
like "$(cat "$T/out")" "until .*\(in (11[89]|120) min\)" "daily limit: status says until when"

# 2. ... and the run stops: with three more queued, a flush makes one
#    request; every message waits at least an hour.
queue3 || bail "queue"
r0=$(reqs)
"$OAUTHMAIL" flush >/dev/null 2>&1
is "$(reqs)" $((r0 + 1)) "daily limit: one request for the run of four"
is "$(qcount q)" 4 "daily limit: all four deferred"
is "$(nexts | grep -Ec '^(1h59m|2h00m)$')" 4 "daily limit: all four wait two hours"
is "$(api_msg_count)" "$n" "daily limit: nothing sent"

# 3. dailyLimitExceeded without a time: an hour; a longer Retry-After wins.
clear_queue
api_fault 403_gmail_daily 0
send_msg bob@example.test
is "$(qcount q)" 1 "dailyLimitExceeded: deferred"
like "$(nexts)" "^(59m|1h00m)$" "dailyLimitExceeded: an hour at least: $(nexts)"
"$OAUTHMAIL" -bp >"$T/out" 2>&1
like "$(cat "$T/out")" "Gmail's daily sending limit" "dailyLimitExceeded: mailq gives the reason in oauthmail's words"
api_fault 403_gmail_daily 0 10800
"$OAUTHMAIL" flush >/dev/null 2>&1
like "$(nexts)" "^(2h59m|3h00m)$" "dailyLimitExceeded: a Retry-After of 3 h is honoured: $(nexts)"

# 4. Per-minute throttling stays a short wait: 429 userRateLimitExceeded
#    without Retry-After takes the usual backoff.
clear_queue
api_fault 429_gmail_user 0
send_msg bob@example.test
is "$(qcount q)" 1 "userRateLimitExceeded: deferred"
like "$(nexts)" "^([0-9]+s|1m)$" "userRateLimitExceeded: the short backoff: $(nexts)"
"$OAUTHMAIL" -bp >"$T/out" 2>&1
like "$(cat "$T/out")" "max_rate" "userRateLimitExceeded: mailq says how to send fewer"

# 5. A throttled run stops for the account: three queued, 429 with
#    Retry-After 600 to the first request only: exactly one request, all
#    three deferred for the ten minutes asked, mailq says why; then the
#    next run sends all three.
clear_queue
api_fault none
queue3 || bail "queue"
api_fault 429 1 600
r0=$(reqs) n=$(api_msg_count)
"$OAUTHMAIL" flush >/dev/null 2>&1
is "$(reqs)" $((r0 + 1)) "429: exactly one request reached the API"
is "$(qcount q)" 3 "429: all three deferred"
is "$(api_msg_count)" "$n" "429: none sent"
is "$(nexts | grep -Ec '^(9m|10m)$')" 3 "429: all three wait the 10 minutes asked: $(nexts | tr '\n' ' ')"
"$OAUTHMAIL" -bp >"$T/out" 2>&1
is "$(grep -c 'HTTP 429' "$T/out")" 3 "429: mailq says why for each"
like "$(cat "$T/out")" "max_rate" "429: and what to do"
"$OAUTHMAIL" flush >/dev/null 2>&1
is "$(api_msg_count)" $((n + 3)) "429 over: the next run sends all three"
is "$(qcount q)" 0 "429 over: the queue is empty"
is "$(msg_count)" 0 "nothing went over SMTP"
done_testing
