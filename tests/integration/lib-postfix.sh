# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# lib-postfix.sh -- a real server tier for the integration tests: Postfix as
# the submission server, Dovecot as its SASL service checking XOAUTH2 and
# OAUTHBEARER tokens at the test OAuth server's introspection endpoint.
# Source it after lib.sh:
#
#   . "$top_srcdir/tests/integration/lib.sh"
#   . "$top_srcdir/tests/integration/lib-postfix.sh"
#
# Needs root (Postfix and Dovecot drop privileges to their own users) and
# the postfix and dovecot-core packages (scripts/install-deps). No systemd,
# no system file written: both run from a private directory $PF_DIR with
# configuration made from tests/integration/postfix/*.in.
#
# start_postfix_tier   start Dovecot (auth only) and Postfix on free
#     127.0.0.1 ports chosen now; start_oauth first (the tokens are checked
#     at $OAUTH_URL/introspect). Sets PF_DIR, PF_SUBMISSION_PORT (STARTTLS
#     required), PF_SMTPS_PORT (implicit TLS), PF_MAILDIR, PF_LOG (Postfix's
#     log), PF_DOVECOT_LOG. Stops both at exit. Returns 1 with a diag line
#     and PF_WHY set when the tier cannot run (then: skip_all "$PF_WHY").
#     PF_AUTH_DEBUG=yes turns on Dovecot's auth_debug. PF_MILTER=inet:HOST:PORT
#     adds that milter to both listeners (lib.sh's recorder, pf_milter.py).
# stop_postfix_tier    stop both (done at exit)
# pf_use submission|smtps   point SMTP_PORT/SMTP_MODE at a listener, so
#     write_config configures oauthmail for it
# pf_msg_count         messages in the Maildir (one per recipient: Postfix
#     delivers a copy per recipient, each with its Delivered-To header)
# pf_msg_list          their paths, oldest first
# pf_msg_file [N]      path of message N (1-based, arrival order; default last)
# pf_msg_header NAME [N]   value(s) of header NAME of message N (unfolded)
# pf_msg_body [N]      the body of message N
# pf_rcpts [FIRST]     the Delivered-To addresses of messages FIRST.. (default
#     1), sorted, space-separated, with a trailing space
# pf_wait_msgs N [SECONDS=15]   until at least N messages are in the Maildir
# pf_mailq             Postfix's queue listing (postqueue -p)
# pf_log_contains ERE DESC   check Postfix's and Dovecot's logs

: "${PF_TEMPLATES:=$IT/postfix}"
_pf_started=""

