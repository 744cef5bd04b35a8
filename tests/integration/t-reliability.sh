# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# Reliability: kill -9 at random points during intake and during delivery
# (no acknowledged message lost, nothing invented, duplicates only in the
# window after the server's 250 to DATA and before the recipients' states
# are recorded),
# a full disk while spooling (non-zero exit, nothing partial left), and 100
# concurrent submissions while a runner delivers (each exactly once).
#
# REL_TRIALS (default 150) sets the number of kill trials, split between
# intake and delivery; tests/bench/kill9.sh runs many more. REL_SEED fixes
# the random sequence. The script stays well under 120 s with the default.
. "$top_srcdir/tests/integration/lib.sh"

need_oauthmail
start_oauth || bail "OAuth server"
start_smtpd --slow-seconds 0.3 || bail "SMTP server"
start_kernel_keyring || skip_all "no kernel keyring"
write_config "" "timeout 5" "max_rate 0"
seed_token "$ACCOUNT" || bail "seed"
Q=$XDG_STATE_HOME/oauthmail/queue
TRIALS=${REL_TRIALS:-150}
SEED=${REL_SEED:-$$}
diag "trials=$TRIALS seed=$SEED"
SUB=$T/submitted	# "SUBJECT RC" per submission
: >"$SUB"
: >"$T/kills"

