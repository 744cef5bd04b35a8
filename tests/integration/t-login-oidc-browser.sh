#!/bin/sh
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# t-login-oidc-browser.sh -- `oauthmail login ACCOUNT --browser`
# (authorization code + PKCE S256, loopback redirect) against a real
# authorization server, the npm package oidc-provider (oidc/server.mjs,
# HTTPS with the test CA, PKCE required). The test plays the user's
# browser with curl and a cookie jar: it opens the URL the program prints
# on stderr (no DISPLAY), signs in on the provider's login page, allows
# the client on its consent page, and follows the provider's redirect to
# oauthmail's 127.0.0.1 listener. Then: the token record has an access and
# a refresh token, the provider's introspection says the access token is
# active for demo-client, the provider refuses the code without the
# code_verifier, and mail goes through the test SMTP server, which checks
# the token at the provider. Skipped when node/npm are missing or the
# install fails.
. "$top_srcdir/tests/integration/lib.sh"
need_oauthmail
command -v curl >/dev/null || skip_all "curl missing"
. "$top_srcdir/tests/integration/lib-oidc.sh"
start_kernel_keyring || start_keyring || skip_all "no keyring available"
start_oidc
start_smtpd --introspect "$U/_control/introspect" --oauth-ca "$CERTS/ca.pem" ||
    bail "smtpd did not start"
write_config "" "auth_endpoint $U/auth" "token_endpoint $U/token" \
    "revoke_endpoint $U/token/revocation" "flow authcode" \
    "scope openid offline_access" "timeout 10"
at_exit "keyring_del $ACCOUNT token"
oidc_stat() { ctl "$U/_control/stats" | json_get "counts.$1" || echo 0; }

om login "$ACCOUNT" --browser >"$T/login.out" 2>"$T/login.err" </dev/null &
LOGIN_PID=$!
wait_for 20 grep -q "^    $U/auth?" "$T/login.err"
AUTH_URL=$(grep "^    $U/auth?" "$T/login.err" | head -n 1 | sed 's/^ *//')
like "$AUTH_URL" "^$U/auth\?.*code_challenge_method=S256" \
    "the authorization URL for oidc-provider is printed, with PKCE S256"
like "$AUTH_URL" "[?&]prompt=consent(&|$)" \
    "offline_access is asked for with prompt=consent (OIDC Core 11)"
LPORT=$(printf '%s\n' "$AUTH_URL" | sed -n 's/.*redirect_uri=http%3A%2F%2F127\.0\.0\.1%3A\([0-9]*\)%2F.*/\1/p')

# The provider's login page.
r=$(follow "$AUTH_URL")
like "$r" "^200 " "the provider shows a page"
file_contains "$T/page.html" "<title>login</title>" "it is the login page"
ACTION=$(form_action)
r=$(follow --data-urlencode "login=alice@example.test" "$U$ACTION")
file_contains "$T/page.html" "<title>consent</title>" "after signing in, the consent page"
ACTION=$(form_action)
r=$(follow -X POST "$U$ACTION")
LOC=${r#* }
like "$r" "^30[237] http://127\.0\.0\.1:$LPORT/\?code=[^&]+&state=" \
    "after consent the provider redirects to the loopback listener"
is "$(oidc_stat interaction_login):$(oidc_stat interaction_consent)" 1:1 \
    "one sign-in and one consent at the provider"

# The code alone, without the code_verifier, is refused (PKCE required).
CODE=$(printf '%s\n' "$LOC" | sed -n 's/.*[?&]code=\([^&]*\).*/\1/p')
ctl -d client_id=demo-client -d grant_type=authorization_code \
    --data-urlencode "redirect_uri=http://127.0.0.1:$LPORT/" -d "code=$CODE" \
    "$U/token" >"$T/nopkce.json"
file_contains "$T/nopkce.json" '"error":"invalid_grant"' \
    "the provider refuses the code without a code_verifier"
ctl -d client_id=demo-client -d grant_type=authorization_code \
    --data-urlencode "redirect_uri=http://127.0.0.1:$LPORT/" -d "code=$CODE" \
    -d code_verifier=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA \
    "$U/token" >"$T/badpkce.json"
file_contains "$T/badpkce.json" '"error":"invalid_grant"' \
    "and with a wrong code_verifier"
is "$(oidc_stat grant_success)" 0 "no token was issued for them"

# The browser arrives at oauthmail's listener.
curl -sS --max-time 30 "$LOC" >"$T/done.html"
ok $? "the loopback listener answers the browser"
file_contains "$T/done.html" "Signed in" "the page says the sign-in worked"
wait_bg "$LOGIN_PID" 30
is "$RC" 0 "login exits 0"
is "$(oidc_stat grant_success)" 1 "one code exchange at the provider (with the right code_verifier)"
at=$(token_record "$ACCOUNT" access_token)
rt=$(token_record "$ACCOUNT" refresh_token)
isnt "$at" "" "an access token from oidc-provider is in the keyring"
isnt "$rt" "" "a refresh token from oidc-provider is in the keyring"
is "$(token_record "$ACCOUNT" needs_login)" false "needs_login is false"
ctl -u conf-client:conf-secret --data-urlencode "token=${at:-none}" \
    "$U/token/introspection" >"$T/intro.json"
is "$(json_get active "$T/intro.json")" true "the provider says the access token is active"
is "$(json_get client_id "$T/intro.json")" demo-client "issued to demo-client"
is "$(json_get sub "$T/intro.json")" alice@example.test "for the user who signed in"
is "$(introspect "${rt:-none}")" true "the provider says the refresh token is active"
unlike "$(cat "$T/login.err" "$T/login.out")" "${at:-NO-TOKEN}|${CODE:-NO-CODE}" \
    "neither the token nor the code appears in the output"

run_ok "token prints the stored token" om token "$ACCOUNT"
is "$(cat "$T/out")" "$at" "the same token"

# Mail with it: the SMTP server checks the token at oidc-provider.
send_msg bob@example.test
is "$RC" 0 "a send with the new sign-in works"
is "$(msg_count)" 1 "the SMTP server accepted one message"
is "$(msg_field auth_user)" alice@example.test "authenticated as alice"
is "$(oidc_stat smtp_introspect_active)" 1 "the SMTP server found the token active at the provider"
done_testing
