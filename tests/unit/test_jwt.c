/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * test_jwt.c -- client assertions: signed with generated RSA and EC keys
 * and verified here with OpenSSL (RS256, PS256 with a digest-long salt,
 * ES256 as r || s); the header's thumbprints computed independently from
 * the certificate's DER; the claims; refusals (a key of another
 * certificate, an algorithm the key cannot do, a passphrase, a short RSA
 * key, an expired certificate); and federated assertion files (trimmed,
 * re-read, expired, malformed, missing, through a symbolic link).
 */
#include "unit.h"

#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "buf.h"
#include "jwt.h"
#include "status.h"
#include "util.h"

#define AUD	"https://login.example.test/tenant/oauth2/v2.0/token"
#define CLIENT	"11111111-2222-3333-4444-555555555555"

static char dir[] = "/tmp/test_jwt.XXXXXX";
static char cert_rsa[256], cert_ec[256], cert_old[256];
static EVP_PKEY *key_rsa, *key_ec, *key_rsa2;
static X509 *x_rsa;

static X509 *
make_cert(EVP_PKEY *k, long from, long days)
{
	X509 *x = X509_new();
	X509_NAME *n;

	assert_non_null(x);
	assert_int_equal(X509_set_version(x, 2), 1);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), from));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x),
	    from + days * 86400));
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)"oauthmail test", -1, -1, 0);
	assert_int_equal(X509_set_issuer_name(x, n), 1);
	assert_int_equal(X509_set_pubkey(x, k), 1);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	return x;
}

static void
write_cert(const char *path, X509 *x)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(PEM_write_X509(f, x), 1);
	assert_int_equal(fclose(f), 0);
}

/* The key as PEM text in a BUF_SECRET buffer. */
static void
key_pem(EVP_PKEY *k, struct buf *b, const EVP_CIPHER *enc)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p;
	long n;

	assert_non_null(bio);
	assert_int_equal(PEM_write_bio_PrivateKey(bio, k, enc,
	    enc ? (unsigned char *)"pass" : NULL, enc ? 4 : 0, NULL, NULL),
	    1);
	n = BIO_get_mem_data(bio, &p);
	buf_init(b, JWT_MAX_KEY, BUF_SECRET);
	assert_int_equal(buf_add(b, p, (size_t)n), 0);
	BIO_free(bio);
}

