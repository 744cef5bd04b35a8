/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * cmd.h -- oauthmail's management commands: login, logout, status, check,
 * token, secret, password. Each returns a sysexits code and prints one
 * line on stderr when it fails.
 */
#ifndef CMD_H
#define CMD_H

#include "common.h"
#include "args.h"
#include "conf.h"

int	cmd_run(const struct invocation *inv, const struct config *cf);

#endif
