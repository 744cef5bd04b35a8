#!/bin/sh
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# t-provider-replies.sh -- replies exactly as Microsoft 365 and Gmail send
# them, and what oauthmail does about each: a refused token after which
# the server closes (refresh once, reconnect, retry once, then held);
# SMTP AUTH disabled by the tenant (held with the admin's fix, status says
# so and exits 77); SendAsDenied (the fix); throttling on a queue run of
# three (one connection, the rest deferred); an idle-timeout 421 between
# paced messages (one reconnect, all delivered); 530 5.7.57 after 235
# (held, not bounced); Gmail's and Microsoft's daily limits (deferred a
# day, nothing bounced, mailq says why and when); status exits 75 when
# the keyring cannot be reached.
. "$top_srcdir/tests/integration/lib.sh"
_pf_on && skip_all "needs the fake server (smtpd.py)"
need_oauthmail
start_oauth || bail "OAuth server did not start"
start_smtpd || bail "SMTP server did not start"
start_kernel_keyring || start_keyring || skip_all "no keyring available"
ACCOUNT=prov$$
at_exit "keyring_del $ACCOUNT token"

# scenario NAME [LINE...]: a fresh queue and config for one scenario.
scenario() {
	_name=$1; shift
	Q=$T/queue-$_name
	write_config "$ACCOUNT" "timeout 10" "queue_dir $Q" "$@"
	smtpd_faults
}
nq() { ls "$Q/$1" 2>/dev/null | grep -c '\.env$'; }
# script JSON-LIST: the fake server's scripted replies ("replies").
script() { smtpd_faults_json "{\"replies\": $1}"; }
queue3() {
	for _i in 1 2 3; do
		send_msg -odq "bob$_i@example.test" || return 1
	done
}
# mailq_next: mailq's "next try in ..." for the first queued entry.
mailq_next() { sed -n 's/.*next try in \([0-9dhm]*\).*/\1/p' "$T/out" | head -n 1; }

MS535='535 5.7.3 Authentication unsuccessful [BN9PR03CA0123.namprd03.prod.outlook.com]'
MS139='535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. [SN4PR0501CA0054.namprd05.prod.outlook.com]'
MS432='432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded [Hostname=BY5PR11MB4311.namprd11.prod.outlook.com]'
G421='421 4.7.0 Try again later, closing connection. (EHLO) d9443c01a7336-21f4a2b3c4dsm123456pla.0 - gsmtp'
MS442='421 4.4.2 BN8NAM12FT067.mail.protection.outlook.com Connection dropped due to timeout'
MS557='530 5.7.57 Client not authenticated to send mail. [DM6PR02CA0048.namprd02.prod.outlook.com]'
G545='550-5.4.5 Daily user sending limit exceeded. For more information on Gmail\r\n550-5.4.5 sending limits go to\r\n550 5.4.5  https://support.google.com/a/answer/166852 d9443c01a7336-21f4 - gsmtp'
MS233="550 5.7.233 Your message can't be sent because your organization has exceeded its limit for sending email to external recipients (tenant external recipient rate limit)."

# 1. 535 5.7.3 and the connection closed: refresh, reconnect, retry once.
scenario auth535
seed_token "$ACCOUNT" || bail "seed"
script "[{\"at\": \"auth\", \"reply\": \"$MS535\", \"close\": true, \"times\": 1}]"
c0=$(smtp_stat connections) r0=$(oauth_stat counts.refresh_ok) n=$(msg_count)
send_msg bob@example.test
is "$RC" 0 "535 then close: exit 0"
is "$(msg_count)" "$((n + 1))" "535 then close: delivered with the refreshed token"
is "$(oauth_stat counts.refresh_ok)" "$((r0 + 1))" "535 then close: exactly one refresh"
is "$(smtp_stat connections)" "$((c0 + 2))" "535 then close: one new connection for the retry"
is "$(nq q)$(nq hold)" "00" "535 then close: nothing left in the queue"
# ... and refused again after the refresh: held, one retry only.
script "[{\"at\": \"auth\", \"reply\": \"$MS535\", \"close\": true}]"
seed_token "$ACCOUNT" || bail "seed"
a0=$(smtp_stat auth_attempts) n=$(msg_count)
send_msg bob@example.test
is "$RC" 0 "535 twice: exit 0"
is "$(nq hold)" 1 "535 twice: the message is held"
is "$(smtp_stat auth_attempts)" "$((a0 + 2))" "535 twice: AUTH tried twice, not more"
unlike "$(cat "$T/oauthmail.log")" "TLS read" "535 twice: no TLS read error"
# check does the same: refresh, reconnect, authenticated.
script "[{\"at\": \"auth\", \"reply\": \"$MS535\", \"close\": true, \"times\": 1}]"
seed_token "$ACCOUNT" || bail "seed"
c0=$(smtp_stat connections)
run_ok "check, 535 then close: exit 0" om check "$ACCOUNT"
like "$(cat "$T/out")" "authenticated" "check, 535 then close: authenticated after the refresh"
is "$(smtp_stat connections)" "$((c0 + 2))" "check, 535 then close: a new connection for the retry"

