#!/bin/sh
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# t-token-oidc.sh -- against a real authorization server implementation
# (the npm package oidc-provider, tests/integration/oidc/server.mjs, over
# HTTPS with the test CA): device login (approval recorded through the
# provider's own models), refresh with rotation when the access token
# expires (checked by introspection at the provider), client credentials,
# and reuse of a rotated-out refresh token ending in "sign-in needed".
# Skipped when node/npm are missing or the install fails.
. "$top_srcdir/tests/integration/lib.sh"
need_oauthmail
. "$top_srcdir/tests/integration/lib-oidc.sh"
start_kernel_keyring || start_keyring || skip_all "no keyring available"
start_oidc --access-ttl 12

write_config "" "token_endpoint $U/token" "device_endpoint $U/device/auth" \
    "revoke_endpoint $U/token/revocation" "flow device" \
    "scope openid offline_access" "timeout 10" "refresh_margin 0"
at_exit "keyring_del $ACCOUNT token"

# Device login; the approval is what the user's browser would do.
"$OAUTHMAIL" login -C "$CONFIG" "$ACCOUNT" --device >"$T/login.out" 2>"$T/login.err" </dev/null &
LOGIN_PID=$!
if wait_for 20 grep -Eq '[A-Z]{4}-[A-Z]{4}' "$T/login.err"; then
	pass "device login shows the user code"
else
	fail "device login shows the user code" "$(cat "$T/login.err")"
fi
UC=$(grep -Eo '[A-Z]{4}-[A-Z]{4}' "$T/login.err" | head -n 1)
like "$(ctl -X POST "$U/_control/device/approve?user_code=$UC")" '"ok":true' "the provider records the approval"
wait_bg "$LOGIN_PID" 30
is "$RC" 0 "device login exits 0"
at1=$(token_record "$ACCOUNT" access_token)
rt1=$(token_record "$ACCOUNT" refresh_token)
isnt "$rt1" "" "a refresh token from oidc-provider is in the keyring"
is "$(introspect "$at1")" true "the provider says the stored access token is active"

# record_expired: the stored access token's expiry has passed (then the
# provider's has too: it issued the token before we stored it).
record_expired() {
	[ "$(date +%s)" -gt "$(token_record "$ACCOUNT" expires_at)" ]
}

# Fresh: no refresh.
g0=$(grants)
run_ok "token while fresh" om token "$ACCOUNT"
is "$(cat "$T/out")" "$at1" "token prints the stored token"
is "$(grants)" "$g0" "no grant at the provider while the token is fresh"

# Expired (access TTL 12 s): one refresh with rotation.
wait_for 30 record_expired
is "$(introspect "$at1")" false "the provider says the old access token expired"
run_ok "token after expiry" om token "$ACCOUNT"
at2=$(cat "$T/out")
isnt "$at2" "$at1" "a new access token"
is "$(grants)" "$((g0 + 1))" "exactly one grant (the refresh) at the provider"
is "$(introspect "$at2")" true "the provider says the new access token is active"
rt2=$(token_record "$ACCOUNT" refresh_token)
isnt "$rt2" "$rt1" "the rotated refresh token is in the keyring"
is "$(introspect "$rt1")" false "the rotated-out refresh token is inactive at the provider"
is "$(introspect "$rt2")" true "the stored refresh token is active at the provider"

# Client credentials (confidential client, secret in the keyring).
CC=cc$$
cat >>"$CONFIG" <<EOC
account $CC
host 127.0.0.1
port 25
from alice@example.test
user alice@example.test
auth xoauth2
provider custom
client_id conf-client
flow client_credentials
token_endpoint $U/token
tls_trust_file $CERTS/ca.pem
keyring $KEYRING
timeout 10
EOC
at_exit "keyring_del $CC token; keyring_del $CC client_secret"
run_ok "secret from stdin" sh -c 'printf conf-secret | "$OAUTHMAIL" secret -C "$1" "$2"' - "$CONFIG" "$CC"
run_ok "client credentials token" om token "$CC"
cct=$(cat "$T/out")
isnt "$cct" "" "an app token is printed"
is "$(introspect "$cct")" true "the provider says the app token is active"

# Reuse of a rotated-out refresh token: oidc-provider revokes the whole
# grant (reuse detection); oauthmail then says sign-in is needed and keeps
# its refresh token.
ctl -d client_id=demo-client -d grant_type=refresh_token \
    --data-urlencode "refresh_token=$rt1" "$U/token" >"$T/reuse.json"
file_contains "$T/reuse.json" invalid_grant "reusing the old refresh token is refused"
wait_for 30 record_expired
run_rc 77 "after the provider revoked the grant, token exits 77" om token "$ACCOUNT"
like "$(cat "$T/err")" "oauthmail login $ACCOUNT" "and names 'oauthmail login ACCOUNT'"
is "$(token_record "$ACCOUNT" needs_login)" true "needs_login is recorded"
is "$(token_record "$ACCOUNT" refresh_token)" "$rt2" "the refresh token is kept"
done_testing
