/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * runq.h -- the queue runner: selection of entries (sendmail -q, -qI,
 * -qR, -qS) and one delivery run grouped by account. The mailq listing
 * is runq_list.h's.
 */
#ifndef RUNQ_H
#define RUNQ_H

#include <time.h>

#include "common.h"
#include "args.h"
#include "conf.h"
#include "deliver.h"
#include "envelope.h"
#include "queue.h"
#include "status.h"

/*
 * Selects committed entries of q/ (oldest first): QSEL_ALL every entry;
 * QSEL_ID those whose id contains value; QSEL_RCPT those with a
 * recipient address containing value; QSEL_SENDER those whose sender
 * contains value (all substring matches ASCII case-insensitive). With
 * due_only, only entries whose next_try <= now. An entry whose envelope
 * fails validation is moved to corrupt/ with a warning and skipped.
 * *idsp: free with queue_free_ids. Errors: ERR_IO.
 */
int	runq_select(struct queue *q, enum inv_qselect sel, const char *value,
	    int due_only, time_t now, char ***idsp, size_t *np,
	    struct err *err);
/* The same over hold/ (no due check: held entries wait for a token). */
int	runq_select_held(struct queue *q, enum inv_qselect sel,
	    const char *value, char ***idsp, size_t *np, struct err *err);

/*
 * One delivery run (sendmail -q, oauthmail flush): selects due entries
 * of q/ (every selected entry with force, as Postfix's sendmail -q does)
 * and every selected held entry, which is released back to q/ (its
 * account may work again; delivery holds it again if not). Groups the
 * ids by account and calls deliver_entries once per account, oldest
 * account first. Entries of an account that is no longer configured are
 * left where they are, with one warning per account. Each account's
 * outcome goes to the hold schedule (holdsched.h): held again, one step
 * more; through, the schedule forgets it.
 * Returns 0 if everything selected was delivered (or nothing was
 * selected); -1 with the first failure otherwise (its class comes from
 * deliver_entries; ERR_CONFIG for an unknown account).
 */
int	runq_flush(const struct config *cf, struct queue *q,
	    enum inv_qselect sel, const char *value, int force,
	    struct err *err);

/*
 * The call that delivers one account's entries in a run (runq_run,
 * runq_send_held): deliver_entries_ex (deliver.h) with bounces, unless a
 * test sets its own stand-in; NULL restores it. outcomes and errs (one
 * per id) are always given: the hold schedule learns from them.
 */
typedef int runq_deliver_fn(const struct config *cf,
    const struct account *acct, struct queue *q, char **ids, size_t nids,
    enum deliver_outcome *outcomes, struct err *errs, struct err *err);
void	runq_set_deliver(runq_deliver_fn *fn);

#define RUNQ_FORCE	0x01	/* every selected entry of q/, due or not */
#define RUNQ_SCHEDULE	0x02	/* held accounts only in their turn */
/*
 * runq_flush with flags. RUNQ_SCHEDULE (the daemon): a held account is
 * released only when holdsched_claim gives it its turn; until then its
 * new mail joins the held mail in hold/ untried, so the account sees at
 * most one session per step whatever arrives.
 */
int	runq_run(const struct config *cf, struct queue *q,
	    enum inv_qselect sel, const char *value, int flags,
	    struct err *err);

/*
 * After a sign-in: delivers every held entry of account acct now, over
 * one session, and records the outcome in the hold schedule. *nheld gets
 * how many were held, *nsent how many of them left the queue (sent; a
 * failed entry stays in failed/). Returns 0 if every one was sent (or none was held); -1
 * with the first failure otherwise (the rest stay queued or held).
 */
int	runq_send_held(const struct config *cf, struct queue *q,
	    const struct account *acct, size_t *nheld, size_t *nsent,
	    struct err *err);

#endif