# Two distinct free ports from the kernel's ephemeral range (high ports).
_pf_pick_ports() {
	_pf_ports=$($PY -c '
import socket
a, b = socket.socket(), socket.socket()
a.bind(("127.0.0.1", 0)); b.bind(("127.0.0.1", 0))
print(a.getsockname()[1], b.getsockname()[1])') || return 1
	PF_SUBMISSION_PORT=${_pf_ports% *} PF_SMTPS_PORT=${_pf_ports#* }
}

_pf_subst() { # _pf_subst TEMPLATE OUT
	sed -e "s|@PFDIR@|$PF_DIR|g" \
	    -e "s|@SUBMISSION_PORT@|$PF_SUBMISSION_PORT|g" \
	    -e "s|@SMTPS_PORT@|$PF_SMTPS_PORT|g" \
	    -e "s|@VUID@|$_pf_vuid|g" -e "s|@VGID@|$_pf_vgid|g" \
	    -e "s|@AUTH_DEBUG@|${PF_AUTH_DEBUG:-no}|g" \
	    -e "s|@INTROSPECT_URL@|$OAUTH_URL/introspect|g" \
	    "$1" >"$2"
}

_pf_why() { # one line, so it reads well in "1..0 # SKIP ..."
	PF_WHY=$(printf '%s' "$1" | tr -s '\n\t' '  ')
	diag "postfix tier: $1"
	return 1
}

start_postfix_tier() {
	PF_WHY=""
	[ "$(id -u)" -eq 0 ] || { _pf_why "needs root"; return 1; }
	for _c in postfix postconf postqueue dovecot doveconf; do
		command -v "$_c" >/dev/null 2>&1 ||
		    PATH=$PATH:/usr/sbin:/sbin command -v "$_c" >/dev/null 2>&1 ||
		    { _pf_why "$_c is not installed (scripts/install-deps)"; return 1; }
	done
	PATH=$PATH:/usr/sbin:/sbin
	if ! id postfix >/dev/null 2>&1 || ! id dovecot >/dev/null 2>&1 ||
	    ! getent group postdrop >/dev/null 2>&1; then
		_pf_why "the postfix/dovecot users or the postdrop group are missing"
		return 1
	fi
	[ -n "${OAUTH_URL:-}" ] || { _pf_why "start_oauth first"; return 1; }
	# The daemons run as postfix, dovecot and nobody: they must be able to
	# reach their files, so the tier lives beside $T (mode 700), not in it.
	PF_DIR=$(mktemp -d "${TMPDIR:-/tmp}/om-pf-$TEST_NAME.XXXXXX") ||
	    { _pf_why "mktemp failed"; return 1; }
	chmod 755 "$PF_DIR"
	at_exit 'stop_postfix_tier'
	_pf_vuid=$(id -u nobody) _pf_vgid=$(getent group nogroup | cut -d: -f3)
	[ -n "$_pf_vgid" ] || _pf_vgid=$(id -g nobody)
	mkdir -p "$PF_DIR/etc" "$PF_DIR/spool" "$PF_DIR/data" "$PF_DIR/mail" \
	    "$PF_DIR/dovecot/run" "$PF_DIR/dovecot/state"
	chown postfix:postfix "$PF_DIR/data"
	chown "$_pf_vuid:$_pf_vgid" "$PF_DIR/mail"
	chmod 700 "$PF_DIR/mail"
	for _f in main.cf dovecot.conf dovecot-oauth2.conf.ext; do
		_pf_subst "$PF_TEMPLATES/$_f.in" "$PF_DIR/etc/$_f"
	done
	if [ -n "${PF_MILTER:-}" ]; then
		# A recording milter (lib.sh under OM_SERVER=postfix): if it
		# is gone, mail is refused 4xx rather than silently unrecorded.
		printf 'smtpd_milters = %s\nmilter_default_action = tempfail\n' \
		    "$PF_MILTER" >>"$PF_DIR/etc/main.cf"
	fi
	cp "$PF_TEMPLATES/vmailbox" "$PF_TEMPLATES/sender_login" "$PF_DIR/etc/"
	cp "$CERTS/ca.pem" "$CERTS/server.pem" "$PF_DIR/etc/"
	chmod 644 "$PF_DIR/etc/ca.pem" "$PF_DIR/etc/server.pem"
	(umask 077 && cp "$CERTS/server.key" "$PF_DIR/etc/server.key")
	chmod 600 "$PF_DIR/etc/dovecot-oauth2.conf.ext"
	PF_LOG=$PF_DIR/postfix.log
	PF_DOVECOT_LOG=$PF_DIR/dovecot.log
	PF_MAILDIR=$PF_DIR/mail/maildir
	_pf_pc="postfix -c $PF_DIR/etc"

	# Postfix first: it makes the queue directory, where Dovecot puts
	# the auth socket (private/auth, as smtpd_sasl_path says).
	_pf_pick_ports || { _pf_why "no free port"; return 1; }
	_pf_subst "$PF_TEMPLATES/master.cf.in" "$PF_DIR/etc/master.cf"
	if ! $_pf_pc check >"$PF_DIR/check.out" 2>&1; then
		_pf_why "postfix check failed: $(tail -n 3 "$PF_DIR/check.out")"
		return 1
	fi
	# The ports are free when chosen, but another process may take one
	# before the master binds it ("master -w" then fails): try new ones.
	_pf_try=0
	while :; do
		_pf_try=$((_pf_try + 1))
		$_pf_pc start >"$PF_DIR/start.out" 2>&1 && break
		if [ $_pf_try -ge 3 ]; then
			_pf_why "postfix start failed: $(tail -n 3 "$PF_DIR/start.out") $(tail -n 3 "$PF_LOG" 2>/dev/null)"
			return 1
		fi
		diag "postfix start failed on ports $PF_SUBMISSION_PORT/$PF_SMTPS_PORT; retrying"
		$_pf_pc stop >/dev/null 2>&1 || :
		_pf_pick_ports || { _pf_why "no free port"; return 1; }
		_pf_subst "$PF_TEMPLATES/master.cf.in" "$PF_DIR/etc/master.cf"
	done
	_pf_started=1
	if ! wait_file "$PF_DIR/spool/pid/master.pid" 10; then
		_pf_why "postfix master did not start: $(tail -n 5 "$PF_LOG" 2>/dev/null)"
		return 1
	fi
	_pf_master=$(tr -d ' ' <"$PF_DIR/spool/pid/master.pid")
	_lib_watch "$_pf_master"

	if ! doveconf -c "$PF_DIR/etc/dovecot.conf" -n >/dev/null 2>"$PF_DIR/doveconf.err"; then
		_pf_why "dovecot configuration refused: $(grep -m 1 -i fatal "$PF_DIR/doveconf.err" || tail -n 1 "$PF_DIR/doveconf.err")"
		return 1
	fi
	dovecot -F -c "$PF_DIR/etc/dovecot.conf" >"$PF_DIR/dovecot.out" 2>&1 &
	_pf_dovecot=$!
	_lib_pids="$_lib_pids $_pf_dovecot"
	_lib_watch "$_pf_dovecot"
	if ! wait_for 10 test -S "$PF_DIR/spool/private/auth"; then
		_pf_why "dovecot did not start: $(tail -n 3 "$PF_DIR/dovecot.out") $(tail -n 3 "$PF_DOVECOT_LOG" 2>/dev/null)"
		return 1
	fi
	# "postfix start" returned after the master bound both listeners.
	return 0
}

stop_postfix_tier() {
	if [ -n "$_pf_started" ]; then
		postfix -c "$PF_DIR/etc" stop >/dev/null 2>&1 || :
		# "postfix stop" waits for nothing: make sure the master is gone.
		[ -n "${_pf_master:-}" ] && _lib_kill "$_pf_master"
		_pf_started=""
	fi
	if [ -n "${_pf_dovecot:-}" ]; then
		_lib_kill "$_pf_dovecot"
		_pf_dovecot=""
	fi
	if [ -n "${PF_DIR:-}" ] && [ -d "$PF_DIR" ]; then
		if [ "$_tap_failed" -gt 0 ]; then
			for _f in "$PF_LOG" "$PF_DOVECOT_LOG"; do
				[ -s "$_f" ] || continue
				diag "---- last lines of $_f"
				diag "$(tail -n 25 "$_f")"
			done
		fi
		if [ "${KEEP:-0}" = 1 ]; then
			diag "kept $PF_DIR"
		else
			rm -rf "$PF_DIR"
		fi
	fi
	PF_DIR=""
}

pf_use() {
	case $1 in
	submission) SMTP_PORT=$PF_SUBMISSION_PORT SMTP_MODE=starttls ;;
	smtps) SMTP_PORT=$PF_SMTPS_PORT SMTP_MODE=implicit ;;
	*) bail "pf_use: submission or smtps" ;;
	esac
}

