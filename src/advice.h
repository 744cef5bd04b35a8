/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * advice.h -- the one catalogue of what providers say and what to do about
 * it: SMTP replies of Microsoft 365 and Gmail, token endpoint errors
 * (Microsoft Entra AADSTS codes, Google, RFC 6749 §5.2) and sign-in
 * warnings. Delivery, mailq, status, check and login all look here, so a
 * reply gets the same reaction and the same fix wherever it shows up.
 * Pure: no I/O.
 */
#ifndef ADVICE_H
#define ADVICE_H

#include "common.h"
#include "conf.h"
#include "status.h"

/* What delivery does about a reply that matches a row. */
enum advice_react {
	ADV_INFO = 0,	/* the reply code decides; the row only explains */
	ADV_AUTH,	/* token refused: refresh once, reconnect, retry; hold */
	ADV_HOLD,	/* only an administrator can fix it: hold the mail */
	ADV_THROTTLE,	/* stop the account's run, defer the rest */
	ADV_LIMIT,	/* a sending limit: defer until its window passes */
	ADV_RECONNECT,	/* the server closed an idle session: reconnect once */
	ADV_TEMP	/* not the message's fault: defer, never bounce */
};

struct advice {
	const char		*key;	/* found in the text (see advice_find) */
	enum advice_react	 react;
	enum err_class		 class;	/* for a token endpoint error */
	const char		*label;	/* short state for status and mailq */
	const char		*fix;	/* @ACCT@: account, @USER@: mailbox */
};

/* How long a limit window lasts: Gmail and Microsoft count 24 hours. */
#define ADVICE_LIMIT_WINDOW	86400

/*
 * The first row whose key occurs in text, or NULL. A key that ends in a
 * digit does not match when a digit follows ("5.7.3" is not "5.7.30",
 * "AADSTS5001" not "AADSTS50011"), nor when a digit or a dot precedes a
 * key that starts with one, or a dot and a digit follow it (the address
 * 10.5.5.2 is not the status code 5.5.2).
 */
const struct advice *advice_find(const char *text);
/* Row i of the catalogue, NULL past the end (for tests and docs). */
const struct advice *advice_row(size_t i);
/*
 * The row's fix with @ACCT@ and @USER@ replaced (NULL account: "ACCOUNT",
 * NULL user: "MAILBOX"). Always terminates dst.
 */
void	advice_fill(const struct advice *, const char *account,
	    const char *user, char *dst, size_t size);
/*
 * advice_find + advice_fill: 1 with the fix in dst, 0 (dst = "") when no
 * row matches.
 */
int	advice_explain(const char *text, const char *account,
	    const char *user, char *dst, size_t size);
/*
 * 1 if text already carries the row's fix (its longest literal part, so
 * whoever filled in the account and mailbox).
 */
int	advice_in(const struct advice *, const char *text);
/*
 * Copies at most max bytes of the first line of text into dst, cut at a
 * word boundary (never inside a word) and marked with "..." when cut;
 * sanitised.
 */
void	advice_shorten(char *dst, size_t size, const char *text, size_t max);
/*
 * Appends "; FIX" to err->msg when a row matches it and the message does
 * not carry that fix already; the provider's words are shortened at a
 * word boundary to leave room for the whole fix. Returns the row or NULL.
 */
const struct advice *advice_add_fix(struct err *, const char *account,
	    const char *user);

/*
 * advice_explain for an account: its name and its mailbox (user, else
 * from). dst, or NULL when text is no known reply or token error.
 */
const char *advice_account(const struct account *acct, const char *text,
	    char *dst, size_t size);

#endif
