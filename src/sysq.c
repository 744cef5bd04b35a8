/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * sysq.c -- system mode: the maildrop; see sysq.h for the layout and the
 * drop file format.
 *
 * The submitter side runs in any local user's sendmail with no privilege
 * left (main.c drops the spool group right after sysq_drop_create). The
 * daemon side trusts nothing in a drop file but its owner uid (which a
 * user cannot forge) and its group-read bit (the "ready" mark).
 */
#include "common.h"

#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "api.h"
#include "buf.h"
#include "intake.h"
#include "log.h"
#include "sysq.h"
#include "sysq_impl.h"
#include "util.h"
#include "xmalloc.h"

#define LEDGER_MAX	(1024 * 1024)

static int	write_all(int, const char *, size_t, off_t);

/* --------------------------------------------------- the usage ledger --- */

struct sysq_usage *
sysq_ledger_get(struct ledger *l, unsigned long uid)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].uid == uid)
			return &l->v[i];
	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	memset(&l->v[l->n], 0, sizeof(l->v[l->n]));
	l->v[l->n].uid = uid;
	return &l->v[l->n++];
}

/*
 * "uid files bytes" lines, parsed defensively (a line that is not three
 * numbers is dropped): the daemon rewrites it after every pickup anyway.
 */
void
sysq_ledger_parse(const char *text, size_t len, struct ledger *l)
{
	unsigned long long x[3];
	const char *p = text, *end = text + len, *nl;
	size_t i;
	int k;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			break;			/* a torn last line */
		for (k = 0; k < 3 && p < nl; k++) {
			for (i = 0, x[k] = 0; p < nl && *p >= '0' && *p <= '9' &&
			    i < 19; i++, p++)
				x[k] = x[k] * 10 + (unsigned long long)(*p - '0');
			if (i == 0 || (k < 2 && (p == nl || *p++ != ' ')))
				break;
		}
		if (k == 3 && p == nl && x[0] <= (unsigned long long)
		    (uid_t)-1) {
			struct sysq_usage *u = sysq_ledger_get(l,
			    (unsigned long)x[0]);

			u->files = x[1];
			u->bytes = x[2];
		}
		p = nl + 1;
	}
}

/* Replaces the ledger's content (lock held). */
int
sysq_ledger_write(int fd, const struct ledger *l)
{
	struct buf b;
	size_t i;
	int rc;

	buf_init(&b, LEDGER_MAX, 0);
	for (i = 0; i < l->n; i++)
		if (l->v[i].files > 0 || l->v[i].bytes > 0)
			(void)buf_addf(&b, "%lu %llu %llu\n", l->v[i].uid,
			    l->v[i].files, l->v[i].bytes);
	rc = (b.len > 0 && write_all(fd, b.data, b.len, 0) == -1) ||
	    ftruncate(fd, (off_t)b.len) == -1 ? -1 : 0;
	buf_free(&b);
	return rc;
}

static void
ledger_read(int fd, struct ledger *l)
{
	char *text = xmalloc(LEDGER_MAX);
	ssize_t n;

	n = pread(fd, text, LEDGER_MAX, 0);
	if (n > 0)
		sysq_ledger_parse(text, (size_t)n, l);
	free(text);
}

/*
 * The submitter's side, holding the spool group: opens and locks the
 * ledger the daemon keeps in the maildrop, -1 if there is none yet (no
 * accounting until the daemon's first run) or it is not the daemon's.
 */
static int
ledger_open(int dirfd, uid_t owner)
{
	struct stat st;
	int fd;

	fd = openat(dirfd, LEDGER_NAME, O_RDWR | O_NOFOLLOW | O_NONBLOCK |
	    O_NOCTTY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_uid != owner || st.st_nlink != 1 ||
	    flock(fd, LOCK_EX) == -1) {
		(void)close(fd);
		return -1;
	}
	return fd;
}

/* Refuses a new drop file over the user's bounds (ERR_TEMP, exit 75). */
static int
ledger_check(const struct config *cf, const struct sysq_usage *u,
    struct err *err)
{
	unsigned long long mf = (unsigned long long)sysq_max_files(cf);
	unsigned long long mb = (unsigned long long)sysq_max_bytes(cf);

	if (u->files >= mf)
		return err_set(err, ERR_TEMP, "the maildrop holds %llu "
		    "messages of uid %lu waiting for the delivery daemon "
		    "(maildrop_max_files %llu); try again later, and make sure "
		    "the oauthmail daemon runs", u->files, u->uid, mf);
	if (u->bytes >= mb)
		return err_set(err, ERR_TEMP, "the maildrop holds %llu bytes "
		    "of uid %lu waiting for the delivery daemon "
		    "(maildrop_max_bytes %llu); try again later, and make sure "
		    "the oauthmail daemon runs", u->bytes, u->uid, mb);
	return 0;
}

