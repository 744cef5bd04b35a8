#!/bin/sh
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# t-server.sh -- the server tier: the Debian package on a Debian 12 machine
# with systemd as PID 1 (tests/server/lib-box.sh), set up and used the way
# a server admin and a server's programs use it:
#   - apt installs the built .deb beside bsd-mailx without pulling an
#     other MTA; the package's user, spool, set-gid binary, links,
#     conffile and unit are as oauthmail(8) says; unconfigured, sendmail
#     refuses and the enabled unit is not started;
#   - a client-credentials account (its secret a systemd credential
#     secret.robot) and an authorization-code account (signed in once as
#     the daemon user) against the test OAuth and SMTP servers on the
#     host's 127.0.0.1;
#   - three local users submit through PHP mail() (www-data), sendmail -bs
#     (a PHP mailer's dialogue) and cron (its argv form, and a real cron
#     job);
#   - two queue runners beside the daemon, a daemon restart in the middle
#     of a delivery, a reboot with mail waiting;
# and checks that every message arrived exactly once (by Message-ID at the
# SMTP server), that no user can read another's mail or any token, that
# the daemon came back by itself after the reboot and sent without a new
# sign-in, that a held account gets at most one AUTH per backoff step, and
# that purge keeps a spool that still holds mail.
# test-timeout: 1800
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/server/lib-box.sh"
SRV=$top_srcdir/tests/server

if grep -q '__asan_init' "$OAUTHMAIL" 2>/dev/null; then
	skip_all "the server tier runs in the normal build only"
fi
[ "${OM_SERVER:-}" = postfix ] && skip_all "the server tier has its own servers"
box_can_run || skip_all "$BOX_WHY"
if [ -n "${OM_DEB:-}" ]; then
	DEB=$OM_DEB
else
	for c in dpkg-buildpackage dh; do
		command -v $c >/dev/null 2>&1 ||
		    skip_all "$c is not installed (apt-get install debhelper), or set OM_DEB=oauthmail_VERSION_ARCH.deb"
	done
	t0=$(date +%s)
	DEB=$(sh "$SRV/build-deb" "$top_builddir/tests/server/deb" 2>"$T/build-deb.err") ||
	    bail "building the package failed: $(tail -n 5 "$T/build-deb.err")"
	diag "package $(basename "$DEB") ($(( $(date +%s) - t0 )) s)"
fi
[ -f "$DEB" ] || bail "no package at $DEB"
t0=$(date +%s)
box_prepare || bail "could not prepare the box root (see $BOX_CACHE/prepare.log)"
[ "$BOX_PREPARE_SECS" -gt 0 ] && diag "box root prepared in $BOX_PREPARE_SECS s"

# ------------------------------------------------------------- helpers ----
B() { box_exec "$@"; }
# as USER CMD...: CMD as USER in the box
as() { _u=$1; shift; box_exec runuser -u "$_u" -- "$@"; }
MID_DOMAIN=srv$$.test
EXPECT=$T/expected		# Message-IDs that must arrive exactly once
: >"$EXPECT"
n_msg=0
next_mid() { n_msg=$((n_msg + 1)); MID="m$n_msg.$1@$MID_DOMAIN"; }

