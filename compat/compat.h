/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/* Replacements for functions a libc may lack; see compat/NOTES. */
#ifndef COMPAT_H
#define COMPAT_H

#include <stddef.h>

#ifndef HAVE_STRLCPY
size_t	strlcpy(char *, const char *, size_t);
#endif
#ifndef HAVE_STRLCAT
size_t	strlcat(char *, const char *, size_t);
#endif
#ifndef HAVE_REALLOCARRAY
void	*reallocarray(void *, size_t, size_t);
#endif
#ifndef HAVE_EXPLICIT_BZERO
void	 explicit_bzero(void *, size_t);
#endif
#ifndef HAVE_FREEZERO
void	 freezero(void *, size_t);
#endif

#endif
