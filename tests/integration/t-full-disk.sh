# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# A full disk after the server accepted a message: the queue is a 256 KiB
# tmpfs, the fake server holds its 250 to the final dot (fault
# gate_data_end) while the test fills the tmpfs, so the envelope cannot be
# rewritten when the runner records the outcome.
#  1. bob@ accepted, tempfail@ refused with 451: later runs retry only
#     tempfail@ (the server receives the message once), on the full disk
#     and after space is freed.
#  2. bob@ accepted, reject@ refused with 550: the DSN cannot be queued;
#     the entry stays in q/ (not failed/), and once there is space a run
#     queues the DSN, which reaches the sender; the message is not sent
#     again.
# Needs root (mount) and a private mount namespace (unshare -m), so that
# the tmpfs is seen by this test only; skipped otherwise.
if [ -z "${OM_FULLDISK_NS:-}" ] && [ "$(id -u)" -eq 0 ] &&
    command -v unshare >/dev/null 2>&1 && unshare -m true 2>/dev/null; then
	OM_FULLDISK_NS=1
	export OM_FULLDISK_NS
	exec unshare -m sh "$0" "$@"
fi
. "$top_srcdir/tests/integration/lib.sh"

need_oauthmail
[ "$(id -u)" -eq 0 ] || skip_all "needs root to mount a small tmpfs as the queue"
[ -n "${OM_FULLDISK_NS:-}" ] || skip_all "no private mount namespace (unshare -m)"
_pf_on && skip_all "needs the fake server (smtpd.py): fault gate_data_end"
MNT=$T/small
mkdir -p "$MNT"
mount -t tmpfs -o size=256k,mode=0700 tmpfs "$MNT" ||
    skip_all "cannot mount a tmpfs on $MNT"
at_exit "umount '$MNT' 2>/dev/null || umount -l '$MNT' 2>/dev/null || :"
start_oauth || bail "OAuth server"
start_smtpd || bail "SMTP server"
start_kernel_keyring || skip_all "no kernel keyring"
Q=$MNT/queue
write_config "" "timeout 30" "max_rate 0" "queue_dir $Q"
seed_token "$ACCOUNT" || bail "seed"

