/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * store.c -- picks the keyring backend and dispatches to it, after the
 * systemd credentials, which win over the keyring (store_cred.c); keeps
 * the sealed token copy (seal.h) in step with the keyring when the
 * token-key credential is there; see store.h. The key of each record is
 * store_ident.c's, the kernel copy of the access token store_cache.c's.
 */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "log.h"
#include "seal.h"
#include "status.h"
#include "store.h"
#include "store_backend.h"
#include "store_impl.h"
#include "util.h"
#include "xmalloc.h"

/* Secret Service, if built in; NULL otherwise. */
#ifdef HAVE_LIBSECRET
#define SECRET_BACKEND	(&store_secret_backend)
#else
#define SECRET_BACKEND	((const struct store_backend *)NULL)
#endif

#define NO_LIBSECRET_MSG	"this oauthmail was built without libsecret " \
	"(--without-libsecret): use keyring kernel"

/*
 * keyring auto: both keyrings that can serve, the Secret Service first (a
 * record is looked for in both and written back where it was found);
 * whether the Secret Service's collection is locked. Without libsecret,
 * the kernel keyring alone.
 */
static int
open_auto(struct store **out, struct err *err)
{
	const struct store_backend *ssb = SECRET_BACKEND;
	struct store *st;
	struct err serr, kerr;
	int ss_ok = 0, k_ok;

	err_clear(&serr);
	err_clear(&kerr);
	if (ssb == NULL)
		(void)err_set(&serr, ERR_CONFIG, "not built in");
	else if (!(ss_ok = ssb->open(&serr) == 0))
		log_debug("keyring: Secret Service not used: %s", serr.msg);
	k_ok = KERNEL_BACKEND->open(&kerr) == 0;
	if (!ss_ok && !k_ok)
		return err_set(err, ERR_TEMP, "no keyring available: %s; "
		    "Secret Service: %s", kerr.msg, serr.msg);
	st = xcalloc(1, sizeof(*st));
	st->primary = ss_ok ? ssb : KERNEL_BACKEND;
	st->other = ss_ok && k_ok ? KERNEL_BACKEND : NULL;
	st->ss_locked = !ss_ok && ssb != NULL && ssb->locked();
	st->backend = st->primary;
	*out = st;
	return 0;
}

static int
open_backend(enum conf_keyring which, struct store **out, struct err *err)
{
	const struct store_backend *b;
	struct store *st;

	*out = NULL;
	switch (which) {
	case KEYRING_SECRET_SERVICE:
		if ((b = SECRET_BACKEND) == NULL)
			return err_set(err, ERR_CONFIG, NO_LIBSECRET_MSG);
		break;
	case KEYRING_KERNEL:
		b = KERNEL_BACKEND;
		break;
	case KEYRING_AUTO:
	default:
		return open_auto(out, err);
	}
	if (b->open(err) == -1)
		return -1;
	st = xcalloc(1, sizeof(*st));
	st->backend = st->primary = b;
	*out = st;
	return 0;
}

int
store_queue_dir(const struct account *acct, int create, struct err *err)
{
	char def[PATH_MAX];
	const char *dir = acct->queue_dir;
	struct stat sb;
	int fd;

	if (dir == NULL) {
		if (util_xdg_dir(def, sizeof(def), "XDG_STATE_HOME",
		    ".local/state") == -1 ||
		    strlcat(def, "/" OM_PROGNAME "/queue", sizeof(def)) >=
		    sizeof(def))
			return err_set(err, ERR_CONFIG, "no queue directory "
			    "for account %s: set HOME, XDG_STATE_HOME or "
			    "queue_dir", acct->name);
		dir = def;
	}
	if (create && util_mkdirs(dir, 0700) == -1 && errno != EEXIST)
		return err_set(err, ERR_CANTCREAT, "cannot create %s: %s", dir,
		    strerror(errno));
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return err_set(err, errno == ENOENT ? ERR_TEMP : ERR_CONFIG,
		    "%s: %s", dir, strerror(errno));
	if (fstat(fd, &sb) == -1 || !S_ISDIR(sb.st_mode) ||
	    sb.st_uid != geteuid() || (sb.st_mode & 022) != 0) {
		(void)close(fd);
		return err_set(err, ERR_CONFIG, "%s is not a directory owned "
		    "by uid %lu and closed to others: fix its owner and mode "
		    "(chmod 700)", dir, (unsigned long)geteuid());
	}
	return fd;
}

/*
 * Sealing is on when the unit was given the token-key credential: the
 * key, and the account's queue directory where the sealed copies live.
 */
static int
seal_setup(struct store *st, const struct account *acct, struct err *err)
{
	struct buf kb;
	int rc;

	buf_init(&kb, 256, BUF_SECRET);
	rc = store_cred_read(STORE_SEAL_CREDENTIAL, &kb, 256, 0, err);
	if (rc == 0)
		rc = seal_key_parse(kb.data, kb.len, st->key, err);
	buf_free(&kb);
	if (rc != 0)
		return rc == 1 ? 0 : -1;
	if ((st->qfd = store_queue_dir(acct, 1, err)) == -1)
		return err_prefix(err, "sealed token copies");
	st->sealed = 1;
	return 0;
}