pf_msg_list() {
	[ -d "$PF_MAILDIR/new" ] || return 0
	# Oldest first (mtime, nanoseconds).
	(cd "$PF_MAILDIR/new" && ls -1rt) | sed "s|^|$PF_MAILDIR/new/|"
}

pf_msg_count() {
	pf_msg_list | wc -l | tr -d ' '
}

pf_msg_file() {
	if [ -n "${1:-}" ]; then
		pf_msg_list | sed -n "${1}p"
	else
		pf_msg_list | tail -n 1
	fi
}

pf_msg_header() {
	_mf=$(pf_msg_file "${2:-}")
	[ -n "$_mf" ] || return 1
	mail_header "$_mf" "$1"
}

pf_msg_body() {
	_mf=$(pf_msg_file "${1:-}")
	[ -n "$_mf" ] || return 1
	mail_body "$_mf"
}

pf_rcpts() {
	pf_msg_list | sed -n "${1:-1},\$p" | while read -r _f; do
		sed -n '1,/^$/s/^Delivered-To: //p' "$_f"
	done | sort | tr '\n' ' '
}

_pf_msgs_at_least() {
	[ "$(pf_msg_count)" -ge "$1" ]
}

pf_wait_msgs() {
	wait_for "${2:-15}" _pf_msgs_at_least "$1"
}

pf_mailq() {
	postqueue -c "$PF_DIR/etc" -p 2>&1
}

pf_log_contains() {
	if cat "$PF_LOG" "$PF_DOVECOT_LOG" 2>/dev/null | grep -Eq -- "$1"; then
		pass "$2"
	else
		fail "$2" "no Postfix/Dovecot log line matches /$1/"
	fi
}
