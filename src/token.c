/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * token.c -- a valid access token for an account; see token.h. The
 * HTTPS API's access token is token_api.c's.
 *
 * The record lives in the keyring (store.h) as one JSON value
 * (token_record.c), so the access token and a rotated refresh token
 * change together atomically.
 * Refreshes are serialised across processes by an flock on
 * token-<account>.lock in the account's queue directory (see lock_dir);
 * whoever waited re-reads the record and uses a token another process
 * fetched meanwhile.
 *
 * Nothing is ever deleted here: a transient failure leaves the record as
 * it was, invalid_grant only sets needs_login (the refresh token is kept).
 */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "json.h"
#include "jwt.h"
#include "log.h"
#include "oauth.h"
#include "status.h"
#include "store.h"
#include "token.h"
#include "token_impl.h"
#include "util.h"
#include "xmalloc.h"

#define TOKEN_LOCK_WAIT_MS	60000	/* longer than one refresh can take */
#define TOKEN_SUCCESS_EVERY	3600	/* rewrite last_success at most hourly */

/*
 * --- Keyring access ---------------------------------------------------------
 */

/* 0 and *r, 1 if there is no record, -1 on error. */
int
token_rec_load(struct store *st, const char *account,
    struct token_record *r, struct err *err)
{
	struct buf b;
	int rc;

	memset(r, 0, sizeof(*r));
	buf_init(&b, TOKEN_RECORD_MAX, BUF_SECRET);
	rc = store_get(st, account, STORE_TOKEN, &b, err);
	if (rc == 0 && token_record_parse(r, buf_str(&b), b.len, err) == -1)
		rc = err_prefix(err, "account %s (run 'oauthmail login %s' "
		    "to replace it)", account, account);
	buf_free(&b);
	if (rc == -1 && err->class == ERR_DATA)
		err->class = ERR_AUTH;
	return rc;
}

int
token_rec_save(struct store *st, const char *account,
    const struct token_record *r, struct err *err)
{
	struct buf b;
	int rc;

	buf_init(&b, TOKEN_RECORD_MAX, BUF_SECRET);
	if (token_record_dump(r, &b, err) == -1)
		return -1;
	rc = store_put(st, account, STORE_TOKEN, buf_str(&b), b.len, err);
	buf_free(&b);
	return rc;
}

/*
 * --- The kernel copy (store.h) ----------------------------------------------
 *
 * The record without its refresh token: an access token the kernel
 * keyring can hand to the next send without the Secret Service. Written
 * only under the refresh lock, from the record then in the keyring, so a
 * slower process never puts back a token another one has replaced.
 */

/* 0 and *r, 1 none or unusable. */
static int
cache_load(struct store *st, struct token_record *r)
{
	struct buf b;
	struct err e;
	int rc;

	memset(r, 0, sizeof(*r));
	buf_init(&b, TOKEN_RECORD_MAX, BUF_SECRET);
	rc = store_cache_get(st, &b);
	if (rc == 0 && token_record_parse(r, buf_str(&b), b.len, &e) == -1) {
		log_debug("kernel copy of the token not used: %s", e.msg);
		rc = 1;
	}
	buf_free(&b);
	if (rc == 0 && (r->refresh_token != NULL || r->needs_login)) {
		token_record_free(r);
		rc = 1;
	}
	return rc;
}

/* Puts a usable record r of acct in the copy; best effort. */
static void
cache_save(const struct account *acct, struct store *st,
    const struct token_record *r)
{
	struct token_record c;
	struct buf b;
	struct err e;
	time_t now = time(NULL);

	if (!store_cache_on(st) || !token_usable(r, acct, now))
		return;
	c = *r;
	c.refresh_token = NULL;
	c.refresh_issued = 0;
	buf_init(&b, TOKEN_RECORD_MAX, BUF_SECRET);
	if (token_record_dump(&c, &b, &e) == 0)
		store_cache_put(st, b.data, b.len, (long)(r->expires_at - now));
	buf_free(&b);
}

