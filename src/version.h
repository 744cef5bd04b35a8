/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * version.h -- "oauthmail --version": the version, the libraries it runs
 * with (those loaded at first use are named, not loaded), the paths and
 * the options it was built with.
 */
#ifndef VERSION_H
#define VERSION_H

#include <stdio.h>

void	version_print(FILE *out);

#endif
