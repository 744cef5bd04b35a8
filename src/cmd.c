/* cmd.c -- management commands; see cmd.h. */
#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cmd.h"
#include "holdsched.h"
#include "json.h"
#include "log.h"
#include "login.h"
#include "oauth.h"
#include "queue.h"
#include "runq.h"
#include "smtp.h"
#include "store.h"
#include "token.h"
#include "util.h"
#include "xmalloc.h"

static int
fail(const struct err *e)
{
	fprintf(stderr, "%s: %s\n", OM_PROGNAME, e->msg);
	return err_exitcode(e);
}

static const struct account *
need_account(const struct invocation *inv, const struct config *cf,
    struct err *err)
{
	const struct account *a;

	if (inv->cmd_account == NULL) {
		err_set(err, ERR_USAGE, "this command needs an ACCOUNT operand");
		return NULL;
	}
	if ((a = conf_account(cf, inv->cmd_account)) == NULL)
		err_set(err, ERR_CONFIG, "no account '%s' in %s",
		    inv->cmd_account, cf->path != NULL ? cf->path :
		    "the configuration");
	return a;
}

/*
 * Reads one secret: from the terminal without echo, or all of stdin when
 * it is not a terminal (trailing newline removed).
 */
static int
read_secret(const char *prompt, struct buf *out, struct err *err)
{
	struct termios old, quiet;
	int tty = isatty(STDIN_FILENO), c;

	if (tty) {
		if (tcgetattr(STDIN_FILENO, &old) == -1)
			return err_set(err, ERR_IO, "terminal: %s",
			    strerror(errno));
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		quiet.c_lflag |= ECHONL;
		fprintf(stderr, "%s", prompt);
		if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == -1)
			return err_set(err, ERR_IO, "terminal: %s",
			    strerror(errno));
	}
	while ((c = getchar()) != EOF) {
		if (tty && c == '\n')
			break;
		if (buf_addc(out, c) == -1) {
			if (tty)
				(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
			return err_set(err, ERR_DATA, "secret too long "
			    "(over %d bytes)", LIM_TOKEN);
		}
	}
	if (tty)
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	while (out->len > 0 && (out->data[out->len - 1] == '\n' ||
	    out->data[out->len - 1] == '\r'))
		out->data[--out->len] = '\0';
	if (out->len == 0)
		return err_set(err, ERR_DATA, "empty secret; nothing stored");
	return 0;
}

static int
cmd_store_secret(const struct account *a, enum store_kind kind,
    const char *what, struct err *err)
{
	struct store *st;
	struct buf sec;
	struct err cerr;
	char prompt[256];
	int r;

	if (store_open(a->keyring, &st, err) == -1)
		return -1;
	buf_init(&sec, LIM_TOKEN, BUF_SECRET);
	(void)snprintf(prompt, sizeof(prompt), "%s for account %s: ", what,
	    a->name);
	r = read_secret(prompt, &sec, err);
	if (r == 0)
		r = store_put(st, a->name, kind, sec.data, sec.len, err);
	buf_free(&sec);
	if (r == 0 && isatty(STDERR_FILENO))
		fprintf(stderr, "%s: %s stored in %s\n", OM_PROGNAME, what,
		    store_backend_name(st));
	buf_init(&sec, LIM_TOKEN, BUF_SECRET);
	err_clear(&cerr);
	if (r == 0 && store_credential_for(a->name, kind, &sec, &cerr) == 0)
		fprintf(stderr, "%s: note: the systemd credential %s/%s.%s "
		    "wins over it\n", OM_PROGNAME,
		    getenv("CREDENTIALS_DIRECTORY"), kind == STORE_PASSWORD ?
		    "password" : "secret", a->name);
	buf_free(&sec);
	store_close(st);
	return r;
}

/*
 * The commands that put a secret into an encrypted systemd credential of
 * the daemon's unit, and its drop-in. The name is both the credential id
 * and the file name, as systemd-creds checks the embedded name.
 */
#define CRED_STORE	"/etc/credstore.encrypted"
#define CRED_UNIT	"oauthmail.service"

/* After the caller's heading: the commands and the drop-in. */
static void
print_credential(const char *name, const char *input, const char *hint)
{
	printf("# It is sealed with this host's key (and its TPM2, if it has "
	    "one).\n# As root:\n\n");
	printf("install -d -m 0700 " CRED_STORE "\n");
	printf("%ssystemd-creds encrypt --name=%s - " CRED_STORE "/%s\n\n",
	    input, name, name);
	if (hint != NULL)
		printf("# %s\n", hint);
	printf("# Then this drop-in, as /etc/systemd/system/" CRED_UNIT
	    ".d/%s.conf\n# (or with systemctl edit " CRED_UNIT "):\n\n",
	    name);
	printf("[Service]\nLoadCredentialEncrypted=%s:" CRED_STORE "/%s\n\n",
	    name, name);
	printf("# and: systemctl daemon-reload && systemctl restart "
	    CRED_UNIT "\n");
}

