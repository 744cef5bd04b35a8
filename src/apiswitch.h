/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * apiswitch.h -- "transport auto": an account whose SMTP server refuses
 * SMTP AUTH (Microsoft's 535 5.7.139, or no OAuth mechanism offered) is
 * switched to its provider's HTTPS API (api.h) for APISWITCH_DAYS; then
 * SMTP is tried again, and a working SMTP session ends the switch.
 *
 * The switch lives in the queue directory, one file per account
 * (APISWITCH_PREFIX + account: "SINCE\tREASON\n"), written by rename, so
 * that it survives restarts and every runner sees it; a lost or
 * unreadable file only means SMTP is tried once more.
 */
#ifndef APISWITCH_H
#define APISWITCH_H

#include <time.h>

#include "common.h"
#include "conf.h"
#include "queue.h"
#include "status.h"

#define APISWITCH_PREFIX	"api-switch."
#define APISWITCH_RETRY		86400	/* SMTP is tried again after this */
#define APISWITCH_REASON_MAX	300

struct apiswitch {
	time_t	 since;		/* when SMTP AUTH was last refused */
	char	 reason[APISWITCH_REASON_MAX + 1];
};

/*
 * The account's switch: 1 and *sw if it has one (whatever its age), 0 if
 * not (or it cannot be read).
 */
int	apiswitch_get(struct queue *, const char *account, struct apiswitch *);
/* Records (or renews) the switch at now. Errors: ERR_IO. */
int	apiswitch_set(struct queue *, const char *account, time_t now,
	    const char *reason, struct err *);
/* Ends the switch (SMTP works again); no switch is fine. ERR_IO. */
int	apiswitch_clear(struct queue *, const char *account, struct err *);
/*
 * The transport the account uses at now: its "transport", with auto
 * resolved to its API while a switch younger than APISWITCH_RETRY holds,
 * else SMTP.
 */
enum conf_transport apiswitch_transport(struct queue *,
	    const struct account *, time_t now);
/*
 * How the account sends now, in one line for status and check:
 * "smtp", "graph", "auto: SMTP" or "auto: Microsoft Graph since DATE
 * (SMTP AUTH refused: ...); SMTP is tried again in 23h 10m".
 */
void	apiswitch_describe(struct queue *, const struct account *, time_t now,
	    char *dst, size_t size);
/*
 * The line mailq shows under an entry of an account that the switch
 * holds (its configuration is not at hand there), or "" if none.
 */
void	apiswitch_mailq_line(struct queue *, const char *account, time_t now,
	    char *dst, size_t size);

/*
 * Whether a failed SMTP session's error (its text e->msg, with mech the
 * mechanism tried) says SMTP AUTH is off for the mailbox.
 */
int	apiswitch_smtp_auth_off(const struct err *e, enum conf_auth mech);

#endif
