# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# What a submitter acknowledged with exit 0 the pickup accepts: messages
# just under a header limit (which intake's first pass makes bigger) are
# delivered; one size limit, max_message_size (default 256 MiB), refuses
# a bigger message before exit 0; a drop file the daemon still refuses
# gets a bounce to its submitter and a warning to the admin. Once the
# daemon has seen the server advertise a SIZE, that is the limit.
# The server first advertises no SIZE: the default limit holds.
SYS_SMTPD_ARGS="--size 0"
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-sysmode.sh"

printf '%s: %s@example.test\n' $WU $WU >>"$S/etc/aliases"
submit() {
	as_user $WU "$BIN" -C "$CF" "$@"
}
corrupt_count() {
	find "$S/spool/queue/corrupt" -type f 2>/dev/null | wc -l | tr -d ' '
}
# Messages to bob with this subject (a bounce quotes the headers).
with_subject() {
	_n=0
	for _f in "$SMTP_MAILDIR"/new/*.eml; do
		[ -f "$_f" ] || continue
		[ "$(json_get rcpt_tos "${_f%.eml}.json")" = bob@example.test ] || continue
		! grep -q "^Subject: $1" "$_f" || _n=$((_n + 1))
	done
	echo $_n
}

# 1. 9,999 header fields and no Date/Message-ID/From: intake adds three.
$PY -c '
import sys
w = sys.stdout.write
w("Subject: many fields\n")
for i in range(9998):
    w("X-F%d: v\n" % i)
w("\nbody\n")' >"$T/many"
submit bob@example.test <"$T/many" 2>"$T/e1"
is "$?" 0 "9,999 header fields: exit 0"
# 2. One 65,500-byte field without white space: intake breaks it.
$PY -c '
import sys
sys.stdout.write("Subject: long field\nX-Long: " + "x" * (65500 - 8) + "\n\nbody\n")' >"$T/long"
submit bob@example.test <"$T/long" 2>"$T/e2"
is "$?" 0 "a 65,500-byte header field: exit 0"
daemon -q
is "$(with_subject 'many fields')" 1 "the 9,999-field message was delivered"
is "$(with_subject 'long field')" 1 "the long-field message was delivered"
is "$(corrupt_count)" 0 "nothing set aside"
is "$(drop_files | wc -l | tr -d ' ')" 0 "the maildrop is empty"

# 3. Over the default limit (256 MiB): refused before exit 0.
{ printf 'Subject: huge\n\n'; head -c $((257 * 1024 * 1024)) /dev/zero | tr '\0' 'a' | fold -w 100; } |
    submit bob@example.test 2>"$T/e3"
is "$?" 65 "a 257 MiB message: exit 65"
like "$(cat "$T/e3")" "limit of 268435456 bytes.*max_message_size" "the error names the limit and the key"
is "$(wc -l <"$T/e3" | tr -d ' ')" 1 "in one line"
daemon -q
is "$(with_subject huge)" 0 "nothing delivered"
is "$(drop_files | wc -l | tr -d ' ')" 0 "its drop file was removed"
is "$(corrupt_count)" 0 "nothing set aside"

# 4. max_message_size set: the limit is the size as sent.
sed -i "s/^syslog off\$/syslog off\nmax_message_size 100K/" "$CF"
{ printf 'Subject: big\n\n'; head -c 200000 /dev/zero | tr '\0' 'b' | fold -w 70; } >"$T/big"
submit bob@example.test <"$T/big" 2>"$T/e4"
is "$?" 65 "200 KB over max_message_size 100K: exit 65"
like "$(cat "$T/e4")" "limit of 102400 bytes" "the error names the configured limit"
{ printf 'Subject: fits\n\n'; head -c 80000 /dev/zero | tr '\0' 'c' | fold -w 70; } >"$T/fits"
submit bob@example.test <"$T/fits" 2>"$T/e5"
is "$?" 0 "80 KB under it: exit 0"
daemon -q
is "$(with_subject fits)" 1 "delivered"
is "$(with_subject big)" 0 "the refused one was not"

# 5. Refused by the daemon after exit 0 (the limit lowered in between):
#    a bounce to the submitter (through the aliases), a warning to the
#    admin, the file kept in corrupt/.
submit bob@example.test <"$T/fits" 2>"$T/e6"
is "$?" 0 "submitted under the limit"
sed -i "s/^max_message_size 100K\$/max_message_size 50K/" "$CF"
daemon -q
is "$(with_subject fits)" 1 "not delivered once the limit is lower"
is "$(corrupt_count)" 1 "set aside in corrupt/"
n=0
for f in "$SMTP_MAILDIR"/new/*.eml; do
	j=${f%.eml}.json
	case "$(json_get rcpt_tos "$j")" in
	"$WU@example.test")
		n=$((n + 1))
		like "$(cat "$f")" "Subject: Undelivered Mail Returned to Sender" "the bounce's subject"
		like "$(cat "$f")" "Status: 5.3.4" "status 5.3.4 (message too big)"
		like "$(cat "$f")" "Final-Recipient: rfc822; bob@example.test" "names the recipient"
		like "$(cat "$f")" "Subject: fits" "quotes the message's headers"
		is "$(json_get mail_from "$j")" "" "null sender" ;;
	postmaster@example.test)
		like "$(cat "$f")" "refused maildrop file" "the admin was warned"
		like "$(cat "$f")" "max_message_size" "with the reason" ;;
	esac
done
is "$n" 1 "one bounce went to the submitter's address from the aliases"
is "$(grep -l 'refused maildrop file' "$SMTP_MAILDIR"/new/*.eml | wc -l | tr -d ' ')" 1 "one warning to the admin"

# 6. The server advertises SIZE 1000000: once the daemon has delivered to
#    it, a submitter refuses a 2 MB message before exit 0 (exit 65),
#    nothing reaches the maildrop; a small one still goes; -bs advertises
#    the limit; max_message_size overrides it.
REC=$MD/.size-limits
sed -i "/^max_message_size /d" "$CF"
stop_smtpd
start_smtpd --size 1000000 || bail "SMTP server with SIZE"
sed -i "s/^port .*/port $SMTP_PORT/" "$CF"
{ printf 'Subject: first\n\n'; head -c 500000 /dev/zero | tr '\0' 'd' | fold -w 70; } >"$T/small"
{ printf 'Subject: too big\n\n'; head -c 2000000 /dev/zero | tr '\0' 'e' | fold -w 70; } >"$T/big2"
submit bob@example.test <"$T/small" 2>"$T/e7"
is "$?" 0 "a 500 KB message before the daemon knew the limit: exit 0"
daemon -q
is "$(with_subject first)" 1 "delivered"
is "$(grep -cx "$ACCOUNT 127\.0\.0\.1 $SMTP_PORT 1000000" "$REC" 2>/dev/null)" 1 \
    "the daemon recorded the SIZE beside the ledger"
is "$(stat -c '%U:%G %a' "$REC" 2>/dev/null)" "$DU:$GQ 640" \
    "owned by the daemon's user, readable by the spool group only"
cp "$OAUTHMAIL" "$S/bin/oauthmail"
chmod 755 "$S/bin/oauthmail"
as_daemon "$S/bin/oauthmail" -C "$CF" status >"$T/status" 2>&1
like "$(cat "$T/status")" "size limit +1000000 bytes \(advertised by 127\.0\.0\.1:$SMTP_PORT\)" \
    "the daemon's user's status shows the limit and where it comes from"
as_user $WU cat "$REC" >/dev/null 2>&1
isnt "$?" 0 "a user cannot read it"
as_user $WU sh -c 'echo x >"$1"' - "$REC" 2>/dev/null
is "$(grep -c '^x' "$REC")" 0 "nor write it"
n=$(drop_files | wc -l | tr -d ' ')
submit bob@example.test <"$T/big2" 2>"$T/e8"
is "$?" 65 "2 MB over the advertised 1,000,000: exit 65"
like "$(cat "$T/e8")" "limit of 1000000 bytes; 127\.0\.0\.1:$SMTP_PORT advertises it \(EHLO SIZE\).*max_message_size" \
    "the error names the limit, where it came from and the cure"
is "$(wc -l <"$T/e8" | tr -d ' ')" 1 "in one line"
daemon -q
is "$(drop_files | wc -l | tr -d ' ')" "$n" "nothing left in the maildrop"
is "$(with_subject 'too big')" 0 "nothing delivered"
is "$(corrupt_count)" 1 "nothing set aside"
sed -i 's/^Subject: first/Subject: second/' "$T/small"
submit bob@example.test <"$T/small" 2>"$T/e9"
is "$?" 0 "a 500 KB message still goes: exit 0"
daemon -q
is "$(with_subject second)" 1 "delivered"
bs_size_dialogue only-big setpriv --reuid=$WU --regid="$(id -g $WU)" \
    --init-groups "$BIN" -C "$CF" -bs
ok $? "-bs: SIZE 1000000 advertised, 552 for SIZE=2000000, 554 for 2 MB" ||
    diag "$(cat "$T/bs.out" "$T/bs.err")"
sed -i "s/^syslog off\$/syslog off\nmax_message_size 3M/" "$CF"
submit bob@example.test <"$T/big2" 2>"$T/e10"
is "$?" 0 "max_message_size 3M overrides the advertised limit: exit 0"
is "$(find "$MD" -type f -name '[0-9a-f]*' -perm 0440 | wc -l | tr -d ' ')" 1 \
    "the message is in the maildrop, ready"

done_testing
