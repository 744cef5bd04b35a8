# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# The programs that call sendmail today, run for real where they are
# installed (scripts/install-deps installs them), each finding oauthmail
# through its own configuration or command line (never /usr/sbin/sendmail):
# PHP mail() (sendmail_path, the 5th argument), mutt in batch mode, s-nail,
# bsd-mailx, git send-email (sendemail.sendmailCmd); and the exact command
# lines of PHPMailer, Symfony's -t mode, Ruby's mail gem, fail2ban and
# unattended-upgrades. Each asserts the exit code and what arrived. cron's
# and logwatch's command lines are in t-headers.sh, Symfony's -bs in t-bs.sh.
. "$top_srcdir/tests/integration/lib.sh"

need_oauthmail
start_oauth || bail "OAuth server"
start_smtpd || bail "SMTP server"
start_kernel_keyring || skip_all "no kernel keyring"
printf 'root: admin@example.test\n' >"$T/aliases"
write_config
seed_token "$ACCOUNT" || bail "seed"

# The wrapper every caller is pointed at: logs its argv, one "[arg]" each,
# to $T/argv (one line per call), then runs oauthmail.
mkdir -p "$T/bin"
cat >"$T/bin/om-sendmail" <<EOF
#!/bin/sh
{ printf '%s' "\$(basename "\$0")"; for a; do printf ' [%s]' "\$a"; done; echo; } >>"$T/argv"
exec "$OAUTHMAIL" "\$@"
EOF
chmod 755 "$T/bin/om-sendmail"
WRAP=$T/bin/om-sendmail
: >"$T/argv"
last_argv() { tail -n 1 "$T/argv" | sed 's/^om-sendmail //'; }
rcpts() { msg_field rcpt_tos "$@" | sort | tr '\n' ' '; }
# The body of message N with its transfer encoding undone (UTF-8 text).
decoded_body() {
	"$PY" - "$(msg_file "$@")" <<'P'
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
for part in m.walk():
    if part.get_content_maintype() == "text":
        sys.stdout.write(part.get_payload(decode=True).decode(
            part.get_content_charset() or "utf-8"))
        break
P
}
# Subject of message N with RFC 2047 words decoded.
decoded_subject() {
	"$PY" - "$(msg_file "$@")" <<'P'
import email, email.header, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
print(str(email.header.make_header(email.header.decode_header(m["Subject"]))))
P
}
# Log what a caller ran (the report quotes these lines).
show_argv() { diag "$1 ran: $(last_argv)"; }

# ------------------------------------------------------------- PHP mail() --
if command -v php >/dev/null 2>&1; then
	n=$(msg_count)
	run_ok "PHP mail() through sendmail_path" php -n \
	    -d sendmail_path="$WRAP -t -i" -r '
	    exit(mail("bob@example.test", "PHP subject", "Grüße\r\n.\r\nend\r\n",
	        "From: Alice <alice@example.test>\r\nCc: carol@example.test") ? 0 : 1);'
	show_argv "PHP mail()"
	is "$(last_argv)" "[-t] [-i]" "PHP ran sendmail_path as configured"
	is "$(msg_count)" $((n + 1)) "one message"
	is "$(rcpts)" "bob@example.test carol@example.test " "To (PHP's own header) and Cc from -t"
	is "$(msg_header Subject)" "PHP subject" "subject"
	is "$(decoded_body | tr -d '\r')" "$(printf 'Grüße\n.\nend')" "the '.' line is data with -i; UTF-8 intact"

	run_ok "PHP mail() with the 5th argument -f" php -n \
	    -d sendmail_path="$WRAP -t -i" -r '
	    exit(mail("root", "fifth", "x", "From: noreply@example.test",
	        "-fnoreply@example.test") ? 0 : 1);'
	show_argv "PHP mail() with -f"
	is "$(last_argv)" "[-t] [-i] [-fnoreply@example.test]" "the 5th argument appended"
	is "$(rcpts)" "admin@example.test " "To: root mapped through the aliases"
	is "$(msg_field mail_from)" "alice@example.test" "a -f the account may not use is replaced"

	n=$(msg_count)
	run_fails "PHP mail() returns false when oauthmail refuses" php -n \
	    -d sendmail_path="$WRAP -t -i" -d display_errors=0 -r '
	    exit(mail("nobody", "s", "x") ? 0 : 1);'
	is "$(msg_count)" "$n" "nothing sent for an unmapped local recipient"
