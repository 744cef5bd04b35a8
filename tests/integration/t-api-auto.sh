# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# transport auto: SMTP while it works; when the server says SMTP AUTH is
# off (535 5.7.139) or offers no OAuth mechanism, the account switches to
# Microsoft Graph (fake Graph) for a day, recorded in the queue directory
# and shown by mailq, status and check; after the day SMTP is tried again
# and a working session ends the switch.
. "$top_srcdir/tests/integration/lib.sh"
need_oauthmail

start_oauth || bail "OAuth server did not start"
start_smtpd || bail "SMTP server did not start"
start_kernel_keyring || skip_all "no kernel keyring"
start_api graph || bail "fake Graph did not start"
GRAPH_SCOPE=https://graph.microsoft.com/Mail.Send
ACCOUNT=$(unique_account)
auto_config() {
	write_config "$ACCOUNT" "transport auto" \
	    "graph_endpoint $API_URL/v1.0" "api_scope $GRAPH_SCOPE" "$@"
}
auto_config
seed_token "$ACCOUNT" alice@example.test \
    "scope=https://outlook.office.com/SMTP.Send%20offline_access%20$GRAPH_SCOPE" ||
    bail "seed"
Q=$XDG_STATE_HOME/oauthmail/queue
SW=$Q/api-switch.$ACCOUNT
qcount() { ls "$Q/$1" 2>/dev/null | grep -c '\.env$'; }

# 1. SMTP works: SMTP is used, no switch.
run_ok "send while SMTP works" send_msg bob@example.test
is "$(msg_count)" 1 "it went over SMTP"
is "$(api_msg_count)" 0 "Graph was not used"
[ ! -e "$SW" ]; ok $? "no switch recorded"
run_ok "status" om status "$ACCOUNT"
like "$(cat "$T/out")" "transport +auto: SMTP \(Microsoft Graph if SMTP AUTH is refused\)" "status: auto, on SMTP"

# 2. SMTP AUTH turned off (535 5.7.139): the same message goes over Graph.
smtpd_faults auth_disabled
run_ok "send when SMTP AUTH is off: exit 0" send_msg bob@example.test
is "$(api_msg_count)" 1 "Graph took it"
is "$(msg_count)" 1 "nothing more over SMTP"
is "$(qcount q)$(qcount hold)" "00" "nothing left in the queue"
[ -s "$SW" ]; ok $? "the switch is recorded in the queue directory"
like "$(cut -f2 "$SW")" "5\.7\.139" "with the refusal"
log_contains "account $ACCOUNT: SMTP AUTH refused .*5\.7\.139.*sending over Microsoft Graph instead, SMTP is tried again in 24 hours" "the switch is logged"
log_contains "to=<bob@example.test> .*transport=graph status=sent" "the delivery line says transport=graph"

# 3. While switched: no SMTP connection at all; status, mailq, check say so.
c0=$(smtp_stat connections)
run_ok "send while switched" send_msg bob@example.test
is "$(smtp_stat connections)" "$c0" "SMTP was not tried again"
is "$(api_msg_count)" 2 "Graph took it"
run_ok "status" om status "$ACCOUNT"
like "$(cat "$T/out")" "transport +auto: Microsoft Graph since [0-9-]+ [0-9:]+ \(SMTP AUTH refused: .*5\.7\.139.*\); SMTP is tried again in 2[34]h" "status shows the switch and when SMTP is tried again"
run_ok "status --json" om status --json "$ACCOUNT"
like "$(cat "$T/out")" '"transport": "auto"' "status --json names the transport"
run_ok "queue one" send_msg -odq bob@example.test
run_ok "mailq" "$OAUTHMAIL" -bp
like "$(cat "$T/out")" "transport auto: sent over the provider's API \(SMTP AUTH refused\); SMTP tried again in 2[34]h" "mailq shows the switch"
"$OAUTHMAIL" flush >/dev/null 2>&1
is "$(api_msg_count)" 3 "a queue run sends over Graph too"
run_ok "check" om check "$ACCOUNT"
like "$(cat "$T/out")" "auth: refused \(.*5\.7\.139.*\); transport auto sends over Microsoft Graph instead" "check: SMTP AUTH refused, Graph instead"
like "$(cat "$T/out")" "api token: obtained for scope $GRAPH_SCOPE" "check: the Graph token is obtained"
like "$(cat "$T/out")" "shows only when a message is sent; Graph keeps a copy of each message in Sent Items" "check says what it proves and about Sent Items"

# 4. Header-only recipients while switched: held, not sent.
n=$(api_msg_count)
run_ok "header-only recipient while switched" sh -c 'printf "Subject: leak\nTo: bob@example.test\nCc: eve@example.test\n\nx\n" | "$OAUTHMAIL" bob@example.test'
is "$(api_msg_count)" "$n" "Graph got nothing"
is "$(qcount hold)" 1 "held"
rm -f "$Q"/hold/*

# 5. A day later SMTP is tried again; it works: the switch ends.
smtpd_faults
old=$(( $(date +%s) - 86401 ))
printf '%s\t535 5.7.139 old\n' "$old" >"$SW"
run_ok "send a day later" send_msg bob@example.test
is "$(msg_count)" 2 "SMTP is used again"
[ ! -e "$SW" ]; ok $? "the switch is over"

# 6. A day later SMTP AUTH is still off: one SMTP attempt, switched again.
smtpd_faults auth_disabled
printf '%s\t535 5.7.139 old\n' "$old" >"$SW"
c0=$(smtp_stat connections)
run_ok "send a day later, SMTP AUTH still off" send_msg bob@example.test
is "$(( $(smtp_stat connections) - c0 ))" 1 "one SMTP connection"
is "$(api_msg_count)" $((n + 1)) "then Graph"
[ "$(cut -f1 "$SW")" -gt "$old" ]; ok $? "the switch is renewed"

# 7. A server that offers no OAuth mechanism: switched as well.
rm -f "$SW"
stop_smtpd
start_smtpd -n plainonly --auth-mechs "PLAIN LOGIN" || bail "smtpd"
auto_config
run_ok "send to a server without XOAUTH2" send_msg bob@example.test
is "$(api_msg_count)" $((n + 2)) "Graph took it"
like "$(cut -f2 "$SW")" "does not offer AUTH XOAUTH2" "the switch names the reason"

# 8. transport smtp does not switch: the mail is held as before.
rm -f "$SW"
stop_smtpd plainonly
start_smtpd -n smtponly --fault auth_disabled || bail "smtpd"
write_config "$ACCOUNT" "graph_endpoint $API_URL/v1.0" "api_scope $GRAPH_SCOPE"
send_msg bob@example.test
is "$(qcount hold)" 1 "transport smtp: held"
is "$(api_msg_count)" $((n + 2)) "Graph not used"
[ ! -e "$SW" ]; ok $? "no switch"
done_testing
