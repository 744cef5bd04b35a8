# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# The queue daemon and held mail: an account whose server refuses the
# authentication (Microsoft's "535 5.7.139 ... SMTP client authentication
# is disabled for the Tenant.") is tried at most once per step of the hold
# schedule, whatever the number of held messages and of new ones; the
# schedule survives a daemon restart; mailq and the log say when the next
# try is; "oauthmail login" gives the account its turn back at once.
. "$top_srcdir/tests/integration/lib.sh"

need_oauthmail
[ "$(om_server)" = smtpd ] || skip_all "needs the fake server's AUTH faults"
start_oauth || bail "OAuth server"
start_smtpd || bail "SMTP server"
start_kernel_keyring || skip_all "no kernel keyring"
# Client credentials: "oauthmail login" needs no person.
write_config "" "timeout 10" "client_id conf-client" \
    "flow client_credentials" "scope https://outlook.office365.com/.default"
at_exit "keyring_del $ACCOUNT token; keyring_del $ACCOUNT client_secret"
keyring_put "$ACCOUNT" client_secret conf-secret || bail "keyring_put"
om login "$ACCOUNT" >/dev/null 2>&1 || bail "login"
Q=$XDG_STATE_HOME/oauthmail/queue
nq() { ls "$Q/$1" 2>/dev/null | grep -c '\.env$'; }
sendsub() { # sendsub SUBJECT ARGS...: submit a small message
	_s=$1; shift
	printf 'To: bob@example.test\nSubject: %s\n\nbody\n' "$_s" |
	    "$OAUTHMAIL" "$@" bob@example.test
}
auths() { smtp_stat auth_attempts; }
conns() { smtp_stat connections; }
DPID=
start_daemon() {
	"$OAUTHMAIL" -bd >>"$T/daemon.out" 2>&1 &
	DPID=$!
	at_exit "kill $DPID 2>/dev/null || :"
	wait_file "$Q/daemon.pid" 5
}
stop_daemon() {
	kill -TERM "$DPID"
	wait "$DPID"
}

# ---- 5 messages held by one queue run (one session for all of them).
smtpd_faults auth_disabled_tenant
for i in 1 2 3 4 5; do sendsub "held-$i" -odq || fail "submit held-$i"; done
c0=$(conns)
run_ok "-q with the AUTH refused" "$OAUTHMAIL" -q
is "$(nq hold)" 5 "the 5 messages are held"
is "$(( $(conns) - c0 ))" 1 "one connection for the 5 messages"
log_contains "5 messages held \\(.*5\\.7\\.139.*\\); next try in 1m .*'oauthmail flush' tries now" \
    "the log says they are held and when the next try is"
run_ok "mailq" "$OAUTHMAIL" -bp
like "$(cat "$T/out")" "account held: next try in [0-9]+[sm]" \
    "mailq says when the next try is"

# ---- 10 s of the daemon: no storm (the step is 1 minute).
a0=$(auths) c0=$(conns)
start_daemon
sleep 10
a1=$(auths) c1=$(conns)
diag "10 s of -bd with 5 held messages: $((a1 - a0)) AUTH, $((c1 - c0)) connections"
ok "$([ $((a1 - a0)) -le 1 ]; echo $?)" "at most 1 AUTH in 10 s of -bd ($((a1 - a0)))"
ok "$([ $((c1 - c0)) -le 1 ]; echo $?)" "at most 1 connection in 10 s of -bd ($((c1 - c0)))"
is "$(nq hold)" 5 "the 5 messages are still held"

# New mail for the held account joins the held mail without a session.
for i in 6 7 8; do sendsub "held-$i" -odq || fail "submit held-$i"; done
_held8() { [ "$(nq hold)" -eq 8 ]; }
wait_for 10 _held8
is "$(nq hold)" 8 "3 new messages are set aside with the held ones"
is "$(nq q)" 0 "none waits in q/"
is "$(( $(conns) - c1 ))" 0 "no connection for them"

# The schedule survives a restart of the daemon.
stop_daemon
is "$?" 0 "the daemon stops with exit 0"
a0=$(auths) c0=$(conns)
start_daemon
sleep 3
is "$(( $(auths) - a0 ))" 0 "a restarted daemon keeps the schedule: no AUTH"

# "sendmail -q" beside the daemon tries the held mail at once: it moves
# the 8 messages into q/, which wakes the daemon; the daemon must not
# take them for a session of its own before the step is over.
a0=$(auths)
run_ok "-q beside the daemon" "$OAUTHMAIL" -q
sleep 3
ok "$([ $(( $(auths) - a0 )) -le 1 ]; echo $?)" \
    "-q beside the daemon: one AUTH, none by the daemon ($(( $(auths) - a0 )))"
_held8() { [ "$(nq hold)" -eq 8 ]; }
wait_for 10 _held8
is "$(nq hold)$(nq q)" "80" "the 8 messages are held again, none left in q/"

# ---- A new sign-in: the daemon tries at once, the mail goes.
smtpd_faults
n=$(msg_count)
run_ok "login" om login "$ACCOUNT"
_all8() { [ "$(msg_count)" -ge $((n + 8)) ]; }
wait_for 15 _all8
is "$(msg_count)" "$((n + 8))" "after the login the daemon delivered the 8 messages"
is "$(nq hold)$(nq q)" "00" "hold/ and q/ are empty"
run_ok "mailq" "$OAUTHMAIL" -bp
like "$(cat "$T/out")" "Mail queue is empty" "mailq: empty"
# The run records its outcome after the last message has gone.
_forgot() { ! grep -q "$ACCOUNT" "$Q/hold-schedule"; }
wait_for 10 _forgot
ok "$(_forgot; echo $?)" "the schedule forgot the account"
stop_daemon

# ---- The step grows: refused again at +1 min is +2 min, and so on.
smtpd_faults auth_disabled_tenant
sendsub "again-1" -odq
run_ok "-q" "$OAUTHMAIL" -q
is "$(nq hold)" 1 "held again"
# Pretend the first step is over (the clock is not ours to move).
$PY - "$Q/hold-schedule" "$ACCOUNT" <<'EOF'
import sys, time
path, acct = sys.argv[1], sys.argv[2]
lines = open(path).read().splitlines()
out = []
for l in lines:
    f = l.split("\t")
    if f[0] == acct:
        f[3] = str(int(time.time()) - 1)
    out.append("\t".join(f))
open(path + ".x", "w").write("\n".join(out) + "\n")
import os; os.chmod(path + ".x", 0o600); os.replace(path + ".x", path)
EOF
a0=$(auths) c0=$(conns)
start_daemon
_tried() { [ "$(conns)" -gt "$c0" ]; }
wait_for 10 _tried
sleep 3
is "$(( $(conns) - c0 ))" 1 "a due held account: exactly one connection"
# The daemon rewrites the schedule after the refused attempt: wait for it
# (a sanitizer build is slower).
_counted() { [ "$(awk -F '\t' -v a="$ACCOUNT" '$1 == a { print $2 }' "$Q/hold-schedule")" = 2 ]; }
wait_for 15 _counted
fails=$(awk -F '\t' -v a="$ACCOUNT" '$1 == a { print $2 }' "$Q/hold-schedule")
next=$(awk -F '\t' -v a="$ACCOUNT" '$1 == a { print $4 }' "$Q/hold-schedule")
is "$fails" 2 "the schedule counts the second refusal"
d=$(( next - $(date +%s) ))
ok "$([ "$d" -gt 100 ] && [ "$d" -le 120 ]; echo $?)" "the next step is 2 minutes ($d s)"
stop_daemon

done_testing
