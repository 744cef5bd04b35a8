/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * holdsched.c -- when a held account is tried again; see holdsched.h.
 *
 * The file, HOLDSCHED_FILE in the queue directory (0600):
 *
 *   oauthmail-hold-schedule 1
 *   ACCOUNT<TAB>FAILS<TAB>LAST<TAB>NEXT<TAB>FP<TAB>REASON
 *
 * LAST and NEXT in seconds since the epoch, FP 16 hex digits, REASON the
 * sanitised refusal (no tab or control character). A line that does not
 * parse is dropped. Changes: open the file, flock it, check that the
 * locked inode is still the one under the name (a writer replaces it by
 * rename), read, change, write HOLDSCHED_FILE.new, fsync, rename.
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
#include "conf.h"
#include "holdsched.h"
#include "log.h"
#include "queue.h"
#include "util.h"
#include "xmalloc.h"

#define SCHED_MAGIC	"oauthmail-hold-schedule 1"
#define SCHED_TMP	HOLDSCHED_FILE ".new"
/* A schedule is a few lines; anything bigger is not ours. */
#define SCHED_MAX	(1024 * 1024)
#define SCHED_LOCK_WAIT_MS	5000

time_t
holdsched_step(int fails)
{
	time_t s = HOLDSCHED_FIRST;

	if (fails <= 0)
		return 0;
	while (--fails > 0 && s < HOLDSCHED_MAX)
		s *= 2;
	return s > HOLDSCHED_MAX ? HOLDSCHED_MAX : s;
}

static void
fnv_bytes(uint64_t *h, const void *p, size_t n)
{
	const unsigned char *c = p;

	while (n-- > 0) {
		*h ^= *c++;
		*h *= 0x100000001b3ULL;
	}
}

static void
fnv_str(uint64_t *h, const char *s)
{
	if (s != NULL)
		fnv_bytes(h, s, strlen(s) + 1);
	else
		fnv_bytes(h, "\xff", 1);
}

static void
fnv_int(uint64_t *h, long long v)
{
	fnv_bytes(h, &v, sizeof(v));
}

uint64_t
holdsched_fingerprint(const struct account *a)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	fnv_str(&h, a->name);
	fnv_str(&h, a->host);
	fnv_int(&h, conf_port(a));
	fnv_int(&h, a->tls);
	fnv_int(&h, a->tls_starttls);
	fnv_str(&h, a->tls_trust_file);
	fnv_str(&h, a->domain);
	fnv_str(&h, a->from);
	fnv_str(&h, a->user);
	fnv_int(&h, a->auth);
	fnv_int(&h, a->provider);
	fnv_str(&h, a->tenant);
	fnv_str(&h, a->client_id);
	fnv_str(&h, a->scope);
	fnv_str(&h, a->token_endpoint);
	fnv_int(&h, a->flow);
	fnv_int(&h, a->keyring);
	return h;
}

void
holdsched_free(struct holdsched *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->v[i].account);
		free(s->v[i].reason);
	}
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static struct holdsched_rec *
find_rec(const struct holdsched *s, const char *account)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i].account, account) == 0)
			return &s->v[i];
	return NULL;
}

const struct holdsched_rec *
holdsched_find(const struct holdsched *s, const char *account)
{
	return find_rec(s, account);
}

static struct holdsched_rec *
add_rec(struct holdsched *s, const char *account)
{
	struct holdsched_rec *r;

	s->v = xreallocarray(s->v, s->n + 1, sizeof(*s->v));
	r = &s->v[s->n++];
	memset(r, 0, sizeof(*r));
	r->account = xstrdup(account);
	r->reason = xstrdup("");
	return r;
}

static void
del_rec(struct holdsched *s, struct holdsched_rec *r)
{
	size_t i = (size_t)(r - s->v);

	free(r->account);
	free(r->reason);
	memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof(*s->v));
	s->n--;
}

int
holdsched_due(const struct holdsched_rec *r, uint64_t fp, time_t now)
{
	return r == NULL || now >= r->next || r->fp != fp;
}

time_t
holdsched_next_wake(const struct holdsched *s, time_t now)
{
	time_t best = 0;
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->v[i].next > now && (best == 0 || s->v[i].next < best))
			best = s->v[i].next;
	return best;
}

static int
valid_account(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') &&
		    !(*s >= '0' && *s <= '9') && strchr("._@+-", *s) == NULL)
			return 0;
	return 1;
}

