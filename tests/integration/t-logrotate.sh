#!/bin/sh
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# t-logrotate.sh -- the shipped logrotate snippet rotates the daemon's
# logfile, and the running daemon's next line goes to the new file (it
# follows the rename by itself: no signal, nothing lost to a truncation).
. "$top_srcdir/tests/integration/lib.sh"
need_oauthmail
command -v logrotate >/dev/null 2>&1 || skip_all "logrotate is not installed"

SNIPPET=$top_srcdir/debian/oauthmail.logrotate
is "$(grep -v '^#' "$SNIPPET")" "$(grep -v '^#' "$top_srcdir/doc/oauthmail.logrotate")" \
    "doc/ and debian/ ship the same rules"

start_smtpd || bail "SMTP server did not start"
write_config "" "auth plain" "timeout 10"
sed -i '/^provider\|^client_id\|^token_endpoint/d' "$CONFIG"
mkdir -p "$T/cred"
printf 'testpass\n' >"$T/cred/password.$ACCOUNT"
chmod 400 "$T/cred/password.$ACCOUNT"
LOG=$T/oauthmail.log
Q=$XDG_STATE_HOME/oauthmail/queue

CREDENTIALS_DIRECTORY=$T/cred "$OAUTHMAIL" -bd -q1h >"$T/daemon.out" 2>&1 &
DPID=$!
at_exit "kill $DPID 2>/dev/null"
wait_file "$Q/daemon.pid" 10 || bail "the daemon did not start: $(cat "$T/daemon.out")"

# send N: one message to rotN@example.test, queued for the daemon.
send() {
	printf 'To: rot%s@example.test\nSubject: rotate %s\n\nbody\n' "$1" "$1" |
	    "$OAUTHMAIL" -odq "rot$1@example.test"
}
logged() { grep -qs "rot$1@example\\.test" "$2"; }

send 1 || fail "queueing the first message"
wait_for 20 logged 1 "$LOG"
file_contains "$LOG" "rot1@example\\.test" "the daemon logs the first delivery to the log file"

# The snippet, pointed at the test's log file; "su" only matters for a
# directory another user owns (this one is the test's own, 0700).
sed -e "s|^/var/log/oauthmail/\\*\\.log|$LOG|" -e '/^[[:space:]]*su /d' \
    "$SNIPPET" >"$T/logrotate.conf"
run_ok "logrotate -f with the shipped rules" \
    logrotate -f -s "$T/logrotate.state" "$T/logrotate.conf"
[ -f "$LOG.1" ] && pass "the log was rotated to oauthmail.log.1" ||
    fail "no oauthmail.log.1" "$(ls -l "$T")"
file_contains "$LOG.1" "rot1@example\\.test" "the first line is in the rotated file"

send 2 || fail "queueing the second message"
wait_for 20 logged 2 "$LOG"
file_contains "$LOG" "rot2@example\\.test" "the next line goes to a new oauthmail.log"
file_lacks "$LOG" "rot1@example\\.test" "the new file starts empty"
file_lacks "$LOG.1" "rot2@example\\.test" "nothing more goes to the rotated file"
is "$(stat -c %a "$LOG")" 600 "the new file is created 0600"
is "$(msg_count)" 2 "both messages were delivered"

# A second rotation: delaycompress compresses the older one.
run_ok "a second rotation" logrotate -f -s "$T/logrotate.state" "$T/logrotate.conf"
[ -f "$LOG.2.gz" ] && pass "the older log is compressed" || fail "no oauthmail.log.2.gz"
send 3 || fail "queueing the third message"
wait_for 20 logged 3 "$LOG"
file_contains "$LOG" "rot3@example\\.test" "after the second rotation, a new file again"
kill -TERM "$DPID"
wait "$DPID"
is "$?" 0 "the daemon exits 0"
done_testing