static int
cmd_secret_systemd(const struct account *a, struct err *err)
{
	char name[512];

	(void)snprintf(name, sizeof(name), "secret.%s", a->name);
	printf("# The client secret of account %s as an encrypted systemd "
	    "credential.\n", a->name);
	print_credential(name, "", "Type or paste the secret, then Ctrl-D "
	    "(one trailing newline is dropped).");
	printf("# The daemon reads it from $CREDENTIALS_DIRECTORY/%s; it wins "
	    "over\n# a client secret in the keyring.\n", name);
	return fflush(stdout) == 0 ? 0 : err_set(err, ERR_IO, "stdout: %s",
	    strerror(errno));
}

static int
cmd_token(const struct account *a, struct err *err)
{
	struct store *st;
	struct buf tok;
	int cached, r;

	if (!conf_is_oauth(a))
		return err_set(err, ERR_CONFIG, "account '%s' does not use "
		    "OAuth", a->name);
	if (store_open(a->keyring, &st, err) == -1)
		return -1;
	buf_init(&tok, LIM_TOKEN, BUF_SECRET);
	r = token_get(a, st, 0, &tok, &cached, err);
	if (r == 0) {
		fwrite(tok.data, 1, tok.len, stdout);
		fputc('\n', stdout);
		if (fflush(stdout) != 0)
			r = err_set(err, ERR_IO, "stdout: %s", strerror(errno));
	}
	buf_free(&tok);
	store_close(st);
	return r;
}

static void
print_time(const char *label, time_t t, time_t now)
{
	char when[64];

	if (t <= 0) {
		printf("  %-16s never\n", label);
		return;
	}
	if (util_date(when, sizeof(when), t) == -1)
		(void)strlcpy(when, "?", sizeof(when));
	if (t > now)
		printf("  %-16s %s (in %lld min)\n", label, when,
		    (long long)(t - now) / 60);
	else
		printf("  %-16s %s (%lld min ago)\n", label, when,
		    (long long)(now - t) / 60);
}

/* Whether a systemd credential supplies the client secret. */
static void
status_credential(const struct account *a)
{
	struct buf b;
	struct err err;
	int r;

	buf_init(&b, LIM_TOKEN, BUF_SECRET);
	err_clear(&err);
	r = store_credential_for(a->name, STORE_CLIENT_SECRET, &b, &err);
	if (r == 0)
		printf("  %-16s systemd credential secret.%s\n",
		    "client secret", a->name);
	else if (r == -1)
		printf("  %-16s %s\n", "client secret", err.msg);
	buf_free(&b);
}

static void
status_one(const struct account *a)
{
	struct token_record rec;
	struct store *st;
	struct buf raw;
	struct err err;
	time_t now = time(NULL);
	int r;

	printf("account %s <%s>\n", a->name, a->from);
	printf("  %-16s %s:%d\n", "server", a->host, conf_port(a));
	if (!conf_is_oauth(a)) {
		printf("  %-16s password/none (no OAuth)\n", "auth");
		return;
	}
	err_clear(&err);
	if (store_open(a->keyring, &st, &err) == -1) {
		printf("  %-16s unavailable: %s\n", "keyring", err.msg);
		return;
	}
	printf("  %-16s %s\n", "keyring", store_backend_name(st));
	status_credential(a);
	buf_init(&raw, LIM_TOKEN * 2, BUF_SECRET);
	memset(&rec, 0, sizeof(rec));
	r = store_get(st, a->name, STORE_TOKEN, &raw, &err);
	if (r == 1)
		printf("  %-16s no token: run 'oauthmail login %s'\n", "state",
		    a->name);
	else if (r == -1)
		printf("  %-16s %s\n", "state", err.msg);
	else if (token_record_parse(&rec, raw.data, raw.len, &err) == -1)
		printf("  %-16s unreadable token record: %s\n", "state",
		    err.msg);
	else {
		if (rec.needs_login)
			printf("  %-16s sign-in needed: run 'oauthmail login "
			    "%s'\n", "state", a->name);
		else
			printf("  %-16s %s\n", "state", "signed in");
		print_time("access expires", rec.expires_at, now);
		if (rec.refresh_token != NULL) {
			print_time("refresh issued", rec.refresh_issued, now);
			if (rec.refresh_issued > 0) {
				long long days = (now - rec.refresh_issued) /
				    86400;

				if (a->provider == PROVIDER_GOOGLE && days >= 5)
					printf("  warning: Google expires "
					    "refresh tokens of apps in testing "
					    "after 7 days\n");
				else if (days >= 80)
					printf("  warning: the refresh token "
					    "is %lld days old; Microsoft "
					    "retires it after 90 days of "
					    "inactivity\n", days);
			}
		} else
			printf("  %-16s none\n", "refresh token");
		print_time("last success", rec.last_success, now);
	}
	token_record_free(&rec);
	buf_free(&raw);
	store_close(st);
}

