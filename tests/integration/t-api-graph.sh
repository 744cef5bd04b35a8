# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# transport graph: the message goes to Microsoft Graph's sendMail (fake
# Graph, api_server.py) as base64 MIME with a second access token from the
# same refresh token; envelope-only recipients ride as Bcc; a header
# recipient outside the envelope holds the message; every error class of
# the API ends in the queue state it must (held, deferred for Retry-After,
# failed with a DSN), and nothing goes over SMTP.
. "$top_srcdir/tests/integration/lib.sh"
need_oauthmail

start_oauth || bail "OAuth server did not start"
start_smtpd || bail "SMTP server did not start"
start_kernel_keyring || skip_all "no kernel keyring"
start_api graph || bail "fake Graph did not start"
GRAPH_SCOPE=https://graph.microsoft.com/Mail.Send
graph_config() {
	write_config "$ACCOUNT" "transport graph" \
	    "graph_endpoint $API_URL/v1.0" "api_scope $GRAPH_SCOPE" "$@"
}
ACCOUNT=$(unique_account)
graph_config
seed_token "$ACCOUNT" alice@example.test \
    "scope=https://outlook.office.com/SMTP.Send%20offline_access%20$GRAPH_SCOPE" ||
    bail "seed"
Q=$XDG_STATE_HOME/oauthmail/queue
qcount() { ls "$Q/$1" 2>/dev/null | grep -c '\.env$'; }

# 1. A plain send: 202, the message as queued in base64, to the account's
#    mailbox; a token of the Graph scope, not the SMTP one; nothing by SMTP.
printf 'Subject: graph one\nTo: Bob <bob@example.test>\n\nline one\n..dots\n' >"$T/m1"
run_ok "send over Graph exits 0" sh -c '"$OAUTHMAIL" -i bob@example.test <"$1"' - "$T/m1"
is "$(api_msg_count)" 1 "Graph took one message"
is "$(msg_count)" 0 "nothing went over SMTP"
is "$(api_msg_field path_user)" "alice@example.test" "POSTed to /users/alice%40example.test/sendMail"
is "$(api_msg_field content_type)" "text/plain" "Content-Type text/plain (MIME mode)"
is "$(api_msg_field token_scope)" "$GRAPH_SCOPE" "with an access token of the Graph scope"
is "$(api_msg_field recipients)" "bob@example.test" "delivered to the To recipient"
file_contains "$(api_msg_file)" '^Subject: graph one$' "the decoded message has its Subject"
file_contains "$(api_msg_file)" '^\.\.dots$' "and its body as queued"
file_contains "$(api_msg_file)" '^Message-ID: <' "and the Message-ID added at submission"
is "$(oauth_stat counts.grant:refresh_token)" 1 "one refresh fetched the Graph token"
like "$(keyring_get "$ACCOUNT" api_token | json_get scope)" "Mail.Send" "the Graph token is kept in its own record"
is "$(token_record "$ACCOUNT" access_token)" "$SEED_ACCESS" "the SMTP token record is untouched"
log_contains "to=<bob@example.test> .*request-id=$(api_msg_field request_id) .*transport=graph status=sent" "the log line names the transport and the request id"
run_ok "second send" sh -c 'printf "Subject: two\nTo: bob@example.test\n\nx\n" | "$OAUTHMAIL" bob@example.test'
is "$(oauth_stat counts.grant:refresh_token)" 1 "the Graph token is reused from the keyring"

# 2. Envelope wins: recipients missing from To/Cc become Bcc in the copy
#    sent; -t Bcc recipients too.
run_ok "envelope recipient not in the header" sh -c 'printf "Subject: bcc\nTo: bob@example.test\n\nx\n" | "$OAUTHMAIL" bob@example.test carol@example.test'
is "$(api_msg_field recipients | sort | tr '\n' ' ')" "bob@example.test carol@example.test " "Graph delivers to both"
is "$(api_msg_field bcc)" "carol@example.test" "the envelope-only one as Bcc"
run_ok "-t with Bcc" sh -c 'printf "Subject: t\nTo: bob@example.test\nBcc: dave@example.test\n\nx\n" | "$OAUTHMAIL" -t'
is "$(api_msg_field bcc)" "dave@example.test" "-t: the Bcc recipient is delivered as Bcc"
file_lacks "$Q/../queue/q" "x" "queue empty" 2>/dev/null || :

