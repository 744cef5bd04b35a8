/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/* freezero: written for oauthmail. */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "compat.h"

void
freezero(void *p, size_t n)
{
	if (p == NULL)
		return;
	explicit_bzero(p, n);
	free(p);
}
