# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# lib.sh -- sourced by tests/integration/t-*.sh (POSIX sh; the runner uses sh).
#
#   . "$top_srcdir/tests/integration/lib.sh"
#
# On load: makes a per-test temp dir $T (removed at exit unless KEEP=1),
# points HOME and the XDG_* variables into it (the test never touches the
# real home), unsets DBUS_SESSION_BUS_ADDRESS and OAUTHMAIL_CONFIG, makes the
# test certificates ($CERTS, cached in the build tree) and installs an EXIT
# trap that stops every server this test started. Add your own cleanup with
# at_exit 'command' (do not replace the EXIT trap).
#
# See the header of each section for the functions it defines.

# ---------------------------------------------------------------- setup ---
if [ -z "${top_srcdir:-}" ]; then
	top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
fi
: "${top_builddir:=$(pwd)}"
: "${OAUTHMAIL:=$top_builddir/src/oauthmail}"
export top_srcdir top_builddir OAUTHMAIL
IT=$top_srcdir/tests/integration
PY=/usr/bin/python3
TEST_NAME=$(basename "$0" .sh)

# Run each test in its own anonymous session keyring (as systemd gives a
# service): without one, root's default _uid_ses keyring cannot hold the
# persistent keyring as a possessor and add_key into it fails with EACCES.
if [ -z "${OM_TEST_KEYSESSION:-}" ] && command -v keyctl >/dev/null 2>&1 &&
    keyctl session - true >/dev/null 2>&1; then
	OM_TEST_KEYSESSION=1
	export OM_TEST_KEYSESSION
	# keyctl says "Joined session keyring" on stderr: silence only that.
	exec 3>&2 2>/dev/null
	exec keyctl session - sh -c 'exec 2>&3 3>&-; exec sh "$0" "$@"' "$0" "$@"
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/om-$TEST_NAME.XXXXXX") || {
	echo "Bail out! mktemp failed"; exit 1; }
chmod 700 "$T"
mkdir -p "$T/home/.config" "$T/home/.local/state" "$T/home/.local/share" \
    "$T/home/.cache" "$T/run"
chmod 700 "$T/run"
export HOME="$T/home" XDG_CONFIG_HOME="$T/home/.config" \
    XDG_STATE_HOME="$T/home/.local/state" XDG_DATA_HOME="$T/home/.local/share" \
    XDG_CACHE_HOME="$T/home/.cache" XDG_RUNTIME_DIR="$T/run"
unset DBUS_SESSION_BUS_ADDRESS OAUTHMAIL_CONFIG DISPLAY WAYLAND_DISPLAY || :
export LC_ALL=C

_lib_pids=""		# background processes to kill at exit
_lib_atexit=""		# extra cleanup commands
_lib_kernel_keys=""	# "account:kind" kernel keys to remove
_lib_oauth_ports=""	# ports of this test's OAuth servers (own_kernel_keys)
_lib_devlog=""		# set when we own /dev/log

CERTS=${CERTS:-$top_builddir/tests/integration/certs}
if ! sh "$IT/gen-certs.sh" "$CERTS" >"$T/gen-certs.log" 2>&1; then
	echo "Bail out! gen-certs.sh failed: $(tail -n 3 "$T/gen-certs.log")"
	exit 1
fi

# -------------------------------------------------------------- TAP -------
# plan N            print the plan first (or call done_testing at the end)
# ok RC DESC        pass when RC is 0:  cmd; ok $? "cmd works"
# pass DESC / fail DESC [DIAG...]
# not_ok DESC       same as fail
# run_ok DESC CMD...    run CMD (stdout in $T/out, stderr in $T/err, exit
#                       status in $RC), pass when it exits 0
# run_fails DESC CMD... same, pass when it exits non-zero
# run_rc WANT DESC CMD... same, pass when it exits with status WANT
# is GOT WANT DESC / isnt GOT UNWANTED DESC
# like GOT ERE DESC / unlike GOT ERE DESC       (grep -E on the string)
# file_contains FILE ERE DESC / file_lacks FILE ERE DESC
# skip REASON [N]   N skipped tests ("ok N # SKIP reason")
# skip_all REASON   "1..0 # SKIP", exit 77 (the runner counts a skip)
# bail REASON       "Bail out!", exit 1
# diag MSG...       "# MSG" lines (stdout, so the runner's log has them)
# done_testing      print the plan if none was given; exit 0 or 1
_tap_n=0
_tap_failed=0
_tap_planned=""

plan() {
	_tap_planned=$1
	echo "1..$1"
}

diag() {
	printf '%s\n' "$*" | sed 's/^/# /'
}

pass() {
	_tap_n=$((_tap_n + 1))
	echo "ok $_tap_n - $1"
}

fail() {
	_tap_n=$((_tap_n + 1))
	_tap_failed=$((_tap_failed + 1))
	echo "not ok $_tap_n - $1"
	shift
	[ $# -gt 0 ] && diag "$@"
	return 0
}

not_ok() {
	fail "$@"
}

ok() {
	if [ "$1" -eq 0 ] 2>/dev/null; then
		pass "$2"
	else
		fail "$2" "exit status $1"
	fi
}

_run() {
	"$@" >"$T/out" 2>"$T/err" </dev/null
	RC=$?
}

_run_diag() {
	diag "command: $*" "exit status: $RC"
	[ -s "$T/out" ] && diag "stdout:" "$(head -c 2000 "$T/out")"
	[ -s "$T/err" ] && diag "stderr:" "$(head -c 2000 "$T/err")"
	return 0
}

run_ok() {
	_d=$1; shift
	_run "$@"
	if [ "$RC" -eq 0 ]; then pass "$_d"; else fail "$_d"; _run_diag "$@"; fi
}

run_fails() {
	_d=$1; shift
	_run "$@"
	if [ "$RC" -ne 0 ]; then pass "$_d"; else fail "$_d"; _run_diag "$@"; fi
}

run_rc() {
	_want=$1 _d=$2; shift 2
	_run "$@"
	if [ "$RC" -eq "$_want" ]; then pass "$_d"; else
		fail "$_d" "wanted exit status $_want"; _run_diag "$@"; fi
}

is() {
	if [ "$1" = "$2" ]; then pass "$3"; else
		fail "$3" "got:      '$1'" "expected: '$2'"; fi
}

isnt() {
	if [ "$1" != "$2" ]; then pass "$3"; else
		fail "$3" "got '$1', which it should not be"; fi
}

like() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then pass "$3"; else
		fail "$3" "'$(printf '%s' "$1" | head -c 2000)'" "does not match /$2/"; fi
}

unlike() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		fail "$3" "'$(printf '%s' "$1" | head -c 2000)'" "matches /$2/"
	else pass "$3"; fi
}

file_contains() {
	if [ -f "$1" ] && grep -Eq -- "$2" "$1"; then pass "$3"; else
		fail "$3" "$1 does not contain /$2/"
		[ -f "$1" ] && diag "$(tail -n 20 "$1")"
	fi
}

file_lacks() {
	if [ -f "$1" ] && grep -Eq -- "$2" "$1"; then
		fail "$3" "$1 contains /$2/:" "$(grep -En -- "$2" "$1" | head -n 5)"
	else pass "$3"; fi
}

skip() {
	_n=${2:-1}
	while [ "$_n" -gt 0 ]; do
		_tap_n=$((_tap_n + 1))
		echo "ok $_tap_n # SKIP $1"
		_n=$((_n - 1))
	done
}

skip_all() {
	echo "1..0 # SKIP $*"
	_tap_planned=0
	exit 77
}

bail() {
	echo "Bail out! $*"
	_tap_failed=$((_tap_failed + 1))
	exit 1
}

