/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * fuzz_msmtprc.c -- msmtprc_convert on the input (an msmtprc is the
 * user's file, but often copied from elsewhere); whatever it writes must
 * load as an oauthmail configuration when it has an account.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "msmtprc.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msmtprc_out out;
	struct config cf;
	struct err err;
	char *copy;

	copy = malloc(size ? size : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	if (msmtprc_convert("fuzz.msmtprc", copy, size, &out, &err) == 0) {
		/* With an account, what it writes must load. */
		if (out.naccounts > 0 && conf_load_buffer("fuzz.conf",
		    out.conf.data, out.conf.len, &cf, &err) == -1) {
			fprintf(stderr, "the output does not load: %s\n%s\n",
			    err.msg, out.conf.data);
			abort();
		}
		if (out.naccounts > 0)
			conf_free(&cf);
		msmtprc_out_free(&out);
	}
	free(copy);
	return 0;
}
