/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * store_backend.h -- the keyring backends, for the keyring modules only
 * (store_impl.h): each one exports a struct store_backend and store.c
 * calls it through that (keys: struct store_key, store.h).
 *
 * Secret Service (store_secret.c, absent when built --without-libsecret):
 * schema "org.oauthmail.Token"; every call bounded by STORE_SECRET_TIMEOUT
 * seconds. Kernel keyring (store_kernel.c): "user" keys in the uid's
 * persistent keyring, which open attaches (and so keeps alive).
 */
#ifndef STORE_BACKEND_H
#define STORE_BACKEND_H

#include "common.h"
#include "buf.h"
#include "status.h"
#include "store.h"

#define STORE_SECRET_TIMEOUT	5

struct store_backend {
	const char	*name;		/* as store_backend_name says it */
	/* Makes it ready (Secret Service: bus + unlocked collection). */
	int	(*open)(struct err *);
	/* 0 found (into a BUF_SECRET buffer), 1 none, -1 error. */
	int	(*get)(const struct store_key *, struct buf *, struct err *);
	/* Stores, replacing atomically. */
	int	(*put)(const struct store_key *, const char *, size_t,
		    struct err *);
	/* Deletes; 0 also when there was nothing. */
	int	(*del)(const struct store_key *, struct err *);
	/* Whether the last open found it locked. */
	int	(*locked)(void);
};

#ifdef HAVE_LIBSECRET
extern const struct store_backend store_secret_backend;
#endif
extern const struct store_backend store_kernel_backend;

#endif
