/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * test_queue.c -- the spool (queue.c), the listing (runq_list.c), the
 * runner (runq.c) and bounces (bounce.c) in a mkdtemp directory: commit,
 * list, load, lock, update, move, remove, unsafe permissions, disk full,
 * quarantine, backoff, the mailq listing, selection, flush grouping
 * (deliver_entries replaced through runq_set_deliver) and bounces.
 */
#include "unit.h"

#include <sys/file.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "bounce.h"
#include "conf.h"
#include "deliver.h"
#include "envelope.h"
#include "queue.h"
#include "runq.h"
#include "runq_list.h"
#include "status.h"

static char topdir[256];
static char qdir[300];

/* ---- stand-in for deliver_entries, set with runq_set_deliver ---- */

#define MAXCALLS 8
static struct {
	char	account[32];
	char	ids[8][QUEUE_ID_LEN + 1];
	size_t	n;
} calls[MAXCALLS];
static size_t ncalls;
static const char *fail_account;	/* deliver_entries fails for it */

static int
mock_deliver(const struct config *cf, const struct account *acct,
    struct queue *q, char **ids, size_t nids, enum deliver_outcome *outcomes,
    struct err *errs, struct err *err)
{
	int fail = fail_account != NULL &&
	    strcmp(fail_account, acct->name) == 0;
	size_t i;

	(void)cf;
	(void)q;
	assert_true(ncalls < MAXCALLS);
	snprintf(calls[ncalls].account, sizeof(calls[ncalls].account), "%s",
	    acct->name);
	for (i = 0; i < nids && i < 8; i++)
		snprintf(calls[ncalls].ids[i], QUEUE_ID_LEN + 1, "%s", ids[i]);
	for (i = 0; i < nids; i++) {
		outcomes[i] = fail ? DOUT_DEFERRED : DOUT_SENT;
		if (fail)
			(void)err_set(&errs[i], ERR_TEMP, "451 mock failure");
	}
	calls[ncalls].n = nids;
	ncalls++;
	if (fail)
		return err_set(err, ERR_TEMP, "451 mock failure");
	return 0;
}

/* ---- helpers ---- */

static int
setup(void **state)
{
	struct queue *q = calloc(1, sizeof(*q));
	struct err err;

	snprintf(topdir, sizeof(topdir), "/tmp/test_queue.XXXXXX");
	assert_non_null(mkdtemp(topdir));
	snprintf(qdir, sizeof(qdir), "%s/spool/queue", topdir);
	if (queue_open(q, qdir, &err) == -1)
		fail_msg("queue_open: %s", err.msg);
	*state = q;
	ncalls = 0;
	runq_set_deliver(mock_deliver);
	fail_account = NULL;
	return 0;
}