# submit HOW USER FROM [RCPT]: one message with a fresh Message-ID, via
#   php   PHP mail() (sendmail -t -i, -f FROM as the fifth parameter)
#   bs    sendmail -bs spoken by bs-client.php
#   cron  cron's argv: sendmail -FCronDaemon -i -B8BITMIME -oem RCPT
# Adds the id to $EXPECT when the submission exits 0.
submit() {
	_how=$1 _u=$2 _from=$3 _to=${4:-bob@example.test}
	next_mid "$_how-$_u"
	case $_how in
	php)
		as "$_u" env MID="$MID" FROM="$_from" TO="$_to" php -r '
		    $ok = mail(getenv("TO"), "php " . getenv("MID"), "Sent by PHP mail().\n",
		        "Message-ID: <" . getenv("MID") . ">\r\nFrom: " . getenv("FROM"),
		        "-f" . getenv("FROM"));
		    exit($ok ? 0 : 1);' </dev/null >"$T/sub.out" 2>&1
		;;
	bs)
		as "$_u" php /opt/om-test/bs-client.php "$_from" "$_to" "$MID" \
		    "bs $MID" </dev/null >"$T/sub.out" 2>&1
		;;
	cron)
		printf 'From: root (Cron Daemon)\nTo: %s\nSubject: Cron <%s@box> job %s\nMessage-ID: <%s>\n\ncron output %s\n' \
		    "$_to" "$_u" "$MID" "$MID" "$MID" |
		    as "$_u" /usr/sbin/sendmail -FCronDaemon -i -B8BITMIME -oem \
		    -f "$_from" "$_to" >"$T/sub.out" 2>&1
		;;
	esac
	_rc=$?
	[ $_rc -eq 0 ] && echo "$MID" >>"$EXPECT"
	return $_rc
}

# submit_round N: N messages from each of the three users, alternating
# the two accounts; one TAP line per user.
submit_round() {
	for _s in "php www-data" "bs lu1" "cron carol"; do
		set -- $_s
		_bad=0 _i=0
		while [ $_i -lt "$N" ]; do
			if [ $((_i % 2)) = 0 ]; then _f=alice@example.test; else _f=robot@example.test; fi
			submit "$1" "$2" "$_f" || { _bad=$((_bad + 1)); _why=$(head -c 300 "$T/sub.out"); }
			_i=$((_i + 1))
		done
		is "$_bad" 0 "$2 submitted $N messages through $1 (exit 0)" ||
		    diag "last failure: $_why"
	done
}

# Message-ID counts at the SMTP server: "COUNT ID" per id ($1: maildir).
mid_counts() {
	$PY - "$1" <<'EOF'
import email, glob, sys, collections
c = collections.Counter()
for f in glob.glob(sys.argv[1] + "/new/*.eml"):
    m = email.message_from_binary_file(open(f, "rb"))
    c[(m.get("Message-ID") or "").strip().strip("<>")] += 1
for k, v in sorted(c.items()):
    print(v, k)
EOF
}

# wait_secs SECONDS CMD...: until CMD succeeds, by the clock (CMD may be
# slow on a loaded machine), polling every second.
wait_secs() {
	_end=$(( $(date +%s) + $1 )); shift
	until "$@"; do
		[ "$(date +%s)" -ge "$_end" ] && return 1
		sleep 1
	done
	return 0
}

# _all_arrived: every expected id is at the server at least once.
_all_arrived() {
	mid_counts "$MAIN/maildir" | awk '{ print $2 }' >"$T/arrived"
	[ -z "$(sort "$EXPECT" | comm -23 - "$(sort_file "$T/arrived")")" ]
}
sort_file() { sort "$1" >"$1.s"; echo "$1.s"; }

# exactly_once DESC: waits (60 s at most) for every expected message, then
# checks each arrived exactly once and nothing else of this run arrived.
exactly_once() {
	wait_secs 60 _all_arrived
	mid_counts "$MAIN/maildir" >"$T/counts"
	_missing=$(awk '{ print $2 }' "$T/counts" | sort | comm -13 - "$(sort_file "$EXPECT")")
	_dups=$(awk '$1 > 1' "$T/counts")
	_extra=$(awk '{ print $2 }' "$T/counts" | grep "@$MID_DOMAIN\$" | sort |
	    comm -23 - "$(sort_file "$EXPECT")")
	is "$(echo $_missing)" "" "$1: all $(wc -l <"$EXPECT") messages arrived"
	is "$(echo $_dups)" "" "$1: none arrived twice"
	is "$(echo $_extra)" "" "$1: nothing arrived that was not acknowledged"
}

daemon_active() { [ "$(B systemctl is-active oauthmail 2>/dev/null)" = active ]; }
drops_left() { B sh -c 'find /var/spool/oauthmail/maildrop -type f | wc -l' 2>/dev/null; }

