#!/bin/sh
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# t-login-certificate.sh -- app-only sign-in without a secret. With
# client_certificate the application signs a client assertion (RFC 7523,
# private_key_jwt) with its private key, which `oauthmail secret ACCOUNT
# --key FILE` checks against the certificate and stores in the keyring, or
# which the systemd credential key.ACCOUNT supplies (it wins). The OAuth
# test server verifies each assertion against the registered certificate
# (x5t#S256, signature, aud, iss = sub, exp, a jti never used before):
# login, a send that needs a new token, RS256 / PS256 / ES256; a
# certificate the application does not have is refused. With
# client_assertion_file (workload identity) the file is re-read for every
# grant: after a rotation the next grant carries the new token; an expired
# one is refused naming the file, never showing it.
. "$top_srcdir/tests/integration/lib.sh"
need_oauthmail
command -v openssl >/dev/null || skip_all "no openssl command"
start_kernel_keyring || start_keyring || skip_all "no keyring available"
C=$T/certs
mkdir -m 700 "$C"
mkcert() {	# NAME [openssl -newkey argument]
	openssl req -x509 -newkey "${2:-rsa:2048}" -nodes -days 2 \
	    -subj "/CN=oauthmail test $1" -keyout "$C/$1.key" \
	    -out "$C/$1.pem" >/dev/null 2>&1 || bail "openssl req $1"
}
mkcert app
mkcert other
mkcert idp
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -days 2 -subj "/CN=oauthmail test ec" -keyout "$C/ec.key" \
    -out "$C/ec.pem" >/dev/null 2>&1 || bail "openssl req ec"
start_oauth --client-cert "cert-client=$C/app.pem" \
    --client-cert "ec-client=$C/ec.pem" \
    --federated "fed-client=$C/idp.pem" || bail "oauth server did not start"
start_smtpd || bail "smtpd did not start"
CC="flow client_credentials"
SC="scope https://outlook.office365.com/.default"
write_config "" "client_id cert-client" "$CC" "$SC" \
    "client_certificate $C/app.pem"
A=$ACCOUNT
at_exit "keyring_del $A token; keyring_del $A client_key"

# ------------------------------------------------ the key, stored ----
run_rc 78 "without a private key, login exits 78" om login "$A"
like "$(cat "$T/err")" "oauthmail secret $A --key" "and says to store one with --key"
is "$(oauth_stat counts.token_requests)" 0 "nothing was asked of the token endpoint"
run_rc 64 "a plain 'secret' for a certificate account exits 64" om secret "$A" </dev/null
like "$(cat "$T/err")" "\-\-key KEY.pem" "and points at --key"
run_rc 78 "a key of another certificate is refused" om secret "$A" --key "$C/other.key"
like "$(cat "$T/err")" "does not belong to the certificate" "saying it does not belong to it"
keyring_get "$A" client_key >/dev/null
is "$?" 1 "and nothing is stored"
run_rc 78 "the certificate given as the key is refused" om secret "$A" --key "$C/app.pem"
cp "$C/app.key" "$T/import.key"
run_ok "secret --key stores the matching key" om secret "$A" --key "$T/import.key"
like "$(cat "$T/err")" "may now be deleted" "and says the file may be deleted"
rm -f "$T/import.key"
like "$(keyring_get "$A" client_key)" "BEGIN PRIVATE KEY" "the keyring holds the PEM key"
om status "$A" >"$T/out" 2>&1
like "$(cat "$T/out")" "private key +in the .* keyring" "status says where the key is"

# --------------------------------------------------------- sign-in ----
run_ok "login signs an assertion instead of sending a secret" om login "$A"
like "$(cat "$T/err")" "signed in as application cert-client" "it names the application"
is "$(oauth_stat counts.assertion_ok)" 1 "the server verified one assertion"
is "$(oauth_stat counts.client_credentials_ok)" 1 "and granted a token"
is "$(oauth_stat counts.last_assertion_alg)" RS256 "RS256 by default"
isnt "$(token_record "$A" access_token)" "" "the access token is stored"
jti1=$(oauth_stat counts.last_assertion_jti)

