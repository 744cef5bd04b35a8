#!/bin/sh
# One command: install what the tests need, build, run the whole test suite
# (unit tests, then integration tests against real servers on 127.0.0.1) and
# print "N passed, N failed".
set -u
cd "$(dirname "$0")"
top=$PWD
sh scripts/install-deps || exit 1
sh scripts/build "$@" || { echo "0 passed, 1 failed"; exit 1; }
cd build
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
	echo "make check failed (see $top/build/check.log):"
	tail -n 30 check.log
	fail=1
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
