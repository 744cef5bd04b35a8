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
#include "buf.h"
#include "intake.h"
#include "log.h"
#include "sysq.h"
#include "util.h"
#include "xmalloc.h"

#define DROP_MAGIC	"oauthmail-drop 1 "
/* "oauthmail-drop 1 a=0 f=0 msg=" + 20 digits + "\n" */
#define DROP_HDR_LEN	(sizeof(DROP_MAGIC) - 1 + 4 + 4 + 4 + 20 + 1)
_Static_assert(DROP_HDR_LEN == SYSQ_HDR_LEN, "SYSQ_HDR_LEN");
#define DROP_WRITING	0040	/* group-readable: the daemon may lock it */
#define DROP_READY	0440
#define DROP_ABANDONED	0400
/* A ready file still locked is being closed: retry this often, 10 ms apart. */
#define CLAIM_TRIES	20
/* A refused file's notices: headers quoted, whole message. */
#define NOTICE_HDR_MAX	(32 * 1024)
#define NOTICE_MAX	(128 * 1024)
#define LEDGER_NAME	".usage"
#define LEDGER_MODE	0660
#define LEDGER_MAX	(1024 * 1024)

static int	write_all(int, const char *, size_t, off_t);
static int	valid_drop_name(const char *);

/* --------------------------------------------------- the usage ledger --- */

static struct sysq_usage *
ledger_get(struct ledger *l, unsigned long uid)
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
			struct sysq_usage *u = ledger_get(l, (unsigned long)x[0]);

			u->files = x[1];
			u->bytes = x[2];
		}
		p = nl + 1;
	}
}

/* Replaces the ledger's content (lock held). */
static int
ledger_write(int fd, const struct ledger *l)
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

static int
drop_dir_path(const struct config *cf, char *dst, size_t size)
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
	if (drop_dir_path(cf, path, sizeof(path)) == -1)
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
		u = ledger_get(&l, (unsigned long)getuid());
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
		(void)ledger_write(lfd, &l);	/* the daemon recounts */
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
	if (intake_read(in, d->fd, &io, &env, err) == -1)
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
	if (drop_dir_path(cf, path, sizeof(path)) == -1)
		return;
	/* Mode 1730: the group may search it, not read it. */
	fd = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
		sizecache_load(fd, SIZECACHE_SYS_NAME, st.st_uid, c);
	(void)close(fd);
}

/* ------------------------------------------------------ daemon side --- */

/* A stdio stream over fd's bytes [off, end), for intake_read. */
struct range {
	int	 fd;
	off_t	 off;
	off_t	 end;
};

static ssize_t
range_read(void *cookie, char *p, size_t n)
{
	struct range *r = cookie;
	ssize_t got;

	if (r->off >= r->end)
		return 0;
	if ((off_t)n > r->end - r->off)
		n = (size_t)(r->end - r->off);
	do
		got = pread(r->fd, p, n, r->off);
	while (got == -1 && errno == EINTR);
	if (got > 0)
		r->off += got;
	return got;
}

static int
range_close(void *cookie)
{
	(void)cookie;
	return 0;
}

static int
valid_notify(const char *s)
{
	char w[16];
	const char *e;
	size_t n;

	if (strcmp(s, "NEVER") == 0)
		return 1;
	while (*s != '\0') {
		e = strchr(s, ',');
		n = e != NULL ? (size_t)(e - s) : strlen(s);
		if (n == 0 || n >= sizeof(w))
			return 0;
		memcpy(w, s, n);
		w[n] = '\0';
		if (strcmp(w, "SUCCESS") != 0 && strcmp(w, "FAILURE") != 0 &&
		    strcmp(w, "DELAY") != 0)
			return 0;
		s += n + (e != NULL);
		if (e != NULL && *s == '\0')
			return 0;
	}
	return 1;
}

static int
valid_envid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 100)
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

static int
valid_drop_name(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' &&
		    s[i] <= 'f')))
			return 0;
	return i == QUEUE_ID_LEN;
}