# 2. SMTP AUTH disabled for the tenant: held with the admin's fix.
scenario tenant
seed_token "$ACCOUNT" || bail "seed"
script "[{\"at\": \"auth\", \"reply\": \"$MS139\"}]"
a0=$(smtp_stat auth_attempts) r0=$(oauth_stat counts.refresh_ok)
send_msg bob@example.test
is "$RC" 0 "5.7.139: exit 0 (the message is safe)"
is "$(nq hold)" 1 "5.7.139: held"
is "$(smtp_stat auth_attempts)" "$((a0 + 1))" "5.7.139: no refresh and retry (it cannot help)"
is "$(oauth_stat counts.refresh_ok)" "$r0" "5.7.139: no token refresh"
log_contains "Set-CASMailbox -Identity alice@example.test -SmtpClientAuthenticationDisabled \\\$false" \
    "5.7.139: the log gives the admin's fix for the mailbox"
a0=$(smtp_stat auth_attempts)
run_rc 77 "5.7.139: check exits 77" om check "$ACCOUNT"
is "$(smtp_stat auth_attempts)" "$((a0 + 1))" "5.7.139: check does not retry"
like "$(cat "$T/err")" "Set-TransportConfig -SmtpClientAuthenticationDisabled" "5.7.139: check gives the fix"
run_ok "5.7.139: mailq" om -bp
like "$(cat "$T/out")" "Set-TransportConfig -SmtpClientAuthenticationDisabled" "5.7.139: mailq gives the tenant's fix"
unlike "$(cat "$T/out")" "waiting for sign-in" "5.7.139: mailq does not ask for a sign-in"
like "$(cat "$T/out")" "SMTP AUTH disabled by the tenant" "5.7.139: mailq says why it is held"
run_rc 77 "5.7.139: status exits 77" om status
like "$(cat "$T/out")" "SMTP AUTH disabled by the tenant" "5.7.139: status says SMTP AUTH is disabled"
like "$(cat "$T/out")" "Set-CASMailbox" "5.7.139: status gives the fix"
unlike "$(cat "$T/out")" "state +signed in" "5.7.139: status does not claim all is well"
smtpd_faults
n=$(msg_count)
run_ok "5.7.139 fixed: -q" om -q
is "$(msg_count)" "$((n + 1))" "5.7.139 fixed: the held message went out"
run_rc 0 "5.7.139 fixed: status exits 0" om status

# 3. SendAsDenied: the provider's words plus the fix.
scenario sendas
seed_token "$ACCOUNT" || bail "seed"
smtpd_faults sendas_denied
send_msg bob@example.test
is "$RC" 69 "SendAsDenied: exit 69"
like "$(cat "$T/err")" "SendAsDenied" "SendAsDenied: the provider's words"
like "$(cat "$T/err")" "Add-RecipientPermission .*-Trustee alice@example.test" "SendAsDenied: how to grant Send As"
like "$(cat "$T/err")" "'from' of account $ACCOUNT" "SendAsDenied: or send from the signed-in address"

# 4. Throttling on a run of three: one connection, one AUTH, all deferred.
for t in MS432 G421; do
	scenario "throttle-$t"
	seed_token "$ACCOUNT" || bail "seed"
	queue3 || bail "queue"
	eval "reply=\$$t"
	close=false; [ "$t" = G421 ] && close=true
	script "[{\"at\": \"mail\", \"reply\": \"$reply\", \"close\": $close}]"
	c0=$(smtp_stat connections) a0=$(smtp_stat auth_attempts) m0=$(smtp_stat mail)
	run_ok "$t: -q" om -q
	is "$(smtp_stat connections)" "$((c0 + 1))" "$t: one connection for the run"
	is "$(smtp_stat auth_attempts)" "$((a0 + 1))" "$t: one AUTH for the run"
	is "$(smtp_stat mail)" "$((m0 + 1))" "$t: the run stopped at the first throttling reply"
	is "$(nq q)" 3 "$t: all three deferred"
	is "$(nq failed)" 0 "$t: nothing failed"
	run_ok "$t: mailq" om -bp
	is "$(grep -c 'next try in' "$T/out")" 3 "$t: each waits with a backoff"
	like "$(cat "$T/out")" "retried with backoff" "$t: mailq explains the throttling"
done

