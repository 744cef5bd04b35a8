/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * cmd.c -- management commands; see cmd.h. The text of `status` is
 * cmd_status.c's, its other formats report.c's.
 */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "buf.h"
#include "check.h"
#include "cmd.h"
#include "cmd_status.h"
#include "holdsched.h"
#include "json.h"
#include "jwt.h"
#include "log.h"
#include "login.h"
#include "oauth.h"
#include "report.h"
#include "runq.h"
#include "smtp.h"
#include "store.h"
#include "token.h"
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
		else if (inv->cmd_account == NULL ||
		    (a = need_account(inv, cf, &err)) != NULL)
			r = cmd_status(cf, a, &err);
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