done_testing() {
	[ -z "$_tap_planned" ] && echo "1..$_tap_n"
	_tap_planned=$_tap_n
	[ "$_tap_failed" -eq 0 ] && exit 0
	exit 1
}

# ------------------------------------------------------------- cleanup ----
# at_exit CMD       run CMD (a string, eval'd) at exit, before servers stop
# stop_all          stop every server and keyring this test started
at_exit() {
	_lib_atexit="$_lib_atexit
$1"
}

_lib_kill() {
	for _p in "$@"; do
		kill "$_p" 2>/dev/null || :
	done
	for _p in "$@"; do
		_i=0
		while kill -0 "$_p" 2>/dev/null && [ $_i -lt 30 ]; do
			sleep 0.1; _i=$((_i + 1))
		done
		kill -9 "$_p" 2>/dev/null || :
	done
}

# _lib_watch PID...: kill PIDs when this test dies without cleaning up
# (SIGKILL); the Python servers watch their parent themselves.
_lib_watch() {
	(
		trap '' HUP INT
		while kill -0 $$ 2>/dev/null; do sleep 1; done
		for _p in "$@"; do kill "$_p" 2>/dev/null; done
	) </dev/null >/dev/null 2>&1 &
	_lib_pids="$_lib_pids $!"
}

stop_all() {
	stop_syslog
	# Tokens last: their deletion forgets the name's identity.
	for _k in $_lib_kernel_keys; do
		case $_k in *:token) continue ;; esac
		kernel_key_del "${_k%%:*}" "${_k#*:}" 2>/dev/null || :
	done
	for _k in $_lib_kernel_keys; do
		case $_k in *:token) kernel_key_del "${_k%%:*}" token 2>/dev/null || : ;; esac
	done
	_lib_kernel_keys=""
	[ -n "$_lib_pids" ] && _lib_kill $_lib_pids
	_lib_pids=""
	_lib_sweep_keys || _lib_keys_left=1
	unset DBUS_SESSION_BUS_ADDRESS || :
	return 0
}

_lib_cleanup() {
	_rc=$?
	trap - EXIT INT TERM HUP
	if [ -n "$_lib_atexit" ]; then
		eval "$_lib_atexit" || :
	fi
	if [ "$_tap_failed" -gt 0 ] || { [ "$_rc" -ne 0 ] && [ "$_rc" -ne 77 ]; }; then
		for _f in "$T"/oauth/oauth.log "$T"/smtpd*/smtpd.log "$T"/oauthmail.log \
		    "$T"/syslog; do
			[ -s "$_f" ] || continue
			diag "---- last lines of $_f"
			diag "$(tail -n 15 "$_f")"
		done
	fi
	_lib_keys_left=0
	stop_all
	# A test that cannot leave the keyrings as it found them fails.
	[ "$_lib_keys_left" = 0 ] || [ "$_rc" -ne 0 ] || _rc=1
	if [ "${KEEP:-0}" = 1 ]; then
		diag "kept $T"
	else
		rm -rf "$T"
	fi
	if [ -z "$_tap_planned" ] && [ "$_tap_n" -gt 0 ]; then
		echo "1..$_tap_n"
		[ "$_rc" -eq 0 ] && [ "$_tap_failed" -gt 0 ] && _rc=1
	fi
	exit "$_rc"
}
trap _lib_cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------- waiting ----
# wait_file FILE [SECONDS=10]       until FILE exists and is non-empty
# wait_for SECONDS CMD...           until CMD succeeds (polls every 0.1 s)
wait_file() {
	_i=0 _max=$(( ${2:-10} * 10 ))
	while [ ! -s "$1" ]; do
		[ $_i -ge $_max ] && return 1
		sleep 0.1; _i=$((_i + 1))
	done
	return 0
}

wait_for() {
	_wmax=$(( $1 * 10 )) _wi=0; shift
	until "$@"; do
		[ $_wi -ge $_wmax ] && return 1
		sleep 0.1; _wi=$((_wi + 1))
	done
	return 0
}

# wait_bg PID [SECONDS]  waits for the background job PID to end, at most
#                       SECONDS (default 30): one still running then is
#                       killed (RC 137) rather than waited for without end.
#                       Sets RC to its exit status.
wait_bg() {
	wait_for "${2:-30}" sh -c "! kill -0 $1 2>/dev/null" ||
	    kill -KILL "$1" 2>/dev/null
	wait "$1"
	RC=$?
}

# ------------------------------------------------------------ JSON --------
# json_get KEY [FILE]   print KEY (dotted path, e.g. counts.refresh_ok or
#                       rcpt_tos) from the JSON in FILE or stdin. Lists print
#                       one item per line, booleans true/false, a missing key
#                       prints nothing and returns 1.
json_get() {
	$PY -c '
import json, sys
d = json.load(open(sys.argv[2]) if len(sys.argv) > 2 else sys.stdin)
for k in sys.argv[1].split("."):
    if isinstance(d, list):
        d = d[int(k)]
    elif isinstance(d, dict) and k in d:
        d = d[k]
    else:
        sys.exit(1)
if isinstance(d, bool):
    print("true" if d else "false")
elif isinstance(d, list):
    for x in d:
        print(x if not isinstance(x, (dict, list)) else json.dumps(x))
elif isinstance(d, dict):
    print(json.dumps(d, sort_keys=True))
elif d is None:
    print("null")
else:
    print(d)
' "$@"
}

# --------------------------------------------------------- OAuth server ---
# start_oauth [ARGS...]   start tests/integration/oauth_server.py (ARGS are
#     its options: --access-ttl S, --no-rotate, --keep-old-refresh,
#     --client ID[:SECRET], --scope S, --user U, --fault F, --slow-delay S,
#     --device-interval S, --tls-max 1.1). OAUTH_CERT=expired|wronghost|
#     selfsigned serves a bad certificate. Sets OAUTH_PORT, OAUTH_URL
#     (https://127.0.0.1:PORT), OAUTH_TOKEN_URL, OAUTH_DEVICE_URL,
#     OAUTH_AUTH_URL, OAUTH_REVOKE_URL, OAUTH_PID, OAUTH_LOG.
# stop_oauth
# oauth_ctl METHOD PATH     curl the server (e.g. oauth_ctl POST
#     "/_control/mode?fault=500&count=1"); prints the body
# oauth_fault FAULT [COUNT] [DELAY]   inject a fault (none clears it)
# oauth_config QUERY        e.g. oauth_config "access_ttl=2&rotate=0"
# oauth_stat KEY            e.g. oauth_stat counts.refresh_ok -> number
#     (prints 0 when the counter does not exist yet)
start_oauth() {
	_od=$T/oauth
	mkdir -p "$_od"
	rm -f "$_od/port"
	_oc=${OAUTH_CERT:-server}
	$PY "$IT/oauth_server.py" --cert "$CERTS/$_oc.pem" --key "$CERTS/$_oc.key" \
	    --port-file "$_od/port" --log "$_od/oauth.log" --parent-pid $$ \
	    "$@" >>"$_od/stderr" 2>&1 &
	OAUTH_PID=$!
	_lib_pids="$_lib_pids $OAUTH_PID"
	if ! wait_file "$_od/port" 15; then
		diag "oauth_server did not start:" "$(cat "$_od/stderr")"
		return 1
	fi
	OAUTH_PORT=$(cat "$_od/port")
	_lib_oauth_ports="$_lib_oauth_ports $OAUTH_PORT"
	OAUTH_URL=https://127.0.0.1:$OAUTH_PORT
	OAUTH_TOKEN_URL=$OAUTH_URL/token
	OAUTH_DEVICE_URL=$OAUTH_URL/devicecode
	OAUTH_AUTH_URL=$OAUTH_URL/authorize
	OAUTH_REVOKE_URL=$OAUTH_URL/revoke
	OAUTH_LOG=$_od/oauth.log
	return 0
}

