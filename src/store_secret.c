/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * store_secret.c -- the Secret Service backend (libsecret). Headless rules
 * (doc/design.md §7): no session bus means "not available";
 * the collection must be checked for "locked" before any lookup (a lookup
 * in a locked collection returns nothing, like "not found"); every call is
 * bounded by a GCancellable that a watchdog thread cancels after
 * STORE_SECRET_TIMEOUT seconds; nothing ever unlocks or prompts.
 *
 * libsecret (and with it GLib, GObject, GIO) is not linked but loaded with
 * dlopen() at first use (dynload.h), and only when a session bus exists:
 * mapping them and running GLib's constructors at every start cost ~2 ms
 * and ~4 MB, although queueing mail never needs them and headless
 * machines never use them. The table's types come from the headers, so
 * the compiler still checks every call.
 */
#include "common.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libsecret/secret.h>

#include "buf.h"
#include "dynload.h"
#include "log.h"
#include "status.h"
#include "store.h"
#include "store_backend.h"
#include "util.h"

static const SecretSchema store_schema = {
	.name = "org.oauthmail.Token",
	.flags = SECRET_SCHEMA_DONT_MATCH_NAME,
	.attributes = {
		{ "service", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ "account", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ "kind", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ "client_id", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ "token_endpoint", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ "tenant", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ "user", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ NULL, 0 },
	},
};

#ifndef OM_LIBSECRET_SONAME
/* Debian: libsecret-1-0 */
#define OM_LIBSECRET_SONAME	"libsecret-1.so.0"
#endif

/*
 * --- libsecret, loaded at first use --------------------------------------
 * Field f holds g_f or secret_f (the prefix is left out so that GLib's
 * function-like macros, e.g. g_object_ref, never apply). The g_ functions
 * are found through libsecret's handle: dlsym() searches the dependencies
 * dlopen() loaded with it (GLib, GObject, GIO).
 */
static struct secret_api {
	__typeof__(&g_get_monotonic_time)	 get_monotonic_time;
	__typeof__(&g_mutex_init)		 mutex_init;
	__typeof__(&g_mutex_clear)		 mutex_clear;
	__typeof__(&g_mutex_lock)		 mutex_lock;
	__typeof__(&g_mutex_unlock)		 mutex_unlock;
	__typeof__(&g_cond_init)		 cond_init;
	__typeof__(&g_cond_clear)		 cond_clear;
	__typeof__(&g_cond_signal)		 cond_signal;
	__typeof__(&g_cond_wait_until)		 cond_wait_until;
	__typeof__(&g_thread_new)		 thread_new;
	__typeof__(&g_thread_join)		 thread_join;
	__typeof__(&g_cancellable_new)		 cancellable_new;
	__typeof__(&g_cancellable_cancel)	 cancellable_cancel;
	__typeof__(&g_object_ref)		 object_ref;
	__typeof__(&g_object_unref)		 object_unref;
	__typeof__(&g_error_matches)		 error_matches;
	__typeof__(&g_error_free)		 error_free;
	__typeof__(&g_io_error_quark)		 io_error_quark;
	__typeof__(&g_dbus_error_quark)		 dbus_error_quark;
	__typeof__(&g_dbus_proxy_get_object_path) dbus_proxy_get_object_path;
	__typeof__(&g_free)			 free;
	__typeof__(&g_strdup)			 strdup;
	__typeof__(&g_str_has_suffix)		 str_has_suffix;
	__typeof__(&g_list_free_full)		 list_free_full;
	__typeof__(&secret_error_get_quark)	 error_get_quark;
	__typeof__(&secret_service_get_sync)	 service_get_sync;
	__typeof__(&secret_service_get_collections) service_get_collections;
	__typeof__(&secret_service_load_collections_sync)
	    service_load_collections_sync;
	__typeof__(&secret_collection_for_alias_sync) collection_for_alias_sync;
	__typeof__(&secret_collection_get_locked) collection_get_locked;
	__typeof__(&secret_password_lookup_nonpageable_sync)
	    password_lookup_nonpageable_sync;
	__typeof__(&secret_password_free)	 password_free;
	__typeof__(&secret_password_store_sync)	 password_store_sync;
	__typeof__(&secret_password_clear_sync)	 password_clear_sync;
} ss;

