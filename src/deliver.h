/*
 * deliver.h -- one delivery attempt for queued entries of one account:
 * a token (cached -> refresh), one SMTP session for many messages, per-
 * recipient results recorded in the envelope, and the entry's new state
 * (sent / deferred / held-auth / failed).
 */
#ifndef DELIVER_H
#define DELIVER_H

#include "common.h"
#include "conf.h"
#include "queue.h"
#include "status.h"

/*
 * Delivers the listed entries (all for acct) over one session.
 * Returns 0 if every entry was sent; otherwise -1 with err describing the
 * first failure (its class tells the caller what the exit code is).
 */
int	deliver_entries(const struct config *cf, const struct account *acct,
	    struct queue *q, char **ids, size_t nids, struct err *err);

#endif