/* token_rec_save of the account's own record, and its copy. */
int
token_rec_save_own(const struct account *acct, struct store *st,
    const struct token_record *r, struct err *err)
{
	if (token_rec_save(st, acct->name, r, err) == -1)
		return -1;
	cache_save(acct, st, r);
	return 0;
}

/*
 * --- The refresh lock -------------------------------------------------------
 */

/*
 * The lock directory: the account's queue directory (store_queue_dir),
 * which only the user can create and which every process of the user and
 * configuration finds at the same place; $XDG_RUNTIME_DIR/oauthmail only
 * when that cannot be used. Never a name in a shared directory such as
 * /tmp, where another local user could create it first and so block
 * every refresh.
 */
static int
lock_dir(const struct account *acct, struct err *err)
{
	struct account run;
	struct err qerr;
	const char *x;
	char *dir;
	int fd;

	err_clear(&qerr);
	if ((fd = store_queue_dir(acct, 1, &qerr)) != -1)
		return fd;
	x = getenv("XDG_RUNTIME_DIR");
	if (x != NULL && *x == '/') {
		memset(&run, 0, sizeof(run));
		run.name = acct->name;
		run.queue_dir = dir = xasprintf("%s/%s", x, OM_PROGNAME);
		fd = store_queue_dir(&run, 1, err);
		free(dir);
		if (fd != -1) {
			log_debug("account %s: refresh lock in %s/%s: %s",
			    acct->name, x, OM_PROGNAME, qerr.msg);
			return fd;
		}
	}
	return err_set(err, ERR_TEMP, "no place for the token refresh lock "
	    "of account %s: %s", acct->name, qerr.msg);
}

/* Opens and flocks the account's lock file; returns the fd or -1. */
int
token_lock(const struct account *acct, int wait, struct err *err)
{
	char path[300], name[256];
	const char *account = acct->name;
	struct stat sb;
	size_t i;
	int dfd, fd, n, waited;
	struct timespec ts = { 0, 50 * 1000 * 1000 };

	for (i = 0; account[i] != '\0' && i < sizeof(name) - 1; i++) {
		char c = account[i];

		name[i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '-' ||
		    c == '_' || c == '@' || c == '+' ? c : '_';
	}
	name[i] = '\0';
	n = snprintf(path, sizeof(path), "token-%s.lock", name);
	if (n < 0 || (size_t)n >= sizeof(path))
		return err_set(err, ERR_TEMP, "lock file name too long");
	if ((dfd = lock_dir(acct, err)) == -1)
		return -1;
	fd = openat(dfd, path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	(void)close(dfd);
	if (fd == -1)
		return err_set(err, ERR_TEMP, "open the refresh lock %s of "
		    "account %s: %s", path, account, strerror(errno));
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    sb.st_uid != geteuid()) {
		(void)close(fd);
		return err_set(err, ERR_TEMP, "the refresh lock %s of account "
		    "%s is not a file of uid %lu: remove it", path, account,
		    (unsigned long)geteuid());
	}
	for (waited = 0; flock(fd, LOCK_EX | LOCK_NB) == -1; waited += 50) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			err_set(err, ERR_TEMP, "flock %s: %s", path,
			    strerror(errno));
			close(fd);
			return -1;
		}
		if (!wait || waited >= TOKEN_LOCK_WAIT_MS) {
			err_set(err, ERR_TEMP, "another process is refreshing "
			    "the token of account %s", account);
			close(fd);
			return -1;
		}
		(void)nanosleep(&ts, NULL);
	}
	return fd;
}

void
token_unlock(int fd)
{
	if (fd != -1) {
		(void)flock(fd, LOCK_UN);
		(void)close(fd);
	}
}

/*
 * --- token_get --------------------------------------------------------------
 */

