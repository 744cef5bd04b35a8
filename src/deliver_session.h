/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * deliver_session.h -- the session of one account's delivery run, for
 * deliver.c alone: one SMTP connection (and one token) for every entry
 * of the run, or the account's HTTPS API (api.h) once transport auto has
 * switched to it, and the failure that stops the run. deliver.c records
 * each entry's outcome (deliver.h).
 */
#ifndef DELIVER_SESSION_H
#define DELIVER_SESSION_H

#include "common.h"

#include <time.h>

#include "api.h"
#include "conf.h"
#include "envelope.h"
#include "queue.h"
#include "smtp.h"
#include "status.h"
#include "store.h"

struct dsession {
	const struct config	*cf;
	const struct account	*acct;
	struct store		*st;
	struct smtp_session	*s;
	enum conf_auth		 mech;
	int			 failed;	/* connect/auth failed: don't retry */
	char			 tls[16];	/* TLS version of the last session */
	char			 relay[300];	/* its host[address]:port */
	int			 connected;	/* this entry used a connection */
	struct err		 failerr;
	size_t			 nsent;		/* messages on this session */
	time_t			 retry_at;	/* this entry not before (limit) */
	struct queue		*q;
	enum conf_transport	 transport;	/* SMTP, or the API in use */
	int			 smtp_ok;	/* an SMTP session was opened */
	struct api_result	 api;		/* the last API request */
	/* The wait the API asked for in the reply that stopped the run. */
	long long		 fail_wait;
};

/*
 * A run's session for acct's entries in q, not connected yet; its
 * transport is SMTP, or the API while transport auto's switch lasts.
 */
void	dsession_init(struct dsession *, const struct config *,
	    const struct account *, struct queue *);
/*
 * Ends the run: closes the connection and the keyring; an SMTP session
 * that worked ends transport auto's switch to the API.
 */
void	dsession_end(struct dsession *);
/* The SASL user name: user, else the account's address. */
const char *dsession_user(const struct account *);
/*
 * Connects and authenticates once per run (a refused cached token is
 * refreshed and tried once more); after a failure, that failure again.
 */
int	dsession_get(struct dsession *, struct err *);
/*
 * Sends env on the run's session (one reconnection for a server that
 * closed an idle session); a failure that must stop the account's run
 * marks the session failed. -1 with e: ERR_PERM leaves the session on.
 */
int	dsession_send(struct dsession *, struct envelope *env, int msgfd,
	    struct err *e);
/*
 * transport auto: SMTP AUTH is off for the mailbox (err), so the run
 * goes on over the provider's API, for a day (apiswitch.h); err is
 * cleared. -1 (err unchanged) if that is not the case.
 */
int	dsession_switch_to_api(struct dsession *, struct err *err);
/*
 * Sends env over the account's HTTPS API, setting the recipients' states;
 * a failure other than a refusal of the message stops the run.
 */
int	dsession_send_api(struct dsession *, struct envelope *env, int msgfd,
	    struct err *e);
/*
 * When an entry the API deferred (e) is tried again: the wait the API
 * asked for, at least API_LIMIT_WAIT for a sending limit; 0: the usual
 * backoff.
 */
time_t	dsession_api_retry_at(const struct dsession *, const struct err *e);

#endif
