/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * runq_list.h -- the mailq listing (sendmail -bp, mailq, oauthmail queue)
 * as text. Read-only: it selects and delivers nothing (runq.h does).
 */
#ifndef RUNQ_LIST_H
#define RUNQ_LIST_H

#include <stdio.h>
#include <time.h>

#include "common.h"
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

#endif