# rnd N: sets R to a pseudo-random integer 0..N-1 (a seeded LCG, no fork).
_st=$((SEED % 2147483648))
rnd() {
	_st=$(( (_st * 1103515245 + 12345) % 2147483648 ))
	R=$(( (_st / 65536) % $1 ))
}
# writer SUBJECT MS: a slow writer (headers, pause, body in two parts).
writer() {
	printf 'From: alice@example.test\nTo: bob@example.test\nSubject: %s\n' "$1"
	sleep "0.0$(printf '%02d' $(($2 / 2)))"
	printf '\nline one of %s\n' "$1"
	i=0; while [ $i -lt 50 ]; do printf 'padding line %d of the body\n' $i; i=$((i + 1)); done
	sleep "0.0$(printf '%02d' $(($2 / 2)))"
	printf 'last line\n'
}
arrived() { grep -l "^Subject: $1[[:space:]]*\$" "$SMTP_MAILDIR"/new/*.eml 2>/dev/null | wc -l | tr -d ' '; }
drain() { # run -q until the queue is quiet (at most 5 runs)
	_d=0
	while [ $_d -lt 5 ]; do
		"$OAUTHMAIL" -q >/dev/null 2>&1
		[ "$(ls "$Q/q" 2>/dev/null | grep -c '\.env$')" -eq 0 ] && return 0
		_d=$((_d + 1))
	done
	return 1
}
# One kill trial. $1 = mode: intake (-odq, killed while reading stdin) or
# fg (default foreground: intake then delivery, killed anywhere) or run
# (two messages queued, "-q" killed during delivery).
trial() {
	_n=$2
	case $1 in
	intake|fg)
		_s="rel-$1-$_n"
		rnd 80; _w=$R		# writer takes 0..80 ms
		rnd 250; _k=$R		# kill after 0..250 ms
		_flag=; [ "$1" = intake ] && _flag=-odq
		writer "$_s" "$_w" | "$OAUTHMAIL" $_flag bob@example.test >/dev/null 2>&1 &
		_p=$!
		sleep "$(awk -v k="$_k" 'BEGIN { printf "%.3f", k / 1000 }')"
		kill -9 $_p 2>/dev/null && echo "$_s killed=$_k" >>"$T/kills"
		wait $_p; _rc=$?
		echo "$_s $_rc" >>"$SUB"
		;;
	run)
		for _m in a b; do
			_s="rel-run-$_n$_m"
			writer "$_s" 0 | "$OAUTHMAIL" -odq bob@example.test >/dev/null 2>&1
			echo "$_s $?" >>"$SUB"
		done
		rnd 4
		case $R in
		0) smtpd_faults slow_greeting ;;
		1) smtpd_faults hang_data_end ;;
		*) smtpd_faults ;;
		esac
		rnd 450; _k=$R
		"$OAUTHMAIL" -q >/dev/null 2>&1 &
		_p=$!
		sleep "$(awk -v k="$_k" 'BEGIN { printf "%.3f", k / 1000 }')"
		kill -9 $_p 2>/dev/null && echo "rel-run-$_n killed=$_k" >>"$T/kills"
		wait $_p 2>/dev/null
		smtpd_faults
		;;
	esac
	drain || echo "drain failed after $1 $_n" >>"$T/drainfail"
}

start=$(date +%s)
third=$((TRIALS / 3))
i=0
while [ $i -lt $TRIALS ]; do
	if [ $i -lt $third ]; then trial intake $i
	elif [ $i -lt $((2 * third)) ]; then trial fg $i
	else trial run $i; fi
	i=$((i + 1))
done
diag "killed: intake $(grep -c '^rel-intake' "$T/kills"), foreground send $(grep -c '^rel-fg' "$T/kills"), queue run $(grep -c '^rel-run' "$T/kills")"
diag "kill trials took $(( $(date +%s) - start )) s; $(wc -l <"$T/kills" | tr -d ' ') processes killed"
ok "$([ ! -s "$T/drainfail" ]; echo $?)" "every trial's queue drained (-q until quiet)"

# Verdicts.
lost=0 acked=0 dups=0 dupok=0
while read -r s rc; do
	a=$(arrived "$s")
	if [ "$rc" = 0 ]; then
		acked=$((acked + 1))
		[ "$a" -ge 1 ] || { lost=$((lost + 1)); diag "LOST: $s"; }
	fi
	if [ "$a" -gt 1 ]; then
		dups=$((dups + 1))
		# Allowed only in the window: the first copy was the last
		# message of its connection and that client never said QUIT
		# (killed after the 250, before the progress was recorded).
		f=$(grep -l "^Subject: $s[[:space:]]*\$" "$SMTP_MAILDIR"/new/*.eml | head -n 1)
		c=$(json_get connection "${f%.eml}.json")
		mic=$(json_get message_in_connection "${f%.eml}.json")
		last=$(grep -h "\"connection\": $c," "$SMTP_MAILDIR"/new/*.json | wc -l | tr -d ' ')
		if [ "$mic" = "$last" ] && ! grep -q "#$c > QUIT" "$SMTP_DIR/smtpd.log"; then
			dupok=$((dupok + 1))
		else
			diag "duplicate outside the window: $s (connection $c)"
		fi
	fi
done <"$SUB"
diag "submissions: $(wc -l <"$SUB" | tr -d ' '), acknowledged (exit 0): $acked, duplicates: $dups ($dupok in the 250-to-update window)"
[ -n "${REL_STATS:-}" ] && echo "trials=$TRIALS submitted=$(wc -l <"$SUB" | tr -d ' ') acked=$acked killed=$(wc -l <"$T/kills" | tr -d ' ') dups=$dups dups_in_window=$dupok" >>"$REL_STATS" || :
is "$lost" 0 "no acknowledged message was lost"
is "$dupok" "$dups" "duplicates only in the window after 250 to DATA"
invented=0
for f in "$SMTP_MAILDIR"/new/*.eml; do
	s=$(sed -n 's/^Subject: \(rel-[^[:space:]]*\).*/\1/p' "$f" | head -n 1)
	[ -n "$s" ] || continue
	grep -q "^$s " "$SUB" || { invented=$((invented + 1)); diag "not submitted: $s"; }
done
is "$invented" 0 "nothing arrived that was not submitted"
tail_ok=1
for f in "$SMTP_MAILDIR"/new/*.eml; do
	grep -q '^Subject: rel-' "$f" || continue
	grep -q '^last line' "$f" || { tail_ok=0; diag "truncated: $f"; }
done
is "$tail_ok" 1 "every delivered message is whole (no truncated intake sent)"

# The spool: no partial entries. Killed intakes may leave tmp/ files;
# they must be stale debris that the next run removes.
is "$(ls "$Q/q" | grep -c '\.env$')" 0 "q/ is empty after draining"
orph=$(for m in "$Q"/q/*.msg; do [ -e "$m" ] && [ ! -e "${m%.msg}.env" ] && echo "$m"; done | wc -l | tr -d ' ')
is "$orph" 0 "no message file without its envelope in q/"
ntmp=$(ls "$Q/tmp" | wc -l | tr -d ' ')
diag "tmp/ files left by killed intakes: $ntmp"
for f in "$Q"/tmp/*; do [ -e "$f" ] && touch -d '2 days ago' "$f"; done
run_ok "-q with stale tmp/ files" "$OAUTHMAIL" -q
is "$(ls "$Q/tmp" | wc -l | tr -d ' ')" 0 "a queue run removes stale tmp/ debris"
is "$(ls "$Q/corrupt" 2>/dev/null | wc -l | tr -d ' ')" 0 "nothing was quarantined"

# ---- Disk full while spooling: a 200 KB tmpfs as the queue.
if [ "$(id -u)" -eq 0 ] && mkdir -p "$T/small" && mount -t tmpfs -o size=200k,mode=0700 tmpfs "$T/small" 2>/dev/null; then
	at_exit "umount '$T/small' 2>/dev/null || umount -l '$T/small' 2>/dev/null || :"
	write_config "$ACCOUNT" "timeout 5" "queue_dir $T/small/queue"
	$PY -c 'import sys
sys.stdout.write("From: alice@example.test\nTo: bob@example.test\nSubject: too-big\n\n")
for i in range(20000): sys.stdout.write("line %06d of a message bigger than the disk\n" % i)' >"$T/big.eml"
	run_fails "disk full: non-zero exit" sh -c '"$OAUTHMAIL" -odq bob@example.test <"$1"' - "$T/big.eml"
	case $RC in 73|74|75) pass "disk full: exit $RC (cannot create / I/O / try later)" ;;
	*) fail "disk full: exit $RC" ;; esac
	like "$(cat "$T/err")" "queue|space|disk|write" "disk full: one clear line on stderr"
	diag "stderr: $(cat "$T/err")"
	is "$(find "$T/small/queue" -type f | wc -l | tr -d ' ')" 0 "disk full: nothing partial left in the queue"
	run_ok "a small message still fits" sh -c 'printf "Subject: fits\n\nok\n" | "$OAUTHMAIL" -odq bob@example.test'
	is "$(ls "$T/small/queue/q" | grep -c '\.env$')" 1 "... and is queued whole"
	write_config "$ACCOUNT" "timeout 5" "max_rate 0"
else
	skip "cannot mount a tmpfs (needs root)" 7
fi

# ---- 100 concurrent submissions while a runner delivers.
n0=$(msg_count)
"$OAUTHMAIL" -q1h >"$T/daemon.out" 2>&1 &
DPID=$!
at_exit "kill $DPID 2>/dev/null || :"
wait_file "$Q/daemon.pid" 5
pids=
i=0
while [ $i -lt 100 ]; do
	printf 'To: bob@example.test\nSubject: conc-%d\n\nbody %d\n' $i $i |
	    "$OAUTHMAIL" bob@example.test >/dev/null 2>>"$T/conc.err" &
	pids="$pids $!"
	i=$((i + 1))
done
# Also plain "-q" runs racing the daemon and the foreground senders.
j=0; while [ $j -lt 3 ]; do "$OAUTHMAIL" -q >/dev/null 2>&1; j=$((j + 1)); done
bad=0
for p in $pids; do wait "$p" || bad=$((bad + 1)); done
is "$bad" 0 "all 100 concurrent sendmail calls exited 0"
_all() { [ "$(grep -l '^Subject: conc-' "$SMTP_MAILDIR"/new/*.eml 2>/dev/null | wc -l)" -ge 100 ]; }
wait_for 30 _all
kill -TERM $DPID; wait $DPID; drc=$?
is "$drc" 0 "the runner stopped cleanly"
"$OAUTHMAIL" -q >/dev/null 2>&1
once=0 more=0 none=0
i=0
while [ $i -lt 100 ]; do
	a=$(arrived "conc-$i")
	case $a in 1) once=$((once + 1)) ;; 0) none=$((none + 1)) ;; *) more=$((more + 1)) ;; esac
	i=$((i + 1))
done
is "$once" 100 "100 concurrent submissions: each delivered exactly once"
is "$more" 0 "no duplicates"
is "$none" 0 "none missing"
is "$(ls "$Q/q" | grep -c '\.env$')" 0 "the queue is empty"

done_testing