stop_oauth() {
	[ -n "${OAUTH_PID:-}" ] && _lib_kill "$OAUTH_PID"
	OAUTH_PID=""
}

oauth_ctl() {
	curl -sS --max-time 20 --cacert "$CERTS/ca.pem" -X "$1" "$OAUTH_URL$2"
}

oauth_fault() {
	oauth_ctl POST "/_control/mode?fault=$1&count=${2:-0}${3:+&delay=$3}" >/dev/null
}

oauth_config() {
	oauth_ctl POST "/_control/config?$1" >/dev/null
}

oauth_stat() {
	oauth_ctl GET /_control/stats | json_get "$1" || echo 0
}

# ----------------------------------------------------------- SMTP server --
# start_smtpd [-n NAME] [ARGS...]   start tests/integration/smtpd.py; ARGS
#     are its options: --mode starttls|implicit|plain, --auth-fail-style
#     google|microsoft, --auth-mechs "XOAUTH2 LOGIN", --password PW,
#     --fault F (repeatable), --size N, --slow-seconds S, --timeout S,
#     --no-require-auth, --no-dsn, --no-smtputf8, --max-rcpt N,
#     --check-host-port, --no-user-check. Bearer tokens are checked at the
#     running OAuth server (start_oauth first). SMTP_CERT=expired|wronghost|
#     selfsigned serves a bad certificate. Several servers: give each a
#     NAME (state in $T/smtpd-NAME). Sets SMTP_PORT, SMTP_MODE, SMTP_DIR,
#     SMTP_MAILDIR, SMTP_PID (of the last one started).
# stop_smtpd [NAME]
# smtpd_faults [FAULT...]    faults for the next connections (FAULT or
#     FAULT:N for the next N connections); no argument clears them
# smtpd_faults_json JSON     write the whole faults file (see smtpd.py)
# smtp_stat KEY              e.g. smtp_stat auth_success; smtp_stat
#     auth_by_mech.XOAUTH2:attempts  (0 when absent)
# Under OM_SERVER=postfix these drive the Postfix + Dovecot tier instead
# (see "the real server tier" below).
start_smtpd() {
	if _pf_on; then _pf_start_smtpd "$@"; return; fi
	_sn=""
	if [ "${1:-}" = "-n" ]; then _sn=-$2; shift 2; fi
	SMTP_DIR=$T/smtpd$_sn
	mkdir -p "$SMTP_DIR"
	rm -f "$SMTP_DIR/port"
	SMTP_MODE=starttls
	_prev=""
	for _a in "$@"; do
		[ "$_prev" = "--mode" ] && SMTP_MODE=$_a
		case $_a in --mode=*) SMTP_MODE=${_a#--mode=} ;; esac
		_prev=$_a
	done
	_sc=${SMTP_CERT:-server}
	set -- --dir "$SMTP_DIR" --cert "$CERTS/$_sc.pem" --key "$CERTS/$_sc.key" \
	    --parent-pid $$ "$@"
	if [ -n "${OAUTH_URL:-}" ]; then
		set -- --introspect "$OAUTH_URL/introspect" --oauth-ca "$CERTS/ca.pem" "$@"
	fi
	$PY "$IT/smtpd.py" "$@" >>"$SMTP_DIR/stderr" 2>&1 &
	SMTP_PID=$!
	_lib_pids="$_lib_pids $SMTP_PID"
	echo "$SMTP_PID" >"$SMTP_DIR/lib.pid"
	if ! wait_file "$SMTP_DIR/port" 15; then
		diag "smtpd did not start:" "$(cat "$SMTP_DIR/stderr")"
		return 1
	fi
	SMTP_PORT=$(cat "$SMTP_DIR/port")
	SMTP_MAILDIR=$SMTP_DIR/maildir
	return 0
}

stop_smtpd() {
	_pf_on && return 0	# the tier runs until the test ends
	_sd=$T/smtpd${1:+-$1}
	[ -f "$_sd/lib.pid" ] && _lib_kill "$(cat "$_sd/lib.pid")"
	rm -f "$_sd/lib.pid"
}

smtpd_faults() {
	if _pf_on; then _pf_no_faults "$@"; return; fi
	$PY -c 'import json, sys; print(json.dumps({"faults": sys.argv[1:]}))' "$@" \
	    >"$SMTP_DIR/faults.json.tmp" && mv "$SMTP_DIR/faults.json.tmp" "$SMTP_DIR/faults.json"
}

smtpd_faults_json() {
	if _pf_on; then _pf_no_faults "$1"; return; fi
	printf '%s\n' "$1" >"$SMTP_DIR/faults.json.tmp" &&
	    mv "$SMTP_DIR/faults.json.tmp" "$SMTP_DIR/faults.json"
}

smtp_stat() {
	if _pf_on; then _pf_stat "$1"; return; fi
	json_get "$1" "$SMTP_DIR/stats.json" || echo 0
}

# smtp_client ARGS...   the test SMTP client (smtp_client.py) against the
#     running server: --mech XOAUTH2|OAUTHBEARER|PLAIN|LOGIN|none, --token T,
#     --password PW, --user U, --to ADDR, --two-step ... (port, mode and CA
#     are filled in)
smtp_client() {
	$PY "$IT/smtp_client.py" --port "$SMTP_PORT" --mode "$SMTP_MODE" \
	    --ca "$CERTS/ca.pem" "$@"
}

# ---------------------------------------------------- fake mail APIs ---
# start_api graph|gmail [ARGS...]   start tests/integration/api_server.py
#     (after start_oauth: tokens are checked at its introspection endpoint);
#     ARGS are its options (--max-request N, --scope S). Sets API_URL
#     (https://127.0.0.1:PORT; Graph's endpoint is $API_URL/v1.0), API_DIR.
# api_fault NAME [COUNT] [RETRY_AFTER]   a fault for the next requests
#     (see api_server.py; none clears it)
# api_stat KEY          e.g. api_stat sent, api_stat by_status.202 (0 if absent)
# api_msg_count         messages the API took
# api_msg_file [N]      path of message N (1-based; default: the last)
# api_msg_field KEY [N] a sidecar field: recipients (one per line), bcc,
#     path_user, token_user, token_scope, content_type, request_id
start_api() {
	_ak=$1; shift
	API_DIR=$T/api-$_ak
	mkdir -p "$API_DIR"
	rm -f "$API_DIR/port"
	$PY "$IT/api_server.py" --kind "$_ak" --dir "$API_DIR" \
	    --cert "$CERTS/server.pem" --key "$CERTS/server.key" \
	    --introspect "$OAUTH_URL/introspect" --oauth-ca "$CERTS/ca.pem" \
	    --parent-pid $$ "$@" >>"$API_DIR/stderr" 2>&1 &
	_lib_pids="$_lib_pids $!"
	if ! wait_file "$API_DIR/port" 15; then
		diag "api_server did not start:" "$(cat "$API_DIR/stderr")"
		return 1
	fi
	API_URL=https://127.0.0.1:$(cat "$API_DIR/port")
	return 0
}

api_fault() {
	curl -sS --max-time 20 --cacert "$CERTS/ca.pem" -X POST \
	    "$API_URL/_control/fault?name=$1&count=${2:-0}${3:+&retry_after=$3}" >/dev/null
}

