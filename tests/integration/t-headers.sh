# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# -t recipient extraction, Bcc removal, Resent-*, local names mapped through
# aliases in the envelope and the headers, and the From rewriting cron and
# logwatch need -- with their exact command lines.
. "$top_srcdir/tests/integration/lib.sh"

start_oauth || bail "OAuth server"
start_smtpd || bail "SMTP server"
start_kernel_keyring || skip_all "no kernel keyring"
printf 'root: admin@example.test\nwww-data: root\nops: ann@example.test, ben@example.test\n' >"$T/aliases"
write_config
seed_token "$ACCOUNT" || bail "seed"
rcpts() { msg_field rcpt_tos | sort | tr '\n' ' '; }

# -t with To/Cc/Bcc, a group, a display name with a comma, and an argv
# recipient added (Postfix semantics).
cat >"$T/m1" <<'M'
From: Alice <alice@example.test>
To: "Doe, John" <john@example.test>, team: x@example.test, y@example.test;
Cc: undisclosed-recipients:;
Bcc: secret@example.test
Subject: -t

body
M
run_ok "-t -i" sh -c '"$OAUTHMAIL" -t -i extra@example.test <"$1"' - "$T/m1"
is "$(rcpts)" "extra@example.test john@example.test secret@example.test x@example.test y@example.test " "recipients from To/Cc/Bcc plus argv"
is "$(msg_header Bcc)" "" "Bcc removed"
if grep -q secret@ "$(msg_file)"; then fail "Bcc address leaked into the message"; else pass "Bcc address not in the message"; fi
like "$(msg_header To)" '"Doe, John" <john@example.test>' "To kept"

# Resent-*: only the Resent set counts.
printf 'To: old@example.test\nResent-To: new@example.test\nResent-Bcc: hidden@example.test\nSubject: r\n\nx\n' >"$T/m2"
run_ok "-t with Resent-*" sh -c '"$OAUTHMAIL" -t <"$1"' - "$T/m2"
is "$(rcpts)" "hidden@example.test new@example.test " "only Resent-To/Resent-Bcc recipients"
is "$(msg_header Resent-Bcc)" "" "Resent-Bcc removed"

# cron: Debian's exact command line; recipient root; From root (Cron Daemon).
cat >"$T/cron" <<'M'
From: root (Cron Daemon)
To: root
Subject: Cron <root@host> run-parts /etc/cron.daily
Content-Type: text/plain; charset=UTF-8
X-Cron-Env: <SHELL=/bin/sh>

output — with UTF-8
M
run_ok "cron's command line" sh -c '"$OAUTHMAIL" -FCronDaemon -i -B8BITMIME -oem root <"$1"' - "$T/cron"
is "$(rcpts)" "admin@example.test " "root mapped through aliases in the envelope"
is "$(msg_header To)" "admin@example.test" "root mapped in the To header"
like "$(msg_header From)" '^"?Cron Daemon"? <alice@example\.test>$' "From rewritten to the account, display name kept"
is "$(msg_field mail_from)" "alice@example.test" "envelope sender is the account"
like "$(msg_field mail_options)" "BODY=8BITMIME" "8-bit body sent with BODY=8BITMIME"

# logwatch: sendmail -t, From: Logwatch, To: root.
printf 'From: Logwatch\nTo: root\nSubject: Logwatch for host\n\nreport\n' >"$T/lw"
run_ok "logwatch's command line" sh -c '"$OAUTHMAIL" -t <"$1"' - "$T/lw"
like "$(msg_header From)" '^"?Logwatch"? <alice@example\.test>$' "From: Logwatch rewritten"
is "$(rcpts)" "admin@example.test " "To: root delivered to the alias"

# Alias chains and lists; www-data -> root -> admin; ops -> two.
run_ok "alias chain and list" sh -c 'printf "Subject: a\n\nx\n" | "$OAUTHMAIL" -i www-data ops root@localhost'
is "$(rcpts)" "admin@example.test ann@example.test ben@example.test " "chains expanded, duplicates removed"

# A local name with no alias is refused, naming it, and nothing is sent.
n=$(msg_count)
run_rc 67 "unknown local name refused" sh -c 'printf "Subject: a\n\nx\n" | "$OAUTHMAIL" nobody'
like "$(cat "$T/err")" "nobody" "the error names the recipient"
is "$(msg_count)" "$n" "nothing sent"

# No recipients: Postfix's wording and exit 64.
run_rc 64 "-t without recipients" sh -c 'printf "Subject: none\n\nx\n" | "$OAUTHMAIL" -t'
like "$(cat "$T/err")" "No recipient addresses found in message header" "Postfix's wording with -t"
run_rc 64 "no recipients at all" sh -c 'printf "Subject: none\n\nx\n" | "$OAUTHMAIL"'
like "$(cat "$T/err")" "Recipient addresses must be specified" "Postfix's wording without -t"
run_rc 67 "invalid address" sh -c 'printf "Subject: a\n\nx\n" | "$OAUTHMAIL" "bad@@example.test"'
like "$(cat "$T/err")" "bad@@example.test" "the invalid address is named"
is "$(ls "$XDG_STATE_HOME/oauthmail/queue/q" 2>/dev/null | wc -l)" 0 "refused messages leave nothing queued"

# -f the account may not send as: replaced by the account's address.
run_ok "-f foreign sender" sh -c 'printf "Subject: f\n\nx\n" | "$OAUTHMAIL" -f mallory@evil.test bob@example.test'
is "$(msg_field mail_from)" "alice@example.test" "foreign -f replaced by the account's address"
write_config "$ACCOUNT" "send_as *@example.test"
run_ok "-f allowed by send_as" sh -c 'printf "Subject: f\n\nx\n" | "$OAUTHMAIL" -f noreply@example.test bob@example.test'
is "$(msg_field mail_from)" "noreply@example.test" "-f allowed by send_as is used"
done_testing
