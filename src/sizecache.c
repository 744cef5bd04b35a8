/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * sizecache.c -- the size limit of a submission and the record of what
 * servers advertise; see sizecache.h.
 */
#include "common.h"

#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "sizecache.h"
#include "store.h"
#include "util.h"
#include "xmalloc.h"

/* The longest account name or host name kept. */
#define NAME_MAX_LEN	255
/* How long a change waits for another one to finish. */
#define LOCK_WAIT_MS	2000

/* Where sizecache_note records (sizecache_setup). */
static struct {
	int	 on;
	int	 system_mode;
	char	 maildrop[1024];
} where;

/* An account or host name that fits on a line: no white space, printable. */
static int
name_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > NAME_MAX_LEN)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

/* A decimal number of at most 19 digits in [p, e), in [0, max]. */
static int
number(const char *p, const char *e, long long max, long long *v)
{
	long long x = 0;

	if (p == e || e - p > 19 || (*p == '0' && e - p > 1))
		return -1;
	for (; p < e; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		x = x * 10 + (*p - '0');
		if (x > max)
			return -1;
	}
	*v = x;
	return 0;
}

static struct sizecache_entry *
find_entry(const struct sizecache *c, const char *account, const char *host,
    int port)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->v[i].port == port && strcmp(c->v[i].account,
		    account) == 0 && strcmp(c->v[i].host, host) == 0)
			return &c->v[i];
	return NULL;
}

/* Sets the value, adding the entry (the oldest goes when c is full). */
static void
set_entry(struct sizecache *c, const char *account, const char *host,
    int port, long long size)
{
	struct sizecache_entry *e = find_entry(c, account, host, port);

	if (e == NULL) {
		if (c->n == SIZECACHE_MAX_ENTRIES) {
			free(c->v[0].account);
			free(c->v[0].host);
			memmove(&c->v[0], &c->v[1], --c->n * sizeof(c->v[0]));
		}
		c->v = xreallocarray(c->v, c->n + 1, sizeof(*c->v));
		e = &c->v[c->n++];
		e->account = xstrdup(account);
		e->host = xstrdup(host);
		e->port = port;
	}
	e->size = size;
}

/* One line [p, e): "ACCOUNT HOST PORT SIZE"; 0 when it is one. */
static int
parse_line(struct sizecache *c, const char *p, const char *e)
{
	const char *f[4], *fe[4];
	char account[NAME_MAX_LEN + 1], host[NAME_MAX_LEN + 1];
	long long port, size;
	int k;

	for (k = 0; k < 4; k++) {
		f[k] = p;
		while (p < e && *p != ' ')
			p++;
		fe[k] = p;
		if (k < 3 && (p == e || ++p == e))
			return -1;
	}
	if (p != e || !name_ok(f[0], (size_t)(fe[0] - f[0])) ||
	    !name_ok(f[1], (size_t)(fe[1] - f[1])) ||
	    number(f[2], fe[2], 65535, &port) == -1 || port == 0 ||
	    number(f[3], fe[3], SIZECACHE_MAX_SIZE, &size) == -1)
		return -1;
	memcpy(account, f[0], (size_t)(fe[0] - f[0]));
	account[fe[0] - f[0]] = '\0';
	memcpy(host, f[1], (size_t)(fe[1] - f[1]));
	host[fe[1] - f[1]] = '\0';
	set_entry(c, account, host, (int)port, size);
	return 0;
}

void
sizecache_parse(const char *text, size_t len, struct sizecache *c)
{
	const char *p = text, *end = text + len, *nl;

	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;			/* a torn last line */
		if (*p != '#')
			(void)parse_line(c, p, nl);
		p = nl + 1;
	}
}

void
sizecache_free(struct sizecache *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->v[i].account);
		free(c->v[i].host);
	}
	free(c->v);
	c->v = NULL;
	c->n = 0;
}

void
sizecache_copy(struct sizecache *dst, const struct sizecache *src)
{
	size_t i;

	sizecache_free(dst);
	for (i = 0; i < src->n; i++)
		set_entry(dst, src->v[i].account, src->v[i].host,
		    src->v[i].port, src->v[i].size);
}

