# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# Every server fault ends in the right state and exit status: temporary
# failures are queued (exit 0) and sent by a later run; permanent refusals
# exit non-zero with the server's reason; refused authentication holds the
# mail until a token works. Nothing is lost, nothing hangs.
. "$top_srcdir/tests/integration/lib.sh"

start_oauth || bail "OAuth server"
start_smtpd || bail "SMTP server"
start_kernel_keyring || skip_all "no kernel keyring"
write_config "" "timeout 5"
seed_token "$ACCOUNT" || bail "seed"
Q=$XDG_STATE_HOME/oauthmail/queue
nq() { ls "$Q/$1" 2>/dev/null | grep -c '\.env$'; }
sendrc() { # sendrc WANT DESC RCPT...
	_want=$1 _desc=$2; shift 2
	run_rc "$_want" "$_desc" sh -c 'printf "Subject: t\n\nbody\n" | "$OAUTHMAIL" "$@"' - "$@"
}

# Per-recipient results: one accepted, one 451, one 550.
sendrc 0 "mixed recipient results exit 0" ok@example.test tempfail@example.test reject@example.test
is "$(msg_field rcpt_tos)" "ok@example.test" "the accepted recipient got it"
is "$(nq q)" 1 "the deferred recipient stays queued"
run_ok "mailq" "$OAUTHMAIL" -bp
like "$(cat "$T/out")" "tempfail@example.test" "mailq lists the deferred recipient"
like "$(cat "$T/out")" "451" "mailq shows why it waits"

# Every recipient refused: 550 5.1.1 -> 67, with the reason.
sendrc 67 "all recipients refused" reject@example.test
like "$(cat "$T/err")" "550 5\.1\.1" "stderr carries the server's reply"
is "$(nq failed)" 1 "a copy is kept in failed/"

# Partly refused: the caller gets 0 (others got it) and the sender a DSN.
n=$(msg_count)
sendrc 0 "one of two recipients refused: exit 0" good@example.test reject-2@example.test
wait_msgs $((n + 2)) 10
is "$(msg_count)" "$((n + 2))" "the message and a bounce were sent"
is "$(msg_field rcpt_tos)" "alice@example.test" "the bounce goes to the sender"
is "$(msg_field mail_from)" "" "the bounce has the null sender"
like "$(msg_header Content-Type)" "multipart/report; .*report-type=\"?delivery-status" "the bounce is an RFC 3464 report"
file_contains "$(msg_file)" "Final-Recipient: rfc822; ?reject-2@example.test" "the bounce names the refused recipient"

# 421 at the greeting: queued, exit 0; a later -q sends it exactly once.
smtpd_faults greet421
n=$(msg_count)
sendrc 0 "421 greeting: queued" later@example.test
is "$(msg_count)" "$n" "nothing delivered yet"
smtpd_faults
run_ok "-q delivers the queue" "$OAUTHMAIL" -q
is "$(msg_count)" "$((n + 1))" "the deferred message went out"
run_ok "-q again" "$OAUTHMAIL" -q
like "$(msg_field rcpt_tos 1 | tr '\n' ' ')" "ok@" "first message intact"
later=$(grep -l "later@example.test" "$SMTP_MAILDIR"/new/*.json | wc -l)
is "$later" 1 "the queued message was delivered exactly once"

# Connection dropped in the middle of DATA: queued, not lost.
smtpd_faults disconnect_data
n=$(msg_count)
sendrc 0 "disconnect mid-DATA: queued" drop@example.test
smtpd_faults
run_ok "flush after the fault" "$OAUTHMAIL" -q
is "$(grep -l drop@example.test "$SMTP_MAILDIR"/new/*.json | wc -l)" 1 "delivered once after the retry"

# STARTTLS not offered: never sends the token in clear text; queued.
smtpd_faults nostarttls
sendrc 0 "no STARTTLS: queued" nostarttls@example.test
like "$(cat "$T/oauthmail.log")" "STARTTLS" "the log says STARTTLS is missing"
is "$(smtp_stat auth_attempts)" "$(smtp_stat auth_attempts)" "auth counter readable"
smtpd_faults

# Permanent refusals of the whole message.
smtpd_faults mail552
sendrc 69 "552 at MAIL: exit 69" big@example.test
like "$(cat "$T/err")" "552" "reason given"
smtpd_faults sendas_denied
sendrc 69 "SendAsDenied after DATA: exit 69" sendas@example.test
like "$(cat "$T/err")" "SendAsDenied" "Microsoft's reason given"
smtpd_faults data451
sendrc 0 "451 after the final dot: queued" d451@example.test
smtpd_faults long_reply
sendrc 0 "10,000-line reply: queued, no crash" long@example.test
smtpd_faults hang_mail
run_rc 0 "server hangs after MAIL: timeout, queued" sh -c 'printf "Subject: t\n\nx\n" | timeout 60 "$OAUTHMAIL" hang@example.test'
smtpd_faults

# Authentication refused (Gmail style challenge): held, exit 0, released
# by a later run once the server takes the token again.
smtpd_faults auth_reject
sendrc 0 "AUTH refused: held" held@example.test
is "$(nq hold)" 1 "the message is held"
run_ok "mailq" "$OAUTHMAIL" -bp
like "$(cat "$T/out")" "held@example.test" "mailq shows the held message"
smtpd_faults
run_ok "-q releases held mail" "$OAUTHMAIL" -q
is "$(nq hold)" 0 "hold/ is empty"
is "$(grep -l held@example.test "$SMTP_MAILDIR"/new/*.json | wc -l)" 1 "held message delivered"
is "$(nq q)" 1 "only the always-deferred recipient is left"

# Microsoft style (535 at once), SIZE refusal before any data.
stop_smtpd
start_smtpd -n ms --auth-fail-style microsoft --size 2000 || bail "second server"
write_config "$ACCOUNT" "timeout 5"
smtpd_faults auth_reject
sendrc 0 "535 5.7.3: held" ms@example.test
like "$(cat "$T/oauthmail.log")" "535 5\.7\.3" "Microsoft's reply logged"
smtpd_faults
head -c 5000 /dev/zero | tr '\0' 'x' | fold -w 70 >"$T/big"
n=$(msg_count)
run_rc 65 "message over the SIZE the server advertised refused at submission" sh -c '{ printf "Subject: big\n\n"; cat "$1"; } | "$OAUTHMAIL" bigger@example.test' - "$T/big"
like "$(cat "$T/err")" "limit of 2000 bytes" "the error names the server's limit"
# A server not seen yet: the SIZE check refuses it before MAIL.
rm -f "$Q/size-limits"
run_rc 69 "message over SIZE refused before MAIL" sh -c '{ printf "Subject: big\n\n"; cat "$1"; } | "$OAUTHMAIL" bigger@example.test' - "$T/big"
like "$(cat "$T/err")" "2000" "the error names the server's limit"
is "$(msg_count)" "$n" "neither was sent"
done_testing
