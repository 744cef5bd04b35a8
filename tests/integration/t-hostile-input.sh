# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# Hostile messages and arguments: each ends in a clear error (65 for an
# unusable message, 67 for an unusable address) with nothing queued, or in
# a correct delivery; never a crash, a hang or unbounded memory.
. "$top_srcdir/tests/integration/lib.sh"
need_oauthmail

start_oauth || bail "OAuth server"
start_smtpd --size 200000000 --max-rcpt 10000 || bail "SMTP server"
start_kernel_keyring || skip_all "no kernel keyring"
write_config "" "timeout 30"
seed_token "$ACCOUNT" || bail "seed"
Q=$XDG_STATE_HOME/oauthmail/queue
queued() { find "$Q" -name '*.env' 2>/dev/null | wc -l | tr -d ' '; }
# feed FILE RCPT-ARGS...: oauthmail reads FILE; stdout/err/RC as run_*.
feed() {
	_f=$1; shift
	timeout 120 "$OAUTHMAIL" "$@" <"$_f" >"$T/out" 2>"$T/err"
	RC=$?
}
no_crash() { # a signal or timeout would be >= 124
	[ "$RC" -lt 124 ] && pass "$1" || fail "$1" "exit status $RC" "$(cat "$T/err")"
}
maxline() { tr -d '\r' <"$1" | awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }'; }

# NUL bytes: refused with 65, nothing queued or sent.
n=$(msg_count)
printf 'Subject: nul\n\nbefore\000after\n' >"$T/m"
feed "$T/m" bob@example.test
is "$RC" 65 "a NUL byte in the body: exit 65"
like "$(cat "$T/err")" "NUL" "the error names the NUL bytes"
printf 'Subject: nul\000in header\n\nbody\n' >"$T/m"
feed "$T/m" bob@example.test
is "$RC" 65 "a NUL byte in a header: exit 65"
is "$(queued)" 0 "nothing queued"
is "$(msg_count)" "$n" "nothing sent"

# Bare CR: removed (never a line break: SMTP smuggling), the rest delivered.
printf 'Subject: cr\r\n\r\nline one\rstill one\r\n.\rx\r\nend\r\n' >"$T/m"
feed "$T/m" bob@example.test
is "$RC" 0 "bare CR: delivered"
if tr -d '\r' <"$(msg_file)" | grep -q '^line onestill one$'; then
	pass "the bare CR was removed, the line kept whole"
else
	fail "the bare CR was removed, the line kept whole" "$(od -c "$(msg_file)" | tail -n 5)"
fi
is "$(sed 's/\r$//' "$(msg_file)" | tr -cd '\r' | wc -c | tr -d ' ')" 0 \
    "no CR left but the CRLF line endings"

# A 100 MB single-line body: delivered, broken at 998 octets, memory small.
{ printf 'Subject: big\n\n'; head -c 100000000 /dev/zero | tr '\0' x; echo; } >"$T/big"
n=$(msg_count)
if [ -x /usr/bin/time ]; then
	timeout 120 /usr/bin/time -o "$T/time" -f '%M' "$OAUTHMAIL" \
	    bob@example.test <"$T/big" >"$T/out" 2>"$T/err"
	RC=$?
else
	feed "$T/big" bob@example.test
fi
rm -f "$T/big"
is "$RC" 0 "100 MB single line: exit 0"
wait_msgs $((n + 1)) 30
big=$(msg_file)
sz=$(wc -c <"$big" | tr -d ' ')
[ "$sz" -gt 100000000 ] && pass "the server got all of it ($sz bytes)" ||
    fail "the server got all of it" "$sz bytes"
is "$(maxline "$big")" 998 "lines broken at 998 octets"
is "$(msg_body | tr -d '\r\n' | wc -c | tr -d ' ')" 100000000 \
    "the body has all 100,000,000 octets"
is "$(msg_body | tr -d 'x\r\n' | wc -c | tr -d ' ')" 0 \
    "and nothing else (only line breaks were added)"
rm -f "$big"
rss=$(tail -n 1 "$T/time" 2>/dev/null)
case $rss in
''|*[!0-9]*) skip "no /usr/bin/time measurement" ;;
*)	[ "$rss" -lt 100000 ] && pass "peak RSS ${rss} KiB < 100 MiB" ||
	    fail "peak RSS stays small" "${rss} KiB" ;;
esac