static int
setup(void **state)
{
	X509 *x;

	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	key_rsa = EVP_RSA_gen(2048);
	key_rsa2 = EVP_RSA_gen(2048);
	key_ec = EVP_EC_gen("P-256");
	if (key_rsa == NULL || key_rsa2 == NULL || key_ec == NULL)
		return -1;
	(void)snprintf(cert_rsa, sizeof(cert_rsa), "%s/rsa.pem", dir);
	(void)snprintf(cert_ec, sizeof(cert_ec), "%s/ec.pem", dir);
	(void)snprintf(cert_old, sizeof(cert_old), "%s/old.pem", dir);
	x_rsa = make_cert(key_rsa, -60, 365);
	write_cert(cert_rsa, x_rsa);
	x = make_cert(key_ec, -60, 365);
	write_cert(cert_ec, x);
	X509_free(x);
	x = make_cert(key_rsa, -3 * 86400, 1);	/* expired yesterday */
	write_cert(cert_old, x);
	X509_free(x);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[512];

	(void)state;
	EVP_PKEY_free(key_rsa);
	EVP_PKEY_free(key_rsa2);
	EVP_PKEY_free(key_ec);
	X509_free(x_rsa);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The three parts of a JWT, decoded; sig raw. */
struct parts {
	json_t		*header;
	json_t		*claims;
	struct buf	 sig;
	size_t		 signed_len;	/* header.claims */
};

static json_t *
decode_json(const char *p, size_t n)
{
	struct buf b;
	json_t *j;

	buf_init(&b, 8192, 0);
	assert_int_equal(util_b64url_decode(&b, p, n), 0);
	j = json_loadb(buf_str(&b), b.len, JSON_REJECT_DUPLICATES, NULL);
	assert_non_null(j);
	buf_free(&b);
	return j;
}

static void
split(const char *jwt, struct parts *pt)
{
	const char *d1 = strchr(jwt, '.'), *d2;

	assert_non_null(d1);
	d2 = strchr(d1 + 1, '.');
	assert_non_null(d2);
	assert_null(strchr(d2 + 1, '.'));
	pt->header = decode_json(jwt, (size_t)(d1 - jwt));
	pt->claims = decode_json(d1 + 1, (size_t)(d2 - d1 - 1));
	buf_init(&pt->sig, 1024, 0);
	assert_int_equal(util_b64url_decode(&pt->sig, d2 + 1,
	    strlen(d2 + 1)), 0);
	pt->signed_len = (size_t)(d2 - jwt);
}

static void
parts_free(struct parts *pt)
{
	json_decref(pt->header);
	json_decref(pt->claims);
	buf_free(&pt->sig);
}

static const char *
jstr(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	assert_true(json_is_string(v));
	return json_string_value(v);
}

static long long
jint(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	assert_true(json_is_integer(v));
	return json_integer_value(v);
}

/* base64url of the digest of the certificate's DER, done here. */
static void
expect_thumb(const char *got, X509 *x, const EVP_MD *md)
{
	unsigned char *der = NULL, d[EVP_MAX_MD_SIZE];
	unsigned int n;
	int len = i2d_X509(x, &der);
	struct buf b;

	assert_true(len > 0);
	assert_int_equal(EVP_Digest(der, (size_t)len, d, &n, md, NULL), 1);
	OPENSSL_free(der);
	buf_init(&b, 128, 0);
	assert_int_equal(util_b64url_encode(&b, d, n), 0);
	assert_string_equal(got, buf_str(&b));
	buf_free(&b);
}

/* Verifies the signature of jwt with k; ES256 converted back to DER. */
static int
verify(const char *jwt, const struct parts *pt, EVP_PKEY *k, const char *alg)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char *der = NULL;
	const unsigned char *sig = (const unsigned char *)pt->sig.data;
	size_t slen = pt->sig.len;
	ECDSA_SIG *es;
	int ok, dlen;

	assert_non_null(md);
	assert_int_equal(EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL,
	    k), 1);
	if (strcmp(alg, "PS256") == 0) {
		assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx,
		    RSA_PKCS1_PSS_PADDING), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32),
		    1);
	}
	if (strcmp(alg, "ES256") == 0) {
		assert_int_equal(slen, 64);
		es = ECDSA_SIG_new();
		assert_int_equal(ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL),
		    BN_bin2bn(sig + 32, 32, NULL)), 1);
		dlen = i2d_ECDSA_SIG(es, &der);
		ECDSA_SIG_free(es);
		assert_true(dlen > 0);
		sig = der;
		slen = (size_t)dlen;
	}
	ok = EVP_DigestVerify(md, sig, slen, (const unsigned char *)jwt,
	    pt->signed_len) == 1;
	OPENSSL_free(der);
	EVP_MD_CTX_free(md);
	return ok;
}

static void
sign_ok(const char *cert, EVP_PKEY *k, const char *want, const char *alg,
    struct buf *out, struct parts *pt, time_t now)
{
	struct buf key;
	struct err err;

	key_pem(k, &key, NULL);
	buf_init(out, JWT_MAX_ASSERTION, BUF_SECRET);
	err_clear(&err);
	if (jwt_sign_assertion(cert, key.data, key.len, want, CLIENT, AUD,
	    now, out, &err) != 0)
		fail_msg("jwt_sign_assertion: %s", err.msg);
	buf_free(&key);
	split(out->data, pt);
	assert_string_equal(jstr(pt->header, "alg"), alg);
	assert_true(verify(out->data, pt, k, alg));
}

static void
test_rs256(void **state)
{
	struct buf out;
	struct parts pt;
	time_t now = time(NULL);
	const char *jti;

	(void)state;
	sign_ok(cert_rsa, key_rsa, NULL, "RS256", &out, &pt, now);
	assert_string_equal(jstr(pt.header, "typ"), "JWT");
	expect_thumb(jstr(pt.header, "x5t#S256"), x_rsa, EVP_sha256());
	expect_thumb(jstr(pt.header, "x5t"), x_rsa, EVP_sha1());
	assert_string_equal(jstr(pt.claims, "aud"), AUD);
	assert_string_equal(jstr(pt.claims, "iss"), CLIENT);
	assert_string_equal(jstr(pt.claims, "sub"), CLIENT);
	jti = jstr(pt.claims, "jti");
	assert_true(strlen(jti) >= 22);		/* 16 bytes, base64url */
	assert_int_equal(strspn(jti, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij"
	    "klmnopqrstuvwxyz0123456789-_"), strlen(jti));
	assert_int_equal(jint(pt.claims, "iat"), (long long)now);
	assert_int_equal(jint(pt.claims, "nbf"), (long long)now);
	assert_int_equal(jint(pt.claims, "exp"), (long long)now + 300);
	/* A changed byte no longer verifies. */
	out.data[pt.signed_len - 3] ^= 1;
	assert_false(verify(out.data, &pt, key_rsa, "RS256"));
	/* Not this key's. */
	out.data[pt.signed_len - 3] ^= 1;
	assert_false(verify(out.data, &pt, key_rsa2, "RS256"));
	parts_free(&pt);
	buf_free(&out);
}