/* Moves a drop file to corrupt/ (never deleted); logs why. */
static void
set_aside(struct queue *q, int dirfd, const char *name, const char *why)
{
	static unsigned int seq;
	char safe[80], to[160];

	util_sanitize(safe, sizeof(safe), name, strlen(name));
	if (valid_drop_name(name))
		(void)snprintf(to, sizeof(to), "maildrop-%s", name);
	else
		(void)snprintf(to, sizeof(to), "maildrop-%lld-%ld-%u",
		    (long long)time(NULL), (long)getpid(), seq++);
	if (renameat(dirfd, name, q->areafd[QAREA_CORRUPT], to) == -1) {
		log_warn("maildrop: cannot move '%s' aside (%s)", safe, why);
		return;
	}
	(void)fsync(q->areafd[QAREA_CORRUPT]);
	log_warnx("maildrop: '%s' moved to corrupt/%s: %s", safe, to, why);
}

int
sysq_parse_header(const char *h, int *a, int *f, unsigned long long *msg)
{
	const char *p;
	size_t i;

	if (memcmp(h, DROP_MAGIC, sizeof(DROP_MAGIC) - 1) != 0)
		return -1;
	p = h + sizeof(DROP_MAGIC) - 1;
	if (strncmp(p, "a=", 2) != 0 || (p[2] != '0' && p[2] != '1') ||
	    strncmp(p + 3, " f=", 3) != 0 || (p[6] != '0' && p[6] != '1') ||
	    strncmp(p + 7, " msg=", 5) != 0)
		return -1;
	*a = p[2] == '1';
	*f = p[6] == '1';
	*msg = 0;
	for (i = 0, p += 12; i < 20; i++, p++) {
		if (*p < '0' || *p > '9')
			return -1;
		if (*msg > (unsigned long long)1 << 42)
			return -1;
		*msg = *msg * 10 + (unsigned long long)(*p - '0');
	}
	return *p == '\n' ? 0 : -1;
}

/* What pick_one learnt of a drop file, for the notices when it refuses. */
struct pick {
	char			 why[1024];
	const struct account	*acct;		/* chosen, or NULL */
	struct envelope		 denv;		/* valid when parsed */
	int			 parsed;
	off_t			 msgend;	/* the message: [hdr, msgend) */
	int			 toobig;
};

/*
 * One ready drop file (fd open, st its fstat) into the queue. Returns 0
 * when queued, -1 with pk->why set when the file is refused (set it aside
 * and tell its submitter: pk->acct and pk->denv say what is known of it),
 * -2 for a local failure (leave it for the next run).
 */
static int
pick_one(const struct config *cf, const struct sizecache *sizes,
    struct queue *q, int fd, const struct stat *st, const char *name,
    struct pick *pk)
{
	char hdr[DROP_HDR_LEN + 1], *etext = NULL, **rcpts = NULL;
	char *why = pk->why;
	size_t whysize = sizeof(pk->why);
	unsigned long long msglen;
	struct envelope *dp = &pk->denv, qenv;
	struct size_limit lim;
	struct intake_opts io;
	struct range r;
	struct passwd *pw;
	struct account *acct;
	struct err e;
	const char *sender;
	off_t envoff, envlen;
	ssize_t n;
	size_t i;
	FILE *fp = NULL;
	int qfd = -1, a, f, rc = -1;
	cookie_io_functions_t io_funcs = { range_read, NULL, NULL,
	    range_close };

