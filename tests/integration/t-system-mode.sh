# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# System mode with real users: a set-gid copy of the binary, a root-owned
# config saying "mode system", a maildrop (1730) and a queue (0700) owned by
# a daemon user whose persistent kernel keyring alone holds the token.
# Local users submit (www-data-like, via su), the daemon user picks up and
# delivers; submitters cannot read the queue, other drop files or the
# tokens; tampered drop files are moved aside, never delivered.
. "$top_srcdir/tests/integration/lib.sh"

# No admin line: refusals here go to the log and the submitter only.
SYS_NO_ADMIN=1
. "$top_srcdir/tests/integration/lib-sysmode.sh"

# 1. A www-data-like user submits with -t -i (PHP mail()): exit 0, fast,
#    a ready drop file, nothing delivered yet, no keyring touched.
cat >"$S/msg1" <<EOF
To: Bob <bob@example.test>
Bcc: hidden@example.test
Subject: from php $$

hello from www
EOF
chmod 644 "$S/msg1"
t0=$(date +%s%N)
su -s /bin/sh $WU -c "'$BIN' -C '$CF' -t -i <'$S/msg1'" 2>"$T/err1"
RC=$?
t1=$(date +%s%N)
is "$RC" 0 "www user's sendmail -t -i exits 0"
is "$(cat "$T/err1")" "" "nothing on stderr"
ms=$(( (t1 - t0) / 1000000 ))
if [ "$ms" -lt 2000 ]; then pass "returned in $ms ms"; else fail "took $ms ms"; fi
n=$(find "$S/spool/maildrop" -type f ! -name .usage ! -name .size-limits | wc -l)
is "$n" 1 "one file in the maildrop"
f=$(find "$S/spool/maildrop" -type f ! -name .usage ! -name .size-limits | head -n 1)
is "$(stat -c '%U:%G %a' "$f")" "$WU:$GQ 440" "owned by the submitter, group $GQ, 0440 (ready)"
is "$(msg_count)" 0 "nothing delivered while the daemon is down"
is "$(smtp_stat connections)" 0 "the submitter made no SMTP connection"
# strace -u runs the set-gid binary as the user with its set-gid honoured.
if command -v strace >/dev/null 2>&1; then
	strace -f -u $WU -e trace=add_key,keyctl,request_key,connect,setresgid \
	    -o "$T/strace" "$BIN" -C "$CF" -t -i <"$S/msg1" 2>"$T/err1s"
	is "$?" 0 "the same under strace -u $WU"
	if grep -qE 'add_key|keyctl|request_key|connect\(.*AF_INET' "$T/strace"; then
		fail "keyring or network calls: $(grep -E 'add_key|keyctl|request_key|connect' "$T/strace" | head -n 3)"
	else
		pass "the submitter made no keyring and no network call"
	fi
	like "$(grep -c 'setresgid(' "$T/strace")" '^3$' "setresgid: drop at start, regain for the open, drop for good"
	for g in $(find "$S/spool/maildrop" -type f ! -name .usage ! -name .size-limits); do [ "$g" = "$f" ] || rm -f "$g"; done
else
	skip "no strace" 3
fi

# 2. What the submitting users cannot read.
for p in "$S/spool/queue" "$S/spool/maildrop"; do
	if su -s /bin/sh $OU -c "ls '$p'" >/dev/null 2>"$T/ls.err"; then
		fail "$OU lists $p"
	else
		like "$(cat "$T/ls.err")" "Permission denied" "$OU cannot list $p (EACCES)"
	fi
done
if su -s /bin/sh $OU -c "cat '$f'" >/dev/null 2>"$T/cat.err"; then
	fail "$OU reads $WU's drop file"
else
	like "$(cat "$T/cat.err")" "Permission denied" "$OU cannot read $WU's drop file (EACCES)"
fi
if su -s /bin/sh $WU -c "keyctl get_persistent @s $(id -u $DU)" >/dev/null 2>"$T/kr.err"; then
	fail "$WU reached $DU's persistent keyring"
else
	like "$(cat "$T/kr.err")" "denied|not permitted" "$WU cannot reach the daemon user's keyring"
fi
if su -s /bin/sh $WU -c "'$BIN' -C '$CF' token $ACCOUNT" >"$T/tok.out" 2>&1; then
	fail "$WU got a token: $(wc -c <"$T/tok.out") bytes"
else
	unlike "$(cat "$T/tok.out")" "$SEED_ACCESS" "'oauthmail token' as $WU yields no token"
fi
su -s /bin/sh $OU -c "'$BIN' -C '$CF' -bp" >"$T/mailq.out" 2>"$T/mailq.err"
is "$?" 0 "mailq as another user exits 0"
is "$(cat "$T/mailq.out")" "" "and lists nothing"
unlike "$(cat "$T/mailq.err")" "bob@example|$WU" "and names no one's mail"

# 3. The daemon user picks up and delivers.
daemon -q
is "$(msg_count)" 1 "the daemon's queue run delivered the dropped message"
is "$(msg_field rcpt_tos | tr '\n' ' ')" "bob@example.test hidden@example.test " "recipients from -t, Bcc included"
is "$(msg_field mail_from)" "alice@example.test" "sender is the account's address"
is "$(msg_header Bcc)" "" "no Bcc header on the wire"
like "$(msg_body)" "hello from www" "the body arrived"
is "$(find "$S/spool/maildrop" -type f ! -name .usage ! -name .size-limits | wc -l)" 0 "the maildrop is empty again"

