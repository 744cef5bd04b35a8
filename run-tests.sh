#!/bin/sh
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# One command: install what the tests need, build, run the test suite
# (unit tests, then integration tests against servers on 127.0.0.1, several
# at once) and print "N passed, N failed". tests/README explains the tiers.
#   ./run-tests.sh                  every tier (make check TIER=all)
#   ./run-tests.sh --tier "default interop"    only those tiers
#   ./run-tests.sh --sanitizers     ASan + UBSan (in ./build-asan): the
#                                   default and fuzz tiers
# JOBS=N runs N tests at once (default: 2 per CPU: a test spends part of its
# time waiting for its servers). Other arguments go to configure.
set -u
cd "$(dirname "$0")"
top=$PWD
BUILD_DIR=build
TIER=all
while [ $# -gt 0 ]; do
	case $1 in
	--sanitizers)
		BUILD_DIR=build-asan
		TIER="fuzz default"
		san=--enable-sanitizers
		;;
	--tier)
		[ $# -gt 1 ] || { echo "--tier needs a tier name"; echo "0 passed, 1 failed"; exit 1; }
		TIER=$2
		shift
		;;
	--tier=*) TIER=${1#--tier=} ;;
	*) break ;;
	esac
	shift
done
if [ "$BUILD_DIR" = build-asan ]; then
	set -- "$san" "$@"
	# Stop at the first report; leaks count.
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1}
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
	export ASAN_OPTIONS UBSAN_OPTIONS
fi
export BUILD_DIR
JOBS=${JOBS:-$((2 * $(nproc 2>/dev/null || echo 1)))}
t0=$(date +%s)
sh scripts/install-deps || exit 1
sh scripts/build "$@" || { echo "0 passed, 1 failed"; exit 1; }
cd "$BUILD_DIR"
t1=$(date +%s)
# Results of an earlier run (another tier) must not be counted.
rm -f tests/unit/*.trs tests/integration/*.trs tests/server/*.trs
make -k -j"$JOBS" check TIER="$TIER" T= > check.log 2>&1
status=$?
t2=$(date +%s)
grep -E '^(FAIL|ERROR|XPASS):' check.log || true
pass=0 fail=0
for f in tests/unit/*.trs tests/integration/*.trs tests/server/*.trs; do
	[ -f "$f" ] || continue
	p=$(grep -c '^:test-result: PASS' "$f")
	x=$(grep -cE '^:test-result: (FAIL|ERROR|XPASS)' "$f")
	pass=$((pass + p)) fail=$((fail + x))
done
if [ "$status" -ne 0 ] && [ "$fail" -eq 0 ]; then
	echo "make check failed (see $top/$BUILD_DIR/check.log):"
	tail -n 30 check.log
	fail=1
fi
echo "slowest tests (wall seconds; tests/README):"
cat tests/integration/*.log tests/server/*.log 2>/dev/null |
    sed -n 's/^# \(t-[^ ]*\): \([0-9][0-9]*\) s.*/\2 \1/p' | sort -rn | head -n 8 |
    awk '{ printf "  %5d  %s\n", $1, $2 }'
echo "tier $TIER, $JOBS at once: build $((t1 - t0)) s, tests $((t2 - t1)) s," \
    "load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
