#!/bin/sh
# One command: install what the tests need, build, run the whole test suite
# (unit tests, then integration tests against real servers on 127.0.0.1) and
# print "N passed, N failed".
#   ./run-tests.sh --sanitizers   the same with ASan + UBSan (in ./build-asan)
# Other arguments go to configure.
set -u
cd "$(dirname "$0")"
top=$PWD
BUILD_DIR=build
if [ "${1:-}" = "--sanitizers" ]; then
	shift
	BUILD_DIR=build-asan
	set -- --enable-sanitizers "$@"
	# Stop at the first report; leaks count.
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1}
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
	export ASAN_OPTIONS UBSAN_OPTIONS
fi
export BUILD_DIR
sh scripts/install-deps || exit 1
sh scripts/build "$@" || { echo "0 passed, 1 failed"; exit 1; }
cd "$BUILD_DIR"
make -k check > check.log 2>&1
status=$?
grep -E '^(PASS|FAIL|ERROR|XPASS|SKIP):|^[a-z0-9_@-]+: (not )?ok|^integration(@[a-z]+)?:|^---- ' check.log \
	| grep -vE '^PASS:|: ok ' || true
pass=0 fail=0
for f in tests/unit/*.trs; do
	[ -f "$f" ] || continue
	p=$(grep -c '^:test-result: PASS' "$f")
	x=$(grep -cE '^:test-result: (FAIL|ERROR|XPASS)' "$f")
	pass=$((pass + p)) fail=$((fail + x))
done
if [ -f tests/integration/results.tap ]; then
	p=$(grep -cE '^[^:]+: ok ' tests/integration/results.tap)
	s=$(grep -cE '^[^:]+: ok .*# *SKIP' tests/integration/results.tap)
	x=$(grep -cE '^[^:]+: not ok ' tests/integration/results.tap)
	pass=$((pass + p - s)) fail=$((fail + x))
fi
if [ "$status" -ne 0 ] && [ "$fail" -eq 0 ]; then
	echo "make check failed (see $top/$BUILD_DIR/check.log):"
	tail -n 30 check.log
	fail=1
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
