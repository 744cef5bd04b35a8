#!/bin/sh
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# sysload.sh -- system mode under load: USERS local users submit MSGS
# messages each at once (sendmail -t -i through the set-gid maildrop),
# the delivery daemon (-bd, as its own user) delivers them to the test SMTP
# server over STARTTLS + XOAUTH2. Prints the time from the first submission
# until every message arrived, the daemon's peak RSS, and duplicates (by
# Subject, which is unique per message). Then, if Postfix is installed, the
# same load through Postfix's sendmail into a private Postfix instance
# (master running, relaying to a second test server), timed the same way.
#
#   cd build && sudo sh ../tests/bench/sysload.sh          # 10 x 100
#   BENCH_USERS=4 BENCH_MSGS=50 sh ../tests/bench/sysload.sh
# Needs root (creates users; Postfix drops privileges): without it, or in
# a sanitizer build, it skips (lib-sysmode.sh). Results are
# appended to tests/bench/results-sysload.txt in the build tree.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$(pwd)}"
: "${OAUTHMAIL:=$top_builddir/src/oauthmail}"
export top_srcdir top_builddir OAUTHMAIL
. "$top_srcdir/tests/integration/lib.sh"
# The spool tree, the daemon's user and group, the test servers, the
# configuration and the token: the integration tests' system mode.
SYS_NO_ADMIN=1
SYS_ACCOUNT_CONF="max_rate 0"
. "$top_srcdir/tests/integration/lib-sysmode.sh"
NU=${BENCH_USERS:-10} NM=${BENCH_MSGS:-100}
TOTAL=$((NU * NM))
OUT=$top_builddir/tests/bench/results-sysload.txt
mkdir -p "$(dirname "$OUT")"
say() { echo "$*" | tee -a "$OUT"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

users=
i=1
while [ $i -le "$NU" ]; do users="$users omb$$u$i"; i=$((i + 1)); done
cleanup_users() {
	for u in $users; do userdel "$u" >/dev/null 2>&1; done
	:
}
at_exit cleanup_users
for u in $users; do useradd -M -d /nonexistent -s /usr/sbin/nologin "$u" || bail "useradd $u"; done
mkdir -p "$S/msgs"
chmod 755 "$S/msgs"

# One 1 KB message per user and number (unique Subject).
mkmsg() { # USER N FILE
	{
		printf 'To: bob@example.test\nSubject: load %s %s\n\n' "$1" "$2"
		i=0
		while [ $i -lt 14 ]; do
			echo "the quick brown fox jumps over the lazy dog, again $i"
			i=$((i + 1))
		done
	} >"$3"
}
for u in $users; do
	n=1
	while [ $n -le "$NM" ]; do mkmsg "$u" $n "$S/msgs/$u.$n"; n=$((n + 1)); done
done
chmod 644 "$S/msgs"/*

as_daemon --bg "$BIN" -C "$CF" -bd >"$S/daemon.out" 2>"$S/daemon.err"
DPID=$!
_lib_pids="$_lib_pids $DPID"
sleep 1
dpid=$(pgrep -u $DU -f -- "-bd" | head -n 1)
[ -n "$dpid" ] || bail "daemon did not start: $(cat "$S/daemon.err")"

submit_all() { # COMMAND-PREFIX...: one background loop per user
	_pids=
	for u in $users; do
		(
			n=1
			while [ $n -le "$NM" ]; do
				"$@" "$u" "$S/msgs/$u.$n" || echo "submit $u $n failed" >>"$S/fail"
				n=$((n + 1))
			done
		) &
		_pids="$_pids $!"
	done
	wait $_pids	# not the daemon's
}
om_submit() { su -s /bin/sh "$1" -c "'$BIN' -C '$CF' -t -i <'$2'"; }
# run_load SUBMITTER: submits everything, waits (15 min at most) for all
# of it to arrive; sets t0 (start), t1 (submissions returned), t2 (all
# arrived), got (messages arrived) and uniq (distinct Subjects).
run_load() {
	t0=$(now_ms)
	submit_all "$1"
	t1=$(now_ms)
	deadline=$(( $(date +%s) + 900 ))
	while [ "$(msg_count)" -lt "$TOTAL" ] && [ "$(date +%s)" -lt "$deadline" ]; do
		sleep 0.2
	done
	t2=$(now_ms)
	got=$(msg_count)
	uniq=$(for f in $(msg_list); do sed -n 's/^Subject: //p' "$f" | head -n 1; done | sort -u | wc -l)
}

say "== oauthmail system mode: $NU users x $NM messages ($(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
run_load om_submit
rss=$(sed -n 's/^VmHWM:[[:space:]]*//p' /proc/$dpid/status 2>/dev/null)
say "submissions: $(( t1 - t0 )) ms for $TOTAL ($(cat "$S/fail" 2>/dev/null | wc -l) failed)"
say "all delivered after: $(( t2 - t0 )) ms (arrived $got of $TOTAL, distinct $uniq, duplicates $((got - uniq)))"
say "daemon peak RSS (VmHWM): $rss; SMTP connections: $(smtp_stat connections)"
kill $dpid 2>/dev/null

# ---- Postfix, the same load ------------------------------------------------
if ! command -v postfix >/dev/null 2>&1 || ! id postfix >/dev/null 2>&1; then
	say "postfix: not installed; left out"
	exit 0
fi
start_smtpd -n pf --no-require-auth || bail "second SMTP server"
PFD=$S/postfix
mkdir -p "$PFD/etc" "$PFD/spool" "$PFD/data"
chown postfix "$PFD/data"
# No listener of its own: pickup, cleanup, qmgr and smtp are enough.
sed -e 's/^smtp[[:space:]]*inet/#&/' /usr/share/postfix/master.cf.dist >"$PFD/etc/master.cf"
cat >"$PFD/etc/main.cf" <<EOF
compatibility_level = 3.6
config_directory = $PFD/etc
queue_directory = $PFD/spool
data_directory = $PFD/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
meta_directory = /etc/postfix
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = bench.example.test
mydestination =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
relayhost = [127.0.0.1]:$SMTP_PORT
smtp_tls_security_level = may
maillog_file_prefixes = $PFD
maillog_file = $PFD/postfix.log
EOF
postfix -c "$PFD/etc" set-permissions create-missing >/dev/null 2>&1
postfix -c "$PFD/etc" start >"$PFD/start.out" 2>&1 ||
    bail "postfix start: $(tail -n 3 "$PFD/start.out")"
at_exit "postfix -c '$PFD/etc' stop >/dev/null 2>&1"
# Postfix's sendmail honours -C only for root (alternate_config_directories
# would have to name the directory in the system's main.cf): every loop
# submits as root, through the same postdrop path.
pf_submit() { /usr/sbin/sendmail -C "$PFD/etc" -t -i <"$2"; }
say "== Postfix $(postconf -d -h mail_version 2>/dev/null): $NU loops x $NM messages, relaying to the same kind of server"
run_load pf_submit
rss=0
master=$(tr -d ' ' <"$PFD/spool/pid/master.pid" 2>/dev/null)
for p in $master $(pgrep -P "${master:-0}" 2>/dev/null); do
	r=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\).*/\1/p' /proc/$p/status 2>/dev/null)
	[ -n "$r" ] && rss=$((rss + r))
done
say "submissions: $(( t1 - t0 )) ms for $TOTAL"
say "all delivered after: $(( t2 - t0 )) ms (arrived $got of $TOTAL, distinct $uniq, duplicates $((got - uniq)))"
say "Postfix processes' peak RSS, summed (VmHWM): ${rss} kB; SMTP connections: $(smtp_stat connections)"
