/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * fuzz_loopback.c -- what reaches the sign-in from outside: a request
 * head at the loopback listener (loopback_parse_request) and a line the
 * user pastes (loopback_parse_paste). What they return is checked for
 * consistency: a redirect carries a code or an error, a code has no
 * control character or space.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "loopback.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_code(const struct loopback_redirect *r)
{
	const char *p;

	if (r->code == NULL)
		return;
	for (p = r->code; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct loopback_redirect r;
	char *copy;
	int rc;

	if (size > LOOPBACK_REQ_MAX + 16)
		return 0;
	copy = malloc(size ? size : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	rc = loopback_parse_request(copy, size, &r);
	if (rc == LOOPBACK_REQ_REDIRECT && r.code == NULL && r.error == NULL)
		abort();
	if (rc != LOOPBACK_REQ_REDIRECT && (r.code != NULL ||
	    r.state != NULL || r.iss != NULL))
		abort();
	check_code(&r);
	loopback_redirect_free(&r);
	rc = loopback_parse_paste(copy, size, "http://127.0.0.1:4711/", &r);
	if (rc == LOOPBACK_PASTE_CODE && (r.code == NULL || r.state != NULL))
		abort();
	if (rc == LOOPBACK_PASTE_URL && r.code == NULL && r.error == NULL)
		abort();
	if (rc != LOOPBACK_PASTE_URL && rc != LOOPBACK_PASTE_CODE &&
	    r.code != NULL)
		abort();
	check_code(&r);
	loopback_redirect_free(&r);
	free(copy);
	return 0;
}
