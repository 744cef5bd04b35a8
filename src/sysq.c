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
#define DROP_WRITING	0040	/* group-readable: the daemon may lock it */
#define DROP_READY	0440
#define DROP_ABANDONED	0400
/* A ready file still locked is being closed: retry this often, 10 ms apart. */
#define CLAIM_TRIES	20

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
	struct stat st;
	int tries;

	d->dirfd = d->fd = -1;
	d->name[0] = '\0';
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
	for (tries = 0; tries < 10; tries++) {
		if (util_random_hex(d->name, QUEUE_ID_LEN / 2) == -1)
			return err_set(err, ERR_OS, "no random bytes");
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
		return err_set(err, ERR_TEMP, "%s/%s: %s; the message was "
		    "not accepted, try again later", path, d->name,
		    strerror(e));
	}
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
	return rc;
}

void
sysq_drop_abort(struct sysq_drop *d)
{
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

/*
 * deliver_pick_sender's rule (not called: sysq.o must not pull deliver.o
 * into programs that link runq.o without it): -f only when the account
 * may send as it, else the account's address.
 */
static const char *
pick_sender(const char *sender, const struct account *acct)
{
	if (sender == NULL)
		return acct->from;
	if (acct->allow_from_override)
		return sender;
	if (sender[0] != '\0' && conf_sender_allowed(acct, sender))
		return sender;
	log_info("maildrop: envelope sender <%s> is not an address account "
	    "'%s' may send as; using <%s>", sender, acct->name, acct->from);
	return acct->from;
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

static int
parse_header(const char *h, int *a, int *f, unsigned long long *msg)
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
		if (*msg > (unsigned long long)SYSQ_DROP_MAX)
			return -1;
		*msg = *msg * 10 + (unsigned long long)(*p - '0');
	}
	return *p == '\n' ? 0 : -1;
}

/*
 * One ready drop file (fd open, st its fstat) into the queue. Returns 0
 * when queued, -1 with why set when the file is malformed (set it aside),
 * -2 for a local failure (leave it for the next run).
 */
static int
pick_one(const struct config *cf, struct queue *q, int fd,
    const struct stat *st, const char *name, char *why, size_t whysize)
{
	char hdr[DROP_HDR_LEN + 1], *etext = NULL, **rcpts = NULL;
	unsigned long long msglen;
	struct envelope denv, qenv;
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

	envelope_init(&denv);
	envelope_init(&qenv);
	err_clear(&e);
	*why = '\0';
	if (st->st_size < (off_t)DROP_HDR_LEN ||
	    pread(fd, hdr, DROP_HDR_LEN, 0) != (ssize_t)DROP_HDR_LEN) {
		(void)snprintf(why, whysize, "truncated header");
		goto out;
	}
	hdr[DROP_HDR_LEN] = '\0';
	if (parse_header(hdr, &a, &f, &msglen) == -1) {
		(void)snprintf(why, whysize, "bad header");
		goto out;
	}
	envoff = (off_t)DROP_HDR_LEN + (off_t)msglen;
	if (envoff > st->st_size || (envlen = st->st_size - envoff) == 0 ||
	    envlen > ENVELOPE_MAX) {
		(void)snprintf(why, whysize, "bad message length");
		goto out;
	}
	etext = xmalloc((size_t)envlen + 1);
	if ((n = pread(fd, etext, (size_t)envlen, envoff)) != envlen) {
		(void)snprintf(why, whysize, "short read");
		goto out;
	}
	etext[envlen] = '\0';
	if (envelope_load(&denv, etext, (size_t)envlen, &e) == -1) {
		(void)snprintf(why, whysize, "bad envelope: %s", e.msg);
		goto out;
	}
	if (f && denv.sender[0] != '\0') {
		struct addr ad;

		if (addr_parse_one(denv.sender, &ad, &e) == -1) {
			(void)snprintf(why, whysize, "bad sender: %s", e.msg);
			goto out;
		}
		addr_clear(&ad);
	}
	if ((denv.dsn_notify != NULL && !valid_notify(denv.dsn_notify)) ||
	    (denv.dsn_ret != NULL && strcmp(denv.dsn_ret, "FULL") != 0 &&
	    strcmp(denv.dsn_ret, "HDRS") != 0) ||
	    (denv.envid != NULL && !valid_envid(denv.envid))) {
		(void)snprintf(why, whysize, "bad DSN parameters");
		goto out;
	}
	acct = conf_select(cf, a ? denv.account : NULL,
	    f ? denv.sender : NULL, &e);
	if (acct == NULL) {
		(void)snprintf(why, whysize, "%s", e.msg);
		goto out;
	}
	sender = pick_sender(f ? denv.sender : NULL, acct);

	/* The message again through intake: nothing of it is trusted. */
	r.fd = fd;
	r.off = DROP_HDR_LEN;
	r.end = envoff;
	if ((fp = fopencookie(&r, "r", io_funcs)) == NULL) {
		rc = -2;
		goto out;
	}
	rcpts = xreallocarray(NULL, denv.nrcpts, sizeof(*rcpts));
	for (i = 0; i < denv.nrcpts; i++)
		rcpts[i] = denv.rcpts[i].addr;
	memset(&io, 0, sizeof(io));
	io.ignore_dots = 1;
	io.from_addr = acct->from;
	io.rcpts = rcpts;
	io.nrcpts = denv.nrcpts;
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
		} else
			(void)snprintf(why, whysize, "bad message: %s", e.msg);
		goto out;
	}
	qenv.account = xstrdup(acct->name);
	qenv.sender = xstrdup(sender);
	if (!util_is_ascii(sender, strlen(sender)) || denv.smtputf8)
		qenv.smtputf8 = 1;
	if (denv.body8bit)
		qenv.body8bit = 1;
	if (denv.dsn_notify != NULL)
		qenv.dsn_notify = xstrdup(denv.dsn_notify);
	if (denv.dsn_ret != NULL)
		qenv.dsn_ret = xstrdup(denv.dsn_ret);
	if (denv.envid != NULL)
		qenv.envid = xstrdup(denv.envid);
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
	envelope_free(&denv);
	envelope_free(&qenv);
	return rc;
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
pickup_one(const struct config *cf, struct queue *q, int dfd,
    const char *name, time_t now)
{
	char why[1024];
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
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_nlink != 1 || st.st_size > SYSQ_DROP_MAX) {
		set_aside(q, dfd, name, "oversized, linked or not a regular "
		    "file");
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
	r = pick_one(cf, q, fd, &st, name, why, sizeof(why));
	if (r == 0) {
		/* A crash right here delivers it twice, never zero. */
		if (unlinkat(dfd, name, 0) == -1)
			log_warn("maildrop: cannot remove %s", name);
	} else if (r == -1)
		set_aside(q, dfd, name, why);
	/* The lock goes last: no other runner can take it before. */
	(void)close(fd);
	return r == 0;
}

int
sysq_pickup(const struct config *cf, struct queue *q, struct err *err)
{
	char path[1024];
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
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		count += pickup_one(cf, q, dfd, de->d_name, now);
	}
	(void)closedir(dir);
	return count;
}
