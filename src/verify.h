/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * verify.h -- sendmail -bv: where each address would go, without sending.
 *
 * For every operand: the account that would carry the message (-a, else
 * the one whose address the -f sender is, else the default), its relay
 * host, and the addresses left after the account's aliases file. One line
 * per operand on out, in sendmail's "ADDR... deliverable: ..." form.
 */
#ifndef VERIFY_H
#define VERIFY_H

#include <stdio.h>

#include "args.h"
#include "conf.h"

/*
 * Returns 0 (EX_OK) when every address is deliverable, else the exit code
 * of the first failure (67 for an address with no alias, 78 for a
 * configuration error), having printed a line for every address.
 */
int	verify_run(const struct invocation *, const struct config *, FILE *out);

#endif