static void
test_ps256_es256(void **state)
{
	struct buf out;
	struct parts pt;

	(void)state;
	sign_ok(cert_rsa, key_rsa, "ps256", "PS256", &out, &pt, time(NULL));
	/* PSS is not PKCS #1 v1.5. */
	assert_false(verify(out.data, &pt, key_rsa, "RS256"));
	parts_free(&pt);
	buf_free(&out);
	sign_ok(cert_ec, key_ec, NULL, "ES256", &out, &pt, time(NULL));
	parts_free(&pt);
	buf_free(&out);
	sign_ok(cert_ec, key_ec, "ES256", "ES256", &out, &pt, time(NULL));
	parts_free(&pt);
	buf_free(&out);
}

static void
test_jti_unique(void **state)
{
	struct buf a, b;
	struct parts pa, pb;
	time_t now = time(NULL);

	(void)state;
	sign_ok(cert_rsa, key_rsa, NULL, "RS256", &a, &pa, now);
	sign_ok(cert_rsa, key_rsa, NULL, "RS256", &b, &pb, now);
	assert_string_not_equal(jstr(pa.claims, "jti"),
	    jstr(pb.claims, "jti"));
	parts_free(&pa);
	parts_free(&pb);
	buf_free(&a);
	buf_free(&b);
}

static void
expect_refusal(const char *cert, EVP_PKEY *k, const EVP_CIPHER *enc,
    const char *alg, time_t now, const char *msg)
{
	struct buf key, out;
	struct err err;

	key_pem(k, &key, enc);
	buf_init(&out, JWT_MAX_ASSERTION, BUF_SECRET);
	err_clear(&err);
	assert_int_equal(jwt_sign_assertion(cert, key.data, key.len, alg,
	    CLIENT, AUD, now, &out, &err), -1);
	assert_int_equal(err.class, ERR_CONFIG);
	if (strstr(err.msg, msg) == NULL)
		fail_msg("'%s' lacks '%s'", err.msg, msg);
	assert_int_equal(out.len, 0);
	buf_free(&out);
	buf_free(&key);
}

static void
test_refusals(void **state)
{
	EVP_PKEY *small;
	struct buf key;
	struct err err;
	char missing[300];

	(void)state;
	expect_refusal(cert_rsa, key_rsa2, NULL, NULL, time(NULL),
	    "does not belong to the certificate");
	expect_refusal(cert_rsa, key_rsa, NULL, "ES256", time(NULL),
	    "does not fit the RSA private key");
	expect_refusal(cert_ec, key_ec, NULL, "RS256", time(NULL),
	    "does not fit the EC private key");
	expect_refusal(cert_rsa, key_rsa, NULL, "HS256", time(NULL),
	    "not supported");
	expect_refusal(cert_rsa, key_rsa, EVP_aes_256_cbc(), NULL, time(NULL),
	    "unencrypted PEM private key");
	expect_refusal(cert_old, key_rsa, NULL, NULL, time(NULL),
	    "has expired");
	expect_refusal(dir, key_rsa, NULL, NULL, time(NULL),
	    "not a PEM certificate file");
	(void)snprintf(missing, sizeof(missing), "%s/none.pem", dir);
	expect_refusal(missing, key_rsa, NULL, NULL, time(NULL),
	    "fix the path");
	small = EVP_RSA_gen(1024);
	assert_non_null(small);
	expect_refusal(cert_rsa, small, NULL, NULL, time(NULL),
	    "fewer than 2048 bits");
	EVP_PKEY_free(small);
	/* The certificate given as the key, and the key as certificate. */
	buf_init(&key, JWT_MAX_KEY, BUF_SECRET);
	assert_int_equal(buf_adds(&key, "-----BEGIN CERTIFICATE-----\nAA\n"
	    "-----END CERTIFICATE-----\n"), 0);
	err_clear(&err);
	assert_int_equal(jwt_check_key(cert_rsa, key.data, key.len, &err), -1);
	assert_non_null(strstr(err.msg, "not an unencrypted PEM private key"));
	buf_free(&key);
	key_pem(key_rsa, &key, NULL);
	assert_int_equal(jwt_check_key(cert_rsa, key.data, key.len, &err), 0);
	buf_free(&key);
	assert_true(jwt_alg_valid("rs256") && jwt_alg_valid("ES256") &&
	    !jwt_alg_valid("none") && !jwt_alg_valid("HS256"));
}

