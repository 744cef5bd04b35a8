/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * device.h -- device authorization sign-in (RFC 8628): ask for a user
 * code, show it, poll the token endpoint until the user has approved.
 *
 * Nothing here prints or logs a token or a device code.
 */
#ifndef DEVICE_H
#define DEVICE_H

#include <time.h>

#include "common.h"
#include "conf.h"
#include "json.h"
#include "status.h"

/*
 * Runs the device flow for acct (secret: the client secret or NULL):
 * prints the address and the code on stderr, waits, and returns 0 with
 * the token endpoint's answer in *tok (the caller stores it and frees
 * it). Ctrl-C ends the wait. Errors as device_wait's, and the device
 * authorization request's (oauth.h).
 */
int	device_signin(const struct account *acct, const char *secret,
	    struct json_token *tok, struct err *err);

/*
 * The polling loop (RFC 8628 §3.4-3.5) against a small interface so that
 * it can be driven without a network:
 *   poll()  returns 0 (tokens in out), OAUTH_POLL_PENDING,
 *           OAUTH_POLL_SLOW_DOWN, or -1 with err set and out->error
 *           when the server named one;
 *   sleep() waits secs seconds, -1 if interrupted (Ctrl-C);
 *   now()   the current time.
 * Waits interval (clamped to 1..300 s) before each poll; slow_down adds
 * 5 s for this and every later poll; gives up when expires_in has
 * passed. Errors: ERR_AUTH "the code expired", "sign-in was declined",
 * "interrupted"; otherwise poll's error as it is.
 */
struct device_poller {
	int	(*poll)(void *arg, struct json_token *out, struct err *err);
	int	(*sleep)(void *arg, unsigned int secs);
	time_t	(*now)(void *arg);
	void	*arg;
	const char *account;		/* for the messages */
};

int	device_wait(const struct device_poller *p, long long interval,
	    long long expires_in, struct json_token *out, struct err *err);

#endif
