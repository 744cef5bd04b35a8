/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * check.h -- `oauthmail check ACCOUNT`: DNS, connect + TLS, EHLO
 * capabilities, token (JWT claims, never the token), AUTH, QUIT; sends
 * no mail.
 */
#ifndef CHECK_H
#define CHECK_H

#include <stdio.h>

#include "common.h"
#include "conf.h"
#include "status.h"

/*
 * Checks acct step by step, one progress line per step on out. On
 * failure returns -1 with err saying what failed and, when known, how to
 * fix it (advice.h).
 */
int	check_account(const struct account *acct, FILE *out,
	    struct err *err);

#endif
