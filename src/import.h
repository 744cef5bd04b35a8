/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * import.h -- "oauthmail import-msmtprc [FILE] [-o OUT [--force]]": reads
 * an msmtprc (FILE, else ~/.msmtprc, else $XDG_CONFIG_HOME/msmtp/config)
 * and writes the equivalent oauthmail configuration (msmtprc.h) to
 * standard output, or to OUT (mode 0600; an existing OUT only with
 * --force, replaced by rename). The msmtprc is only read. The next steps
 * go to standard error (standard output with -o).
 * Returns 0, 65 (the msmtprc cannot be read as msmtp's syntax), 66 (no
 * such file or unreadable), 73 (OUT exists or cannot be created), 74.
 */
#ifndef IMPORT_H
#define IMPORT_H

#include "common.h"
#include "args.h"

int	import_msmtprc_run(const struct invocation *inv);

#endif