	envelope_init(&qenv);
	err_clear(&e);
	*why = '\0';
	if (st->st_size < (off_t)DROP_HDR_LEN ||
	    pread(fd, hdr, DROP_HDR_LEN, 0) != (ssize_t)DROP_HDR_LEN) {
		(void)snprintf(why, whysize, "truncated header");
		goto out;
	}
	hdr[DROP_HDR_LEN] = '\0';
	if (sysq_parse_header(hdr, &a, &f, &msglen) == -1) {
		(void)snprintf(why, whysize, "bad header");
		goto out;
	}
	envoff = (off_t)DROP_HDR_LEN + (off_t)msglen;
	if (envoff > st->st_size || (envlen = st->st_size - envoff) == 0 ||
	    envlen > ENVELOPE_MAX) {
		(void)snprintf(why, whysize, "bad message length");
		goto out;
	}
	pk->msgend = envoff;
	etext = xmalloc((size_t)envlen + 1);
	if ((n = pread(fd, etext, (size_t)envlen, envoff)) != envlen) {
		(void)snprintf(why, whysize, "short read");
		goto out;
	}
	etext[envlen] = '\0';
	if (envelope_load(dp, etext, (size_t)envlen, &e) == -1) {
		(void)snprintf(why, whysize, "bad envelope: %s", e.msg);
		goto out;
	}
	pk->parsed = 1;
	if (f && dp->sender[0] != '\0') {
		struct addr ad;

		if (addr_parse_one(dp->sender, &ad, &e) == -1) {
			(void)snprintf(why, whysize, "bad sender: %s", e.msg);
			goto out;
		}
		addr_clear(&ad);
	}
	if ((dp->dsn_notify != NULL && !valid_notify(dp->dsn_notify)) ||
	    (dp->dsn_ret != NULL && strcmp(dp->dsn_ret, "FULL") != 0 &&
	    strcmp(dp->dsn_ret, "HDRS") != 0) ||
	    (dp->envid != NULL && !valid_envid(dp->envid))) {
		(void)snprintf(why, whysize, "bad DSN parameters");
		goto out;
	}
	acct = conf_select(cf, a ? dp->account : NULL,
	    f ? dp->sender : NULL, &e);
	if (acct == NULL) {
		(void)snprintf(why, whysize, "%s", e.msg);
		goto out;
	}
	pk->acct = acct;
	/* The submitter's limit (LF endings here: never more than sent). */
	sizecache_limit(acct, sizes, &lim);
	if (msglen > (unsigned long long)lim.bytes) {
		pk->toobig = 1;
		(void)snprintf(why, whysize, "message larger than the limit "
		    "of %lld bytes; %s", lim.bytes, lim.why);
		goto out;
	}
	sender = conf_pick_sender(acct, f ? dp->sender : NULL);

	/*
	 * The message again through intake, in verify mode: nothing of it
	 * is trusted, and all that the submitter's intake wrote passes.
	 */
	r.fd = fd;
	r.off = DROP_HDR_LEN;
	r.end = envoff;
	if ((fp = fopencookie(&r, "r", io_funcs)) == NULL) {
		rc = -2;
		goto out;
	}
	rcpts = xreallocarray(NULL, dp->nrcpts, sizeof(*rcpts));
	for (i = 0; i < dp->nrcpts; i++)
		rcpts[i] = dp->rcpts[i].addr;
	memset(&io, 0, sizeof(io));
	io.verify = 1;
	io.max_size = (off_t)lim.bytes;
	io.size_cure = lim.why;
	io.rcpts = rcpts;
	io.nrcpts = dp->nrcpts;
	if (queue_create(q, &qenv, &qfd, &e) == -1) {
		log_warnx("maildrop %s: %s", name, e.msg);
		rc = -2;
		goto out;
	}
	if (intake_read(fp, qfd, &io, &qenv, &e) == -1) {
		queue_abort(q, &qenv, qfd);
		if (e.class == ERR_IO) {
			log_warnx("maildrop %s: %s", name, e.msg);
			rc = -2;
		} else {
			pk->toobig = strstr(e.msg, "max_message_size") != NULL;
			(void)snprintf(why, whysize, "bad message: %s", e.msg);
		}
		goto out;
	}
	qenv.account = xstrdup(acct->name);
	qenv.sender = xstrdup(sender);
	if (!util_is_ascii(sender, strlen(sender)) || dp->smtputf8)
		qenv.smtputf8 = 1;
	if (dp->body8bit)
		qenv.body8bit = 1;
	if (dp->dsn_notify != NULL)
		qenv.dsn_notify = xstrdup(dp->dsn_notify);
	if (dp->dsn_ret != NULL)
		qenv.dsn_ret = xstrdup(dp->dsn_ret);
	if (dp->envid != NULL)
		qenv.envid = xstrdup(dp->envid);
	qenv.created = qenv.next_try = time(NULL);
	qenv.state = ENV_QUEUED;
	if (queue_commit(q, &qenv, qfd, &e) == -1) {
		log_warnx("maildrop %s: %s", name, e.msg);
		rc = -2;
		goto out;
	}
	pw = getpwuid(st->st_uid);
	log_info("%s: from maildrop %s, uid=%lu (%s), account=%s, "
	    "from=<%s>, nrcpt=%zu, size=%lld", qenv.id, name,
	    (unsigned long)st->st_uid, pw != NULL ? pw->pw_name : "?",
	    acct->name, sender, qenv.nrcpts, (long long)qenv.size);
	rc = 0;
out:
	if (fp != NULL)
		(void)fclose(fp);
	free(rcpts);
	free(etext);
	envelope_free(&qenv);
	return rc;
}

