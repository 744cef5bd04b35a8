#!/bin/sh
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# t-edges.sh -- addressing and sign-in edge cases: a quoted local part
# ("a b"@example.test) goes out as an RFC 5321 Quoted-string in RCPT TO and
# MAIL FROM (a control character in it is refused at submission); -f '<>'
# sends the null sender MAIL FROM:<>; `oauthmail login` ends by sending
# the account's mail held for want of a token, and says so.
. "$top_srcdir/tests/integration/lib.sh"

need_oauthmail
[ "$(om_server)" = smtpd ] || skip_all "reads the fake server's envelope"
start_oauth || bail "OAuth server did not start"
start_smtpd || bail "SMTP server did not start"
start_kernel_keyring || skip_all "no kernel keyring"
write_config "" "allow_from_override on"
seed_token "$ACCOUNT" || bail "seed"
at_exit "keyring_del $ACCOUNT token"
Q=$XDG_STATE_HOME/oauthmail/queue
nq() { find "$Q" -name '*.env' 2>/dev/null | wc -l | tr -d ' '; }

# 1. A quoted local part is accepted and sent quoted, recipient and sender.
run_ok "a quoted local part is accepted" sh -c \
    'printf "Subject: q\n\nhi\n" | "$OAUTHMAIL" -f "\"x y\"@example.test" "\"a b\"@example.test" bob@example.test'
is "$(msg_count)" 1 "the message arrived at once"
is "$(msg_field rcpt_tos | tr '\n' ' ')" '"a b"@example.test bob@example.test ' \
    "RCPT TO carried the quoted local part"
is "$(msg_field mail_from)" '"x y"@example.test' "MAIL FROM carried the quoted local part"
is "$(nq)" 0 "nothing left in the queue"

run_ok "a quoted local part in To: with -t" sh -c \
    'printf "To: \"c d\"@example.test\nSubject: t\n\nhi\n" | "$OAUTHMAIL" -t'
is "$(msg_count)" 2 "the -t message arrived"
is "$(msg_field rcpt_tos)" '"c d"@example.test' "RCPT TO from To: quoted"

tab=$(printf '\t')
run_rc 67 "a control character in a quoted local part is refused at once" sh -c \
    'printf "Subject: q\n\nhi\n" | "$OAUTHMAIL" "\"a${1}b\"@example.test"' - "$tab"
like "$(cat "$T/err")" "control character" "the error says why"
is "$(msg_count)" 2 "nothing more arrived"
is "$(nq)" 0 "and nothing was queued"

run_rc 65 "an -f SMTP cannot carry is refused at once" sh -c \
    'printf "Subject: q\n\nhi\n" | "$OAUTHMAIL" -f "a b@example.test" bob@example.test'
like "$(cat "$T/err")" "invalid envelope sender" "the error says why"
is "$(nq)" 0 "and nothing was queued"

# 2. -f '<>' sends the null sender.
write_config "$ACCOUNT"
run_ok "-f '<>' is accepted" sh -c \
    'printf "Subject: auto-reply\n\nhi\n" | "$OAUTHMAIL" -f "<>" bob@example.test'
is "$(msg_count)" 3 "the auto-reply arrived"
is "$(msg_field mail_from)" "" "MAIL FROM:<> (the null sender)"
run_ok "-f '' is the null sender too" sh -c \
    'printf "Subject: auto-reply\n\nhi\n" | "$OAUTHMAIL" -f "" bob@example.test'
is "$(msg_count)" 4 "it arrived"
is "$(msg_field mail_from)" "" "MAIL FROM:<> again"
printf '%s\r\n' "EHLO h" "MAIL FROM:<>" "RCPT TO:<bob@example.test>" DATA \
    "Subject: bs auto-reply" "" hi . QUIT >"$T/bs.in"
run_ok "-bs with MAIL FROM:<>" sh -c '"$OAUTHMAIL" -bs <"$1"' - "$T/bs.in"
like "$(cat "$T/out")" "250 2\.0\.0" "the -bs message was taken"
is "$(msg_count)" 5 "it arrived"
is "$(msg_field mail_from)" "" "MAIL FROM:<> from -bs too"
run_ok "a foreign -f is still replaced" sh -c \
    'printf "Subject: x\n\nhi\n" | "$OAUTHMAIL" -f mallory@evil.test bob@example.test'
is "$(msg_field mail_from)" "alice@example.test" "by the account's address"

# 3. Mail held for "no token" leaves at the end of `oauthmail login`
#    (the sign-in here is client_credentials: it needs no person).
CC=${ACCOUNT}cc
write_config "$CC" "client_id conf-client"
at_exit "keyring_del $CC token; keyring_del $CC client_secret"
n0=$(msg_count)
run_ok "with no token, the message is accepted" sh -c \
    'printf "Subject: held\n\nwait for me\n" | "$OAUTHMAIL" bob@example.test'
is "$(find "$Q/hold" -name '*.env' | wc -l | tr -d ' ')" 1 "and held"
like "$(om -bp)" "no token" "for want of a token"
is "$(msg_count)" "$n0" "nothing arrived yet"
write_config "$CC" "client_id conf-client" "flow client_credentials" \
    "scope https://outlook.office365.com/.default"
keyring_put "$CC" client_secret conf-secret || bail "keyring_put"
run_ok "login succeeds" om login "$CC"
is "$(msg_count)" $((n0 + 1)) "the held message arrived without a flush"
is "$(msg_header Subject)" "held" "it is the held one"
like "$(cat "$T/err")" "1 held message of account $CC sent" "login says it went out"
is "$(nq)" 0 "the queue is empty"
run_ok "a second login" om login "$CC"
unlike "$(cat "$T/err")" "held message" "says nothing when nothing is held"

done_testing