# 3. A header recipient that is not an envelope recipient: held, not sent.
n=$(api_msg_count)
run_ok "header-only recipient: accepted into the queue" sh -c 'printf "Subject: leak\nTo: bob@example.test\nCc: eve@example.test\n\nx\n" | "$OAUTHMAIL" bob@example.test'
is "$(api_msg_count)" "$n" "Graph got nothing (eve would have received it)"
is "$(qcount hold)" 1 "the message is held"
run_ok "mailq" "$OAUTHMAIL" -bp
like "$(cat "$T/out")" "not envelope recipients \(<eve@example.test>\)" "mailq names the header-only recipient"
# It waits on its own: the account is not held for it, other mail goes.
"$OAUTHMAIL" -q >/dev/null 2>&1
is "$(qcount hold)" 1 "a queue run holds it again"
file_lacks "$Q/hold-schedule" "^$ACCOUNT	" "the account is not on the hold schedule for it"
run_ok "the next message is sent" send_msg bob@example.test
is "$(api_msg_count)" "$((n + 1))" "Graph took the next message"
n=$((n + 1))
rm -f "$Q"/hold/*

# 4. 401 once: refreshed once, sent.
api_fault 401 1
r0=$(oauth_stat counts.grant:refresh_token)
run_ok "401 then 202" send_msg bob@example.test
is "$(api_stat by_status.401)" 1 "one 401"
is "$(oauth_stat counts.grant:refresh_token)" $((r0 + 1)) "one refresh after the 401"
is "$(api_msg_count)" $((n + 1)) "sent on the retry"
log_contains "refused the access token; refreshing" "the refresh is logged"

# 5. 401 always: held with the fix, one retry only.
api_fault 401
req0=$(api_stat requests)
send_msg bob@example.test
is "$(( $(api_stat requests) - req0 ))" 2 "two requests (one retry), no hammering"
is "$(qcount hold)" 1 "held after the second 401"
"$OAUTHMAIL" -bp >"$T/out" 2>&1
like "$(cat "$T/out")" "oauthmail login $ACCOUNT" "the fix: sign in again"
api_fault none
rm -f "$Q"/hold/*

# 6. 403: held with the admin's fix.
for f in 403_denied 403_policy; do
	api_fault $f 1
	send_msg bob@example.test
	is "$(qcount hold)" 1 "$f: held"
	run_ok "$f: mailq" "$OAUTHMAIL" -bp
	like "$(cat "$T/out")" "Mail\.Send|access policy" "$f: mailq shows what an admin must grant"
	rm -f "$Q"/hold/*
done

# 7. 429 with Retry-After: deferred for that long, and the rest of the run
#    waits (one request for two messages).
run_ok "queue two" sh -c 'for i in 1 2; do printf "Subject: q$i\nTo: bob@example.test\n\nx\n" | "$OAUTHMAIL" -odq bob@example.test || exit 1; done'
api_fault 429 0 7200
req0=$(api_stat requests)
"$OAUTHMAIL" -q >/dev/null 2>&1
is "$(( $(api_stat requests) - req0 ))" 1 "one request, then the run stops"
is "$(qcount q)" 2 "both deferred"
run_ok "mailq" "$OAUTHMAIL" -bp
like "$(cat "$T/out")" "next try in (1h5[0-9]m|2h)" "the next try follows Retry-After (2 h)"
api_fault 503 0
for id in $(ls "$Q/q" | sed -n 's/\.env$//p'); do "$OAUTHMAIL" -qI"$id" >/dev/null 2>&1; done
is "$(qcount q)" 2 "503: still deferred"
api_fault none
run_ok "flush" "$OAUTHMAIL" flush
is "$(qcount q)" 0 "sent once Graph answers"

# 8. Any 2xx but 202 is not success.
api_fault 200 1
send_msg bob@example.test
is "$(qcount q)" 1 "HTTP 200 instead of 202: deferred"
api_fault none
"$OAUTHMAIL" flush >/dev/null 2>&1
is "$(qcount q)" 0 "then sent"

# 9. ErrorMimeContentInvalidBase64String: our bug, logged loudly, held.
api_fault 400_base64 1
send_msg bob@example.test
is "$(qcount hold)" 1 "invalid base64: held"
log_contains "BUG: Microsoft Graph found the request malformed" "logged as a bug"
rm -f "$Q"/hold/*

# 10. 413 / ErrorMessageSizeExceeded: failed; the caller learns it at
#     once (exit 69 as for a 5xx over SMTP), a queue run sends a DSN.
api_fault 413 1
send_msg bob@example.test
is "$RC" 69 "413 while the caller waits: exit 69"
like "$(cat "$T/err")" "too large" "and says why"
is "$(qcount failed)" 1 "in failed/"
rm -f "$Q"/failed/*
for f in 413 size_exceeded; do
	run_ok "$f: queued" send_msg -odq bob@example.test
	api_fault $f 1
	n=$(api_msg_count)
	"$OAUTHMAIL" flush >/dev/null 2>&1
	is "$(qcount failed)" 1 "$f: in failed/"
	"$OAUTHMAIL" flush >/dev/null 2>&1
	is "$(api_msg_count)" $((n + 1)) "$f: a DSN went out"
	file_contains "$(api_msg_file)" "too large" "$f: the DSN says why"
	rm -f "$Q"/failed/*
done

# 11. Size: refused at submission over Graph's limit (exit 65), and a queued
#     message found too large later bounces.
head -c 3200000 /dev/zero | tr '\0' 'a' | fold -w 76 >"$T/big"
run_rc 65 "a 3.2 MB message is refused at submission" sh -c '{ printf "Subject: big\n\n"; cat "$1"; } | "$OAUTHMAIL" bob@example.test' - "$T/big"
like "$(cat "$T/err")" "limit of 3145728 bytes; Microsoft Graph takes about 3 MB" "the error names the limit and the cure"
write_config "$ACCOUNT"
run_ok "queued while the account used SMTP" sh -c '{ printf "Subject: big\n\n"; cat "$1"; } | "$OAUTHMAIL" -odq bob@example.test' - "$T/big"
graph_config
"$OAUTHMAIL" flush >/dev/null 2>&1
is "$(qcount failed)" 1 "too large for Graph when delivered: failed"
"$OAUTHMAIL" flush >/dev/null 2>&1
file_contains "$(api_msg_file)" "too large for Microsoft Graph" "a DSN says so"

# 12. Pacing (max_rate) holds for API requests too: 60 a minute, so three
#     messages in one run take at least 2 s.
graph_config "max_rate 60"
run_ok "queue three" sh -c 'for i in 1 2 3; do printf "Subject: p$i\nTo: bob@example.test\n\nx\n" | "$OAUTHMAIL" -odq bob@example.test || exit 1; done'
n=$(api_msg_count)
t0=$(date +%s)
"$OAUTHMAIL" -q >/dev/null 2>&1
t1=$(date +%s)
is "$(api_msg_count)" $((n + 3)) "all three sent"
[ $((t1 - t0)) -ge 2 ]; ok $? "paced: $((t1 - t0)) s for three at max_rate 60"
graph_config

# 12b. logout forgets the Graph token too.
keyring_get "$ACCOUNT" api_token >/dev/null 2>&1; ok $? "the Graph token record exists"
run_ok "logout" om logout "$ACCOUNT"
keyring_get "$ACCOUNT" api_token >/dev/null 2>&1; isnt "$?" 0 "logout removed the Graph token record"
seed_token "$ACCOUNT" alice@example.test \
    "scope=https://outlook.office.com/SMTP.Send%20offline_access%20$GRAPH_SCOPE" ||
    bail "seed"

# 13. login asks for the Graph scope with the SMTP one (one consent), and
#     that sign-in is enough to send over Graph.
keyring_del "$ACCOUNT" token
keyring_del "$ACCOUNT" api_token
graph_config "auth_endpoint $OAUTH_AUTH_URL" "flow authcode" \
    "scope https://outlook.office.com/SMTP.Send offline_access"
: >"$T/login.err"
om login "$ACCOUNT" --browser >"$T/login.out" 2>"$T/login.err" </dev/null &
LOGIN_PID=$!
wait_for 20 grep -q "^Waiting up to" "$T/login.err"
AUTH_URL=$(grep "^    $OAUTH_AUTH_URL?" "$T/login.err" | head -n 1 | sed 's/^ *//')
like "$AUTH_URL" "scope=https%3A%2F%2Foutlook.office.com%2FSMTP.Send(%20|\+)offline_access(%20|\+)https%3A%2F%2Fgraph.microsoft.com%2FMail.Send(&|$)" \
    "the sign-in asks for SMTP.Send, offline_access and Graph Mail.Send"