# ----------------------------------------------------- host servers -------
start_oauth || bail "OAuth server did not start"
start_smtpd -n main || bail "SMTP server did not start"
MAIN=$SMTP_DIR MAIN_PORT=$SMTP_PORT
# The held account's server refuses every AUTH as Microsoft does when SMTP
# AUTH is disabled for the tenant.
start_smtpd -n held --fault auth_disabled || bail "second SMTP server did not start"
HELD=$SMTP_DIR HELD_PORT=$SMTP_PORT

# ------------------------------------------------------- the machine ------
box_boot "om-srv-$$" || bail "the box did not boot"
diag "box up in $(( $(date +%s) - t0 )) s (root copy and boot)"
B mkdir -p /opt/om-test
box_put "$DEB" /opt/om-test/oauthmail.deb
box_put "$SRV/bs-client.php" /opt/om-test/bs-client.php
box_put "$CERTS/ca.pem" /etc/ssl/oauthmail-test-ca.pem

# --- 1. install ---------------------------------------------------------------
# "apt install ./oauthmail_*.deb bsd-mailx": apt's resolver must meet
# bsd-mailx's need of an MTA with oauthmail, not with exim4 (bsd-mailx
# waits in apt's archive cache: nothing is downloaded).
B sh -c 'cp /opt/om-debs/*.deb /var/cache/apt/archives/ &&
    apt-get install -s /opt/om-test/oauthmail.deb bsd-mailx' >"$T/apt-s.log" 2>&1
is "$(grep '^Inst ' "$T/apt-s.log" | awk '{ print $2 }' | sort | tr '\n' ' ')" "bsd-mailx oauthmail " \
    "apt plans to install oauthmail and bsd-mailx and nothing else (no exim4)" ||
    diag "$(tail -n 15 "$T/apt-s.log")"
B apt-get install -y -q /opt/om-test/oauthmail.deb bsd-mailx >"$T/apt.log" 2>&1 ||
    bail "apt-get install of the package failed: $(tail -n 15 "$T/apt.log")"
pass "apt-get install ./oauthmail_*.deb bsd-mailx"
is "$(B sh -c "dpkg-query -W -f '\${db:Status-Abbrev}\\n' 'exim4*' postfix 2>/dev/null | grep -c '^ii'")" 0 \
    "no other MTA is installed"
is "$(B dpkg-query -W -f '${db:Status-Abbrev}' bsd-mailx)" "ii " "bsd-mailx is installed, its MTA need met by oauthmail"
like "$(B dpkg-query -W -f '${Depends}' oauthmail)" "libcurl4.*libsecret-1-0|libsecret-1-0.*libcurl4" \
    "Depends names the dlopen()ed libcurl4 and libsecret-1-0"
like "$(B dpkg-query -W -f '${Provides} ${Conflicts} ${Replaces}' oauthmail)" \
    "^mail-transport-agent mail-transport-agent mail-transport-agent$" \
    "Provides, Conflicts and Replaces mail-transport-agent"
like "$(B getent passwd oauthmail)" "^oauthmail:x:[0-9]+:[0-9]+:.*:/var/lib/oauthmail:/usr/sbin/nologin$" \
    "system user oauthmail, home /var/lib/oauthmail, no login shell"
uid=$(B id -u oauthmail)
[ -n "$uid" ] && [ "$uid" -lt 1000 ] && pass "oauthmail is a system uid ($uid)" || fail "oauthmail uid $uid"
is "$(B stat -c '%U:%G %a' /usr/bin/oauthmail)" "root:oauthmail 2755" "the binary is set-gid oauthmail (2755)"
like "$(B dpkg-statoverride --list /usr/bin/oauthmail)" "^root oauthmail 2755 /usr/bin/oauthmail$" \
    "through dpkg-statoverride"
is "$(B stat -c '%U:%G %a' /var/spool/oauthmail /var/spool/oauthmail/maildrop /var/spool/oauthmail/queue | tr '\n' ' ')" \
    "root:root 755 oauthmail:oauthmail 1730 oauthmail:oauthmail 700 " "the spool: maildrop 1730, queue 0700"