/* One line, NUL-terminated, without its newline; 0 if it was added. */
static int
parse_line(struct holdsched *s, char *line)
{
	char *f[6], *p = line, *end;
	long long fails, last, next;
	const char *es;
	unsigned long long fp;
	struct holdsched_rec *r;
	size_t i;

	for (i = 0; i < 6; i++) {
		f[i] = p;
		if (i == 5)
			break;
		if ((p = strchr(p, '\t')) == NULL)
			return -1;
		*p++ = '\0';
	}
	if (!valid_account(f[0]) || find_rec(s, f[0]) != NULL ||
	    util_parse_ll(f[1], 0, 1000000, &fails, &es) == -1 ||
	    util_parse_ll(f[2], 0, 1LL << 40, &last, &es) == -1 ||
	    util_parse_ll(f[3], 0, 1LL << 40, &next, &es) == -1 ||
	    strlen(f[4]) != 16 || strspn(f[4], "0123456789abcdef") != 16)
		return -1;
	errno = 0;
	fp = strtoull(f[4], &end, 16);
	if (errno != 0 || *end != '\0')
		return -1;
	r = add_rec(s, f[0]);
	r->fails = (int)fails;
	r->last = (time_t)last;
	r->next = (time_t)next;
	r->fp = (uint64_t)fp;
	free(r->reason);
	r->reason = xstrndup(f[5], HOLDSCHED_REASON_MAX);
	return 0;
}

/* Reads the open schedule fd into s (replacing what s held). */
static int
read_sched(int fd, const char *dir, struct holdsched *s, struct err *err)
{
	struct buf b;
	char chunk[4096], *line, *nl;
	ssize_t n;
	off_t off = 0;
	int first = 1;

	holdsched_free(s);
	buf_init(&b, SCHED_MAX, 0);
	for (;;) {
		n = pread(fd, chunk, sizeof(chunk), off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			buf_free(&b);
			return err_set(err, ERR_IO, "read %s/%s: %s", dir,
			    HOLDSCHED_FILE, strerror(errno));
		}
		if (n == 0)
			break;
		if (buf_add(&b, chunk, (size_t)n) == -1)
			break;		/* too big: what was read is used */
		off += n;
	}
	line = b.data;
	while (line != NULL && line < b.data + b.len) {
		if ((nl = memchr(line, '\n', (size_t)(b.data + b.len -
		    line))) == NULL)
			break;		/* a torn last line is ignored */
		*nl = '\0';
		if (first) {
			if (strcmp(line, SCHED_MAGIC) != 0) {
				log_warnx("%s/%s: not a hold schedule; "
				    "starting a new one", dir, HOLDSCHED_FILE);
				break;
			}
			first = 0;
		} else if (memchr(line, '\0', (size_t)(nl - line)) != NULL ||
		    parse_line(s, line) == -1)
			log_debug("%s/%s: line dropped", dir, HOLDSCHED_FILE);
		line = nl + 1;
	}
	buf_free(&b);
	return 0;
}

int
holdsched_load(struct queue *q, struct holdsched *s, struct err *err)
{
	int fd, r;

	s->v = NULL;
	s->n = 0;
	fd = openat(q->dirfd, HOLDSCHED_FILE, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOENT)
			return 0;
		return err_set(err, ERR_IO, "open %s/%s: %s", q->dir,
		    HOLDSCHED_FILE, strerror(errno));
	}
	r = read_sched(fd, q->dir, s, err);
	(void)close(fd);
	return r;
}

/*
 * Opens and locks the schedule; 1 (nothing locked) if there is none and
 * create is 0.
 */
static int
sched_lock(struct queue *q, int create, int *fdp, struct err *err)
{
	struct stat a, b;
	int fd, tries;

	for (tries = 0; tries < 100; tries++) {
		fd = openat(q->dirfd, HOLDSCHED_FILE, O_RDWR | O_NOFOLLOW |
		    O_CLOEXEC | (create ? O_CREAT : 0), 0600);
		if (fd == -1 && errno == ENOENT && !create)
			return 1;
		if (fd == -1)
			return err_set(err, ERR_IO, "open %s/%s: %s", q->dir,
			    HOLDSCHED_FILE, strerror(errno));
		if (util_flock_wait(fd, SCHED_LOCK_WAIT_MS) == -1) {
			int saved = errno;

			(void)close(fd);
			return err_set(err, ERR_IO, "lock %s/%s: %s", q->dir,
			    HOLDSCHED_FILE, saved == EWOULDBLOCK ? "another "
			    "process keeps it locked" : strerror(saved));
		}
		if (fstat(fd, &a) == 0 && fstatat(q->dirfd, HOLDSCHED_FILE,
		    &b, AT_SYMLINK_NOFOLLOW) == 0 && a.st_dev == b.st_dev &&
		    a.st_ino == b.st_ino) {
			*fdp = fd;
			return 0;
		}
		/* Replaced while we waited for the lock: take the new one. */
		(void)close(fd);
	}
	return err_set(err, ERR_IO, "lock %s/%s: the file keeps changing",
	    q->dir, HOLDSCHED_FILE);
}

