#!/bin/sh
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# t-login-google.sh -- Google does not allow the device flow for Gmail
# scopes: `login --device` on a Google-preset account is refused up front
# (exit 64, with the reason and what to do) without contacting anyone, and
# `flow device` in a Google account is a configuration error (exit 78).
# Without a display the default for Google is the browser flow with the
# address printed (checked up to the printed URL, then stopped).
. "$top_srcdir/tests/integration/lib.sh"
need_oauthmail
start_kernel_keyring || start_keyring || skip_all "no keyring available"

CONFIG=$T/google.conf
write_google() {
	(
		umask 077
		{
			echo "account gmail"
			echo "provider google"
			echo "client_id 123-test.apps.googleusercontent.com"
			echo "from someone@gmail.com"
			echo "user someone@gmail.com"
			echo "keyring $KEYRING"
			for _l in "$@"; do echo "$_l"; done
		} >"$CONFIG"
	)
}

write_google
run_rc 64 "login --device is refused for a Google account" om login gmail --device
like "$(cat "$T/err")" "Google does not allow the device flow" "with the reason"
like "$(cat "$T/err")" "--browser" "and what to do instead"
is "$(cat "$T/out")" "" "nothing on stdout"

write_google "flow device"
run_rc 78 "flow device in a Google account is a configuration error" om login gmail
like "$(cat "$T/err")" "device flow" "with the reason"

# Default flow without a display: the browser flow, URL printed. The
# authorize endpoint is Google's; nothing is fetched, the login is stopped.
write_google
om login gmail >"$T/login.out" 2>"$T/login.err" </dev/null &
pid=$!
if wait_for 10 grep -q '^    https://accounts.google.com/' "$T/login.err"; then
	pass "the default for Google without a display prints the browser URL"
else
	fail "the default for Google without a display prints the browser URL" \
	    "$(cat "$T/login.err")"
fi
url=$(grep '^    https://accounts.google.com/' "$T/login.err" | head -n 1)
like "$url" "access_type=offline" "Google is asked for a refresh token (access_type=offline)"
like "$url" "prompt=consent" "with prompt=consent"
like "$url" "scope=https%3A%2F%2Fmail.google.com%2F" "for the Gmail scope"
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
if keyring_get gmail token >/dev/null; then
	fail "nothing is stored"
else
	pass "nothing is stored"
fi

done_testing
