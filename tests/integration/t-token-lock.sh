#!/bin/sh
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# t-token-lock.sh -- the token refresh lock cannot be blocked by another
# local user. Without XDG_RUNTIME_DIR (cron, php-fpm), /tmp/oauthmail-<uid>
# is a name any local user can create first; whatever is there (another
# user's directory, a symlink to one), a send with an expired access token
# still refreshes it once and delivers, and the lock lives in the user's
# own queue directory. Each case runs in a private mount namespace with
# its own /tmp, so nothing outside the test sees the planted names.
case ${TMPDIR:-/tmp} in
/tmp|/tmp/*) TMPDIR=/var/tmp; export TMPDIR ;;	# $T must not be under /tmp
esac
# A build tree under /tmp would vanish under the private /tmp too: the
# certificates and the binary then come from $TMPDIR.
case ${top_builddir:-$(pwd)} in
/tmp|/tmp/*) CERTS=${TMPDIR}/om-t-token-lock-certs.$$; export CERTS ;;
esac
. "$top_srcdir/tests/integration/lib.sh"
need_oauthmail
case $CERTS in "$TMPDIR"/om-t-token-lock-certs.*) at_exit "rm -rf '$CERTS'" ;; esac
case $OAUTHMAIL in
/tmp|/tmp/*) cp "$OAUTHMAIL" "$T/oauthmail" && OAUTHMAIL=$T/oauthmail ;;
esac
[ "$(id -u)" = 0 ] || skip_all "needs root for a private mount namespace"
unshare --mount --propagation private true 2>/dev/null ||
    skip_all "unshare --mount is not available"
start_kernel_keyring || skip_all "no kernel keyring"
start_oauth || bail "OAuth server did not start"
start_smtpd || bail "SMTP server did not start"
write_config "lock$$" "timeout 10" "refresh_margin 0"
at_exit "KEYRING=$KEYRING keyring_del $ACCOUNT token"
uid=$(id -u)
other=65534
Q=$XDG_STATE_HOME/oauthmail/queue

# in_private_tmp SETUP: runs the send with a fresh /tmp where SETUP (sh
# code, $L is /tmp/oauthmail-<uid>) has planted something, and no
# XDG_RUNTIME_DIR.
in_private_tmp() {
	test_message | env -u XDG_RUNTIME_DIR L="/tmp/oauthmail-$uid" \
	    unshare --mount --propagation private sh -c '
		mount -t tmpfs -o mode=1777 om-test-tmp /tmp || exit 99
		eval "$1" || exit 98
		shift
		exec "$@"' sh "$1" "$OAUTHMAIL" -C "$CONFIG" bob@example.test \
	    >"$T/out" 2>"$T/err"
	RC=$?
}

# case_ NAME SETUP
case_() {
	seed_token "$ACCOUNT" "" "expires_in=-1" || bail "seed"
	old_rt=$SEED_REFRESH
	r0=$(oauth_stat counts.refresh_ok)
	n0=$(msg_count)
	in_private_tmp "$2"
	is "$RC" 0 "$1: the send exits 0"
	[ "$RC" = 0 ] || diag "$(cat "$T/err")"
	is "$(msg_count)" "$((n0 + 1))" "$1: the message is delivered now"
	is "$(oauth_stat counts.refresh_ok)" "$((r0 + 1))" "$1: the token was refreshed once"
	isnt "$(token_record "$ACCOUNT" refresh_token)" "$old_rt" \
	    "$1: the rotated refresh token is saved"
	is "$(ls "$Q/q" | wc -l | tr -d ' ')" 0 "$1: nothing waits in the queue"
}

case_ "another user's directory" \
    'mkdir "$L" && chown '"$other:$other"' "$L" && chmod 755 "$L"'
case_ "another user's directory, mode 1777" \
    'mkdir "$L" && chown '"$other:$other"' "$L" && chmod 1777 "$L"'
case_ "a symlink to another user's directory" \
    'mkdir /tmp/x && chown '"$other"' /tmp/x && ln -s /tmp/x "$L" && chown -h '"$other"' "$L"'
case_ "a regular file of another user" \
    'echo > "$L" && chown '"$other"' "$L"'

lock=$Q/token-$ACCOUNT.lock
if [ -f "$lock" ] && [ ! -L "$lock" ]; then
	pass "the lock is in the queue directory"
else
	fail "the lock is in the queue directory" "$(ls -la "$Q")"
fi
is "$(stat -c %a "$lock" 2>/dev/null)" 600 "the lock file is 0600"

done_testing
