# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# logwatch as a real caller (issue 5): the packaged /usr/sbin/logwatch runs
# `logwatch --output mail --mailto root` with oauthmail as its mailer
# ("... -t") and an unqualified MailFrom: Debian's packaged default (root,
# from dist.conf) and upstream's default (Logwatch, which logwatch 7.7
# lowercases to "logwatch"). The host is not touched: logwatch runs in a
# private mount namespace where a temporary directory holding our
# logwatch.conf is bind-mounted over /etc/logwatch/conf (the last of
# logwatch's config directories it reads: /usr/share/logwatch/default.conf,
# dist.conf, then /etc/logwatch/conf). The mailer is a small wrapper in $T
# that records the argv, whether OAUTHMAIL_CONFIG survived logwatch (it
# does: logwatch only deletes the variables its services set) and the
# message, then pipes it to $OAUTHMAIL with the same argv. Note: logwatch
# does not check the mailer's exit status (close(OUTFILE) is unchecked), so
# its exit 0 proves little; the checks on what arrived are what count.
. "$top_srcdir/tests/integration/lib.sh"

LOGWATCH=/usr/sbin/logwatch
LWCONF=/etc/logwatch/conf
[ -x "$LOGWATCH" ] || skip_all "logwatch not installed ($LOGWATCH)"
command -v unshare >/dev/null 2>&1 || skip_all "unshare not available"
[ -d "$LWCONF" ] || skip_all "$LWCONF missing (cannot bind-mount over it without creating it)"
unshare -m sh -c 'mount --bind "$1" "$2"' - "$T" "$LWCONF" >/dev/null 2>&1 ||
    skip_all "cannot bind-mount in a private mount namespace (needs root / CAP_SYS_ADMIN)"

start_oauth || bail "OAuth server"
start_smtpd || bail "SMTP server"
start_kernel_keyring || skip_all "no kernel keyring"
write_config		# aliases: root -> alice@example.test
seed_token "$ACCOUNT" || bail "seed"

# A fingerprint of the host's /etc/logwatch/conf (names, modes, sizes,
# mtimes, contents) and of the mount table entry for it.
conf_sum() {
	{
		find "$LWCONF" -printf '%p %m %s %T@\n' | sort
		find "$LWCONF" -type f -exec sha256sum {} + | sort
		grep -c " $LWCONF " /proc/self/mountinfo
	} | sha256sum
}
before=$(conf_sum)

# A small fake log directory with something for the sshd / pam_unix
# services to report, dated today (Range = today).
mkdir -p "$T/log" "$T/lwconf/tmp"
now=$(date '+%b %e %H:%M:%S')
{
	echo "$now testhost sshd[4242]: Accepted publickey for alice from 192.0.2.7 port 50000 ssh2: ED25519 SHA256:abc"
	echo "$now testhost sshd[4243]: Failed password for invalid user mallory from 192.0.2.66 port 50001 ssh2"
	echo "$now testhost sshd[4243]: Invalid user mallory from 192.0.2.66 port 50001"
	echo "$now testhost su[4244]: pam_unix(su:session): session opened for user root(uid=0) by alice(uid=1000)"
} >"$T/log/auth.log"

cat >"$T/mailer" <<EOF
#!/bin/sh
# argv, environment and message as logwatch passed them, then the real
# oauthmail (its exit status is the pipeline's).
{ printf '%s\n' "\$0"; for a; do printf '<%s>\n' "\$a"; done; } >"$T/argv"
printf '%s\n' "\${OAUTHMAIL_CONFIG:-unset}" >"$T/envcfg"
tee "$T/stdin" | "$OAUTHMAIL" "\$@"
EOF
chmod 755 "$T/mailer"

