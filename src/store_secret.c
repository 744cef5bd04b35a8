/*
 * store_secret.c -- the Secret Service backend (libsecret). Headless rules
 * from /work/shared/KEYRING.md §3: no session bus means "not available";
 * the collection must be checked for "locked" before any lookup (a lookup
 * in a locked collection returns nothing, like "not found"); every call is
 * bounded by a GCancellable that a watchdog thread cancels after
 * STORE_SECRET_TIMEOUT seconds; nothing ever unlocks or prompts.
 */
#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libsecret/secret.h>

#include "buf.h"
#include "log.h"
#include "status.h"
#include "store.h"
#include "util.h"

static const SecretSchema store_schema = {
	.name = "org.oauthmail.Token",
	.flags = SECRET_SCHEMA_DONT_MATCH_NAME,
	.attributes = {
		{ "service", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ "account", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ "kind", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ NULL, 0 },
	},
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

	end = g_get_monotonic_time() + STORE_SECRET_TIMEOUT * G_TIME_SPAN_SECOND;
	g_mutex_lock(&w->lock);
	while (!w->done) {
		if (!g_cond_wait_until(&w->cond, &w->lock, end)) {
			if (!w->done)
				g_cancellable_cancel(w->cancel);
			break;
		}
	}
	g_mutex_unlock(&w->lock);
	return NULL;
}

static void
watchdog_start(struct watchdog *w)
{
	g_mutex_init(&w->lock);
	g_cond_init(&w->cond);
	w->done = 0;
	w->cancel = g_cancellable_new();
	w->thread = g_thread_new("oauthmail-secret", watchdog_run, w);
}

static void
watchdog_stop(struct watchdog *w)
{
	g_mutex_lock(&w->lock);
	w->done = 1;
	g_cond_signal(&w->cond);
	g_mutex_unlock(&w->lock);
	g_thread_join(w->thread);
	g_object_unref(w->cancel);
	g_cond_clear(&w->cond);
	g_mutex_clear(&w->lock);
}