api_stat() {
	json_get "$1" "$API_DIR/stats.json" || echo 0
}

api_msg_count() {
	ls "$API_DIR/msgs" 2>/dev/null | grep -c '\.eml$'
}

api_msg_file() {
	if [ -n "${1:-}" ]; then
		printf '%s/msgs/%06d.eml\n' "$API_DIR" "$1"
	else
		ls "$API_DIR/msgs/" | grep '\.eml$' | sort | tail -n 1 |
		    sed "s|^|$API_DIR/msgs/|"
	fi
}

api_msg_field() {
	_amf=$(api_msg_file "${2:-}")
	[ -n "$_amf" ] || return 1
	json_get "$1" "${_amf%.eml}.json"
}

# ------------------------------------------------------- delivered mail ---
# msg_count                 number of messages the server accepted
# msg_list                  their .eml paths, in arrival order
# msg_file [N]              path of message N (1-based; default: the last)
# msg_field FIELD [N]       a sidecar field of message N (default last):
#     mail_from, rcpt_tos (one per line), auth_user, auth_mech, tls_version,
#     mail_options, rcpt_options, size, connection, message_in_connection
# msg_header NAME [N]       value(s) of header NAME in message N (unfolded)
# msg_body [N]              the body (after the first empty line)
# wait_msgs N [SECONDS=10]  until at least N messages arrived
# mail_header FILE NAME / mail_body FILE   the same for a message file
# Under OM_SERVER=postfix they read what Postfix delivered, regrouped into
# one message per submission (see "the real server tier" below).
msg_list() {
	_pf_on && _pf_refresh
	_msg_list
}

_msg_list() {
	ls "$SMTP_MAILDIR/new/" 2>/dev/null | grep '\.eml$' | sort |
	    sed "s|^|$SMTP_MAILDIR/new/|"
}

msg_count() {
	msg_list | wc -l | tr -d ' '
}

msg_file() {
	_pf_on && _pf_refresh
	if [ -n "${1:-}" ]; then
		printf '%s/new/%06d.eml\n' "$SMTP_MAILDIR" "$1"
	else
		_msg_list | tail -n 1
	fi
}

msg_field() {
	_mf=$(msg_file "${2:-}")
	[ -n "$_mf" ] || return 1
	json_get "$1" "${_mf%.eml}.json"
}

msg_header() {
	_mf=$(msg_file "${2:-}")
	[ -n "$_mf" ] || return 1
	mail_header "$_mf" "$1"
}

msg_body() {
	_mf=$(msg_file "${1:-}")
	[ -n "$_mf" ] || return 1
	mail_body "$_mf"
}

mail_header() {
	$PY -c '
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.compat32)
for v in m.get_all(sys.argv[2]) or []:
    print(" ".join(str(v).split()))
' "$1" "$2"
}

mail_body() {
	sed '1,/^\r\{0,1\}$/d' "$1"
}

_msgs_at_least() {
	[ "$(msg_count)" -ge "$1" ]
}

wait_msgs() {
	wait_for "${2:-10}" _msgs_at_least "$1"
}

# ------------------------------------------------ the real server tier ---
# OM_SERVER=postfix runs the end-to-end tests against Postfix + Dovecot
# (lib-postfix.sh: submission with STARTTLS, smtps, tokens checked by
# Dovecot at the OAuth server's introspection endpoint) instead of the
# scriptable smtpd.py; tests/integration/run-postfix does that for the
# tests that need no fault injection. Unset, nothing below is used.
#   start_smtpd [-n NAME] [--mode starttls|implicit]   starts the tier once
#       per test (after start_oauth), with a recording milter
#       (pf_milter.py) beside it, and points SMTP_PORT/SMTP_MODE at the
#       submission or smtps listener. Each NAME is a fresh view: its
#       msg_* readers count from the messages that arrive after its first
#       start, as a new smtpd.py would. Any other smtpd.py option (faults,
#       --size, --auth-fail-style, ...) returns 1 with a diag line: guard
#       such parts with needs_fake_server. stop_smtpd does nothing.
#   msg_* readers        wait until Postfix's queue is idle, then read its
#       Maildir through pf_view.py: one message per submission (Postfix
#       delivers a copy per recipient), as submitted (Postfix's prepended
#       Return-Path, X-Original-To, Delivered-To and Received removed, CRLF
#       line ends); msg_field mail_from, rcpt_tos, mail_options and
#       rcpt_options are what the client sent (recorded by the milter),
#       auth_mech/auth_user the SASL method and user, tls_version from the
#       Received header. Postfix keeps no line ends of the wire (its Maildir
#       has LF), so "bare LF on the wire" cannot be checked there.
#   smtpd_faults / smtpd_faults_json   clearing is a no-op; a fault fails
#       the test (guard it with needs_fake_server)
#   smtp_stat auth_failures|auth_success   from Postfix's log; other keys
#       print "n/a"
# om_server                  prints smtpd or postfix
# needs_fake_server REASON [N]   returns 0 against smtpd.py; under
#     OM_SERVER=postfix prints N (default 1) skipped tests naming REASON and
#     returns 1:  if needs_fake_server "fault injection" 3; then ...; fi
_pf_on() {
	[ "${OM_SERVER:-}" = postfix ]
}

om_server() {
	if _pf_on; then echo postfix; else echo smtpd; fi
}

needs_fake_server() {
	_pf_on || return 0
	skip "needs the fake server (smtpd.py): $1" "${2:-1}"
	return 1
}

_pf_start_smtpd() {
	_sn=""
	if [ "${1:-}" = "-n" ]; then _sn=-$2; shift 2; fi
	_pm=starttls
	while [ $# -gt 0 ]; do
		case $1 in
		--mode) _pm=${2:-}; [ $# -gt 1 ] && shift ;;
		--mode=*) _pm=${1#--mode=} ;;
		*)
			diag "start_smtpd $1: only smtpd.py has it, not OM_SERVER=postfix (guard with needs_fake_server)"
			return 1
			;;
		esac
		shift
	done
	case $_pm in
	starttls|implicit) ;;
	*) diag "start_smtpd --mode $_pm: not available under OM_SERVER=postfix"; return 1 ;;
	esac
	if [ -z "${_pf_tier:-}" ]; then
		. "$IT/lib-postfix.sh"
		_pf_mlog=$T/pf-milter.jsonl
		rm -f "$T/pf-milter.port"
		$PY "$IT/pf_milter.py" --out "$_pf_mlog" --port-file "$T/pf-milter.port" \
		    --parent-pid $$ >"$T/pf-milter.err" 2>&1 &
		_lib_pids="$_lib_pids $!"
		if ! wait_file "$T/pf-milter.port" 10; then
			diag "pf_milter.py did not start:" "$(cat "$T/pf-milter.err")"
			return 1
		fi
		PF_MILTER=inet:127.0.0.1:$(cat "$T/pf-milter.port")
		if ! start_postfix_tier; then
			[ "$_tap_n" -eq 0 ] && skip_all "Postfix/Dovecot tier: $PF_WHY"
			return 1
		fi
		_pf_tier=1
	fi
	if [ "$_pm" = implicit ]; then pf_use smtps; else pf_use submission; fi
	SMTP_DIR=$T/smtpd$_sn
	SMTP_MAILDIR=$SMTP_DIR/maildir
	SMTP_PID=$_pf_master
	mkdir -p "$SMTP_MAILDIR"
	if [ ! -f "$SMTP_DIR/pf.base" ]; then
		_pf_sync
		_pf_view --out "$T/pf-all" >"$SMTP_DIR/pf.base" || return 1
	fi
	return 0
}