# 4. A second submitter with -f someone else: the account's rules decide.
printf 'Subject: other\n\nbody\n' | su -s /bin/sh $OU -c "'$BIN' -C '$CF' -f ceo@example.test root"
is "$?" 0 "$OU submits to root"
daemon -q
is "$(msg_count)" 2 "delivered"
is "$(msg_field rcpt_tos)" "admin@example.test" "root mapped through the aliases"
is "$(msg_field mail_from)" "alice@example.test" "a -f the account may not use is replaced"

# 5. Refusals: a submission that fails leaves nothing deliverable.
printf 'Subject: none\n\nno rcpt\n' | su -s /bin/sh $WU -c "'$BIN' -C '$CF' -t" 2>"$T/err5"
is "$?" 64 "no recipients: exit 64"
daemon -q
is "$(find "$S/spool/maildrop" -type f ! -name .usage ! -name .size-limits | wc -l)" 0 "the abandoned drop file was removed"
is "$(msg_count)" 2 "nothing sent for it"

# 6. Set-gid runs trust only root-controlled config.
cp "$CF" "$T/user.conf"; chmod 644 "$T/user.conf"
mkdir -p "$S/u"; chown $WU "$S/u"; cp "$CF" "$S/u/c"; chown $WU "$S/u/c"
printf 'Subject: x\n\nx\n' | su -s /bin/sh $WU -c "'$BIN' -C '$S/u/c' bob@example.test" 2>"$T/err6"
is "$?" 78 "-C with a user-owned config in a set-gid run: exit 78"
like "$(cat "$T/err6")" "root alone" "and says why"
printf 'Subject: x\n\nx\n' | su -s /bin/sh $WU -c "OAUTHMAIL_CONFIG='$CF' '$BIN' bob@example.test" 2>"$T/err6b"
rc=$?
isnt "$rc" 0 "\$OAUTHMAIL_CONFIG is ignored in a set-gid run (the system config is $CF, not used)"
sed 's/^mode system$/mode user/' "$CF" >"$S/etc/user-mode.conf"; chmod 644 "$S/etc/user-mode.conf"
printf 'Subject: x\n\nx\n' | su -s /bin/sh $WU -c "'$BIN' -C '$S/etc/user-mode.conf' bob@example.test" 2>"$T/err6c"
is "$?" 78 "set-gid without 'mode system': refused (78)"
like "$(cat "$T/err6c")" "mode system" "and names the fix"
is "$(find "$S/spool/maildrop" -type f ! -name .usage ! -name .size-limits | wc -l)" 0 "no drop file from refused runs"

# 7. Tampered drop files: moved aside, never delivered, the daemon goes on.
hex() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }
md=$S/spool/maildrop
bad1=$(hex); printf 'garbage\n' >"$md/$bad1"
bad2=$(hex); ln -s /etc/shadow "$md/$bad2"
bad3=$(hex); truncate -s 300M "$md/$bad3"
bad4=$(hex)
{ printf 'oauthmail-drop 1 a=0 f=0 msg=%020d\n' 11; printf 'Subject: x\n'
  printf 'version: 1\nid: %s\naccount: "*"\nsender: <>\ncreated: 1\nattempts: 0\nnext-try: 1\nstate: queued\nsize: 9\nrcpt: pending <bob@example.test>\ndsn-notify: "SUCCESS ORCPT=x"\n' "$bad4"; } >"$md/$bad4"
bad5=$(hex); printf 'x' >"$md/not-a-drop-name"
for b in $bad1 $bad2 $bad3 $bad4; do chown -h $WU:$GQ "$md/$b"; done
chmod 440 "$md/$bad1" "$md/$bad3" "$md/$bad4"
printf 'Subject: good after bad\n\nok\n' | su -s /bin/sh $WU -c "'$BIN' -C '$CF' bob@example.test"
daemon -q
rc=$?
is "$rc" 0 "the queue run survived the tampered files"
is "$(grep -l '^Subject: good after bad' "$SMTP_MAILDIR"/new/*.eml | wc -l | tr -d ' ')" 1 "the good message was delivered"
# The three regular files its user left get a bounce each (the user has no
# alias and the account no admin: the account's own address).
is "$(grep -l '^Subject: Undelivered Mail' "$SMTP_MAILDIR"/new/*.eml | wc -l | tr -d ' ')" 3 "three bounces for $WU's bad files"
is "$(msg_count)" 6 "nothing else was sent"
is "$(find "$md" -mindepth 1 ! -name .usage ! -name .size-limits | wc -l)" 0 "the maildrop is empty"
n=$(find "$S/spool/queue/corrupt" -name 'maildrop-*' | wc -l)
is "$n" 5 "the five bad files are in corrupt/"
like "$(cat "$T/daemon.err")" "not a regular file" "the daemon said why (symlink)"
like "$(cat "$T/daemon.err")" "bad DSN parameters" "the daemon said why (DSN injection)"

done_testing