for l in /usr/sbin/sendmail /usr/lib/sendmail /usr/bin/mailq /usr/bin/newaliases; do
	is "$(B readlink -f $l)" /usr/bin/oauthmail "$l -> /usr/bin/oauthmail"
done
like "$(B dpkg-query -W -f '${Conffiles}' oauthmail)" "/etc/oauthmail.conf [0-9a-f]{32}" "/etc/oauthmail.conf is a conffile"
like "$(B grep -c '^mode system$' /etc/oauthmail.conf)" "^1$" "it says mode system"
is "$(B systemctl is-enabled oauthmail)" enabled "oauthmail.service is enabled"
is "$(B systemctl is-active oauthmail)" inactive "but not started while unconfigured"
# What a boot does with the enabled unit: it is skipped, not failed.
B systemctl start oauthmail >/dev/null 2>&1
sleep 1
is "$(B systemctl is-active oauthmail)" inactive "started while unconfigured, it is skipped (ExecCondition)"
isnt "$(B systemctl is-failed oauthmail)" failed "and not failed (no restart loop)"
B useradd -m -s /bin/sh lu1
B useradd -m -s /bin/sh carol
printf 'Subject: x\n\nx\n' | as lu1 /usr/sbin/sendmail bob@example.test >"$T/unconf.out" 2>&1
is "$?" 78 "unconfigured: sendmail refuses (exit 78)"
like "$(cat "$T/unconf.out")" "account" "and says an account is missing"
is "$(drops_left)" 0 "nothing was dropped"

# --- 2. configure: two accounts, a credential, a sign-in ----------------------
cat >"$T/oauthmail.conf" <<EOF
# written by tests/server/t-server.sh
mode system

defaults
  syslog on
  aliases /etc/aliases
  host 127.0.0.1
  port $MAIN_PORT
  tls on
  tls_starttls on
  tls_trust_file /etc/ssl/oauthmail-test-ca.pem
  auth xoauth2
  provider custom
  token_endpoint $OAUTH_URL/token
  keyring kernel

# App-only: the secret is the systemd credential secret.robot.
account robot
  flow client_credentials
  client_id conf-client
  scope https://outlook.office365.com/.default
  from robot@example.test
  user robot@example.test

# Delegated: signed in once by the admin (authorization code + PKCE).
account alice
  flow authcode
  client_id demo-client
  auth_endpoint $OAUTH_URL/authorize
  from alice@example.test
  user alice@example.test

# A tenant with SMTP AUTH disabled: every AUTH gets 535 5.7.139.
account held
  port $HELD_PORT
  flow client_credentials
  client_id conf-client
  scope https://outlook.office365.com/.default
  from held@example.test
  user held@example.test

account default : alice
EOF
box_put "$T/oauthmail.conf" /etc/oauthmail.conf 644
printf 'root: bob@example.test\npostmaster: root\n' >"$T/aliases"
box_put "$T/aliases" /etc/aliases 644
# printf is a shell builtin: the secret is in no process's argv.
# The two steps of "oauthmail secret ACCOUNT --systemd-credential", as
# root: the secret sealed with the machine's credential key, and a drop-in.
B sh -ec 'umask 077; mkdir -p /etc/credstore.encrypted
	mkdir -p /etc/systemd/system/oauthmail.service.d
	for a in robot held; do
		printf %s conf-secret | systemd-creds encrypt --name=secret.$a - \
		    /etc/credstore.encrypted/secret.$a
		printf "[Service]\nLoadCredentialEncrypted=secret.%s:/etc/credstore.encrypted/secret.%s\n" \
		    $a $a >/etc/systemd/system/oauthmail.service.d/secret.$a.conf
		chmod 644 /etc/systemd/system/oauthmail.service.d/secret.$a.conf
	done
	# The sealing key of the delegated tokens ("oauthmail secret --seal-key").
	head -c 32 /dev/urandom | systemd-creds encrypt --name=token-key - \
	    /etc/credstore.encrypted/token-key
	printf "[Service]\nLoadCredentialEncrypted=token-key:/etc/credstore.encrypted/token-key\n" \
	    >/etc/systemd/system/oauthmail.service.d/token-key.conf
	chmod 644 /etc/systemd/system/oauthmail.service.d/token-key.conf
	systemctl daemon-reload' >"$T/creds.out" 2>&1