_pf_busy() {
	[ -n "$(find "$PF_DIR/spool/maildrop" "$PF_DIR/spool/incoming" \
	    "$PF_DIR/spool/active" -type f 2>/dev/null | head -n 1)" ]
}

# _pf_sync: until nothing is being received or delivered (15 s at most).
_pf_sync() {
	_pi=0
	while _pf_busy; do
		if [ $_pi -ge 150 ]; then
			diag "Postfix's queue is still busy after 15 s:" "$(pf_mailq)"
			return 1
		fi
		sleep 0.1; _pi=$((_pi + 1))
	done
	return 0
}

_pf_view() {
	$PY "$IT/pf_view.py" --maildir "$PF_MAILDIR" --milter-log "$_pf_mlog" \
	    --pflog "$PF_LOG" "$@"
}

_pf_refresh() {
	[ -n "${_pf_tier:-}" ] || return 0
	_pf_sync
	_pf_view --out "$SMTP_MAILDIR" --skip "$(cat "$SMTP_DIR/pf.base" 2>/dev/null || echo 0)" \
	    >/dev/null
}

_pf_no_faults() {
	[ -z "${1:-}" ] && return 0
	[ "$1" = '{"faults": []}' ] && return 0
	fail "smtpd fault '$*' under OM_SERVER=postfix" \
	    "Postfix cannot inject faults: guard this part with needs_fake_server"
	return 1
}

_pf_stat() {
	case $1 in
	auth_failures) grep -c 'SASL [A-Z0-9-]* authentication failed' "$PF_LOG" 2>/dev/null || : ;;
	auth_success) grep -c ': client=.*, sasl_method=' "$PF_LOG" 2>/dev/null || : ;;
	*) echo n/a ;;
	esac
}

# --------------------------------------------------------------- keyring --
# start_keyring      a private D-Bus session bus + gnome-keyring-daemon
#     (secrets component) with a fresh login keyring unlocked by a test
#     password, for the rest of the test (exports DBUS_SESSION_BUS_ADDRESS;
#     stopped by stop_all). Sets KEYRING=secret-service. Returns 1 if that is
#     impossible (then: skip_all).
# with_keyring CMD...  run CMD (an external command, not a shell function)
#     in its own dbus-run-session with an unlocked gnome-keyring.
# start_kernel_keyring  checks the persistent kernel keyring works; sets
#     KEYRING=kernel and KR_PERSIST (its id). Returns 1 if unavailable.
# keyring_put ACCOUNT KIND DATA   store DATA the way oauthmail does (kind:
#     token | client_secret | password), in the backend named by $KEYRING
# keyring_get ACCOUNT KIND        print it (returns 1 if absent)
# keyring_del ACCOUNT KIND
# seed_token ACCOUNT [USER] [QUERY]  ask the OAuth server for a fresh token
#     pair for USER (default alice@example.test; QUERY adds e.g.
#     "expires_in=2" or "scope=..."), store the token record in the keyring
#     and set SEED_ACCESS, SEED_REFRESH, SEED_EXPIRES_AT
# token_record ACCOUNT [FIELD]    print the stored record (or one field)
# token_cache_keys   the kernel copies of access tokens ("oauthmail:cache
#     IDENT") issued by this test's OAuth server, one key id a line
# token_cache_drop   remove them, as a logout does: keyring_put and
#     keyring_del of a token record call it, so a test that reseeds or
#     corrupts a record is not served the old token from the copy
# unique_account                  a per-test account name (t<pid>)
# own_kernel_keys    the keys of this test in the user's kernel keyrings,
#     "ID DESCRIPTION" a line: records under an account name made of
#     letters around the test's pid (t<pid>, cc<pid>, short<pid>kernel)
#     and records keyed by an identity whose token endpoint is one of
#     this test's OAuth servers. stop_all removes them, whoever made
#     them (keyring_put, or oauthmail itself: an API token, a kernel
#     copy, a sign-in), so a test leaves the keyrings as it found them.
_keyring_pw=oauthmail-test

start_keyring() {
	command -v dbus-daemon >/dev/null && command -v gnome-keyring-daemon >/dev/null &&
	    command -v secret-tool >/dev/null || {
		diag "dbus-daemon, gnome-keyring-daemon or secret-tool missing"; return 1; }
	_kd=$T/keyring
	mkdir -p "$_kd/data"
	rm -f "$_kd/addr" "$_kd/pid"
	dbus-daemon --session --fork --nopidfile --print-address=3 --print-pid=4 \
	    3>"$_kd/addr" 4>"$_kd/pid" 2>"$_kd/dbus.err" || {
		diag "dbus-daemon failed:" "$(cat "$_kd/dbus.err")"; return 1; }
	wait_file "$_kd/pid" 5 || return 1
	_lib_pids="$_lib_pids $(cat "$_kd/pid")"
	wait_file "$_kd/addr" 5 || return 1
	DBUS_SESSION_BUS_ADDRESS=$(head -n 1 "$_kd/addr")
	export DBUS_SESSION_BUS_ADDRESS
	printf '%s' "$_keyring_pw" | XDG_DATA_HOME="$_kd/data" \
	    gnome-keyring-daemon --foreground --unlock --components=secrets \
	    >"$_kd/gk.out" 2>"$_kd/gk.err" &
	_lib_pids="$_lib_pids $!"
	_lib_watch "$(cat "$_kd/pid")" $!
	if ! wait_for 10 _keyring_up; then
		diag "gnome-keyring-daemon did not come up:" "$(cat "$_kd/gk.err")"
		return 1
	fi
	# A store proves the login collection exists and is unlocked.
	if ! printf 'x' | timeout 10 secret-tool store --label="oauthmail test probe" \
	    service oauthmail-probe probe 1 2>"$_kd/probe.err"; then
		diag "secret-tool store failed:" "$(cat "$_kd/probe.err")"
		return 1
	fi
	timeout 10 secret-tool clear service oauthmail-probe probe 1 2>/dev/null
	KEYRING=secret-service
	return 0
}

_keyring_up() {
	dbus-send --session --print-reply --dest=org.freedesktop.DBus / \
	    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null |
	    grep -q true
}

with_keyring() {
	_wk=$(mktemp -d "$T/wk.XXXXXX")
	dbus-run-session -- sh -c '
		printf "%s" "$1" | XDG_DATA_HOME="$2" gnome-keyring-daemon \
		    --foreground --unlock --components=secrets >/dev/null 2>&1 &
		i=0
		until dbus-send --session --print-reply --dest=org.freedesktop.DBus / \
		    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets \
		    2>/dev/null | grep -q true; do
			i=$((i + 1)); [ $i -gt 100 ] && { echo "no keyring" >&2; exit 1; }
			sleep 0.1
		done
		shift 2
		"$@"
	' sh "$_keyring_pw" "$_wk" "$@"
}

start_kernel_keyring() {
	command -v keyctl >/dev/null || { diag "keyctl missing"; return 1; }
	KR_PERSIST=$(keyctl get_persistent @s 2>"$T/keyctl.err") || {
		diag "keyctl get_persistent failed:" "$(cat "$T/keyctl.err")"; return 1; }
	_kid=$(printf 'probe' | keyctl padd user "oauthmail-probe:$$" "$KR_PERSIST" 2>>"$T/keyctl.err") || {
		diag "keyctl padd failed:" "$(cat "$T/keyctl.err")"; return 1; }
	keyctl unlink "$_kid" "$KR_PERSIST" >/dev/null 2>&1
	KEYRING=kernel
	return 0
}

