/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * fuzz_json.c -- json_token_parse on the input (a token endpoint reply),
 * the member reader on it (a stored token record), and json_jwt_claims
 * on it as a C string (an access token).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_token tok;
	struct json_jwt jwt;
	struct err err;
	struct jin *j;
	const char *sv;
	long long iv;
	int bv, line;
	char *copy;

	json_secure_alloc();
	copy = malloc(size + 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	json_token_init(&tok);
	(void)json_token_parse(&tok, copy, size, &err);
	json_token_free(&tok);
	json_token_free(&tok);	/* documented as safe */

	if ((j = jin_parse(copy, size, &line)) != NULL) {
		if (jin_str(j, "access_token", &sv) == 1)
			(void)strlen(sv);
		(void)jin_int(j, "expires_at", &iv);
		(void)jin_bool(j, "needs_login", &bv);
		jin_free(j);
	}

	memset(&jwt, 0, sizeof(jwt));
	if (json_jwt_claims(copy, &jwt, &err) == 0)
		json_jwt_free(&jwt);
	free(copy);
	return 0;
}
