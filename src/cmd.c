/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/* cmd.c -- management commands; see cmd.h. */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "advice.h"
#include "apiswitch.h"
#include "buf.h"
#include "check.h"
#include "cmd.h"
#include "envelope.h"
#include "holdsched.h"
#include "json.h"
#include "jwt.h"
#include "log.h"
#include "login.h"
#include "oauth.h"
#include "queue.h"
#include "report.h"
#include "runq.h"
#include "seal.h"
#include "smtp.h"
#include "store.h"
#include "submit.h"
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

	if (store_open_account(a, &st, err) == -1)
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

/* The private key of client_certificate, from a file, into the keyring. */
static int
read_key_file(const char *path, struct buf *out, struct err *err)
{
	char chunk[512];
	struct stat sb;
	ssize_t n;
	int fd, rc = 0;

	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1)
		return err_set(err, ERR_CONFIG, "--key %s: %s", path,
		    strerror(errno));
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		(void)close(fd);
		return err_set(err, ERR_CONFIG, "--key %s is not a regular "
		    "file", path);
	}
	while (rc == 0 && (n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			rc = err_set(err, ERR_IO, "--key %s: %s", path,
			    strerror(errno));
		else if (out->len + (size_t)n > JWT_MAX_KEY ||
		    buf_add(out, chunk, (size_t)n) == -1)
			rc = err_set(err, ERR_CONFIG, "--key %s is larger than "
			    "%d bytes; give the PEM private key alone", path,
			    JWT_MAX_KEY);
	}
	explicit_bzero(chunk, sizeof(chunk));
	(void)close(fd);
	return rc;
}

static int
need_certificate(const struct account *a, struct err *err)
{
	if (a->client_certificate == NULL)
		return err_set(err, ERR_CONFIG, "account %s has no "
		    "client_certificate: add 'client_certificate "
		    "/path/to/cert.pem' (the certificate of this key) to its "
		    "configuration first", a->name);
	return 0;
}

static int
cmd_store_key(const struct account *a, const char *path, struct err *err)
{
	struct store *st;
	struct buf key;
	struct err cerr;
	int r;

	if (need_certificate(a, err) == -1)
		return -1;
	buf_init(&key, JWT_MAX_KEY, BUF_SECRET);
	if ((r = read_key_file(path, &key, err)) == 0)
		r = jwt_check_key(a->client_certificate, key.data, key.len,
		    err);
	if (r == 0 && (r = store_open_account(a, &st, err)) == 0) {
		r = store_put(st, a->name, STORE_CLIENT_KEY, key.data,
		    key.len, err);
		if (r == 0)
			fprintf(stderr, "%s: private key of %s stored in %s; "
			    "%s may now be deleted\n", OM_PROGNAME,
			    a->client_certificate, store_backend_name(st),
			    path);
		store_close(st);
	}
	buf_reset(&key);
	err_clear(&cerr);
	if (r == 0 && store_credential_for(a->name, STORE_CLIENT_KEY, &key,
	    &cerr) == 0)
		fprintf(stderr, "%s: note: the systemd credential %s/key.%s "
		    "wins over it\n", OM_PROGNAME,
		    getenv("CREDENTIALS_DIRECTORY"), a->name);
	buf_free(&key);
	return r;
}

/* The private key as the credential key.ACCOUNT. */
static int
cmd_key_systemd(const struct account *a, const char *path, struct err *err)
{
	char name[512], input[PATH_MAX + 16];

	if (need_certificate(a, err) == -1)
		return -1;
	if (path != NULL && strchr(path, '\'') != NULL)
		return err_set(err, ERR_USAGE, "--key: give a file name "
		    "without a quote (')");
	(void)snprintf(name, sizeof(name), "key.%s", a->name);
	(void)snprintf(input, sizeof(input), "cat '%s' | ",
	    path != NULL ? path : "KEY.pem");
	printf("# The private key of %s (account %s) as an\n# encrypted "
	    "systemd credential.\n", a->client_certificate, a->name);
	print_credential(name, input, NULL);
	printf("# The daemon reads it from $CREDENTIALS_DIRECTORY/%s; it wins "
	    "over\n# a key in the keyring. Then delete the key file.\n",
	    name);
	return fflush(stdout) == 0 ? 0 : err_set(err, ERR_IO, "stdout: %s",
	    strerror(errno));
}