# Records are keyed by identity (doc/design.md §7): a token record, a
# client secret or a client key of an OAuth account under "client_id=C token_endpoint=E
# [tenant=T] [user=U]", found through the name's "identity" record, the
# identity it last stored under. Before oauthmail first uses an account,
# or for a password, the key is the account name (what earlier versions
# wrote; oauthmail moves such a record to its identity's key).

# _ident ACCOUNT KIND: the identity text for KIND, or return 1.
_ident() {
	case $2 in token|api_token|client_secret|client_key) ;; *) return 1 ;; esac
	case ${KEYRING:-} in
	secret-service)
		_iv=$(timeout 10 secret-tool lookup service oauthmail account "$1" \
		    kind identity 2>/dev/null) || return 1 ;;
	kernel)
		_iid=$(keyctl search "${KR_PERSIST:-$(keyctl get_persistent @s)}" \
		    user "oauthmail:$1:identity" 2>/dev/null) || return 1
		_iv=$(keyctl pipe "$_iid" 2>/dev/null) || return 1 ;;
	*) return 1 ;;
	esac
	[ -n "$_iv" ] || return 1
	case $2 in token|api_token) ;; *) _iv=${_iv% user=*} ;; esac
	printf '%s\n' "$_iv"
}

# _ident_attrs IDENT: the Secret Service attributes of an identity text.
_ident_attrs() {
	_ia_c="" _ia_e="" _ia_t="" _ia_u=""
	for _w in $1; do
		case $_w in
		client_id=*) _ia_c=${_w#*=} ;;
		token_endpoint=*) _ia_e=${_w#*=} ;;
		tenant=*) _ia_t=${_w#*=} ;;
		user=*) _ia_u=${_w#*=} ;;
		esac
	done
}

# kernel_key_id ACCOUNT KIND: the kernel key of the record oauthmail reads.
kernel_key_id() {
	_kr=${KR_PERSIST:-$(keyctl get_persistent @s)}
	if _ki=$(KEYRING=kernel _ident "$1" "$2"); then
		keyctl search "$_kr" user "oauthmail:$2 $_ki" 2>/dev/null && return 0
	fi
	keyctl search "$_kr" user "oauthmail:$1:$2" 2>/dev/null
}

kernel_key_del() {
	_kr=${KR_PERSIST:-$(keyctl get_persistent @s)}
	_kd1=""
	_ki=$(KEYRING=kernel _ident "$1" "$2") && _kd1="oauthmail:$2 $_ki"
	for _kd in "$_kd1" "oauthmail:$1:$2"; do
		[ -n "$_kd" ] || continue
		_kid=$(keyctl search "$_kr" user "$_kd" 2>/dev/null) || continue
		keyctl unlink "$_kid" "$_kr" >/dev/null 2>&1
		keyctl invalidate "$_kid" >/dev/null 2>&1 || :
	done
	KEYRING=kernel _ident_gc "$1"
	return 0
}

# _ident_gc ACCOUNT: forget the name's identity when nothing is left under it.
_ident_gc() {
	for _gk in token api_token client_secret client_key; do
		_gi=$(_ident "$1" $_gk) || return 0
		case $KEYRING in
		kernel)
			keyctl search "$_kr" user "oauthmail:$_gk $_gi" >/dev/null 2>&1 && return 0 ;;
		secret-service)
			_ident_attrs "$_gi"
			[ -n "$(timeout 10 secret-tool lookup service oauthmail kind $_gk \
			    client_id "$_ia_c" token_endpoint "$_ia_e" tenant "$_ia_t" \
			    user "$_ia_u" 2>/dev/null)" ] && return 0 ;;
		esac
	done
	case $KEYRING in
	kernel)
		_kid=$(keyctl search "$_kr" user "oauthmail:$1:identity" 2>/dev/null) || return 0
		keyctl unlink "$_kid" "$_kr" >/dev/null 2>&1
		keyctl invalidate "$_kid" >/dev/null 2>&1 || : ;;
	secret-service)
		timeout 10 secret-tool clear service oauthmail account "$1" kind identity 2>/dev/null ;;
	esac
	return 0
}

own_kernel_keys() {
	[ -r /proc/keys ] || return 0
	awk -v pid=$$ -v uid="$(id -u)" -v ports="$_lib_oauth_ports" '
	BEGIN { n = split(ports, p, " ") }
	$8 == "user" && $6 == uid && $2 !~ /[RDi]/ {
		d = $9
		for (i = 10; i <= NF; i++)
			d = d " " $i
		sub(/: [0-9]+$/, "", d)
		if (d !~ /^oauthmail:/)
			next
		own = d ~ ("^oauthmail:[A-Za-z_-]*" pid "[A-Za-z_-]*[:#]")
		for (i = 1; i <= n && !own; i++)
			own = index(d, " token_endpoint=https://127.0.0.1:" \
			    p[i] "/") > 0
		if (own)
			print $1, d
	}' /proc/keys
}

# _lib_sweep_keys: remove own_kernel_keys; 1 when some are still there.
# Swept up to five times, 0.2 s apart: a delivery the test started in the
# background (-odb, a sign-in's run of held mail) may still be writing a
# key when the test ends.
_lib_sweep_keys() {
	command -v keyctl >/dev/null || return 0
	# Possess the persistent keyring: its keys grant a possessor only.
	_skr=${KR_PERSIST:-$(keyctl get_persistent @s 2>/dev/null)} || :
	_sn=0
	while _sk=$(own_kernel_keys) && [ -n "$_sk" ] && [ "$_sn" -lt 5 ]; do
		[ "$_sn" -eq 0 ] || sleep 0.2
		printf '%s\n' "$_sk" | while read -r _sid _sd; do
			_sid=$(printf '%d' "0x$_sid")
			[ -z "$_skr" ] ||
			    keyctl unlink "$_sid" "$_skr" >/dev/null 2>&1
			keyctl invalidate "$_sid" >/dev/null 2>&1 || :
		done
		_sn=$((_sn + 1))
	done
	[ -z "$_sk" ] && return 0
	diag "kernel keys of this test that could not be removed:" "$_sk"
	return 1
}

token_cache_keys() {
	command -v keyctl >/dev/null || return 0
	_ckr=${KR_PERSIST:-$(keyctl get_persistent @s 2>/dev/null)} || return 0
	for _cid in $(keyctl rlist "$_ckr" 2>/dev/null); do
		_cd=$(keyctl rdescribe "$_cid" 2>/dev/null) || continue
		case $_cd in
		"user;"*";oauthmail:cache "*" token_endpoint=${OAUTH_URL:-none}/"*)
			echo "$_cid" ;;
		esac
	done
}

token_cache_drop() {
	for _cid in $(token_cache_keys); do
		keyctl unlink "$_cid" "$_ckr" >/dev/null 2>&1
		keyctl invalidate "$_cid" >/dev/null 2>&1 || :
	done
	return 0
}

keyring_put() {
	[ "$2" = token ] && token_cache_drop
	case ${KEYRING:-} in
	secret-service)
		if _ki=$(_ident "$1" "$2"); then
			_ident_attrs "$_ki"
			printf '%s' "$3" | timeout 10 secret-tool store --label="oauthmail $1 $2" \
			    xdg:schema org.oauthmail.Token service oauthmail kind "$2" \
			    client_id "$_ia_c" token_endpoint "$_ia_e" tenant "$_ia_t" user "$_ia_u"
		else
			printf '%s' "$3" | timeout 10 secret-tool store --label="oauthmail $1 $2" \
			    xdg:schema org.oauthmail.Token service oauthmail account "$1" kind "$2"
		fi
		;;
	kernel)
		if _ki=$(_ident "$1" "$2"); then
			printf '%s' "$3" | keyctl padd user "oauthmail:$2 $_ki" "$KR_PERSIST" >/dev/null || return 1
		else
			printf '%s' "$3" | keyctl padd user "oauthmail:$1:$2" "$KR_PERSIST" >/dev/null || return 1
		fi
		case " $_lib_kernel_keys " in
		*" $1:$2 "*) ;;
		*) _lib_kernel_keys="$_lib_kernel_keys $1:$2" ;;
		esac
		;;
	*)
		diag "keyring_put: call start_keyring or start_kernel_keyring first"
		return 1
		;;
	esac
}

