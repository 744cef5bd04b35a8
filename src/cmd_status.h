/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * cmd_status.h -- `oauthmail status` as text, for cmd.c (the JSON,
 * Prometheus and Nagios forms are report.h's).
 */
#ifndef CMD_STATUS_H
#define CMD_STATUS_H

#include "common.h"
#include "conf.h"
#include "status.h"

/*
 * Prints the state of one account (one; NULL: every account of cf) and
 * the queue's counts on stdout. Returns 0 when every account shown can
 * send, else -1 with err naming the account worst off (its class makes
 * the exit status: cmd_status.c says which).
 */
int	cmd_status(const struct config *cf, const struct account *one,
	    struct err *err);

#endif