/* ------------------------------------------ notices for refused files --- */

/* The largest drop file any account's limit allows. */
static off_t
drop_max(const struct config *cf, const struct sizecache *sizes)
{
	struct size_limit lim;
	long long m = SIZECACHE_DEFAULT;
	size_t i;

	for (i = 0; i < cf->naccounts; i++) {
		sizecache_limit(cf->accounts[i], sizes, &lim);
		if (lim.bytes > m)
			m = lim.bytes;
	}
	return (off_t)m + (off_t)DROP_HDR_LEN + ENVELOPE_MAX;
}

/*
 * Where a local user's mail goes: the account's aliases for the user's
 * name, else the account's admin address, else its own address.
 */
static char *
user_address(const struct account *a, const char *user)
{
	struct aliases *al = NULL;
	struct err e;
	char **v = NULL, *r = NULL;
	size_t i, n = 0;

	if (user != NULL && a->aliases != NULL &&
	    aliases_load(a->aliases, &al, &e) == 0 &&
	    aliases_expand(al, user, &v, &n, &e) == 0 && n > 0 &&
	    strchr(v[0], '@') != NULL)
		r = xstrdup(v[0]);
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
	if (al != NULL)
		aliases_free(al);
	if (r == NULL)
		r = xstrdup(a->admin != NULL ? a->admin : a->from);
	return r;
}

/*
 * Appends the header block of the refused message, cut at a line, with
 * what could upset SMTP (CR, NUL, lines over 998 octets) left out.
 */
static void
add_msg_headers(struct buf *b, int fd, off_t end)
{
	char chunk[8192];
	size_t i, col = 0, total = 0;
	off_t off = DROP_HDR_LEN;
	ssize_t r;
	int nl = 1;

	while (off < end && total < NOTICE_HDR_MAX) {
		r = pread(fd, chunk, sizeof(chunk), off);
		if (r <= 0)
			break;
		if (r > end - off)
			r = (ssize_t)(end - off);
		for (i = 0; i < (size_t)r; i++, total++) {
			if (chunk[i] == '\n' && nl)
				return;		/* the empty line */
			if (chunk[i] == '\r' || chunk[i] == '\0')
				continue;
			nl = chunk[i] == '\n';
			col = nl ? 0 : col + 1;
			if (col < 990)
				(void)buf_addc(b, chunk[i]);
		}
		off += r;
	}
	if (!nl)
		(void)buf_addc(b, '\n');
}