# 5. An idle session closed between paced messages: reconnect once, go on.
scenario idle "max_rate 120"
seed_token "$ACCOUNT" || bail "seed"
queue3 || bail "queue"
script "[{\"at\": \"mail\", \"after\": 1, \"times\": 1, \"reply\": \"$MS442\", \"close\": true}]"
c0=$(smtp_stat connections) n=$(msg_count)
run_ok "421 4.4.2: -q" om -q
is "$(msg_count)" "$((n + 3))" "421 4.4.2: all three delivered"
is "$(smtp_stat connections)" "$((c0 + 2))" "421 4.4.2: exactly one reconnect"
is "$(nq q)" 0 "421 4.4.2: nothing deferred"
is "$(ls "$SMTP_MAILDIR"/new/*.json | xargs grep -l '"bob2@example.test"' | wc -l)" 1 "421 4.4.2: the interrupted message went out once"

# 6. 530 5.7.57 after a successful AUTH: held, not bounced.
scenario noauth557
seed_token "$ACCOUNT" || bail "seed"
script "[{\"at\": \"mail\", \"authed\": true, \"reply\": \"$MS557\"}]"
n=$(msg_count)
send_msg bob@example.test
is "$RC" 0 "5.7.57 after 235: exit 0"
is "$(nq hold)" 1 "5.7.57 after 235: held"
is "$(nq failed)" 0 "5.7.57 after 235: nothing failed"
is "$(msg_count)" "$n" "5.7.57 after 235: no bounce"
run_ok "5.7.57: mailq" om -bp
like "$(cat "$T/out")" "Add-MailboxPermission" "5.7.57: mailq gives the fix"

# 7. Daily sending limits: deferred for a day, nothing bounced.
scenario gmail545
seed_token "$ACCOUNT" || bail "seed"
script "[{\"at\": \"mail\", \"reply\": \"$G545\"}]"
n=$(msg_count)
send_msg -odi bob@example.test carol@example.test
is "$RC" 0 "5.4.5: exit 0"
is "$(nq q)" 1 "5.4.5: queued"
is "$(nq failed)" 0 "5.4.5: not failed"
is "$(msg_count)" "$n" "5.4.5: no bounce"
run_ok "5.4.5: mailq" om -bp
like "$(cat "$T/out")" "Daily user sending limit exceeded" "5.4.5: mailq says why"
like "$(mailq_next)" "^(23h[0-9]{2}m|1d00h)$" "5.4.5: mailq says when (a day later): $(mailq_next)"
like "$(cat "$T/out")" "24-hour window" "5.4.5: mailq explains the limit"
run_ok "5.4.5: status exits 0 (the mail goes out by itself)" om status
like "$(cat "$T/out")" "waiting +1 message: Gmail daily sending limit reached" "5.4.5: status says what waits"
like "$(cat "$T/out")" "until .*\(in (143[0-9]|1440) min\)" "5.4.5: status says until when"
# the run stops: a second message does not make another connection
send_msg -odq dave@example.test
c0=$(smtp_stat connections)
run_ok "5.4.5: -q" om -q
is "$(smtp_stat connections)" "$((c0 + 1))" "5.4.5: one connection for the run"
is "$(nq q)" 2 "5.4.5: both wait"

scenario ms233
seed_token "$ACCOUNT" || bail "seed"
script "[{\"at\": \"rcpt\", \"match\": \"@external\\\\.test\$\", \"reply\": \"$MS233\"}]"
n=$(msg_count)
send_msg -odi bob@example.test ext@external.test
is "$RC" 0 "5.7.233: exit 0"
is "$(msg_count)" "$((n + 1))" "5.7.233: the internal recipient got it, no bounce"
is "$(msg_field rcpt_tos)" "bob@example.test" "5.7.233: only the internal recipient"
is "$(nq q)" 1 "5.7.233: the external recipient waits"
is "$(nq failed)" 0 "5.7.233: not failed"
run_ok "5.7.233: mailq" om -bp
like "$(cat "$T/out")" "ext@external.test.*5\\.7\\.233" "5.7.233: mailq says why"
like "$(mailq_next)" "^(23h[0-9]{2}m|1d00h)$" "5.7.233: mailq says when: $(mailq_next)"
like "$(cat "$T/out")" "TERRL" "5.7.233: mailq explains the limit"

# 8. status: a keyring that cannot be reached exits 75 and says so.
write_config "kr$$" "keyring secret-service" "queue_dir $T/queue-kr"
run_rc 75 "status: an unreachable keyring exits 75" \
    env -u DBUS_SESSION_BUS_ADDRESS "$OAUTHMAIL" status -C "$CONFIG"
like "$(cat "$T/err")" "account kr$$ cannot send: the keyring cannot be reached" \
    "status: stderr names the account and why"
done_testing
