/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * sysq_pickup.c -- system mode's pickup: the daemon takes each ready drop
 * file (claimed under flock, so one runner takes it), checks it, and queues
 * the message for delivery, trusting nothing in it but its owner uid and
 * its group-read bit; see sysq.h.
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
#include "sysq_impl.h"
#include "util.h"
#include "xmalloc.h"

/* A ready file still locked is being closed: retry this often, 10 ms apart. */
#define CLAIM_TRIES	20

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

int
sysq_valid_drop_name(const char *s)
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
	if (sysq_valid_drop_name(name))
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
	if (!sysq_valid_drop_name(name)) {
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
	    st.st_nlink != 1 || st.st_size > sysq_drop_max(cf, sizes)) {
		(void)snprintf(pk.why, sizeof(pk.why), "oversized, linked or "
		    "not a regular file");
		pk.toobig = st.st_size > sysq_drop_max(cf, sizes);
		set_aside(q, dfd, name, pk.why);
		if (S_ISREG(st.st_mode))
			sysq_tell_refused(cf, q, fd, &st, name, &pk);
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
		sysq_tell_refused(cf, q, fd, &st, name, &pk);
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
		if (!sysq_valid_drop_name(de->d_name) ||
		    fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    !S_ISREG(st.st_mode))
			continue;
		u = sysq_ledger_get(&l, (unsigned long)st.st_uid);
		u->files++;
		u->bytes += (unsigned long long)st.st_size;
	}
	(void)closedir(dir);
	if (sysq_ledger_write(lfd, &l) == -1)
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

	if (sysq_drop_dir_path(cf, path, sizeof(path)) == -1)
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