LOC=$(curl -sS --max-time 20 --cacert "$CERTS/ca.pem" -o /dev/null -w '%{redirect_url}' "$AUTH_URL")
curl -sS --max-time 20 -o /dev/null "$LOC"
wait_bg "$LOGIN_PID" 30
is "$RC" 0 "login exits 0"
n=$(api_msg_count)
run_ok "send after that one sign-in" send_msg bob@example.test
is "$(api_msg_count)" $((n + 1)) "Graph took it with a token from the same refresh token"

# 14. App-only (client credentials): the Graph token comes from the
#     client secret with api_scope, is kept, and is reused.
APP=app$$
write_config "$APP" "client_id conf-client" "flow client_credentials" \
    "transport graph" "graph_endpoint $API_URL/v1.0" \
    "api_scope https://graph.microsoft.com/.default"
keyring_put "$APP" client_secret conf-secret || bail "keyring_put"
at_exit "keyring_del $APP client_secret; keyring_del $APP api_token"
g0=$(oauth_stat counts.grant:client_credentials)
n=$(api_msg_count)
run_ok "app-only send over Graph" send_msg bob@example.test
run_ok "and another" send_msg bob@example.test
is "$(api_msg_count)" $((n + 2)) "Graph took both"
is "$(api_msg_field token_scope)" "https://graph.microsoft.com/.default" "with an app token of the Graph scope"
is "$(( $(oauth_stat counts.grant:client_credentials) - g0 ))" 1 "one client-credentials grant for both"
write_config "$ACCOUNT"

# 15. The endpoint must be https (loopback http excepted).
write_config "$ACCOUNT" "transport graph" "graph_endpoint http://graph.example.com/v1.0" "api_scope $GRAPH_SCOPE"
run_rc 78 "http endpoint refused" "$OAUTHMAIL" -bv bob@example.test
like "$(cat "$T/err")" "graph_endpoint must be an https:// URL" "the error names the key"
is "$(msg_count)" 0 "nothing ever went over SMTP"
done_testing
