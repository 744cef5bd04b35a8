/*
 * store.c -- picks the keyring backend and dispatches to it; see store.h.
 */
#include "common.h"

#include <stdlib.h>
#include <string.h>

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

int
store_get(struct store *st, const char *account, enum store_kind kind,
    struct buf *out, struct err *err)
{
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
