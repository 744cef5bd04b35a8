# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# Builds every libFuzzer target (tests/fuzz/run) and runs each for a few
# seconds over its seed corpus, regression inputs included: no crash, no
# sanitizer report. Skipped when clang or its libFuzzer runtime is missing.
. "$top_srcdir/tests/integration/lib.sh"
command -v "${CLANG:-clang}" >/dev/null 2>&1 || skip_all "clang not installed"

FUZZ_SECONDS=${FUZZ_SMOKE_SECONDS:-3} FUZZ_BUILD=$top_builddir \
    FUZZ_CRASHDIR=$top_builddir/tests/fuzz-crashes sh "$top_srcdir/tests/fuzz/run" >"$T/fuzz.out" 2>&1
rc=$?
[ "$rc" -eq 77 ] && skip_all "$(tail -n 1 "$T/fuzz.out")"
ntargets=$(ls "$top_srcdir"/tests/fuzz/fuzz_*.c | wc -l | tr -d ' ')
nok=$(grep -c '^ok - ' "$T/fuzz.out")
grep -E '^(not )?ok - ' "$T/fuzz.out" >"$T/lines"
while IFS= read -r l; do
	case $l in
	"ok - "*) pass "${l#ok - }" ;;
	*) fail "${l#not ok - }" "$(grep -A20 -F "$l" "$T/fuzz.out" | sed -n '2,21p' | grep '^#')" ;;
	esac
done <"$T/lines"
is "$nok" "$ntargets" "all $ntargets targets built and ran clean"
is "$rc" 0 "tests/fuzz/run exits 0"
[ "$rc" -ne 0 ] && diag "$(tail -n 30 "$T/fuzz.out")"
done_testing
