/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * store_cred.c -- systemd credentials ($CREDENTIALS_DIRECTORY), which
 * win over the keyring: read defensively (no symlink, a regular file
 * not writable by others, bounded), and the credential that stands for
 * an account's secret of each kind; see store.h.
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
#include "status.h"
#include "store.h"
#include "store_impl.h"

int
store_credential(const char *name, struct buf *out, size_t max,
    struct err *err)
{
	return store_cred_read(name, out, max, 1, err);
}

/* Reads a credential; strip: remove one trailing newline (CRLF). */
int
store_cred_read(const char *name, struct buf *out, size_t max, int strip,
    struct err *err)
{
	const char *dir = getenv("CREDENTIALS_DIRECTORY");
	char chunk[512];
	struct stat sb;
	ssize_t n;
	int dfd, fd, rc = -1;

	if (dir == NULL || *dir == '\0')
		return 1;
	if (*dir != '/')
		return err_set(err, ERR_CONFIG, "CREDENTIALS_DIRECTORY is not "
		    "an absolute path: unset it or let systemd set it");
	if (*name == '\0' || *name == '.' || strchr(name, '/') != NULL)
		return err_set(err, ERR_CONFIG, "'%s' cannot be a credential "
		    "name", name);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd == -1) {
		if (errno == ENOENT)
			return 1;
		return err_set(err, ERR_TEMP, "credentials directory %s: %s",
		    dir, strerror(errno));
	}
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	(void)close(dfd);
	if (fd == -1) {
		if (errno == ENOENT)
			return 1;
		if (errno == ELOOP)
			return err_set(err, ERR_CONFIG, "credential %s/%s is a "
			    "symbolic link; refusing it", dir, name);
		return err_set(err, ERR_TEMP, "credential %s/%s: %s", dir, name,
		    strerror(errno));
	}
	buf_reset(out);
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		err_set(err, ERR_CONFIG, "credential %s/%s is not a regular "
		    "file", dir, name);
		goto out;
	}
	if (sb.st_mode & S_IWOTH) {
		err_set(err, ERR_CONFIG, "credential %s/%s is writable by "
		    "others; refusing it", dir, name);
		goto out;
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			err_set(err, ERR_TEMP, "credential %s/%s: %s", dir, name,
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (out->len + (size_t)n > max || buf_add(out, chunk,
		    (size_t)n) == -1) {
			err_set(err, ERR_CONFIG, "credential %s/%s is larger "
			    "than %zu bytes", dir, name, max);
			goto out;
		}
	}
	/* What a terminal or an editor adds: one trailing newline. */
	if (strip && out->len > 0 && out->data[out->len - 1] == '\n') {
		out->data[--out->len] = '\0';
		if (out->len > 0 && out->data[out->len - 1] == '\r')
			out->data[--out->len] = '\0';
	}
	if (out->len == 0) {
		err_set(err, ERR_CONFIG, "credential %s/%s is empty", dir,
		    name);
		goto out;
	}
	rc = 0;
 out:
	explicit_bzero(chunk, sizeof(chunk));
	(void)close(fd);
	if (rc == -1)
		buf_reset(out);
	return rc;
}

/* The credential that stands for a kind, if any ("secret", "key", ...). */
static const char *
cred_prefix(enum store_kind kind)
{
	switch (kind) {
	case STORE_CLIENT_SECRET:
		return "secret";
	case STORE_PASSWORD:
		return "password";
	case STORE_CLIENT_KEY:
		return "key";
	default:
		return NULL;
	}
}

int
store_credential_for(const char *account, enum store_kind kind,
    struct buf *out, struct err *err)
{
	const char *pfx = cred_prefix(kind);
	char name[512];
	int n;

	if (pfx == NULL)
		return 1;
	n = snprintf(name, sizeof(name), "%s.%s", pfx, account);
	if (n < 0 || (size_t)n >= sizeof(name))
		return 1;
	return store_credential(name, out, out->max, err);
}