long
token_margin(const struct token_record *r, const struct account *acct)
{
	long margin = acct->refresh_margin > 0 ? acct->refresh_margin : 0;

	if (r->lifetime > 0 && margin > r->lifetime / TOKEN_MARGIN_DIV)
		margin = (long)(r->lifetime / TOKEN_MARGIN_DIV);
	return margin;
}

int
token_usable(const struct token_record *r, const struct account *acct,
    time_t now)
{
	return r->access_token != NULL && r->access_token[0] != '\0' &&
	    !r->needs_login && r->expires_at > now + token_margin(r, acct);
}

int
token_give(const struct token_record *r, struct buf *out, struct err *err)
{
	buf_reset(out);
	if (buf_adds(out, r->access_token) == -1)
		return err_set(err, ERR_INTERNAL, "access token does not fit "
		    "the caller's buffer");
	return 0;
}

/* The client secret, if one is stored: 0 and *secret, 1 none, -1 error. */
static int
client_secret(struct store *st, const char *account, char **secret,
    struct err *err)
{
	struct buf b;
	int rc;

	*secret = NULL;
	buf_init(&b, LIM_TOKEN, BUF_SECRET);
	rc = store_get(st, account, STORE_CLIENT_SECRET, &b, err);
	if (rc == 0)
		*secret = buf_detach(&b, NULL);
	buf_free(&b);
	return rc;
}

/* The assertion of an account with client_certificate. */
static int
sign_assertion(const struct account *acct, struct store *st,
    struct buf *out, struct err *err)
{
	struct buf key;
	int rc;

	buf_init(&key, JWT_MAX_KEY, BUF_SECRET);
	rc = store_get(st, acct->name, STORE_CLIENT_KEY, &key, err);
	if (rc == 1)
		rc = err_set(err, ERR_CONFIG, "account %s has a "
		    "client_certificate but no private key is stored: run "
		    "'oauthmail secret %s --key KEY.pem' (or, for the daemon, "
		    "add '--systemd-credential')", acct->name, acct->name);
	if (rc == 0)
		rc = jwt_sign_assertion(acct->client_certificate, key.data,
		    key.len, acct->client_assertion_alg, acct->client_id,
		    acct->token_endpoint, time(NULL), out, err);
	buf_free(&key);
	return rc;
}

int
token_assertion_grant(const struct account *acct, struct store *st,
    struct json_token *resp, struct err *err)
{
	struct buf a;
	int rc;

	json_token_init(resp);
	if (acct->client_certificate == NULL &&
	    acct->client_assertion_file == NULL)
		return 1;
	if (acct->token_endpoint == NULL || acct->client_id == NULL)
		return err_set(err, ERR_CONFIG, "account %s has no "
		    "token_endpoint or client_id", acct->name);
	buf_init(&a, JWT_MAX_ASSERTION, BUF_SECRET);
	if (acct->client_certificate != NULL)
		rc = sign_assertion(acct, st, &a, err);
	else
		rc = jwt_read_assertion(acct->client_assertion_file,
		    time(NULL), &a, err);
	if (rc == 0)
		rc = oauth_client_assertion(acct, a.data, resp, err);
	buf_free(&a);
	return rc;
}

/* Runs the grant for the account's flow. */
int
token_grant(const struct account *acct, struct store *st,
    const struct token_record *cur, int have, struct json_token *resp,
    struct err *err)
{
	char *secret = NULL;
	int rc;