#define G_SYM(f)	DYNLOAD_SYM(secret_api, "g_", f)
#define S_SYM(f)	DYNLOAD_SYM(secret_api, "secret_", f)
static const struct dynload_sym secret_syms[] = {
	G_SYM(get_monotonic_time), G_SYM(mutex_init), G_SYM(mutex_clear),
	G_SYM(mutex_lock), G_SYM(mutex_unlock), G_SYM(cond_init),
	G_SYM(cond_clear), G_SYM(cond_signal), G_SYM(cond_wait_until),
	G_SYM(thread_new), G_SYM(thread_join), G_SYM(cancellable_new),
	G_SYM(cancellable_cancel), G_SYM(object_ref), G_SYM(object_unref),
	G_SYM(error_matches), G_SYM(error_free), G_SYM(io_error_quark),
	G_SYM(dbus_error_quark), G_SYM(dbus_proxy_get_object_path),
	G_SYM(free), G_SYM(strdup), G_SYM(str_has_suffix),
	G_SYM(list_free_full),
	S_SYM(error_get_quark), S_SYM(service_get_sync),
	S_SYM(service_get_collections), S_SYM(service_load_collections_sync),
	S_SYM(collection_for_alias_sync),
	S_SYM(collection_get_locked), S_SYM(password_lookup_nonpageable_sync),
	S_SYM(password_free), S_SYM(password_store_sync),
	S_SYM(password_clear_sync),
};
static const char *const secret_sonames[] = { OM_LIBSECRET_SONAME, NULL };

/*
 * libsecret, loaded once; a failure is remembered. Never unloaded (GLib
 * cannot be, not even after a missing symbol: it may have started).
 * ERR_TEMP like every "Secret Service not available": with "keyring
 * auto" the kernel keyring is used instead.
 */
static struct dynload secret_lib = {
	.name = "libsecret",
	.package = "libsecret-1-0",
	.sonames = secret_sonames,
	.syms = secret_syms,
	.nsyms = nitems(secret_syms),
	.table = &ss,
	.tablesize = sizeof(ss),
	.missing_cure = "; install it or set 'keyring kernel'",
	.keep = 1,
};

#define LOCKED_MSG	"the Secret Service collection is locked; unlock it " \
	"(e.g. log in to the desktop, or 'gnome-keyring-daemon --unlock') " \
	"or set 'keyring kernel'"

/*
 * --- Watchdog: cancels the operation's GCancellable after a timeout ----
 */
struct watchdog {
	GMutex		 lock;
	GCond		 cond;
	int		 done;
	GCancellable	*cancel;
	GThread		*thread;
};

static gpointer
watchdog_run(gpointer arg)
{
	struct watchdog *w = arg;
	gint64 end;

	end = ss.get_monotonic_time() +
	    STORE_SECRET_TIMEOUT * G_TIME_SPAN_SECOND;
	ss.mutex_lock(&w->lock);
	while (!w->done) {
		if (!ss.cond_wait_until(&w->cond, &w->lock, end)) {
			if (!w->done)
				ss.cancellable_cancel(w->cancel);
			break;
		}
	}
	ss.mutex_unlock(&w->lock);
	return NULL;
}

static void
watchdog_start(struct watchdog *w)
{
	ss.mutex_init(&w->lock);
	ss.cond_init(&w->cond);
	w->done = 0;
	w->cancel = ss.cancellable_new();
	w->thread = ss.thread_new("oauthmail-secret", watchdog_run, w);
}

static void
watchdog_stop(struct watchdog *w)
{
	ss.mutex_lock(&w->lock);
	w->done = 1;
	ss.cond_signal(&w->cond);
	ss.mutex_unlock(&w->lock);
	ss.thread_join(w->thread);
	ss.object_unref(w->cancel);
	ss.cond_clear(&w->cond);
	ss.mutex_clear(&w->lock);
}

/* A GError as a struct err; consumes the GError. */
static int
gerr_set(struct err *err, GError *g, const char *what)
{
	char msg[256];

	if (g == NULL)
		return err_set(err, ERR_TEMP, "Secret Service: %s failed", what);
	if (ss.error_matches(g, ss.io_error_quark(), G_IO_ERROR_CANCELLED) ||
	    ss.error_matches(g, ss.io_error_quark(), G_IO_ERROR_TIMED_OUT)) {
		ss.error_free(g);
		return err_set(err, ERR_TEMP, "the Secret Service did not "
		    "answer within %d s (%s)", STORE_SECRET_TIMEOUT, what);
	}
	if (ss.error_matches(g, ss.error_get_quark(),
	    SECRET_ERROR_IS_LOCKED)) {
		ss.error_free(g);
		return err_set(err, ERR_TEMP, "%s", LOCKED_MSG);
	}
	if (ss.error_matches(g, ss.dbus_error_quark(),
	    G_DBUS_ERROR_SERVICE_UNKNOWN)) {
		ss.error_free(g);
		return err_set(err, ERR_TEMP, "no Secret Service provider on "
		    "the session bus (install/start gnome-keyring) or set "
		    "'keyring kernel'");
	}
	util_sanitize(msg, sizeof(msg), g->message, strlen(g->message));
	ss.error_free(g);
	return err_set(err, ERR_TEMP, "Secret Service: %s: %s", what, msg);
}

