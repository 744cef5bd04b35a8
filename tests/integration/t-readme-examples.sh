#!/bin/sh
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# t-readme-examples.sh -- a pasted example always parses: every fenced
# configuration block of README.md (a block without a language whose
# first line is a configuration key), every example of oauthmail.conf(5)
# (.EX/.EE) and doc/oauthmail.conf.example go through "oauthmail -C FILE
# check --offline". A block of keys without an "account" line is checked
# inside a minimal account, as it is pasted.
. "$top_srcdir/tests/integration/lib.sh"
need_oauthmail

# The keys of conf_keys.c's table, and the section words.
sed -n '/^} keywords\[\] = {/,/^};/p' "$top_srcdir/src/conf_keys.c" |
    sed -n 's/^[[:space:]]*{ "\([a-z_]*\)",.*/\1/p' >"$T/keys"
printf 'account\ndefaults\n' >>"$T/keys"
[ "$(wc -l <"$T/keys")" -ge 30 ] && pass "read conf_keys.c's keys" ||
    fail "could not read conf_keys.c's keyword table"

# Each fenced block without a language into $T/block.N (N from 1), its
# first line number into $T/block.N.line.
awk -v dir="$T" '
/^[[:space:]]*```/ {
	if (!inb) {
		info = $0; sub(/^[[:space:]]*```/, "", info)
		inb = 1; plain = (info == ""); n++
		if (plain) print NR + 1 >(dir "/block." n ".line")
		next
	}
	inb = 0; next
}
inb && plain { print >(dir "/block." n) }
' "$top_srcdir/README.md"

# check_blocks WHERE: checks $T/block.N (first line in $T/block.N.line)
# that are configuration; counts them in $nconf.
nconf=0
check_blocks() {
	for f in "$T"/block.*; do
		case $f in *.line|*.conf) continue ;; esac
		check_block "$1" "$f"
	done
	rm -f "$T"/block.*
}
check_block() {
	line=$(cat "$2.line")
	first=$(sed -n '/^[[:space:]]*$/d; /^[[:space:]]*#/d; p' "$2" |
	    head -n 1 | awk '{print $1}')
	grep -qx -- "$first" "$T/keys" || return 0
	nconf=$((nconf + 1))
	if grep -q '^[[:space:]]*account[[:space:]]' "$2"; then
		cp "$2" "$2.conf"
	elif [ "$first" = defaults ]; then
		# Shared settings: an account after them.
		{ cat "$2"; printf 'account example\nprovider microsoft\n'
		  printf 'client_id 0\nfrom you@example.com\n'; } >"$2.conf"
	else
		# Keys pasted into an account of their own.
		{
			echo "account example"
			echo "from you@example.com"
			grep -q '^[[:space:]]*\(provider\|host\)[[:space:]]' "$2" ||
			    printf 'provider microsoft\ntenant example.com\n'
			cat "$2"
		} >"$2.conf"
	fi
	chmod 600 "$2.conf"
	run_ok "$1 line $line: the example parses (check --offline)" \
	    "$OAUTHMAIL" -C "$2.conf" check --offline
}
check_blocks README.md
[ "$nconf" -ge 2 ] && pass "README.md has $nconf configuration examples" ||
    fail "found only $nconf configuration examples in README.md"

# oauthmail.conf(5): the .EX/.EE blocks, man escapes undone.
awk -v dir="$T" '
/^\.EX/ { inb = 1; n++; print NR + 1 >(dir "/block." n ".line"); next }
/^\.EE/ { inb = 0; next }
inb { print >(dir "/block." n) }
' "$top_srcdir/doc/oauthmail.conf.5"
for f in "$T"/block.*; do
	case $f in *.line) continue ;; esac
	sed -i -e 's/\\-/-/g' -e 's/\\(dq/"/g' -e 's/\\&//g' -e 's/\\e/\\/g' "$f"
done
nconf=0
check_blocks oauthmail.conf.5
[ "$nconf" -ge 5 ] && pass "oauthmail.conf(5) has $nconf configuration examples" ||
    fail "found only $nconf configuration examples in oauthmail.conf(5)"

cp "$top_srcdir/doc/oauthmail.conf.example" "$T/example.conf"
chmod 600 "$T/example.conf"
run_ok "doc/oauthmail.conf.example parses (check --offline)" \
    "$OAUTHMAIL" -C "$T/example.conf" check --offline
like "$(cat "$T/out")" "valid, [0-9]+ accounts" "and names its accounts"

# The check is real: a broken example fails it.
printf 'account x\nprovider microsoft\nfrom x@example.com\n' >"$T/broken.conf"
chmod 600 "$T/broken.conf"
run_rc 78 "an example without client_id fails check --offline" \
    "$OAUTHMAIL" -C "$T/broken.conf" check --offline
done_testing