else
	skip "php-cli not installed" 10
fi

# ----------------------------------------------- PHPMailer's command line --
# isSendmail(): "<Sendmail> -oi -f<Sender> -t" through popen; it leaves the
# Bcc header in for -t to use and strip.
cat >"$T/phpmailer" <<'M'
Date: Mon, 1 Jan 2024 00:00:00 +0000
To: Bob <bob@example.test>
From: Alice <alice@example.test>
Bcc: hidden@example.test
Subject: PHPMailer
Message-ID: <phpmailer-1@example.test>
X-Mailer: PHPMailer 6.9.1 (https://github.com/PHPMailer/PHPMailer)
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 8bit

Héllo
M
run_ok "PHPMailer: -oi -fSENDER -t" sh -c "$WRAP -oi -falice@example.test -t <\"\$1\"" - "$T/phpmailer"
show_argv PHPMailer
is "$(rcpts)" "bob@example.test hidden@example.test " "Bcc recipient got it"
is "$(msg_header Bcc)" "" "no Bcc header sent"
is "$(msg_field mail_from)" "alice@example.test" "envelope sender from -f"

# ----------------------------------------------- Symfony's sendmail -t mode --
# SendmailTransport with "-t -i": drops " -t" (it has envelope recipients),
# appends -f'<sender>' and " -- '<rcpt>'"; CRLF -> LF. Without -i it also
# dot-stuffs "\n." -> "\n.." and expects the MTA to un-stuff.
printf 'From: alice@example.test\nTo: bob@example.test\nSubject: Symfony -i\n\n.dot\nx\n' >"$T/sym1"
run_ok "Symfony -t mode with -i" sh -c "$WRAP -i -f'alice@example.test' -- 'bob@example.test' <\"\$1\"" - "$T/sym1"
show_argv "Symfony (-t -i configured)"
is "$(last_argv)" "[-i] [-falice@example.test] [--] [bob@example.test]" "the command Symfony builds"
is "$(msg_body | tr -d '\r')" "$(printf '.dot\nx')" "-i: dots are data"
printf 'From: alice@example.test\nTo: bob@example.test\nSubject: Symfony stuffed\n\n..dot\n..\nafter\n' >"$T/sym2"
run_ok "Symfony -t mode without -i (pre-stuffed)" sh -c "$WRAP -f'alice@example.test' -- 'bob@example.test' <\"\$1\"" - "$T/sym2"
show_argv "Symfony (-t configured)"
is "$(msg_body | tr -d '\r')" "$(printf '.dot\n.\nafter')" "the stuffing Symfony added is undone"

# --------------------------------------------------------------------- mutt --
if command -v mutt >/dev/null 2>&1; then
	cat >"$T/muttrc" <<EOF
set sendmail="$WRAP -oem -oi"
set from="Alice <alice@example.test>"
set use_from=yes
set use_envelope_from=yes
set charset="utf-8"
set send_charset="utf-8"
set record=""
set folder="$T/Mail"
set spoolfile="$T/Mail/inbox"
set mbox_type=mbox
EOF
	printf 'Grüße aus Köln — mutt\n' >"$T/mutt-body"
	n=$(msg_count)
	run_ok "mutt batch mode" sh -c 'mutt -n -F "$1" -s "mutt ünïcode" -b hidden@example.test -c carol@example.test -- bob@example.test <"$2"' - "$T/muttrc" "$T/mutt-body"
	show_argv mutt
	like "$(last_argv)" '^\[-oem\] \[-oi\] .*\[--\] \[bob@example.test\] \[carol@example.test\] \[hidden@example.test\]$' "mutt: \$sendmail flags, --, To, Cc and Bcc"
	is "$(msg_count)" $((n + 1)) "one message"
	is "$(rcpts)" "bob@example.test carol@example.test hidden@example.test " "Bcc and Cc recipients got it"
	is "$(msg_header Bcc)" "" "no Bcc header"
	file_lacks "$(msg_file)" "hidden@" "the Bcc address is nowhere in the message"
	is "$(decoded_body)" "Grüße aus Köln — mutt" "8-bit UTF-8 body intact"
	is "$(decoded_subject)" "mutt ünïcode" "UTF-8 subject"
	is "$(msg_field mail_from)" "alice@example.test" "envelope sender (use_envelope_from)"
else
	skip "mutt not installed" 8
fi

# ------------------------------------------------------------------- s-nail --
if command -v s-nail >/dev/null 2>&1; then
	n=$(msg_count)
	run_ok "s-nail with mta= and sendwait" sh -c 'printf "Grüße — s-nail\n" | s-nail -:/ -S mta="$1" -S sendwait -S ttycharset=utf-8 -S sendcharsets=utf-8 -r alice@example.test -s "s-nail test" -c carol@example.test -b hidden@example.test bob@example.test' - "$WRAP"
	show_argv s-nail
	is "$(rcpts)" "bob@example.test carol@example.test hidden@example.test " "To, Cc and Bcc recipients"
	is "$(msg_header Bcc)" "" "no Bcc header"
	is "$(decoded_body)" "Grüße — s-nail" "UTF-8 body"
	# sendwait: the MTA's exit status becomes s-nail's
	run_fails "s-nail reports oauthmail's refusal (sendwait)" sh -c 'printf "x\n" | s-nail -:/ -S mta="$1" -S sendwait -s refused nobody' - "$WRAP"
	is "$(msg_count)" $((n + 1)) "nothing more sent"
else
	skip "s-nail not installed" 6
fi

# ---------------------------------------------------------------- bsd-mailx --
# bsd-mailx reads the "sendmail" variable (OpenBSD mail); MAILRC names the
# start-up file, so no PATH trick and no /usr/sbin/sendmail is involved.
if command -v bsd-mailx >/dev/null 2>&1; then
	printf 'set sendmail=%s\n' "$WRAP" >"$T/mailrc"
	n=$(msg_count)
	run_ok "bsd-mailx with a sendmail variable" sh -c 'printf "Grüße — mailx\n" | LC_ALL=C.UTF-8 MAILRC="$1" bsd-mailx -n -s "mailx test" -c carol@example.test -b hidden@example.test -a "From: alice@example.test" bob@example.test' - "$T/mailrc"
	show_argv bsd-mailx
	like "$(cat "$T/argv")" "bsd-mailx|om-sendmail" "bsd-mailx ran the configured program"
	is "$(msg_count)" $((n + 1)) "one message"
	is "$(rcpts)" "bob@example.test carol@example.test hidden@example.test " "To, Cc and Bcc recipients"
	is "$(msg_header Bcc)" "" "no Bcc header"
	is "$(decoded_body)" "Grüße — mailx" "UTF-8 body"
else
	skip "bsd-mailx not installed" 5
fi

# ----------------------------------------------------------- git send-email --
if [ -x "$(git --exec-path 2>/dev/null)/git-send-email" ]; then
	git init -q "$T/repo"
	(
		cd "$T/repo" || exit 1
		git config user.name "Alice" && git config user.email alice@example.test &&
		printf 'hello\n' >README && git add README &&
		git commit -q -m "Add a README" &&
		printf 'hello\nworld\n' >README && git commit -q -a -m "README: say world" &&
		git format-patch -q -1 -o "$T/patches"
	) || bail "git repository"
	n=$(msg_count)
	run_ok "git send-email with sendemail.sendmailCmd" sh -c 'cd "$1" && git -c sendemail.sendmailCmd="$2" send-email --quiet --confirm=never --suppress-cc=all --from "Alice <alice@example.test>" --envelope-sender=alice@example.test --to bob@example.test --cc carol@example.test "$3"/*.patch' - "$T/repo" "$WRAP" "$T/patches"
	show_argv "git send-email"
	is "$(last_argv)" "[-f] [alice@example.test] [-i] [bob@example.test] [carol@example.test]" "git's parameters: -f, -i, recipients, no --"
	is "$(msg_count)" $((n + 1)) "one message"
	is "$(rcpts)" "bob@example.test carol@example.test " "To and Cc"
	like "$(msg_header Subject)" '^\[PATCH\] README: say world$' "the patch's subject"
	like "$(msg_header Message-ID)" '^<.+>$' "git's Message-ID kept"
	file_contains "$(msg_file)" '^\+world' "the diff arrived"
else
	skip "git send-email not installed" 6
fi

# ------------------------------------------------- Ruby mail gem, fail2ban --
printf 'From: alice@example.test\nTo: bob@example.test\nSubject: ruby\n\n.\nbody\n' >"$T/ruby"
# (the mail gem runs it without a shell; sh here only gives it stdin)
run_ok "Ruby mail gem: -i -f x -- rcpts" sh -c '"$1" -i -f alice@example.test -- bob@example.test carol@example.test <"$2"' - "$WRAP" "$T/ruby"
show_argv "Ruby mail"
is "$(rcpts)" "bob@example.test carol@example.test " "the -- recipients"
is "$(msg_body | tr -d '\r')" "$(printf '.\nbody')" "-i keeps the '.' line"

host=$(hostname)
printf 'Subject: [Fail2Ban] sshd: banned 192.0.2.7 from %s\nDate: %s\nFrom: Fail2Ban <root@%s>\nTo: root\n\nHi,\nThe IP 192.0.2.7 has just been banned.\n' "$host" "$(LC_ALL=C date -R)" "$host" >"$T/f2b"
run_ok "fail2ban: -f \"<sender>\" \"<dest>\"" sh -c "$WRAP -f \"root@$host\" \"root\" <\"\$1\"" - "$T/f2b"
show_argv fail2ban
is "$(rcpts)" "admin@example.test " "dest root mapped through the aliases"
is "$(msg_field mail_from)" "alice@example.test" "local sender replaced by the account"
like "$(msg_header From)" '^"?Fail2Ban"? <alice@example\.test>$' "From: root@host rewritten, name kept"

# ------------------------------------------------------ unattended-upgrades --
# It builds a MIME text/plain UTF-8 quoted-printable message with Python's
# email package and pipes it to "sendmail -oi -t".
n=$(msg_count)
cat >"$T/uu.py" <<'P'
import subprocess, sys
from email import charset
from email.mime.text import MIMEText
from email.header import Header
charset.add_charset("utf-8", charset.QP, charset.QP, "utf-8")
msg = MIMEText("Unattended upgrade result: All upgrades installed\n\n"
               "Packages: libc6 — naïve\n", "plain", "utf-8")
msg["Subject"] = Header("[host] unattended-upgrades result for host: SUCCESS ✓", "utf-8")
msg["From"] = "root"
msg["To"] = "root"
msg["Auto-Submitted"] = "auto-generated"
p = subprocess.Popen([sys.argv[1], "-oi", "-t"], stdin=subprocess.PIPE,
                     universal_newlines=True)
p.stdin.write(msg.as_string())
p.stdin.close()
sys.exit(p.wait())
P
run_ok "unattended-upgrades: -oi -t, MIME QP UTF-8" "$PY" "$T/uu.py" "$WRAP"
show_argv unattended-upgrades
is "$(last_argv)" "[-oi] [-t]" "its command line"
is "$(msg_count)" $((n + 1)) "one message"
is "$(rcpts)" "admin@example.test " "To: root mapped"
is "$(msg_header Auto-Submitted)" "auto-generated" "Auto-Submitted kept"
like "$(msg_header Content-Transfer-Encoding)" "quoted-printable" "QP body kept as is"
like "$(decoded_body)" "libc6 — naïve" "the QP UTF-8 body decodes"
like "$(decoded_subject)" "SUCCESS ✓" "the encoded subject decodes"
like "$(msg_header From)" "alice@example\.test" "From: root rewritten to the account"

diag "argv log:"
while IFS= read -r l; do diag "  $l"; done <"$T/argv"
done_testing