# run_logwatch N DESC [CONF-LINE]: one logwatch run in a private mount
# namespace, checks on message N. logwatch lowercases unquoted config
# values, and quoted ones too except LogDir, MailTo, mailer (and a few
# more); $T has capitals: LogDir is quoted, and the work directory (TmpDir)
# is $LWCONF/tmp as seen inside the namespace, i.e. $T/lwconf/tmp.
run_logwatch() {
	_n=$1 _lw=$2
	rm -f "$T/argv" "$T/envcfg" "$T/stdin"
	{
		echo "LogDir = \"$T/log\""
		echo "TmpDir = $LWCONF/tmp"
		echo "MailTo = root"
		echo "Range = today"
		echo "Detail = Low"
		echo "mailer = \"$T/mailer -t\""
		[ $# -gt 2 ] && echo "$3"
	} >"$T/lwconf/logwatch.conf"
	run_ok "$_lw: logwatch --output mail --mailto root exits 0" \
	    unshare -m sh -c 'mount --bind "$1" "$2" && exec "$3" --output mail --mailto root' \
	    - "$T/lwconf" "$LWCONF" "$LOGWATCH"
	if [ -f "$T/argv" ]; then
		diag "$_lw: mailer argv: $(tr '\n' ' ' <"$T/argv")"
		is "$(sed 1d "$T/argv" | tr '\n' ' ')" "<-t> " "$_lw: logwatch ran the mailer with exactly -t"
	else
		fail "$_lw: logwatch ran the mailer"
	fi
	is "$(cat "$T/envcfg" 2>/dev/null)" "$OAUTHMAIL_CONFIG" "$_lw: OAUTHMAIL_CONFIG reached oauthmail through logwatch"
	lwfrom=$(sed -n '/^$/q; s/^From: //p' "$T/stdin" 2>/dev/null)
	diag "$_lw: logwatch wrote From: $lwfrom"
	is "$(sed -n '/^$/q; s/^To: //p' "$T/stdin" 2>/dev/null)" "root" "$_lw: logwatch wrote To: root"

	wait_msgs "$_n" 10
	is "$(msg_count)" "$_n" "$_lw: one message arrived"
	is "$(msg_field rcpt_tos "$_n" | tr '\n' ' ')" "alice@example.test " "$_lw: envelope recipient: root mapped through aliases"
	is "$(msg_field mail_from "$_n")" "alice@example.test" "$_lw: envelope sender is the account"
	is "$(msg_header To "$_n")" "alice@example.test" "$_lw: To: root mapped in the header"
	like "$(msg_header Subject "$_n")" "^Logwatch for " "$_lw: Subject is logwatch's"
	is "$(msg_header Auto-Submitted "$_n")" "auto-generated" "$_lw: logwatch's Auto-Submitted kept"
	_body=$(msg_body "$_n" | tr -d '\r')
	if [ -n "$(printf '%s' "$_body" | tr -d ' \n\t')" ]; then
		pass "$_lw: body non-empty"
	else
		fail "$_lw: body non-empty"
	fi
	like "$_body" "Logwatch [0-9]" "$_lw: body is a logwatch report"
	like "$_body" "mallory|192\.0\.2\.66|Failed logins|Invalid users" "$_lw: the report covers the fake auth.log"
}

# 1. The package as installed. Debian's dist.conf/logwatch.conf sets
#    MailFrom = root (upstream's built-in default is Logwatch): an
#    unqualified local name either way.
run_logwatch 1 "packaged defaults"
like "$lwfrom" '^[A-Za-z][A-Za-z0-9_.-]*$' "packaged defaults: logwatch's From is an unqualified name"
is "$(msg_header From 1)" "$lwfrom <alice@example.test>" "packaged defaults: From rewritten to the account, display name kept"

# 2. Upstream's default, MailFrom = Logwatch (as in default.conf, which
#    Debian's dist.conf overrides). logwatch 7.7 lowercases it (CleanVars
#    lowercases every value but a few, quoted or not) and writes
#    "From: logwatch"; oauthmail keeps what logwatch wrote as display name.
run_logwatch 2 "MailFrom Logwatch" 'MailFrom = Logwatch'
like "$lwfrom" '^[Ll]ogwatch$' "MailFrom Logwatch: logwatch wrote From: Logwatch (or lowercased)"
is "$(msg_header From 2)" "$lwfrom <alice@example.test>" "MailFrom Logwatch: From rewritten to the account, display name kept"
is "$(ls -A "$T/lwconf/tmp" | wc -l | tr -d ' ')" 0 "logwatch cleaned its work directory"

file_contains "$T/oauthmail.log" "status=sent \\(250 " "oauthmail logged the deliveries"

# Nothing outside the namespace changed.
is "$(conf_sum)" "$before" "$LWCONF unchanged (contents, metadata, not mounted over)"
is "$(ls "$XDG_STATE_HOME/oauthmail/queue/q" 2>/dev/null | wc -l | tr -d ' ')" 0 "nothing left queued"

done_testing
