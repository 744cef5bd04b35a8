/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * fuzz_sasl.c -- sasl_describe_challenge on a 334 error challenge, with
 * a large and a tiny output buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sasl.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char big[512], small[8];
	char *copy;

	copy = malloc(size ? size : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	sasl_describe_challenge(copy, size, big, sizeof(big));
	if (memchr(big, '\0', sizeof(big)) == NULL)
		abort();
	sasl_describe_challenge(copy, size, small, sizeof(small));
	if (memchr(small, '\0', sizeof(small)) == NULL)
		abort();
	free(copy);
	return 0;
}
