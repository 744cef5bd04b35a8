/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * seal.c -- the sealed token copy (AES-256-GCM, crypto.h); see seal.h.
 */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "crypto.h"
#include "seal.h"
#include "status.h"
#include "util.h"
#include "xmalloc.h"

int
seal_key_parse(const char *data, size_t len, unsigned char key[SEAL_KEY_LEN],
    struct err *err)
{
	size_t i;
	int hi, lo;

	if (len == SEAL_KEY_LEN) {
		memcpy(key, data, SEAL_KEY_LEN);
		return 0;
	}
	if (len == SEAL_KEY_LEN * 2 + 1 && data[len - 1] == '\n')
		len--;
	if (len == SEAL_KEY_LEN * 2) {
		for (i = 0; i < SEAL_KEY_LEN; i++) {
			hi = util_hexval((unsigned char)data[2 * i]);
			lo = util_hexval((unsigned char)data[2 * i + 1]);
			if (hi == -1 || lo == -1)
				break;
			key[i] = (unsigned char)(hi << 4 | lo);
		}
		if (i == SEAL_KEY_LEN)
			return 0;
		explicit_bzero(key, SEAL_KEY_LEN);
	}
	return err_set(err, ERR_CONFIG, "the token-key credential must hold "
	    "32 random bytes (or 64 hex digits), not %zu bytes: create it "
	    "as 'oauthmail secret --seal-key' shows", len);
}

/*
 * The additional authenticated data: magic, account name and, when
 * given, the identity the record belongs to (store.h), so that a copy
 * made for another client_id or user does not open.
 */
static void
seal_aad(struct crypto_aad *aad, const char *account, const char *bind)
{
	aad->p[0] = SEAL_MAGIC;
	aad->len[0] = SEAL_MAGIC_LEN;
	aad->p[1] = account;
	aad->len[1] = strlen(account);
	aad->n = 2;
	if (bind != NULL) {
		aad->p[2] = "\n";
		aad->len[2] = 1;
		aad->p[3] = bind;
		aad->len[3] = strlen(bind);
		aad->n = 4;
	}
}

static int	seal_encrypt_bound(const unsigned char *, const char *,
		    const char *, const void *, size_t, struct buf *,
		    struct err *);
static int	seal_decrypt_bound(const unsigned char *, const char *,
		    const char *, const void *, size_t, struct buf *,
		    struct err *);

int
seal_encrypt(const unsigned char key[SEAL_KEY_LEN], const char *account,
    const void *pt, size_t len, struct buf *out, struct err *err)
{
	return seal_encrypt_bound(key, account, NULL, pt, len, out, err);
}

int
seal_decrypt(const unsigned char key[SEAL_KEY_LEN], const char *account,
    const void *blob, size_t len, struct buf *out, struct err *err)
{
	return seal_decrypt_bound(key, account, NULL, blob, len, out, err);
}

static int
seal_encrypt_bound(const unsigned char *key, const char *account,
    const char *bind, const void *pt, size_t len, struct buf *out,
    struct err *err)
{
	unsigned char nonce[SEAL_NONCE_LEN], tag[SEAL_TAG_LEN], *ct;
	struct crypto_aad aad;
	int rc = -1;

	if (len == 0 || len > SEAL_MAX_PLAIN)
		return err_set(err, ERR_DATA, "a record of %zu bytes cannot be "
		    "sealed", len);
	if (util_random_bytes(nonce, sizeof(nonce)) == -1)
		return err_set(err, ERR_OS, "no random bytes for a nonce");
	seal_aad(&aad, account, bind);
	ct = xmalloc(len);
	if (crypto_gcm_seal(key, nonce, &aad, pt, len, ct, tag) == -1) {
		err_set(err, ERR_OS, "AES-256-GCM encryption failed");
		goto out;
	}
	buf_reset(out);
	if (buf_add(out, SEAL_MAGIC, SEAL_MAGIC_LEN) == -1 ||
	    buf_add(out, nonce, sizeof(nonce)) == -1 ||
	    buf_add(out, ct, len) == -1 ||
	    buf_add(out, tag, sizeof(tag)) == -1) {
		err_set(err, ERR_DATA, "sealed record too large");
		goto out;
	}
	rc = 0;
 out:
	freezero(ct, len);
	return rc;
}

static int
seal_decrypt_bound(const unsigned char *key, const char *account,
    const char *bind, const void *blob, size_t len, struct buf *out,
    struct err *err)
{
	const unsigned char *p = blob, *nonce, *ct, *tag;
	struct crypto_aad aad;
	unsigned char *pt;
	size_t ctlen;
	int rc = -1;