static int
teardown(void **state)
{
	struct queue *q = *state;
	char cmd[400];

	queue_close(q);
	free(q);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", topdir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void
write_str(int fd, const char *s)
{
	size_t n = strlen(s);

	assert_int_equal(write(fd, s, n), (ssize_t)n);
}

/* Number of directory entries (not . and ..) in qdir/sub. */
static int
count_files(const char *sub)
{
	char path[400];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s", qdir, sub);
	assert_non_null(d = opendir(path));
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void
set_mtime(const char *area, const char *id, time_t t)
{
	struct timespec ts[2];
	char path[400];

	snprintf(path, sizeof(path), "%s/%s/%s.msg", qdir, area, id);
	ts[0].tv_sec = ts[1].tv_sec = t;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void
basic_env(struct envelope *e, const char *account, const char *sender,
    const char *rcpt)
{
	envelope_init(e);
	e->account = strdup(account);
	e->sender = strdup(sender);
	e->created = time(NULL);
	e->next_try = e->created;
	if (rcpt != NULL)
		envelope_add_rcpt(e, rcpt, NULL);
}

/* Commits e with body; e->id is filled in. */
static void
commit(struct queue *q, struct envelope *e, const char *body)
{
	struct err err;
	int fd;

	if (queue_create(q, e, &fd, &err) == -1)
		fail_msg("queue_create: %s", err.msg);
	write_str(fd, body);
	if (e->size == 0)
		e->size = (off_t)strlen(body);
	if (queue_commit(q, e, fd, &err) == -1)
		fail_msg("queue_commit: %s", err.msg);
}

static void
add_simple(struct queue *q, const char *account, const char *sender,
    const char *rcpt, char id[QUEUE_ID_LEN + 1])
{
	struct envelope e;

	basic_env(&e, account, sender, rcpt);
	commit(q, &e, "Subject: x\n\nbody\n");
	memcpy(id, e.id, QUEUE_ID_LEN + 1);
	envelope_free(&e);
}

/* ---- queue.c ---- */

static void
test_open_layout(void **state)
{
	const char *subs[] = { "", "/q", "/hold", "/failed", "/corrupt",
	    "/tmp" };
	char path[400];
	struct stat st;
	size_t i;

	(void)state;
	for (i = 0; i < nitems(subs); i++) {
		snprintf(path, sizeof(path), "%s%s", qdir, subs[i]);
		assert_int_equal(lstat(path, &st), 0);
		assert_true(S_ISDIR(st.st_mode));
		assert_int_equal(st.st_mode & 0777, 0700);
	}
}

static void
test_open_default(void **state)
{
	struct queue q2;
	struct err err;
	char xdg[400], path[500];
	struct stat st;

	(void)state;
	snprintf(xdg, sizeof(xdg), "%s/xdg", topdir);
	assert_int_equal(setenv("XDG_STATE_HOME", xdg, 1), 0);
	assert_int_equal(queue_open(&q2, NULL, &err), 0);
	snprintf(path, sizeof(path), "%s/oauthmail/queue/q", xdg);
	assert_int_equal(stat(path, &st), 0);
	assert_non_null(strstr(q2.dir, "/xdg/oauthmail/queue"));
	queue_close(&q2);
	unsetenv("XDG_STATE_HOME");
}

static void
test_open_unsafe(void **state)
{
	struct queue q2;
	struct err err;
	char path[400], other[400];

	(void)state;
	/* Group-writable queue directory. */
	assert_int_equal(chmod(qdir, 0770), 0);
	assert_int_equal(queue_open(&q2, qdir, &err), -1);
	assert_int_equal(err.class, ERR_CONFIG);
	assert_non_null(strstr(err.msg, "chmod 700"));
	assert_int_equal(chmod(qdir, 0700), 0);
	/* World-writable subdirectory. */
	snprintf(path, sizeof(path), "%s/failed", qdir);
	assert_int_equal(chmod(path, 0703), 0);
	assert_int_equal(queue_open(&q2, qdir, &err), -1);
	assert_int_equal(err.class, ERR_CONFIG);
	assert_non_null(strstr(err.msg, "/failed"));
	assert_int_equal(chmod(path, 0700), 0);
	/* Symlinked area. */
	snprintf(path, sizeof(path), "%s/hold", qdir);
	snprintf(other, sizeof(other), "%s/elsewhere", topdir);
	assert_int_equal(mkdir(other, 0700), 0);
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(symlink(other, path), 0);
	assert_int_equal(queue_open(&q2, qdir, &err), -1);
	assert_int_equal(err.class, ERR_CONFIG);
	assert_non_null(strstr(err.msg, "symlink"));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	/* Symlinked queue directory itself. */
	snprintf(path, sizeof(path), "%s/link", topdir);
	assert_int_equal(symlink(qdir, path), 0);
	assert_int_equal(queue_open(&q2, path, &err), -1);
	assert_int_equal(err.class, ERR_CONFIG);
	/* Owned by someone else (only testable as root). */
	if (geteuid() == 0) {
		assert_int_equal(chown(qdir, 1, 1), 0);
		assert_int_equal(queue_open(&q2, qdir, &err), -1);
		assert_int_equal(err.class, ERR_CONFIG);
		assert_non_null(strstr(err.msg, "owned"));
		assert_int_equal(chown(qdir, 0, 0), 0);
	}
	/* And fine again. */
	assert_int_equal(queue_open(&q2, qdir, &err), 0);
	queue_close(&q2);
}

static void
test_commit_load(void **state)
{
	struct queue *q = *state;
	struct envelope e, l;
	struct err err;
	char path[400], buf[64], **ids;
	struct stat st;
	size_t n;
	ssize_t r;
	int fd;

	basic_env(&e, "work", "alice@example.com", "bob@example.org");
	e.dsn_ret = strdup("HDRS");
	assert_int_equal(queue_create(q, &e, &fd, &err), 0);
	assert_true(queue_id_valid(e.id));
	/* Not committed yet: not listed. */
	assert_int_equal(queue_list(q, QAREA_ACTIVE, &ids, &n, &err), 0);
	assert_int_equal(n, 0);
	queue_free_ids(ids, n);
	write_str(fd, "Subject: hi\n\nhello\n");
	assert_int_equal(queue_commit(q, &e, fd, &err), 0);
	assert_int_equal(count_files("tmp"), 0);
	assert_int_equal(count_files("q"), 2);
	snprintf(path, sizeof(path), "%s/q/%s.env", qdir, e.id);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/q/%s.msg", qdir, e.id);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	assert_int_equal(queue_list(q, QAREA_ACTIVE, &ids, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ids[0], e.id);
	queue_free_ids(ids, n);
	assert_int_equal(queue_load(q, QAREA_ACTIVE, e.id, &l, &err), 0);
	assert_string_equal(l.sender, "alice@example.com");
	assert_string_equal(l.rcpts[0].addr, "bob@example.org");
	assert_string_equal(l.dsn_ret, "HDRS");
	envelope_free(&l);
	fd = queue_open_msg(q, QAREA_ACTIVE, e.id, &err);
	assert_true(fd >= 0);
	r = read(fd, buf, sizeof(buf) - 1);
	assert_true(r > 0);
	buf[r] = '\0';
	assert_string_equal(buf, "Subject: hi\n\nhello\n");
	close(fd);
	/* Not in another area; bad ids refused. */
	assert_int_equal(queue_load(q, QAREA_HOLD, e.id, &l, &err), -1);
	envelope_free(&l);
	assert_int_equal(queue_load(q, QAREA_ACTIVE, "../../etc/passwd", &l,
	    &err), -1);
	envelope_free(&l);
	envelope_free(&e);
}

static void
test_abort(void **state)
{
	struct queue *q = *state;
	struct envelope e;
	struct err err;
	int fd;

	basic_env(&e, "work", "a@b", "c@d");
	assert_int_equal(queue_create(q, &e, &fd, &err), 0);
	write_str(fd, "x\n");
	assert_int_equal(count_files("tmp"), 1);
	queue_abort(q, &e, fd);
	assert_int_equal(count_files("tmp"), 0);
	assert_int_equal(count_files("q"), 0);
	envelope_free(&e);
}

static void
test_commit_without_rcpt_leaves_nothing(void **state)
{
	struct queue *q = *state;
	struct envelope e;
	struct err err;
	int fd;

	basic_env(&e, "work", "a@b", NULL);	/* dump refuses: no rcpt */
	assert_int_equal(queue_create(q, &e, &fd, &err), 0);
	write_str(fd, "x\n");
	assert_int_equal(queue_commit(q, &e, fd, &err), -1);
	assert_int_equal(count_files("tmp"), 0);
	assert_int_equal(count_files("q"), 0);
	envelope_free(&e);
}

static void
test_lock(void **state)
{
	struct queue *q = *state;
	struct envelope e;
	struct err err;
	char id[QUEUE_ID_LEN + 1];
	int fd, fd2, status;
	pid_t pid;

	add_simple(q, "work", "a@b", "c@d", id);
	assert_int_equal(queue_lock(q, QAREA_ACTIVE, id, &fd, &err), 0);
	/* A second open file description conflicts, even in this process. */
	assert_int_equal(queue_lock(q, QAREA_ACTIVE, id, &fd2, &err), 1);
	/* And another process. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct err cerr;
		int cfd;

		_exit(queue_lock(q, QAREA_ACTIVE, id, &cfd, &cerr) == 1 ?
		    0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* The lock survives an envelope update (the .env is replaced). */
	assert_int_equal(queue_load(q, QAREA_ACTIVE, id, &e, &err), 0);
	e.attempts = 7;
	assert_int_equal(queue_update(q, QAREA_ACTIVE, &e, &err), 0);
	assert_int_equal(queue_lock(q, QAREA_ACTIVE, id, &fd2, &err), 1);
	/* ... and a move. */
	assert_int_equal(queue_move(q, id, QAREA_ACTIVE, QAREA_HOLD, &err), 0);
	assert_int_equal(queue_lock(q, QAREA_HOLD, id, &fd2, &err), 1);
	assert_int_equal(queue_lock(q, QAREA_ACTIVE, id, &fd2, &err), -1);
	queue_unlock(fd);
	assert_int_equal(queue_lock(q, QAREA_HOLD, id, &fd, &err), 0);
	/* A waiting runner that opened before removal must not win. */
	assert_int_equal(queue_remove(q, QAREA_HOLD, id, &err), 0);
	queue_unlock(fd);
	assert_int_equal(queue_lock(q, QAREA_HOLD, id, &fd, &err), -1);
	assert_non_null(strstr(err.msg, "no queue entry"));
	envelope_free(&e);
}

static void
test_update_move_remove(void **state)
{
	struct queue *q = *state;
	struct envelope e;
	struct err err;
	char id[QUEUE_ID_LEN + 1], **ids;
	size_t n;

	add_simple(q, "work", "a@b", "c@d", id);
	assert_int_equal(queue_load(q, QAREA_ACTIVE, id, &e, &err), 0);
	e.attempts = 3;
	e.rcpts[0].state = RCPT_DEFERRED;
	e.rcpts[0].reply = strdup("451 4.7.0 later");
	free(e.last_error);
	e.last_error = strdup("451 4.7.0 later");
	assert_int_equal(queue_update(q, QAREA_ACTIVE, &e, &err), 0);
	envelope_free(&e);
	assert_int_equal(count_files("tmp"), 0);
	assert_int_equal(queue_load(q, QAREA_ACTIVE, id, &e, &err), 0);
	assert_int_equal(e.attempts, 3);
	assert_string_equal(e.rcpts[0].reply, "451 4.7.0 later");
	assert_int_equal(e.rcpts[0].state, RCPT_DEFERRED);

	e.state = ENV_FAILED;
	assert_int_equal(queue_update(q, QAREA_ACTIVE, &e, &err), 0);
	assert_int_equal(queue_move(q, id, QAREA_ACTIVE, QAREA_FAILED, &err),
	    0);
	assert_int_equal(count_files("q"), 0);
	assert_int_equal(count_files("failed"), 2);
	assert_int_equal(queue_list(q, QAREA_FAILED, &ids, &n, &err), 0);
	assert_int_equal(n, 1);
	queue_free_ids(ids, n);
	envelope_free(&e);
	assert_int_equal(queue_load(q, QAREA_FAILED, id, &e, &err), 0);
	assert_int_equal(e.state, ENV_FAILED);
	envelope_free(&e);
	/* Moving what is not there fails and changes nothing. */
	assert_int_equal(queue_move(q, id, QAREA_ACTIVE, QAREA_HOLD, &err),
	    -1);
	assert_int_equal(queue_remove(q, QAREA_FAILED, id, &err), 0);
	assert_int_equal(count_files("failed"), 0);
}

static void
test_list_order_and_junk(void **state)
{
	struct queue *q = *state;
	struct err err;
	char a[QUEUE_ID_LEN + 1], b[QUEUE_ID_LEN + 1], c[QUEUE_ID_LEN + 1];
	char path[400], **ids;
	size_t n;
	int fd;

	add_simple(q, "work", "a@b", "x@y", a);
	add_simple(q, "work", "a@b", "x@y", b);
	add_simple(q, "work", "a@b", "x@y", c);
	set_mtime("q", a, 3000);
	set_mtime("q", b, 1000);
	set_mtime("q", c, 2000);
	/* Debris that must not be listed. */
	snprintf(path, sizeof(path), "%s/q/%s.msg", qdir,
	    "ffffffffffffffffffffffffffffffff");
	assert_true((fd = open(path, O_CREAT | O_WRONLY, 0600)) >= 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/q/notanid.env", qdir);
	assert_true((fd = open(path, O_CREAT | O_WRONLY, 0600)) >= 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/tmp/%s.env", qdir,
	    "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee");
	assert_true((fd = open(path, O_CREAT | O_WRONLY, 0600)) >= 0);
	close(fd);
	assert_int_equal(queue_list(q, QAREA_ACTIVE, &ids, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(ids[0], b);
	assert_string_equal(ids[1], c);
	assert_string_equal(ids[2], a);
	queue_free_ids(ids, n);
}

static void
test_cleanup_tmp(void **state)
{
	struct queue *q = *state;
	struct timespec ts[2];
	struct err err;
	char path[400];
	int fd;

	snprintf(path, sizeof(path), "%s/tmp/old.msg", qdir);
	assert_true((fd = open(path, O_CREAT | O_WRONLY, 0600)) >= 0);
	close(fd);
	ts[0].tv_sec = ts[1].tv_sec = time(NULL) - 2 * 86400;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
	snprintf(path, sizeof(path), "%s/tmp/new.msg", qdir);
	assert_true((fd = open(path, O_CREAT | O_WRONLY, 0600)) >= 0);
	close(fd);
	assert_int_equal(queue_cleanup_tmp(q, time(NULL), &err), 0);
	assert_int_equal(count_files("tmp"), 1);
	assert_int_equal(access(path, F_OK), 0);
}

/* A crash between the two renames of queue_move, and orphan messages. */
static void
test_repair(void **state)
{
	struct queue *q = *state;
	struct envelope e;
	struct err err;
	char id[QUEUE_ID_LEN + 1], id2[QUEUE_ID_LEN + 1], from[400], to[400];
	int lockfd;

	add_simple(q, "acct", "a@example.test", "b@example.test", id);
	/* The message went to hold/, the envelope stayed in q/. */
	snprintf(from, sizeof(from), "%s/q/%s.msg", qdir, id);
	snprintf(to, sizeof(to), "%s/hold/%s.msg", qdir, id);
	assert_int_equal(rename(from, to), 0);
	assert_int_equal(queue_lock(q, QAREA_ACTIVE, id, &lockfd, &err), -1);
	assert_int_equal(queue_repair(q, time(NULL), &err), 1);
	assert_int_equal(count_files("hold"), 0);
	assert_int_equal(queue_lock(q, QAREA_ACTIVE, id, &lockfd, &err), 0);
	queue_unlock(lockfd);
	assert_int_equal(queue_load(q, QAREA_ACTIVE, id, &e, &err), 0);
	envelope_free(&e);

	/* A message whose envelope is gone: kept while locked, then removed. */
	add_simple(q, "acct", "a@example.test", "c@example.test", id2);
	snprintf(from, sizeof(from), "%s/q/%s.env", qdir, id2);
	assert_int_equal(unlink(from), 0);
	snprintf(to, sizeof(to), "%s/q/%s.msg", qdir, id2);
	assert_true((lockfd = open(to, O_RDONLY)) >= 0);
	assert_int_equal(flock(lockfd, LOCK_EX), 0);
	assert_int_equal(queue_repair(q, time(NULL), &err), 0);
	assert_int_equal(count_files("q"), 3);
	close(lockfd);
	assert_int_equal(queue_repair(q, time(NULL), &err), 1);
	assert_int_equal(count_files("q"), 2);
	/* A whole entry is never touched. */
	assert_int_equal(queue_repair(q, time(NULL), &err), 0);
}

static void
test_corrupt_quarantined(void **state)
{
	struct queue *q = *state;
	struct envelope e;
	struct err err;
	char id[QUEUE_ID_LEN + 1], good[QUEUE_ID_LEN + 1], path[400], **ids;
	size_t n;
	int fd;

	add_simple(q, "work", "a@b", "x@y", good);
	add_simple(q, "work", "a@b", "x@y", id);
	snprintf(path, sizeof(path), "%s/q/%s.env", qdir, id);
	assert_true((fd = open(path, O_WRONLY | O_TRUNC)) >= 0);
	write_str(fd, "version: 1\nid: garbage\n");
	close(fd);
	assert_int_equal(queue_load(q, QAREA_ACTIVE, id, &e, &err), -1);
	assert_int_equal(err.class, ERR_DATA);
	envelope_free(&e);
	/* Selection moves it aside and goes on with the good one. */
	assert_int_equal(runq_select(q, QSEL_ALL, NULL, 0, 0, &ids, &n, &err),
	    0);
	assert_int_equal(n, 1);
	assert_string_equal(ids[0], good);
	queue_free_ids(ids, n);
	assert_int_equal(count_files("corrupt"), 2);
	assert_int_equal(count_files("q"), 2);
	snprintf(path, sizeof(path), "%s/corrupt/%s.msg", qdir, id);
	assert_int_equal(access(path, F_OK), 0);
	/* Quarantine works on a whole entry too, and only once. */
	assert_int_equal(queue_quarantine(q, QAREA_ACTIVE, good, &err), 0);
	assert_int_equal(count_files("corrupt"), 4);
	assert_int_equal(queue_quarantine(q, QAREA_ACTIVE, good, &err), -1);
}

static void
test_id_mismatch(void **state)
{
	struct queue *q = *state;
	struct envelope e;
	struct err err;
	char a[QUEUE_ID_LEN + 1], b[QUEUE_ID_LEN + 1], pa[400], pb[400];

	add_simple(q, "work", "a@b", "x@y", a);
	add_simple(q, "work", "a@b", "x@y", b);
	snprintf(pa, sizeof(pa), "%s/q/%s.env", qdir, a);
	snprintf(pb, sizeof(pb), "%s/q/%s.env", qdir, b);
	assert_int_equal(rename(pa, pb), 0);
	assert_int_equal(queue_load(q, QAREA_ACTIVE, b, &e, &err), -1);
	assert_int_equal(err.class, ERR_DATA);
	envelope_free(&e);
}

/*
 * Commit on a full file system: the message fills the disk, then the
 * envelope cannot be written. Nothing of the entry may stay behind.
 */
static void
disk_full_run(const char *dir)
{
	struct queue q2;
	struct envelope e;
	struct err err;
	char chunk[4096], path[400];
	struct dirent *de;
	const char *subs[] = { "q", "tmp" };
	size_t i;
	ssize_t w;
	DIR *d;
	int fd;

	assert_int_equal(queue_open(&q2, dir, &err), 0);
	basic_env(&e, "work", "a@b", "c@d");
	assert_int_equal(queue_create(&q2, &e, &fd, &err), 0);
	memset(chunk, 'x', sizeof(chunk));
	do
		w = write(fd, chunk, sizeof(chunk));
	while (w > 0);
	assert_true(errno == ENOSPC || errno == EFBIG);
	assert_int_equal(queue_commit(&q2, &e, fd, &err), -1);
	assert_true(err.class == ERR_IO || err.class == ERR_CANTCREAT);
	for (i = 0; i < nitems(subs); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, subs[i]);
		assert_non_null(d = opendir(path));
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.')
				fail_msg("left behind: %s/%s", path,
				    de->d_name);
		closedir(d);
	}
	envelope_free(&e);
	queue_close(&q2);
}

static void
test_disk_full(void **state)
{
	char mnt[400], dir[450];
	struct rlimit rl, old;
	pid_t pid;
	int status;

	(void)state;
	snprintf(mnt, sizeof(mnt), "%s/small", topdir);
	assert_int_equal(mkdir(mnt, 0700), 0);
	snprintf(dir, sizeof(dir), "%s/queue", mnt);
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=64k,mode=0700") == 0) {
		disk_full_run(dir);
		assert_int_equal(umount(mnt), 0);
		return;
	}
	/* No mount privilege: a file size limit gives EFBIG instead. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		signal(SIGXFSZ, SIG_IGN);
		getrlimit(RLIMIT_FSIZE, &old);
		rl = old;
		rl.rlim_cur = 64 * 1024;
		setrlimit(RLIMIT_FSIZE, &rl);
		disk_full_run(dir);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Size and inode of area/<id>.env. */
static void
env_stat(const char *area, const char *id, struct stat *st)
{
	char path[400];

	snprintf(path, sizeof(path), "%s/%s/%s.env", qdir, area, id);
	assert_int_equal(stat(path, st), 0);
}

/* Progress recorded in place: same file, same size, read back by load. */
static void
test_mark(void **state)
{
	struct queue *q = *state;
	struct envelope e, l;
	struct err err;
	struct stat st, st2;
	char path[400];
	off_t cut;
	int fd;

	basic_env(&e, "work", "a@b", "c@d");
	envelope_add_rcpt(&e, "x@y", NULL);
	envelope_add_rcpt(&e, "z@y", NULL);
	commit(q, &e, "Subject: x\n\nbody\n");
	env_stat("q", e.id, &st);
	e.rcpts[0].state = RCPT_SENT;
	e.rcpts[1].state = RCPT_FAILED;
	e.rcpts[1].reported = 1;
	e.rcpts[2].state = RCPT_DEFERRED;
	assert_int_equal(queue_mark(q, QAREA_ACTIVE, &e, &err), 0);
	env_stat("q", e.id, &st2);
	assert_int_equal(st2.st_ino, st.st_ino);
	assert_int_equal(st2.st_size, st.st_size);
	assert_int_equal(count_files("tmp"), 0);
	assert_int_equal(queue_load(q, QAREA_ACTIVE, e.id, &l, &err), 0);
	assert_int_equal(l.rcpts[0].state, RCPT_SENT);
	assert_int_equal(l.rcpts[1].state, RCPT_FAILED);
	assert_int_equal(l.rcpts[1].reported, 1);
	assert_int_equal(l.rcpts[2].state, RCPT_DEFERRED);
	envelope_free(&l);
	/* It moves with the entry. */
	assert_int_equal(queue_move(q, e.id, QAREA_ACTIVE, QAREA_HOLD, &err),
	    0);
	e.rcpts[2].state = RCPT_SENT;
	assert_int_equal(queue_mark(q, QAREA_HOLD, &e, &err), 0);
	assert_int_equal(queue_load(q, QAREA_HOLD, e.id, &l, &err), 0);
	assert_int_equal(envelope_rcpts_open(&l), 0);
	envelope_free(&l);

	/* An envelope from before progress lines: rewritten instead. */
	env_stat("hold", e.id, &st);
	cut = st.st_size - (off_t)strlen("progress: sbs\n");
	snprintf(path, sizeof(path), "%s/hold/%s.env", qdir, e.id);
	assert_int_equal(truncate(path, cut), 0);
	assert_int_equal(queue_load(q, QAREA_HOLD, e.id, &l, &err), 0);
	/* Without it the rcpt lines count: as committed. */
	assert_int_equal(l.rcpts[2].state, RCPT_PENDING);
	envelope_free(&l);
	e.rcpts[0].state = RCPT_FAILED;
	assert_int_equal(queue_mark(q, QAREA_HOLD, &e, &err), 0);
	env_stat("hold", e.id, &st2);
	assert_true(st2.st_ino != st.st_ino);
	assert_int_equal(queue_load(q, QAREA_HOLD, e.id, &l, &err), 0);
	assert_int_equal(l.rcpts[0].state, RCPT_FAILED);
	envelope_free(&l);
	/* A last line that is not the progress line: rewritten too. */
	assert_true((fd = open(path, O_WRONLY | O_APPEND)) >= 0);
	write_str(fd, "x-later: 1\n");
	close(fd);
	e.rcpts[0].state = RCPT_SENT;
	assert_int_equal(queue_mark(q, QAREA_HOLD, &e, &err), 0);
	assert_int_equal(queue_load(q, QAREA_HOLD, e.id, &l, &err), 0);
	assert_int_equal(l.rcpts[0].state, RCPT_SENT);
	envelope_free(&l);
	/* No such entry. */
	assert_int_equal(queue_mark(q, QAREA_FAILED, &e, &err), -1);
	assert_int_equal(err.class, ERR_IO);
	envelope_free(&e);
}

/*
 * The point of queue_mark: on a full file system queue_update fails
 * (a new envelope needs room), the mark does not, and a move keeps it.
 */
static void
mark_full_run(const char *dir)
{
	struct queue q2;
	struct envelope e, l;
	struct err err;
	char chunk[4096], path[500];
	ssize_t w;
	int fd, i;

	assert_int_equal(queue_open(&q2, dir, &err), 0);
	basic_env(&e, "work", "a@b", "c@d");
	envelope_add_rcpt(&e, "x@y", NULL);
	commit(&q2, &e, "Subject: x\n\nbody\n");
	snprintf(path, sizeof(path), "%s/../fill", dir);
	assert_true((fd = open(path, O_WRONLY | O_CREAT, 0600)) >= 0);
	memset(chunk, 'x', sizeof(chunk));
	do
		w = write(fd, chunk, sizeof(chunk));
	while (w > 0);
	assert_int_equal(errno, ENOSPC);
	close(fd);
	/* tmpfs gives whole pages: take the small ones left too. */
	for (i = 0; i < 64; i++) {
		snprintf(path, sizeof(path), "%s/../fill.%d", dir, i);
		if ((fd = open(path, O_WRONLY | O_CREAT, 0600)) == -1)
			break;
		w = write(fd, "x", 1);
		close(fd);
		if (w != 1)
			break;
	}
	e.rcpts[0].state = RCPT_SENT;
	e.rcpts[1].state = RCPT_DEFERRED;
	e.attempts = 1;
	assert_int_equal(queue_update(&q2, QAREA_ACTIVE, &e, &err), -1);
	assert_non_null(strstr(err.msg, "No space left"));
	assert_int_equal(queue_mark(&q2, QAREA_ACTIVE, &e, &err), 0);
	assert_int_equal(queue_move(&q2, e.id, QAREA_ACTIVE, QAREA_HOLD,
	    &err), 0);
	assert_int_equal(queue_load(&q2, QAREA_HOLD, e.id, &l, &err), 0);
	assert_int_equal(l.rcpts[0].state, RCPT_SENT);
	assert_int_equal(l.rcpts[1].state, RCPT_DEFERRED);
	assert_int_equal(l.attempts, 0);	/* the update did fail */
	envelope_free(&l);
	envelope_free(&e);
	queue_close(&q2);
}

static void
test_mark_disk_full(void **state)
{
	char mnt[400], dir[450];

	(void)state;
	snprintf(mnt, sizeof(mnt), "%s/small", topdir);
	assert_int_equal(mkdir(mnt, 0700), 0);
	snprintf(dir, sizeof(dir), "%s/queue", mnt);
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=64k,mode=0700") == -1) {
		print_message("no tmpfs (%s): full disk not tried\n",
		    strerror(errno));
		skip();
	}
	mark_full_run(dir);
	assert_int_equal(umount(mnt), 0);
}

static void
test_backoff(void **state)
{
	static const struct {
		int	attempts;
		time_t	lo, hi;
	} tab[] = {
		{ 0, 48, 72 },
		{ 1, 48, 72 },
		{ 2, 96, 144 },
		{ 3, 192, 288 },
		{ 6, 1536, 2304 },
		{ 7, 2880, 3600 },
		{ 50, 2880, 3600 },
		{ 1 << 30, 2880, 3600 },
	};
	size_t i;
	time_t t, min, max;
	int k;

	(void)state;
	for (i = 0; i < nitems(tab); i++) {
		min = tab[i].hi;
		max = tab[i].lo;
		for (k = 0; k < 300; k++) {
			t = queue_backoff(tab[i].attempts);
			if (t < tab[i].lo || t > tab[i].hi)
				fail_msg("attempts %d: %lld", tab[i].attempts,
				    (long long)t);
			if (t < min)
				min = t;
			if (t > max)
				max = t;
		}
		/* There is jitter. */
		assert_true(max > min);
	}
	assert_int_equal(QUEUE_LIFETIME, 5 * 86400);
}

/* ---- runq_list.c, runq.c ---- */

static char *
listing(struct queue *q, time_t now)
{
	struct err err;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	assert_int_equal(runq_list_at(q, f, now, &err), 0);
	fclose(f);
	return out;
}

static void
test_runq_list(void **state)
{
	struct queue *q = *state;
	struct envelope e1, e2, e3;
	struct err err;
	time_t now = 1800000000;
	char *out, expect[4096];

	out = listing(q, now);
	assert_string_equal(out, "Mail queue is empty\n");
	free(out);

	basic_env(&e1, "work", "alice@example.com", "bob@example.org");
	envelope_add_rcpt(&e1, "carol@example.org", NULL);
	e1.created = now - 7500;
	e1.attempts = 2;
	e1.next_try = now + 720;
	e1.size = 2048;
	e1.last_error = strdup("451 4.3.0 try later");
	e1.rcpts[0].state = RCPT_DEFERRED;
	e1.rcpts[0].reply = strdup("451 4.3.0 try later");
	e1.rcpts[1].state = RCPT_SENT;
	e1.rcpts[1].reply = strdup("250 2.0.0 OK");
	commit(q, &e1, "x\n");
	set_mtime("q", e1.id, now - 7500);

	basic_env(&e2, "work", "", "dave@example.org");
	e2.created = now - 30;
	e2.next_try = now;
	e2.size = 100;
	commit(q, &e2, "x\n");
	set_mtime("q", e2.id, now - 30);

	basic_env(&e3, "work", "alice@example.com", "bob@example.org");
	e3.created = now - 90000;
	e3.attempts = 1;
	e3.size = 1000;
	e3.state = ENV_HELD;
	e3.last_error = strdup("535 5.7.3 Authentication unsuccessful");
	commit(q, &e3, "x\n");
	assert_int_equal(queue_move(q, e3.id, QAREA_ACTIVE, QAREA_HOLD, &err),
	    0);

	snprintf(expect, sizeof(expect),
	    "Queued or deferred (2):\n"
	    "%s  2048 bytes  age 2h05m  from <alice@example.com>  "
	    "account work\n"
	    "    attempts 2, next try in 12m\n"
	    "    last error: 451 4.3.0 try later\n"
	    "    deferred <bob@example.org>  451 4.3.0 try later\n"
	    "    sent     <carol@example.org>  250 2.0.0 OK\n"
	    "%s  100 bytes  age 30s  from <>  account work\n"
	    "    attempts 0, next try now\n"
	    "    pending  <dave@example.org>\n"
	    "\n"
	    "Held, needs sign-in (1):\n"
	    "%s  1000 bytes  age 1d01h  from <alice@example.com>  "
	    "account work\n"
	    "    attempts 1, waiting for sign-in: oauthmail login work\n"
	    "    last error: 535 5.7.3 Authentication unsuccessful\n"
	    "    fix: token refused: the token's aud must be "
	    "https://outlook.office.com or https://outlook.office365.com; "
	    "check that user (MAILBOX) is the mailbox the token was issued "
	    "for and that SMTP AUTH is enabled for it (Set-CASMailbox "
	    "-Identity MAILBOX -SmtpClientAuthenticationDisabled $false)\n"
	    "    pending  <bob@example.org>\n"
	    "\n"
	    "-- 4 Kbytes in 3 Requests.\n", e1.id, e2.id, e3.id);
	out = listing(q, now);
	assert_string_equal(out, expect);
	free(out);
	envelope_free(&e1);
	envelope_free(&e2);
	envelope_free(&e3);
}

static void
test_runq_list_one_failed(void **state)
{
	struct queue *q = *state;
	struct err err;
	char id[QUEUE_ID_LEN + 1], *out;

	add_simple(q, "work", "a@b", "x@y", id);
	assert_int_equal(queue_move(q, id, QAREA_ACTIVE, QAREA_FAILED, &err),
	    0);
	out = listing(q, time(NULL));
	assert_non_null(strstr(out, "Failed (1):\n"));
	assert_non_null(strstr(out, "attempts 0, gave up\n"));
	assert_non_null(strstr(out, "\n-- 1 Kbytes in 1 Request.\n"));
	assert_null(strstr(out, "Queued"));
	free(out);
}

static int
has(char **ids, size_t n, const char *id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(ids[i], id) == 0)
			return 1;
	return 0;
}

static void
test_runq_select(void **state)
{
	struct queue *q = *state;
	struct envelope e;
	struct err err;
	char a[QUEUE_ID_LEN + 1], b[QUEUE_ID_LEN + 1], c[QUEUE_ID_LEN + 1];
	char h[QUEUE_ID_LEN + 1], sub[8], **ids;
	time_t now = time(NULL);
	size_t n;

	add_simple(q, "work", "alice@example.com", "Bob@Example.ORG", a);
	add_simple(q, "work", "carol@example.net", "dave@example.org", b);
	basic_env(&e, "home", "alice@example.com", "erin@example.com");
	e.next_try = now + 3600;	/* not due */
	commit(q, &e, "x\n");
	memcpy(c, e.id, sizeof(c));
	envelope_free(&e);
	add_simple(q, "work", "zed@example.com", "bob@example.org", h);
	assert_int_equal(queue_move(q, h, QAREA_ACTIVE, QAREA_HOLD, &err), 0);
	/* The clock may have ticked since: a and b are due from now on. */
	now = time(NULL);

	assert_int_equal(runq_select(q, QSEL_ALL, NULL, 0, now, &ids, &n,
	    &err), 0);
	assert_int_equal(n, 3);
	queue_free_ids(ids, n);
	assert_int_equal(runq_select(q, QSEL_ALL, NULL, 1, now, &ids, &n,
	    &err), 0);
	assert_int_equal(n, 2);
	assert_false(has(ids, n, c));
	queue_free_ids(ids, n);
	/* Recipient substring, case-insensitive. */
	assert_int_equal(runq_select(q, QSEL_RCPT, "bob@example.org", 0, now,
	    &ids, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ids[0], a);
	queue_free_ids(ids, n);
	assert_int_equal(runq_select(q, QSEL_RCPT, "EXAMPLE.ORG", 0, now,
	    &ids, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_true(has(ids, n, a) && has(ids, n, b));
	queue_free_ids(ids, n);
	/* Sender substring. */
	assert_int_equal(runq_select(q, QSEL_SENDER, "alice", 0, now, &ids,
	    &n, &err), 0);
	assert_int_equal(n, 2);
	assert_true(has(ids, n, a) && has(ids, n, c));
	queue_free_ids(ids, n);
	assert_int_equal(runq_select(q, QSEL_SENDER, "nobody", 0, now, &ids,
	    &n, &err), 0);
	assert_int_equal(n, 0);
	queue_free_ids(ids, n);
	/* Id substring. */
	memcpy(sub, b + 10, 7);
	sub[7] = '\0';
	assert_int_equal(runq_select(q, QSEL_ID, sub, 0, now, &ids, &n,
	    &err), 0);
	assert_true(n >= 1 && has(ids, n, b));
	queue_free_ids(ids, n);
	/* Held entries. */
	assert_int_equal(runq_select_held(q, QSEL_RCPT, "bob", &ids, &n,
	    &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ids[0], h);
	queue_free_ids(ids, n);
	assert_int_equal(runq_select_held(q, QSEL_SENDER, "alice", &ids, &n,
	    &err), 0);
	assert_int_equal(n, 0);
	queue_free_ids(ids, n);
}

static void
test_runq_flush(void **state)
{
	struct queue *q = *state;
	struct account aa = { .name = (char *)"a" };
	struct account ab = { .name = (char *)"b" };
	struct account *accts[] = { &aa, &ab };
	struct config cf = { .accounts = accts, .naccounts = 2 };
	struct envelope e;
	struct err err;
	char a1[QUEUE_ID_LEN + 1], a2[QUEUE_ID_LEN + 1], b1[QUEUE_ID_LEN + 1];
	char g1[QUEUE_ID_LEN + 1], h1[QUEUE_ID_LEN + 1];
	char hg[QUEUE_ID_LEN + 1], late[QUEUE_ID_LEN + 1];
	size_t i;

	add_simple(q, "a", "x@y", "r1@z", a1);
	set_mtime("q", a1, 1000);
	add_simple(q, "b", "x@y", "r2@z", b1);
	set_mtime("q", b1, 2000);
	add_simple(q, "gone", "x@y", "r3@z", g1);
	set_mtime("q", g1, 3000);
	add_simple(q, "a", "x@y", "r4@z", a2);
	set_mtime("q", a2, 4000);
	basic_env(&e, "b", "x@y", "r5@z");
	e.next_try = time(NULL) + 3600;
	commit(q, &e, "x\n");
	memcpy(late, e.id, sizeof(late));
	envelope_free(&e);
	add_simple(q, "a", "x@y", "r6@z", h1);
	assert_int_equal(queue_move(q, h1, QAREA_ACTIVE, QAREA_HOLD, &err), 0);
	add_simple(q, "gone", "x@y", "r7@z", hg);
	assert_int_equal(queue_move(q, hg, QAREA_ACTIVE, QAREA_HOLD, &err), 0);

	/* Due only: the late entry is not tried. */
	fail_account = "b";
	assert_int_equal(runq_flush(&cf, q, QSEL_ALL, NULL, 0, &err), -1);
	/* The first failure wins: the "gone" account, found first. */
	assert_int_equal(err.class, ERR_CONFIG);
	assert_non_null(strstr(err.msg, "gone"));
	assert_int_equal(ncalls, 2);
	assert_string_equal(calls[0].account, "a");
	assert_int_equal(calls[0].n, 3);
	assert_string_equal(calls[0].ids[0], a1);
	assert_string_equal(calls[0].ids[1], a2);
	assert_string_equal(calls[0].ids[2], h1);	/* released */
	assert_string_equal(calls[1].account, "b");
	assert_int_equal(calls[1].n, 1);
	assert_string_equal(calls[1].ids[0], b1);
	/* The held entry of account a is back in q/, the other stays. */
	assert_int_equal(count_files("hold"), 2);
	assert_int_equal(queue_load(q, QAREA_ACTIVE, h1, &e, &err), 0);
	assert_int_equal(e.state, ENV_QUEUED);
	envelope_free(&e);

	/* Forced, one account's entries by recipient. */
	ncalls = 0;
	fail_account = "b";
	assert_int_equal(runq_flush(&cf, q, QSEL_RCPT, "r5@", 1, &err), -1);
	assert_int_equal(err.class, ERR_TEMP);
	assert_int_equal(ncalls, 1);
	assert_string_equal(calls[0].ids[0], late);

	ncalls = 0;
	fail_account = NULL;
	assert_int_equal(runq_flush(&cf, q, QSEL_SENDER, "nomatch", 1, &err),
	    0);
	assert_int_equal(ncalls, 0);
	ncalls = 0;
	assert_int_equal(runq_flush(&cf, q, QSEL_RCPT, "r1@", 0, &err), 0);
	assert_int_equal(ncalls, 1);
	for (i = 0; i < ncalls; i++)
		assert_string_equal(calls[i].account, "a");
}

static char *
read_msg(struct queue *q, const char *id)
{
	struct err err;
	char *buf = malloc(1 << 20);
	ssize_t r;
	size_t len = 0;
	int fd = queue_open_msg(q, QAREA_ACTIVE, id, &err);

	assert_true(fd >= 0);
	while ((r = read(fd, buf + len, (1 << 20) - 1 - len)) > 0)
		len += (size_t)r;
	buf[len] = '\0';
	close(fd);
	return buf;
}

static void
test_bounce(void **state)
{
	struct queue *q = *state;
	struct envelope f, b;
	struct err err;
	char id[QUEUE_ID_LEN + 1], id2[QUEUE_ID_LEN + 1], *m, *p;
	char need0[128];
	const char *need[] = {
		"From: \"Mail Delivery System\" <alice@example.com>\n",
		"To: <alice@example.com>\n",
		"Subject: Undelivered Mail Returned to Sender\n",
		"Auto-Submitted: auto-replied\n",
		"MIME-Version: 1.0\n",
		"Content-Type: multipart/report; report-type=delivery-status;",
		"Content-Type: message/delivery-status\n",
		"Reporting-MTA: dns; mta.example\n",
		"Arrival-Date: ",
		"\nFinal-Recipient: rfc822; bob@example.org\n"
		    "Action: failed\nStatus: 5.1.1\n"
		    "Diagnostic-Code: smtp; 550 5.1.1 <bob@example.org>: "
		    "no such user\n",
		"Original-Recipient: rfc822; list@example.org\n",
		"\nFinal-Recipient: rfc822; dave@example.org\n"
		    "Action: failed\nStatus: 4.4.7\n",
		"\nFinal-Recipient: rfc822; erin@example.org\n"
		    "Action: failed\nStatus: 5.0.0\n",
		/* Refused, its reply lost to a full disk (queue_mark). */
		"<frank@example.org>: refused by the server (its reply could "
		    "not be recorded",
		"\nFinal-Recipient: rfc822; frank@example.org\n"
		    "Action: failed\nStatus: 5.0.0\n\n",
		"Content-Type: text/rfc822-headers\n\n"
		    "From: Alice <alice@example.com>\nSubject: hello\n"
		    "X-Folded: a\n b\n\n--",
	};
	size_t i, n, lines;
	struct stat st;
	char **ids;
	int fd, mfd;

	basic_env(&f, "work", "alice@example.com", "bob@example.org");
	envelope_add_rcpt(&f, "carol@example.org", NULL);
	envelope_add_rcpt(&f, "dave@example.org", NULL);
	envelope_add_rcpt(&f, "erin@example.org", "list@example.org");
	envelope_add_rcpt(&f, "frank@example.org", NULL);
	f.rcpts[0].state = RCPT_FAILED;
	f.rcpts[0].reply = strdup("550 5.1.1 <bob@example.org>: no such user");
	f.rcpts[1].state = RCPT_SENT;
	f.rcpts[1].reply = strdup("250 2.0.0 OK");
	f.rcpts[2].state = RCPT_DEFERRED;
	f.rcpts[3].state = RCPT_FAILED;
	f.rcpts[3].reply = strdup("554 rejected");
	f.rcpts[4].state = RCPT_FAILED;
	f.state = ENV_FAILED;
	commit(q, &f, "From: Alice <alice@example.com>\nSubject: hello\n"
	    "X-Folded: a\n b\n\nBODYTEXT must not be quoted\n");
	assert_int_equal(queue_move(q, f.id, QAREA_ACTIVE, QAREA_FAILED,
	    &err), 0);
	mfd = queue_open_msg(q, QAREA_FAILED, f.id, &err);
	assert_true(mfd >= 0);

	assert_int_equal(bounce_queue(q, &f, mfd, "mta.example", id, &err),
	    0);
	assert_true(queue_id_valid(id));
	assert_int_equal(queue_load(q, QAREA_ACTIVE, id, &b, &err), 0);
	assert_string_equal(b.sender, "");
	assert_string_equal(b.account, "work");
	assert_int_equal(b.is_bounce, 1);
	assert_int_equal(b.nrcpts, 1);
	assert_string_equal(b.rcpts[0].addr, "alice@example.com");
	m = read_msg(q, id);
	for (i = 0; i < nitems(need); i++)
		if (strstr(m, need[i]) == NULL)
			fail_msg("missing %s in:\n%s", need[i], m);
	assert_null(strstr(m, "BODYTEXT"));
	assert_null(strstr(m, "carol@"));	/* was delivered */
	assert_non_null(strstr(m, id));	/* in the boundary */
	/* Envelope size counts CRLF line ends. */
	for (lines = 0, p = m; (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	assert_int_equal(b.size, (off_t)(strlen(m) + lines));
	/* The boundary carries the new id and closes the report. */
	snprintf(need0, sizeof(need0), "\n--%s/mta.example--\n", id);
	assert_non_null(strstr(m, need0));
	free(m);

	/* No bounce of a bounce: nothing new is queued. */
	fd = queue_open_msg(q, QAREA_ACTIVE, id, &err);
	assert_true(fd >= 0);
	assert_int_equal(bounce_queue(q, &b, fd, "mta.example", id2, &err),
	    0);
	assert_string_equal(id2, "");
	close(fd);
	assert_int_equal(queue_list(q, QAREA_ACTIVE, &ids, &n, &err), 0);
	assert_int_equal(n, 1);
	queue_free_ids(ids, n);
	/* Nor of a null-sender message that is not marked as one. */
	free(f.sender);
	f.sender = strdup("");
	assert_int_equal(bounce_queue(q, &f, mfd, "mta.example", NULL, &err),
	    0);
	assert_int_equal(count_files("q"), 2);
	assert_int_equal(fstat(mfd, &st), 0);
	close(mfd);
	envelope_free(&b);
	envelope_free(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_layout, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_open_default, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_open_unsafe, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_commit_load, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_abort, setup, teardown),
		cmocka_unit_test_setup_teardown(test_repair, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_commit_without_rcpt_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_move_remove, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_list_order_and_junk, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cleanup_tmp, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_quarantined, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_id_mismatch, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_disk_full, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_mark, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mark_disk_full, setup,
		    teardown),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test_setup_teardown(test_runq_list, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_runq_list_one_failed,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_runq_select, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_runq_flush, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bounce, setup,
		    teardown),
	};

	return cmocka_run_group_tests_name("queue", tests, NULL, NULL);
}