static int
write_sched(struct queue *q, const struct holdsched *s, struct err *err)
{
	struct buf b;
	size_t i;
	int fd, rc = 0;

	buf_init(&b, SCHED_MAX, 0);
	rc |= buf_addf(&b, "%s\n", SCHED_MAGIC);
	for (i = 0; i < s->n; i++)
		rc |= buf_addf(&b, "%s\t%d\t%lld\t%lld\t%016llx\t%s\n",
		    s->v[i].account, s->v[i].fails, (long long)s->v[i].last,
		    (long long)s->v[i].next, (unsigned long long)s->v[i].fp,
		    s->v[i].reason);
	if (rc != 0) {
		buf_free(&b);
		return err_set(err, ERR_IO, "%s/%s: too many accounts",
		    q->dir, HOLDSCHED_FILE);
	}
	fd = openat(q->dirfd, SCHED_TMP, O_WRONLY | O_CREAT | O_TRUNC |
	    O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1 || util_write_all(fd, b.data, b.len) == -1 ||
	    fsync(fd) == -1) {
		int saved = errno;

		if (fd != -1) {
			(void)close(fd);
			(void)unlinkat(q->dirfd, SCHED_TMP, 0);
		}
		buf_free(&b);
		return err_set(err, ERR_IO, "write %s/%s: %s", q->dir,
		    SCHED_TMP, strerror(saved));
	}
	buf_free(&b);
	if (close(fd) == -1 || renameat(q->dirfd, SCHED_TMP, q->dirfd,
	    HOLDSCHED_FILE) == -1) {
		int saved = errno;

		(void)unlinkat(q->dirfd, SCHED_TMP, 0);
		return err_set(err, ERR_IO, "rename %s/%s: %s", q->dir,
		    SCHED_TMP, strerror(saved));
	}
	return 0;
}

/*
 * What a change does: fills s (the locked schedule) in; returns 1 if it
 * changed s (to be written), 0 if not.
 */
typedef int (*sched_fn)(struct holdsched *, void *);

static int
sched_change(struct queue *q, int create, sched_fn fn, void *arg,
    struct err *err)
{
	struct holdsched s;
	int fd, r;

	memset(&s, 0, sizeof(s));
	if ((r = sched_lock(q, create, &fd, err)) != 0)
		return r == 1 ? 0 : -1;
	if ((r = read_sched(fd, q->dir, &s, err)) == 0 && fn(&s, arg) == 1)
		r = write_sched(q, &s, err);
	holdsched_free(&s);
	(void)close(fd);	/* unlocks */
	return r;
}

struct claim_arg {
	struct queue		*q;
	const struct account	*acct;
	char *const		*ids;
	size_t			 nids;
	uint64_t		 fp;
	time_t			 now;
	time_t			 next;
	int			 due;
};

/* 1 if one of ids[0..n) is in hold/ (n == 0: assumed). */
static int
any_held(struct queue *q, char *const *ids, size_t n)
{
	char name[QUEUE_ID_LEN + 8];
	struct stat st;
	size_t i;

	if (n == 0)
		return 1;
	for (i = 0; i < n; i++)
		if (snprintf(name, sizeof(name), "%s.env", ids[i]) <
		    (int)sizeof(name) && fstatat(q->areafd[QAREA_HOLD], name,
		    &st, AT_SYMLINK_NOFOLLOW) == 0)
			return 1;
	return 0;
}