/* A GError as a struct err; consumes the GError. */
static int
gerr_set(struct err *err, GError *g, const char *what)
{
	char msg[256];

	if (g == NULL)
		return err_set(err, ERR_TEMP, "Secret Service: %s failed", what);
	if (g_error_matches(g, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
	    g_error_matches(g, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)) {
		g_error_free(g);
		return err_set(err, ERR_TEMP, "the Secret Service did not "
		    "answer within %d s (%s)", STORE_SECRET_TIMEOUT, what);
	}
	if (g_error_matches(g, SECRET_ERROR, SECRET_ERROR_IS_LOCKED)) {
		g_error_free(g);
		return err_set(err, ERR_TEMP, "%s", LOCKED_MSG);
	}
	if (g_error_matches(g, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN)) {
		g_error_free(g);
		return err_set(err, ERR_TEMP, "no Secret Service provider on "
		    "the session bus (install/start gnome-keyring) or set "
		    "'keyring kernel'");
	}
	util_sanitize(msg, sizeof(msg), g->message, strlen(g->message));
	g_error_free(g);
	return err_set(err, ERR_TEMP, "Secret Service: %s: %s", what, msg);
}

static int
have_session_bus(void)
{
	const char *a, *x;
	char path[4096];
	struct stat sb;
	int n;

	if ((a = getenv("DBUS_SESSION_BUS_ADDRESS")) != NULL && *a != '\0')
		return 1;
	if ((x = getenv("XDG_RUNTIME_DIR")) == NULL || *x == '\0')
		return 0;
	n = snprintf(path, sizeof(path), "%s/bus", x);
	if (n < 0 || (size_t)n >= sizeof(path))
		return 0;
	return stat(path, &sb) == 0 && S_ISSOCK(sb.st_mode);
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
	if (!have_session_bus())
		return err_set(err, ERR_TEMP, "no D-Bus session bus "
		    "(DBUS_SESSION_BUS_ADDRESS unset and no "
		    "$XDG_RUNTIME_DIR/bus): the Secret Service is not "
		    "available; set 'keyring kernel' or run under "
		    "dbus-run-session");
	svc = secret_service_get_sync(SECRET_SERVICE_OPEN_SESSION |
	    SECRET_SERVICE_LOAD_COLLECTIONS, cancel, &g);
	if (svc == NULL)
		return gerr_set(err, g, "connect");
	coll = secret_collection_for_alias_sync(svc, SECRET_COLLECTION_DEFAULT,
	    SECRET_COLLECTION_NONE, cancel, &g);
	if (coll == NULL && g != NULL) {
		g_object_unref(svc);
		return gerr_set(err, g, "default collection");
	}
	if (coll != NULL)
		*where = g_strdup(SECRET_COLLECTION_DEFAULT);
	else {
		colls = secret_service_get_collections(svc);
		for (l = colls; l != NULL; l = l->next) {
			path = g_dbus_proxy_get_object_path(l->data);
			if (path != NULL && g_str_has_suffix(path,
			    "/collection/login")) {
				coll = g_object_ref(l->data);
				*where = g_strdup(path);
				break;
			}
		}
		g_list_free_full(colls, g_object_unref);
	}
	g_object_unref(svc);
	if (coll == NULL)
		return err_set(err, ERR_TEMP, "the Secret Service has no "
		    "default collection: create and unlock one (e.g. "
		    "'gnome-keyring-daemon --unlock' reading a non-empty "
		    "password on stdin) or set 'keyring kernel'");
	locked = secret_collection_get_locked(coll);
	g_object_unref(coll);
	if (locked) {
		g_free(*where);
		*where = NULL;
		return err_set(err, ERR_TEMP, "%s", LOCKED_MSG);
	}
	return 0;
}

int
store_secret_open(struct err *err)
{
	struct watchdog w;
	char *where;
	int rc;

	watchdog_start(&w);
	rc = ss_collection(w.cancel, &where, err);
	watchdog_stop(&w);
	if (rc == 0)
		log_debug("keyring: Secret Service, collection %s", where);
	g_free(where);
	return rc;
}

int
store_secret_get(const char *account, enum store_kind kind, struct buf *out,
    struct err *err)
{
	struct watchdog w;
	GError *g = NULL;
	gchar *pw;
	char *where;
	int rc = -1;

	watchdog_start(&w);
	if (ss_collection(w.cancel, &where, err) == -1)
		goto out;
	g_free(where);
	pw = secret_password_lookup_nonpageable_sync(&store_schema, w.cancel,
	    &g, "service", OM_PROGNAME, "account", account,
	    "kind", store_kind_name(kind), NULL);
	if (pw == NULL) {
		rc = g == NULL ? 1 : gerr_set(err, g, "lookup");
		goto out;
	}
	buf_reset(out);
	if (buf_adds(out, pw) == -1)
		err_set(err, ERR_DATA, "Secret Service: the stored %s for %s "
		    "is too large", store_kind_name(kind), account);
	else
		rc = 0;
	secret_password_free(pw);
 out:
	watchdog_stop(&w);
	return rc;
}

int
store_secret_put(const char *account, enum store_kind kind, const char *data,
    size_t len, struct err *err)
{
	struct watchdog w;
	struct buf text;
	GError *g = NULL;
	char *where = NULL, label[256];
	int rc = -1;

	if (memchr(data, '\0', len) != NULL)
		return err_set(err, ERR_DATA, "Secret Service: the value "
		    "contains a NUL byte");
	buf_init(&text, len, BUF_SECRET);
	if (buf_add(&text, data, len) == -1)
		return err_set(err, ERR_OS, "out of memory");
	(void)snprintf(label, sizeof(label), "%s %s for %s", OM_PROGNAME,
	    store_kind_name(kind), account);
	watchdog_start(&w);
	if (ss_collection(w.cancel, &where, err) == -1)
		goto out;
	if (!secret_password_store_sync(&store_schema, where, label,
	    buf_str(&text), w.cancel, &g, "service", OM_PROGNAME,
	    "account", account, "kind", store_kind_name(kind), NULL)) {
		gerr_set(err, g, "store");
		goto out;
	}
	rc = 0;
 out:
	watchdog_stop(&w);
	g_free(where);
	buf_free(&text);
	return rc;
}

int
store_secret_delete(const char *account, enum store_kind kind,
    struct err *err)
{
	struct watchdog w;
	GError *g = NULL;
	char *where = NULL;
	int rc = -1;

	watchdog_start(&w);
	if (ss_collection(w.cancel, &where, err) == -1)
		goto out;
	if (!secret_password_clear_sync(&store_schema, w.cancel, &g,
	    "service", OM_PROGNAME, "account", account,
	    "kind", store_kind_name(kind), NULL) && g != NULL) {
		gerr_set(err, g, "delete");
		goto out;
	}
	rc = 0;
 out:
	watchdog_stop(&w);
	g_free(where);
	return rc;
}
