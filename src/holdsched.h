/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * holdsched.h -- when a held account is tried again.
 *
 * An account whose server refused the authentication (or whose sign-in
 * is needed) has its mail in hold/. Trying again on every queue run would
 * be a failed-login storm (Microsoft locks accounts for less), so the
 * queue daemon tries a held account at most once per step: 1 minute
 * after the first refusal, then twice the previous step, up to 1 hour.
 * One attempt is one SMTP session for every held message of the account.
 * The step starts again from nothing after "oauthmail login" (or a new
 * secret or password), a successful delivery, or a change of the
 * account's configuration (a fingerprint of it is kept).
 *
 * The schedule lives in the queue directory (HOLDSCHED_FILE), one line
 * per account, so that it survives a daemon restart; every change is made
 * under flock and written by rename. A lost or unreadable file only means
 * one attempt sooner.
 */
#ifndef HOLDSCHED_H
#define HOLDSCHED_H

#include <stdint.h>
#include <time.h>

#include "common.h"
#include "conf.h"
#include "queue.h"
#include "status.h"

#define HOLDSCHED_FILE		"hold-schedule"
/* The first step and the longest one. */
#define HOLDSCHED_FIRST		60
#define HOLDSCHED_MAX		3600
/* Longest refusal text kept for mailq and the log. */
#define HOLDSCHED_REASON_MAX	300

struct holdsched_rec {
	char		*account;
	int		 fails;		/* refused attempts in a row */
	time_t		 last;		/* the last attempt */
	time_t		 next;		/* no attempt before this */
	uint64_t	 fp;		/* holdsched_fingerprint at the attempt */
	char		*reason;	/* the last refusal ("" if none) */
};

struct holdsched {
	struct holdsched_rec	*v;
	size_t			 n;
};

/* The wait after `fails` refusals in a row: 0, 60, 120, ... 3600. */
time_t	holdsched_step(int fails);
/* A hash of what decides whether the account can log in. */
uint64_t holdsched_fingerprint(const struct account *);

/* Reads the schedule (no file: empty). Errors: ERR_IO. */
int	holdsched_load(struct queue *, struct holdsched *, struct err *);
void	holdsched_free(struct holdsched *);
const struct holdsched_rec *holdsched_find(const struct holdsched *,
	    const char *account);
/*
 * Whether an account with record r (NULL: none) may be tried at now: no
 * record, now >= r->next, or its configuration changed (fp differs).
 */
int	holdsched_due(const struct holdsched_rec *r, uint64_t fp, time_t now);
/* The earliest r->next later than now, or 0 if there is none. */
time_t	holdsched_next_wake(const struct holdsched *, time_t now);

/*
 * Takes the account's turn for its held entries ids[0..n) (as the caller
 * found them in hold/): if it is due at now, records the attempt (next =
 * now + the step that follows a refusal, so a crash or a concurrent
 * runner cannot try again before then) and returns 1; otherwise returns
 * 0 with *next (may be NULL) set to when it will be. Returns 2, and
 * records nothing, when it is due but none of ids is in hold/ any more:
 * another runner sent them (or holds them again) and records the outcome
 * itself, so a turn taken on what the caller read before would outlive
 * it. The check is made under the schedule's lock, which that runner's
 * holdsched_record takes after it has moved its entries. n == 0: no
 * check. -1 on error (ERR_IO; the caller should not try).
 */
int	holdsched_claim(struct queue *, const struct account *, time_t now,
	    char *const *ids, size_t n, time_t *next, struct err *);
/*
 * The outcome of an attempt: held (refused again: one more step, reason
 * kept, *next set when not NULL) or not (the record goes). ERR_IO.
 */
int	holdsched_record(struct queue *, const struct account *, int held,
	    const char *reason, time_t now, time_t *next, struct err *);
/* Forgets the record of account (NULL: every record). ERR_IO. */
int	holdsched_reset(struct queue *, const char *account, struct err *);
/*
 * Forgets the records due by now of accounts that have no held mail
 * (names[0..n)): they would only wake the daemon for nothing.
 */
int	holdsched_prune(struct queue *, char *const *names, size_t n,
	    time_t now, struct err *);
/*
 * After a new sign-in, secret or password: the account's held mail goes
 * out on the next queue run. Quietly does nothing when the caller cannot
 * open the account's queue (another user's spool).
 */
void	holdsched_reset_account(const struct account *);

#endif