keyring_get() {
	case ${KEYRING:-} in
	secret-service)
		_kv=""
		if _ki=$(_ident "$1" "$2"); then
			_ident_attrs "$_ki"
			_kv=$(timeout 10 secret-tool lookup service oauthmail kind "$2" \
			    client_id "$_ia_c" token_endpoint "$_ia_e" tenant "$_ia_t" \
			    user "$_ia_u" 2>/dev/null)
		fi
		[ -n "$_kv" ] || _kv=$(timeout 10 secret-tool lookup service oauthmail \
		    account "$1" kind "$2" 2>/dev/null) || return 1
		[ -n "$_kv" ] || return 1
		printf '%s\n' "$_kv"
		;;
	kernel)
		_kid=$(kernel_key_id "$1" "$2") || return 1
		keyctl pipe "$_kid" 2>/dev/null || return 1
		echo
		;;
	*) return 1 ;;
	esac
}

keyring_del() {
	[ "$2" = token ] && token_cache_drop
	case ${KEYRING:-} in
	secret-service)
		if _ki=$(_ident "$1" "$2"); then
			_ident_attrs "$_ki"
			timeout 10 secret-tool clear service oauthmail kind "$2" \
			    client_id "$_ia_c" token_endpoint "$_ia_e" tenant "$_ia_t" \
			    user "$_ia_u" 2>/dev/null
		fi
		timeout 10 secret-tool clear service oauthmail account "$1" kind "$2" 2>/dev/null
		_ident_gc "$1"
		return 0
		;;
	kernel) kernel_key_del "$1" "$2" ;;
	esac
}

unique_account() {
	echo "t$$"
}

seed_token() {
	_sa=$1 _su=${2:-alice@example.test}
	_sj=$(oauth_ctl POST "/_control/seed?user=$_su${3:+&$3}") || {
		diag "seed: OAuth server did not answer"; return 1; }
	_rec=$(printf '%s' "$_sj" | $PY -c '
import json, sys, time
s = json.load(sys.stdin)
print(json.dumps({"access_token": s["access_token"], "expires_at": s["expires_at"],
                  "refresh_token": s["refresh_token"], "refresh_issued": int(time.time()),
                  "last_success": 0, "needs_login": False, "scope": s["scope"]}))') || {
		diag "seed: bad answer: $_sj"; return 1; }
	SEED_ACCESS=$(printf '%s' "$_sj" | json_get access_token)
	SEED_REFRESH=$(printf '%s' "$_sj" | json_get refresh_token)
	SEED_EXPIRES_AT=$(printf '%s' "$_sj" | json_get expires_at)
	keyring_put "$_sa" token "$_rec"
}

token_record() {
	if [ -n "${2:-}" ]; then
		keyring_get "$1" token | json_get "$2"
	else
		keyring_get "$1" token
	fi
}

# ---------------------------------------------------------------- config --
# write_config [ACCOUNT] [LINE...]   write $T/config (mode 600) for the
#     running servers: account ACCOUNT (default $(unique_account)), host/port
#     of the last started smtpd, tls per its mode, the test CA, from/user
#     alice@example.test, auth xoauth2, provider custom, client_id
#     demo-client, token_endpoint of the OAuth server, keyring $KEYRING,
#     aliases $T/aliases (root, postmaster -> alice@example.test),
#     logfile $T/oauthmail.log; each LINE is appended to the account (later
#     lines win, e.g. "auth oauthbearer" or "timeout 5"); then "account
#     default : ACCOUNT". Sets CONFIG and ACCOUNT and exports
#     OAUTHMAIL_CONFIG.
write_config() {
	ACCOUNT=${1:-$(unique_account)}
	[ $# -gt 0 ] && shift
	CONFIG=$T/config
	if [ ! -f "$T/aliases" ]; then
		printf 'root: alice@example.test\npostmaster: alice@example.test\n' >"$T/aliases"
	fi
	case ${SMTP_MODE:-starttls} in
	starttls) _tls=on _stls=on ;;
	implicit) _tls=on _stls=off ;;
	plain) _tls=off _stls=off ;;
	esac
	(
		umask 077
		{
			echo "# written by tests/integration/lib.sh write_config"
			echo "account $ACCOUNT"
			echo "host 127.0.0.1"
			echo "port ${SMTP_PORT:-25}"
			echo "tls $_tls"
			echo "tls_starttls $_stls"
			echo "tls_trust_file $CERTS/ca.pem"
			echo "from alice@example.test"
			echo "user alice@example.test"
			echo "auth xoauth2"
			echo "provider custom"
			echo "client_id demo-client"
			echo "token_endpoint ${OAUTH_URL:-https://127.0.0.1:9}/token"
			echo "keyring ${KEYRING:-auto}"
			echo "aliases $T/aliases"
			echo "logfile $T/oauthmail.log"
			for _l in "$@"; do echo "$_l"; done
			echo "account default : $ACCOUNT"
		} >"$CONFIG"
	)
	chmod 600 "$CONFIG"
	OAUTHMAIL_CONFIG=$CONFIG
	export OAUTHMAIL_CONFIG
}

# ---------------------------------------------------------------- syslog --
# start_syslog   capture syslog: if /dev/log does not exist, bind a
#     unix-datagram listener there writing to $SYSLOG_FILE ($T/syslog);
#     returns 1 when /dev/log already exists (use the config's logfile,
#     $T/oauthmail.log, instead). Stopped (and /dev/log removed) at exit.
# log_contains ERE DESC / log_lacks ERE DESC   check $T/oauthmail.log and
#     the captured syslog together
start_syslog() {
	SYSLOG_FILE=$T/syslog
	: >"$SYSLOG_FILE"
	rm -f "$SYSLOG_FILE.ready" "$SYSLOG_FILE.busy"
	$PY -c '
import errno, os, socket, stat, sys
path, out, parent = sys.argv[1], sys.argv[2], int(sys.argv[3])
if os.path.lexists(path):
    # Take over only a dead socket (left by a killed test), never a live one
    # or anything that is not a socket.
    if not stat.S_ISSOCK(os.lstat(path).st_mode):
        open(out + ".busy", "w").close(); sys.exit(1)
    c = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        c.connect(path)
        open(out + ".busy", "w").close(); sys.exit(1)
    except ConnectionRefusedError:
        os.unlink(path)
    except OSError:
        open(out + ".busy", "w").close(); sys.exit(1)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o666)
ino = os.stat(path).st_ino
open(out + ".ready", "w").close()
s.settimeout(1)
import signal
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
try:
    with open(out, "ab", buffering=0) as f:
        while True:
            try:
                d = s.recv(65536)
                f.write(d.rstrip(b"\0\n") + b"\n")
            except socket.timeout:
                pass
            os.kill(parent, 0)      # ProcessLookupError ends the loop
            if os.stat(path).st_ino != ino:
                break
except (ProcessLookupError, FileNotFoundError, SystemExit):
    pass
finally:
    try:
        if os.stat(path).st_ino == ino:
            os.unlink(path)
    except OSError:
        pass
