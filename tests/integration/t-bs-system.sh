# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# sendmail -bs in system mode, as a normal user of a set-gid installation
# (PHP's and Laravel's transport under php-fpm): each DATA becomes one drop
# file, answered 250 only once the file is complete and marked ready; the
# daemon delivers them; the session itself never holds the spool group.
# Also the set-gid run's -C: a symbolic link is refused.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-sysmode.sh"

# bs_session USER SCRIPT: runs "sendmail -bs" as USER and speaks the
# script's Python steps to it (see below); the result on stdout.
cat >"$T/bs_session.py" <<'EOF'
import os, stat, subprocess, sys

md, user, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
p = subprocess.Popen(["setpriv", "--reuid=" + user, "--regid=" +
    subprocess.check_output(["id", "-g", user]).decode().strip(),
    "--init-groups"] + cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)

def send(s):
    p.stdin.write(s.encode()); p.stdin.flush()

def reply():
    while True:
        ln = p.stdout.readline().decode().rstrip("\r\n")
        if len(ln) < 4 or ln[3] != "-":
            return ln

def drops():
    out = []
    for n in os.listdir(md):
        if n.startswith("."):
            continue
        st = os.lstat(os.path.join(md, n))
        out.append("%o:%d" % (stat.S_IMODE(st.st_mode), st.st_size > 0))
    return sorted(out)

def message(subject, rcpt, mail_from="alice@example.test"):
    send("MAIL FROM:<%s>\r\n" % mail_from); print("mail", reply()[:3])
    send("RCPT TO:<%s>\r\n" % rcpt); print("rcpt", reply()[:3])
    send("DATA\r\n"); print("data", reply()[:3])
    send("Subject: %s\r\n\r\nbody of %s\r\n..dot\r\n.\r\n" % (subject, subject))
    r = reply()
    print("end", r[:23])
    # the 250 comes only once the drop file is complete: ready (0440)
    print("drops", " ".join(drops()))

print("greet", reply()[:3])
send("EHLO x\r\n"); print("ehlo", reply()[:3])
message("bs one", "bob@example.test")
message("bs two", "root", "mallory@evil.test")
# a smuggling attempt: refused, nothing of it left to deliver
send("MAIL FROM:<alice@example.test>\r\n"); reply()
send("RCPT TO:<bob@example.test>\r\n"); reply()
send("DATA\r\n"); reply()
send("Subject: outer\r\n\r\nx\n.\nMAIL FROM:<alice@example.test>\r\n"
     "RCPT TO:<carol@example.test>\r\nDATA\r\nSubject: smuggled\r\n\r\n"
     "evil\r\n.\r\n")
print("smuggle", reply()[:9])
send("QUIT\r\n"); print("quit", reply()[:3])
p.stdin.close()
print("exit", p.wait())
EOF

"$PY" "$T/bs_session.py" "$MD" "$WU" "$BIN" -C "$CF" -bs >"$T/s1.out" 2>"$T/s1.err"
grep -q "^exit 0" "$T/s1.out" || diag "$(cat "$T/s1.out" "$T/s1.err")"
is "$(grep -c '^\(greet 220\|ehlo 250\)$' "$T/s1.out")" 2 "greeting and EHLO"
is "$(grep '^end' "$T/s1.out" | head -n 1)" "end 250 2.0.0 Ok: queued as" "first DATA: 250 queued"
is "$(grep '^drops' "$T/s1.out" | head -n 1)" "drops 440:1" "at that 250 its drop file is complete and ready (0440)"
is "$(grep '^end' "$T/s1.out" | sed -n 2p)" "end 250 2.0.0 Ok: queued as" "second DATA in the same session: 250"
is "$(grep '^drops' "$T/s1.out" | sed -n 2p)" "drops 440:1 440:1" "one drop file per message"
is "$(grep '^smuggle' "$T/s1.out")" "smuggle 550 5.5.2" "a bare-LF end of data is refused in system mode too"
is "$(grep '^quit\|^exit' "$T/s1.out" | tr '\n' ' ')" "quit 221 exit 0 " "QUIT, exit 0"
is "$(drop_files | wc -l | tr -d ' ')" 3 "three files: two ready, one abandoned"
is "$(find "$MD" -type f ! -name '.*' -user "$WU" | wc -l | tr -d ' ')" 3 "all owned by the submitting user"
is "$(msg_count)" 0 "nothing sent by the submitter itself"
is "$(smtp_stat connections)" 0 "the submitter made no SMTP connection"

daemon -q
is "$(msg_count)" 2 "the daemon delivered the two messages"
is "$(drop_files | wc -l | tr -d ' ')" 0 "the maildrop is empty again"
subjects=$(for i in 1 2; do msg_header Subject $i; done | sort | tr '\n' ' ')
is "$subjects" "bs one bs two " "the two messages, not the smuggled one"
for i in 1 2; do
	case $(msg_header Subject $i) in
	"bs one") is "$(msg_field rcpt_tos $i)" "bob@example.test" "first: to bob" ;;
	"bs two")
		is "$(msg_field rcpt_tos $i)" "admin@example.test" "second: root through the aliases"
		is "$(msg_field mail_from $i)" "alice@example.test" "second: a MAIL FROM the account may not use is replaced"
		;;
	esac
done
is "$(msg_body 1 | tr -d '\r' | sed -n 2p)" ".dot" "dot-unstuffed"

# The session gave the group up: only the helper keeps it (strace shows
# the -bs process's own setresgid calls: at start, and for good).
if command -v strace >/dev/null 2>&1; then
	printf 'HELO x\r\nQUIT\r\n' | strace -u $WU -e trace=setresgid -o "$T/strace" \
	    "$BIN" -C "$CF" -bs >/dev/null 2>&1
	is "$?" 0 "-bs under strace -u $WU"
	# without -f: the session only, not its helper
	is "$(grep -c 'setresgid(' "$T/strace")" 2 "the session drops the group at start and for good before the greeting"
else
	skip "no strace" 2
fi

# 2. -C in a set-gid run: opened once, never through a symbolic link.
ln -s "$CF" "$S/etc/link.conf"
mkdir -p "$S/u"; chown $WU "$S/u"; ln -s "$CF" "$S/u/link.conf"
for l in "$S/etc/link.conf" "$S/u/link.conf"; do
	printf 'Subject: x\n\nx\n' | as_user $WU "$BIN" -C "$l" bob@example.test 2>"$T/err-link"
	is "$?" 78 "-C $(basename "$(dirname "$l")")/link.conf (a symlink to the system config): exit 78"
	like "$(cat "$T/err-link")" "is a symbolic link" "and says why"
done
printf 'HELO x\r\nQUIT\r\n' | as_user $WU "$BIN" -C "$S/etc/link.conf" -bs >"$T/bs-link.out" 2>"$T/err-bslink"
is "$?" 78 "-bs -C through a symlink: exit 78 before the greeting"
is "$(cat "$T/bs-link.out")" "" "no greeting"
cp "$CF" "$S/etc/gw.conf"; chmod 664 "$S/etc/gw.conf"
printf 'Subject: x\n\nx\n' | as_user $WU "$BIN" -C "$S/etc/gw.conf" bob@example.test 2>"$T/err-gw"
is "$?" 78 "-C a group-writable root file: exit 78"
like "$(cat "$T/err-gw")" "root alone can change" "and says why"
is "$(drop_files | wc -l | tr -d ' ')" 0 "no drop file from refused runs"

done_testing
