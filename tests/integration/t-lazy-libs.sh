#!/bin/sh
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# t-lazy-libs.sh -- libcurl and libsecret are not linked but loaded with
# dlopen() at first use (src/http.c, src/store_secret.c), so that
# "sendmail -odq" starts in ~2 ms instead of ~9 ms:
#   - ldd lists neither (nor GLib);
#   - -odq, and a send with a valid token from the kernel keyring, load
#     neither; "keyring auto" without a session bus does not load libsecret;
#   - a send that must refresh the token loads libcurl;
#   - with libcurl hidden (a bind mount in a private mount namespace) a
#     send that needs a refresh is accepted and stays queued (like any
#     token endpoint failure), mailq says what to install, a later -q with
#     the library back delivers it; -odq still works;
#   - with libsecret hidden, "keyring secret-service" exits 75 saying what
#     to install, and "keyring auto" falls back to the kernel keyring.
. "$top_srcdir/tests/integration/lib.sh"
need_oauthmail
start_oauth || bail "OAuth server"
start_smtpd || bail "SMTP server"
start_kernel_keyring || skip_all "no kernel keyring"
write_config "" "timeout 10"
seed_token "$ACCOUNT" || bail "seed"

queued() { ls "$XDG_STATE_HOME/oauthmail/queue/q" 2>/dev/null | grep -c '\.env$'; }
# ldrun CMD...: CMD with LD_DEBUG=files, the test message on stdin; stdout
# in $T/out, stderr (with the loader's trace) in $T/err, status in $RC
ldrun() {
	test_message | LD_DEBUG=files "$@" >"$T/out" 2>"$T/err"
	RC=$?
}

# 1. Not linked.
ldd "$OAUTHMAIL" >"$T/ldd" 2>&1
file_contains "$T/ldd" 'libc\.so' "ldd works on the binary"
file_lacks "$T/ldd" 'libcurl|libsecret|libglib|libgio|libgobject' \
    "libcurl, libsecret and GLib are not linked"

# 2. Queueing loads neither; neither does a send with a valid token.
ldrun "$OAUTHMAIL" -C "$CONFIG" -odq bob@example.test
is "$RC" 0 "-odq exits 0"
file_contains "$T/err" 'file=libc\.so' "LD_DEBUG=files shows the libraries"
file_lacks "$T/err" 'libcurl|libsecret' "-odq loads neither libcurl nor libsecret"
is "$(queued)" 1 "the message is queued"
ldrun "$OAUTHMAIL" -C "$CONFIG" -q
is "$RC" 0 "-q exits 0"
file_lacks "$T/err" 'libcurl|libsecret' "a queue run with a valid token loads neither"
is "$(msg_count)" 1 "delivered"
KEYRING=auto write_config "$ACCOUNT" "timeout 10"
KEYRING=kernel
ldrun "$OAUTHMAIL" -C "$CONFIG" bob@example.test
is "$RC" 0 "a send with keyring auto and no session bus exits 0"
file_lacks "$T/err" 'libsecret' "keyring auto without a session bus does not load libsecret"
is "$(msg_count)" 2 "delivered (kernel keyring)"

# 3. A refresh loads libcurl.
write_config "$ACCOUNT" "timeout 10"
seed_token "$ACCOUNT" alice@example.test "expires_in=-1" || bail "seed"
ldrun "$OAUTHMAIL" -C "$CONFIG" bob@example.test
is "$RC" 0 "a send with an expired token exits 0"
file_contains "$T/err" 'file=libcurl\.so' "the refresh loads libcurl"
file_lacks "$T/err" 'libsecret' "and not libsecret (keyring kernel)"
is "$(msg_count)" 3 "delivered after the refresh"
is "$(oauth_stat counts.refresh_ok)" 1 "the token was refreshed"

# 4. Without the libraries (hidden in a private mount namespace).
libpath() { ldconfig -p 2>/dev/null | awk -v n="$1" '$1 == n && /x86-64|64bit|AArch64|riscv64/ { print $NF; exit }'; }
CURLSO=$(readlink -f "$(libpath libcurl.so.4)" 2>/dev/null)
SECRETSO=$(readlink -f "$(libpath libsecret-1.so.0)" 2>/dev/null)
if [ -z "$CURLSO" ] || [ -z "$SECRETSO" ] || ! unshare -m true 2>/dev/null; then
	skip "no unshare -m, or the libraries are not found with ldconfig -p" 11
	done_testing
fi
hidden() { # hidden LIB CMD...: CMD with LIB bound to /dev/null
	_hl=$1; shift
	unshare -m sh -c 'mount --make-rprivate / && mount --bind /dev/null "$0" && exec "$@"' "$_hl" "$@"
}
seed_token "$ACCOUNT" alice@example.test "expires_in=-1" || bail "seed"
n=$(msg_count)
test_message | hidden "$CURLSO" "$OAUTHMAIL" -C "$CONFIG" bob@example.test >"$T/out" 2>"$T/err"
RC=$?
is "$RC" 0 "without libcurl a send that needs a refresh is accepted (exit 0)"
is "$(msg_count)" "$n" "nothing was sent"
is "$(queued)" 1 "the message stays queued"
run_ok "mailq" "$OAUTHMAIL" -C "$CONFIG" -bp
file_contains "$T/out" 'libcurl is not installed \(Debian: libcurl4\)' "mailq says what to install"
test_message | hidden "$CURLSO" "$OAUTHMAIL" -C "$CONFIG" -odq bob@example.test >"$T/out" 2>"$T/err"
is "$?" 0 "without libcurl -odq still exits 0"
run_ok "-q with libcurl back delivers both" "$OAUTHMAIL" -C "$CONFIG" -q
is "$(msg_count)" "$((n + 2))" "both delivered"

KEYRING=secret-service write_config "$ACCOUNT" "timeout 10"
KEYRING=kernel
hidden "$SECRETSO" env DBUS_SESSION_BUS_ADDRESS="unix:path=$T/no-bus" \
    "$OAUTHMAIL" token -C "$CONFIG" "$ACCOUNT" >"$T/out" 2>"$T/err"
RC=$?
is "$RC" 75 "without libsecret, keyring secret-service exits 75"
file_contains "$T/err" 'libsecret is not installed \(Debian: libsecret-1-0\)' "and says what to install"
KEYRING=auto write_config "$ACCOUNT" "timeout 10"
KEYRING=kernel
test_message | hidden "$SECRETSO" env DBUS_SESSION_BUS_ADDRESS="unix:path=$T/no-bus" \
    "$OAUTHMAIL" -C "$CONFIG" bob@example.test >"$T/out" 2>"$T/err"
is "$?" 0 "without libsecret, keyring auto falls back to the kernel keyring"
done_testing
