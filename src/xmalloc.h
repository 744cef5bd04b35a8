/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * xmalloc.h -- allocation that cannot fail: on ENOMEM log and exit(EX_OSERR).
 */
#ifndef XMALLOC_H
#define XMALLOC_H

#include "common.h"

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
char	*xasprintf(const char *, ...) OM_PRINTF(1, 2);
/* Frees a NUL-terminated string after wiping it; NULL is fine. */
void	 xfree_secret(char *);

#endif
