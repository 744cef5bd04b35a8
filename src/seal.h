/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * seal.h -- the sealed token copy: an account's token record encrypted
 * with a 256-bit key that systemd delivers as the credential "token-key"
 * (itself sealed by systemd-creds with the host key or the TPM2), so that
 * a rotating refresh token survives a reboot without lying in a readable
 * file. The kernel keyring stays the working copy; store.c reads the
 * sealed copy only when the keyring has nothing.
 *
 * File: "OMS1" | 12-byte random nonce | AES-256-GCM ciphertext | 16-byte
 * tag; additional authenticated data: "OMS1" and the account name, so a
 * file copied to another account's name, altered or opened with another
 * key is refused. Written to a temporary name (mode 0600, O_EXCL), fsynced
 * and renamed over the old one; the directory is fsynced.
 */
#ifndef SEAL_H
#define SEAL_H

#include "common.h"
#include "buf.h"
#include "status.h"

#define SEAL_KEY_LEN	32
#define SEAL_NONCE_LEN	12
#define SEAL_TAG_LEN	16
#define SEAL_MAGIC	"OMS1"
#define SEAL_MAGIC_LEN	4
#define SEAL_OVERHEAD	(SEAL_MAGIC_LEN + SEAL_NONCE_LEN + SEAL_TAG_LEN)
/* The largest record sealed (a token record is at most 48 KiB). */
#define SEAL_MAX_PLAIN	(64 * 1024)

/*
 * The key from the credential's bytes: exactly 32 bytes, or 64 hex
 * digits (one trailing newline allowed). ERR_CONFIG otherwise.
 */
int	seal_key_parse(const char *data, size_t len,
	    unsigned char key[SEAL_KEY_LEN], struct err *);

/* Encrypts pt for account into out (replaced). ERR_OS on failure. */
int	seal_encrypt(const unsigned char key[SEAL_KEY_LEN], const char *account,
	    const void *pt, size_t len, struct buf *out, struct err *);
/*
 * Decrypts and authenticates a sealed blob into out (BUF_SECRET,
 * replaced). ERR_DATA when it is not a sealed record, was altered, or
 * belongs to another key or account; out is then empty.
 */
int	seal_decrypt(const unsigned char key[SEAL_KEY_LEN], const char *account,
	    const void *blob, size_t len, struct buf *out, struct err *);

/* "token-<account>.sealed" into dst; -1 if it does not fit. */
int	seal_file_name(char *dst, size_t size, const char *account);
/*
 * Reads and opens the account's sealed copy in the directory dirfd:
 * 0 and out, 1 if there is none, -1 (ERR_DATA: cannot be opened with
 * this key, or was sealed for another bind; ERR_TEMP: I/O). bind, when
 * not NULL, is authenticated with the account name: the identity the
 * record belongs to (store.h); NULL reads copies sealed without one.
 */
int	seal_read(int dirfd, const unsigned char key[SEAL_KEY_LEN],
	    const char *account, const char *bind, struct buf *out,
	    struct err *);
/* Seals pt (bound to bind) and replaces the copy atomically (ERR_IO). */
int	seal_write(int dirfd, const unsigned char key[SEAL_KEY_LEN],
	    const char *account, const char *bind, const void *pt, size_t len,
	    struct err *);
/* Removes the copy; 0 also when there was none. */
int	seal_remove(int dirfd, const char *account, struct err *);

#endif
