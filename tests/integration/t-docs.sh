#!/bin/sh
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# t-docs.sh -- the documentation says what the code does: every key of
# src/conf_keys.c's keyword table is in oauthmail.conf(5); every management
# command of src/args_cmd.c's table and every option of `oauthmail --help`
# (args_usage) is in oauthmail(8); every exit code of err_exitcode() is
# under EXIT STATUS; the commands of `oauthmail --help` are the ones in
# README's Commands table; every text of the advice catalogue is in
# README's Troubleshooting table; both man pages render without a groff
# warning.
. "$top_srcdir/tests/integration/lib.sh"
need_oauthmail
MAN8=$top_srcdir/doc/oauthmail.8
MAN5=$top_srcdir/doc/oauthmail.conf.5
README=$top_srcdir/README.md
CONF_C=$top_srcdir/src/conf_keys.c
ARGS_CMD_C=$top_srcdir/src/args_cmd.c
STATUS_C=$top_srcdir/src/status.c

# Man source as plain words: "\-" is "-", font escapes and quotes go.
man_text() {
	sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\(dq//g' -e 's/"//g' \
	    -e 's/\\&//g' "$1"
}
# Lines of one section (.SH NAME up to the next .SH).
man_section() {
	awk -v s="$2" '/^\.SH /{ on = ($0 == ".SH " s) ; next } on' "$1"
}
man_text "$MAN8" >"$T/man8.txt"
man_text "$MAN5" >"$T/man5.txt"

# --- config keys -------------------------------------------------------------
sed -n '/^} keywords\[\] = {/,/^};/p' "$CONF_C" |
    sed -n 's/^[[:space:]]*{ "\([a-z_]*\)",.*/\1/p' >"$T/keys"
n=$(wc -l <"$T/keys" | tr -d ' ')
[ "$n" -ge 30 ] && pass "conf_keys.c's keyword table has $n keys" ||
    fail "could not read conf_keys.c's keyword table (got $n keys)"
missing=
for k in $(cat "$T/keys") defaults account; do
	grep -Eq "(^|[^a-z_])$k([^a-z_]|\$)" "$T/man5.txt" || missing="$missing $k"
done
is "$missing" "" "every configuration key is in oauthmail.conf(5)"
# Each account key has its own entry (a .B line at the start of an item).
missing=
for k in $(cat "$T/keys"); do
	case $k in password|passwordeval|client_secret) continue ;; esac
	grep -Eq "^\.(B|BI|BR) $k( |\$)" "$T/man5.txt" || missing="$missing $k"
done
is "$missing" "" "every configuration key has an entry of its own"

# --- management commands -----------------------------------------------------
sed -n '/^} commands\[\] = {/,/^};/p' "$ARGS_CMD_C" |
    sed -n 's/^[[:space:]]*{ "\([a-z-]*\)",.*/\1/p' | sort >"$T/cmds"
n=$(wc -l <"$T/cmds" | tr -d ' ')
[ "$n" -ge 8 ] && pass "args_cmd.c's command table has $n commands" ||
    fail "could not read args_cmd.c's command table (got $n)"
man_section "$MAN8" COMMANDS | man_text /dev/stdin >"$T/man8-cmds.txt"
missing=
for c in $(cat "$T/cmds"); do
	grep -Eq "^\.(B|BI|BR) (.* )?$c([ ,]|\$)" "$T/man8-cmds.txt" ||
	    missing="$missing $c"
done
is "$missing" "" "every management command has an entry under COMMANDS in oauthmail(8)"

# --- --help ---------------------------------------------------------------------
run_ok "oauthmail --help exits 0" "$OAUTHMAIL" --help
cp "$T/out" "$T/help"
# The commands --help names in its synopsis ("oauthmail WORD|WORD ...").
sed -n 's/^.*oauthmail \([a-z][a-z|-]*\) .*$/\1/p' "$T/help" | tr '|' '\n' |
    sort -u >"$T/help-cmds"
is "$(cat "$T/help-cmds")" "$(cat "$T/cmds")" "--help names exactly the commands of args_cmd.c"
# The commands of README's Commands table.
sed -n '/^## Commands/,/^## /p' "$README" |
    sed -n 's/^| `oauthmail \([a-z-]*\).*/\1/p; s/^| `[^`]*`, `oauthmail \([a-z-]*\).*/\1/p' |
    sort -u >"$T/readme-cmds"