	json_token_init(resp);
	if (acct->flow == FLOW_CLIENT_CREDENTIALS &&
	    (rc = token_assertion_grant(acct, st, resp, err)) != 1)
		return rc;
	if ((rc = client_secret(st, acct->name, &secret, err)) == -1)
		return -1;
	if (acct->flow == FLOW_CLIENT_CREDENTIALS) {
		if (secret == NULL)
			return err_set(err, ERR_CONFIG, "account %s uses "
			    "client credentials but no client secret is "
			    "stored: run 'oauthmail secret %s' (or, for the "
			    "daemon, 'oauthmail secret %s "
			    "--systemd-credential')", acct->name, acct->name,
			    acct->name);
		rc = oauth_client_credentials(acct, secret, resp, err);
	} else if (!have || cur->refresh_token == NULL ||
	    cur->refresh_token[0] == '\0') {
		rc = err_set(err, ERR_AUTH, "no token for account %s in the "
		    "%s keyring: run 'oauthmail login %s'", acct->name,
		    store_backend_name(st), acct->name);
	} else
		rc = oauth_refresh(acct, cur->refresh_token, secret, resp,
		    err);
	xfree_secret(secret);
	return rc;
}

/*
 * The kernel copy's token (not after a refusal: the copy goes then, and
 * the keyring's record decides). 0 given, 1 not there or not usable.
 */
static int
from_cache(const struct account *acct, struct store *st, int force,
    struct buf *out)
{
	struct token_record r;
	struct err e;
	int rc = 1;

	if (!store_cache_on(st))
		return 1;
	if (force) {
		err_clear(&e);
		if (store_cache_drop(st, &e) == -1)
			log_warnx("%s", e.msg);
		return 1;
	}
	if (cache_load(st, &r) != 0)
		return 1;
	if (token_usable(&r, acct, time(NULL)) &&
	    token_give(&r, out, &e) == 0)
		rc = 0;
	token_record_free(&r);
	return rc;
}

int
token_cache_expires(const struct account *acct, struct store *st,
    time_t *expires_at)
{
	struct token_record r;
	int rc = 1;

	if (cache_load(st, &r) != 0)
		return 1;
	if (token_usable(&r, acct, time(NULL))) {
		*expires_at = r.expires_at;
		rc = 0;
	}
	token_record_free(&r);
	return rc;
}

void
token_cache_fill(const struct account *acct, struct store *st)
{
	struct token_record r;
	struct err e;
	int fd;

	if (!store_cache_on(st) || (fd = token_lock(acct, 0, &e)) == -1)
		return;
	if (token_rec_load(st, acct->name, &r, &e) == 0) {
		cache_save(acct, st, &r);
		token_record_free(&r);
	}
	token_unlock(fd);
}

int
token_get(const struct account *acct, struct store *st, int force,
    struct buf *out, int *was_cached, struct err *err)
{
	struct token_record first, cur, next;
	struct json_token resp;
	int have_first, have, fd = -1, rc = -1, rotated;
	time_t now;

	*was_cached = TOKEN_REFRESHED;
	if (from_cache(acct, st, force, out) == 0) {
		log_debug("account %s: access token from the kernel copy",
		    acct->name);
		*was_cached = TOKEN_FROM_COPY;
		return 0;
	}
	memset(&cur, 0, sizeof(cur));
	memset(&next, 0, sizeof(next));
	json_token_init(&resp);

	if ((have_first = token_rec_load(st, acct->name, &first,
	    err)) == -1)
		return -1;
	have_first = have_first == 0;
	now = time(NULL);
	if (have_first && !force && token_usable(&first, acct, now)) {
		if (token_give(&first, out, err) == 0) {
			*was_cached = TOKEN_FROM_RECORD;
			rc = 0;
		}
		token_record_free(&first);
		if (rc == 0)
			token_cache_fill(acct, st);
		return rc;
	}

	if ((fd = token_lock(acct, 1, err)) == -1)
		goto out;
	/* Another process may have refreshed while we waited. */
	if ((have = token_rec_load(st, acct->name, &cur, err)) == -1)
		goto out;
	have = have == 0;
	now = time(NULL);
	if (have && token_usable(&cur, acct, now) && (!force ||
	    (have_first && first.access_token != NULL &&
	    strcmp(first.access_token, cur.access_token) != 0))) {
		if (token_give(&cur, out, err) == 0) {
			*was_cached = force ? TOKEN_REFRESHED :
			    TOKEN_FROM_RECORD;
			rc = 0;
			cache_save(acct, st, &cur);
		}
		goto out;
	}
	if (have && cur.needs_login && !force &&
	    acct->flow != FLOW_CLIENT_CREDENTIALS) {
		err_set(err, ERR_AUTH, "sign-in needed for account %s: run "
		    "'oauthmail login %s'", acct->name, acct->name);
		goto out;
	}

