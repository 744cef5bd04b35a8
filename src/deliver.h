/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * deliver.h -- delivery attempts for queued entries of one account: a
 * token (cached -> refresh -> retry AUTH once after a 535), one SMTP
 * session for many messages, per-recipient results recorded in the
 * envelope, and each entry's new state:
 *   sent      every recipient accepted: the entry is removed;
 *   deferred  4xx / network / token endpoint transient: stays in q/ with
 *             next-try = now + backoff; after the lifetime it fails;
 *   held      AUTH refused / sign-in needed: moved to hold/, never ages
 *             out, released as soon as a token works again;
 *   failed    5xx for every remaining recipient: moved to failed/ and, if
 *             asked, a DSN goes to the envelope sender.
 */
#ifndef DELIVER_H
#define DELIVER_H

#include "common.h"
#include "conf.h"
#include "queue.h"
#include "status.h"

enum deliver_outcome {
	DOUT_SENT = 0,
	DOUT_PARTIAL,		/* some sent, the rest failed permanently */
	DOUT_DEFERRED,
	DOUT_HELD,
	DOUT_FAILED,
	DOUT_SKIPPED		/* locked by another runner, or vanished */
};

#define DELIVER_BOUNCE	0x01	/* send a DSN for permanent failures */
#define DELIVER_BOUNCE_PARTIAL 0x02	/* ... only when some recipients got it */

/*
 * Delivers the listed entries (all for acct; each in q/ or hold/) over one
 * session. outcomes (may be NULL) receives one outcome per id, and errs
 * (may be NULL) the error behind each outcome. Returns 0 if every entry
 * was sent; otherwise -1 with err describing the first failure.
 */
int	deliver_entries_ex(const struct config *cf, const struct account *acct,
	    struct queue *q, char **ids, size_t nids, int flags,
	    enum deliver_outcome *outcomes, struct err *errs, struct err *err);
/* deliver_entries_ex with bounces on and no per-entry results. */
int	deliver_entries(const struct config *cf, const struct account *acct,
	    struct queue *q, char **ids, size_t nids, struct err *err);
const char *deliver_outcome_str(enum deliver_outcome);

#endif
