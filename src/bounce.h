/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * bounce.h -- delivery status notifications (RFC 3464) for failed
 * entries: the report is built here and committed as a new queue entry
 * that the runner delivers like any other message.
 */
#ifndef BOUNCE_H
#define BOUNCE_H

#include "common.h"
#include "envelope.h"
#include "queue.h"
#include "status.h"

/*
 * Queues a delivery status notification (RFC 3464 multipart/report) to
 * the sender of the failed entry `failed`, whose message is readable
 * from failed_msg_fd (read with pread from offset 0; the fd's offset is
 * not used). Reports every recipient not sent. The DSN has the null
 * envelope sender, is_bounce set, the same account, and is committed as
 * a new entry of q/. From: is "Mail Delivery System" <the failed entry's
 * sender> (the address the account sends as). Never bounces a bounce: a
 * failed entry that is a bounce or has the null sender gives no DSN and
 * returns 0 with idout "". reporting_mta: the host name for
 * Reporting-MTA (NULL: this host). If idout is not NULL, the new entry's
 * id is copied there. Errors: those of queue_create/queue_commit (a full
 * disk among them), ERR_IO reading the message.
 */
int	bounce_queue(struct queue *q, const struct envelope *failed,
	    int failed_msg_fd, const char *reporting_mta,
	    char idout[QUEUE_ID_LEN + 1], struct err *err);

#endif
