/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * queue.c -- the durable spool (doc/design.md §5).
 *
 * Layout under the queue directory (every directory 0700, owned by the
 * euid, no symlinks):
 *
 *   tmp/<id>.msg, tmp/<id>.env    being written; never read by runners
 *   tmp/<id>.env.new              an envelope update being written
 *   q/<id>.msg                    the message, LF line endings
 *   q/<id>.env                    the envelope (envelope.h has the
 *                                 format); its presence means committed
 *   hold/ failed/ corrupt/        the same pair, set aside
 *
 * Commit: fsync+close the message, write tmp/<id>.env (O_EXCL, fsync,
 * close), rename the message into q/, then the envelope, fsync q/. On any
 * failure every file of the entry is unlinked, so a crash or a full disk
 * leaves either nothing or a whole entry (stale tmp/ files at most, which
 * queue_cleanup_tmp removes).
 *
 * Progress: every .env ends in a fixed-size "progress:" line, one byte
 * per recipient (envelope.h). After an attempt the runner overwrites
 * those bytes in place (queue_mark: pwrite + fdatasync into blocks the
 * commit already allocated) before anything else, so a recipient that
 * got the message is recorded as sent even when the disk is too full for
 * the new envelope queue_update writes next. (That holds where files are
 * overwritten in place: ext4, xfs, tmpfs; a copy-on-write file system
 * such as btrfs may need new blocks even for this.)
 *
 * Locking: flock(LOCK_EX|LOCK_NB) on the entry's .msg file. Not on the
 * .env: queue_update replaces the .env by rename, which would silently
 * hand a second runner a fresh, unlocked inode in the middle of an
 * attempt. The .msg inode lives as long as the entry (renames between
 * areas keep it). After taking the lock we check that the entry is still
 * there (same inode at area/<id>.msg and an .env beside it), so a runner
 * that raced with a finished delivery skips instead of sending twice.
 * Removal unlinks the .env first: from then on the entry is gone.
 */
#include "common.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "envelope.h"
#include "log.h"
#include "queue.h"
#include "status.h"
#include "util.h"
#include "xmalloc.h"

#define ID_TRIES	16

static const char *area_names[QAREA_COUNT] = {
	[QAREA_ACTIVE] = "q",
	[QAREA_HOLD] = "hold",
	[QAREA_FAILED] = "failed",
	[QAREA_CORRUPT] = "corrupt",
};

struct qent {
	char		*id;
	struct timespec	 t;
};

static int	open_dir(const char *, int, const char *, int *,
		    struct err *);
static int	entry_name(char *, size_t, const char *, const char *);
static int	write_file(int, const char *, const struct buf *,
		    struct err *);
static int	area_ok(enum queue_area);

const char *
queue_area_name(enum queue_area a)
{
	return area_ok(a) ? area_names[a] : "?";
}

static int
area_ok(enum queue_area a)
{
	return (unsigned int)a < QAREA_COUNT;
}

int
queue_id_valid(const char *id)
{
	size_t i;

	for (i = 0; i < QUEUE_ID_LEN; i++)
		if (!((id[i] >= '0' && id[i] <= '9') ||
		    (id[i] >= 'a' && id[i] <= 'f')))
			return 0;
	return id[QUEUE_ID_LEN] == '\0';
}

