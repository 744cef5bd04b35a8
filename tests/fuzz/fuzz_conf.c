/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * fuzz_conf.c -- conf_load_buffer on the input; a loaded configuration
 * has its accounts selected and inspected.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cf;
	struct account *a;
	struct err err;
	char *copy;
	size_t i;

	copy = malloc(size ? size : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	if (conf_load_buffer("fuzz.conf", copy, size, &cf, &err) == 0) {
		for (i = 0; i < cf.naccounts; i++) {
			a = cf.accounts[i];
			(void)conf_port(a);
			(void)conf_is_oauth(a);
			(void)conf_sender_allowed(a, "user@example.com");
			(void)conf_sender_allowed(a, "<>");
		}
		(void)conf_account(&cf, "default");
		conf_free(&cf);
	}
	free(copy);
	return 0;
}
