# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# The basic path: a message from stdin, delivered over STARTTLS or implicit
# TLS with XOAUTH2 or OAUTHBEARER, tokens from either keyring; the server
# receives exactly the bytes we expect.
. "$top_srcdir/tests/integration/lib.sh"

start_oauth || bail "OAuth server did not start"
start_smtpd || bail "SMTP server did not start"
start_kernel_keyring || skip_all "no kernel keyring"
write_config
seed_token "$ACCOUNT" || bail "seed"

# 1. argv recipients, LF input, no -i: a lone dot ends the message and ".."
#    loses one dot; CRLF on the wire; Date and Message-ID added.
printf 'Subject: basic\nTo: bob@example.test\n\nline one\n..two dots\n.\nnot sent\n' \
    >"$T/msg1"
run_ok "send exits 0" sh -c '"$OAUTHMAIL" bob@example.test carol@example.test <"$1"' - "$T/msg1"
is "$(cat "$T/err")" "" "nothing on stderr on success"
is "$(msg_count)" 1 "one message arrived"
is "$(msg_field mail_from)" "alice@example.test" "envelope sender is the account's address"
is "$(msg_field rcpt_tos | tr '\n' ' ')" "bob@example.test carol@example.test " "both recipients"
is "$(msg_field auth_mech)" "XOAUTH2" "authenticated with XOAUTH2"
is "$(msg_field auth_user)" "alice@example.test" "as the account's user"
like "$(msg_field tls_version)" "TLSv1\.[23]" "over TLS 1.2+"
is "$(msg_body | od -An -c | tr -s ' \n' ' ')" " l i n e o n e \r \n . t w o d o t s \r \n " "CRLF endings, one dot removed, input ended at the lone dot"
if grep -q "not sent" "$(msg_file)"; then fail "text after the lone dot was sent"; else pass "text after the lone dot dropped"; fi
like "$(msg_header Date)" '^[A-Z][a-z]{2}, [0-9]+ [A-Z][a-z]{2} 20[0-9]{2} ' "Date added"
like "$(msg_header Message-ID)" '^<[0-9a-f.]+@example\.test>$' "Message-ID added"
like "$(msg_header From)" 'alice@example\.test' "From added"
if needs_fake_server "Postfix's Maildir keeps no line ends of the wire"; then
	if grep -q "$(printf '[^\r]$')" "$(msg_file)"; then fail "a line without CR on the wire"; else pass "no bare LF on the wire"; fi
fi

# 2. -i: dots are data; CRLF input stays CRLF (no doubled CR).
printf 'Subject: dots\r\n\r\n.\r\n..x\r\nend\r\n' >"$T/msg2"
run_ok "send with -i" sh -c '"$OAUTHMAIL" -i bob@example.test <"$1"' - "$T/msg2"
is "$(msg_count)" 2 "second message arrived"
is "$(msg_body | od -An -c | tr -s ' \n' ' ')" " . \r \n . . x \r \n e n d \r \n " "with -i every dot kept, CRLF not doubled"

# 3. OAUTHBEARER.
write_config "$ACCOUNT" "auth oauthbearer"
run_ok "send with OAUTHBEARER" sh -c 'printf "Subject: ob\n\nhi\n" | "$OAUTHMAIL" bob@example.test'
is "$(msg_field auth_mech)" "OAUTHBEARER" "authenticated with OAUTHBEARER"

# 4. Implicit TLS.
stop_smtpd
start_smtpd -n implicit --mode implicit || bail "implicit TLS server"
write_config "$ACCOUNT"
run_ok "send over implicit TLS" sh -c 'printf "Subject: implicit\n\nhi\n" | "$OAUTHMAIL" bob@example.test'
is "$(msg_count)" 1 "arrived over implicit TLS"

# 5. Nothing left in the queue after success.
is "$(ls "$XDG_STATE_HOME/oauthmail/queue/q" | wc -l)" 0 "queue is empty after delivery"
run_ok "mailq runs" "$OAUTHMAIL" -bp
like "$(cat "$T/out")" "empty" "mailq says the queue is empty"
done_testing