long long
sysq_max_files(const struct config *cf)
{
	return cf->maildrop_max_files > 0 ? cf->maildrop_max_files :
	    SYSQ_MAX_FILES;
}

long long
sysq_max_bytes(const struct config *cf)
{
	return cf->maildrop_max_bytes > 0 ? cf->maildrop_max_bytes :
	    SYSQ_MAX_BYTES;
}

int
sysq_drop_dir_path(const struct config *cf, char *dst, size_t size)
{
	int n = snprintf(dst, size, "%s/maildrop", conf_spool_dir(cf));

	return n < 0 || (size_t)n >= size ? -1 : 0;
}

int
sysq_drop_create(const struct config *cf, gid_t spool_gid,
    struct sysq_drop *d, struct err *err)
{
	char path[1024];
	struct ledger l;
	struct sysq_usage *u = NULL;
	struct stat st;
	int tries, lfd;

	d->dirfd = d->fd = -1;
	d->name[0] = '\0';
	d->sizes.v = NULL;
	d->sizes.n = 0;
	if (sysq_drop_dir_path(cf, path, sizeof(path)) == -1)
		return err_set(err, ERR_CONFIG, "spool_dir is too long");
	d->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (d->dirfd == -1 && errno != EACCES)
		return err_set(err, ERR_CONFIG, "%s: %s; set up system mode "
		    "with 'make install-system' (see oauthmail(8), SYSTEM "
		    "MODE)", path, strerror(errno));
	/* Mode 1730: we may search it (group x) but not read it. */
	if (d->dirfd == -1)
		d->dirfd = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	if (d->dirfd == -1)
		return err_set(err, ERR_CONFIG, "%s: %s; is the binary "
		    "installed set-group-id to the spool group?", path,
		    strerror(errno));
	if (fstat(d->dirfd, &st) == -1 || !S_ISDIR(st.st_mode) ||
	    (st.st_mode & S_IWOTH) ||
	    (spool_gid != (gid_t)-1 && st.st_gid != spool_gid)) {
		(void)close(d->dirfd);
		d->dirfd = -1;
		return err_set(err, ERR_CONFIG, "%s: must be a directory of "
		    "the spool group, mode 1730, not writable by others; "
		    "run 'make install-system'", path);
	}
	/* Readable with the group only, as the ledger is. */
	sizecache_load(d->dirfd, SIZECACHE_SYS_NAME, st.st_uid, &d->sizes);
	/* Under the ledger's lock: the daemon's recount sees the file. */
	memset(&l, 0, sizeof(l));
	if ((lfd = ledger_open(d->dirfd, st.st_uid)) != -1) {
		ledger_read(lfd, &l);
		u = sysq_ledger_get(&l, (unsigned long)getuid());
		if (ledger_check(cf, u, err) == -1) {
			(void)close(lfd);
			free(l.v);
			sizecache_free(&d->sizes);
			(void)close(d->dirfd);
			d->dirfd = -1;
			return -1;
		}
	}
	for (tries = 0; tries < 10; tries++) {
		if (util_random_hex(d->name, QUEUE_ID_LEN / 2) == -1)
			break;
		d->fd = openat(d->dirfd, d->name, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0);
		if (d->fd != -1 || errno != EEXIST)
			break;
	}
	/*
	 * Mode 0000 until the lock is held: nobody can open the file before,
	 * so no queue runner ever sees it unlocked while this writer lives.
	 */
	if (d->fd == -1 || flock(d->fd, LOCK_EX | LOCK_NB) == -1 ||
	    fchmod(d->fd, DROP_WRITING) == -1) {
		int e = errno;

		if (d->fd != -1)
			(void)close(d->fd);
		d->fd = -1;
		(void)close(d->dirfd);
		d->dirfd = -1;
		if (lfd != -1)
			(void)close(lfd);
		free(l.v);
		sizecache_free(&d->sizes);
		return err_set(err, ERR_TEMP, "%s/%s: %s; the message was "
		    "not accepted, try again later", path, d->name,
		    strerror(e));
	}
	if (lfd != -1) {
		u->files++;
		(void)sysq_ledger_write(lfd, &l);	/* the daemon recounts */
		(void)close(lfd);
	}
	free(l.v);
	return 0;
}