	buf_reset(out);
	if (len < SEAL_OVERHEAD || len > SEAL_MAX_PLAIN + SEAL_OVERHEAD ||
	    memcmp(p, SEAL_MAGIC, SEAL_MAGIC_LEN) != 0)
		return err_set(err, ERR_DATA, "not a sealed token record");
	nonce = p + SEAL_MAGIC_LEN;
	ct = nonce + SEAL_NONCE_LEN;
	ctlen = len - SEAL_OVERHEAD;
	tag = ct + ctlen;
	if (ctlen == 0)
		return err_set(err, ERR_DATA, "an empty sealed token record");
	seal_aad(&aad, account, bind);
	pt = xmalloc(ctlen);
	if (crypto_gcm_open(key, nonce, &aad, ct, ctlen, tag, pt) == -1) {
		err_set(err, ERR_DATA, "the sealed token record does not "
		    "open with this key for account %s (another key, another "
		    "account's file, another client_id or user, or altered)",
		    account);
		goto out;
	}
	if (buf_add(out, pt, ctlen) == -1) {
		err_set(err, ERR_DATA, "sealed token record too large");
		goto out;
	}
	rc = 0;
 out:
	freezero(pt, ctlen);
	return rc;
}

int
seal_file_name(char *dst, size_t size, const char *account)
{
	int n;

	if (*account == '\0' || strchr(account, '/') != NULL)
		return -1;
	n = snprintf(dst, size, "token-%s.sealed", account);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

int
seal_read(int dirfd, const unsigned char key[SEAL_KEY_LEN],
    const char *account, const char *bind, struct buf *out, struct err *err)
{
	char name[512], chunk[4096];
	struct buf blob;
	struct stat sb;
	ssize_t n;
	int fd, rc = -1;

	if (seal_file_name(name, sizeof(name), account) == -1)
		return err_set(err, ERR_CONFIG, "account name unusable for a "
		    "file name");
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOENT)
			return 1;
		return err_set(err, ERR_TEMP, "sealed token copy %s: %s", name,
		    strerror(errno));
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    sb.st_uid != geteuid()) {
		(void)close(fd);
		return err_set(err, ERR_DATA, "sealed token copy %s is not a "
		    "regular file of uid %lu", name, (unsigned long)geteuid());
	}
	buf_init(&blob, SEAL_MAX_PLAIN + SEAL_OVERHEAD, 0);
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			err_set(err, ERR_TEMP, "reading %s: %s", name,
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (buf_add(&blob, chunk, (size_t)n) == -1) {
			err_set(err, ERR_DATA, "sealed token copy %s is too "
			    "large", name);
			goto out;
		}
	}
	rc = seal_decrypt_bound(key, account, bind, blob.data, blob.len, out,
	    err);
 out:
	buf_free(&blob);
	(void)close(fd);
	return rc;
}

int
seal_write(int dirfd, const unsigned char key[SEAL_KEY_LEN],
    const char *account, const char *bind, const void *pt, size_t len,
    struct err *err)
{
	char name[512], tmp[600], rnd[17];
	struct buf blob;
	int fd, n;

	if (seal_file_name(name, sizeof(name), account) == -1)
		return err_set(err, ERR_CONFIG, "account name unusable for a "
		    "file name");
	if (util_random_hex(rnd, 8) == -1)
		return err_set(err, ERR_OS, "no random bytes");
	n = snprintf(tmp, sizeof(tmp), ".%s.%s", name, rnd);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return err_set(err, ERR_CONFIG, "account name too long");
	buf_init(&blob, SEAL_MAX_PLAIN + SEAL_OVERHEAD, 0);
	if (seal_encrypt_bound(key, account, bind, pt, len, &blob, err) ==
	    -1) {
		buf_free(&blob);
		return -1;
	}
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd == -1) {
		err_set(err, ERR_IO, "cannot create %s: %s", tmp,
		    strerror(errno));
		buf_free(&blob);
		return -1;
	}
	if (util_write_all(fd, blob.data, blob.len) == -1 || fsync(fd) == -1) {
		err_set(err, ERR_IO, "cannot write %s: %s", tmp,
		    strerror(errno));
		goto fail;
	}
	if (close(fd) == -1) {
		fd = -1;
		err_set(err, ERR_IO, "cannot write %s: %s", tmp,
		    strerror(errno));
		goto fail;
	}
	fd = -1;
	if (renameat(dirfd, tmp, dirfd, name) == -1) {
		err_set(err, ERR_IO, "cannot rename %s to %s: %s", tmp, name,
		    strerror(errno));
		goto fail;
	}
	buf_free(&blob);
	if (fsync(dirfd) == -1)
		return err_set(err, ERR_IO, "fsync of the directory of %s: %s",
		    name, strerror(errno));
	return 0;
 fail:
	if (fd != -1)
		(void)close(fd);
	(void)unlinkat(dirfd, tmp, 0);
	buf_free(&blob);
	return -1;
}

int
seal_remove(int dirfd, const char *account, struct err *err)
{
	char name[512];

	if (seal_file_name(name, sizeof(name), account) == -1)
		return 0;
	if (unlinkat(dirfd, name, 0) == -1 && errno != ENOENT)
		return err_set(err, ERR_IO, "cannot remove %s: %s", name,
		    strerror(errno));
	(void)fsync(dirfd);
	return 0;
}