static int
cmd_seal_key(struct err *err)
{
	printf("# A random 256-bit key that seals the daemon's token records "
	    "at rest,\n# as an encrypted systemd credential.\n");
	print_credential(STORE_SEAL_CREDENTIAL, "head -c 32 /dev/urandom | ",
	    NULL);
	printf("# With it the daemon keeps each account's token record, "
	    "encrypted, in\n# its queue directory as well as in the kernel "
	    "keyring, and restores it\n# from there after a reboot: no new "
	    "sign-in. See oauthmail(8), CREDENTIALS.\n");
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
	if (store_open_account(a, &st, err) == -1)
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

/* The kernel copy of the access token (token_cache), if it is kept. */
static void
status_cache(const struct account *a, struct store *st)
{
	time_t exp;

	if (!store_cache_on(st))
		return;
	if (token_cache_expires(a, st, &exp) == 0)
		print_time("kernel copy", exp, time(NULL));
	else
		printf("  %-16s none\n", "kernel copy");
}

/*
 * The sealed token copy: kept by this process (it has the token-key
 * credential), or left by the daemon, with its age.
 */
static void
status_sealed(const struct account *a, const struct store *st)
{
	struct stat sb;
	struct err err;
	char name[512];
	int fd, r;

	err_clear(&err);
	if ((fd = store_queue_dir(a, 0, &err)) == -1)
		return;
	r = seal_file_name(name, sizeof(name), a->name) == 0 &&
	    fstatat(fd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(sb.st_mode);
	(void)close(fd);
	if (store_sealed(st))
		printf("  %-16s kept (token-key credential)\n", "sealed copy");
	else if (r)
		printf("  %-16s present, but no token-key credential here "
		    "(the daemon's unit has it)\n", "sealed copy");
	if (r)
		print_time("sealed written", sb.st_mtime, time(NULL));
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

/* App-only without a secret: where the key is, or the assertion file. */
static void
status_client_auth(const struct account *a, struct store *st)
{
	struct buf b;
	struct err err;
	int r;

	if (a->client_certificate == NULL && a->client_assertion_file == NULL)
		return;
	buf_init(&b, JWT_MAX_KEY, BUF_SECRET);
	err_clear(&err);
	if (a->client_assertion_file != NULL) {
		r = jwt_read_assertion(a->client_assertion_file, time(NULL), &b,
		    &err);
		printf("  %-16s %s%s\n", "assertion file", r == 0 ?
		    a->client_assertion_file : err.msg, r == 0 ?
		    " (a token, not expired)" : "");
	} else {
		printf("  %-16s %s\n", "certificate", a->client_certificate);
		r = store_credential_for(a->name, STORE_CLIENT_KEY, &b, &err);
		if (r == 1)
			r = store_get(st, a->name, STORE_CLIENT_KEY, &b, &err) ==
			    0 ? 2 : r;
		if (r == 0)
			printf("  %-16s systemd credential key.%s\n",
			    "private key", a->name);
		else if (r == 2)
			printf("  %-16s in the %s keyring\n", "private key",
			    store_backend_name(st));
		else if (r == 1)
			printf("  %-16s none: run 'oauthmail secret %s --key "
			    "KEY.pem'\n", "private key", a->name);
		else
			printf("  %-16s %s\n", "private key", err.msg);
	}
	buf_free(&b);
}

/* What keeps an account's mail from going out, mildest first. */
enum blocker {
	BLK_NONE = 0,
	BLK_KEYRING,	/* the keyring cannot be reached: 75 */
	BLK_ACTION	/* sign-in or an administrator needed, mail held: 77 */
};

/* The account's entries that wait for someone or for a limit. */
struct acct_queue {
	size_t	 held;
	time_t	 held_at;		/* newest held entry */
	char	 held_why[512];		/* its last error */
	size_t	 limited;
	time_t	 limit_until;
	char	 limit_why[512];
};

static void
scan_area(struct queue *q, enum queue_area area, const struct account *a,
    time_t now, struct acct_queue *aq)
{
	const struct advice *adv;
	struct envelope env;
	struct err err;
	char **ids;
	size_t i, n;

	if (queue_list(q, area, &ids, &n, &err) == -1)
		return;
	for (i = 0; i < n; i++) {
		envelope_init(&env);
		if (queue_load(q, area, ids[i], &env, &err) == -1 ||
		    env.account == NULL || strcmp(env.account, a->name) != 0) {
			envelope_free(&env);
			continue;
		}
		adv = advice_find(env.last_error);
		if (area == QAREA_HOLD) {
			aq->held++;
			if (aq->held == 1 || env.next_try > aq->held_at) {
				aq->held_at = env.next_try;
				(void)strlcpy(aq->held_why, env.last_error !=
				    NULL ? env.last_error : "",
				    sizeof(aq->held_why));
			}
		} else if (adv != NULL && adv->react == ADV_LIMIT &&
		    env.next_try > now) {
			aq->limited++;
			if (env.next_try > aq->limit_until) {
				aq->limit_until = env.next_try;
				(void)strlcpy(aq->limit_why, env.last_error,
				    sizeof(aq->limit_why));
			}
		}
		envelope_free(&env);
	}
	queue_free_ids(ids, n);
}

static void
scan_queue(const struct account *a, struct acct_queue *aq)
{
	struct queue q;
	struct err err;
	time_t now = time(NULL);

	memset(aq, 0, sizeof(*aq));
	if (queue_open(&q, a->queue_dir, &err) == -1)
		return;
	scan_area(&q, QAREA_HOLD, a, now, aq);
	scan_area(&q, QAREA_ACTIVE, a, now, aq);
	queue_close(&q);
}

static const char *
acct_user(const struct account *a)
{
	return a->user != NULL ? a->user : a->from;
}

/*
 * Held mail: the state says why (the catalogue's label when it knows the
 * reply) and the fix follows.
 */
static void
status_held(const struct account *a, const struct acct_queue *aq,
    char *why, size_t whysize)
{
	const struct advice *adv = advice_find(aq->held_why);
	char fix[512];

	if (adv != NULL && adv->react == ADV_HOLD)
		(void)strlcpy(why, adv->label, whysize);
	else
		(void)strlcpy(why, "the server refused the sign-in", whysize);
	printf("  %-16s %s\n", "state", why);
	if (adv != NULL) {
		advice_fill(adv, a->name, acct_user(a), fix, sizeof(fix));
		printf("  %-16s %s\n", "fix", fix);
	} else
		printf("  %-16s run 'oauthmail check %s', then 'oauthmail "
		    "login %s' if the token is refused\n", "fix", a->name,
		    a->name);
	printf("  %-16s %zu message%s; last error: %s\n", "held", aq->held,
	    aq->held == 1 ? "" : "s", aq->held_why);
}

static void
status_limited(const struct acct_queue *aq, time_t now)
{
	const struct advice *adv = advice_find(aq->limit_why);

	if (aq->limited == 0 || adv == NULL)
		return;
	printf("  %-16s %zu message%s: %s\n", "waiting", aq->limited,
	    aq->limited == 1 ? "" : "s", adv->label);
	print_time("until", aq->limit_until, now);
}

/* The token's state; returns what blocks the account. */
static enum blocker
status_token(const struct account *a, const struct acct_queue *aq,
    char *why, size_t whysize)
{
	struct token_record rec;
	struct store *st;
	struct buf raw;
	struct err err;
	time_t now = time(NULL);
	enum blocker b = BLK_NONE;
	int r;

	err_clear(&err);
	if (store_open_account(a, &st, &err) == -1) {
		printf("  %-16s unavailable: %s\n", "keyring", err.msg);
		(void)strlcpy(why, "the keyring cannot be reached", whysize);
		return BLK_KEYRING;
	}
	buf_init(&raw, LIM_TOKEN * 2, BUF_SECRET);
	memset(&rec, 0, sizeof(rec));
	/* First: keyring auto names the keyring the token is in. */
	r = store_get(st, a->name, STORE_TOKEN, &raw, &err);
	printf("  %-16s %s\n", "keyring", store_backend_name(st));
	status_credential(a);
	status_client_auth(a, st);
	status_sealed(a, st);
	status_cache(a, st);
	if (r == 1) {
		printf("  %-16s no token: run 'oauthmail login %s'\n", "state",
		    a->name);
		(void)strlcpy(why, "no token, sign-in needed", whysize);
		b = BLK_ACTION;
	} else if (r == -1 && err.class == ERR_AUTH) {
		/* The stored token is another identity's (store.h). */
		printf("  %-16s %s\n", "state", err.msg);
		(void)strlcpy(why, "sign-in needed", whysize);
		b = BLK_ACTION;
	} else if (r == -1) {
		printf("  %-16s %s\n", "state", err.msg);
		(void)strlcpy(why, "the keyring cannot be read", whysize);
		b = BLK_KEYRING;
	} else if (token_record_parse(&rec, raw.data, raw.len, &err) == -1) {
		printf("  %-16s unreadable token record: %s\n", "state",
		    err.msg);
		(void)strlcpy(why, "unreadable token record", whysize);
		b = BLK_ACTION;
	} else {
		if (rec.needs_login) {
			printf("  %-16s sign-in needed: run 'oauthmail login "
			    "%s'\n", "state", a->name);
			(void)strlcpy(why, "sign-in needed", whysize);
			b = BLK_ACTION;
		} else if (aq->held > 0) {
			status_held(a, aq, why, whysize);
			b = BLK_ACTION;
		} else
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
	return b;
}

/* How the account sends (transport, and auto's switch to the API). */
static void
status_transport(const struct account *a)
{
	struct queue q;
	struct err err;
	char line[600];

	if (a->transport == TRANSPORT_SMTP)
		return;
	err_clear(&err);
	if (queue_open(&q, a->queue_dir, &err) == -1) {
		printf("  %-16s %s\n", "transport",
		    conf_transport_name(a->transport));
		return;
	}
	apiswitch_describe(&q, a, time(NULL), line, sizeof(line));
	printf("  %-16s %s\n", "transport", line);
	queue_close(&q);
}

/* One account's lines; returns what blocks it, why says it in brief. */
static enum blocker
status_one(const struct config *cf, const struct account *a, char *why,
    size_t whysize)
{
	struct acct_queue aq;
	struct size_limit lim;
	enum blocker b = BLK_NONE;

	printf("account %s <%s>\n", a->name, a->from);
	printf("  %-16s %s:%d\n", "server", a->host, conf_port(a));
	status_transport(a);
	submit_size_limit_of(cf, a, &lim);
	printf("  %-16s %lld bytes (%s)\n", "size limit", lim.bytes, lim.from);
	scan_queue(a, &aq);
	if (conf_is_oauth(a))
		b = status_token(a, &aq, why, whysize);
	else
		printf("  %-16s password/none (no OAuth)\n", "auth");
	if (b != BLK_ACTION && aq.held > 0) {
		status_held(a, &aq, why, whysize);
		b = BLK_ACTION;
	}
	status_limited(&aq, time(NULL));
	return b;
}

static void
status_queue(const struct config *cf)
{
	static const struct { enum queue_area a; const char *name; } areas[] = {
		{ QAREA_ACTIVE, "queued" }, { QAREA_HOLD, "held" },
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

/*
 * Exit status (oauthmail(8)): 0 when every account can send, 77 when one
 * needs a sign-in or an administrator or has held mail, else 75 when a
 * keyring cannot be reached. stderr names the account concerned.
 */
static int
cmd_status(const struct invocation *inv, const struct config *cf,
    struct err *err)
{
	const struct account *one = NULL, *worst_acct = NULL;
	enum blocker b, worst = BLK_NONE;
	char why[512], worst_why[512];
	size_t i, n;

	if (inv->cmd_account != NULL &&
	    (one = need_account(inv, cf, err)) == NULL)
		return -1;
	n = one != NULL ? 1 : cf->naccounts;
	worst_why[0] = '\0';
	for (i = 0; i < n; i++) {
		const struct account *a = one != NULL ? one : cf->accounts[i];

		why[0] = '\0';
		if ((b = status_one(cf, a, why, sizeof(why))) > worst) {
			worst = b;
			worst_acct = a;
			(void)strlcpy(worst_why, why, sizeof(worst_why));
		}
	}
	status_queue(cf);
	if (fflush(stdout) != 0)
		return err_set(err, ERR_IO, "stdout");
	if (worst == BLK_NONE || worst_acct == NULL)
		return 0;
	return err_set(err, worst == BLK_ACTION ? ERR_AUTH : ERR_TEMP,
	    "account %s cannot send: %s", worst_acct->name, worst_why);
}

static int
cmd_logout(const struct account *a, struct err *err)
{
	struct store *st;

	/* Lazy: the kernel copy goes even when the keyring cannot open. */
	if (store_open_lazy(a, &st, err) == -1)
		return -1;
	if (conf_is_oauth(a))
		login_revoke(a, st);
	token_forget_api(a, st);
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

/*
 * check --offline: the configuration loaded (main.c), so it is valid;
 * say what it holds. No keyring, no network, no file opened.
 */
static int
cmd_check_offline(const struct invocation *inv, const struct config *cf,
    struct err *err)
{
	const struct account *a;
	size_t i;

	if (inv->cmd_account != NULL && need_account(inv, cf, err) == NULL)
		return -1;
	printf("%s: valid, %zu account%s\n", cf->path != NULL ? cf->path :
	    "configuration", cf->naccounts, cf->naccounts == 1 ? "" : "s");
	for (i = 0; i < cf->naccounts; i++) {
		a = cf->accounts[i];
		if (inv->cmd_account != NULL &&
		    strcmp(a->name, inv->cmd_account) != 0)
			continue;
		printf("  %s: %s:%d %s, %s %s, from %s%s\n", a->name,
		    a->host, conf_port(a), !a->tls ? "no TLS" :
		    a->tls_starttls ? "STARTTLS" : "TLS", conf_is_oauth(a) ?
		    "OAuth provider" : "auth", conf_is_oauth(a) ?
		    conf_provider_name(a->provider) : a->auth == AUTH_NONE ?
		    "off" : "with a password", a->from,
		    a == cf->def ? " (default)" : "");
	}
	if (fflush(stdout) != 0)
		return err_set(err, ERR_IO, "stdout");
	return 0;
}

int
cmd_run(const struct invocation *inv, const struct config *cf)
{
	const struct account *a = NULL;
	struct err err;
	int r = -1;

	err_clear(&err);
	if (inv->cmd == CMD_SECRET && inv->secret_how == SECRET_SEAL_KEY)
		return cmd_seal_key(&err) == 0 ? EX_OK : fail(&err);
	if (inv->cmd == CMD_CHECK && inv->format == FMT_NAGIOS)
		return report_nagios(inv, cf, stdout);
	if (inv->cmd == CMD_CHECK && inv->offline)
		return cmd_check_offline(inv, cf, &err) == 0 ? EX_OK :
		    fail(&err);
	if (inv->cmd != CMD_STATUS && (a = need_account(inv, cf, &err)) == NULL)
		return fail(&err);
	switch (inv->cmd) {
	case CMD_TOKEN:
		r = cmd_token(a, &err);
		break;
	case CMD_SECRET:
		if (inv->secret_how == SECRET_SYSTEMD &&
		    (inv->key_file != NULL || a->client_certificate != NULL))
			r = cmd_key_systemd(a, inv->key_file, &err);
		else if (inv->key_file != NULL)
			r = cmd_store_key(a, inv->key_file, &err);
		else if (a->client_certificate != NULL)
			r = err_set(&err, ERR_USAGE, "account %s signs in with "
			    "client_certificate, not a secret: run 'oauthmail "
			    "secret %s --key KEY.pem'", a->name, a->name);
		else if (a->client_assertion_file != NULL)
			r = err_set(&err, ERR_USAGE, "account %s signs in with "
			    "client_assertion_file and needs no secret",
			    a->name);
		else if (inv->secret_how == SECRET_SYSTEMD)
			r = cmd_secret_systemd(a, &err);
		else
			r = cmd_store_secret(a, STORE_CLIENT_SECRET,
			    "client secret", &err);
		break;
	case CMD_PASSWORD:
		r = cmd_store_secret(a, STORE_PASSWORD, "password", &err);
		break;
	case CMD_STATUS:
		if (inv->format != FMT_TEXT)
			r = report_status(inv, cf, stdout, &err);
		else
			r = cmd_status(inv, cf, &err);
		break;
	case CMD_LOGOUT:
		r = cmd_logout(a, &err);
		break;
	case CMD_LOGIN:
		r = login_run(a, inv->login_flow, &err);
		break;
	case CMD_CHECK:
		r = check_account(a, stdout, &err);
		break;
	default:
		err_set(&err, ERR_USAGE, "unknown command");
		break;
	}
	/* New credentials: held mail may go at the next queue run. */
	if (r == 0 && (inv->cmd == CMD_LOGIN || inv->cmd == CMD_SECRET ||
	    inv->cmd == CMD_PASSWORD))
		holdsched_reset_account(a);
	if (r == 0 && inv->cmd == CMD_LOGIN)
		login_send_held(cf, a);
	return r == 0 ? EX_OK : fail(&err);
}
