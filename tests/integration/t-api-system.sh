# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# System mode with a transport graph account: a local user submits to the
# maildrop, the daemon user's queue run sends the message once through
# Microsoft Graph (fake Graph, api_server.py) with a Graph token it gets
# from the refresh token in its own persistent keyring; the drop file is
# gone, the queue is empty, nothing went over SMTP. A message with more
# recipients than Graph takes is refused by the user's sendmail.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-sysmode.sh"

start_api graph || bail "fake Graph did not start"
GRAPH_SCOPE=https://graph.microsoft.com/Mail.Send
# The account's lines go above "account default".
sed -i "/^account default :/i\\
transport graph\\
graph_endpoint $API_URL/v1.0\\
api_scope $GRAPH_SCOPE" "$CF" || bail "config"
# The daemon's refresh token may also get the Graph scope.
seed_token "$ACCOUNT" alice@example.test \
    "scope=https://outlook.office.com/SMTP.Send%20offline_access%20$GRAPH_SCOPE" ||
    bail "seed token into $DU's persistent keyring"

cat >"$S/msg" <<MSG
To: Bob <bob@example.test>
Bcc: carol@example.test
Subject: system graph $$

hello from a local user
MSG
chmod 644 "$S/msg"
as_user $WU "$BIN" -C "$CF" -t <"$S/msg" 2>"$T/err1"
is "$?" 0 "a local user's sendmail -t exits 0"
is "$(cat "$T/err1")" "" "nothing on stderr"
is "$(drop_files | wc -l | tr -d ' ')" 1 "one drop file"
is "$(api_msg_count)" 0 "nothing sent before the daemon runs"

daemon -q
is "$?" 0 "the daemon's queue run exits 0"
is "$(api_msg_count)" 1 "Graph took the message once"
is "$(msg_count)" 0 "nothing went over SMTP"
is "$(api_msg_field recipients | sort | tr '\n' ' ')" "bob@example.test carol@example.test " \
    "to both recipients"
is "$(api_msg_field bcc)" "carol@example.test" "the Bcc one as Bcc"
is "$(api_msg_field token_scope)" "$GRAPH_SCOPE" "with a token of the Graph scope"
file_contains "$(api_msg_file)" "^Subject: system graph $$\$" "the message as submitted"
file_lacks "$(api_msg_file)" '^(To|Cc):.*carol' "carol is not visible in To or Cc"
is "$(drop_files | wc -l | tr -d ' ')" 0 "the drop file is gone"
is "$(find "$S/spool/queue" -name '*.env' | wc -l | tr -d ' ')" 0 "no message left in the queue"
: >"$T/daemon.out"
daemon -bp
is "$?" 0 "mailq exits 0"
like "$(cat "$T/daemon.out")" "^Mail queue is empty$" "mailq: the queue is empty"
daemon -q
is "$(api_msg_count)" 1 "a second queue run sends nothing again"
[ "$(api_msg_count)" = 1 ] || diag "$(cat "$T/daemon.err")"

# More recipients than Graph takes in one message (500): the local
# user's sendmail refuses it (exit 65, naming the limit); nothing sent.
i=1; : >"$S/r501"
while [ $i -le 501 ]; do echo "r$i@example.test" >>"$S/r501"; i=$((i + 1)); done
chmod 644 "$S/r501"
as_user $WU sh -c '"$1" -C "$2" $(cat "$3") <"$4"' - "$BIN" "$CF" "$S/r501" "$S/msg" 2>"$T/err2"
is "$?" 65 "501 recipients: refused (exit 65)"
like "$(cat "$T/err2")" "501 recipients: Microsoft Graph takes at most 500" "501 recipients: the error names the limit"
is "$(wc -l <"$T/err2" | tr -d ' ')" 1 "501 recipients: in one line"
daemon -q
is "$(api_msg_count)" 1 "501 recipients: nothing sent"
is "$(drop_files | wc -l | tr -d ' ')" 0 "501 recipients: its drop file was removed"
done_testing
