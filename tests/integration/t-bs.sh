# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# sendmail -bs: an SMTP dialogue on stdin/stdout as Symfony Mailer (and
# Laravel) speak it -- two messages in one session, dot-unstuffing, local
# recipients through aliases, replies that reflect what happened to each
# message, errors that keep the session sane, pipelined input, no SMTP
# smuggling through a bare-LF end of data.
. "$top_srcdir/tests/integration/lib.sh"

need_oauthmail
start_oauth || bail "OAuth server"
start_smtpd || bail "SMTP server"
start_kernel_keyring || skip_all "no kernel keyring"
printf 'root: admin@example.test\n' >"$T/aliases"
write_config
seed_token "$ACCOUNT" || bail "seed"

# dialogue NAME [ARGS...]: run the script $T/NAME.bs against oauthmail -bs
# ARGS (default -bs); the result lines in $T/NAME.out, the transcript in
# $T/NAME.log.
dialogue() {
	_dn=$1; shift
	[ $# -gt 0 ] || set -- -bs
	"$PY" "$IT/bs_dialogue.py" "$T/$_dn.bs" "$T/$_dn.log" -- \
	    "$OAUTHMAIL" "$@" >"$T/$_dn.out" 2>"$T/$_dn.err"
	_drc=$?
	if [ $_drc -ne 0 ]; then
		diag "$(cat "$T/$_dn.out" "$T/$_dn.err")"
		diag "$(tail -n 30 "$T/$_dn.log")"
	fi
	return $_drc
}
rcpts() { msg_field rcpt_tos "$@" | sort | tr '\n' ' '; }

# 1. Symfony: greeting, HELO, MAIL, RCPT, DATA, message, 250, a second
#    message (after RSET, as Symfony sends between messages), QUIT.
cat >"$T/symfony.bs" <<'S'
< ^220 .* ESMTP oauthmail$
> HELO [127.0.0.1]
< ^250 
> MAIL FROM:<alice@example.test>
< ^250 2\.1\.0
> RCPT TO:<bob@example.test>
< ^250 2\.1\.5
> RCPT TO:<carol@example.test>
< ^250
> DATA
< ^354
> From: Alice <alice@example.test>
> To: bob@example.test, carol@example.test
> Subject: first
> Message-ID: <first@example.test>
> MIME-Version: 1.0
> Content-Type: text/plain; charset=utf-8
> Content-Transfer-Encoding: 8bit
>
> Grüße aus Köln
> ..hidden dot
> ...
> .
< ^250 2\.0\.0 Ok: sent as [0-9a-f]{32}$
> RSET
< ^250
> MAIL FROM:<alice@example.test> BODY=8BITMIME SIZE=200
< ^250
> RCPT TO:<root>
< ^250
> DATA
< ^354
> From: alice@example.test
> To: root
> Subject: second
>
> two
> .
< ^250 2\.0\.0 Ok: sent
> QUIT
< ^221
exit 0
S
dialogue symfony; ok $? "Symfony's dialogue: two messages, 250 after each, 221"
is "$(msg_count)" 2 "two messages arrived"
is "$(rcpts 1)" "bob@example.test carol@example.test " "first: both RCPT recipients"
is "$(msg_header Subject 1)" "first" "first message's subject"
is "$(msg_body 1 | tr -d '\r')" "$(printf 'Grüße aus Köln\n.hidden dot\n..')" "dot-unstuffed body, 8-bit intact"
is "$(msg_field mail_from 1)" "alice@example.test" "envelope sender from MAIL FROM"
is "$(rcpts 2)" "admin@example.test " "second: root mapped through the aliases"
is "$(msg_header To 2)" "admin@example.test" "root mapped in the To header too"
like "$(msg_field mail_options 2)" "BODY=8BITMIME" "8-bit body announced upstream"
is "$(msg_header Subject 2)" "second" "second message's subject"
is "$(ls "$XDG_STATE_HOME/oauthmail/queue/q" 2>/dev/null | wc -l)" 0 "nothing left in the queue"

# 2. EHLO capabilities; errors keep the session sane.
cat >"$T/errors.bs" <<'S'
< ^220
> MAIL FROM:<alice@example.test>
< ^503 5\.5\.1
> EHLO client.example
< ^250-
<ehlo 8BITMIME
<ehlo SIZE
<ehlo ENHANCEDSTATUSCODES
> RCPT TO:<bob@example.test>
< ^503 5\.5\.1
> DATA
< ^503 5\.5\.1
> FOO bar
< ^500 5\.5\.2
>long 600 N
< ^500 5\.5\.2
> NOOP
< ^250
> VRFY root
< ^252
> STARTTLS
< ^502
> MAIL FROM:<alice@example.test> FOO=1
< ^555 5\.5\.4
> MAIL FROM alice
< ^501
> MAIL FROM:<alice@example.test>
< ^250
> MAIL FROM:<alice@example.test>
< ^503
> RCPT TO:<nobody>
< ^550 5\.1\.1 .*nobody
> RCPT TO:<bad@@example.test>
< ^501
> RCPT TO:<>
< ^501
> DATA
< ^503 5\.5\.1
> RCPT TO:<bob@example.test>
< ^250
> DATA x
< ^501
> DATA
< ^354
> Subject: too long
>
>long 2000 x
> after the long line
> .
< ^552 5\.3\.4
> NOOP
< ^250
> MAIL FROM:<alice@example.test>
< ^250
> RCPT TO:<bob@example.test>
< ^250
> DATA
< ^354
> Subject: after errors
>
> fine
> .
< ^250 2\.0\.0 Ok: sent
> HELP
< ^214
> QUIT
< ^221
exit 0
S
n=$(msg_count)
dialogue errors; ok $? "out-of-order, unknown, over-long and refused commands get 5xx; the session goes on"
is "$(msg_count)" $((n + 1)) "only the good message arrived"
is "$(msg_header Subject)" "after errors" "it is the one after the errors"
file_lacks "$(msg_file)" "too long" "the message with the over-long line was not sent"

# 3. Pipelined input, answered in order; EOF without QUIT ends cleanly.
cat >"$T/pipe.bs" <<'S'
< ^220
> EHLO x
> MAIL FROM:<alice@example.test>
> RCPT TO:<bob@example.test>
> RCPT TO:<reject@example.test>
> DATA
< ^250-
< ^250 2\.1\.0
< ^250 2\.1\.5
< ^250 2\.1\.5
< ^354
> Subject: piped
>
> p
> .
> NOOP
< ^250 2\.0\.0 Ok: sent
< ^250 2\.0\.0 Ok$
close
exit 0
S
n=$(msg_count)
dialogue pipe; ok $? "pipelined commands answered in order; EOF without QUIT exits 0"
wait_msgs $((n + 1)) 10
is "$(msg_header Subject $((n + 1)))" "piped" "the pipelined message arrived"
if needs_fake_server "smtpd.py refuses reject@ recipients, Postfix takes every one" 2; then
	wait_msgs $((n + 2)) 10
	is "$(rcpts $((n + 1)))" "bob@example.test " "the recipient the server took got it"
	is "$(msg_field rcpt_tos $((n + 2)))" "alice@example.test" "the refused one is reported to the sender in a DSN"
fi

# 4. The server refuses the message for good: 554 with its reason.
#    (4 and 5 need injected faults; not indented for the here-documents)
if needs_fake_server "fault injection (DATA refused 554, then 451)" 6; then
smtpd_faults data554
cat >"$T/refused.bs" <<'S'
< ^220
> HELO x
< ^250
> MAIL FROM:<alice@example.test>
< ^250
> RCPT TO:<bob@example.test>
< ^250
> DATA
< ^354
> Subject: refused
>
> r
> .
< ^554 5\.6\.0 .*rejected
> QUIT
< ^221
exit 0
S
n=$(msg_count)
dialogue refused; ok $? "a permanent refusal is answered 554 with the server's reason"
is "$(msg_count)" "$n" "nothing arrived"

# 5. A temporary failure: the message is spooled, and that is a 250.
smtpd_faults data451
cat >"$T/deferred.bs" <<'S'
< ^220
> HELO x
< ^250
> MAIL FROM:<alice@example.test>
< ^250
> RCPT TO:<bob@example.test>
< ^250
> DATA
< ^354
> Subject: deferred
>
> d
> .
< ^250 2\.0\.0 Ok: queued as [0-9a-f]{32} \(will retry\)
> QUIT
< ^221
exit 0
S
dialogue deferred; ok $? "a temporary failure is a 250 (queued, will retry)"
is "$(ls "$XDG_STATE_HOME/oauthmail/queue/q" | grep -c '\.env$')" 1 "the message waits in the queue"
smtpd_faults
run_ok "flush" "$OAUTHMAIL" -q
wait_msgs $((n + 1)) 10
is "$(msg_header Subject)" "deferred" "delivered by the next queue run"
fi

# 6. A sender the account may not use is replaced (same policy as -f);
#    an input that ends inside DATA sends nothing and still exits 0.
cat >"$T/sender.bs" <<'S'
< ^220
> HELO x
< ^250
> MAIL FROM:<mallory@evil.test>
< ^250
> RCPT TO:<bob@example.test>
< ^250
> DATA
< ^354
> Subject: sender
>
> s
> .
< ^250 2\.0\.0 Ok: sent
> MAIL FROM:<alice@example.test>
< ^250
> RCPT TO:<bob@example.test>
< ^250
> DATA
< ^354
> Subject: cut short
close
exit 0
S
n=$(msg_count)
dialogue sender; ok $? "foreign sender accepted and replaced; EOF inside DATA"
is "$(msg_field mail_from)" "alice@example.test" "envelope sender is the account's"
is "$(msg_count)" $((n + 1)) "the cut-short message was not sent"
is "$(ls "$XDG_STATE_HOME/oauthmail/queue/q" | wc -l)" 0 "and not left in the queue"

# 7. Laravel's variant "-bs -i" and the queue delivery mode.
cat >"$T/queued.bs" <<'S'
< ^220
> EHLO x
< ^250-
> MAIL FROM:<alice@example.test>
< ^250
> RCPT TO:<bob@example.test>
< ^250
> DATA
< ^354
> Subject: queued
>
> q
> .
< ^250 2\.0\.0 Ok: queued as
> QUIT
< ^221
exit 0
S
n=$(msg_count)
dialogue queued -bs -i -odq; ok $? "-bs -i -odq: 250 queued"
is "$(msg_count)" "$n" "not sent yet"
run_ok "flush" "$OAUTHMAIL" -q
is "$(msg_header Subject)" "queued" "sent by the queue run"
# 8. SMTP smuggling: only <CR><LF>.<CR><LF> ends DATA. A "." line next to
#    a bare LF refuses the message (550 5.5.2); the commands pipelined
#    after it are read as part of the refused message, never executed.
hexof() { printf "$1" | od -An -tx1 | tr -d ' \n'; }
for v in 'LF.LF:\n.\n' 'CRLF.LF:\r\n.\n' 'LF.CRLF:\n.\r\n'; do
	name=${v%%:*} dot=${v#*:}
	smug=$(hexof "Subject: outer $name\r\n\r\nbody${dot}MAIL FROM:<alice@example.test>\r\nRCPT TO:<carol@example.test>\r\nDATA\r\nSubject: smuggled $name\r\n\r\nevil\r\n.\r\n")
	cat >"$T/smuggle.bs" <<S
< ^220
> EHLO x
< ^250-
> MAIL FROM:<alice@example.test>
< ^250
> RCPT TO:<bob@example.test>
< ^250
> DATA
< ^354
>raw $smug
> NOOP
< ^550 5\.5\.2 .*bare <LF>
< ^250 2\.0\.0 Ok$
> MAIL FROM:<alice@example.test>
< ^250
> RCPT TO:<bob@example.test>
< ^250
> DATA
< ^354
> Subject: clean after $name
>
> fine
> .
< ^250 2\.0\.0 Ok: sent
> QUIT
< ^221
exit 0
S
	n=$(msg_count)
	dialogue smuggle; ok $? "$name in DATA: 550 5.5.2, the pipelined commands after it not executed"
	is "$(msg_count)" $((n + 1)) "$name: only the clean message after it arrived"
	is "$(msg_header Subject)" "clean after $name" "$name: it is the clean one"
	if msg_list | xargs grep -l -e "smuggled $name" -e "outer $name" >/dev/null 2>&1; then
		fail "$name: the smuggled or the outer message reached the server"
	else
		pass "$name: neither the outer nor the smuggled message was sent"
	fi
done

# 9. A client that sends LF only never ends DATA: it is told, exit 65.
n=$(msg_count)
printf 'HELO x\nMAIL FROM:<alice@example.test>\nRCPT TO:<bob@example.test>\nDATA\nSubject: lf only\n\nx\n.\nQUIT\n' |
    "$OAUTHMAIL" -bs >"$T/lf.out" 2>"$T/lf.err"
is "$?" 65 "an LF-only client: exit 65"
like "$(cat "$T/lf.err")" "bare <LF>" "stderr says why"
like "$(tr -d '\r' <"$T/lf.out")" "550 5.5.2" "and the refusal was answered"
is "$(msg_count)" "$n" "nothing was sent"
is "$(ls "$XDG_STATE_HOME/oauthmail/queue/q" | wc -l)" 0 "nothing was queued"

# 10. max_message_size holds for every submission path, before exit 0 or
#     the 250: the command line and -bs alike.
write_config "$ACCOUNT" "max_message_size 2K"
big=$(awk 'BEGIN { for (i = 0; i < 100; i++) printf "line %03d of a message that is too big for the limit\n", i }')
n=$(msg_count)
printf 'Subject: big argv\n\n%s\n' "$big" | "$OAUTHMAIL" bob@example.test 2>"$T/big.err"
is "$?" 65 "argv: a message over max_message_size exits 65"
like "$(cat "$T/big.err")" "max_message_size" "and names the setting"
{ echo '< ^220'; echo '> HELO x'; echo '< ^250'
  echo '> MAIL FROM:<alice@example.test>'; echo '< ^250'
  echo '> RCPT TO:<bob@example.test>'; echo '< ^250'
  echo '> DATA'; echo '< ^354'; echo '> Subject: big bs'; echo '>'
  printf '%s\n' "$big" | sed 's/^/> /'; echo '> .'
  echo '< ^554 5\.6\.0 .*max_message_size'
  echo '> MAIL FROM:<alice@example.test>'; echo '< ^250'
  echo '> RCPT TO:<bob@example.test>'; echo '< ^250'
  echo '> DATA'; echo '< ^354'; echo '> Subject: small bs'; echo '>'
  echo '> fits'; echo '> .'; echo '< ^250 2\.0\.0 Ok: sent'
  echo '> QUIT'; echo '< ^221'; echo 'exit 0'; } >"$T/big.bs"
dialogue big; ok $? "-bs: a message over max_message_size gets 554, the next one 250"
is "$(msg_count)" $((n + 1)) "only the small message was sent"
is "$(msg_header Subject)" "small bs" "it is the small one"
is "$(ls "$XDG_STATE_HOME/oauthmail/queue/q" | wc -l)" 0 "nothing of the big ones queued"
done_testing