' /dev/log "$SYSLOG_FILE" $$ 2>"$T/syslog.err" &
	_lib_syslog_pid=$!
	if ! wait_for 5 _syslog_started; then
		diag "syslog listener failed:" "$(cat "$T/syslog.err")"
		return 1
	fi
	if [ -e "$SYSLOG_FILE.busy" ]; then
		return 1
	fi
	_lib_pids="$_lib_pids $_lib_syslog_pid"
	_lib_devlog=1
	return 0
}

_syslog_started() {
	[ -e "$SYSLOG_FILE.ready" ] || [ -e "$SYSLOG_FILE.busy" ] ||
	    ! kill -0 "$_lib_syslog_pid" 2>/dev/null
}

stop_syslog() {
	# The listener removes /dev/log itself when it is killed or when
	# the test exits; only our own socket is ever removed.
	if [ -n "$_lib_devlog" ]; then
		_lib_kill "$_lib_syslog_pid"
		_lib_devlog=""
	fi
	return 0
}

log_contains() {
	if cat "$T/oauthmail.log" "${SYSLOG_FILE:-/dev/null}" 2>/dev/null | grep -Eq -- "$1"; then
		pass "$2"
	else
		fail "$2" "no log line matches /$1/"
	fi
}

log_lacks() {
	if cat "$T/oauthmail.log" "${SYSLOG_FILE:-/dev/null}" 2>/dev/null | grep -Eq -- "$1"; then
		fail "$2" "a log line matches /$1/"
	else
		pass "$2"
	fi
}

# ------------------------------------------------------------- oauthmail --
# need_oauthmail        skip_all unless $OAUTHMAIL is an executable
# om ARGS...            run "$OAUTHMAIL" -C "$CONFIG" ARGS... (stdin as is; a
#     management word first: om token ACCT -> oauthmail token -C F ACCT)
# send_msg ARGS...      pipe a small test message (to bob@example.test,
#     Subject "test $$") into "$OAUTHMAIL" -C "$CONFIG" ARGS...; stdout in
#     $T/out, stderr in $T/err, exit status in $RC
# concurrent_sends N DIR WORD   N sends at once with $CONFIG, message I
#     (Subject "WORD I") to bobI@example.test, each one's output, errors
#     and exit status in DIR/I.out, .err, .rc; waits for all of them and
#     sets BAD to how many did not exit 0 (the first three are diag'ed)
# wait_auth_url             wait (20 s) for a sign-in's authorization
#     address on $T/login.err (after its "Waiting up to" line), an address
#     of the test OAuth server's authorize endpoint; sets AUTH_URL and
#     LPORT (the loopback listener's port, from redirect_uri)
# authorize                 the browser's first step: print where the
#     authorize endpoint sends it for $AUTH_URL (it approves at once)
# bs_size_dialogue small|only-big CMD...   speak SMTP to CMD (a -bs
#     session, bs_dialogue.py) whose account's server advertised SIZE
#     1000000 (the SMTP server at $SMTP_PORT): EHLO must advertise SIZE
#     1000000, MAIL FROM ... SIZE=2000000 get 552 5.3.4 and a 2 MB DATA
#     554 5.6.0 naming the limit and 127.0.0.1:$SMTP_PORT; with "small",
#     a small message (Subject "small bs") after them must get 250. Files
#     in $T/bs.* and $T/bigdata; returns 0 when every reply matched.
need_oauthmail() {
	[ -x "$OAUTHMAIL" ] || skip_all "no oauthmail binary at $OAUTHMAIL"
}

om() {
	# A management word must be argv[1] ("oauthmail token ACCOUNT -C F").
	case ${1:-} in
	login|logout|status|check|token|secret|password|queue|flush)
		_omw=$1; shift
		"$OAUTHMAIL" "$_omw" -C "$CONFIG" "$@"
		;;
	*)
		"$OAUTHMAIL" -C "$CONFIG" "$@"
		;;
	esac
}

test_message() {
	printf 'From: Alice <alice@example.test>\nTo: Bob <bob@example.test>\nSubject: test %s\n\nHello from the oauthmail integration tests.\n' "$$"
}

send_msg() {
	test_message | "$OAUTHMAIL" -C "$CONFIG" "$@" >"$T/out" 2>"$T/err"
	RC=$?
	return $RC
}

concurrent_sends() {
	_cn=$1 _cd=$2 _cw=$3
	mkdir -p "$_cd"
	_ci=1 _cpids=""
	while [ $_ci -le "$_cn" ]; do
		(
			printf 'From: alice@example.test\nSubject: %s %d\n\nmessage %d\n' \
			    "$_cw" "$_ci" "$_ci" |
			    "$OAUTHMAIL" -C "$CONFIG" "bob$_ci@example.test" \
			    >"$_cd/$_ci.out" 2>"$_cd/$_ci.err"
			echo $? >"$_cd/$_ci.rc"
		) &
		_cpids="$_cpids $!"
		_ci=$((_ci + 1))
	done
	# Only these senders: a bare wait would also wait for the servers.
	for _cp in $_cpids; do wait "$_cp"; done
	BAD=0 _ci=1
	while [ $_ci -le "$_cn" ]; do
		_crc=$(cat "$_cd/$_ci.rc" 2>/dev/null)
		if [ "$_crc" != 0 ]; then
			BAD=$((BAD + 1))
			[ $BAD -le 3 ] && diag "send $_ci: exit ${_crc:-?}: $(head -c 300 "$_cd/$_ci.err")"
		fi
		_ci=$((_ci + 1))
	done
}

wait_auth_url() {
	wait_for 20 grep -q "^Waiting up to" "$T/login.err" || return 1
	AUTH_URL=$(grep "^    https://127\.0\.0\.1:$OAUTH_PORT/authorize?" "$T/login.err" | head -n 1 | sed 's/^ *//')
	LPORT=$(printf '%s\n' "$AUTH_URL" | sed -n 's/.*redirect_uri=http%3A%2F%2F127\.0\.0\.1%3A\([0-9]*\)%2F.*/\1/p')
	[ -n "$LPORT" ]
}

authorize() {
	curl -sS --max-time 20 --cacert "$CERTS/ca.pem" -o /dev/null \
	    -w '%{redirect_url}' "$AUTH_URL"
}

bs_size_dialogue() {
	_bss=$1; shift
	$PY -c '
import sys
sys.stdout.write("Subject: big bs\r\n\r\n" + ("y" * 69 + "\r\n") * 30000 + ".\r\n")' >"$T/bigdata"
	chmod 644 "$T/bigdata"
	{
		cat <<-S
		< ^220
		> EHLO x
		< ^250
		<ehlo SIZE 1000000
		> MAIL FROM:<alice@example.test> SIZE=2000000
		< ^552 5\.3\.4
		> MAIL FROM:<alice@example.test>
		< ^250
		> RCPT TO:<bob@example.test>
		< ^250
		> DATA
		< ^354
		>file $T/bigdata
		< ^554 5\.6\.0 .*limit of 1000000 bytes; 127\.0\.0\.1:$SMTP_PORT advertises it
		S
		[ "$_bss" != small ] || cat <<-S
		> MAIL FROM:<alice@example.test> SIZE=900
		< ^250
		> RCPT TO:<bob@example.test>
		< ^250
		> DATA
		< ^354
		> Subject: small bs
		>
		> fits
		> .
		< ^250 2\.0\.0 Ok: sent
		S
		printf '> QUIT\n< ^221\nexit 0\n'
	} >"$T/bs.bs"
	"$PY" "$IT/bs_dialogue.py" "$T/bs.bs" "$T/bs.log" -- "$@" \
	    >"$T/bs.out" 2>"$T/bs.err"
}