/* Queues text (LF endings) from sender to rcpt through account a. */
static int
queue_notice(struct queue *q, const struct account *a, const char *sender,
    const char *rcpt, const struct buf *text, int bounce, struct err *e)
{
	struct envelope env;
	const char *p;
	int fd, rc = -1;

	envelope_init(&env);
	if (queue_create(q, &env, &fd, e) == -1)
		goto out;
	if (util_write_all(fd, buf_str(text), text->len) == -1) {
		(void)err_set(e, ERR_IO, "write: %s", strerror(errno));
		queue_abort(q, &env, fd);
		goto out;
	}
	env.account = xstrdup(a->name);
	env.sender = xstrdup(sender);
	env.created = env.next_try = time(NULL);
	env.is_bounce = bounce;
	env.body8bit = !util_is_ascii(buf_str(text), text->len);
	env.smtputf8 = !util_is_ascii(rcpt, strlen(rcpt));
	env.size = (off_t)text->len;
	for (p = buf_str(text); (p = strchr(p, '\n')) != NULL; p++)
		env.size++;
	if (envelope_add_rcpt(&env, rcpt, NULL) == -1) {
		(void)err_set(e, ERR_ADDR, "invalid address <%s>", rcpt);
		queue_abort(q, &env, fd);
		goto out;
	}
	rc = queue_commit(q, &env, fd, e);
out:
	if (rc == 0)
		log_info("%s: notice queued for <%s>", env.id, rcpt);
	envelope_free(&env);
	return rc;
}

/*
 * A drop file was refused after its submitter exited 0: a delivery status
 * notification (RFC 3464) to the submitting user (the file's owner, mapped
 * like any local recipient) and a warning to the account's admin address.
 */
static void
tell_refused(const struct config *cf, struct queue *q, int fd,
    const struct stat *st, const char *name, const struct pick *pk)
{
	const struct account *a = pk->acct;
	struct passwd *pw;
	struct buf b;
	struct err e;
	char safe[1024], date[64], mid[320], user[64], *to = NULL;
	const char *mta = util_hostname(), *status, *dom;
	size_t i;

	if (a == NULL && (a = conf_select(cf, NULL, NULL, &e)) == NULL &&
	    cf->naccounts > 0)
		a = cf->accounts[0];
	if (a == NULL || a->from == NULL) {
		log_warnx("maildrop: %s: no account to send a notice through",
		    name);
		return;
	}
	pw = getpwuid(st->st_uid);
	(void)snprintf(user, sizeof(user), "%s", pw != NULL ? pw->pw_name :
	    "?");
	util_sanitize(safe, sizeof(safe), pk->why, strlen(pk->why));
	status = pk->toobig ? "5.3.4" : "5.6.0";
	to = user_address(a, pw != NULL ? user : NULL);
	dom = strrchr(a->from, '@') != NULL ? strrchr(a->from, '@') + 1 : mta;
	if (util_date(date, sizeof(date), time(NULL)) == -1 ||
	    util_message_id(mid, sizeof(mid), dom) == -1)
		goto out;
	buf_init(&b, NOTICE_MAX, 0);
	(void)buf_addf(&b, "From: \"Mail Delivery System\" <%s>\n"
	    "To: <%s>\nSubject: Undelivered Mail Returned to Sender\n"
	    "Date: %s\nMessage-ID: %s\nAuto-Submitted: auto-replied\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/%s;\n\tboundary=\"%s/%s\"\n\n"
	    "This is a MIME-encapsulated message.\n\n"
	    "--%s/%s\nContent-Description: Notification\n"
	    "Content-Type: text/plain; charset=us-ascii\n\n"
	    "This is the mail system at host %s.\n\n"
	    "A message that user %s (uid %lu) submitted with sendmail, which\n"
	    "accepted it, could not be queued for delivery and was not sent:\n"
	    "\n    %s\n\nThe queue keeps it in corrupt/ as\n    maildrop-%s\n%s"
	    "\n", a->from, to, date, mid,
	    pk->parsed ? "report; report-type=delivery-status" : "mixed",
	    name, mta, name, mta, mta, user, (unsigned long)st->st_uid, safe,
	    name, a->admin != NULL && strcasecmp(a->admin, to) != 0 ?
	    "and the administrator has been told.\n" : "");
	if (pk->parsed && pk->denv.nrcpts > 0) {
		(void)buf_addf(&b, "--%s/%s\nContent-Description: Delivery "
		    "report\nContent-Type: message/delivery-status\n\n"
		    "Reporting-MTA: dns; %s\nX-Oauthmail-Queue-ID: %s\n",
		    name, mta, mta, name);
		for (i = 0; i < pk->denv.nrcpts && i < 100; i++) {
			util_sanitize(date, sizeof(date),
			    pk->denv.rcpts[i].addr,
			    strlen(pk->denv.rcpts[i].addr));
			(void)buf_addf(&b, "\nFinal-Recipient: rfc822; %s\n"
			    "Action: failed\nStatus: %s\n", date, status);
		}
		(void)buf_addc(&b, '\n');
	}
	if (pk->msgend > (off_t)DROP_HDR_LEN) {
		(void)buf_addf(&b, "--%s/%s\nContent-Description: Undelivered "
		    "Message Headers\nContent-Type: text/rfc822-headers\n\n",
		    name, mta);
		add_msg_headers(&b, fd, pk->msgend);
		(void)buf_addc(&b, '\n');
	}
	(void)buf_addf(&b, "--%s/%s--\n", name, mta);
	err_clear(&e);
	if (b.data == NULL || queue_notice(q, a, "", to, &b, 1, &e) == -1)
		log_warnx("maildrop: %s: cannot queue the bounce for <%s>: %s",
		    name, to, b.data == NULL ? "too large" : e.msg);
	buf_free(&b);
	if (a->admin == NULL || strcasecmp(a->admin, to) == 0)
		goto out;
	if (util_message_id(mid, sizeof(mid), dom) == -1)
		goto out;
	buf_init(&b, NOTICE_MAX, 0);
	(void)buf_addf(&b, "From: oauthmail <%s>\nTo: <%s>\n"
	    "Subject: oauthmail: a message from %s was refused\n"
	    "Date: %s\nMessage-ID: %s\nAuto-Submitted: auto-generated\n"
	    "MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n"
	    "\nThe delivery daemon on %s refused maildrop file %s from user %s "
	    "(uid %lu)\nafter sendmail had accepted it:\n\n    %s\n\n"
	    "It is kept as corrupt/maildrop-%s in the queue; a bounce went "
	    "to <%s>.\n", a->from, a->admin, user, date, mid, mta, name,
	    user, (unsigned long)st->st_uid, safe, name, to);
	err_clear(&e);
	if (b.data == NULL || queue_notice(q, a, a->from, a->admin, &b, 0,
	    &e) == -1)
		log_warnx("maildrop: %s: cannot queue the warning for <%s>: "
		    "%s", name, a->admin, b.data == NULL ? "too large" : e.msg);
	buf_free(&b);
out:
	free(to);
}