/* A JWT whose claims are {"exp":exp,"sub":"system:serviceaccount:x"}. */
static void
write_assertion(const char *path, long long exp, const char *around)
{
	struct buf b, c;
	char claims[128];
	FILE *f;

	(void)snprintf(claims, sizeof(claims), "{\"exp\":%lld,\"sub\":"
	    "\"system:serviceaccount:x\"}", exp);
	buf_init(&b, 4096, 0);
	buf_init(&c, 4096, 0);
	assert_int_equal(util_b64url_encode(&b, "{\"alg\":\"RS256\"}", 15), 0);
	assert_int_equal(util_b64url_encode(&c, claims, strlen(claims)), 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "%s%s.%s.c2lnbmF0dXJl%s", around, buf_str(&b),
	    buf_str(&c), around);
	assert_int_equal(fclose(f), 0);
	buf_free(&b);
	buf_free(&c);
}

static int
read_assertion(const char *path, time_t now, struct buf *out,
    struct err *err)
{
	buf_reset(out);
	err_clear(err);
	return jwt_read_assertion(path, now, out, err);
}

static void
test_assertion_file(void **state)
{
	char path[300], link[300];
	struct buf out;
	struct err err;
	time_t now = time(NULL);
	FILE *f;

	(void)state;
	(void)snprintf(path, sizeof(path), "%s/token", dir);
	(void)snprintf(link, sizeof(link), "%s/token-link", dir);
	buf_init(&out, JWT_MAX_ASSERTION, BUF_SECRET);
	write_assertion(path, (long long)now + 3600, "\n ");
	assert_int_equal(read_assertion(path, now, &out, &err), 0);
	assert_int_equal(strncmp(out.data, "eyJ", 3), 0);	/* trimmed */
	assert_non_null(strstr(out.data, ".c2lnbmF0dXJl"));
	assert_int_equal(out.data[out.len - 1], 'l');
	/* Rotated: the next read has the new content. */
	write_assertion(path, (long long)now + 7200, "");
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(read_assertion(link, now, &out, &err), 0);
	assert_int_equal(read_assertion(path, now + 3601, &out, &err), 0);
	/* Expired. */
	assert_int_equal(read_assertion(path, now + 7200, &out, &err), -1);
	assert_int_equal(err.class, ERR_TEMP);
	assert_non_null(strstr(err.msg, "expired"));
	assert_non_null(strstr(err.msg, path));
	assert_int_equal(out.len, 0);
	/* Missing: may come back. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(read_assertion(path, now, &out, &err), -1);
	assert_int_equal(err.class, ERR_TEMP);
	/* Not a JWT; never quoted. */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("SECRET-not-a-jwt", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(read_assertion(path, now, &out, &err), -1);
	assert_int_equal(err.class, ERR_CONFIG);
	assert_null(strstr(err.msg, "SECRET"));
	/* No exp. */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(read_assertion(path, now, &out, &err), -1);
	assert_non_null(strstr(err.msg, "no \"exp\""));
	/* Writable by others. */
	write_assertion(path, (long long)now + 3600, "");
	assert_int_equal(chmod(path, 0666), 0);
	assert_int_equal(read_assertion(path, now, &out, &err), -1);
	assert_non_null(strstr(err.msg, "writable by others"));
	/* Empty. */
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(read_assertion(path, now, &out, &err), -1);
	assert_non_null(strstr(err.msg, "empty"));
	buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rs256),
		cmocka_unit_test(test_ps256_es256),
		cmocka_unit_test(test_jti_unique),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_assertion_file),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
