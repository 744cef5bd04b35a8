/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * store_kernel.c -- the kernel keyring backend (libkeyutils): "user" keys
 * "oauthmail:<kind> <identity>", or "oauthmail:<account>:<kind>" for
 * what is keyed by name (store.h), in the uid's persistent keyring, linked
 * into our session keyring (so forked children can read it too). See
 * doc/design.md §7 for the keyring model this follows.
 */
#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <keyutils.h>

#include "buf.h"
#include "log.h"
#include "status.h"
#include "store.h"
#include "store_backend.h"

#define KERNEL_MAX_PAYLOAD	32767	/* user key payload limit */
#define KERNEL_MAX_DESC		4095

static long kernel_ring;	/* the persistent keyring, once open */

/* One line for the errno values the kernel keyring is known to return. */
static const char *
kernel_strerror(int e)
{
	switch (e) {
	case EPERM:
	case ENOSYS:
		return "the kernel keyring is blocked in this container "
		    "(seccomp); use 'keyring secret-service' or run outside "
		    "the container";
	case EDQUOT:
		return "kernel keyring quota exceeded "
		    "(/proc/sys/kernel/keys/maxbytes; see /proc/key-users)";
	case EKEYEXPIRED:
		return "the key or the persistent keyring has expired";
	case EKEYREVOKED:
		return "the key was revoked";
	case EACCES:
		return "permission denied on the kernel keyring (run as the "
		    "account's own user, not via sudo or setuid)";
	case EOPNOTSUPP:
		return "this kernel lacks persistent keyrings "
		    "(CONFIG_PERSISTENT_KEYRINGS)";
	case EINVAL:
		return "value too large for a kernel keyring entry";
	default:
		return strerror(e);
	}
}

/*
 * The class of a kernel keyring failure: temporary (the mail waits and
 * nothing is deleted) except for a value the kernel cannot hold.
 */
static enum err_class
kernel_class(int e)
{
	return e == EINVAL ? ERR_DATA : ERR_TEMP;
}

static int
kernel_desc(char *dst, size_t size, const struct store_key *k,
    struct err *err)
{
	int n;

	if (k->ident != NULL)
		n = snprintf(dst, size, "%s:%s %s", OM_PROGNAME,
		    store_kind_name(k->kind), k->ident);
	else
		n = snprintf(dst, size, "%s:%s:%s", OM_PROGNAME, k->account,
		    store_kind_name(k->kind));
	if (n < 0 || (size_t)n >= size)
		return err_set(err, ERR_CONFIG, "account %s: the keyring key "
		    "is too long for the kernel keyring", k->account);
	return 0;
}

static int
kernel_open(struct err *err)
{
	long r;

	/* Also resets the persistent keyring's expiry timer. */
	r = keyctl_get_persistent((uid_t)-1, KEY_SPEC_SESSION_KEYRING);
	if (r == -1) {
		int e = errno;

		return err_set(err, ERR_TEMP, "kernel keyring: %s",
		    kernel_strerror(e));
	}
	kernel_ring = r;
	return 0;
}

/* 0 and *id, 1 if there is no such key, -1 on error. */
static int
kernel_find(long ring, const char *desc, long *id, struct err *err)
{
	long k;
	int e;

	k = keyctl_search((key_serial_t)ring, "user", desc, 0);
	if (k >= 0) {
		*id = k;
		return 0;
	}
	e = errno;
	if (e == ENOKEY)
		return 1;
	if (e == EKEYEXPIRED || e == EKEYREVOKED) {
		log_debug("kernel keyring: %s: %s", desc, kernel_strerror(e));
		return 1;
	}
	return err_set(err, kernel_class(e), "kernel keyring: search %s: %s",
	    desc, kernel_strerror(e));
}

static int
kernel_get(const struct store_key *key, struct buf *out,
    struct err *err)
{
	char desc[KERNEL_MAX_DESC + 1];
	void *p = NULL;
	long id = -1, n;
	int rc, e;

	if (kernel_desc(desc, sizeof(desc), key, err) == -1)
		return -1;
	if ((rc = kernel_find(kernel_ring, desc, &id, err)) != 0)
		return rc;
	n = keyctl_read_alloc((key_serial_t)id, &p);
	if (n == -1) {
		e = errno;
		if (e == ENOKEY || e == EKEYEXPIRED || e == EKEYREVOKED)
			return 1;
		return err_set(err, kernel_class(e), "kernel keyring: read "
		    "%s: %s", desc, kernel_strerror(e));
	}
	buf_reset(out);
	rc = buf_add(out, p, (size_t)n);
	explicit_bzero(p, (size_t)n);
	free(p);
	if (rc == -1)
		return err_set(err, ERR_DATA, "kernel keyring: %s is larger "
		    "than expected (%ld bytes)", desc, n);
	return 0;
}

static int
kernel_put(const struct store_key *key, const char *data,
    size_t len, struct err *err)
{
	char desc[KERNEL_MAX_DESC + 1];
	key_serial_t id;
	int e;

	if (kernel_desc(desc, sizeof(desc), key, err) == -1)
		return -1;
	if (len == 0 || len > KERNEL_MAX_PAYLOAD)
		return err_set(err, ERR_DATA, "kernel keyring: a value of %zu "
		    "bytes cannot be stored (1..%d)", len, KERNEL_MAX_PAYLOAD);
	/* add_key replaces an existing key atomically (same serial). */
	id = add_key("user", desc, data, len, (key_serial_t)kernel_ring);
	if (id == -1) {
		e = errno;
		return err_set(err, kernel_class(e), "kernel keyring: store "
		    "%s: %s", desc, kernel_strerror(e));
	}
	if (key->ttl > 0 && keyctl_set_timeout(id, (unsigned)key->ttl) == -1) {
		e = errno;
		/* A key that would not expire is not left behind. */
		(void)keyctl_unlink(id, (key_serial_t)kernel_ring);
		(void)keyctl_invalidate(id);
		return err_set(err, kernel_class(e), "kernel keyring: timeout "
		    "of %s: %s", desc, kernel_strerror(e));
	}
	return 0;
}

static int
kernel_delete(const struct store_key *key, struct err *err)
{
	char desc[KERNEL_MAX_DESC + 1];
	long id = -1;
	int rc, e;

	if (kernel_desc(desc, sizeof(desc), key, err) == -1)
		return -1;
	if ((rc = kernel_find(kernel_ring, desc, &id, err)) != 0)
		return rc == 1 ? 0 : -1;
	/*
	 * Unlink first, so that a search no longer finds it (an invalidated
	 * key stays visible as "revoked" until the garbage collector runs),
	 * then invalidate to drop the payload now.
	 */
	if (keyctl_unlink((key_serial_t)id, (key_serial_t)kernel_ring) == 0) {
		(void)keyctl_invalidate((key_serial_t)id);
		return 0;
	}
	e = errno;
	if (e == ENOKEY || e == ENOENT)
		return 0;
	if (keyctl_invalidate((key_serial_t)id) == 0)
		return 0;
	e = errno;
	return err_set(err, kernel_class(e), "kernel keyring: delete %s: %s",
	    desc, kernel_strerror(e));
}

static int
kernel_locked(void)
{
	return 0;
}

const struct store_backend store_kernel_backend = {
	"kernel", kernel_open, kernel_get, kernel_put, kernel_delete,
	kernel_locked
};