# 100,000 header fields: over LIM_HDR_COUNT (10,000): 65, nothing queued.
$PY -c 'import sys; sys.stdout.write("".join("X-H%d: v\n" % i for i in range(100000)) + "\nbody\n")' >"$T/m"
feed "$T/m" bob@example.test
is "$RC" 65 "100,000 header fields: exit 65"
like "$(cat "$T/err")" "header too large.*10000 fields" "the error names the limit"
is "$(queued)" 0 "nothing queued"
# 9,000 are fine.
$PY -c 'import sys; sys.stdout.write("".join("X-H%d: v\n" % i for i in range(9000)) + "Subject: many\n\nbody\n")' >"$T/m"
feed "$T/m" bob@example.test
is "$RC" 0 "9,000 header fields: delivered"
is "$(grep -c '^X-H' "$(msg_file)")" 9000 "all 9,000 arrived"

# Header lines over 998 octets: folded, every delivered line <= 998.
$PY -c 'import sys; sys.stdout.write("Subject: " + "a" * 3000 + "\nX-Words: " + " ".join(["word"] * 1000) + "\n\nbody\n")' >"$T/m"
feed "$T/m" bob@example.test
is "$RC" 0 "header lines over 998 octets: delivered"
is "$(maxline "$(msg_file)")" 998 "no delivered line is over 998 octets"
is "$(msg_header X-Words | tr -d ' ' | wc -c | tr -d ' ')" 4001 "the folded field keeps its words"
# A field over LIM_HDR_VALUE (64 KiB): 65.
$PY -c 'import sys; sys.stdout.write("Subject: " + "a " * 40000 + "\n\nbody\n")' >"$T/m"
feed "$T/m" bob@example.test
is "$RC" 65 "a 80 KB header field: exit 65"

# Invalid UTF-8 in headers: passed through as octets, delivered.
printf 'Subject: \377\376 bad \300\200 utf8 \355\240\200\nFrom: \377 <alice@example.test>\n\nbody\n' >"$T/m"
feed "$T/m" bob@example.test
is "$RC" 0 "invalid UTF-8 in headers: delivered"
file_contains "$(msg_file)" "bad .* utf8" "the Subject arrived"

# Address lists built to explode a parser (-t).
$PY -c 'import sys; sys.stdout.write("To: " + "(" * 30000 + ")" * 30000 + " a@example.test\nSubject: x\n\nb\n")' >"$T/m"
feed "$T/m" -t
is "$RC" 67 "30,000 nested comments: exit 67"
like "$(cat "$T/err")" "nested too deeply" "the error says why"
$PY -c 'import sys; sys.stdout.write("To: " + "(" * 100000 + ")" * 100000 + " a@example.test\nSubject: x\n\nb\n")' >"$T/m"
feed "$T/m" -t
is "$RC" 65 "100,000 nested comments (a 200 KB field): exit 65"
$PY -c 'import sys; sys.stdout.write("To: " + "<" * 30000 + "a@example.test\nCc: " + "\"" * 30001 + "x@y\nSubject: x\n\nb\n")' >"$T/m"
feed "$T/m" -t
is "$RC" 67 "30,000 '<' and an unterminated quote: exit 67"
$PY -c 'import sys; sys.stdout.write("To: g: " + ",".join("m%d@x.test" % i for i in range(50000)) + ";\nSubject: x\n\nb\n")' >"$T/m"
feed "$T/m" -t
is "$RC" 65 "a group of 50,000 members (over 64 KiB): exit 65"
$PY -c 'import sys; sys.stdout.write("To: g: " + ",".join("m%d@x.test" % i for i in range(5000)) + ";\nSubject: x\n\nb\n")' >"$T/m"
n=$(msg_count)
feed "$T/m" -t
is "$RC" 0 "a group of 5,000 members: delivered"
got=0
for f in $(msg_list | tail -n +$((n + 1))); do
	got=$((got + $(json_get rcpt_tos "${f%.eml}.json" | wc -l)))
done
is "$got" 5000 "to all 5,000 (in several transactions)"
is "$(queued)" 0 "nothing left queued"

# A huge recipient argument. Linux caps one argv string at 128 KiB
# (MAX_ARG_STRLEN), so 1 MB cannot reach us; 120 KB is the largest.
big=$($PY -c 'print("a" * 120000 + "@example.test")')
printf 'Subject: a\n\nx\n' >"$T/m"
feed "$T/m" "$big"
is "$RC" 67 "a 120 KB recipient argument: exit 67"
like "$(cat "$T/err")" "longer than 998" "the error says why"
[ "$(wc -c <"$T/err")" -lt 2000 ] && pass "the error does not echo it all" ||
    fail "the error does not echo it all" "$(wc -c <"$T/err") bytes"
big=$($PY -c 'print(",".join("r%d@example.test" % i for i in range(6000)))')
feed "$T/m" "$big"
no_crash "6,000 recipients in one argument: no crash"
is "$(queued)" 0 "nothing left queued"
done_testing
