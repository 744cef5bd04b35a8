# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# lib-sysmode.sh -- system mode with real users, for t-system-mode.sh,
# t-bs-system.sh and t-maildrop*.sh.
# Source it after lib.sh; it skips the test unless it can run (root, the
# user tools, not a sanitizer build) and then sets up:
#   $DU $GQ     the daemon user and the spool group (this run's names)
#   $WU $OU     two submitting users
#   $S          a root-owned tree: $S/bin/sendmail (set-gid $GQ),
#               $S/etc/oauthmail.conf ($CF), $S/spool/{maildrop,queue}
#   $BIN $CF $MD (the maildrop) $ACCOUNT
#   the fake OAuth and SMTP servers, a token in $DU's persistent keyring
# SYS_GLOBAL_CONF and SYS_ACCOUNT_CONF, if set before sourcing, hold extra
# lines for the configuration (above the account, and in it); with
# SYS_NO_ADMIN set, the account has no admin address; SYS_SMTPD_ARGS,
# options for the SMTP server (e.g. "--size 0").
#
#   as_user USER CMD...   runs CMD as USER (the set-gid bit is honoured)
#   as_daemon [--bg] CMD...   runs CMD as the daemon user, in its own
#                         session keyring, with only PATH, HOME and XDG_*
#                         set; --bg: in the background, its pid in $!
#   daemon ARGS...        runs the binary as the daemon user (output
#                         appended to $T/daemon.out and $T/daemon.err)
#   drop_files            lists the drop files (not the .usage ledger)
need_oauthmail
[ "$(id -u)" = 0 ] || skip_all "needs root (creates users)"
for c in useradd userdel groupadd groupdel setpriv su keyctl; do
	command -v $c >/dev/null 2>&1 || skip_all "no $c"
done
# A set-gid process is not dumpable: LeakSanitizer cannot run in it.
if grep -q '__asan_init' "$OAUTHMAIL" 2>/dev/null; then
	skip_all "set-gid runs cannot be checked under LeakSanitizer"
fi

DU=omd$$ GQ=omq$$ WU=omw$$ OU=omo$$
_sys_cleanup_users() {
	for u in $WU $OU $DU; do
		userdel "$u" >/dev/null 2>&1
	done
	groupdel $GQ >/dev/null 2>&1
	:
}
at_exit _sys_cleanup_users
groupadd --system $GQ || bail "groupadd"
useradd --system -g $GQ -M -d /nonexistent -s /usr/sbin/nologin $DU || bail "useradd $DU"
useradd -M -d /nonexistent -s /usr/sbin/nologin $WU || bail "useradd $WU"
useradd -M -d /nonexistent -s /usr/sbin/nologin $OU || bail "useradd $OU"

S=$(mktemp -d /tmp/om-sys.XXXXXX) || bail "mktemp"
at_exit "rm -rf '$S'"
chmod 755 "$S"
mkdir -p "$S/bin" "$S/etc" "$S/spool/maildrop" "$S/spool/queue" "$S/d/run"
chmod 755 "$S/bin" "$S/etc" "$S/spool"
cp "$OAUTHMAIL" "$S/bin/sendmail"
chgrp $GQ "$S/bin/sendmail"
chmod 2755 "$S/bin/sendmail"
chown $DU:$GQ "$S/spool/maildrop" "$S/spool/queue" "$S/d" "$S/d/run"
chmod 1730 "$S/spool/maildrop"
chmod 700 "$S/spool/queue" "$S/d" "$S/d/run"
cp "$CERTS/ca.pem" "$S/etc/ca.pem"
printf 'root: admin@example.test\n' >"$S/etc/aliases"
chmod 644 "$S/etc/ca.pem" "$S/etc/aliases"
BIN=$S/bin/sendmail
CF=$S/etc/oauthmail.conf
MD=$S/spool/maildrop

start_oauth || bail "OAuth server did not start"
# shellcheck disable=SC2086
start_smtpd ${SYS_SMTPD_ARGS:-} || bail "SMTP server did not start"
ACCOUNT=sys$$
{
	echo "mode system"
	echo "spool_dir $S/spool"
	[ -z "${SYS_GLOBAL_CONF:-}" ] || printf '%s\n' "$SYS_GLOBAL_CONF"
	echo "account $ACCOUNT"
	echo "host 127.0.0.1"
	echo "port $SMTP_PORT"
	echo "tls on"
	echo "tls_starttls on"
	echo "tls_trust_file $S/etc/ca.pem"
	echo "from alice@example.test"
	echo "user alice@example.test"
	echo "auth xoauth2"
	echo "provider custom"
	echo "client_id demo-client"
	echo "token_endpoint $OAUTH_URL/token"
	echo "keyring kernel"
	echo "aliases $S/etc/aliases"
	[ -n "${SYS_NO_ADMIN:-}" ] || echo "admin postmaster@example.test"
	echo "syslog off"
	[ -z "${SYS_ACCOUNT_CONF:-}" ] || printf '%s\n' "$SYS_ACCOUNT_CONF"
	echo "account default : $ACCOUNT"
} >"$CF"
chmod 644 "$CF"

as_user() {
	_au=$1
	shift
	setpriv --reuid="$_au" --regid="$(id -g "$_au")" --init-groups "$@"
}

as_daemon() {
	_adbg=
	[ "$1" = --bg ] && { _adbg=1; shift; }
	set -- env -i PATH=/usr/bin:/bin HOME="$S/d" XDG_RUNTIME_DIR="$S/d/run" \
	    XDG_STATE_HOME="$S/d" setpriv --reuid=$DU --regid=$GQ --init-groups \
	    keyctl session - "$@"
	if [ -n "$_adbg" ]; then "$@" & else "$@"; fi
}

daemon() {
	as_daemon "$BIN" -C "$CF" "$@" >>"$T/daemon.out" 2>>"$T/daemon.err"
}

drop_files() {
	find "$MD" -type f ! -name '.*'
}

keyring_put() {
	printf '%s' "$3" | env -i PATH=/usr/bin:/bin setpriv --reuid=$DU \
	    --regid=$GQ --init-groups keyctl session - sh -c \
	    'keyctl padd user "$1" "$(keyctl get_persistent @s)"' - \
	    "oauthmail:$1:$2" >/dev/null 2>&1
}
at_exit "env -i PATH=/usr/bin:/bin setpriv --reuid=$(id -u $DU) --regid=$(id -g $DU) --clear-groups keyctl session - sh -c 'keyctl clear \$(keyctl get_persistent @s)' >/dev/null 2>&1"
seed_token "$ACCOUNT" || bail "seed token into $DU's persistent keyring"