/*
 * Takes the lock of an open drop file and checks that name still refers
 * to it: 0 when this runner owns it now, 1 when it is not ours to take
 * (its writer or another runner holds it, or another runner has taken it
 * away meanwhile). The caller keeps the lock until the file is gone.
 */
static int
claim(int dfd, const char *name, int fd)
{
	struct stat st, now;
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int tries;

	for (tries = 0; flock(fd, LOCK_EX | LOCK_NB) == -1; tries++) {
		if (errno == EINTR)
			continue;
		/* A ready file is locked only while its writer closes it. */
		if (errno != EWOULDBLOCK || tries >= CLAIM_TRIES ||
		    fstat(fd, &st) == -1 || (st.st_mode & 07777) != DROP_READY)
			return 1;
		(void)nanosleep(&ts, NULL);
	}
	if (fstat(fd, &st) == -1 ||
	    fstatat(dfd, name, &now, AT_SYMLINK_NOFOLLOW) == -1 ||
	    st.st_dev != now.st_dev || st.st_ino != now.st_ino)
		return 1;
	return 0;
}

/* One directory entry of the maildrop; 1 if it was queued. */
static int
pickup_one(const struct config *cf, const struct sizecache *sizes,
    struct queue *q, int dfd, const char *name, time_t now)
{
	struct pick pk;
	struct stat st;
	int fd, r;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return 0;
	if (!S_ISREG(st.st_mode)) {
		set_aside(q, dfd, name, "not a regular file");
		return 0;
	}
	if (!valid_drop_name(name)) {
		set_aside(q, dfd, name, "not a drop file name");
		return 0;
	}
	/* Abandoned by a failed submission (we cannot open it: 0400). */
	if ((st.st_mode & 07777) == DROP_ABANDONED && st.st_size == 0) {
		(void)unlinkat(dfd, name, 0);
		return 0;
	}
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC);
	if (fd == -1 && errno == ENOENT)
		return 0;		/* another runner took it */
	if (fd == -1 && errno == EACCES && (st.st_mode & 07777) == 0) {
		/*
		 * Mode 0000: created this instant (its writer takes the lock
		 * before it makes the file readable to us), or written by an
		 * older version that took no lock: only then age tells.
		 */
		if (st.st_mtime < now - QUEUE_TMP_STALE)
			set_aside(q, dfd, name, "never completed");
		return 0;
	}
	if (fd == -1) {
		set_aside(q, dfd, name, strerror(errno));
		return 0;
	}
	if (claim(dfd, name, fd) != 0) {
		(void)close(fd);	/* being written, or not ours */
		return 0;
	}
	memset(&pk, 0, sizeof(pk));
	envelope_init(&pk.denv);
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_nlink != 1 || st.st_size > drop_max(cf, sizes)) {
		(void)snprintf(pk.why, sizeof(pk.why), "oversized, linked or "
		    "not a regular file");
		pk.toobig = st.st_size > drop_max(cf, sizes);
		set_aside(q, dfd, name, pk.why);
		if (S_ISREG(st.st_mode))
			tell_refused(cf, q, fd, &st, name, &pk);
		(void)close(fd);
		return 0;
	}
	if ((st.st_mode & 07777) != DROP_READY) {
		/* Unlocked yet incomplete: its writer died before exit 0. */
		if (st.st_size == 0) {
			log_info("maildrop: %s removed: empty, its writer "
			    "exited before writing", name);
			(void)unlinkat(dfd, name, 0);
		} else
			set_aside(q, dfd, name, "never completed: its writer "
			    "exited before finishing it");
		(void)close(fd);
		return 0;
	}
	r = pick_one(cf, sizes, q, fd, &st, name, &pk);
	if (r == 0) {
		/* A crash right here delivers it twice, never zero. */
		if (unlinkat(dfd, name, 0) == -1)
			log_warn("maildrop: cannot remove %s", name);
	} else if (r == -1) {
		set_aside(q, dfd, name, pk.why);
		tell_refused(cf, q, fd, &st, name, &pk);
	}
	envelope_free(&pk.denv);
	/* The lock goes last: no other runner can take it before. */
	(void)close(fd);
	return r == 0;
}