static int
open_account(const struct account *acct, int lazy, struct store **out,
    struct err *err)
{
	struct store *st;

	if (lazy && store_cache_wanted(acct)) {
		st = xcalloc(1, sizeof(*st));
		st->deferred = 1;
		st->keyring = acct->keyring;
	} else if (open_backend(acct->keyring, &st, err) == -1)
		return -1;
	store_ident_setup(st, acct);
	st->cache = store_cache_wanted(acct) && st->id_token != NULL;
	st->qfd = -1;
	if (acct->queue_dir != NULL)
		st->queue_dir = xstrdup(acct->queue_dir);
	if (seal_setup(st, acct, err) == -1) {
		store_close(st);
		*out = NULL;
		return -1;
	}
	*out = st;
	return 0;
}

int
store_open_account(const struct account *acct, struct store **out,
    struct err *err)
{
	return open_account(acct, 0, out, err);
}

int
store_open_lazy(const struct account *acct, struct store **out,
    struct err *err)
{
	return open_account(acct, 1, out, err);
}

/* A lazy store's keyring, opened at its first use. */
static int
store_ready(struct store *st, struct err *err)
{
	struct store *o;

	if (!st->deferred)
		return 0;
	if (open_backend(st->keyring, &o, err) == -1)
		return -1;
	st->backend = o->backend;
	st->primary = o->primary;
	st->other = o->other;
	st->ss_locked = o->ss_locked;
	freezero(o, sizeof(*o));
	st->deferred = 0;
	return 0;
}

int
store_sealed(const struct store *st)
{
	return st != NULL && st->sealed;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	if (st->qfd != -1)
		(void)close(st->qfd);
	free(st->queue_dir);
	free(st->name);
	free(st->id_token);
	free(st->id_secret);
	free(st->client_id);
	free(st->endpoint);
	free(st->tenant);
	free(st->user);
	freezero(st, sizeof(*st));
}

const char *
store_backend_name(const struct store *st)
{
	if (st == NULL)
		return "none";
	if (st->deferred)
		return st->keyring == KEYRING_SECRET_SERVICE ?
		    "secret-service" : "auto";
	return (st->where[STORE_TOKEN] ? st->where[STORE_TOKEN] :
	    st->primary)->name;
}

/*
 * --- The sealed copy (seal.h) -----------------------------------------------
 */

/* What a sealed copy of the account's token record is bound to. */
static const char *
seal_bind(const struct store *st, const char *account)
{
	return st->id_token != NULL && strcmp(account, st->name) == 0 ?
	    st->id_token : NULL;
}

/*
 * The keyring holds the newest record (every writer writes it first):
 * rewrite the sealed copy when it differs, e.g. after a sign-in made
 * without the key. Best effort; the next read tries again.
 */
static void
seal_sync(struct store *st, const char *account, const struct buf *cur)
{
	const char *bind;
	struct buf old;
	struct err err;
	int r;

	buf_init(&old, SEAL_MAX_PLAIN, BUF_SECRET);
	err_clear(&err);
	bind = seal_bind(st, account);
	r = seal_read(st->qfd, st->key, account, bind, &old, &err);
	if (r != 0 || old.len != cur->len ||
	    memcmp(old.data, cur->data, cur->len) != 0) {
		if (r == -1)
			log_debug("account %s: replacing the sealed token copy: "
			    "%s", account, err.msg);
		if (seal_write(st->qfd, st->key, account, bind, cur->data,
		    cur->len, &err) == -1)
			log_warnx("account %s: the sealed token copy is not up "
			    "to date: %s", account, err.msg);
	}
	buf_free(&old);
}

/* The keyring has no record: the sealed copy (after a reboot). */
static int
seal_restore(struct store *st, const char *account, struct buf *out,
    struct err *err)
{
	struct store_key k;
	struct err perr;
	const char *bind = seal_bind(st, account);
	int r;
	char msg[sizeof(err->msg)];

	r = seal_read(st->qfd, st->key, account, bind, out, err);
	/* A copy sealed before records were keyed by identity. */
	if (r == -1 && err->class == ERR_DATA && bind != NULL)
		r = seal_read(st->qfd, st->key, account, NULL, out, err);
	if (r == -1 && err->class == ERR_DATA) {
		(void)strlcpy(msg, err->msg, sizeof(msg));
		err_set(err, ERR_AUTH, "%s: run 'oauthmail login %s'", msg,
		    account);
	}
	if (r != 0)
		return r;
	err_clear(&perr);
	store_key_for(st, account, STORE_TOKEN, &k);
	if (st->backend->put(&k, out->data, out->len, &perr) == -1)
		log_warnx("account %s: token record restored from the sealed "
		    "copy, but not into the keyring: %s", account, perr.msg);
	else
		log_info("account %s: token record restored from the sealed "
		    "copy into the %s keyring", account,
		    store_backend_name(st));
	return 0;
}

