#!/bin/sh
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# The integration-test infrastructure itself: certificates, the OAuth
# server's grants and faults, the SMTP server's AUTH checks, fault injection
# and maildir, without oauthmail (uses curl, swaks and smtp_client.py).
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integration/lib.sh"

for c in curl openssl swaks; do
	command -v $c >/dev/null || skip_all "$c not installed"
done

# ---- certificates
run_ok "server certificate verifies against the test CA" \
    openssl verify -CAfile "$CERTS/ca.pem" -verify_ip 127.0.0.1 "$CERTS/server.pem"
run_fails "expired certificate does not verify" \
    openssl verify -CAfile "$CERTS/ca.pem" "$CERTS/expired.pem"
run_fails "wrong-host certificate does not verify for 127.0.0.1" \
    openssl verify -CAfile "$CERTS/ca.pem" -verify_ip 127.0.0.1 "$CERTS/wronghost.pem"
run_fails "self-signed certificate does not verify" \
    openssl verify -CAfile "$CERTS/ca.pem" "$CERTS/selfsigned.pem"

# ---- OAuth server
# A 5 s device interval: the two polls below come well within it, however
# busy the machine (with 1 s they had to be less than 0.5 s apart).
start_oauth --access-ttl 60 --device-interval 5 || bail "oauth server did not start"
like "$OAUTH_PORT" '^[0-9]+$' "oauth server wrote its port"
C="curl -sS --max-time 20 --cacert $CERTS/ca.pem"
run_fails "curl refuses the server with an unrelated CA" \
    curl -sS --max-time 10 --cacert "$CERTS/other-ca.pem" "$OAUTH_URL/_control/stats"

seed=$(oauth_ctl POST "/_control/seed?user=alice@example.test")
rt=$(printf '%s' "$seed" | json_get refresh_token)
like "$rt" '^rt-' "seed returns a refresh token"
r1=$($C -d grant_type=refresh_token -d client_id=demo-client --data-urlencode "refresh_token=$rt" "$OAUTH_TOKEN_URL")
rt2=$(printf '%s' "$r1" | json_get refresh_token)
is "$(printf '%s' "$r1" | json_get expires_in)" 60 "refresh grant gives an access token with the configured lifetime"
isnt "$rt2" "$rt" "refresh grant rotates the refresh token"
r2=$($C -d grant_type=refresh_token -d client_id=demo-client --data-urlencode "refresh_token=$rt" "$OAUTH_TOKEN_URL")
is "$(printf '%s' "$r2" | json_get error)" invalid_grant "the rotated-out refresh token is invalid_grant"
is "$(oauth_stat counts.refresh_ok)" 1 "stats count one successful refresh"

r=$($C -d grant_type=client_credentials -d client_id=conf-client -d client_secret=wrong -d scope=s "$OAUTH_TOKEN_URL")
is "$(printf '%s' "$r" | json_get error)" invalid_client "client_credentials with a wrong secret is invalid_client"
r=$($C -d grant_type=client_credentials -d client_id=conf-client -d client_secret=conf-secret -d scope=s "$OAUTH_TOKEN_URL")
like "$(printf '%s' "$r" | json_get access_token)" '^at-' "client_credentials with the secret gives a token"