/*
 * The daemon's side: rewrites the ledger from the maildrop's content (every
 * drop file by owner: files, bytes), under its lock so that no submitter
 * adds a file meanwhile. Creates it (0660, the maildrop's group) if needed.
 */
static void
ledger_recount(int dfd, const struct stat *dirst)
{
	struct ledger l;
	struct sysq_usage *u;
	struct dirent *de;
	struct stat st;
	DIR *dir;
	int fd, lfd;

	lfd = openat(dfd, LEDGER_NAME, O_RDWR | O_CREAT | O_NOFOLLOW |
	    O_NONBLOCK | O_NOCTTY | O_CLOEXEC, LEDGER_MODE);
	if (lfd != -1 && (fstat(lfd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || st.st_nlink != 1)) {
		/* Not ours: only a process with the group could have made it. */
		(void)close(lfd);
		log_warnx("maildrop: %s is not the daemon's; replaced",
		    LEDGER_NAME);
		(void)unlinkat(dfd, LEDGER_NAME, 0);
		lfd = openat(dfd, LEDGER_NAME, O_RDWR | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, LEDGER_MODE);
		if (lfd != -1 && fstat(lfd, &st) == -1) {
			(void)close(lfd);
			lfd = -1;
		}
	}
	if (lfd == -1) {
		log_warn("maildrop: cannot open %s; local users' bounds are not "
		    "enforced", LEDGER_NAME);
		return;
	}
	if ((st.st_gid != dirst->st_gid &&
	    fchown(lfd, (uid_t)-1, dirst->st_gid) == -1) ||
	    ((st.st_mode & 07777) != LEDGER_MODE &&
	    fchmod(lfd, LEDGER_MODE) == -1))
		log_warn("maildrop: %s: cannot make it 0660 of the maildrop's "
		    "group", LEDGER_NAME);
	memset(&l, 0, sizeof(l));
	if (flock(lfd, LOCK_EX) == -1 ||
	    (fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    (dir = fdopendir(fd)) == NULL) {
		(void)close(lfd);
		return;
	}
	while ((de = readdir(dir)) != NULL) {
		if (!valid_drop_name(de->d_name) ||
		    fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    !S_ISREG(st.st_mode))
			continue;
		u = ledger_get(&l, (unsigned long)st.st_uid);
		u->files++;
		u->bytes += (unsigned long long)st.st_size;
	}
	(void)closedir(dir);
	if (ledger_write(lfd, &l) == -1)
		log_warn("maildrop: writing %s", LEDGER_NAME);
	(void)close(lfd);
	free(l.v);
}

int
sysq_clean_corrupt(struct queue *q, long long max_age, time_t now)
{
	struct dirent *de;
	struct stat st;
	DIR *dir;
	char safe[300];
	int fd, cfd = q->areafd[QAREA_CORRUPT], n = 0;

	if (max_age <= 0 || cfd == -1 ||
	    (fd = openat(cfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return 0;
	if ((dir = fdopendir(fd)) == NULL) {
		(void)close(fd);
		return 0;
	}
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.' ||
		    fstatat(cfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    S_ISDIR(st.st_mode) || st.st_ctime >= now - max_age)
			continue;
		util_sanitize(safe, sizeof(safe), de->d_name,
		    strlen(de->d_name));
		if (unlinkat(cfd, de->d_name, 0) == -1) {
			log_warn("corrupt/%s: cannot remove it", safe);
			continue;
		}
		log_info("corrupt/%s removed: set aside %lld days ago "
		    "(corrupt_max_age %lld s)", safe,
		    (long long)(now - st.st_ctime) / 86400, max_age);
		n++;
	}
	(void)closedir(dir);
	if (n > 0)
		(void)fsync(cfd);
	return n;
}

int
sysq_pickup(const struct config *cf, struct queue *q, struct err *err)
{
	char path[1024];
	struct sizecache sizes = { NULL, 0 };
	struct dirent *de;
	struct stat st;
	DIR *dir;
	time_t now = time(NULL);
	int dfd, count = 0;

	if (drop_dir_path(cf, path, sizeof(path)) == -1)
		return err_set(err, ERR_CONFIG, "spool_dir is too long");
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd == -1 && errno == ENOENT)
		return 0;
	if (dfd == -1 || (dir = fdopendir(dfd)) == NULL) {
		(void)err_set(err, ERR_CONFIG, "%s: %s; the queue runner must "
		    "run as the owner of the maildrop (the oauthmail user)",
		    path, strerror(errno));
		if (dfd != -1)
			(void)close(dfd);
		return -1;
	}
	/* Only the directory's owner may remove others' files (sticky). */
	if (fstat(dfd, &st) == -1 || st.st_uid != geteuid()) {
		(void)closedir(dir);
		return err_set(err, ERR_CONFIG, "%s: not owned by this user "
		    "(uid %lu); run the queue as the oauthmail user", path,
		    (unsigned long)geteuid());
	}
	sizecache_load(dfd, SIZECACHE_SYS_NAME, st.st_uid, &sizes);
	while ((de = readdir(dir)) != NULL) {
		/* The size record and its temporary files are ours. */
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, LEDGER_NAME) == 0 ||
		    strncmp(de->d_name, SIZECACHE_SYS_NAME,
		    strlen(SIZECACHE_SYS_NAME)) == 0)
			continue;
		count += pickup_one(cf, &sizes, q, dfd, de->d_name, now);
	}
	sizecache_free(&sizes);
	ledger_recount(dfd, &st);
	(void)closedir(dir);
	(void)sysq_clean_corrupt(q, cf->corrupt_max_age == 0 ?
	    SYSQ_CORRUPT_MAX_AGE : cf->corrupt_max_age, time(NULL));
	return count;
}
