/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * fuzz_bspath.c -- -bs command lines (split at LF, CR before it removed)
 * through bs_parse_verb, and the argument of MAIL / RCPT through
 * bs_parse_path (both as MAIL FROM and as RCPT TO, whatever the verb):
 * the address fits its buffer and has no CR, LF or NUL, a refusal is a
 * bounded 5xx reply line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bs_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(const char *arg, const char *kw, int is_mail)
{
	struct bs_path p;
	char reply[256];
	int code;

	reply[0] = '\0';
	code = bs_parse_path(arg, kw, is_mail, &p, reply, sizeof(reply));
	if (code != 0) {
		if ((code != 501 && code != 555) || reply[0] != '5' ||
		    strlen(reply) >= sizeof(reply) || strpbrk(reply, "\r\n"))
			abort();
		return;
	}
	if (strlen(p.addr) > LIM_ADDR || strpbrk(p.addr, "\r\n") != NULL)
		abort();
	if (!is_mail && p.addr[0] == '\0')
		abort();
	if (!is_mail && (p.size != -1 || p.body8bit || p.smtputf8))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *end = s + size, *nl, *arg;
	char *line;
	size_t len;

	while (s < end) {
		nl = memchr(s, '\n', end - s);
		len = (nl != NULL ? nl : end) - s;
		if (len > 0 && s[len - 1] == '\r')
			len--;
		if ((line = malloc(len + 1)) == NULL)
			break;
		memcpy(line, s, len);
		line[len] = '\0';
		/* a NUL inside ends the C string, as in the session */
		if (bs_parse_verb(line, &arg) > BSV_NOTIMPL || arg < line ||
		    arg > line + len)
			abort();
		check(arg, "FROM", 1);
		check(arg, "TO", 0);
		free(line);
		s = nl != NULL ? nl + 1 : end;
	}
	return 0;
}