nq() { ls "$Q/$1" 2>/dev/null | grep -c '\.env$'; }
# Fills the tmpfs: a file grows until ENOSPC, then small files take what
# is left (tmpfs allocates whole pages).
fill() {
	dd if=/dev/zero of="$MNT/fill" bs=4096 2>/dev/null
	_i=0
	while [ $_i -lt 64 ] && printf x >"$MNT/fill.$_i" 2>/dev/null; do
		_i=$((_i + 1))
	done
}
unfill() { rm -f "$MNT"/fill*; }
full() { ! printf x >"$MNT/probe" 2>/dev/null; rc=$?; rm -f "$MNT/probe"; return $rc; }
# arrived SUBJECT: copies of that message (a DSN quoting it is not one).
arrived() {
	grep -l "^Subject: $1[[:space:]]*\$" "$SMTP_MAILDIR"/new/*.eml 2>/dev/null |
	    xargs -r grep -L '^Subject: Undelivered Mail' | wc -l | tr -d ' '
}
# run_gated: "-q" against the gate_data_end fault; the disk is filled
# between the message being stored and the 250.
run_gated() {
	rm -f "$SMTP_DIR/gate.wait" "$SMTP_DIR/gate.open"
	smtpd_faults gate_data_end:1
	"$OAUTHMAIL" -q >"$T/q.out" 2>&1 &
	_p=$!
	if wait_file "$SMTP_DIR/gate.wait" 30; then
		fill
		full && pass "the queue's file system is full before the 250" ||
		    fail "the queue's file system is full before the 250"
	else
		fail "the server got DATA" "$(tail -n 5 "$SMTP_DIR/smtpd.log")"
	fi
	touch "$SMTP_DIR/gate.open"
	wait $_p
	smtpd_faults
}
submit() { # SUBJECT RCPT... (queued only)
	_s=$1; shift
	printf 'From: alice@example.test\nTo: bob@example.test\nSubject: %s\n\nbody of %s\n' "$_s" "$_s" |
	    "$OAUTHMAIL" -odq "$@" >/dev/null 2>"$T/err"
}

# ---- 1. Sent to one recipient, deferred for the other.
submit full-partial bob@example.test tempfail@example.test
ok $? "queued to bob@ and tempfail@"
id1=$(ls "$Q/q" | sed -n 's/\.env$//p')
run_gated
is "$(arrived full-partial)" 1 "the server has the message once"
is "$(nq q)" 1 "the entry stays queued for tempfail@"
file_contains "$T/oauthmail.log" "No space left on device" "the failed envelope rewrite is logged"
"$OAUTHMAIL" -bp >"$T/mailq" 2>&1
file_contains "$T/mailq" "sent +<bob@example.test>" "mailq: bob@ is recorded as sent"
"$OAUTHMAIL" -q >/dev/null 2>&1
is "$(arrived full-partial)" 1 "a run on the full disk does not send it to bob@ again"
is "$(smtp_stat rcpt_tempfail)" 2 "... it retried tempfail@ only"
unfill
"$OAUTHMAIL" -q >/dev/null 2>&1
is "$(arrived full-partial)" 1 "nor a run after space was freed"
last=$(ls "$SMTP_MAILDIR"/new/*.json | tail -n 1)
is "$(json_get rcpt_tos "$last" | tr '\n' ' ')" "bob@example.test " "the one copy went to bob@ only"
# Give up on tempfail@ for the next part: it stays deferred.
rm -f "$Q/q/$id1.env" "$Q/q/$id1.msg"

# ---- 2. Sent to one recipient, refused for the other: a DSN is owed.
n0=$(msg_count)
submit full-bounce bob@example.test reject@example.test
ok $? "queued to bob@ and reject@"
id2=$(ls "$Q/q" | sed -n 's/\.env$//p')
run_gated
is "$(arrived full-bounce)" 1 "the server has the message once"
is "$(nq q)" 1 "the entry stays in q/: its DSN could not be queued"
is "$(nq failed)" 0 "... and is not set aside in failed/"
file_contains "$T/oauthmail.log" "$id2: could not queue a bounce \(.*No space left on device\).*later run tries again" \
    "the log says why and that it is tried again"
"$OAUTHMAIL" -q >/dev/null 2>&1
is "$(nq q)" 1 "a run on the full disk keeps it in q/"
is "$(arrived full-bounce)" 1 "... and does not send it again"
unfill
"$OAUTHMAIL" -q >/dev/null 2>&1
is "$(nq failed)" 1 "with space, the entry moves to failed/"
"$OAUTHMAIL" -q >/dev/null 2>&1
is "$(nq q)" 0 "the DSN was delivered (q/ is empty)"
dsn=$(grep -l '^Subject: Undelivered Mail Returned to Sender' "$SMTP_MAILDIR"/new/*.eml | head -n 1)
if [ -n "$dsn" ]; then
	pass "a DSN arrived"
	is "$(json_get rcpt_tos "${dsn%.eml}.json")" "alice@example.test" "... for the sender"
	file_contains "$dsn" "Final-Recipient: rfc822; reject@example.test" "... about reject@"
	file_contains "$dsn" "^Status: 5\.[0-9]" "... a permanent failure"
	file_lacks "$dsn" "Final-Recipient: rfc822; bob@example.test" "... not about bob@"
else
	fail "a DSN arrived" "$(ls "$SMTP_MAILDIR/new")"
	skip "no DSN" 4
fi
is "$(arrived full-bounce)" 1 "the message itself was sent once"
is "$(msg_count)" $((n0 + 2)) "nothing else arrived"
"$OAUTHMAIL" -q >/dev/null 2>&1
is "$(grep -l '^Subject: Undelivered Mail' "$SMTP_MAILDIR"/new/*.eml | wc -l | tr -d ' ')" 1 \
    "one DSN, however many runs"

done_testing
