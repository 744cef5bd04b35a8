/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/* explicit_bzero: written for oauthmail. */
#include "config.h"
#include <string.h>
#include "compat.h"

static void *(*const volatile memset_v)(void *, int, size_t) = memset;

void
explicit_bzero(void *p, size_t n)
{
	memset_v(p, 0, n);
}
