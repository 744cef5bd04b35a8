/*
 * store.c -- picks the keyring backend and dispatches to it; reads systemd
 * credentials, which win over the keyring; see store.h.
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
#include "conf.h"
#include "log.h"
#include "status.h"
#include "store.h"
#include "xmalloc.h"

enum store_backend {
	BACKEND_SECRET = 1,
	BACKEND_KERNEL
};

struct store {
	enum store_backend	 backend;
	long			 ring;		/* kernel: persistent keyring */
};

const char *
store_kind_name(enum store_kind k)
{
	switch (k) {
	case STORE_TOKEN:
		return "token";
	case STORE_CLIENT_SECRET:
		return "client_secret";
	case STORE_PASSWORD:
		return "password";
	}
	return "unknown";
}

int
store_open(enum conf_keyring which, struct store **out, struct err *err)
{
	struct store *st;
	struct err serr, kerr;
	long ring;

	*out = NULL;
	switch (which) {
	case KEYRING_SECRET_SERVICE:
		if (store_secret_open(err) == -1)
			return -1;
		st = xcalloc(1, sizeof(*st));
		st->backend = BACKEND_SECRET;
		break;
	case KEYRING_KERNEL:
		if (store_kernel_open(&ring, err) == -1)
			return -1;
		st = xcalloc(1, sizeof(*st));
		st->backend = BACKEND_KERNEL;
		st->ring = ring;
		break;
	case KEYRING_AUTO:
	default:
		err_clear(&serr);
		if (store_secret_open(&serr) == 0) {
			st = xcalloc(1, sizeof(*st));
			st->backend = BACKEND_SECRET;
			break;
		}
		log_debug("keyring: Secret Service not used: %s", serr.msg);
		if (store_kernel_open(&ring, &kerr) == -1)
			return err_set(err, ERR_TEMP, "no keyring available: "
			    "%s; Secret Service: %s", kerr.msg, serr.msg);
		st = xcalloc(1, sizeof(*st));
		st->backend = BACKEND_KERNEL;
		st->ring = ring;
		break;
	}
	*out = st;
	return 0;
}

void
store_close(struct store *st)
{
	free(st);
}

const char *
store_backend_name(const struct store *st)
{
	if (st == NULL)
		return "none";
	return st->backend == BACKEND_SECRET ? "secret-service" : "kernel";
}

/*
 * --- systemd credentials ----------------------------------------------------
 */

int
store_credential(const char *name, struct buf *out, size_t max,
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
	if (out->len > 0 && out->data[out->len - 1] == '\n')
		out->data[--out->len] = '\0';
	if (out->len > 0 && out->data[out->len - 1] == '\r')
		out->data[--out->len] = '\0';
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

/* The credential that stands for a kind, if any ("secret", "password"). */
static const char *
cred_prefix(enum store_kind kind)
{
	switch (kind) {
	case STORE_CLIENT_SECRET:
		return "secret";
	case STORE_PASSWORD:
		return "password";
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

int
store_get(struct store *st, const char *account, enum store_kind kind,
    struct buf *out, struct err *err)
{
	int rc;

	if ((rc = store_credential_for(account, kind, out, err)) != 1)
		return rc;
	if (st->backend == BACKEND_SECRET)
		return store_secret_get(account, kind, out, err);
	return store_kernel_get(st->ring, account, kind, out, err);
}

int
store_put(struct store *st, const char *account, enum store_kind kind,
    const char *data, size_t len, struct err *err)
{
	if (st->backend == BACKEND_SECRET)
		return store_secret_put(account, kind, data, len, err);
	return store_kernel_put(st->ring, account, kind, data, len, err);
}

int
store_delete(struct store *st, const char *account, enum store_kind kind,
    struct err *err)
{
	if (st->backend == BACKEND_SECRET)
		return store_secret_delete(account, kind, err);
	return store_kernel_delete(st->ring, account, kind, err);
}