is "$(cat "$T/readme-cmds")" "$(cat "$T/help-cmds")" "README's Commands table lists the commands of --help"

# Every option --help lists is in oauthmail(8).
sed -n '/^sendmail options:/,/^commands:/p' "$T/help" |
    grep -oE '(^|[ ,;:])-[A-Za-z]+' | sed 's/^[ ,;:]//' | sort -u >"$T/flags"
n=$(wc -l <"$T/flags" | tr -d ' ')
[ "$n" -ge 30 ] && pass "--help lists $n sendmail options" ||
    fail "could not read the options of --help (got $n)"
missing=
for f in $(cat "$T/flags"); do
	grep -Eq -- "(^|[^A-Za-z0-9-])$f([^A-Za-z]|\$)" "$T/man8.txt" ||
	    missing="$missing $f"
done
is "$missing" "" "every option of --help is in oauthmail(8)"
# And the synopsis forms: -bp -bs -bd -q, mailq, newaliases, --help, --version.
missing=
for f in -bp -bs -bd -q mailq newaliases --help --version; do
	grep -Eq -- "(^|[^A-Za-z0-9-])$f([^A-Za-z]|\$)" "$T/man8.txt" ||
	    missing="$missing $f"
done
is "$missing" "" "the synopsis forms of --help are in oauthmail(8)"

# --- exit codes --------------------------------------------------------------
sysexit() {
	case $1 in
	EX_OK) echo 0 ;; EX_USAGE) echo 64 ;; EX_DATAERR) echo 65 ;;
	EX_NOINPUT) echo 66 ;; EX_NOUSER) echo 67 ;; EX_NOHOST) echo 68 ;;
	EX_UNAVAILABLE) echo 69 ;; EX_SOFTWARE) echo 70 ;; EX_OSERR) echo 71 ;;
	EX_OSFILE) echo 72 ;; EX_CANTCREAT) echo 73 ;; EX_IOERR) echo 74 ;;
	EX_TEMPFAIL) echo 75 ;; EX_PROTOCOL) echo 76 ;; EX_NOPERM) echo 77 ;;
	EX_CONFIG) echo 78 ;; *) echo "?$1" ;;
	esac
}
sed -n '/^err_exitcode(/,/^}/p' "$STATUS_C" | grep -oE 'EX_[A-Z]+' |
    sort -u >"$T/exits"
man_section "$MAN8" "EXIT STATUS" | man_text /dev/stdin >"$T/man8-exit.txt"
missing=
for e in $(cat "$T/exits"); do
	c=$(sysexit "$e")
	grep -Eq "^($c|$c,.*|.*, $c|.*, $c,.*)\$" "$T/man8-exit.txt" ||
	    missing="$missing $c($e)"
done
is "$missing" "" "every exit status of err_exitcode() is under EXIT STATUS"

# --- --version --------------------------------------------------------------------
"$OAUTHMAIL" --version >"$T/version" 2>&1
like "$(sed -n 1p "$T/version")" "^oauthmail [0-9]+\.[0-9]+" "--version: the version first"
like "$(cat "$T/version")" "OpenSSL [0-9]" "--version names the OpenSSL in use"
like "$(cat "$T/version")" "jansson [0-9]" "--version names jansson"
like "$(cat "$T/version")" "keyutils-[0-9]" "--version names libkeyutils"
like "$(cat "$T/version")" "libcurl\.so\.[0-9].*libsecret-1\.so\.[0-9]" \
    "--version names the libraries loaded when needed"
like "$(cat "$T/version")" "system configuration: /.*/oauthmail\.conf" "--version names the config path"
if LD_DEBUG=files "$OAUTHMAIL" --version 2>&1 >/dev/null | grep -q 'file=.*\(libcurl\|libsecret\)'; then
	fail "--version loaded libcurl or libsecret"
else
	pass "--version loads neither libcurl nor libsecret"
fi

