# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# Delivery modes (-odq, -odb, config "delivery"), the queue runner daemon
# (woken by new mail, one per queue, SIGHUP, SIGTERM -> exit 0, token
# keep-alive), per-account pacing (max_rate) and connection reuse.
. "$top_srcdir/tests/integration/lib.sh"

need_oauthmail
start_oauth || bail "OAuth server"
start_smtpd || bail "SMTP server"
start_kernel_keyring || skip_all "no kernel keyring"
write_config "" "timeout 10"
seed_token "$ACCOUNT" || bail "seed"
Q=$XDG_STATE_HOME/oauthmail/queue
nq() { ls "$Q/$1" 2>/dev/null | grep -c '\.env$'; }
now_ms() { $PY -c 'import time; print(int(time.time() * 1000))'; }
sendsub() { # sendsub SUBJECT ARGS...: submit a small message
	_s=$1; shift
	printf 'To: bob@example.test\nSubject: %s\n\nbody\n' "$_s" |
	    "$OAUTHMAIL" "$@" bob@example.test
}
# (msg_list first: under OM_SERVER=postfix it brings $SMTP_MAILDIR up to date)
arrived() { msg_list >/dev/null; grep -l "^Subject: $1[[:space:]]*\$" "$SMTP_MAILDIR"/new/*.eml 2>/dev/null | wc -l | tr -d ' '; }
_arrived_1() { [ "$(arrived "$1")" -ge 1 ]; }

# ---- -odq: queued only, exit 0, sent by -q.
n=$(msg_count)
run_ok "-odq exits 0" sendsub odq-1 -odq
is "$(nq q)" 1 "-odq: the message is queued"
sleep 0.5
is "$(msg_count)" "$n" "-odq: nothing sent before -q"
run_ok "-q after -odq" "$OAUTHMAIL" -q
is "$(arrived odq-1)" 1 "-q sent the queued message once"
is "$(nq q)" 0 "the queue is empty again"

# ---- config "delivery queue" acts like -odq; -odi overrides it.
write_config "$ACCOUNT" "timeout 10" "delivery queue"
run_ok "delivery queue: exit 0" sendsub cfq-1
is "$(nq q)" 1 "delivery queue: queued"
is "$(arrived cfq-1)" 0 "delivery queue: not sent"
run_ok "-odi overrides delivery queue" sendsub cfq-2 -odi
is "$(arrived cfq-2)" 1 "-odi sent at once"
run_ok "-q" "$OAUTHMAIL" -q
is "$(arrived cfq-1)" 1 "queued one sent by -q"

# ---- -odb: the caller returns before a slow server greets; mail arrives.
write_config "$ACCOUNT" "timeout 10"
if needs_fake_server "a slow greeting (fault injection)" 8; then
smtpd_faults_json '{"faults": ["slow_greeting"], "slow_seconds": 3}'
t0=$(now_ms)
run_ok "-odb exits 0" sendsub odb-1 -odb
t1=$(now_ms)
smtpd_faults
el=$((t1 - t0))
if [ "$el" -lt 2000 ]; then pass "-odb returned in ${el} ms, before the 3 s greeting"
else fail "-odb returned in ${el} ms (server greets after 3 s)"; fi
is "$(arrived odb-1)" 0 "-odb: not yet delivered when the caller returns"
wait_for 15 _arrived_1 odb-1
is "$(arrived odb-1)" 1 "-odb: the background child delivered it"
wait_for 5 sh -c "[ \$(ls '$Q/q' | grep -c '\\.env\$') -eq 0 ]"
is "$(nq q)" 0 "-odb: entry removed after delivery"

# config "delivery background" + slow greeting: same.
write_config "$ACCOUNT" "timeout 10" "delivery background"
smtpd_faults_json '{"faults": ["slow_greeting"], "slow_seconds": 3}'
t0=$(now_ms)
run_ok "delivery background: exit 0" sendsub cfb-1
t1=$(now_ms)
smtpd_faults
el=$((t1 - t0))
if [ "$el" -lt 2000 ]; then pass "delivery background returned in ${el} ms"
else fail "delivery background took ${el} ms"; fi
wait_for 15 _arrived_1 cfb-1
is "$(arrived cfb-1)" 1 "delivery background: delivered"
fi

# ---- connection reuse: 20 queued messages, one -q, one connection.
write_config "$ACCOUNT" "timeout 10" "max_rate 0"
n=$(msg_count)
i=1
while [ $i -le 20 ]; do
	sendsub "reuse-$i" -odq || fail "submit reuse-$i"
	i=$((i + 1))
done
is "$(nq q)" 20 "20 messages queued"
run_ok "-q of 20" "$OAUTHMAIL" -q
is "$(msg_count)" "$((n + 20))" "all 20 delivered"
conns=$(i=$((n + 1)); while [ $i -le $((n + 20)) ]; do msg_field connection $i; i=$((i + 1)); done | sort -u | wc -l | tr -d ' ')
is "$conns" 1 "the 20 messages used one connection"
is "$(msg_field message_in_connection)" 20 "the last was message 20 of that connection"

# ---- pacing: max_rate 120/min -> >= 0.5 s between messages (server clock).
write_config "$ACCOUNT" "timeout 10" "max_rate 120"
n=$(msg_count)
for i in 1 2 3 4 5; do sendsub "pace-$i" -odq || fail "submit pace-$i"; done
run_ok "-q of 5 paced" "$OAUTHMAIL" -q
is "$(msg_count)" "$((n + 5))" "5 paced messages delivered"
gaps=$(i=$((n + 1)); while [ $i -le $((n + 5)) ]; do msg_field time $i; i=$((i + 1)); done |
    $PY -c 'import sys; t=[float(x) for x in sys.stdin]; print(" ".join("%.3f" % (b - a) for a, b in zip(t, t[1:])))')
diag "gaps between paced messages: $gaps"
mingap=$(echo "$gaps" | tr ' ' '\n' | sort -n | head -n 1)
like "$mingap" '^(0\.(49[5-9]|[5-9][0-9][0-9])|[1-9][0-9]*\.[0-9]+)$' "max_rate 120: every gap >= 0.5 s (min $mingap)"
conf_ok=$($PY -c 'import sys; print(1 if float(sys.argv[1]) < 1.5 else 0)' "$mingap")
is "$conf_ok" 1 "pacing does not over-wait (min gap < 1.5 s)"

# ---- the daemon: one interval run at start, then woken by new mail.
write_config "$ACCOUNT" "timeout 10" "max_rate 0"
# A token record whose refresh token is 20 days old: the daemon refreshes it.
old=$(( $(date +%s) - 20 * 86400 ))
rec=$(token_record "$ACCOUNT")
rec=$(printf '%s' "$rec" | $PY -c 'import json, sys; r = json.load(sys.stdin); r["refresh_issued"] = int(sys.argv[1]); r["last_success"] = 0; r["expires_at"] = int(sys.argv[1]) + 3600; print(json.dumps(r))' "$old")
keyring_put "$ACCOUNT" token "$rec"
refreshes=$(oauth_stat counts.refresh_ok)
"$OAUTHMAIL" -q1h >"$T/daemon.out" 2>&1 &
DPID=$!
at_exit "kill $DPID 2>/dev/null || :"
wait_file "$Q/daemon.pid" 5
is "$(cat "$Q/daemon.pid" 2>/dev/null)" "$DPID" "the daemon wrote its pid file"
run_rc 75 "a second daemon on the same queue refuses" "$OAUTHMAIL" -q1h
like "$(cat "$T/err")" "already serves" "... saying another daemon runs"
_refreshed() { [ "$(oauth_stat counts.refresh_ok)" -gt "$refreshes" ]; }
wait_for 10 _refreshed
ok $? "the daemon refreshed the 20-day-old token (keep-alive)"
ri=$(token_record "$ACCOUNT" refresh_issued)
if [ -n "$ri" ] && [ "$ri" -gt "$old" ]; then pass "refresh_issued moved forward"
else fail "refresh_issued is still $ri"; fi
log_contains "refreshed the token to keep" "the keep-alive refresh is logged"
sleep 0.5
t0=$(now_ms)
run_ok "-odq with the daemon running" sendsub daemon-1 -odq
wait_for 5 _arrived_1 daemon-1
t1=$(now_ms)
is "$(arrived daemon-1)" 1 "the daemon delivered new mail at once (interval 1 h)"
diag "daemon pick-up latency: $((t1 - t0)) ms"
for i in 1 2 3 4 5; do sendsub "daemon-burst-$i" -odq; done
_burst() { for _i in 1 2 3 4 5; do [ "$(arrived daemon-burst-$_i)" -eq 1 ] || return 1; done; }
wait_for 10 _burst
ok $? "a burst of 5 is delivered by the daemon"
sleep 0.5
dups=0; for i in 1 2 3 4 5; do [ "$(arrived daemon-burst-$i)" -eq 1 ] || dups=$((dups + 1)); done
is "$dups" 0 "each burst message exactly once"

# SIGHUP re-reads the configuration (a broken one is refused, kept running).
kill -HUP $DPID
sleep 0.3
sendsub daemon-hup -odq
wait_for 5 _arrived_1 daemon-hup
ok $? "still delivering after SIGHUP"
log_contains "configuration reloaded" "SIGHUP reload is logged"

# SIGTERM: clean exit 0, pid file removed.
kill -TERM $DPID
wait $DPID
is "$?" 0 "SIGTERM: the daemon exits 0"
ok "$([ ! -e "$Q/daemon.pid" ]; echo $?)" "the pid file is removed"

# A killed daemon's stale pid file does not block the next one.
"$OAUTHMAIL" -q1h >"$T/daemon2.out" 2>&1 &
DPID=$!
wait_file "$Q/daemon.pid" 5
kill -9 $DPID; wait $DPID 2>/dev/null
"$OAUTHMAIL" -bd -q1h >"$T/daemon3.out" 2>&1 &
DPID=$!
wait_file "$Q/daemon.pid" 5
sleep 0.3
is "$(cat "$Q/daemon.pid" 2>/dev/null)" "$DPID" "a new daemon takes over a stale pid file"
kill -INT $DPID
wait $DPID
is "$?" 0 "SIGINT: exit 0"

done_testing
