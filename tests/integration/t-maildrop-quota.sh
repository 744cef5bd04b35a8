# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# One local user cannot fill the spool: maildrop_max_files and
# maildrop_max_bytes bound what a user may have waiting in the maildrop
# (exit 75 with the reason, per user), counted in the ledger the daemon
# keeps; corrupt/ entries older than corrupt_max_age are removed with a
# log line each.
SYS_GLOBAL_CONF='maildrop_max_files 3
maildrop_max_bytes 10K
corrupt_max_age 2s'
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-sysmode.sh"

send_as() {
	_u=$1
	shift
	printf 'Subject: %s\n\nbody\n' "$1" | as_user $_u "$BIN" -C "$CF" bob@example.test
}

# The daemon's first run makes the ledger.
daemon -q
is "$(stat -c '%U:%G %a' "$MD/.usage" 2>/dev/null)" "$DU:$GQ 660" "the daemon keeps the ledger (0660, the spool group)"

# 1. Count: three waiting messages, the fourth is refused (75) until the
#    daemon has taken them; another user is not affected.
for i in 1 2 3; do
	send_as $WU "count $i" 2>>"$T/count.err"
	is "$?" 0 "message $i of $WU accepted"
done
send_as $WU "count 4" 2>"$T/e4"
is "$?" 75 "the fourth waiting message is refused: exit 75"
like "$(cat "$T/e4")" "3 messages of uid $(id -u $WU).*maildrop_max_files 3" "the error says why"
is "$(wc -l <"$T/e4" | tr -d ' ')" 1 "in one line"
is "$(drop_files | wc -l | tr -d ' ')" 3 "no fourth drop file"
send_as $OU "other user" 2>"$T/eo"
is "$?" 0 "another user still submits"
daemon -q
is "$(grep -l '^Subject: count' "$SMTP_MAILDIR"/new/*.eml | wc -l | tr -d ' ')" 3 "the three were delivered"
send_as $WU "count 5" 2>"$T/e5"
is "$?" 0 "once the daemon took them, $WU submits again"
daemon -q

# 2. Bytes: a writer still writing has 64 KiB in the maildrop, over 10K.
mkfifo "$T/fifo"
setpriv --reuid=$WU --regid="$(id -g $WU)" --init-groups "$BIN" -C "$CF" \
    bob@example.test <"$T/fifo" 2>"$T/slow.err" &
wpid=$!
exec 7>"$T/fifo"
{ printf 'Subject: big writer\n\n'; head -c 70000 /dev/zero | tr '\0' 'z' | fold -w 70; } >&7
wait_for 10 sh -c "[ -n \"\$(find '$MD' -type f ! -name '.*' -size +60k)\" ]" ||
    fail "the writer's file did not grow"
daemon -q
send_as $WU "over bytes" 2>"$T/e6"
is "$?" 75 "over maildrop_max_bytes: exit 75"
like "$(cat "$T/e6")" "bytes of uid $(id -u $WU).*maildrop_max_bytes 10240" "the error says why"
exec 7>&-
wait $wpid
is "$?" 0 "the big writer finishes with exit 0"
daemon -q
send_as $WU "after bytes" 2>"$T/e7"
is "$?" 0 "accepted again once the daemon took the big one"
daemon -q
is "$(grep -l '^Subject: big writer' "$SMTP_MAILDIR"/new/*.eml | wc -l | tr -d ' ')" 1 "the big one was delivered"
is "$(grep -l '^Subject: after bytes' "$SMTP_MAILDIR"/new/*.eml | wc -l | tr -d ' ')" 1 "and the next one"

# 3. corrupt/ is cleaned after corrupt_max_age, with a log line.
C=$S/spool/queue/corrupt
printf 'x' >"$C/maildrop-old"
sleep 3
printf 'y' >"$C/maildrop-new"
: >"$T/daemon.err"
daemon -v -q
[ -e "$C/maildrop-old" ] && fail "the old entry is still there" || pass "the entry older than corrupt_max_age was removed"
[ -e "$C/maildrop-new" ] && pass "the recent one stays" || fail "the recent one was removed"
like "$(cat "$T/daemon.err")" "corrupt/maildrop-old removed" "with a log line"

done_testing
