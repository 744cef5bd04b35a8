#!/bin/sh
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# gen-certs.sh DIR — make a throwaway test PKI for the integration tests.
#
# Writes into DIR (created, mode 700):
#   ca.pem ca.key                 test CA ("oauthmail test CA")
#   server.pem server.key         leaf for 127.0.0.1 / localhost, signed by the CA
#                                 (SAN IP:127.0.0.1, IP:::1, DNS:localhost)
#   server-chain.pem              server.pem + ca.pem
#   expired.pem expired.key       signed by the CA, right names, expired in 2020
#   wronghost.pem wronghost.key   signed by the CA, SAN DNS:other.example only
#   selfsigned.pem selfsigned.key self-signed, right names, not from the CA
#   other-ca.pem                  an unrelated CA (to test a wrong trust file)
# Keys are RSA 2048, certificates SHA-256. Idempotent: an existing complete
# set in DIR is kept. Exits 0 on success.
set -eu
dir=${1:?usage: gen-certs.sh DIR}
mkdir -p "$dir"
chmod 700 "$dir"
# (A cached set whose server certificate expires within a week is remade.)
# Parallel tests share one cache: one of them makes it, the others wait
# for it (the lock is held by the generator below until it exits).
if command -v flock >/dev/null 2>&1; then
	exec 9>"$dir/.lock"
	flock 9
fi
if [ -s "$dir/server.pem" ] && [ -s "$dir/selfsigned.key" ] && [ -s "$dir/other-ca.pem" ] &&
    openssl x509 -checkend 604800 -noout -in "$dir/server.pem" >/dev/null 2>&1; then
	exit 0
fi
exec /usr/bin/python3 - "$dir" <<'PY'
import datetime, ipaddress, os, sys
from cryptography import x509
from cryptography.x509.oid import NameOID, ExtendedKeyUsageOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

d = sys.argv[1]
now = datetime.datetime.now(datetime.timezone.utc)
day = datetime.timedelta(days=1)

def key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)

def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "oauthmail tests"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])

def write(base, k, cert):
    kp = os.path.join(d, base + ".key")
    fd = os.open(kp + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(k.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()))
    os.replace(kp + ".tmp", kp)
    cp = os.path.join(d, base + ".pem")
    with open(cp + ".tmp", "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    os.replace(cp + ".tmp", cp)

def ca(cn):
    k = key()
    c = (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(name(cn))
         .public_key(k.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now - day).not_valid_after(now + 3650 * day)
         .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
         .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                      content_commitment=False, key_encipherment=False,
                                      data_encipherment=False, key_agreement=False,
                                      encipher_only=False, decipher_only=False), critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(k.public_key()), critical=False)
         .sign(k, hashes.SHA256()))
    return k, c

def leaf(cn, sans, issuer_key, issuer_cert, nb, na):
    k = key()
    b = (x509.CertificateBuilder().subject_name(name(cn))
         .issuer_name(issuer_cert.subject if issuer_cert is not None else name(cn))
         .public_key(k.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(nb).not_valid_after(na)
         .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
         .add_extension(x509.SubjectAlternativeName(sans), critical=False)
         .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False))
    if issuer_cert is not None:
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            issuer_key.public_key()), critical=False)
    c = b.sign(issuer_key if issuer_key is not None else k, hashes.SHA256())
    return k, c

good = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")), x509.DNSName("localhost")]
cak, cac = ca("oauthmail test CA")
write("ca", cak, cac)
k, c = leaf("localhost", good, cak, cac, now - day, now + 30 * day)
write("server", k, c)
with open(os.path.join(d, "server-chain.pem"), "wb") as f:
    f.write(c.public_bytes(serialization.Encoding.PEM) + cac.public_bytes(serialization.Encoding.PEM))
old = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
k, c = leaf("localhost", good, cak, cac, old, old + 30 * day)
write("expired", k, c)
k, c = leaf("other.example", [x509.DNSName("other.example")], cak, cac, now - day, now + 30 * day)
write("wronghost", k, c)
k, c = leaf("localhost", good, None, None, now - day, now + 30 * day)
write("selfsigned", k, c)
ok, oc = ca("unrelated test CA")
write("other-ca", ok, oc)
PY
