# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# The structure rules of doc/design.md §2 hold: no module includes a
# header of a layer above its own, the libraries are included only by
# the modules allowed to (scripts/check-layers), and no banned function
# is used (make check-banned's list); every source file carries the
# licence notice.
. "$top_srcdir/tests/integration/lib.sh"

run_ok "scripts/check-layers: layers and library rules" sh "$top_srcdir/scripts/check-layers" "$top_srcdir/src"
[ "$RC" -eq 0 ] || diag "$(cat "$T/out")"
if grep -nE '\b(strcpy|strcat|sprintf|vsprintf|gets|strtok|atoi)\s*\(' "$top_srcdir"/src/*.c >"$T/banned"; then
	fail "banned functions used" "$(head -n 5 "$T/banned")"
else
	pass "no banned function (strcpy, strcat, sprintf, gets, strtok, atoi)"
fi
# The ISC notice (LICENSE) on the first lines of every source file.
: >"$T/nonotice"
for f in "$top_srcdir"/src/*.[ch] "$top_srcdir"/compat/*.[ch] \
    "$top_srcdir"/tests/unit/*.[ch] "$top_srcdir"/tests/fuzz/*.c \
    "$top_srcdir"/tests/integration/*.sh "$top_srcdir"/tests/integration/*.py \
    "$top_srcdir"/tests/server/*.sh "$top_srcdir"/tests/bench/*.sh \
    "$top_srcdir"/scripts/* "$top_srcdir"/configure.ac "$top_srcdir"/Makefile.am; do
	head -n 2 "$f" | grep -q 'SPDX-License-Identifier: ISC' ||
	    echo "${f#"$top_srcdir"/}" >>"$T/nonotice"
done
if [ -s "$T/nonotice" ]; then
	fail "every source file carries the ISC notice" "$(head -n 5 "$T/nonotice")"
else
	pass "every source file carries the ISC notice (SPDX line)"
fi
# The checker itself finds a violation (a test that cannot fail is none).
mkdir -p "$T/src"
cp "$top_srcdir"/src/*.c "$top_srcdir"/src/*.h "$T/src/"
printf '#include "daemon.h"\n' >>"$T/src/queue.c"
run_fails "an upward include (queue.c -> daemon.h) is caught" sh "$top_srcdir/scripts/check-layers" "$T/src"
like "$(cat "$T/out")" "queue\.c \(layer 4\) includes daemon\.h" "and named"
cp "$top_srcdir/src/queue.c" "$T/src/queue.c"
printf '#include <jansson.h>\n' >>"$T/src/queue.c"
run_fails "a library outside its modules (jansson in queue.c) is caught" sh "$top_srcdir/scripts/check-layers" "$T/src"
done_testing