# A replay of that assertion is refused by the server: each grant needs
# a fresh one.
last=$(oauth_ctl GET /_control/stats | json_get last_assertion)
code=$(curl -sS -o "$T/replay" -w '%{http_code}' --cacert "$CERTS/ca.pem" \
    --data-urlencode grant_type=client_credentials \
    --data-urlencode client_id=cert-client \
    --data-urlencode "client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer" \
    --data-urlencode "client_assertion=$last" "$OAUTH_TOKEN_URL")
is "$code" 401 "the server refuses a replayed assertion"
like "$(cat "$T/replay")" "replay" "as a replay"

# A send that needs a new token: the token module signs a new assertion.
keyring_del "$A" token
n0=$(msg_count)
run_ok "a send without a token gets one with a new assertion" send_msg bob@example.test
wait_msgs $((n0 + 1)) || fail "the message did not arrive"
is "$(oauth_stat counts.assertion_ok)" 2 "a second assertion was verified"
isnt "$(oauth_stat counts.last_assertion_jti)" "$jti1" "with another jti"

# A clock far off: the provider says the assertion is outside its time.
oauth_config clock_skew=900
keyring_del "$A" token
run_rc 78 "an assertion from a host whose clock is 15 min behind: exit 78" om token "$A"
like "$(cat "$T/err")" "clock is probably wrong" "the error points at the clock"
oauth_config clock_skew=0

# PS256 on request.
write_config "$A" "client_id cert-client" "$CC" "$SC" \
    "client_certificate $C/app.pem" "client_assertion_alg PS256"
keyring_del "$A" token
run_ok "client_assertion_alg PS256: login" om login "$A"
is "$(oauth_stat counts.last_assertion_alg)" PS256 "the assertion is PS256"

# ------------------------------------------ the systemd credential ----
CRED=$T/credentials
mkdir -m 700 "$CRED"
cp "$C/other.key" "$CRED/key.$A"
chmod 400 "$CRED/key.$A"
keyring_del "$A" token
run_rc 78 "a wrong key.ACCOUNT credential wins over the keyring's key" \
    env CREDENTIALS_DIRECTORY="$CRED" "$OAUTHMAIL" login -C "$CONFIG" "$A"
like "$(cat "$T/err")" "does not belong" "and is the one refused"
keyring_del "$A" client_key
rm -f "$CRED/key.$A"
cp "$C/app.key" "$CRED/key.$A"
chmod 400 "$CRED/key.$A"
run_ok "the key from the credential alone, the keyring without it" \
    env CREDENTIALS_DIRECTORY="$CRED" "$OAUTHMAIL" token -C "$CONFIG" "$A"
is "$(oauth_stat counts.assertion_ok)" 4 "signed with the credential's key"
keyring_get "$A" client_key >/dev/null
is "$?" 1 "the credential is not copied into the keyring"
run_ok "secret --key --systemd-credential prints the commands" \
    om secret "$A" --key "$C/app.key" --systemd-credential
like "$(cat "$T/out")" "systemd-creds encrypt --name=key.$A" "for the credential key.$A"
like "$(cat "$T/out")" "LoadCredentialEncrypted=key.$A:" "and the unit's drop-in"

# --------------------------------------------- other keys, refusals ----
write_config "ec$$" "client_id ec-client" "$CC" "$SC" \
    "client_certificate $C/ec.pem"
at_exit "keyring_del ec$$ token; keyring_del ec$$ client_key"
run_ok "an EC P-256 key is stored" om secret "ec$$" --key "$C/ec.key"
run_ok "and signs in" om login "ec$$"
is "$(oauth_stat counts.last_assertion_alg)" ES256 "with ES256"

write_config "un$$" "client_id cert-client" "$CC" "$SC" \
    "client_certificate $C/other.pem"