	if (token_grant(acct, st, &cur, have, &resp, err) == -1) {
		/*
		 * invalid_grant and friends: remember that sign-in is
		 * needed, keep the refresh token. Transient errors and
		 * configuration errors leave the record alone.
		 */
		if (err->class == ERR_AUTH && have && !cur.needs_login &&
		    cur.refresh_token != NULL) {
			struct err serr;

			cur.needs_login = 1;
			if (token_rec_save(st, acct->name, &cur, &serr) == -1)
				log_warnx("account %s: cannot record that "
				    "sign-in is needed: %s", acct->name,
				    serr.msg);
		}
		goto out;
	}

	now = time(NULL);
	next.access_token = resp.access_token;
	resp.access_token = NULL;
	next.lifetime = resp.expires_in >= 0 ? resp.expires_in :
	    TOKEN_DEFAULT_EXPIRES;
	next.expires_at = now + next.lifetime;
	rotated = resp.refresh_token != NULL && resp.refresh_token[0] != '\0';
	if (rotated) {
		next.refresh_token = resp.refresh_token;
		resp.refresh_token = NULL;
		next.refresh_issued = now;
	} else if (have && cur.refresh_token != NULL) {
		next.refresh_token = xstrdup(cur.refresh_token);
		next.refresh_issued = cur.refresh_issued;
	}
	next.last_success = have ? cur.last_success : 0;
	next.needs_login = 0;
	if (resp.scope != NULL)
		next.scope = xstrdup(resp.scope);
	else if (have && cur.scope != NULL)
		next.scope = xstrdup(cur.scope);

	/* Persist (a rotated refresh token above all) before using it. */
	if (token_rec_save_own(acct, st, &next, err) == -1) {
		if (rotated) {
			err_prefix(err, "account %s: cannot save the new "
			    "refresh token", acct->name);
			err->class = ERR_TEMP;
			goto out;
		}
		log_warnx("account %s: cannot save the new access token: %s",
		    acct->name, err->msg);
	}
	log_debug("account %s: access token refreshed (%s, expires in %llds)",
	    acct->name, rotated ? "refresh token rotated" : "refresh token "
	    "kept", (long long)(next.expires_at - now));
	rc = token_give(&next, out, err);
 out:
	token_unlock(fd);
	if (have_first)
		token_record_free(&first);
	token_record_free(&cur);
	token_record_free(&next);
	json_token_free(&resp);
	return rc;
}

void
token_mark_success(const struct account *acct, struct store *st)
{
	struct token_record r;
	struct err err;
	time_t now;
	int fd;

	now = time(NULL);
	/* The copy says when, if it is there: no keyring for that. */
	if (cache_load(st, &r) != 0 &&
	    token_rec_load(st, acct->name, &r, &err) != 0)
		return;
	if (r.last_success > now - TOKEN_SUCCESS_EVERY &&
	    r.last_success <= now) {
		token_record_free(&r);
		return;
	}
	token_record_free(&r);
	/* Read-modify-write under the lock: never undo a rotation. */
	if ((fd = token_lock(acct, 0, &err)) == -1)
		return;
	if (token_rec_load(st, acct->name, &r, &err) == 0) {
		r.last_success = now;
		if (token_rec_save_own(acct, st, &r, &err) == -1)
			log_debug("account %s: last_success not saved: %s",
			    acct->name, err.msg);
		token_record_free(&r);
	}
	token_unlock(fd);
}
