/*
 * runq.h -- the queue runner: the mailq listing, selection of entries
 * (sendmail -q, -qI, -qR, -qS), one delivery run grouped by account, and
 * delivery status notifications (RFC 3464) for failed entries.
 */
#ifndef RUNQ_H
#define RUNQ_H

#include <stdio.h>
#include <time.h>

#include "common.h"
#include "args.h"
#include "conf.h"
#include "envelope.h"
#include "queue.h"
#include "status.h"

/*
 * Writes the mailq listing to out: sections "Queued or deferred",
 * "Held, needs sign-in" and "Failed" (only those with entries), each
 * entry with id, size, age, sender, account, attempts, next try, last
 * error and every recipient with its state and last reply; then a total
 * line "-- N Kbytes in M Requests." ("Mail queue is empty" instead when
 * there is nothing). Read-only: an unreadable envelope is shown as such.
 * Errors: ERR_IO (listing a directory, writing to out).
 */
int	runq_list(struct queue *q, FILE *out, struct err *err);
/* The same with an explicit clock (tests). */
int	runq_list_at(struct queue *q, FILE *out, time_t now,
	    struct err *err);

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
 * left where they are, with one warning per account.
 * Returns 0 if everything selected was delivered (or nothing was
 * selected); -1 with the first failure otherwise (its class comes from
 * deliver_entries; ERR_CONFIG for an unknown account).
 */
int	runq_flush(const struct config *cf, struct queue *q,
	    enum inv_qselect sel, const char *value, int force,
	    struct err *err);

/*
 * Queues a delivery status notification (RFC 3464 multipart/report) to
 * the sender of the failed entry `failed`, whose message is readable
 * from failed_msg_fd (read with pread from offset 0; the fd's offset is
 * not used). Reports every recipient not sent. The DSN has the null
 * envelope sender, is_bounce set, the same account, and is committed as
 * a new entry of q/. From: is "Mail Delivery System" <the failed entry's
 * sender> (the address the account sends as). Never bounces a bounce: a
 * failed entry that is a bounce or has the null sender gives no DSN and
 * returns 0. reporting_mta: the host name for Reporting-MTA (NULL: this
 * host). Errors: those of queue_create/queue_commit, ERR_IO reading the
 * message.
 */
int	runq_bounce(struct queue *q, const struct envelope *failed,
	    int failed_msg_fd, const char *reporting_mta, struct err *err);
/* The same; if idout is not NULL, the new entry's id is copied there. */
int	runq_bounce_id(struct queue *q, const struct envelope *failed,
	    int failed_msg_fd, const char *reporting_mta,
	    char idout[QUEUE_ID_LEN + 1], struct err *err);

#endif