at_exit "keyring_del un$$ token; keyring_del un$$ client_key"
run_ok "the key of an unregistered certificate is stored" \
    om secret "un$$" --key "$C/other.key"
n=$(oauth_stat counts.assertion_rejected)
run_rc 78 "the provider refuses the unregistered certificate: exit 78" om login "un$$"
like "$(cat "$T/err")" "AADSTS700027" "with the provider's reason"
like "$(cat "$T/err")" "check that $C/other.pem is a certificate of application cert-client" \
    "and what to check"
is "$(oauth_stat counts.assertion_rejected)" $((n + 1)) "the server refused the assertion"

# ----------------------------------------- federated assertion file ----
fed_jwt() {	# SUBJECT SECONDS-TO-LIVE: a token of another issuer
	$PY - "$C/idp.key" "$1" "$2" <<'EOF'
import base64, json, sys, time
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
k = serialization.load_pem_private_key(open(sys.argv[1], "rb").read(), None)
e = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
now = int(time.time())
h = e(json.dumps({"alg": "RS256", "typ": "JWT", "kid": "k1"}).encode())
c = e(json.dumps({"iss": "https://oidc.example.test/cluster", "sub": sys.argv[2],
                  "aud": "api://AzureADTokenExchange", "iat": now - 10,
                  "nbf": now - 10, "exp": now + int(sys.argv[3])}).encode())
s = e(k.sign((h + "." + c).encode(), padding.PKCS1v15(), hashes.SHA256()))
print(h + "." + c + "." + s)
EOF
}
rotate() {	# what a kubelet does: a new file renamed over the old one
	fed_jwt "$1" "$2" >"$T/fed.new" && mv "$T/fed.new" "$T/fed.jwt"
}
rotate system:serviceaccount:mail:relay-1 3600
write_config "fed$$" "client_id fed-client" "$CC" "$SC" \
    "client_assertion_file $T/fed.jwt"
F=$ACCOUNT
at_exit "keyring_del $F token"
run_ok "client_assertion_file: login with the federated token" om login "$F"
is "$(oauth_stat counts.last_assertion_sub)" system:serviceaccount:mail:relay-1 \
    "the server saw the file's token"
rotate system:serviceaccount:mail:relay-2 3600
keyring_del "$F" token
n0=$(msg_count)
run_ok "after a rotation, a send needing a token" send_msg bob@example.test
wait_msgs $((n0 + 1)) || fail "the message did not arrive"
is "$(oauth_stat counts.last_assertion_sub)" system:serviceaccount:mail:relay-2 \
    "the second grant carries the new content"
rotate system:serviceaccount:mail:relay-3 -60
keyring_del "$F" token
n=$(oauth_stat counts.token_requests)
run_rc 75 "an expired assertion file: token exits 75" om token "$F"
like "$(cat "$T/err")" "client_assertion_file $T/fed.jwt expired" "naming the file"
unlike "$(cat "$T/err")" "$(cut -c1-20 "$T/fed.jwt")" "never showing the token"
is "$(oauth_stat counts.token_requests)" "$n" "and nothing is sent to the provider"
rm -f "$T/fed.jwt"
run_rc 75 "a missing assertion file: exit 75" om token "$F"
om status "$F" >"$T/out" 2>&1
like "$(cat "$T/out")" "assertion file +client_assertion_file $T/fed.jwt: No such file" \
    "status says the assertion file is missing"
printf 'account x\nhost h\nfrom a@b.c\nprovider custom\ntoken_endpoint https://h/t\nclient_id c\nclient_assertion_file /t\n' >"$T/bad.conf"
chmod 600 "$T/bad.conf"
run_rc 78 "client_assertion_file without flow client_credentials: exit 78" \
    "$OAUTHMAIL" status -C "$T/bad.conf"
like "$(cat "$T/err")" "add 'flow client_credentials'" "saying what to add"

done_testing