int
sizecache_find(const struct sizecache *c, const char *account,
    const char *host, int port, long long *size)
{
	const struct sizecache_entry *e;

	if (c == NULL || account == NULL || host == NULL ||
	    (e = find_entry(c, account, host, port)) == NULL)
		return 0;
	*size = e->size;
	return 1;
}

void
sizecache_load(int dirfd, const char *name, uid_t owner, struct sizecache *c)
{
	struct stat st;
	char *text;
	ssize_t n;
	int fd;

	sizecache_free(c);
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_NOCTTY | O_CLOEXEC);
	if (fd == -1)
		return;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_uid != owner || st.st_nlink != 1 ||
	    (st.st_mode & 022) != 0 || st.st_size > SIZECACHE_MAX_BYTES) {
		log_debug("%s: ignored: not a regular file of uid %lu, closed "
		    "to others, of at most %d bytes", name,
		    (unsigned long)owner, SIZECACHE_MAX_BYTES);
		(void)close(fd);
		return;
	}
	text = xmalloc(SIZECACHE_MAX_BYTES);
	do
		n = pread(fd, text, SIZECACHE_MAX_BYTES, 0);
	while (n == -1 && errno == EINTR);
	if (n > 0)
		sizecache_parse(text, (size_t)n, c);
	free(text);
	(void)close(fd);
}

void
sizecache_format(const struct sizecache *c, struct buf *b)
{
	size_t i;

	buf_init(b, SIZECACHE_MAX_BYTES, 0);
	(void)buf_addf(b, "# the SIZE limits servers advertised (EHLO); "
	    "written by " OM_PROGNAME "\n");
	for (i = 0; i < c->n; i++)
		(void)buf_addf(b, "%s %s %d %lld\n", c->v[i].account,
		    c->v[i].host, c->v[i].port, c->v[i].size);
}

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Writes c to a new file and renames it over dirfd/name. */
static int
save(int dirfd, const char *name, mode_t mode, gid_t group,
    const struct sizecache *c, struct err *err)
{
	char tmp[NAME_MAX_LEN + 32], rnd[17];
	struct buf b;
	int fd, rc = -1;

	if (util_random_hex(rnd, 8) == -1 || snprintf(tmp, sizeof(tmp),
	    "%s.tmp.%s", name, rnd) >= (int)sizeof(tmp))
		return err_set(err, ERR_IO, "%s: no temporary name", name);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, mode);
	if (fd == -1)
		return err_set(err, ERR_CANTCREAT, "%s: %s", tmp,
		    strerror(errno));
	sizecache_format(c, &b);
	if ((group != (gid_t)-1 && fchown(fd, (uid_t)-1, group) == -1) ||
	    fchmod(fd, mode) == -1 || write_all(fd, b.data, b.len) == -1 ||
	    fsync(fd) == -1)
		(void)err_set(err, ERR_IO, "%s: %s", tmp, strerror(errno));
	else if (renameat(dirfd, tmp, dirfd, name) == -1)
		(void)err_set(err, ERR_IO, "%s: %s", name, strerror(errno));
	else
		rc = 0;
	(void)close(fd);
	if (rc == -1)
		(void)unlinkat(dirfd, tmp, 0);
	else
		(void)fsync(dirfd);
	buf_free(&b);
	return rc;
}

int
sizecache_store(int dirfd, const char *name, mode_t mode, gid_t group,
    const char *account, const char *host, int port, long long size,
    struct err *err)
{
	struct sizecache c = { NULL, 0 };
	long long old;
	int rc = 0;

	if (!name_ok(account, strlen(account)) ||
	    !name_ok(host, strlen(host)) || port <= 0 || port > 65535)
		return err_set(err, ERR_IO, "%s: cannot record account '%.64s' "
		    "and server '%.64s'", name, account, host);
	if (size < 0 || size > SIZECACHE_MAX_SIZE)
		size = 0;
	/* Read, change and write under the lock: no value of another lost. */
	if (util_flock_wait(dirfd, LOCK_WAIT_MS) == -1)
		return err_set(err, ERR_IO, "%s: lock: %s", name,
		    errno == EWOULDBLOCK ? "another process keeps it locked" :
		    strerror(errno));
	sizecache_load(dirfd, name, geteuid(), &c);
	if (!sizecache_find(&c, account, host, port, &old) || old != size) {
		set_entry(&c, account, host, port, size);
		rc = save(dirfd, name, mode, group, &c, err);
	}
	(void)flock(dirfd, LOCK_UN);
	sizecache_free(&c);
	return rc;
}

