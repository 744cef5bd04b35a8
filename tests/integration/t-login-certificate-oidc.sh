#!/bin/sh
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# t-login-certificate-oidc.sh -- certificate sign-in against a real
# authorization server implementation (oidc-provider,
# tests/integration/oidc/server.mjs): the client jwt-client authenticates
# with private_key_jwt, its JWKS the public key of the certificate. The
# provider verifies oauthmail's assertions (signature, aud, exp, and jti
# replay detection, so a second grant proves a fresh assertion) for
# RS256, PS256 and ES256, and refuses a key it does not know. Skipped when
# node/npm are missing or the install fails.
. "$top_srcdir/tests/integration/lib.sh"
need_oauthmail
. "$top_srcdir/tests/integration/lib-oidc.sh"
command -v openssl >/dev/null || skip_all "no openssl command"
start_kernel_keyring || start_keyring || skip_all "no keyring available"
C=$T/certs
mkdir -m 700 "$C"
for n in app other; do
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$n" \
	    -keyout "$C/$n.key" -out "$C/$n.pem" >/dev/null 2>&1 || bail "openssl req"
done
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -days 2 -subj /CN=ec -keyout "$C/ec.key" -out "$C/ec.pem" \
    >/dev/null 2>&1 || bail "openssl req ec"
start_oidc --client-cert "$C/app.pem"

cfg() {	# ACCOUNT CERT [LINE...]
	_a=$1 _c=$2; shift 2
	write_config "$_a" "token_endpoint $U/token" "client_id jwt-client" \
	    "flow client_credentials" "client_certificate $_c" "$@"
}
cfg "" "$C/app.pem"
A=$ACCOUNT
at_exit "keyring_del $A token; keyring_del $A client_key"
run_ok "secret --key" om secret "$A" --key "$C/app.key"
g0=$(grants)
run_ok "a token with a signed assertion (RS256)" om token "$A"
is "$(introspect "$(cat "$T/out")")" true "the provider says the token is active"
is "$(grants)" $((g0 + 1)) "one grant"
keyring_del "$A" token
run_ok "a second token: a fresh assertion (the provider refuses a replayed jti)" om token "$A"
is "$(grants)" $((g0 + 2)) "two grants"

cfg "$A" "$C/app.pem" "client_assertion_alg PS256"
keyring_del "$A" token
run_ok "PS256" om token "$A"
is "$(introspect "$(cat "$T/out")")" true "the PS256-signed grant's token is active"

# The certificate's key is not the client's: the provider refuses it.
cfg "$A" "$C/other.pem"
keyring_del "$A" token
run_ok "another certificate's key is stored" om secret "$A" --key "$C/other.key"
run_rc 78 "the provider refuses its assertion: exit 78" om token "$A"
like "$(cat "$T/err")" "refused the client assertion \(invalid_client" \
    "saying the assertion was refused"

# ES256: a provider started with the EC certificate.
start_oidc --client-cert "$C/ec.pem"
cfg "$A" "$C/ec.pem"
keyring_del "$A" token
run_ok "an EC key is stored" om secret "$A" --key "$C/ec.key"
run_ok "ES256" om token "$A"
is "$(introspect "$(cat "$T/out")")" true "the ES256-signed grant's token is active"
done_testing