/* A get from one backend, a record keyed by name moved on the way. */
static int
get_from(struct store *st, const struct store_backend *b, const char *account,
    enum store_kind kind, struct buf *out, struct err *err)
{
	struct store_key k;
	int rc;

	st->backend = b;
	store_key_for(st, account, kind, &k);
	rc = st->backend->get(&k, out, err);
	if (rc == 1 && k.ident != NULL)
		rc = store_ident_migrate(st, &k, out, err);
	return rc;
}

/*
 * Where the record is: where it was found before, else the primary
 * keyring, else (keyring auto) the other one; later writes go there.
 */
static int
get_any(struct store *st, const char *account, enum store_kind kind,
    struct buf *out, struct err *err)
{
	const struct store_backend *b = st->where[kind] ?
	    st->where[kind] : st->primary;
	int rc;

	rc = get_from(st, b, account, kind, out, err);
	if (rc == 1 && st->other != NULL && b == st->primary) {
		b = st->other;
		rc = get_from(st, b, account, kind, out, err);
	}
	if (rc == 0)
		st->where[kind] = b;
	st->backend = st->where[kind] ? st->where[kind] : st->primary;
	return rc;
}

int
store_get(struct store *st, const char *account, enum store_kind kind,
    struct buf *out, struct err *err)
{
	int rc;

	if ((rc = store_credential_for(account, kind, out, err)) != 1)
		return rc;
	if (store_ready(st, err) == -1)
		return -1;
	rc = get_any(st, account, kind, out, err);
	if (kind == STORE_TOKEN && st->sealed && rc == 0)
		seal_sync(st, account, out);
	else if (kind == STORE_TOKEN && st->sealed && rc == 1) {
		rc = seal_restore(st, account, out, err);
		if (rc == 0 && st->id_token != NULL &&
		    strcmp(account, st->name) == 0)
			(void)store_ident_remember(st, account);
	}
	if (rc == 1 && kind == STORE_TOKEN && st->ss_locked)
		return err_set(err, ERR_TEMP, "the keyring is locked: unlock "
		    "it (log in to the desktop, or run 'oauthmail login %s' "
		    "there)", account);
	return rc;
}

int
store_put(struct store *st, const char *account, enum store_kind kind,
    const char *data, size_t len, struct err *err)
{
	struct store_key k, old;
	struct err serr;

	if (store_cache_drop_for(st, account, kind, err) == -1 ||
	    store_ready(st, err) == -1)
		return -1;
	st->backend = st->where[kind] ? st->where[kind] : st->primary;
	store_key_for(st, account, kind, &k);
	if (st->backend->put(&k, data, len, err) == -1)
		return -1;
	/* The first record of this identity: none is left under the name. */
	if (k.ident != NULL && kind != STORE_API_TOKEN &&
	    store_ident_remember(st, account)) {
		store_name_key(account, kind, &old);
		err_clear(&serr);
		(void)st->backend->del(&old, &serr);
	}
	if (kind == STORE_TOKEN && st->sealed) {
		err_clear(&serr);
		if (seal_write(st->qfd, st->key, account, seal_bind(st,
		    account), data, len, &serr) == -1)
			log_warnx("account %s: the sealed token copy is not up "
			    "to date: %s; retried at the next use", account,
			    serr.msg);
	}
	return 0;
}

/* Deletes the record in one backend, and what is under its name. */
static int
delete_in(struct store *st, const struct store_backend *b, const char *account,
    enum store_kind kind, struct err *err)
{
	struct store_key k, old;
	char oldname[512];
	int rc;

	st->backend = b;
	store_key_for(st, account, kind, &k);
	rc = st->backend->del(&k, err);
	if (rc == 0 && k.ident != NULL) {
		store_legacy_key(&k, oldname, sizeof(oldname), &old);
		rc = st->backend->del(&old, err);
		store_name_key(account, STORE_IDENTITY, &k);
		if (rc == 0 && kind == STORE_TOKEN)
			rc = st->backend->del(&k, err);
	}
	return rc;
}

int
store_delete(struct store *st, const char *account, enum store_kind kind,
    struct err *err)
{
	struct account a;
	int rc, fd;

	if (store_cache_drop_for(st, account, kind, err) == -1 ||
	    store_ready(st, err) == -1)
		return -1;
	rc = delete_in(st, st->primary, account, kind, err);
	if (rc == 0 && st->other != NULL)
		rc = delete_in(st, st->other, account, kind, err);
	st->where[kind] = NULL;
	st->backend = st->primary;
	if (rc == -1 || kind != STORE_TOKEN)
		return rc;
	/* A sealed copy goes too, key or not: a logout must stick. */
	if (st->qfd != -1)
		return seal_remove(st->qfd, account, err);
	memset(&a, 0, sizeof(a));
	a.name = (char *)account;
	a.queue_dir = st->queue_dir;
	if ((fd = store_queue_dir(&a, 0, err)) == -1) {
		err_clear(err);
		return 0;
	}
	rc = seal_remove(fd, account, err);
	(void)close(fd);
	return rc;
}
