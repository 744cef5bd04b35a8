/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * http.h -- HTTPS requests over libcurl (loaded at first use): TLS
 * verified (the account's tls_trust_file as the CA file if set), https
 * only except to a loopback host (tests), no redirects, bounded replies
 * (LIM_HTTP_BODY) and times, secrets redacted from -vv debug output.
 */
#ifndef HTTP_H
#define HTTP_H

#include "common.h"
#include "buf.h"
#include "conf.h"
#include "status.h"

/*
 * Checks that url may be used: https, or http to a loopback host.
 * *loopback is set to 1 for the latter. Errors: ERR_CONFIG.
 */
int	http_check_url(const char *url, int *loopback, struct err *err);

/*
 * One HTTPS request to an API (api.h) with the same transport rules, the
 * body streamed from read (fills at most n bytes of dst and returns how
 * many, 0 at the end, HTTP_READ_ABORT to give up) of exactly body_len
 * bytes. The reply's status, its
 * Retry-After (seconds; 0 if none), request id and body (at most
 * LIM_HTTP_BODY, the rest dropped) are filled in. Returns 0 when a reply
 * came (any status), -1 (ERR_TEMP, or ERR_CONFIG for a URL) when none did;
 * *sent is then 1 if the whole body had gone out (the request may have
 * been carried out).
 */
#define HTTP_READ_ABORT	((size_t)0x10000000)
struct http_api_req {
	const char	*url;
	const char	*content_type;
	const char	*bearer;		/* secret */
	size_t		(*read)(char *dst, size_t n, void *arg);
	void		*arg;
	long long	 body_len;
	long		 timeout;		/* seconds for the whole request */
	/* The reply: */
	long		 status;
	long long	 retry_after;
	char		 request_id[128];
	struct buf	*reply;
	int		 sent;
};
int	http_api_post(const struct account *acct, struct http_api_req *req,
	    struct err *err);

/* A form field; value NULL leaves it out. */
struct http_field {
	const char	*name;
	const char	*value;
};
/*
 * POSTs the fields (application/x-www-form-urlencoded, Accept JSON) to
 * the token endpoint url; the reply's status and body (BUF_SECRET, at
 * most LIM_HTTP_BODY) into *status and body. 0 when a reply came (any
 * status); -1 (ERR_TEMP transport, ERR_PROTO or ERR_TEMP a reply too
 * large, ERR_CONFIG the URL) when none did.
 */
int	http_post_form(const struct account *acct, const char *url,
	    const struct http_field *fields, size_t nfields, long *status,
	    struct buf *body, struct err *err);
/* GETs url into body (any status); 0, or -1 on a transport failure. */
int	http_get(const struct account *acct, const char *url,
	    struct buf *body, long *status, struct err *err);

/* curl_global_cleanup at exit (optional; for valgrind-clean tests). */
void	http_cleanup(void);

#endif
