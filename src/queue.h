/*
 * queue.h -- the durable spool (DESIGN.md §5, STYLE.md §8.6).
 *
 * Layout under the queue directory (mode 0700):
 *   tmp/            files being written
 *   q/<id>.msg      the message exactly as it will be sent (LF endings)
 *   q/<id>.env      the envelope; its presence means "committed"
 *   hold/<id>.*     held-auth entries
 *   failed/<id>.*   permanent failures, kept
 *   corrupt/<id>.*  entries that failed validation, moved aside
 * Commit: write tmp, fsync, rename .msg then .env into q/, fsync(q/).
 */
#ifndef QUEUE_H
#define QUEUE_H

#include "common.h"
#include "envelope.h"
#include "status.h"

struct queue {
	char	*dir;
	int	 dirfd;		/* the queue directory */
};

enum queue_area {
	QAREA_ACTIVE = 0,	/* q/ */
	QAREA_HOLD,		/* hold/ */
	QAREA_FAILED,		/* failed/ */
	QAREA_CORRUPT		/* corrupt/ */
};

/*
 * Opens (creating with 0700 as needed) the queue at dir; NULL dir means
 * the per-user default $XDG_STATE_HOME/oauthmail/queue. Refuses a queue
 * directory writable by group/others or not owned by the caller
 * (ERR_CONFIG). ERR_CANTCREAT if it cannot be created.
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
 * Locks an entry for delivery: opens q/<id>.env (O_NOFOLLOW) and takes
 * flock(LOCK_EX|LOCK_NB). Returns 0 with *lockfd set, 1 if another
 * process holds it, -1 on error.
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
/* Moves an entry between areas (message first, envelope last). */
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

#endif
