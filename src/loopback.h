/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * loopback.h -- the browser sign-in's loopback redirect listener
 * (RFC 8252 §7.3): a socket on 127.0.0.1 at a port chosen at run time,
 * the bounded reading and strict parsing of the requests that reach it
 * (hostile input), and the small pages it answers with. Also the waits
 * of every sign-in flow, which a Ctrl-C ends at once.
 *
 * Nothing here prints or logs a code.
 */
#ifndef LOOPBACK_H
#define LOOPBACK_H

#include <signal.h>
#include <stddef.h>

#include "common.h"
#include "status.h"

/*
 * --- Waiting, and Ctrl-C ------------------------------------------------
 *
 * Between loopback_sig_begin and loopback_sig_end SIGINT is caught (no
 * SA_RESTART) and blocked except inside loopback_wait_fd's ppoll(), so a
 * Ctrl-C during an HTTPS request takes effect when the request is over,
 * and one during a wait ends the wait at once. A SIGINT that was ignored
 * (nohup) stays ignored.
 */
struct loopback_sig {
	struct sigaction	old;
	sigset_t		oldmask;
	sigset_t		waitmask;	/* oldmask without SIGINT */
	int			active;
};

void	loopback_sig_begin(struct loopback_sig *g);
void	loopback_sig_end(struct loopback_sig *g);
/* Whether a Ctrl-C came since the last loopback_sig_begin. */
int	loopback_interrupted(void);
/* CLOCK_MONOTONIC in milliseconds. */
long long loopback_now_ms(void);
/*
 * Waits until fd is readable (fd -1: only sleeps) or ms have passed.
 * Returns 1 readable, 0 time is up, -1 interrupted or failed (errno).
 */
int	loopback_wait_fd(const struct loopback_sig *g, int fd, long long ms);
/*
 * The same for two descriptors (either may be -1): returns 1 when fd1 is
 * readable (or at its end), 2 fd2, 3 both; 0 time is up; -1.
 */
int	loopback_wait2(const struct loopback_sig *g, int fd1, int fd2,
	    long long ms);

/*
 * A status line on stderr while a flow waits: "WHAT: M:SS left",
 * rewritten in place with \r at most once a second; nothing at all
 * when stderr is not a terminal or on is 0.
 */
struct loopback_status {
	int		on;
	int		shown;		/* a line is on the screen */
	long long	last;		/* when it was written (ms) */
};

void	loopback_status_init(struct loopback_status *s, int on);
void	loopback_status_show(struct loopback_status *s, const char *what,
	    long long left_ms);
/* How long to wait before the next update (left_ms when off). */
long long loopback_status_next(const struct loopback_status *s,
	    long long left_ms);
/* Erases the line (before anything else is printed). */
void	loopback_status_clear(struct loopback_status *s);

/*
 * --- The listener --------------------------------------------------------
 */

#define LOOPBACK_REQ_MAX	8192	/* one request head */
#define LOOPBACK_CONN_SECS	5	/* to read one request */

/*
 * A listening socket on 127.0.0.1, port chosen by the kernel (*portp),
 * non-blocking, close-on-exec. Returns the descriptor, or -1 (ERR_OS).
 */
int	loopback_listen(int *portp, struct err *err);

#define LOOPBACK_READ_INTR	-1	/* Ctrl-C */
#define LOOPBACK_READ_DROP	0	/* closed, timed out: ignore it */
#define LOOPBACK_READ_OK	1
#define LOOPBACK_READ_TOOBIG	2	/* no end of head within size */
/*
 * Reads one request head from the accepted connection fd into req,
 * bounded by size and LOOPBACK_CONN_SECS; *lenp is what was read.
 */
int	loopback_read(const struct loopback_sig *g, int fd, char *req,
	    size_t size, size_t *lenp);

/* Answers with a small fixed page (HTTP/1.1, Connection: close). */
void	loopback_reply(int fd, const char *status, const char *title,
	    const char *text);

/* What a loopback request carried (decoded; NULL when absent). */
struct loopback_redirect {
	char	*code;			/* secret */
	char	*state;
	char	*iss;			/* RFC 9207 */
	char	*error;
	char	*error_description;
};

#define LOOPBACK_REQ_REDIRECT	1	/* GET /?code=..|error=.. */
#define LOOPBACK_REQ_OTHER	2	/* anything else well-formed */
/*
 * Parses one HTTP request head req[0..len) (hostile input; len <=
 * LOOPBACK_REQ_MAX). Returns LOOPBACK_REQ_REDIRECT with r filled,
 * LOOPBACK_REQ_OTHER, or -1 when malformed (bad request line, bad percent
 * escape, NUL, a parameter given twice). r is always left freeable.
 */
int	loopback_parse_request(const char *req, size_t len,
	    struct loopback_redirect *r);
void	loopback_redirect_free(struct loopback_redirect *r);

#define LOOPBACK_PASTE_BAD	-1	/* malformed */
#define LOOPBACK_PASTE_EMPTY	0	/* nothing but white space */
#define LOOPBACK_PASTE_URL	1	/* the redirect's address: r filled */
#define LOOPBACK_PASTE_CODE	2	/* just a code: r->code only */
#define LOOPBACK_PASTE_ELSEWHERE 3	/* an address, but not redirect_uri */
#define LOOPBACK_PASTE_NOCODE	4	/* redirect_uri with neither code
					   nor error */
/*
 * Parses what the user pasted (hostile input, one line, white space
 * around it ignored): the address the browser was sent to
 * ("http://127.0.0.1:PORT/?code=...&state=...", the scheme optional,
 * which must be redirect_uri's host, port and path), its query alone
 * ("code=...&state=..." or "?code=..."), or just the code (percent
 * escapes decoded). r is always left freeable.
 */
int	loopback_parse_paste(const char *text, size_t len,
	    const char *redirect_uri, struct loopback_redirect *r);

#endif
