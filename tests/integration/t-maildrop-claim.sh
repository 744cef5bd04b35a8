# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# The maildrop pickup claims each drop file so that exactly one queue runner
# takes it, and goes by the writer's lock, never by the file's age: two
# runners at once deliver 100 submissions exactly once; a live writer's
# file is left alone however old it looks; a dead writer's unfinished
# file is set aside at once.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-sysmode.sh"

# 1. 100 submissions by two users, then two queue runners at once (the
#    daemon's run and 'oauthmail flush'), twice over.
i=0
while [ $i -lt 100 ]; do
	u=$WU
	[ $((i % 2)) = 0 ] || u=$OU
	printf 'Subject: race %03d\n\nbody %d\n' $i $i |
	    as_user $u "$BIN" -C "$CF" bob@example.test 2>>"$T/submit.err" ||
	    fail "submission $i exited $?"
	i=$((i + 1))
done
is "$(drop_files | wc -l | tr -d ' ')" 100 "100 drop files waiting"
daemon -q & p1=$!
daemon -q & p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
is "$r1:$r2" "0:0" "both runners exit 0"
# Whatever either runner left (an entry the other held) goes now.
daemon -q
wait_for 20 sh -c "[ \$(find '$SMTP_MAILDIR/new' -name '*.eml' | wc -l) -ge 100 ]"
is "$(msg_count)" 100 "100 messages arrived"
dups=$(cat "$SMTP_MAILDIR"/new/*.eml | grep '^Subject: race' | sort | uniq -d | wc -l)
is "$dups" 0 "no message arrived twice"
is "$(cat "$SMTP_MAILDIR"/new/*.eml | grep '^Subject: race' | sort -u | wc -l | tr -d ' ')" 100 "every message arrived"
is "$(drop_files | wc -l | tr -d ' ')" 0 "the maildrop is empty"
is "$(find "$S/spool/queue/corrupt" -type f 2>/dev/null | wc -l | tr -d ' ')" 0 "nothing set aside"

# 2. A writer still writing holds its lock: its file is skipped however
#    old it looks; once it exits 0 its message is delivered.
mkfifo "$T/fifo"
as_user $WU "$BIN" -C "$CF" bob@example.test <"$T/fifo" 2>"$T/slow.err" &
wpid=$!
exec 7>"$T/fifo"
printf 'Subject: slow writer\n\nfirst half\n' >&7
wait_for 10 sh -c "[ -n \"\$(find '$MD' -type f ! -name '.*')\" ]" ||
    fail "no drop file appeared"
f=$(drop_files | head -n 1)
touch -d '3 days ago' "$f"
daemon -q
is "$(drop_files)" "$f" "a locked drop file is skipped although it is 3 days old"
is "$(find "$S/spool/queue/corrupt" -type f | wc -l | tr -d ' ')" 0 "and not set aside"
printf 'second half\n' >&7
exec 7>&-
wait $wpid
is "$?" 0 "the slow writer exits 0"
daemon -q
wait_for 10 sh -c "grep -l 'slow writer' '$SMTP_MAILDIR'/new/*.eml >/dev/null 2>&1"
n=$(grep -l '^Subject: slow writer' "$SMTP_MAILDIR"/new/*.eml | wc -l)
is "$n" 1 "its message was delivered once"
like "$(cat "$(grep -l '^Subject: slow writer' "$SMTP_MAILDIR"/new/*.eml)")" "second half" "complete"

# 3. A writer killed mid-message: unlocked and unfinished, set aside at
#    the next run (not 24 hours later).
# setpriv execs the binary: $! is the writer itself.
setpriv --reuid=$WU --regid="$(id -g $WU)" --init-groups "$BIN" -C "$CF" \
    bob@example.test <"$T/fifo" 2>"$T/dead.err" &
wpid=$!
exec 7>"$T/fifo"
printf 'Subject: dead writer\n\npartial\n' >&7
wait_for 10 sh -c "[ -n \"\$(find '$MD' -type f ! -name '.*' -size +0)\" ]" ||
    fail "no drop file appeared"
kill -9 $wpid
wait $wpid 2>/dev/null
exec 7>&-
daemon -q
is "$(drop_files | wc -l | tr -d ' ')" 0 "the dead writer's file left the maildrop"
is "$(find "$S/spool/queue/corrupt" -name 'maildrop-*' | wc -l | tr -d ' ')" 1 "it was set aside in corrupt/"
like "$(cat "$T/daemon.err")" "never completed" "the daemon said why"
unlike "$(cat "$SMTP_MAILDIR"/new/*.eml)" "dead writer" "it was not delivered"

# 4. The running daemon (-bd, the interval an hour) takes each drop file as
#    soon as its writer is done: the chmod that marks it ready wakes it,
#    and a file still locked at that instant is retried, not left for the
#    next interval.
before=$(msg_count)
as_daemon --bg "$BIN" -C "$CF" -bd -q1h >"$T/bd.out" 2>&1
bdpid=$!
at_exit "kill $bdpid 2>/dev/null"
sleep 1
for i in 1 2 3 4 5; do
	printf 'Subject: live %d\n\nx\n' $i | as_user $WU "$BIN" -C "$CF" bob@example.test
done
wait_msgs $((before + 5)) 15
is "$(grep -l '^Subject: live' "$SMTP_MAILDIR"/new/*.eml | wc -l | tr -d ' ')" 5 "the daemon delivered all 5 within seconds"
kill $bdpid 2>/dev/null
wait $bdpid 2>/dev/null

done_testing