# --- paths ----------------------------------------------------------------------
# The configuration file and the spool the binary uses are the ones the
# README and the man pages name (a default configure, whatever the prefix).
mk=$top_builddir/Makefile
sysconf=$(sed -n 's/^sysconfdir = //p' "$mk" 2>/dev/null)
statedir=$(sed -n 's/^localstatedir = //p' "$mk" 2>/dev/null)
if [ "$sysconf" = /etc ] && [ "$statedir" = /var ]; then
	for p in /etc/oauthmail.conf /var/spool/oauthmail; do
		if grep -q "$p" "$OAUTHMAIL"; then
			pass "the binary uses $p"
		else
			fail "the binary does not use $p"
		fi
		grep -q "$p" "$README" && grep -q "$p" "$T/man8.txt" &&
		    pass "README and oauthmail(8) name $p" ||
		    fail "README or oauthmail(8) lacks $p"
	done
	grep -q '/usr/local/etc\|/usr/local/var' "$README" "$T/man8.txt" \
	    "$T/man5.txt" && fail "the docs name /usr/local/etc or /usr/local/var" ||
	    pass "the docs name no /usr/local/etc or /usr/local/var path"
else
	skip "configured with sysconfdir=$sysconf localstatedir=$statedir" 5
fi

# --- the advice catalogue ------------------------------------------------------
# Every text of src/advice.c's catalogue is in README's Troubleshooting table.
sed -n 's/^[[:space:]]*{ "\([^"]*\)", ADV_.*/\1/p' "$top_srcdir/src/advice.c" \
    >"$T/advice-keys"
n=$(wc -l <"$T/advice-keys" | tr -d ' ')
[ "$n" -ge 40 ] && pass "advice.c's catalogue has $n rows" ||
    fail "could not read advice.c's catalogue (got $n rows)"
sed -n '/^## Troubleshooting/,/^## /p' "$README" >"$T/readme-trouble"
missing=
while IFS= read -r k; do
	grep -qF -- "$k" "$T/readme-trouble" || missing="$missing '$k'"
done <"$T/advice-keys"
is "$missing" "" "every text of the advice catalogue is in README's Troubleshooting"

# --- JSON OUTPUT ----------------------------------------------------------------
# The field names of oauthmail(8)'s JSON OUTPUT are the ones the program
# writes: a sample of status --json and queue --json (a queued message,
# an account without OAuth: no server, no keyring) against the section.
printf 'account docs\nhost 127.0.0.1\nport 9\nfrom a@example.test\nauth plain\nuser a@example.test\n' >"$T/json.conf"
chmod 600 "$T/json.conf"
printf 'Subject: docs\n\nbody\n' | "$OAUTHMAIL" -C "$T/json.conf" -odq bob@example.test ||
    fail "queue a sample message"
"$OAUTHMAIL" status --json -C "$T/json.conf" >"$T/status.json" &&
    "$OAUTHMAIL" queue --json -C "$T/json.conf" >"$T/queue.json" ||
    fail "status --json and queue --json run"
$PY -c '
import json, sys
keys = set()
def walk(v):
    if isinstance(v, dict):
        for k, x in v.items():
            keys.add(k); walk(x)
    elif isinstance(v, list):
        for x in v: walk(x)
for f in sys.argv[1:]:
    walk(json.load(open(f)))
print("\n".join(sorted(keys)))' "$T/status.json" "$T/queue.json" >"$T/json-keys"
# The man section: every ".B name" / ".BR name ", " name2" item tag.
man_section "$MAN8" "JSON OUTPUT" | sed -n '/^\.TP/{n;p;}' | man_text /dev/stdin |
    sed -n 's/^\.BR\{0,1\} //p' | tr -d '",' | tr ' ' '\n' |
    grep -E '^[a-z][a-z_]*$' | sort -u >"$T/man-keys"
n=$(wc -l <"$T/json-keys" | tr -d ' ')
[ "$n" -ge 30 ] && pass "the JSON samples have $n field names" ||
    fail "could not read the JSON samples (got $n field names)"
is "$(comm -23 "$T/json-keys" "$T/man-keys" | tr '\n' ' ')" "" \
    "every field the program writes is under JSON OUTPUT in oauthmail(8)"
is "$(comm -13 "$T/json-keys" "$T/man-keys" | tr '\n' ' ')" "" \
    "every field under JSON OUTPUT is one the program writes"

# --- groff ----------------------------------------------------------------------
if command -v groff >/dev/null 2>&1; then
	for m in "$MAN8" "$MAN5"; do
		LC_ALL=C.UTF-8 MANROFFSEQ='' groff -man -ww -z "$m" >"$T/groff" 2>&1
		rc=$?
		[ "$rc" -eq 0 ] && [ ! -s "$T/groff" ] &&
		    pass "$(basename "$m") renders without warnings" ||
		    fail "$(basename "$m") renders with warnings" "$(head -n 20 "$T/groff")"
	done
else
	skip "groff is not installed" 2
fi

done_testing
