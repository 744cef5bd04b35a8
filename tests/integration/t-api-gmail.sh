# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# transport gmail-api: the message goes to the Gmail API's media upload
# (fake Gmail, api_server.py) as the raw bytes queued; a token that holds
# https://mail.google.com/ (the SMTP one) is used as it is; envelope-only
# recipients ride as Bcc; the API's errors end in the right queue state.
. "$top_srcdir/tests/integration/lib.sh"
need_oauthmail

start_oauth --scope "https://mail.google.com/" || bail "OAuth server did not start"
start_smtpd || bail "SMTP server did not start"
start_kernel_keyring || skip_all "no kernel keyring"
start_api gmail || bail "fake Gmail API did not start"
ACCOUNT=$(unique_account)
gmail_config() {
	write_config "$ACCOUNT" "provider google" \
	    "token_endpoint $OAUTH_URL/token" "auth_endpoint $OAUTH_AUTH_URL" \
	    "transport gmail-api" "gmail_endpoint $API_URL" "$@"
}
gmail_config
seed_token "$ACCOUNT" alice@example.test "scope=https://mail.google.com/" || bail "seed"
Q=$XDG_STATE_HOME/oauthmail/queue
qcount() { ls "$Q/$1" 2>/dev/null | grep -c '\.env$'; }

# 1. A plain send: 200 with an id; the bytes as queued, message/rfc822;
#    the SMTP token (https://mail.google.com/) is used, no new token.
printf 'Subject: gmail one\nTo: Bob <bob@example.test>\n\nline one\n' >"$T/m1"
run_ok "send over the Gmail API exits 0" sh -c '"$OAUTHMAIL" bob@example.test <"$1"' - "$T/m1"
is "$(api_msg_count)" 1 "the Gmail API took one message"
is "$(msg_count)" 0 "nothing went over SMTP"
is "$(api_msg_field content_type)" "message/rfc822" "Content-Type message/rfc822 (media upload)"
is "$(api_msg_field token_scope)" "https://mail.google.com/" "with the SMTP token"
is "$(oauth_stat counts.grant:refresh_token)" 0 "no second token was fetched"
is "$(api_msg_field recipients)" "bob@example.test" "delivered to the To recipient"
file_contains "$(api_msg_file)" '^Subject: gmail one$' "the message as queued"
file_lacks "$(api_msg_file)" "$(printf '\r')" "LF line endings, as queued"
log_contains "to=<bob@example.test> .*request-id=$(api_msg_field request_id) .*transport=gmail-api status=sent" "the log line names the transport and the request id"

# 2. Envelope wins: Bcc for envelope-only recipients; a header-only one holds.
run_ok "envelope recipient not in the header" sh -c 'printf "Subject: bcc\nTo: bob@example.test\n\nx\n" | "$OAUTHMAIL" bob@example.test carol@example.test'
is "$(api_msg_field bcc)" "carol@example.test" "the envelope-only recipient as Bcc"
n=$(api_msg_count)
run_ok "header-only recipient" sh -c 'printf "Subject: leak\nTo: bob@example.test\nCc: eve@example.test\n\nx\n" | "$OAUTHMAIL" bob@example.test'
is "$(api_msg_count)" "$n" "the Gmail API got nothing"
is "$(qcount hold)" 1 "held"
rm -f "$Q"/hold/*

# 3. Errors.
api_fault 401 1
r0=$(oauth_stat counts.grant:refresh_token)
run_ok "401 then 200" send_msg bob@example.test
is "$(oauth_stat counts.grant:refresh_token)" $((r0 + 1)) "refreshed once after the 401"
is "$(api_stat by_status.401)" 1 "one 401"
for f in 403_gmail_perm 400_gmail_precondition; do
	api_fault $f 1
	send_msg bob@example.test
	is "$(qcount hold)" 1 "$f: held"
	"$OAUTHMAIL" -bp >"$T/out" 2>&1
	like "$(cat "$T/out")" "gmail.send|enable Gmail" "$f: mailq gives the fix"
	rm -f "$Q"/hold/*
done
api_fault 403_gmail_rate 1
send_msg bob@example.test
is "$(qcount q)" 1 "userRateLimitExceeded: deferred"
api_fault 429 1 3600
"$OAUTHMAIL" flush >/dev/null 2>&1
"$OAUTHMAIL" -bp >"$T/out" 2>&1
like "$(cat "$T/out")" "next try in (59m|1h)" "429: deferred for Retry-After"
api_fault 200 1
"$OAUTHMAIL" flush >/dev/null 2>&1
is "$(qcount q)" 1 "200 without a message id: not counted as sent"
"$OAUTHMAIL" flush >/dev/null 2>&1
is "$(qcount q)" 0 "then sent"
api_fault 413 1
send_msg bob@example.test
is "$RC" 69 "413: the caller learns it (exit 69)"
is "$(qcount failed)" 1 "413: failed"

# 4. Size: 35 MiB is the Gmail API's limit; refused at submission above.
head -c 37000000 /dev/zero | tr '\0' 'a' | fold -w 76 >"$T/big"
run_rc 65 "a 37 MB message is refused at submission" sh -c '{ printf "Subject: big\n\n"; cat "$1"; } | "$OAUTHMAIL" bob@example.test' - "$T/big"
like "$(cat "$T/err")" "limit of 36700160 bytes; the Gmail API takes at most 35 MiB" "the error names the limit"
rm -f "$T/big"

# 5. The endpoint must be https (loopback http excepted).
write_config "$ACCOUNT" "provider google" "token_endpoint $OAUTH_URL/token" \
    "transport gmail-api" "gmail_endpoint http://gmail.example.com"
run_rc 78 "http endpoint refused" "$OAUTHMAIL" -bv bob@example.test
like "$(cat "$T/err")" "gmail_endpoint must be an https:// URL" "the error names the key"
is "$(msg_count)" 0 "nothing ever went over SMTP"
done_testing