ok $? "client secrets and the token sealing key are systemd credentials (systemd-creds encrypt)" ||
    diag "$(cat "$T/creds.out")"

# The admin signs the daemon user in, as oauthmail(8) says; the test plays
# the browser from the host (the box shares its loopback).
B sh -c 'cd / && (sudo -u oauthmail oauthmail login alice --browser </dev/null \
    >/tmp/login.out 2>/tmp/login.err; echo $? >/tmp/login.rc) >/dev/null 2>&1 &'
_login_url() { B grep -q '^Waiting up to' /tmp/login.err 2>/dev/null; }
if wait_secs 30 _login_url; then
	url=$(B grep "^    $OAUTH_URL/authorize?" /tmp/login.err | head -n 1 | sed 's/^ *//')
	loc=$(curl -sS --max-time 20 --cacert "$CERTS/ca.pem" -o /dev/null -w '%{redirect_url}' "$url")
	curl -sS --max-time 30 -o "$T/page.html" "$loc"
	wait_secs 30 B test -s /tmp/login.rc
	is "$(B cat /tmp/login.rc)" 0 "sudo -u oauthmail oauthmail login alice: signed in" ||
	    diag "$(B cat /tmp/login.err)"
else
	fail "sudo -u oauthmail oauthmail login alice prints the sign-in URL" "$(B cat /tmp/login.err)"
fi
is "$(oauth_stat counts.authorization_code_ok)" 1 "one authorization-code grant"

B systemctl start oauthmail >"$T/start.out" 2>&1
ok $? "systemctl start oauthmail" || diag "$(cat "$T/start.out")"
wait_secs 15 daemon_active
daemon_active && pass "the daemon is running" ||
    fail "the daemon is running" "$(B journalctl -u oauthmail --no-pager -n 15 -o cat)"

# --- 3. a held account: at most one AUTH per backoff step ---------------------
for i in 1 2 3; do
	printf 'Subject: held %s\n\nheld\n' "$i" | as carol /usr/sbin/sendmail -f held@example.test bob@example.test
done

# --- 4. three users, two accounts, the daemon running -------------------------
N=4
submit_round
exactly_once "three users, daemon running"

# --- 5. nobody reads another's mail or any token ------------------------------
for p in /var/spool/oauthmail/queue /var/spool/oauthmail/maildrop /var/lib/oauthmail \
    /etc/credstore.encrypted /run/credentials/oauthmail.service; do
	if as lu1 ls "$p" >/dev/null 2>"$T/ls.err"; then
		fail "lu1 lists $p"
	else
		like "$(cat "$T/ls.err")" "Permission denied" "lu1 cannot list $p"
	fi
done
leak=$(B sh -c 'find /var/spool/oauthmail /var/lib/oauthmail /etc/credstore.encrypted \
    /run/credentials ! -type d ! -type l -perm /o+r 2>/dev/null | head -n 5')
is "$leak" "" "no file in the spool, the daemon's state or the credentials is readable by others"
if as lu1 keyctl get_persistent @s "$uid" >/dev/null 2>"$T/kr.err"; then
	fail "lu1 reached the daemon user's keyring"
else
	like "$(cat "$T/kr.err")" "denied|not permitted" "lu1 cannot reach the daemon user's keyring"
