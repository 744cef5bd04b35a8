/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * bs.h -- sendmail -bs: an SMTP dialogue on standard input and output
 * (Symfony Mailer's and Laravel's default transport).
 *
 * Greeting "220 HOST ESMTP oauthmail"; HELO, EHLO (8BITMIME, SIZE,
 * ENHANCEDSTATUSCODES), MAIL, RCPT, DATA, RSET, NOOP, VRFY (252), HELP,
 * QUIT; several messages per session. Each message goes through the same
 * path as the command line (submit.h): spooled by intake (-i semantics on
 * the dot-unstuffed data), then delivered (or queued) as the configured
 * delivery mode says; in system mode each message is one maildrop file
 * for the delivery daemon. Replies: 250 once a message is sent or durably
 * spooled (in system mode: once its drop file is complete and on disk),
 * 5xx with the server's reason for a permanent refusal, 451 when it could
 * not even be spooled. Command lines over 512 octets get 500
 * 5.5.2; a text line over 1000 octets makes the message fail with 552
 * 5.3.4 (the rest of it is read and discarded). End of input without
 * QUIT ends the session (whatever was accepted stays accepted).
 */
#ifndef BS_H
#define BS_H

#include "common.h"
#include "args.h"
#include "conf.h"

/* Idle time allowed for the client, as Postfix's smtpd_timeout. */
#define BS_TIMEOUT	300

struct submit_dropper;

/*
 * Runs the session on stdin/stdout. Returns a sysexits code. dropper: in
 * system mode, where each message goes to the maildrop (submit.h); NULL
 * otherwise.
 */
int	bs_run(const struct invocation *inv, const struct config *cf,
	    struct submit_dropper *dropper);

#endif
