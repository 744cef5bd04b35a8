#!/bin/sh
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# t-login-client-credentials.sh -- `oauthmail login ACCOUNT` for a
# client_credentials account: without a client secret in the keyring it
# says to run `oauthmail secret` (exit 78); with one it fetches a token,
# stores the record and `check` authenticates with it.
. "$top_srcdir/tests/integration/lib.sh"
need_oauthmail
start_kernel_keyring || start_keyring || skip_all "no keyring available"
start_oauth || bail "oauth server did not start"
start_smtpd || bail "smtpd did not start"
write_config "" "client_id conf-client" "flow client_credentials" \
    "scope https://outlook.office365.com/.default"
at_exit "keyring_del $ACCOUNT token; keyring_del $ACCOUNT client_secret"

run_rc 78 "without a client secret, login exits 78" om login "$ACCOUNT"
like "$(cat "$T/err")" "oauthmail secret $ACCOUNT" "and says to run 'oauthmail secret'"
is "$(oauth_stat counts.token_requests)" 0 "nothing was asked of the token endpoint"

keyring_put "$ACCOUNT" client_secret conf-secret || bail "keyring_put"
run_ok "with the client secret, login succeeds" om login "$ACCOUNT"
like "$(cat "$T/err")" "signed in as application conf-client" "it names the application"
unlike "$(cat "$T/err")" "no refresh token" "no refresh-token warning for client credentials"
is "$(oauth_stat counts.client_credentials_ok)" 1 "one client_credentials grant"
isnt "$(token_record "$ACCOUNT" access_token)" "" "the access token is stored"
unlike "$(cat "$T/err" "$T/out")" "conf-secret" "the secret is never printed"
run_ok "check authenticates with the stored token" om check "$ACCOUNT"
like "$(cat "$T/out")" "authenticated" "check says authenticated"

keyring_put "$ACCOUNT" client_secret wrong-secret || bail "keyring_put"
run_rc 78 "a wrong client secret exits 78" om login "$ACCOUNT"

done_testing
