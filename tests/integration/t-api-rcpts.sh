# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# Recipients per message over the HTTPS APIs: the Gmail API takes 100
# (To, Cc and Bcc together), Microsoft Graph 500. An account that sends
# only over an API refuses a message above that at submission (exit 65,
# the limit and the cure, nothing queued); one found above it at delivery
# (queued for SMTP, then the account moved to the API) fails as a whole
# with a DSN to its sender, and the API gets nothing.
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
rcpts() { i=1; while [ "$i" -le "$1" ]; do echo "r$i@example.test"; i=$((i + 1)); done; }
msg() { printf 'Subject: many\nTo: r1@example.test\n\nx\n'; }

# 1. gmail-api: 100 recipients go out in one request; 101 are refused.
msg >"$T/m"
rcpts 100 >"$T/r100"
rcpts 101 >"$T/r101"
run_ok "100 recipients: exit 0" sh -c '"$OAUTHMAIL" $(cat "$1") <"$2"' - "$T/r100" "$T/m"
is "$(api_msg_field recipients | wc -l)" 100 "100 recipients: the Gmail API delivers to all 100"
r0=$(api_stat requests) n=$(api_msg_count)
run_rc 65 "101 recipients: refused at submission (exit 65)" \
    sh -c '"$OAUTHMAIL" $(cat "$1") <"$2"' - "$T/r101" "$T/m"
like "$(cat "$T/err")" "101 recipients: the Gmail API takes at most 100 per message" "101 recipients: the error names the limit"
like "$(cat "$T/err")" "transport smtp" "101 recipients: and the cure"
is "$(qcount q)$(qcount hold)$(qcount failed)" "000" "101 recipients: nothing queued"
is "$(api_stat requests)" "$r0" "101 recipients: no request"

# 1b. -bs: RCPT beyond the 100th gets 452 4.5.3 (the client sends the
#     rest in another transaction); the first 100 go out.
{
	printf '< ^220\n> EHLO client.example.test\n< ^250\n'
	printf '> MAIL FROM:<alice@example.test>\n< ^250\n'
	for r in $(cat "$T/r100"); do printf '> RCPT TO:<%s>\n< ^250\n' "$r"; done
	printf '> RCPT TO:<r101@example.test>\n'
	printf '< ^452 4\\.5\\.3 Too many recipients: the Gmail API takes at most 100 per message$\n'
	printf '> DATA\n< ^354\n> To: r1@example.test\n> Subject: bs\n>\n> x\n> .\n'
	printf '< ^250 2\\.0\\.0\n> QUIT\n< ^221\nclose\nexit 0\n'
} >"$T/bs.bs"
"$PY" "$IT/bs_dialogue.py" "$T/bs.bs" "$T/bs.log" -- "$OAUTHMAIL" -bs >"$T/bs.out" 2>"$T/bs.err"
is "$?" 0 "-bs: 100 RCPTs taken, the 101st refused with 452 4.5.3"
[ -s "$T/bs.err" ] && diag "$(cat "$T/bs.out" "$T/bs.err")"
is "$(api_msg_field recipients | wc -l)" 100 "-bs: the message went to the 100"

# 2. -t: To and Cc together count (60 + 41).
{
	printf 'Subject: t\nTo: '; rcpts 60 | sed -n '1,60p' | paste -sd, -
	printf 'Cc: '; rcpts 101 | sed -n '61,101p' | paste -sd, -
	printf '\nx\n'
} >"$T/mt"
run_rc 65 "-t with 101 in To and Cc: refused" sh -c '"$OAUTHMAIL" -t <"$1"' - "$T/mt"
like "$(cat "$T/err")" "at most 100" "-t: the error names the limit"

# 3. Graph takes 500: 501 refused, with Graph's limit.
write_config "$ACCOUNT" "transport graph" "graph_endpoint $API_URL/v1.0" \
    "api_scope https://graph.microsoft.com/Mail.Send"
rcpts 501 >"$T/r501"
run_rc 65 "graph, 501 recipients: refused" \
    sh -c '"$OAUTHMAIL" $(cat "$1") <"$2"' - "$T/r501" "$T/m"
like "$(cat "$T/err")" "501 recipients: Microsoft Graph takes at most 500" "graph: the error names Graph's limit"

# 4. SMTP takes them; found at delivery over the API: failed with a DSN,
#    the API gets only the DSN (to the sender).
write_config "$ACCOUNT"
run_ok "SMTP account: 101 recipients queued" \
    sh -c '"$OAUTHMAIL" -odq $(cat "$1") <"$2"' - "$T/r101" "$T/m"
gmail_config
r0=$(api_stat requests) n=$(api_msg_count)
"$OAUTHMAIL" flush >/dev/null 2>&1
is "$(qcount failed)" 1 "at delivery: failed"
is "$(api_stat requests)" "$r0" "at delivery: no request for it"
"$OAUTHMAIL" flush >/dev/null 2>&1
is "$(qcount q)" 0 "at delivery: nothing left to retry (the DSN sent)"
is "$(api_msg_count)" $((n + 1)) "at delivery: only the DSN went out"
is "$(api_msg_field recipients)" "alice@example.test" "at delivery: the DSN to the sender"
file_contains "$(api_msg_file)" "5\.5\.3" "at delivery: the DSN gives 5.5.3"
file_contains "$(api_msg_file)" "at most 100" "at delivery: and the limit"
is "$(msg_count)" 0 "nothing went over SMTP"
done_testing