static int
write_all(int fd, const char *p, size_t n, off_t off)
{
	ssize_t w;

	while (n > 0) {
		w = off >= 0 ? pwrite(fd, p, n, off) : write(fd, p, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
		if (off >= 0)
			off += w;
	}
	return 0;
}

static void
drop_header(char *dst, size_t size, int a, int f, unsigned long long msg)
{
	(void)snprintf(dst, size, DROP_MAGIC "a=%d f=%d msg=%020llu\n", a, f,
	    msg);
}

int
sysq_drop_write(struct sysq_drop *d, const struct invocation *inv,
    const struct account *acct, const struct aliases *al, FILE *in,
    struct err *err)
{
	char hdr[DROP_HDR_LEN + 1];
	struct size_limit lim;
	struct intake_opts io;
	struct envelope env;
	struct buf b;
	off_t end;
	int rc = -1;

	envelope_init(&env);
	buf_init(&b, ENVELOPE_MAX, 0);
	drop_header(hdr, sizeof(hdr), 0, 0, 0);
	if (write_all(d->fd, hdr, DROP_HDR_LEN, -1) == -1)
		goto ioerr;
	memset(&io, 0, sizeof(io));
	io.ignore_dots = inv->ignore_dots;
	io.extract = inv->extract;
	io.fullname = inv->fullname;
	io.from_addr = acct->from;
	io.aliases = al;
	io.rcpts = inv->rcpts;
	io.nrcpts = inv->nrcpts;
	sizecache_limit(acct, &d->sizes, &lim);
	io.max_size = (off_t)lim.bytes;
	io.size_cure = lim.why;
	if (intake_read(in, d->fd, &io, &env, err) == -1 ||
	    api_rcpts_check(acct, env.nrcpts, err) == -1)
		goto out;
	if ((end = lseek(d->fd, 0, SEEK_CUR)) == -1)
		goto ioerr;
	(void)strlcpy(env.id, d->name, sizeof(env.id));
	env.account = xstrdup(inv->account != NULL ? inv->account : "*");
	env.sender = xstrdup(inv->sender != NULL ? inv->sender : "");
	if (inv->smtputf8 > 0)
		env.smtputf8 = 1;
	if (inv->body == BODY_8BITMIME)
		env.body8bit = 1;
	if (inv->dsn_notify != NULL)
		env.dsn_notify = xstrdup(inv->dsn_notify);
	if (inv->dsn_ret != NULL)
		env.dsn_ret = xstrdup(inv->dsn_ret);
	if (inv->envid != NULL)
		env.envid = xstrdup(inv->envid);
	env.created = env.next_try = time(NULL);
	env.state = ENV_QUEUED;
	if (envelope_dump(&env, &b, err) == -1)
		goto out;
	drop_header(hdr, sizeof(hdr), inv->account != NULL,
	    inv->sender != NULL, (unsigned long long)(end - DROP_HDR_LEN));
	/*
	 * Ready, then unlocked: a runner woken by the chmod that finds it
	 * still locked retries briefly (claim()); the close wakes it again.
	 */
	if (write_all(d->fd, b.data, b.len, -1) == -1 ||
	    write_all(d->fd, hdr, DROP_HDR_LEN, 0) == -1 ||
	    fsync(d->fd) == -1 || fchmod(d->fd, DROP_READY) == -1 ||
	    flock(d->fd, LOCK_UN) == -1)
		goto ioerr;
	if (close(d->fd) == -1) {
		d->fd = -1;
		goto ioerr;
	}
	d->fd = -1;
	(void)close(d->dirfd);
	d->dirfd = -1;
	rc = 0;
	goto out;
ioerr:
	(void)err_set(err, ERR_TEMP, "writing the maildrop file %s: %s; the "
	    "message was not accepted, try again later", d->name,
	    strerror(errno));
out:
	envelope_free(&env);
	buf_free(&b);
	if (rc == 0)
		sizecache_free(&d->sizes);
	return rc;
}

void
sysq_drop_abort(struct sysq_drop *d)
{
	sizecache_free(&d->sizes);
	/* We can no longer unlink it: the daemon removes it. */
	if (d->fd != -1) {
		/* Best effort: an untruncated file is set aside later. */
		if (ftruncate(d->fd, 0) == -1)
			log_warn("maildrop: cannot truncate %s", d->name);
		(void)fchmod(d->fd, DROP_ABANDONED);
		(void)close(d->fd);
	}
	if (d->dirfd != -1)
		(void)close(d->dirfd);
	d->fd = d->dirfd = -1;
}

void
sysq_sizes_load(const struct config *cf, struct sizecache *c)
{
	char path[1024];
	struct stat st;
	int fd;

	sizecache_free(c);
	if (sysq_drop_dir_path(cf, path, sizeof(path)) == -1)
		return;
	/* Mode 1730: the group may search it, not read it. */
	fd = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
		sizecache_load(fd, SIZECACHE_SYS_NAME, st.st_uid, c);
	(void)close(fd);
}