# PKCE: verifier -> S256 challenge
ver=test-verifier-0123456789-0123456789-0123456789
chal=$(printf '%s' "$ver" | openssl dgst -sha256 -binary | openssl base64 -A | tr '+/' '-_' | tr -d '=')
getcode() {
	$C -o /dev/null -w '%{redirect_url}' "$OAUTH_AUTH_URL?response_type=code&client_id=demo-client&redirect_uri=http://127.0.0.1:5555/cb&state=xyz&code_challenge=$chal&code_challenge_method=S256" |
	    sed -n 's/.*[?&]code=\([^&]*\).*/\1/p'
}
code=$(getcode)
like "$code" '^code-' "authorize redirects with a code"
r=$($C -d grant_type=authorization_code -d client_id=demo-client -d code="$code" \
    -d redirect_uri=http://127.0.0.1:5555/cb -d code_verifier=wrong-verifier "$OAUTH_TOKEN_URL")
is "$(printf '%s' "$r" | json_get error)" invalid_grant "a wrong PKCE verifier is refused"
code=$(getcode)
r=$($C -d grant_type=authorization_code -d client_id=demo-client -d code="$code" \
    -d redirect_uri=http://127.0.0.1:5555/cb -d code_verifier="$ver" "$OAUTH_TOKEN_URL")
like "$(printf '%s' "$r" | json_get refresh_token)" '^rt-' "the right PKCE verifier gets tokens"

# device flow
d=$($C -d client_id=demo-client -d scope=s "$OAUTH_DEVICE_URL")
dc=$(printf '%s' "$d" | json_get device_code)
poll() {
	$C -d grant_type=urn:ietf:params:oauth:grant-type:device_code -d client_id=demo-client \
	    -d device_code="$dc" "$OAUTH_TOKEN_URL" | json_get "$1"
}
is "$(poll error)" authorization_pending "device poll before approval: authorization_pending"
is "$(poll error)" slow_down "polling too fast: slow_down"
oauth_ctl POST /_control/device/approve >/dev/null
like "$(poll access_token)" '^at-' "device poll after approval gets a token"

# introspection and revocation
at=$(printf '%s' "$r" | json_get access_token)
is "$($C -d token="$at" "$OAUTH_URL/introspect" | json_get active)" true "introspection: issued token active"
$C -d token="$at" "$OAUTH_REVOKE_URL" >/dev/null
is "$($C -d token="$at" "$OAUTH_URL/introspect" | json_get active)" false "introspection: revoked token inactive"

# faults
oauth_fault 500 1
code500=$($C -o /dev/null -w '%{http_code}' -d grant_type=refresh_token -d client_id=demo-client -d refresh_token=x "$OAUTH_TOKEN_URL")
is "$code500" 500 "fault 500 answers HTTP 500"
r=$($C -d grant_type=refresh_token -d client_id=demo-client --data-urlencode "refresh_token=$rt2" "$OAUTH_TOKEN_URL")
like "$(printf '%s' "$r" | json_get access_token)" '^at-' "a fault with count=1 clears itself"
oauth_fault temporarily_unavailable
is "$($C -d grant_type=refresh_token -d client_id=demo-client -d refresh_token=x "$OAUTH_TOKEN_URL" | json_get error)" \
    temporarily_unavailable "fault temporarily_unavailable"
oauth_fault down
run_fails "fault down drops the connection" \
    curl -sS --max-time 10 --cacert "$CERTS/ca.pem" -d grant_type=x "$OAUTH_TOKEN_URL"
oauth_fault none

# ---- SMTP server (STARTTLS, Microsoft-style failures)
start_smtpd || bail "smtpd did not start"
seed=$(oauth_ctl POST "/_control/seed?user=alice@example.test")
AT=$(printf '%s' "$seed" | json_get access_token)
run_ok "XOAUTH2 with a valid token delivers" smtp_client --token "$AT" --to bob@example.test
is "$(msg_count)" 1 "one message in the maildir"
is "$(msg_field auth_mech)" XOAUTH2 "sidecar records the mechanism"
is "$(msg_field auth_user)" alice@example.test "sidecar records the user"
like "$(msg_field tls_version)" '^TLSv1\.[23]$' "sidecar records the TLS version"
is "$(msg_field rcpt_tos)" bob@example.test "sidecar records the recipient"
is "$(msg_header Subject)" test "msg_header reads the Subject"
run_ok "OAUTHBEARER two-step delivers" smtp_client --mech OAUTHBEARER --two-step --token "$AT" --to bob@example.test
run_rc 1 "a wrong token is refused" smtp_client --token wrong-token --to bob@example.test
file_contains "$T/out" '^< 535 5\.7\.3 Authentication unsuccessful' "Microsoft style: 535 5.7.3 directly"
run_rc 1 "another user's token is refused" smtp_client --user mallory@example.test --token "$AT" --to bob@example.test
run_rc 1 "MAIL without AUTH is refused" smtp_client --mech none --to bob@example.test
file_contains "$T/out" '530 5\.7\.57' "530 5.7.57 before AUTH"
is "$(smtp_stat auth_success)" 2 "stats: two successful AUTHs"
is "$(smtp_stat auth_failure)" 2 "stats: two failed AUTHs"
file_lacks "$SMTP_DIR/smtpd.log" "$AT" "the SMTP server log holds no token"
run_ok "swaks AUTH PLAIN with the test password" \
    swaks --server "127.0.0.1:$SMTP_PORT" --tls --tls-verify --tls-ca-path "$CERTS/ca.pem" \
    --tls-sni localhost --auth PLAIN --auth-user alice@example.test --auth-password testpass \
    --from alice@example.test --to carol@example.test --timeout 20
is "$(msg_field rcpt_tos)" carol@example.test "swaks message arrived"

# expired token
seed=$(oauth_ctl POST "/_control/seed?user=alice@example.test&expires_in=-1")
ET=$(printf '%s' "$seed" | json_get access_token)
run_rc 1 "an expired token is refused" smtp_client --token "$ET" --to bob@example.test

# recipient faults
run_ok "mixed recipients: the good one is delivered" smtp_client --token "$AT" \
    --to reject@example.test --to tempfail+1@example.test --to dave@example.test
file_contains "$T/out" '550 5\.1\.1' "reject@ gets 550 5.1.1"
file_contains "$T/out" '451 4\.2\.0' "tempfail+1@ gets 451"
is "$(msg_field rcpt_tos)" dave@example.test "only the good recipient is in the envelope"

# session faults
n=$(msg_count)
smtpd_faults greet421
run_rc 1 "greet421: refused at greeting" smtp_client --token "$AT" --to bob@example.test
smtpd_faults sendas_denied
run_rc 1 "sendas_denied: refused after DATA" smtp_client --token "$AT" --to bob@example.test
file_contains "$T/out" '554 5\.2\.252 SendAsDenied' "554 5.2.252 SendAsDenied text"
smtpd_faults nostarttls
run_rc 1 "nostarttls: no STARTTLS offered" smtp_client --token "$AT" --to bob@example.test
smtpd_faults tls11
run_rc 2 "tls11: a TLS>=1.2 client fails the handshake" smtp_client --token "$AT" --to bob@example.test
smtpd_faults mail452:1
run_rc 1 "mail452:1 applies once" smtp_client --token "$AT" --to bob@example.test
run_ok "... and then no more" smtp_client --token "$AT" --to bob@example.test
smtpd_faults disconnect_data
run_rc 2 "disconnect_data drops the connection mid-DATA" smtp_client --token "$AT" --to bob@example.test
smtpd_faults thread_limit
run_rc 1 "thread_limit: 432 at MAIL" smtp_client --token "$AT" --to bob@example.test
file_contains "$T/out" '432 4\.3\.2' "432 4.3.2 text"
smtpd_faults long_reply
run_ok "long_reply: a 10,000-line EHLO reply, still delivers" smtp_client --token "$AT" --to bob@example.test
smtpd_faults hang_greeting
run_rc 2 "hang_greeting: the client times out" smtp_client --timeout 2 --token "$AT" --to bob@example.test
smtpd_faults
long=$($PY -c 'print("x" * 3000)')
run_rc 1 "an inline AUTH line over 512 octets is refused" smtp_client --token "$long" --to bob@example.test
file_contains "$T/out" '500 Command line too long' "500 for the long AUTH line"
run_ok "AUTH LOGIN with the test password" smtp_client --mech LOGIN --password testpass --to bob@example.test
is "$(msg_count)" $((n + 3)) "only the unfaulted messages arrived"
is "$(smtp_stat faults_applied.greet421)" 1 "stats count applied faults"

# ---- second server: implicit TLS, Gmail-style failures
start_smtpd -n gmail --mode implicit --auth-fail-style google || bail "second smtpd did not start"
run_rc 1 "Gmail style: wrong XOAUTH2 token refused" smtp_client --token wrong --to bob@example.test
file_contains "$T/out" '^< 334 ' "Gmail style: 334 error challenge"
file_contains "$T/out" '535 5\.7\.8' "Gmail style: 535 5.7.8 after the empty line"
run_rc 1 "Gmail style: wrong OAUTHBEARER token refused" smtp_client --mech OAUTHBEARER --token wrong --to bob@example.test
is "$(smtp_stat auth_fail_ack.empty)" 1 "server saw the empty line (XOAUTH2)"
is "$(smtp_stat auth_fail_ack.AQ==)" 1 "server saw AQ== (OAUTHBEARER)"
run_ok "implicit TLS delivers with a valid token" smtp_client --token "$AT" --to bob@example.test
is "$(msg_count)" 1 "the implicit-TLS server has its own maildir"

# ---- keyrings
if start_kernel_keyring; then
	acct=$(unique_account)
	seed_token "$acct" && pass "seed_token into the kernel keyring" || fail "seed_token into the kernel keyring"
	is "$(token_record "$acct" refresh_token)" "$SEED_REFRESH" "kernel keyring holds the seeded record"
	is "$(token_record "$acct" needs_login)" false "record has needs_login false"
	keyring_del "$acct" token
	run_fails "keyring_del removes it" keyring_get "$acct" token
else
	skip "no kernel keyring" 4
fi
if start_keyring; then
	acct=$(unique_account)
	seed_token "$acct" bob@example.test && pass "seed_token into gnome-keyring" || fail "seed_token into gnome-keyring"
	is "$(token_record "$acct" access_token)" "$SEED_ACCESS" "Secret Service holds the seeded record"
	is "$(secret-tool lookup service oauthmail account "$acct" kind token | json_get refresh_token)" \
	    "$SEED_REFRESH" "secret-tool lookup finds it by service/account/kind"
else
	skip "no gnome-keyring" 3
fi
run_ok "with_keyring runs a command with an unlocked keyring" \
    with_keyring sh -c 'printf v | secret-tool store --label=x a b && secret-tool lookup a b'
is "$(cat "$T/out")" v "with_keyring: store and lookup work"

# ---- syslog capture
if start_syslog; then
	logger -u /dev/log -t oauthmail-test "hello syslog $$"
	wait_for 5 grep -q "hello syslog $$" "$SYSLOG_FILE"
	file_contains "$SYSLOG_FILE" "hello syslog $$" "syslog listener captures /dev/log"
else
	skip "/dev/log is in use by something else"
fi

# ---- config
write_config
file_contains "$CONFIG" "^port $SMTP_PORT\$" "write_config uses the running smtpd's port"
is "$(stat -c %a "$CONFIG")" 600 "config is mode 600"

done_testing