/* A D-Bus address for a socket path: unix:path=, bytes escaped. */
static int
bus_address(char *dst, size_t size, const char *path)
{
	static const char hex[] = "0123456789abcdef";
	size_t o;
	int n;

	n = snprintf(dst, size, "unix:path=");
	if (n < 0 || (size_t)n >= size)
		return -1;
	for (o = (size_t)n; *path != '\0'; path++) {
		unsigned char c = (unsigned char)*path;

		if (o + 4 > size)
			return -1;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-_/.\\*", c) != NULL)
			dst[o++] = (char)c;
		else {
			dst[o++] = '%';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		}
	}
	dst[o] = '\0';
	return 0;
}

/*
 * The session bus: DBUS_SESSION_BUS_ADDRESS, else the user's bus socket
 * where systemd --user puts it, $XDG_RUNTIME_DIR/bus (or, without
 * XDG_RUNTIME_DIR, as under cron, /run/user/UID/bus): a socket owned by
 * the user, made the session bus of this process (and its children) by
 * setting DBUS_SESSION_BUS_ADDRESS, since GLib looks only at the first.
 */
static int
have_session_bus(void)
{
	const char *a, *x;
	char path[4096], addr[4096 * 3 + 16];
	struct stat sb;
	int n;

	if ((a = getenv("DBUS_SESSION_BUS_ADDRESS")) != NULL && *a != '\0')
		return 1;
	if ((x = getenv("XDG_RUNTIME_DIR")) != NULL && *x == '/')
		n = snprintf(path, sizeof(path), "%s/bus", x);
	else
		n = snprintf(path, sizeof(path), "/run/user/%lu/bus",
		    (unsigned long)geteuid());
	if (n < 0 || (size_t)n >= sizeof(path))
		return 0;
	if (stat(path, &sb) == -1 || !S_ISSOCK(sb.st_mode) ||
	    sb.st_uid != geteuid() ||
	    bus_address(addr, sizeof(addr), path) == -1 ||
	    setenv("DBUS_SESSION_BUS_ADDRESS", addr, 1) == -1)
		return 0;
	log_debug("keyring: the session bus at %s", path);
	return 1;
}

/*
 * Before any GLib call: a session bus exists and libsecret is loaded (not
 * loaded at all without a bus).
 */
static int
ss_ready(struct err *err)
{
	if (!have_session_bus())
		return err_set(err, ERR_TEMP, "no D-Bus session bus "
		    "(DBUS_SESSION_BUS_ADDRESS unset and no socket of "
		    "yours at $XDG_RUNTIME_DIR/bus or /run/user/UID/bus): "
		    "the Secret Service is not available; set 'keyring "
		    "kernel' or run under dbus-run-session");
	return dynload_open(&secret_lib, err);
}

static int secret_locked;	/* the last ss_collection found it locked */

static int
ss_locked(void)
{
	return secret_locked;
}

/*
 * Connects and finds the collection new items go to: the "default" alias,
 * else a collection named "login" (gnome-keyring's, created by
 * 'gnome-keyring-daemon --unlock'). Fails if it is locked. *where is the
 * alias or object path to store into (g_free it).
 */
static int
ss_collection(GCancellable *cancel, char **where, struct err *err)
{
	SecretService *svc;
	SecretCollection *coll;
	GList *l, *colls;
	GError *g = NULL;
	const char *path;
	int locked;

	*where = NULL;
	/*
	 * Without SECRET_SERVICE_LOAD_COLLECTIONS: on the process's shared
	 * service object that flag reloads every collection, and a reload
	 * fails with "No such secret item" when another process has just
	 * replaced an item (a concurrent token refresh). The collections are
	 * loaded only when there is no default alias to go by.
	 */
	svc = ss.service_get_sync(SECRET_SERVICE_OPEN_SESSION, cancel, &g);
	if (svc == NULL)
		return gerr_set(err, g, "connect");
	coll = ss.collection_for_alias_sync(svc, SECRET_COLLECTION_DEFAULT,
	    SECRET_COLLECTION_NONE, cancel, &g);
	if (coll == NULL && g != NULL) {
		ss.object_unref(svc);
		return gerr_set(err, g, "default collection");
	}
	if (coll != NULL)
		*where = ss.strdup(SECRET_COLLECTION_DEFAULT);
	else if (!ss.service_load_collections_sync(svc, cancel, &g)) {
		ss.object_unref(svc);
		return gerr_set(err, g, "collections");
	} else {
		colls = ss.service_get_collections(svc);
		for (l = colls; l != NULL; l = l->next) {
			path = ss.dbus_proxy_get_object_path(l->data);
			if (path != NULL && ss.str_has_suffix(path,
			    "/collection/login")) {
				coll = ss.object_ref(l->data);
				*where = ss.strdup(path);
				break;
			}
		}
		ss.list_free_full(colls, ss.object_unref);
	}
	ss.object_unref(svc);
	if (coll == NULL)
		return err_set(err, ERR_TEMP, "the Secret Service has no "
		    "default collection: create and unlock one (e.g. "
		    "'gnome-keyring-daemon --unlock' reading a non-empty "
		    "password on stdin) or set 'keyring kernel'");
	locked = ss.collection_get_locked(coll);
	ss.object_unref(coll);
	secret_locked = locked != 0;
	if (locked) {
		ss.free(*where);
		*where = NULL;
		return err_set(err, ERR_TEMP, "%s", LOCKED_MSG);
	}
	return 0;
}

