/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * api.h -- one queued message sent over an HTTPS mail API instead of SMTP
 * (transport graph | gmail-api, oauthmail.conf(5)):
 *   Microsoft Graph  POST {graph_endpoint}/users/{user}/sendMail,
 *                    Content-Type text/plain, the message in base64;
 *                    success is exactly 202.
 *   Gmail API        POST {gmail_endpoint}/upload/gmail/v1/users/me/
 *                    messages/send?uploadType=media, Content-Type
 *                    message/rfc822, the message as queued; success is
 *                    200 with the new message's id.
 * Neither API has an envelope: it delivers to the To, Cc and Bcc headers.
 * So the envelope's open recipients missing from To/Cc are added as a
 * Bcc header (to the copy sent only), and a message whose header names a
 * recipient the envelope does not have is held, never sent: the API would
 * deliver to that recipient. The body is streamed from the spool file
 * (base64 on the fly for Graph): memory does not grow with the message.
 */
#ifndef API_H
#define API_H

#include "common.h"
#include "conf.h"
#include "envelope.h"
#include "status.h"
#include "store.h"

/* The largest message (bytes as queued) each API takes. */
#define API_GRAPH_MAX		CONF_GRAPH_MAX_MESSAGE
#define API_GMAIL_MAX		CONF_GMAIL_MAX_MESSAGE
/*
 * The most recipients (To, Cc and Bcc together) one message may have:
 * Gmail's limit, and Exchange Online's default recipient limit.
 */
#define API_GMAIL_MAX_RCPTS	100
#define API_GRAPH_MAX_RCPTS	500
/* The longest header block read to find the recipients. */
#define API_HEADER_MAX		(1024 * 1024)
/* A whole request may take this long (a 35 MiB upload on a slow line). */
#define API_TIMEOUT		600L

/*
 * In the error (and so the last error) of a message held because its
 * header names recipients outside the envelope: the message waits on its
 * own, the account is not held for it.
 */
#define API_HELD_MISMATCH	"not envelope recipients"

/* The longest Retry-After honoured (a longer one is cut to this). */
#define API_RETRY_AFTER_MAX	86400
/*
 * A sending limit the API reports (advice.h ADV_LIMIT: Gmail's daily
 * limit) defers the account's mail this long at least, or for the longer
 * time the API asks for: a limit of 24 hours that rolls over is asked
 * once an hour, not on the short backoff.
 */
#define API_LIMIT_WAIT		3600

struct api_result {
	long		 status;	/* HTTP status of the last reply, or 0 */
	/* Seconds the API asked for: Retry-After, or Google's "Retry after". */
	long long	 retry_after;
	char		 request_id[128];
	char		 message_id[128];	/* Gmail's id of the sent copy */
};

/* The largest message the transport takes (0: no API limit). */
long long api_max_message(enum conf_transport);
/* "Microsoft Graph" or "the Gmail API". */
const char *api_name(enum conf_transport);
/* The most recipients per message of the transport (0: no API limit). */
size_t	api_max_rcpts(enum conf_transport);
/*
 * Submission's check: a message of n recipients for an account that
 * sends only over an API (transport graph, gmail-api) above its limit is
 * refused (-1, ERR_DATA naming the limit and the cure); 0 otherwise. A
 * message found above it at delivery (transport auto) fails as a whole
 * (api_send: ERR_PERM 5.5.3), and its sender gets a DSN.
 */
int	api_rcpts_check(const struct account *acct, size_t n,
	    struct err *err);

/*
 * Sends env's message (msgfd: the spool file) to its open recipients over
 * transport t (TRANSPORT_GRAPH or TRANSPORT_GMAIL). A token the API
 * refuses (401) is refreshed once and the request made once more.
 * Returns 0 when the API took the message; else -1 with err:
 *   ERR_TEMP  deferred (throttled: r->retry_after; a sending limit: the
 *             message names it, "sending limit reached", and the
 *             catalogue's row (ADV_LIMIT); 5xx; network; a 2xx that is not
 *             the API's success)
 *   ERR_AUTH  held: sign-in needed, a permission only an admin can grant,
 *             a header recipient outside the envelope, or a request the
 *             API found malformed (a bug here: logged loudly)
 *   ERR_PERM  failed for every recipient (too large, too many
 *             recipients: api_max_rcpts, refused as such):
 *             the message starts with an SMTP-style code for the DSN
 */
int	api_send(const struct account *acct, struct store *st,
	    enum conf_transport t, const struct envelope *env, int msgfd,
	    struct api_result *r, struct err *err);

/*
 * The Bcc and envelope rules on their own (pure; unit-tested): hdr is the
 * header block (LF or CRLF endings). Fills bcc (may be NULL) with a
 * "Bcc: ..." field (LF-terminated, folded) naming the open recipients of
 * env absent from To/Cc/Bcc, or nothing. Returns 0, or -1 with ERR_AUTH
 * naming the header recipients that are not envelope recipients.
 */
int	api_recipients(const struct envelope *env, const char *hdr,
	    size_t len, struct buf *bcc, struct err *err);

#endif