/* "<id><ext>" into dst; -1 if id is not a queue id. */
static int
entry_name(char *dst, size_t size, const char *id, const char *ext)
{
	int r;

	if (!queue_id_valid(id)) {
		errno = EINVAL;
		return -1;
	}
	r = snprintf(dst, size, "%s%s", id, ext);
	if (r < 0 || (size_t)r >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/*
 * Opens (creating if create) name relative to atfd as a directory that
 * must be a real directory, owned by the euid, not writable by group or
 * others. path is for messages.
 */
static int
open_dir(const char *path, int atfd, const char *name, int *fdp,
    struct err *err)
{
	struct stat st;
	int fd;

	fd = openat(atfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1 && errno == ENOENT) {
		if (mkdirat(atfd, name, 0700) == -1 && errno != EEXIST)
			return err_set(err, ERR_CANTCREAT,
			    "cannot create queue directory %s: %s", path,
			    strerror(errno));
		fd = openat(atfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	}
	if (fd == -1) {
		if (errno == ELOOP || errno == ENOTDIR)
			return err_set(err, ERR_CONFIG, "queue directory %s "
			    "is a symlink or not a directory; replace it "
			    "with a real directory (mode 700)", path);
		return err_set(err, ERR_CANTCREAT,
		    "cannot open queue directory %s: %s", path,
		    strerror(errno));
	}
	if (fstat(fd, &st) == -1) {
		(void)close(fd);
		return err_set(err, ERR_IO, "fstat %s: %s", path,
		    strerror(errno));
	}
	if (st.st_uid != geteuid()) {
		(void)close(fd);
		return err_set(err, ERR_CONFIG, "queue directory %s is owned "
		    "by uid %lu, not by uid %lu who runs this; fix with chown",
		    path, (unsigned long)st.st_uid,
		    (unsigned long)geteuid());
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		(void)close(fd);
		return err_set(err, ERR_CONFIG, "queue directory %s is "
		    "writable by group or others; fix with chmod 700 %s",
		    path, path);
	}
	*fdp = fd;
	return 0;
}

int
queue_open(struct queue *q, const char *dir, struct err *err)
{
	char def[PATH_MAX], path[PATH_MAX];
	const char *subs[] = { "q", "hold", "failed", "corrupt", "tmp" };
	size_t i;
	int fd, r;

	q->dir = NULL;
	q->dirfd = q->tmpfd = -1;
	for (i = 0; i < QAREA_COUNT; i++)
		q->areafd[i] = -1;
	if (dir == NULL) {
		if (util_xdg_dir(def, sizeof(def), "XDG_STATE_HOME",
		    ".local/state") == -1 ||
		    strlcat(def, "/oauthmail/queue", sizeof(def)) >=
		    sizeof(def))
			return err_set(err, ERR_CONFIG, "cannot find the "
			    "queue directory: set HOME or XDG_STATE_HOME");
		dir = def;
	}
	if (dir[0] == '\0')
		return err_set(err, ERR_CONFIG, "empty queue directory name");
	/* Parents are created 0700 too: they are ours (~/.local/state). */
	if (util_mkdirs(dir, 0700) == -1 && errno != EEXIST)
		return err_set(err, ERR_CANTCREAT,
		    "cannot create queue directory %s: %s", dir,
		    strerror(errno));
	if (open_dir(dir, AT_FDCWD, dir, &q->dirfd, err) == -1)
		return -1;
	for (i = 0; i < nitems(subs); i++) {
		r = snprintf(path, sizeof(path), "%s/%s", dir, subs[i]);
		if (r < 0 || (size_t)r >= sizeof(path)) {
			queue_close(q);
			return err_set(err, ERR_CONFIG,
			    "queue directory name too long");
		}
		if (open_dir(path, q->dirfd, subs[i], &fd, err) == -1) {
			queue_close(q);
			return -1;
		}
		if (i < QAREA_COUNT)
			q->areafd[i] = fd;
		else
			q->tmpfd = fd;
	}
	q->dir = xstrdup(dir);
	return 0;
}

void
queue_close(struct queue *q)
{
	size_t i;

	for (i = 0; i < QAREA_COUNT; i++) {
		if (q->areafd[i] != -1)
			(void)close(q->areafd[i]);
		q->areafd[i] = -1;
	}
	if (q->tmpfd != -1)
		(void)close(q->tmpfd);
	if (q->dirfd != -1)
		(void)close(q->dirfd);
	q->tmpfd = q->dirfd = -1;
	free(q->dir);
	q->dir = NULL;
}

int
queue_create(struct queue *q, struct envelope *env, int *fdp,
    struct err *err)
{
	char id[QUEUE_ID_LEN + 1], name[64];
	size_t i, a;
	int fd, taken;

	for (i = 0; i < ID_TRIES; i++) {
		if (util_random_hex(id, QUEUE_ID_LEN / 2) == -1)
			return err_set(err, ERR_OS, "no random bytes for a "
			    "queue id");
		/* A committed entry with this id anywhere: pick again. */
		taken = 0;
		for (a = 0; a < QAREA_COUNT && !taken; a++) {
			(void)entry_name(name, sizeof(name), id, ".msg");
			if (faccessat(q->areafd[a], name, F_OK,
			    AT_SYMLINK_NOFOLLOW) == 0)
				taken = 1;
		}
		if (taken)
			continue;
		(void)entry_name(name, sizeof(name), id, ".msg");
		fd = openat(q->tmpfd, name, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd == -1 && errno == EEXIST)
			continue;
		if (fd == -1)
			return err_set(err, ERR_CANTCREAT,
			    "cannot create %s/tmp/%s: %s", q->dir, name,
			    strerror(errno));
		memcpy(env->id, id, sizeof(env->id));
		*fdp = fd;
		return 0;
	}
	return err_set(err, ERR_CANTCREAT, "cannot pick a free queue id in %s",
	    q->dir);
}

/* Creates name in tmp/ with O_EXCL, writes b, fsyncs, closes (checked). */
static int
write_file(int dirfd, const char *name, const struct buf *b,
    struct err *err)
{
	int fd, saved;

	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd == -1)
		return err_set(err, ERR_CANTCREAT, "create tmp/%s: %s", name,
		    strerror(errno));
	if (util_write_all(fd, buf_str(b), b->len) == -1 || fsync(fd) == -1) {
		saved = errno;
		(void)close(fd);
		(void)unlinkat(dirfd, name, 0);
		return err_set(err, ERR_IO, "write tmp/%s: %s", name,
		    strerror(saved));
	}
	if (close(fd) == -1) {
		saved = errno;
		(void)unlinkat(dirfd, name, 0);
		return err_set(err, ERR_IO, "close tmp/%s: %s", name,
		    strerror(saved));
	}
	return 0;
}

static void
unlink_entry(struct queue *q, const char *id)
{
	char m[64], e[64];

	if (entry_name(m, sizeof(m), id, ".msg") == -1 ||
	    entry_name(e, sizeof(e), id, ".env") == -1)
		return;
	(void)unlinkat(q->areafd[QAREA_ACTIVE], e, 0);
	(void)unlinkat(q->areafd[QAREA_ACTIVE], m, 0);
	(void)unlinkat(q->tmpfd, e, 0);
	(void)unlinkat(q->tmpfd, m, 0);
}

int
queue_commit(struct queue *q, const struct envelope *env, int fd,
    struct err *err)
{
	char m[64], e[64];
	struct buf b;
	int saved;

	if (entry_name(m, sizeof(m), env->id, ".msg") == -1 ||
	    entry_name(e, sizeof(e), env->id, ".env") == -1) {
		(void)close(fd);
		return err_set(err, ERR_INTERNAL, "commit: bad queue id");
	}
	/*
	 * The message's lock is held until both files are in q/, so that
	 * queue_repair never takes a commit in progress for an orphan.
	 */
	if (fsync(fd) == -1 || flock(fd, LOCK_EX) == -1) {
		saved = errno;
		(void)close(fd);
		unlink_entry(q, env->id);
		return err_set(err, ERR_IO, "cannot queue the message: fsync "
		    "%s/tmp/%s: %s", q->dir, m, strerror(saved));
	}
	buf_init(&b, ENVELOPE_MAX, 0);
	if (envelope_dump(env, &b, err) == -1) {
		buf_free(&b);
		(void)close(fd);
		unlink_entry(q, env->id);
		return err_prefix(err, "cannot queue the message");
	}
	if (write_file(q->tmpfd, e, &b, err) == -1) {
		buf_free(&b);
		(void)close(fd);
		unlink_entry(q, env->id);
		return err_prefix(err, "cannot queue the message in %s",
		    q->dir);
	}
	buf_free(&b);
	if (renameat(q->tmpfd, m, q->areafd[QAREA_ACTIVE], m) == -1 ||
	    renameat(q->tmpfd, e, q->areafd[QAREA_ACTIVE], e) == -1) {
		saved = errno;
		(void)close(fd);
		unlink_entry(q, env->id);
		return err_set(err, ERR_CANTCREAT, "cannot queue the message: "
		    "commit into %s/q: %s", q->dir, strerror(saved));
	}
	/* Whole now: release the lock at once (a daemon may be waiting). */
	(void)close(fd);	/* its data was fsync'd above */
	if (fsync(q->areafd[QAREA_ACTIVE]) == -1) {
		saved = errno;
		unlink_entry(q, env->id);
		return err_set(err, ERR_CANTCREAT, "cannot queue the message: "
		    "fsync %s/q: %s", q->dir, strerror(saved));
	}
	return 0;
}

void
queue_abort(struct queue *q, const struct envelope *env, int fd)
{
	char m[64], e[64];

	if (fd != -1)
		(void)close(fd);
	if (entry_name(m, sizeof(m), env->id, ".msg") == -1 ||
	    entry_name(e, sizeof(e), env->id, ".env") == -1)
		return;
	(void)unlinkat(q->tmpfd, e, 0);
	(void)unlinkat(q->tmpfd, m, 0);
}

int
queue_lock(struct queue *q, enum queue_area area, const char *id,
    int *lockfd, struct err *err)
{
	char m[64], e[64];
	struct stat st, st2;
	int fd;

	if (!area_ok(area) || entry_name(m, sizeof(m), id, ".msg") == -1 ||
	    entry_name(e, sizeof(e), id, ".env") == -1)
		return err_set(err, ERR_INTERNAL, "lock: bad queue id");
	fd = openat(q->areafd[area], m, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 && errno == ENOENT)
		return err_set(err, ERR_IO, "no queue entry %s in %s/%s",
		    id, q->dir, area_names[area]);
	if (fd == -1)
		return err_set(err, ERR_IO, "open %s/%s/%s: %s", q->dir,
		    area_names[area], m, strerror(errno));
	if (util_flock_wait(fd, 50) == -1) {
		int saved = errno;

		(void)close(fd);
		if (saved == EWOULDBLOCK || saved == EAGAIN)
			return 1;
		return err_set(err, ERR_IO, "flock %s/%s/%s: %s", q->dir,
		    area_names[area], m, strerror(saved));
	}
	/* Still there, still committed, still the same entry? */
	if (fstat(fd, &st) == -1 ||
	    fstatat(q->areafd[area], m, &st2, AT_SYMLINK_NOFOLLOW) == -1 ||
	    st.st_ino != st2.st_ino || st.st_dev != st2.st_dev ||
	    faccessat(q->areafd[area], e, F_OK, AT_SYMLINK_NOFOLLOW) == -1) {
		(void)close(fd);
		return 1;
	}
	*lockfd = fd;
	return 0;
}

void
queue_unlock(int lockfd)
{
	if (lockfd != -1)
		(void)close(lockfd);
}

int
queue_load(struct queue *q, enum queue_area area, const char *id,
    struct envelope *env, struct err *err)
{
	char e[64];
	struct stat st;
	char *text;
	size_t len = 0;
	ssize_t r = 0;
	int fd;

	envelope_init(env);
	if (!area_ok(area) || entry_name(e, sizeof(e), id, ".env") == -1)
		return err_set(err, ERR_INTERNAL, "load: bad queue id");
	fd = openat(q->areafd[area], e, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return err_set(err, ERR_IO, "open %s/%s/%s: %s", q->dir,
		    area_names[area], e, strerror(errno));
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > ENVELOPE_MAX) {
		(void)close(fd);
		return err_set(err, ERR_DATA, "%s/%s/%s: not a regular file "
		    "or too large", q->dir, area_names[area], e);
	}
	text = xmalloc((size_t)st.st_size + 1);
	for (;;) {
		r = read(fd, text + len, (size_t)st.st_size + 1 - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
		if (len > (size_t)st.st_size)
			break;
	}
	(void)close(fd);
	if (r == -1 || len > (size_t)st.st_size) {
		free(text);
		return err_set(err, ERR_IO, "read %s/%s/%s: %s", q->dir,
		    area_names[area], e, r == -1 ? strerror(errno) :
		    "file grew while reading");
	}
	if (envelope_load(env, text, len, err) == -1) {
		free(text);
		return err_prefix(err, "%s/%s/%s", q->dir, area_names[area],
		    e);
	}
	free(text);
	if (strcmp(env->id, id) != 0) {
		envelope_free(env);
		return err_set(err, ERR_DATA, "%s/%s/%s: id does not match "
		    "the file name", q->dir, area_names[area], e);
	}
	return 0;
}

int
queue_open_msg(struct queue *q, enum queue_area area, const char *id,
    struct err *err)
{
	char m[64];
	int fd;

	if (!area_ok(area) || entry_name(m, sizeof(m), id, ".msg") == -1)
		return err_set(err, ERR_INTERNAL, "open: bad queue id");
	fd = openat(q->areafd[area], m, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return err_set(err, ERR_IO, "open %s/%s/%s: %s", q->dir,
		    area_names[area], m, strerror(errno));
	return fd;
}

int
queue_update(struct queue *q, enum queue_area area,
    const struct envelope *env, struct err *err)
{
	char e[64], n[64];
	struct buf b;
	int saved;

	if (!area_ok(area) || entry_name(e, sizeof(e), env->id, ".env") ==
	    -1 || entry_name(n, sizeof(n), env->id, ".env.new") == -1)
		return err_set(err, ERR_INTERNAL, "update: bad queue id");
	buf_init(&b, ENVELOPE_MAX, 0);
	if (envelope_dump(env, &b, err) == -1) {
		buf_free(&b);
		return -1;
	}
	/* A leftover from a crashed update of this entry is ours to drop. */
	(void)unlinkat(q->tmpfd, n, 0);
	if (write_file(q->tmpfd, n, &b, err) == -1) {
		buf_free(&b);
		return err_prefix(err, "update %s", env->id);
	}
	buf_free(&b);
	if (renameat(q->tmpfd, n, q->areafd[area], e) == -1) {
		saved = errno;
		(void)unlinkat(q->tmpfd, n, 0);
		return err_set(err, ERR_IO, "update %s/%s/%s: %s", q->dir,
		    area_names[area], e, strerror(saved));
	}
	if (fsync(q->areafd[area]) == -1)
		return err_set(err, ERR_IO, "fsync %s/%s: %s", q->dir,
		    area_names[area], strerror(errno));
	return 0;
}

/*
 * Finds env's progress line at the end of the envelope open as fd: the
 * last len bytes of the file must be a whole line "progress: ..." of the
 * same length (same number of recipients). 1 with *offp set if so, 0 if
 * not (an envelope written before progress lines), -1 on error.
 */
static int
find_progress(int fd, size_t len, off_t *offp)
{
	static const char key[] = "progress: ";
	struct stat st;
	char *tail;
	ssize_t r;
	int found, saved;

	if (fstat(fd, &st) == -1)
		return -1;
	if (!S_ISREG(st.st_mode) || st.st_size < (off_t)len + 1)
		return 0;
	tail = xmalloc(len + 1);
	do
		r = pread(fd, tail, len + 1, st.st_size - (off_t)len - 1);
	while (r == -1 && errno == EINTR);
	saved = errno;
	found = r == (ssize_t)(len + 1) && tail[0] == '\n' &&
	    memcmp(tail + 1, key, sizeof(key) - 1) == 0 &&
	    tail[len] == '\n' && memchr(tail + 1, '\n', len - 1) == NULL;
	free(tail);
	if (r == -1) {
		errno = saved;
		return -1;
	}
	*offp = st.st_size - (off_t)len;
	return found;
}

static int
pwrite_all(int fd, const char *p, size_t len, off_t off)
{
	ssize_t r;

	while (len > 0) {
		r = pwrite(fd, p, len, off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		len -= (size_t)r;
		off += r;
	}
	return 0;
}

int
queue_mark(struct queue *q, enum queue_area area,
    const struct envelope *env, struct err *err)
{
	char e[64];
	struct buf b;
	off_t off = 0;
	int fd, r, saved;

	if (!area_ok(area) || entry_name(e, sizeof(e), env->id, ".env") == -1)
		return err_set(err, ERR_INTERNAL, "mark: bad queue id");
	buf_init(&b, ENVELOPE_MAX, 0);
	if (envelope_dump_progress(env, &b) == -1) {
		buf_free(&b);
		return err_set(err, ERR_DATA, "mark %s: bad recipient state",
		    env->id);
	}
	fd = openat(q->areafd[area], e, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		saved = errno;
		buf_free(&b);
		return err_set(err, ERR_IO, "mark %s/%s/%s: %s", q->dir,
		    area_names[area], e, strerror(saved));
	}
	if ((r = find_progress(fd, b.len, &off)) == 1 &&
	    (pwrite_all(fd, buf_str(&b), b.len, off) == -1 ||
	    fdatasync(fd) == -1))
		r = -1;
	saved = errno;
	(void)close(fd);
	buf_free(&b);
	if (r == -1)
		return err_set(err, ERR_IO, "mark %s/%s/%s: %s", q->dir,
		    area_names[area], e, strerror(saved));
	if (r == 0)
		return queue_update(q, area, env, err);
	return 0;
}

int
queue_move(struct queue *q, const char *id, enum queue_area from,
    enum queue_area to, struct err *err)
{
	char m[64], e[64];
	int saved;

	if (!area_ok(from) || !area_ok(to) ||
	    entry_name(m, sizeof(m), id, ".msg") == -1 ||
	    entry_name(e, sizeof(e), id, ".env") == -1)
		return err_set(err, ERR_INTERNAL, "move: bad queue id");
	if (from == to)
		return 0;
	if (renameat(q->areafd[from], m, q->areafd[to], m) == -1)
		return err_set(err, ERR_IO, "move %s from %s/ to %s/: %s", id,
		    area_names[from], area_names[to], strerror(errno));
	if (renameat(q->areafd[from], e, q->areafd[to], e) == -1) {
		saved = errno;
		/* Put the message back so the entry stays whole. */
		(void)renameat(q->areafd[to], m, q->areafd[from], m);
		return err_set(err, ERR_IO, "move %s from %s/ to %s/: %s", id,
		    area_names[from], area_names[to], strerror(saved));
	}
	if (fsync(q->areafd[to]) == -1 || fsync(q->areafd[from]) == -1)
		return err_set(err, ERR_IO, "move %s: fsync: %s", id,
		    strerror(errno));
	return 0;
}

int
queue_remove(struct queue *q, enum queue_area area, const char *id,
    struct err *err)
{
	char m[64], e[64];

	if (!area_ok(area) || entry_name(m, sizeof(m), id, ".msg") == -1 ||
	    entry_name(e, sizeof(e), id, ".env") == -1)
		return err_set(err, ERR_INTERNAL, "remove: bad queue id");
	if (unlinkat(q->areafd[area], e, 0) == -1 && errno != ENOENT)
		return err_set(err, ERR_IO, "remove %s/%s/%s: %s", q->dir,
		    area_names[area], e, strerror(errno));
	if (unlinkat(q->areafd[area], m, 0) == -1 && errno != ENOENT)
		return err_set(err, ERR_IO, "remove %s/%s/%s: %s", q->dir,
		    area_names[area], m, strerror(errno));
	if (fsync(q->areafd[area]) == -1)
		return err_set(err, ERR_IO, "fsync %s/%s: %s", q->dir,
		    area_names[area], strerror(errno));
	return 0;
}

int
queue_quarantine(struct queue *q, enum queue_area area, const char *id,
    struct err *err)
{
	char m[64], e[64];
	int saved, moved = 0;

	if (!area_ok(area) || entry_name(m, sizeof(m), id, ".msg") == -1 ||
	    entry_name(e, sizeof(e), id, ".env") == -1)
		return err_set(err, ERR_INTERNAL, "quarantine: bad queue id");
	if (area == QAREA_CORRUPT)
		return 0;
	if (renameat(q->areafd[area], m, q->areafd[QAREA_CORRUPT], m) == 0)
		moved++;
	else if (errno != ENOENT)
		goto fail;
	if (renameat(q->areafd[area], e, q->areafd[QAREA_CORRUPT], e) == 0)
		moved++;
	else if (errno != ENOENT)
		goto fail;
	if (moved == 0)
		return err_set(err, ERR_IO, "quarantine %s: no such entry in "
		    "%s/", id, area_names[area]);
	if (fsync(q->areafd[QAREA_CORRUPT]) == -1 ||
	    fsync(q->areafd[area]) == -1)
		goto fail;
	return 0;
fail:
	saved = errno;
	return err_set(err, ERR_IO, "quarantine %s from %s/: %s", id,
	    area_names[area], strerror(saved));
}

static int
qent_cmp(const void *a, const void *b)
{
	const struct qent *x = a, *y = b;

	if (x->t.tv_sec != y->t.tv_sec)
		return x->t.tv_sec < y->t.tv_sec ? -1 : 1;
	if (x->t.tv_nsec != y->t.tv_nsec)
		return x->t.tv_nsec < y->t.tv_nsec ? -1 : 1;
	return strcmp(x->id, y->id);
}

/*
 * Sorted by the message file's mtime: it is written once, at creation,
 * and renames do not change it (they do change the ctime, and every
 * envelope update makes a new .env).
 */
int
queue_list(struct queue *q, enum queue_area area, char ***idsp, size_t *np,
    struct err *err)
{
	struct qent *v = NULL;
	struct dirent *de;
	struct stat st;
	char id[QUEUE_ID_LEN + 1], m[64];
	size_t n = 0, len, i;
	DIR *d;
	int fd;

	*idsp = NULL;
	*np = 0;
	if (!area_ok(area))
		return err_set(err, ERR_INTERNAL, "list: bad area");
	if ((fd = openat(q->areafd[area], ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			(void)close(fd);
		return err_set(err, ERR_IO, "list %s/%s: %s", q->dir,
		    area_names[area], strerror(errno));
	}
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len != QUEUE_ID_LEN + 4 ||
		    strcmp(de->d_name + QUEUE_ID_LEN, ".env") != 0)
			continue;
		memcpy(id, de->d_name, QUEUE_ID_LEN);
		id[QUEUE_ID_LEN] = '\0';
		if (!queue_id_valid(id))
			continue;
		(void)entry_name(m, sizeof(m), id, ".msg");
		if (fstatat(q->areafd[area], m, &st, AT_SYMLINK_NOFOLLOW) ==
		    -1 && fstatat(q->areafd[area], de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) == -1)
			continue;	/* removed meanwhile */
		if (n >= QUEUE_LIST_MAX)
			break;
		if ((n & (n - 1)) == 0)
			v = xreallocarray(v, n ? n * 2 : 1, sizeof(*v));
		v[n].id = xstrdup(id);
		v[n].t = st.st_mtim;
		n++;
	}
	(void)closedir(d);
	if (n > 0)
		qsort(v, n, sizeof(*v), qent_cmp);
	*idsp = xreallocarray(NULL, n ? n : 1, sizeof(**idsp));
	for (i = 0; i < n; i++)
		(*idsp)[i] = v[i].id;
	free(v);
	*np = n;
	return 0;
}

void
queue_free_ids(char **ids, size_t n)
{
	size_t i;

	if (ids == NULL)
		return;
	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

int
queue_cleanup_tmp(struct queue *q, time_t now, struct err *err)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd;

	if ((fd = openat(q->tmpfd, ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			(void)close(fd);
		return err_set(err, ERR_IO, "list %s/tmp: %s", q->dir,
		    strerror(errno));
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (fstatat(q->tmpfd, de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) == -1 || S_ISDIR(st.st_mode))
			continue;
		if (st.st_mtime > now - QUEUE_TMP_STALE)
			continue;
		if (unlinkat(q->tmpfd, de->d_name, 0) == 0)
			log_debug("removed stale %s/tmp/%s", q->dir,
			    de->d_name);
	}
	(void)closedir(d);
	return 0;
}

/* Whether area a holds a file id.ext. */
static int
has_file(struct queue *q, enum queue_area a, const char *id, const char *ext)
{
	char name[QUEUE_ID_LEN + 8];

	if (entry_name(name, sizeof(name), id, ext) == -1)
		return 0;
	return faccessat(q->areafd[a], name, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Brings id's message from area `from` next to its envelope in `to`. */
static int
rejoin(struct queue *q, const char *id, enum queue_area from,
    enum queue_area to)
{
	char m[QUEUE_ID_LEN + 8];
	int fd, r = 0;

	if (entry_name(m, sizeof(m), id, ".msg") == -1)
		return 0;
	fd = openat(q->areafd[from], m, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return 0;
	/* A runner holding the lock is in the middle of moving it. */
	if (flock(fd, LOCK_EX | LOCK_NB) == 0 &&
	    renameat(q->areafd[from], m, q->areafd[to], m) == 0) {
		(void)fsync(q->areafd[to]);
		(void)fsync(q->areafd[from]);
		log_warnx("queue entry %s was split by a crash; its message "
		    "is back in %s/", id, queue_area_name(to));
		r = 1;
	}
	(void)close(fd);
	return r;
}

static int
has_env_anywhere(struct queue *q, const char *id)
{
	int b;

	for (b = 0; b < QAREA_COUNT; b++)
		if (has_file(q, (enum queue_area)b, id, ".env"))
			return 1;
	return 0;
}

/*
 * Removes a message that has no envelope in any area: its commit was
 * killed between the two renames (never acknowledged), or its removal
 * between the two unlinks (already delivered). Committing and delivering
 * processes hold the message's lock, so a locked message is left alone,
 * and the envelope is looked for again once the lock is ours.
 */
static int
drop_orphan(struct queue *q, enum queue_area a, const char *id,
    const char *name)
{
	struct stat st;
	int fd, r = 0;

	if (has_env_anywhere(q, id))
		return 0;
	fd = openat(q->areafd[a], name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return 0;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    flock(fd, LOCK_EX | LOCK_NB) == 0 && !has_env_anywhere(q, id) &&
	    unlinkat(q->areafd[a], name, 0) == 0) {
		log_debug("removed orphan message %s/%s/%s", q->dir,
		    queue_area_name(a), name);
		r = 1;
	}
	(void)close(fd);
	return r;
}

static int
repair_area(struct queue *q, enum queue_area a, time_t now, int *mended)
{
	struct dirent *de;
	char id[QUEUE_ID_LEN + 1];
	DIR *d;
	int fd, b;

	if ((fd = openat(q->areafd[a], ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			(void)close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);

		if (n != QUEUE_ID_LEN + 4)
			continue;
		memcpy(id, de->d_name, QUEUE_ID_LEN);
		id[QUEUE_ID_LEN] = '\0';
		if (!queue_id_valid(id))
			continue;
		if (strcmp(de->d_name + QUEUE_ID_LEN, ".env") == 0) {
			if (has_file(q, a, id, ".msg"))
				continue;
			for (b = 0; b < QAREA_COUNT; b++)
				if (b != (int)a &&
				    has_file(q, (enum queue_area)b, id, ".msg")) {
					*mended += rejoin(q, id,
					    (enum queue_area)b, a);
					break;
				}
		} else if (strcmp(de->d_name + QUEUE_ID_LEN, ".msg") == 0) {
			*mended += drop_orphan(q, a, id, de->d_name);
		}
	}
	(void)closedir(d);
	return 0;
}

int
queue_repair(struct queue *q, time_t now, struct err *err)
{
	int a, mended = 0;

	for (a = 0; a < QAREA_COUNT; a++)
		if (repair_area(q, (enum queue_area)a, now, &mended) == -1)
			return err_set(err, ERR_IO, "list %s/%s: %s", q->dir,
			    queue_area_name((enum queue_area)a),
			    strerror(errno));
	return mended;
}

time_t
queue_backoff(int attempts)
{
	unsigned int r = 0;
	long long base = 60, j;

	if (attempts < 1)
		attempts = 1;
	while (--attempts > 0 && base < 3600)
		base *= 2;
	if (base > 3600)
		base = 3600;
	/* Jitter in [-20%, +20%] spreads retries of a burst of mail. */
	if (util_random_bytes(&r, sizeof(r)) == -1)
		r = (unsigned int)getpid();
	j = (long long)(r % 4001) - 2000;	/* -2000..2000 */
	base += base * j / 10000;
	if (base > 3600)
		base = 3600;
	if (base < 1)
		base = 1;
	return (time_t)base;
}