fi
as lu1 oauthmail token alice >"$T/tok.out" 2>&1
isnt "$?" 0 "'oauthmail token alice' as lu1 fails"
unlike "$(cat "$T/tok.out")" "at-[A-Za-z0-9_-]{20}" "and prints no token"
as lu1 mailq >"$T/mailq.out" 2>&1
unlike "$(cat "$T/mailq.out")" "bob@example|www-data" "mailq as lu1 shows no one's mail"
# A drop file waiting while the daemon is down: only its writer and the
# daemon's group may read it.
B systemctl stop oauthmail
next_mid private
printf 'Subject: private\nMessage-ID: <%s>\n\nsecret of www-data\n' "$MID" |
    as www-data /usr/sbin/sendmail bob@example.test && echo "$MID" >>"$EXPECT"
f=$(B sh -c 'ls /var/spool/oauthmail/maildrop | head -n 1')
if [ -z "$f" ]; then
	fail "www-data's message waits in the maildrop"
elif as lu1 cat "/var/spool/oauthmail/maildrop/$f" >/dev/null 2>"$T/cat.err"; then
	fail "lu1 reads www-data's drop file"
else
	like "$(cat "$T/cat.err")" "Permission denied" "lu1 cannot read www-data's drop file"
fi

# --- 6. two queue runners beside the daemon -----------------------------------
# AUTHs the held account's server saw, and seconds since the first one.
held_auths() { _n=$(grep -c '> AUTH' "$HELD/smtpd.log" 2>/dev/null); echo "${_n:-0}"; }
held_since() {
	_f=$(grep -m 1 '> AUTH' "$HELD/smtpd.log" | cut -c1-8)
	[ -n "$_f" ] || { echo 0; return; }
	echo $(( ($(date +%s) - $(date -d "$_f" +%s) + 86400) % 86400 ))
}
# held_allowed SECONDS: 1 + the backoff steps (1 min, doubling, at most
# 1 h: oauthmail(8), "held") that ended within SECONDS of the refusal.
held_allowed() {
	_a=1 _s=60 _t=60
	while [ "$_t" -le "$1" ]; do
		_a=$((_a + 1)); [ $_s -lt 3600 ] && _s=$((_s * 2))
		[ $_s -gt 3600 ] && _s=3600; _t=$((_t + _s))
	done
	echo $_a
}
n_auth=$(held_auths) since=$(held_since)
if [ "$n_auth" -ge 1 ] && [ "$n_auth" -le "$(held_allowed "$since")" ]; then
	pass "the held account (3 messages) made $n_auth AUTH in the $since s since its refusal"
else
	fail "the held account made $n_auth AUTH in $since s; at most $(held_allowed "$since") (one per backoff step)" \
	    "$(grep -E '> AUTH|connect' "$HELD/smtpd.log" | tail -n 10)"
fi

N=8
d0=$(drops_left)
submit_round
is "$(( $(drops_left) - d0 ))" "$((3 * N))" "with the daemon stopped, the $((3 * N)) new messages wait in the maildrop"
B sh -c 'systemctl start oauthmail &
	for i in 1 2; do
		(sudo -u oauthmail oauthmail -q >/tmp/runner$i.out 2>&1; echo $? >/tmp/runner$i.rc) &
	done
	wait' >/dev/null 2>&1
is "$(B cat /tmp/runner1.rc /tmp/runner2.rc | tr '\n' ' ')" "0 0 " "two queue runs beside the daemon exit 0"
wait_secs 15 daemon_active
exactly_once "daemon + two queue runners"

# --- 7. restart in the middle of a delivery -----------------------------------
k0=$(grep -c 'RCPT.*slow' "$MAIN/smtpd.log")
for i in 1 2 3 4; do
	submit cron carol alice@example.test slow@example.test || fail "submit to slow@"
done
_slow_started() { [ "$(grep -c '> RCPT.*slow' "$MAIN/smtpd.log")" -gt "$k0" ]; }
if wait_secs 30 _slow_started; then
	B systemctl restart oauthmail
	ok $? "systemctl restart oauthmail while a message is being sent"
else
	fail "a delivery to slow@ started" "$(tail -n 5 "$MAIN/smtpd.log")"
fi
wait_secs 15 daemon_active
exactly_once "restart mid-delivery"