void
sizecache_limit(const struct account *acct, const struct sizecache *c,
    struct size_limit *out)
{
	const char *cure = conf_size_cure(acct);
	long long sz;
	int port = conf_port(acct);

	if (cure != NULL) {
		/* An API transport (graph, gmail-api): its own limit. */
		out->bytes = conf_max_message_size(acct);
		out->origin = SIZE_API;
		(void)strlcpy(out->from, "the mail API's", sizeof(out->from));
		(void)strlcpy(out->why, cure, sizeof(out->why));
	} else if (acct->max_message_size > 0) {
		out->bytes = acct->max_message_size;
		out->origin = SIZE_CONFIGURED;
		(void)strlcpy(out->from, "max_message_size", sizeof(out->from));
		(void)snprintf(out->why, sizeof(out->why), "the "
		    "max_message_size of account %.100s: send a smaller one, "
		    "or raise max_message_size in the configuration "
		    "(oauthmail.conf(5))", acct->name);
	} else if (sizecache_find(c, acct->name, acct->host, port, &sz) &&
	    sz > 0) {
		out->bytes = sz;
		out->origin = SIZE_ADVERTISED;
		(void)snprintf(out->from, sizeof(out->from), "advertised by "
		    "%.200s:%d", acct->host, port);
		(void)snprintf(out->why, sizeof(out->why), "%.200s:%d "
		    "advertises it (EHLO SIZE) and refuses larger ones: send a "
		    "smaller one (a max_message_size in the configuration "
		    "overrides it)", acct->host, port);
	} else {
		out->bytes = SIZECACHE_DEFAULT;
		out->origin = SIZE_DEFAULT;
		(void)strlcpy(out->from, "the default: no max_message_size, "
		    "no SIZE advertised", sizeof(out->from));
		(void)strlcpy(out->why, "the default, as neither "
		    "max_message_size nor the server's SIZE sets one: send a "
		    "smaller one, or raise max_message_size in the "
		    "configuration (oauthmail.conf(5))", sizeof(out->why));
	}
}

void
sizecache_setup(const struct config *cf)
{
	where.on = 1;
	where.system_mode = cf->system_mode;
	if (strlcpy(where.maildrop, conf_spool_dir(cf),
	    sizeof(where.maildrop)) >= sizeof(where.maildrop) ||
	    strlcat(where.maildrop, "/maildrop", sizeof(where.maildrop)) >=
	    sizeof(where.maildrop))
		where.on = 0;
}

/* The maildrop, if this process owns it (the daemon's user); else -1. */
static int
open_maildrop(gid_t *group)
{
	struct stat st;
	int fd;

	fd = open(where.maildrop, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == -1 || st.st_uid != geteuid()) {
		(void)close(fd);
		return -1;
	}
	*group = st.st_gid;
	return fd;
}

void
sizecache_note(const struct account *acct, const char *host, int port,
    long long size_max)
{
	struct err err;
	gid_t group = (gid_t)-1;
	int dfd, rc;

	if (!where.on)
		return;
	err_clear(&err);
	if (where.system_mode)
		dfd = open_maildrop(&group);
	else
		dfd = store_queue_dir(acct, 1, &err);
	if (dfd == -1)
		return;
	rc = sizecache_store(dfd, where.system_mode ? SIZECACHE_SYS_NAME :
	    SIZECACHE_USER_NAME, where.system_mode ? 0640 : 0600, group,
	    acct->name, host, port, size_max, &err);
	if (rc == -1)
		log_debug("recording the SIZE of %s:%d: %s", host, port,
		    err.msg);
	(void)close(dfd);
}

void
sizecache_load_user(const struct account *acct, struct sizecache *c)
{
	struct err err;
	int dfd;

	sizecache_free(c);
	err_clear(&err);
	if ((dfd = store_queue_dir(acct, 0, &err)) == -1)
		return;
	sizecache_load(dfd, SIZECACHE_USER_NAME, geteuid(), c);
	(void)close(dfd);
}