static void
status_queue(const struct config *cf)
{
	static const struct { enum queue_area a; const char *name; } areas[] = {
		{ QAREA_ACTIVE, "queued" }, { QAREA_HOLD, "held (sign-in)" },
		{ QAREA_FAILED, "failed" },
	};
	const struct account *a = cf->def != NULL ? cf->def :
	    (cf->naccounts > 0 ? cf->accounts[0] : NULL);
	struct queue q;
	struct err err;
	size_t i, n;
	char **ids;

	err_clear(&err);
	if (queue_open(&q, a != NULL ? a->queue_dir : NULL, &err) == -1) {
		printf("queue: %s\n", err.msg);
		return;
	}
	printf("queue %s\n", q.dir);
	for (i = 0; i < nitems(areas); i++) {
		if (queue_list(&q, areas[i].a, &ids, &n, &err) == -1) {
			printf("  %s: %s\n", areas[i].name, err.msg);
			continue;
		}
		printf("  %-16s %zu\n", areas[i].name, n);
		queue_free_ids(ids, n);
	}
	queue_close(&q);
}

static int
cmd_status(const struct invocation *inv, const struct config *cf,
    struct err *err)
{
	size_t i;

	if (inv->cmd_account != NULL) {
		const struct account *a = need_account(inv, cf, err);

		if (a == NULL)
			return -1;
		status_one(a);
	} else
		for (i = 0; i < cf->naccounts; i++)
			status_one(cf->accounts[i]);
	status_queue(cf);
	return fflush(stdout) == 0 ? 0 : err_set(err, ERR_IO, "stdout");
}

static int
cmd_logout(const struct account *a, struct err *err)
{
	struct store *st;

	if (store_open(a->keyring, &st, err) == -1)
		return -1;
	if (conf_is_oauth(a))
		login_revoke(a, st);
	if (store_delete(st, a->name, STORE_TOKEN, err) == -1) {
		store_close(st);
		return -1;
	}
	store_close(st);
	if (isatty(STDERR_FILENO))
		fprintf(stderr, "%s: tokens of account %s forgotten\n",
		    OM_PROGNAME, a->name);
	return 0;
}

int
cmd_run(const struct invocation *inv, const struct config *cf)
{
	const struct account *a = NULL;
	struct err err;
	int r = -1;

	err_clear(&err);
	if (inv->cmd != CMD_STATUS && (a = need_account(inv, cf, &err)) == NULL)
		return fail(&err);
	switch (inv->cmd) {
	case CMD_TOKEN:
		r = cmd_token(a, &err);
		break;
	case CMD_SECRET:
		if (inv->secret_how == SECRET_SYSTEMD)
			r = cmd_secret_systemd(a, &err);
		else
			r = cmd_store_secret(a, STORE_CLIENT_SECRET,
			    "client secret", &err);
		break;
	case CMD_PASSWORD:
		r = cmd_store_secret(a, STORE_PASSWORD, "password", &err);
		break;
	case CMD_STATUS:
		r = cmd_status(inv, cf, &err);
		break;
	case CMD_LOGOUT:
		r = cmd_logout(a, &err);
		break;
	case CMD_LOGIN:
		r = login_run(a, inv->login_flow, &err);
		break;
	case CMD_CHECK:
		r = login_check(a, stdout, &err);
		break;
	default:
		err_set(&err, ERR_USAGE, "unknown command");
		break;
	}
	/* New credentials: held mail may go at the next queue run. */
	if (r == 0 && (inv->cmd == CMD_LOGIN || inv->cmd == CMD_SECRET ||
	    inv->cmd == CMD_PASSWORD))
		holdsched_reset_account(a);
	return r == 0 ? EX_OK : fail(&err);
}
