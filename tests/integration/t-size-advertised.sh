# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# The size limit follows what the account's server advertises (EHLO
# SIZE n) once a session has seen it: a bigger message is refused at
# submission (exit 65, one line naming the limit, the server and the
# cure), on every path (foreground, -odq, -bs), with nothing queued and
# nothing sent; a small one still goes. max_message_size overrides it;
# "SIZE 0" (no fixed limit) and a damaged record fall back to 256 MiB.
. "$top_srcdir/tests/integration/lib.sh"

need_oauthmail
start_oauth || bail "OAuth server"
start_smtpd --size 1000000 || bail "SMTP server"
start_kernel_keyring || skip_all "no kernel keyring"
write_config
seed_token "$ACCOUNT" || bail "seed"
Q=$XDG_STATE_HOME/oauthmail/queue
REC=$Q/size-limits
nq() { find "$Q/q" "$Q/tmp" -type f 2>/dev/null | wc -l | tr -d ' '; }
# A message of about $1 bytes with subject $2.
mkmsg() {
	$PY -c '
import sys
n, subj = int(sys.argv[1]), sys.argv[2]
sys.stdout.write("Subject: %s\n\n" % subj)
line = "x" * 69 + "\n"
sys.stdout.write(line * (n // 70))' "$1" "$2"
}
mkmsg 2000000 big >"$T/big"
mkmsg 500000 small >"$T/small"

# 1. check (EHLO) records the server's limit, in a file only we can read.
run_ok "check" "$OAUTHMAIL" check "$ACCOUNT"
is "$(grep -v '^#' "$REC" 2>/dev/null)" "$ACCOUNT 127.0.0.1 $SMTP_PORT 1000000" \
    "check recorded the SIZE the server advertises"
is "$(stat -c %a "$REC" 2>/dev/null)" 600 "the record is mode 600"
"$OAUTHMAIL" status "$ACCOUNT" >"$T/status" 2>&1
like "$(cat "$T/status")" "size limit +1000000 bytes \(advertised by 127\.0\.0\.1:$SMTP_PORT\)" \
    "status shows the limit and where it comes from"

# 2. A 2 MB message: refused at submission, before exit 0.
n=$(msg_count)
"$OAUTHMAIL" bob@example.test <"$T/big" >"$T/out" 2>"$T/err"
is "$?" 65 "2 MB over the advertised 1,000,000: exit 65"
like "$(cat "$T/err")" "limit of 1000000 bytes; 127\.0\.0\.1:$SMTP_PORT advertises it \(EHLO SIZE\) and refuses larger ones: send a smaller one.*max_message_size" \
    "the error names the limit, where it came from and the cure"
is "$(wc -l <"$T/err" | tr -d ' ')" 1 "in one line"
is "$(nq)" 0 "nothing queued"
is "$(msg_count)" "$n" "nothing sent"
"$OAUTHMAIL" -odq bob@example.test <"$T/big" 2>"$T/err"
is "$?" 65 "queue only (-odq): exit 65 too"
is "$(nq)" 0 "nothing queued"

# 3. A small message still goes.
run_ok "a 500 KB message" sh -c '"$OAUTHMAIL" bob@example.test <"$1"' - "$T/small"
is "$(msg_count)" $((n + 1)) "it was sent"
is "$(msg_header Subject)" small "it is the small one"

# 4. -bs advertises the limit, refuses a declared size over it with 552
#    and a bigger DATA with 554; the next message is taken.
bs_size_dialogue small "$OAUTHMAIL" -bs
ok $? "-bs: SIZE advertised, 552 for SIZE=2000000, 554 for 2 MB, 250 for a small one" ||
    diag "$(cat "$T/bs.out" "$T/bs.err")"
is "$(msg_count)" $((n + 2)) "only the small -bs message was sent"
is "$(nq)" 0 "nothing of the big ones queued"

# 5. An explicit max_message_size wins over the advertised limit.
write_config "$ACCOUNT" "max_message_size 3M"
"$OAUTHMAIL" -odq bob@example.test <"$T/big" 2>"$T/err"
is "$?" 0 "max_message_size 3M: the 2 MB message is accepted"
is "$(nq)" 2 "and queued (the server will decide)"
"$OAUTHMAIL" status "$ACCOUNT" >"$T/status" 2>&1
like "$(cat "$T/status")" "size limit +3145728 bytes \(max_message_size\)" \
    "status names max_message_size"
rm -f "$Q"/q/*
write_config "$ACCOUNT" "max_message_size 100K"
"$OAUTHMAIL" -odq bob@example.test <"$T/small" 2>"$T/err"
is "$?" 65 "max_message_size 100K: 500 KB refused"
like "$(cat "$T/err")" "limit of 102400 bytes; the max_message_size of account $ACCOUNT" \
    "the error names the configured limit"
write_config "$ACCOUNT"

# 6. A damaged record is ignored: the default limit applies.
cp "$REC" "$T/rec.good"
printf '%s 127.0.0.1 %s 1x00\ngarbage\n\000\377\n' "$ACCOUNT" "$SMTP_PORT" >"$REC"
"$OAUTHMAIL" -odq bob@example.test <"$T/big" 2>"$T/err"
is "$?" 0 "a garbled record: the 256 MiB default, 2 MB accepted"
rm -f "$Q"/q/*
cp "$T/rec.good" "$REC"
chmod 666 "$REC"
"$OAUTHMAIL" -odq bob@example.test <"$T/big" 2>"$T/err"
is "$?" 0 "a record others may write is ignored"
rm -f "$Q"/q/*
cp "$T/rec.good" "$REC"
chmod 600 "$REC"

# 7. The server stops advertising a fixed limit (SIZE 0): a delivery
#    records it and the default applies again.
stop_smtpd
start_smtpd --size 0 || bail "SMTP server without SIZE"
write_config "$ACCOUNT"
run_ok "a send to the server without a SIZE limit" sh -c '"$OAUTHMAIL" bob@example.test <"$1"' - "$T/small"
like "$(cat "$REC")" "$ACCOUNT 127\.0\.0\.1 $SMTP_PORT 0" "the delivery recorded SIZE 0"
"$OAUTHMAIL" bob@example.test <"$T/big" 2>"$T/err"
is "$?" 0 "the 2 MB message is taken and sent"
is "$(msg_header Subject)" big "it arrived"
ls "$Q" | grep -q '^size-limits\.tmp' && fail "no temporary record file left" ||
    pass "no temporary record file left"
done_testing
