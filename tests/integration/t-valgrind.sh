# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# The main paths under valgrind: a full send (token from the kernel
# keyring, refreshed first), mailq (-bp), a queue run (-q), and the
# monitoring reports over a deferred recipient must have no invalid reads
# or writes and no definite leaks.
. "$top_srcdir/tests/integration/lib.sh"
need_oauthmail
command -v valgrind >/dev/null 2>&1 || skip_all "valgrind not installed"
# A sanitizer build cannot run under valgrind.
if grep -q '__asan_init' "$OAUTHMAIL" 2>/dev/null; then
	skip_all "oauthmail is built with sanitizers"
fi

# Old valgrind cannot read clang's DWARF 5: probe the binary first.
if ! valgrind -q --error-exitcode=99 "$OAUTHMAIL" --version >/dev/null 2>"$T/vgprobe"; then
	skip_all "valgrind cannot run $OAUTHMAIL: $(grep -m1 -i 'valgrind:\|giving up' "$T/vgprobe")"
fi

start_oauth || bail "OAuth server"
start_smtpd || bail "SMTP server"
start_kernel_keyring || skip_all "no kernel keyring"
write_config "" "timeout 10"
# An expired token: the send refreshes it first (libcurl, jansson, store).
seed_token "$ACCOUNT" alice@example.test "expires_in=-1" || bail "seed"
VG="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite --track-fds=no --log-file=$T/vg.%p"
vgcheck() { # vgcheck DESC: the last run's exit status is not 99
	if [ "$RC" -ne 99 ]; then
		pass "$1: valgrind found nothing (exit $RC)"
	else
		fail "$1: valgrind reported errors" "$(cat "$T"/vg.* 2>/dev/null | head -n 60)"
	fi
	rm -f "$T"/vg.*
}

n=$(msg_count)
test_message | $VG "$OAUTHMAIL" bob@example.test >"$T/out" 2>"$T/err"
RC=$?
vgcheck "send with a token refresh"
is "$RC" 0 "the send exits 0"
is "$(msg_count)" "$((n + 1))" "the message arrived"
is "$(oauth_stat counts.refresh_ok)" 1 "the token was refreshed"

# Queue one (server says 421), then mailq and a queue run.
smtpd_faults greet421
test_message | "$OAUTHMAIL" carol@example.test >/dev/null 2>&1
smtpd_faults
$VG "$OAUTHMAIL" -bp >"$T/out" 2>"$T/err"
RC=$?
vgcheck "mailq (-bp)"
like "$(cat "$T/out")" "carol@example.test" "mailq lists the queued message"
$VG "$OAUTHMAIL" -q >"$T/out" 2>"$T/err"
RC=$?
vgcheck "queue run (-q)"
is "$RC" 0 "-q exits 0"
is "$(msg_count)" "$((n + 2))" "-q delivered the queued message"

# One recipient accepted, one deferred (its reply kept), then a run that
# cannot connect (the earlier reply is put back), then the reports.
test_message | $VG "$OAUTHMAIL" dan@example.test tempfail@example.test >"$T/out" 2>"$T/err"
RC=$?
vgcheck "a send with a deferred recipient"
smtpd_faults greet421
$VG "$OAUTHMAIL" -q >"$T/out" 2>"$T/err"
RC=$?
vgcheck "a queue run refused at the greeting"
smtpd_faults
for cmd in "queue --json" "status --json" "status --prometheus" "check --nagios"; do
	# shellcheck disable=SC2086
	$VG "$OAUTHMAIL" $cmd >"$T/out" 2>"$T/err"
	RC=$?
	vgcheck "oauthmail $cmd"
done
like "$(cat "$T/out")" "deferred=1" "check --nagios counts the deferred message"
done_testing
