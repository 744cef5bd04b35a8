#!/bin/sh
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# tests/bench/kill9.sh -- the kill -9 reliability trials of
# tests/integration/t-reliability.sh, many more of them (not part of CI).
#
# Usage, as root, from a configured build directory:
#   sh /path/to/oauthmail/tests/bench/kill9.sh [TRIALS [ROUNDS]]
# TRIALS per round (default 600), ROUNDS (default 1), each round with a
# new random seed (printed, so a failing round can be replayed with
# REL_SEED=... REL_TRIALS=... make check T=t-reliability.sh).
# Prints one line per round and the totals: submissions, acknowledged
# (exit 0), processes killed, duplicates and how many of them fell in the
# allowed window (after the server's 250 to DATA, before the recipients'
# states are recorded). Exits non-zero if any round failed (a lost or invented message,
# a duplicate outside the window, debris left in the spool).
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/../.." && pwd)}"
: "${top_builddir:=$(pwd)}"
: "${OAUTHMAIL:=$top_builddir/src/oauthmail}"
export top_srcdir top_builddir OAUTHMAIL
trials=${1:-600}
rounds=${2:-1}
stats=$(mktemp "${TMPDIR:-/tmp}/om-kill9.XXXXXX") || exit 1
trap 'rm -f "$stats"' EXIT
failed=0
r=1
while [ $r -le "$rounds" ]; do
	seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
	log=$top_builddir/tests/bench/kill9-round$r.log
	mkdir -p "$(dirname "$log")"
	start=$(date +%s)
	REL_TRIALS=$trials REL_SEED=$seed REL_STATS=$stats \
	    sh "$top_srcdir/tests/integration/t-reliability.sh" >"$log" 2>&1
	rc=$?
	bad=$(grep -c '^not ok' "$log")
	echo "round $r: seed $seed, $(( $(date +%s) - start )) s, exit $rc, $bad failed checks; $(tail -n 1 "$stats")"
	[ "$rc" -eq 0 ] && [ "$bad" -eq 0 ] || { failed=1; grep '^not ok' "$log" | head; }
	r=$((r + 1))
done
awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); s[kv[1]] += kv[2] } }
    END { printf "total: %d trials, %d submissions, %d acknowledged, %d killed, %d duplicates (%d in the 250-to-update window)", s["trials"], s["submitted"], s["acked"], s["killed"], s["dups"], s["dups_in_window"];
    if (s["killed"] > 0) printf "; %.2f%% of kills, %.2f%% of submissions", 100 * s["dups"] / s["killed"], 100 * s["dups"] / s["submitted"];
    printf "\n" }' "$stats"
exit $failed
