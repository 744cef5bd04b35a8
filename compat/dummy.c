/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/* Keeps libcompat.a non-empty when the libc has every function. */
int compat_dummy;
