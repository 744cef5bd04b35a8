/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * queue.h -- the durable spool (doc/design.md §5).
 *
 * Layout under the queue directory (mode 0700):
 *   tmp/            files being written
 *   q/<id>.msg      the message exactly as it will be sent (LF endings)
 *   q/<id>.env      the envelope; its presence means "committed"; its
 *                   last line, the recipients' progress, is updated in
 *                   place (queue_mark), the rest by rename (queue_update)
 *   hold/<id>.*     held-auth entries
 *   failed/<id>.*   permanent failures, kept
 *   corrupt/<id>.*  entries that failed validation, moved aside
 * Commit: write tmp, fsync, rename .msg then .env into q/, fsync(q/).
 */
#ifndef QUEUE_H
#define QUEUE_H

#include <time.h>

#include "common.h"
#include "envelope.h"
#include "status.h"

enum queue_area {
	QAREA_ACTIVE = 0,	/* q/ */
	QAREA_HOLD,		/* hold/ */
	QAREA_FAILED,		/* failed/ */
	QAREA_CORRUPT		/* corrupt/ */
};
#define QAREA_COUNT	4

struct queue {
	char	*dir;
	int	 dirfd;		/* the queue directory */
	int	 areafd[QAREA_COUNT];	/* q/ hold/ failed/ corrupt/ */
	int	 tmpfd;		/* tmp/ */
};

/* Give up on a deferred entry this long after it was created. */
#define QUEUE_LIFETIME	(5 * 86400)
/* Files in tmp/ older than this are debris of a crash. */
#define QUEUE_TMP_STALE	86400
/* queue_list returns at most this many ids (the oldest are not favoured). */
#define QUEUE_LIST_MAX	1000000

/*
 * Opens (creating with 0700 as needed) the queue at dir; NULL dir means
 * the per-user default $XDG_STATE_HOME/oauthmail/queue. Refuses a queue
 * directory writable by group/others or not owned by the caller
 * (ERR_CONFIG). ERR_CANTCREAT if it cannot be created.
 * The same checks apply to each subdirectory, and none may be a symlink.
 */
int	queue_open(struct queue *, const char *dir, struct err *);
void	queue_close(struct queue *);

/*
 * Starts a new entry: picks a random id (written to env->id), creates
 * tmp/<id>.msg with O_EXCL 0600 and returns its fd in *fdp for the
 * caller to write the message into.
 */
int	queue_create(struct queue *, struct envelope *env, int *fdp,
	    struct err *);
/*
 * Commits the entry started by queue_create: fsyncs and closes fd, writes
 * tmp/<id>.env, renames both into q/, fsyncs q/. On failure nothing of the
 * entry is left (ERR_CANTCREAT / ERR_IO).
 */
int	queue_commit(struct queue *, const struct envelope *env, int fd,
	    struct err *);
/* Abandons an uncommitted entry (closes fd, unlinks the temp files). */
void	queue_abort(struct queue *, const struct envelope *env, int fd);

/*
 * Locks an entry for delivery: takes flock(LOCK_EX|LOCK_NB) on the entry
 * (opened O_NOFOLLOW). Returns 0 with *lockfd set; 1 if another process
 * holds it, or held it and has meanwhile removed or moved it (skip it);
 * -1 on error, ERR_IO "no queue entry ..." if there is no such entry in
 * that area (try another area). Hold the lock for the whole attempt;
 * queue_update and queue_move keep it valid (see queue.c for why the lock
 * is on the .msg file: the .env is replaced by rename on every update).
 */
int	queue_lock(struct queue *, enum queue_area, const char *id,
	    int *lockfd, struct err *);
void	queue_unlock(int lockfd);
/* Loads the envelope of an entry (area/<id>.env). */
int	queue_load(struct queue *, enum queue_area, const char *id,
	    struct envelope *env, struct err *);
/* Opens the message of an entry read-only (O_NOFOLLOW); returns the fd. */
int	queue_open_msg(struct queue *, enum queue_area, const char *id,
	    struct err *);
/* Rewrites the envelope atomically (tmp + fsync + rename + fsync dir). */
int	queue_update(struct queue *, enum queue_area,
	    const struct envelope *env, struct err *);
/*
 * Records the recipients' states of env (sent, failed, reported ...) in
 * its envelope in place: the progress line at the end of the .env is
 * overwritten with pwrite + fdatasync, which needs no free disk space,
 * and queue_load applies it over the rcpt lines. Call it right after an
 * attempt, before queue_update, with the entry locked. An envelope with
 * no progress line (written by an older version) is rewritten with
 * queue_update instead. ERR_IO.
 */
int	queue_mark(struct queue *, enum queue_area,
	    const struct envelope *env, struct err *);
/*
 * Moves an entry between areas (message first, envelope last), fsyncs
 * both directories. The caller updates env->state itself.
 */
int	queue_move(struct queue *, const char *id, enum queue_area from,
	    enum queue_area to, struct err *);
/* Removes a delivered entry (envelope first, then message). */
int	queue_remove(struct queue *, enum queue_area, const char *id,
	    struct err *);
/*
 * Lists committed entry ids in an area (sorted oldest first by ctime).
 * *idsp is an xmalloc'd array of xmalloc'd strings; free with
 * queue_free_ids.
 */
int	queue_list(struct queue *, enum queue_area, char ***idsp,
	    size_t *np, struct err *);
void	queue_free_ids(char **ids, size_t n);

/*
 * Moves an entry whose envelope failed validation (or whose message is
 * missing) to corrupt/, whatever of it exists; never deletes. ERR_IO.
 */
int	queue_quarantine(struct queue *, enum queue_area, const char *id,
	    struct err *);
/* Removes files in tmp/ last modified before now - QUEUE_TMP_STALE. */
int	queue_cleanup_tmp(struct queue *, time_t now, struct err *);
/*
 * Mends entries a crash split (kill -9 between the two renames of
 * queue_move, or between the unlinks of queue_remove / the renames of
 * queue_commit): an envelope whose message sits in another area gets its
 * message back; a message with no envelope anywhere is removed (its
 * commit never finished, or it was already delivered). A message whose
 * lock another process holds (a commit or a delivery in progress) is
 * left alone.
 * Returns the number of entries mended; -1 with ERR_IO.
 */
int	queue_repair(struct queue *, time_t now, struct err *);
/*
 * Delay before the next try after `attempts` failed attempts: 60 s
 * doubling per attempt, capped at 3600 s, with +-20% jitter (the result
 * never exceeds the cap).
 */
time_t	queue_backoff(int attempts);
/* "q", "hold", "failed", "corrupt". */
const char *queue_area_name(enum queue_area);
/* 1 if id is QUEUE_ID_LEN lower-case hex digits. */
int	queue_id_valid(const char *id);

#endif
