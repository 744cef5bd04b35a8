# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# sendmail -bs with a transport graph account: an SMTP dialogue on stdin
# submits a message with one recipient in To and one only in the envelope;
# Microsoft Graph (fake Graph, api_server.py) delivers it to both, the
# envelope-only one as Bcc (not in To/Cc), -bs answers 250 and exits 0,
# and nothing goes over SMTP.
. "$top_srcdir/tests/integration/lib.sh"
need_oauthmail

start_oauth || bail "OAuth server did not start"
start_smtpd || bail "SMTP server did not start"
start_kernel_keyring || skip_all "no kernel keyring"
start_api graph || bail "fake Graph did not start"
GRAPH_SCOPE=https://graph.microsoft.com/Mail.Send
ACCOUNT=$(unique_account)
write_config "$ACCOUNT" "transport graph" \
    "graph_endpoint $API_URL/v1.0" "api_scope $GRAPH_SCOPE"
seed_token "$ACCOUNT" alice@example.test \
    "scope=https://outlook.office.com/SMTP.Send%20offline_access%20$GRAPH_SCOPE" ||
    bail "seed"

cat >"$T/graph.bs" <<'S'
< ^220 .* ESMTP oauthmail$
> EHLO [127.0.0.1]
< ^250
> MAIL FROM:<alice@example.test>
< ^250 2\.1\.0
> RCPT TO:<bob@example.test>
< ^250 2\.1\.5
> RCPT TO:<carol@example.test>
< ^250 2\.1\.5
> DATA
< ^354
> From: Alice <alice@example.test>
> To: Bob <bob@example.test>
> Subject: over graph from -bs
> Message-ID: <bs-graph@example.test>
>
> hello
> ..dot
> .
< ^250 2\.0\.0 Ok: sent
> QUIT
< ^221
exit 0
S
"$PY" "$IT/bs_dialogue.py" "$T/graph.bs" "$T/graph.log" -- "$OAUTHMAIL" -bs \
    >"$T/graph.out" 2>"$T/graph.err"
rc=$?
[ $rc -eq 0 ] || diag "$(cat "$T/graph.out" "$T/graph.err")" "$(tail -n 30 "$T/graph.log")"
is "$rc" 0 "-bs over Graph: 250 for the message, 221, exit 0"
is "$(api_msg_count)" 1 "Graph took one message"
is "$(msg_count)" 0 "nothing went over SMTP"
is "$(api_msg_field recipients | sort | tr '\n' ' ')" "bob@example.test carol@example.test " \
    "delivered to the To recipient and the envelope-only one"
is "$(api_msg_field bcc)" "carol@example.test" "the envelope-only recipient as Bcc"
file_lacks "$(api_msg_file)" '^(To|Cc):.*carol' "carol is not visible in To or Cc"
file_contains "$(api_msg_file)" '^Subject: over graph from -bs$' "the message as submitted"
file_contains "$(api_msg_file)" '^\.dot$' "dot-unstuffed"
ls "$XDG_STATE_HOME/oauthmail/queue/q" 2>/dev/null | grep -q '\.env$'
isnt "$?" 0 "the queue is empty"
done_testing