# --- 8. reboot with mail waiting ----------------------------------------------
B systemctl stop oauthmail
N=2
submit_round
B sh -c 'k=$(runuser -u oauthmail -- keyctl get_persistent @s) &&
    runuser -u oauthmail -- keyctl add user om-test:reboot-marker x "$k"' >/dev/null 2>&1
ac0=$(oauth_stat counts.authorization_code_ok)
dev0=$(oauth_stat counts.device_authorization_requests)
box_reboot || bail "the box did not come back after the reboot"
pass "the box rebooted"
B sh -c 'k=$(runuser -u oauthmail -- keyctl get_persistent @s) &&
    runuser -u oauthmail -- keyctl search "$k" user om-test:reboot-marker' >/dev/null 2>&1
isnt "$?" 0 "the reboot emptied the kernel keyrings (as on a real server)"
wait_secs 30 daemon_active
daemon_active && pass "the daemon came back by itself after the reboot" ||
    fail "the daemon came back by itself after the reboot" \
	"$(B journalctl -b -u oauthmail --no-pager -n 15 -o cat)"
exactly_once "after the reboot"
is "$(oauth_stat counts.authorization_code_ok)" "$ac0" "no new sign-in (no new authorization code)"
is "$(oauth_stat counts.device_authorization_requests)" "$dev0" "and no device sign-in"

# --- 9. a real cron job mails its output once ---------------------------------
B sh -c "printf 'MAILTO=bob@example.test\n* * * * * [ -e \$HOME/.om-cron ] || { touch \$HOME/.om-cron; echo cron-marker-$$; }\n' |
    crontab -u carol -" >/dev/null
_cron_sent() { grep -l "cron-marker-$$" "$MAIN"/maildir/new/*.eml >/dev/null 2>&1; }
if wait_secs 75 _cron_sent; then
	sleep 1
	is "$(grep -l "cron-marker-$$" "$MAIN"/maildir/new/*.eml | wc -l)" 1 \
	    "cron's mail of a job's output arrived once"
else
	fail "cron's mail of a job's output arrived" "$(B journalctl -u cron --no-pager -n 10 -o cat)"
fi
is "$(grep -c 'held@example.test' "$MAIN/smtpd.log")" 0 "the held account's mail went nowhere else"
# Over the whole run -- two daemon restarts and a reboot included -- the
# schedule held; only the two "sendmail -q" runs may try held mail at once.
n_auth=$(held_auths) since=$(held_since)
max=$(( $(held_allowed "$since") + 2 ))
if [ "$n_auth" -le "$max" ]; then
	pass "the held account made $n_auth AUTH in $since s, restarts and reboot included (at most $max)"
else
	fail "the held account made $n_auth AUTH in $since s; at most $max" \
	    "$(grep -E '> AUTH' "$HELD/smtpd.log" | tail -n 10)"
fi

# --- 10. purge --------------------------------------------------------------------
B systemctl stop oauthmail
B apt-get purge -y -q oauthmail bsd-mailx >"$T/purge.out" 2>&1
ok $? "apt-get purge oauthmail"
like "$(cat "$T/purge.out")" "WARNING: /var/spool/oauthmail still holds mail" \
    "it warns that the spool still holds (held) mail"
B test -d /var/spool/oauthmail/queue
ok $? "and keeps the spool"
B sh -c 'rm -rf /var/spool/oauthmail/queue/* &&
    apt-get install -y -q /opt/om-test/oauthmail.deb &&
    apt-get purge -y -q oauthmail' >"$T/purge2.out" 2>&1
ok $? "install again and purge with an empty spool" || diag "$(tail -n 10 "$T/purge2.out")"
B test -e /var/spool/oauthmail
isnt "$?" 0 "an empty spool is removed"
is "$(B sh -c 'dpkg-statoverride --list /usr/bin/oauthmail; ls /var/lib/oauthmail 2>&1 | grep -v "No such"')" "" \
    "the statoverride and /var/lib/oauthmail are gone"

diag "server tier: $(( $(date +%s) - t0 )) s after the box root was ready"
done_testing
