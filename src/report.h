/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * report.h -- the monitoring outputs: oauthmail status --json and
 * --prometheus, oauthmail queue --json, oauthmail check --nagios
 * (oauthmail(8), JSON OUTPUT and MONITORING).
 *
 * Every report is made from local state only: the queue, the hold
 * schedule and each account's token record in the keyring. None opens a
 * connection or refreshes a token, so a monitor may poll as often as it
 * likes without a sign-in per poll (or a failed-login storm when the
 * server refuses).
 */
#ifndef REPORT_H
#define REPORT_H

#include <stdio.h>
#include <time.h>

#include "common.h"
#include "args.h"
#include "conf.h"
#include "queue.h"
#include "status.h"

/* The version of the JSON documents' layout ("schema_version"). */
#define REPORT_SCHEMA_VERSION	1
/* check --nagios: the oldest waiting message's age thresholds. */
#define REPORT_WARN_AGE		3600
#define REPORT_CRIT_AGE		86400

/* Nagios plugin exit codes. */
#define NAGIOS_OK		0
#define NAGIOS_WARNING		1
#define NAGIOS_CRITICAL		2
#define NAGIOS_UNKNOWN		3

/*
 * status --json or --prometheus (inv->format), for inv->cmd_account or
 * every account, on out. Returns 0 once the report is written, whatever
 * the accounts' states (they are in the report); -1 with ERR_CONFIG for
 * an unknown account or a queue this user may not read (queue_open's
 * errors), ERR_IO when out cannot be written.
 */
int	report_status(const struct invocation *inv, const struct config *cf,
	    FILE *out, struct err *err);

/*
 * queue --json: every entry of q (q/, hold/, failed/) as one object, at
 * now. Errors: ERR_IO (listing a directory, writing to out).
 */
int	report_queue(const struct config *cf, struct queue *q, FILE *out,
	    time_t now, struct err *err);

/*
 * check --nagios: one line on out and the plugin's exit code (NAGIOS_*).
 * Thresholds inv->warn_age and inv->crit_age (0: the defaults above).
 */
int	report_nagios(const struct invocation *inv, const struct config *cf,
	    FILE *out);
/* The UNKNOWN line for a failure before the report (config, usage). */
int	report_nagios_unknown(FILE *out, const char *why);

#endif