static int
do_claim(struct holdsched *s, void *arg)
{
	struct claim_arg *c = arg;
	struct holdsched_rec *r = find_rec(s, c->acct->name);

	c->due = holdsched_due(r, c->fp, c->now);
	if (!c->due) {
		c->next = r->next;
		return 0;
	}
	if (!any_held(c->q, c->ids, c->nids)) {
		c->due = 2;		/* gone meanwhile: nothing to try */
		c->next = 0;
		return 0;
	}
	if (r == NULL)
		r = add_rec(s, c->acct->name);
	else if (r->fp != c->fp)
		r->fails = 0;		/* new configuration: a new start */
	r->fp = c->fp;
	r->last = c->now;
	r->next = c->now + holdsched_step(r->fails + 1);
	c->next = r->next;
	return 1;
}

int
holdsched_claim(struct queue *q, const struct account *acct, time_t now,
    char *const *ids, size_t n, time_t *next, struct err *err)
{
	struct claim_arg c;

	memset(&c, 0, sizeof(c));
	c.q = q;
	c.acct = acct;
	c.ids = ids;
	c.nids = n;
	c.fp = holdsched_fingerprint(acct);
	c.now = now;
	if (sched_change(q, 1, do_claim, &c, err) == -1)
		return -1;
	if (next != NULL)
		*next = c.next;
	return c.due;
}

struct record_arg {
	const struct account	*acct;
	const char		*reason;
	time_t			 now;
	time_t			 next;
	int			 held;
};

static int
do_record(struct holdsched *s, void *arg)
{
	struct record_arg *a = arg;
	struct holdsched_rec *r = find_rec(s, a->acct->name);
	char why[HOLDSCHED_REASON_MAX + 1];
	uint64_t fp = holdsched_fingerprint(a->acct);

	if (!a->held) {
		if (r == NULL)
			return 0;
		del_rec(s, r);
		return 1;
	}
	if (r == NULL)
		r = add_rec(s, a->acct->name);
	else if (r->fp != fp)
		r->fails = 0;
	if (r->fails < 1000000)
		r->fails++;
	r->fp = fp;
	r->last = a->now;
	r->next = a->now + holdsched_step(r->fails);
	a->next = r->next;
	util_sanitize(why, sizeof(why), a->reason != NULL ? a->reason : "",
	    a->reason != NULL ? strlen(a->reason) : 0);
	free(r->reason);
	r->reason = xstrdup(why);
	return 1;
}

int
holdsched_record(struct queue *q, const struct account *acct, int held,
    const char *reason, time_t now, time_t *next, struct err *err)
{
	struct record_arg a;

	memset(&a, 0, sizeof(a));
	a.acct = acct;
	a.reason = reason;
	a.now = now;
	a.held = held;
	if (sched_change(q, held, do_record, &a, err) == -1)
		return -1;
	if (next != NULL)
		*next = a.next;
	return 0;
}

static int
do_reset(struct holdsched *s, void *arg)
{
	const char *account = arg;
	struct holdsched_rec *r;

	if (account == NULL) {
		if (s->n == 0)
			return 0;
		holdsched_free(s);
		return 1;
	}
	if ((r = find_rec(s, account)) == NULL)
		return 0;
	del_rec(s, r);
	return 1;
}

int
holdsched_reset(struct queue *q, const char *account, struct err *err)
{
	return sched_change(q, 0, do_reset, (void *)(uintptr_t)account, err);
}

struct prune_arg {
	char *const	*names;
	size_t		 n;
	time_t		 now;
};

static int
do_prune(struct holdsched *s, void *arg)
{
	struct prune_arg *p = arg;
	size_t i, j;
	int changed = 0;

	for (i = 0; i < s->n; ) {
		for (j = 0; j < p->n; j++)
			if (strcmp(p->names[j], s->v[i].account) == 0)
				break;
		if (j == p->n && s->v[i].next <= p->now) {
			del_rec(s, &s->v[i]);
			changed = 1;
		} else
			i++;
	}
	return changed;
}

int
holdsched_prune(struct queue *q, char *const *names, size_t n, time_t now,
    struct err *err)
{
	struct prune_arg p;

	p.names = names;
	p.n = n;
	p.now = now;
	return sched_change(q, 0, do_prune, &p, err);
}

void
holdsched_reset_account(const struct account *a)
{
	struct queue q;
	struct err err;

	err_clear(&err);
	if (queue_open(&q, a->queue_dir, &err) == -1) {
		log_debug("hold schedule not reset: %s", err.msg);
		return;
	}
	if (holdsched_reset(&q, a->name, &err) == -1)
		log_warnx("account %s: %s", a->name, err.msg);
	queue_close(&q);
}