static int
ss_open(struct err *err)
{
	struct watchdog w;
	char *where;
	int rc;

	if (ss_ready(err) == -1)
		return -1;
	watchdog_start(&w);
	rc = ss_collection(w.cancel, &where, err);
	watchdog_stop(&w);
	if (rc == 0)
		log_debug("keyring: Secret Service, collection %s", where);
	ss.free(where);
	return rc;
}

/*
 * The lookup, store and clear calls with the key's attributes: by
 * identity (no account attribute) or by name (store.h).
 */
#define SS_ATTRS(k)	"service", OM_PROGNAME, "kind",			\
	store_kind_name((k)->kind),					\
	(k)->ident != NULL ? "client_id" : "account",			\
	(k)->ident != NULL ? (k)->client_id : (k)->account,		\
	(k)->ident != NULL ? "token_endpoint" : NULL, (k)->endpoint,	\
	"tenant", (k)->tenant, "user", (k)->user, NULL

static int
ss_get(const struct store_key *key, struct buf *out,
    struct err *err)
{
	struct watchdog w;
	GError *g = NULL;
	gchar *pw;
	char *where;
	int rc = -1;

	if (ss_ready(err) == -1)
		return -1;
	watchdog_start(&w);
	if (ss_collection(w.cancel, &where, err) == -1)
		goto out;
	ss.free(where);
	pw = ss.password_lookup_nonpageable_sync(&store_schema, w.cancel,
	    &g, SS_ATTRS(key));
	if (pw == NULL) {
		rc = g == NULL ? 1 : gerr_set(err, g, "lookup");
		goto out;
	}
	buf_reset(out);
	if (buf_adds(out, pw) == -1)
		err_set(err, ERR_DATA, "Secret Service: the stored %s for %s "
		    "is too large", store_kind_name(key->kind), key->account);
	else
		rc = 0;
	ss.password_free(pw);
 out:
	watchdog_stop(&w);
	return rc;
}

static int
ss_put(const struct store_key *key, const char *data, size_t len,
    struct err *err)
{
	struct watchdog w;
	struct buf text;
	GError *g = NULL;
	char *where = NULL, label[256];
	int rc = -1;

	if (memchr(data, '\0', len) != NULL)
		return err_set(err, ERR_DATA, "Secret Service: the value "
		    "contains a NUL byte");
	if (ss_ready(err) == -1)
		return -1;
	buf_init(&text, len, BUF_SECRET);
	if (buf_add(&text, data, len) == -1)
		return err_set(err, ERR_OS, "out of memory");
	if (key->ident != NULL && key->user[0] != '\0')
		(void)snprintf(label, sizeof(label), "%s %s for %s (%s)",
		    OM_PROGNAME, store_kind_name(key->kind), key->user,
		    key->client_id);
	else
		(void)snprintf(label, sizeof(label), "%s %s for %s",
		    OM_PROGNAME, store_kind_name(key->kind), key->ident !=
		    NULL ? key->client_id : key->account);
	watchdog_start(&w);
	if (ss_collection(w.cancel, &where, err) == -1)
		goto out;
	if (!ss.password_store_sync(&store_schema, where, label,
	    buf_str(&text), w.cancel, &g, SS_ATTRS(key))) {
		gerr_set(err, g, "store");
		goto out;
	}
	rc = 0;
 out:
	watchdog_stop(&w);
	ss.free(where);
	buf_free(&text);
	return rc;
}

static int
ss_delete(const struct store_key *key, struct err *err)
{
	struct watchdog w;
	GError *g = NULL;
	char *where = NULL;
	int rc = -1;

	if (ss_ready(err) == -1)
		return -1;
	watchdog_start(&w);
	if (ss_collection(w.cancel, &where, err) == -1)
		goto out;
	if (!ss.password_clear_sync(&store_schema, w.cancel, &g,
	    SS_ATTRS(key)) && g != NULL) {
		gerr_set(err, g, "delete");
		goto out;
	}
	rc = 0;
 out:
	watchdog_stop(&w);
	ss.free(where);
	return rc;
}

const struct store_backend store_secret_backend = {
	"secret-service", ss_open, ss_get, ss_put, ss_delete, ss_locked
};
