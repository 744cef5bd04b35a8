/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/* setup.c -- an account for an address, written and signed in; see setup.h. */
#include "common.h"

#include <arpa/nameser.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "login.h"
#include "oauth.h"
#include "setup.h"
#include "status.h"
#include "util.h"

#define SETUP_MS_BASE	"https://login.microsoftonline.com"
#define SETUP_ANSWER	512		/* one answer line */
#define SETUP_MX_MAX	8		/* MX hosts looked at */
#define SETUP_TEXT_MAX	(64 * 1024)	/* the configuration written */
#define SETUP_NAME_MAX	40		/* the account name made up */

struct plan {
	const char		*address;
	const char		*domain;
	enum conf_provider	 provider;
	const char		*why;		/* how it was recognised */
	char			 tenant[80];
	char			 client_id[SETUP_ANSWER];
	char			 flow[32];	/* "": the provider's default */
	char			 name[SETUP_NAME_MAX + 1];
};

/*
 * Test overrides, never in a set-id run. main() has given up the spool
 * group before setup runs, so the ids no longer tell; the kernel's
 * AT_SECURE still does.
 */
static const char *
test_env(const char *name)
{
	if (getauxval(AT_SECURE) != 0 || getuid() != geteuid() ||
	    getgid() != getegid())
		return NULL;
	return getenv(name);
}

static int
fail(const struct err *e)
{
	fprintf(stderr, "%s: %s\n", OM_PROGNAME, e->msg);
	return err_exitcode(e);
}

/*
 * --- Questions ---------------------------------------------------------------
 */

/* One line of standard input, after the prompt on standard error. */
static int
ask(const char *prompt, char *out, size_t size, struct err *err)
{
	size_t n;

	fprintf(stderr, "%s", prompt);
	fflush(stderr);
	if (fgets(out, (int)size, stdin) == NULL)
		return err_set(err, ERR_USAGE, "no answer to \"%s\" on standard "
		    "input; run 'oauthmail setup' on a terminal", prompt);
	n = strcspn(out, "\r\n");
	if (out[n] == '\0' && n == size - 1)
		return err_set(err, ERR_USAGE, "answer too long (at most %zu "
		    "bytes)", size - 2);
	out[n] = '\0';
	while (n > 0 && isspace((unsigned char)out[n - 1]))
		out[--n] = '\0';
	n = strspn(out, " \t");
	memmove(out, out + n, strlen(out + n) + 1);
	return 0;
}

static int
valid_word(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr("._-", *s) == NULL)
			return 0;
	return 1;
}

/*
 * --- Recognising the provider --------------------------------------------
 */

static int
domain_is(const char *domain, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcasecmp(domain, list[i]) == 0)
			return 1;
	return 0;
}

/* Whether host is suffix or ends with "." suffix (case-insensitive). */
static int
host_under(const char *host, const char *suffix)
{
	size_t h = strlen(host), s = strlen(suffix);

	if (h == s)
		return strcasecmp(host, suffix) == 0;
	return h > s && host[h - s - 1] == '.' &&
	    strcasecmp(host + h - s, suffix) == 0;
}

/* MX hosts from the test file: "DOMAIN HOST" lines. */
static size_t
mx_from_file(const char *path, const char *domain,
    char hosts[][NS_MAXDNAME], size_t max)
{
	char line[600], d[256], h[NS_MAXDNAME];
	FILE *f;
	size_t n = 0;

	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (n < max && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "%255s %1024s", d, h) == 2 &&
		    strcasecmp(d, domain) == 0)
			(void)strlcpy(hosts[n++], h, NS_MAXDNAME);
	(void)fclose(f);
	return n;
}

_Static_assert(SETUP_HOST_MAX == NS_MAXDNAME, "SETUP_HOST_MAX");

size_t
setup_mx_parse(const unsigned char *ans, size_t size,
    char hosts[][SETUP_HOST_MAX], size_t max)
{
	const unsigned char *p, *end;
	char name[NS_MAXDNAME];
	int len, i, qd, an, type, rdlen;
	size_t n = 0;

	if (size < HFIXEDSZ || size > SETUP_DNS_MAX)
		return 0;
	end = ans + size;
	qd = ans[4] << 8 | ans[5];
	an = ans[6] << 8 | ans[7];
	p = ans + HFIXEDSZ;
	for (i = 0; i < qd; i++) {
		if ((len = dn_expand(ans, end, p, name, sizeof(name))) < 0 ||
		    end - p < len + QFIXEDSZ)
			return 0;
		p += len + QFIXEDSZ;
	}
	for (i = 0; i < an && n < max; i++) {
		if ((len = dn_expand(ans, end, p, name, sizeof(name))) < 0 ||
		    end - p < len + RRFIXEDSZ)
			return n;
		p += len;
		type = p[0] << 8 | p[1];
		rdlen = p[8] << 8 | p[9];
		p += RRFIXEDSZ;
		if (end - p < rdlen)
			return n;
		if (type == T_MX && rdlen > 2 && dn_expand(ans, end, p + 2,
		    hosts[n], NS_MAXDNAME) >= 0)
			n++;
		p += rdlen;
	}
	return n;
}

/* MX hosts from DNS. */
static size_t
mx_from_dns(const char *domain, char hosts[][NS_MAXDNAME], size_t max)
{
	unsigned char ans[SETUP_DNS_MAX];
	int len;

	len = res_query(domain, C_IN, T_MX, ans, sizeof(ans));
	if (len < 0 || len > (int)sizeof(ans))
		return 0;
	return setup_mx_parse(ans, (size_t)len, hosts, max);
}

/* PROVIDER_GOOGLE or _MICROSOFT by the domain's MX, else PROVIDER_NONE. */
static enum conf_provider
by_mx(const char *domain)
{
	char hosts[SETUP_MX_MAX][NS_MAXDNAME];
	const char *file = test_env("OAUTHMAIL_MX_FILE");
	size_t n, i, len;

	n = file != NULL ? mx_from_file(file, domain, hosts, SETUP_MX_MAX) :
	    mx_from_dns(domain, hosts, SETUP_MX_MAX);
	for (i = 0; i < n; i++) {
		len = strlen(hosts[i]);
		if (len > 0 && hosts[i][len - 1] == '.')	/* absolute */
			hosts[i][len - 1] = '\0';
		if (host_under(hosts[i], "google.com") ||
		    host_under(hosts[i], "googlemail.com"))
			return PROVIDER_GOOGLE;
		if (host_under(hosts[i], "mail.protection.outlook.com"))
			return PROVIDER_MICROSOFT;
	}
	return PROVIDER_NONE;
}

static const char *const gmail_domains[] = { "gmail.com", "googlemail.com" };
static const char *const outlook_domains[] = {
	"outlook.com", "hotmail.com", "live.com", "msn.com", "outlook.fr",
	"outlook.de", "hotmail.co.uk", "hotmail.fr", "hotmail.de", "live.fr",
	"live.de", "live.co.uk"
};

static int
ask_provider(struct plan *pl, struct err *err)
{
	char a[SETUP_ANSWER];

	fprintf(stderr, "%s: the provider of %s was not recognised (no "
	    "Google or Microsoft MX, no Microsoft Entra tenant).\n",
	    OM_PROGNAME, pl->domain);
	if (ask("provider (microsoft, outlook or google): ", a, sizeof(a),
	    err) == -1)
		return -1;
	if (strcmp(a, "microsoft") == 0)
		pl->provider = PROVIDER_MICROSOFT;
	else if (strcmp(a, "outlook") == 0)
		pl->provider = PROVIDER_OUTLOOK;
	else if (strcmp(a, "google") == 0)
		pl->provider = PROVIDER_GOOGLE;
	else
		return err_set(err, ERR_USAGE, "provider '%s': setup knows "
		    "microsoft, outlook and google; for another server write "
		    "the account by hand (oauthmail.conf(5), provider custom)",
		    a);
	pl->why = "your answer";
	return 0;
}

static int
recognise(struct plan *pl, struct err *err)
{
	const char *base = test_env("OAUTHMAIL_DISCOVERY_URL");
	struct err derr;
	int r;

	if (domain_is(pl->domain, gmail_domains, nitems(gmail_domains))) {
		pl->provider = PROVIDER_GOOGLE;
		pl->why = "the domain";
		return 0;
	}
	if (domain_is(pl->domain, outlook_domains, nitems(outlook_domains))) {
		pl->provider = PROVIDER_OUTLOOK;
		pl->why = "the domain";
		return 0;
	}
	if ((pl->provider = by_mx(pl->domain)) == PROVIDER_GOOGLE) {
		pl->why = "its MX (Google Workspace)";
		return 0;
	}
	err_clear(&derr);
	r = oauth_ms_tenant(base != NULL ? base : SETUP_MS_BASE, pl->domain,
	    pl->tenant, sizeof(pl->tenant), &derr);
	if (r == 0) {
		pl->provider = PROVIDER_MICROSOFT;
		pl->why = "its Microsoft Entra tenant";
		return 0;
	}
	if (r == -1)
		fprintf(stderr, "%s: warning: %s\n", OM_PROGNAME, derr.msg);
	if (pl->provider == PROVIDER_MICROSOFT) {
		pl->why = "its MX (Exchange Online)";
		(void)strlcpy(pl->tenant, pl->domain, sizeof(pl->tenant));
		return 0;
	}
	return ask_provider(pl, err);
}

/*
 * --- What cannot be found ---------------------------------------------------
 */

static void
print_registration(const struct plan *pl)
{
	switch (pl->provider) {
	case PROVIDER_GOOGLE:
		fprintf(stderr, "Register a client: Google Cloud console, "
		    "APIs & Services: enable the Gmail API,\nconfigure the "
		    "OAuth consent screen, then Credentials, Create OAuth "
		    "client ID,\ntype \"Desktop app\". Its client id ends "
		    "in .apps.googleusercontent.com.\n");
		break;
	case PROVIDER_OUTLOOK:
		fprintf(stderr, "Register an application: "
		    "https://entra.microsoft.com, App registrations, New\n"
		    "registration, accounts in any directory and personal "
		    "Microsoft accounts;\nredirect URI \"Public client/native\" "
		    "http://localhost; Authentication: allow\npublic client "
		    "flows. Its Application (client) ID is the client id.\n");
		break;
	default:
		fprintf(stderr, "Register an application in tenant %s: "
		    "https://entra.microsoft.com,\nApp registrations, New "
		    "registration; redirect URI \"Public client/native\"\n"
		    "http://localhost; Authentication: allow public client "
		    "flows; API permissions:\nOffice 365 Exchange Online, "
		    "SMTP.Send (delegated) or SMTP.SendAsApp\n(application, "
		    "for flow client_credentials). Its Application (client) "
		    "ID is the\nclient id.\n", pl->tenant);
		break;
	}
}

static int
ask_client_and_flow(struct plan *pl, struct err *err)
{
	char a[SETUP_ANSWER];

	print_registration(pl);
	if (ask("client id: ", pl->client_id, sizeof(pl->client_id),
	    err) == -1)
		return -1;
	if (!valid_word(pl->client_id))
		return err_set(err, ERR_USAGE, "'%s' is not a client id "
		    "(letters, digits, '.', '_', '-')", pl->client_id);
	if (pl->provider == PROVIDER_GOOGLE)
		return 0;	/* Google allows the browser sign-in only */
	if (ask(pl->provider == PROVIDER_MICROSOFT ? "flow (authcode, device "
	    "or client_credentials; empty: authcode with a browser, else "
	    "device): " : "flow (authcode or device; empty: authcode with a "
	    "browser, else device): ", a, sizeof(a), err) == -1)
		return -1;
	if (*a == '\0')
		return 0;
	if (strcmp(a, "authcode") != 0 && strcmp(a, "device") != 0 &&
	    (pl->provider != PROVIDER_MICROSOFT ||
	    strcmp(a, "client_credentials") != 0))
		return err_set(err, ERR_USAGE, "flow '%s' is not one of the "
		    "choices", a);
	(void)strlcpy(pl->flow, a, sizeof(pl->flow));
	return 0;
}

/*
 * --- Writing ----------------------------------------------------------------
 */

/* The account name: the domain's first label. */
static void
make_name(struct plan *pl)
{
	size_t i;

	for (i = 0; i < SETUP_NAME_MAX && pl->domain[i] != '\0' &&
	    pl->domain[i] != '.'; i++)
		pl->name[i] = isalnum((unsigned char)pl->domain[i]) ||
		    pl->domain[i] == '-' ? pl->domain[i] : '_';
	pl->name[i] = '\0';
	if (i == 0)
		(void)strlcpy(pl->name, "mail", sizeof(pl->name));
}

static int
account_text(const struct plan *pl, int first, struct buf *b)
{
	int r;

	r = buf_addf(b, "# written by 'oauthmail setup %s' (provider "
	    "recognised by %s)\naccount %s\n  provider %s\n", pl->address,
	    pl->why, pl->name, conf_provider_name(pl->provider));
	if (r == 0 && pl->provider == PROVIDER_MICROSOFT)
		r = buf_addf(b, "  tenant %s\n", pl->tenant);
	if (r == 0)
		r = buf_addf(b, "  client_id %s\n", pl->client_id);
	if (r == 0 && pl->flow[0] != '\0')
		r = buf_addf(b, "  flow %s\n", pl->flow);
	if (r == 0)
		r = buf_addf(b, "  from %s\n", pl->address);
	if (r == 0 && first)
		r = buf_addf(b, "account default : %s\n", pl->name);
	return r;
}

static int
config_path(const struct invocation *inv, char *path, size_t size,
    struct err *err)
{
	const char *env = getenv("OAUTHMAIL_CONFIG");

	if (inv->config != NULL)
		return strlcpy(path, inv->config, size) < size ? 0 :
		    err_set(err, ERR_USAGE, "-C: path too long");
	if (env != NULL && *env != '\0')
		return strlcpy(path, env, size) < size ? 0 :
		    err_set(err, ERR_USAGE, "OAUTHMAIL_CONFIG: path too long");
	if (util_xdg_dir(path, size, "XDG_CONFIG_HOME", ".config") == -1 ||
	    strlcat(path, "/" OM_PROGNAME "/config", size) >= size)
		return err_set(err, ERR_CONFIG, "no configuration path: set "
		    "HOME or use -C FILE");
	return 0;
}

static int
write_all_to(const char *path, int flags, const struct buf *b,
    struct err *err)
{
	int fd;

	fd = open(path, flags | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1)
		return err_set(err, ERR_CANTCREAT, "%s: %s", path,
		    strerror(errno));
	if (util_write_all(fd, b->data, b->len) == -1 || fsync(fd) == -1) {
		err_set(err, ERR_IO, "%s: %s", path, strerror(errno));
		(void)close(fd);
		return -1;
	}
	if (close(fd) == -1)
		return err_set(err, ERR_IO, "%s: %s", path, strerror(errno));
	return 0;
}

/* Appends to an existing file: a new one beside it, renamed over it. */
static int
append_config(const char *path, const struct plan *pl, struct err *err)
{
	struct config cf;
	struct buf b;
	char tmp[PATH_MAX + 32], q[PATH_MAX + SETUP_NAME_MAX + 64];
	char a[SETUP_ANSWER];
	FILE *f;
	int c, rc;

	if (conf_load(path, &cf, err) == -1)
		return err_prefix(err, "nothing written");
	c = conf_account(&cf, pl->name) != NULL;
	conf_free(&cf);
	if (c)
		return err_set(err, ERR_CANTCREAT, "%s already has an account "
		    "%s; nothing written (edit it there)", path, pl->name);
	(void)snprintf(q, sizeof(q), "%s exists: add account %s to it? "
	    "[y/N] ", path, pl->name);
	if (ask(q, a, sizeof(a), err) == -1)
		return -1;
	if (strcasecmp(a, "y") != 0 && strcasecmp(a, "yes") != 0)
		return err_set(err, ERR_CANTCREAT, "%s left as it was; "
		    "nothing written", path);
	buf_init(&b, SETUP_TEXT_MAX + LIM_CONF_LINE, 0);
	if ((f = fopen(path, "r")) == NULL) {
		buf_free(&b);
		return err_set(err, ERR_IO, "%s: %s", path, strerror(errno));
	}
	while ((c = getc(f)) != EOF && buf_addc(&b, c) == 0)
		;
	(void)fclose(f);
	rc = (b.len > 0 && b.data[b.len - 1] != '\n' &&
	    buf_addc(&b, '\n') == -1) || buf_addc(&b, '\n') == -1 ||
	    account_text(pl, 0, &b) == -1 ? err_set(err, ERR_CONFIG, "%s is "
	    "too large", path) : 0;
	(void)snprintf(tmp, sizeof(tmp), "%s.setup-%ld", path, (long)getpid());
	if (rc == 0 && (rc = write_all_to(tmp, O_CREAT | O_EXCL, &b,
	    err)) == 0 && rename(tmp, path) == -1) {
		rc = err_set(err, ERR_IO, "%s: %s", path, strerror(errno));
		(void)unlink(tmp);
	}
	buf_free(&b);
	return rc;
}

static int
create_config(const char *path, const struct plan *pl, struct err *err)
{
	struct buf b;
	char dir[PATH_MAX], *slash;
	int rc;

	(void)strlcpy(dir, path, sizeof(dir));
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (util_mkdirs(dir, 0700) == -1 && errno != EEXIST)
			return err_set(err, ERR_CANTCREAT, "%s: %s", dir,
			    strerror(errno));
	}
	buf_init(&b, SETUP_TEXT_MAX, 0);
	rc = account_text(pl, 1, &b) == -1 ? err_set(err, ERR_INTERNAL,
	    "configuration text too large") : write_all_to(path,
	    O_CREAT | O_EXCL, &b, err);
	buf_free(&b);
	return rc;
}

/*
 * --- After writing: the sign-in, or what to do next ---------------------------
 */

static int
sign_in(const char *path, const struct plan *pl)
{
	struct config cf;
	struct account *a;
	struct err err;
	int rc;

	err_clear(&err);
	if (pl->provider == PROVIDER_GOOGLE ||
	    strcmp(pl->flow, "client_credentials") == 0) {
		fprintf(stderr, "%s: next: 'oauthmail secret %s' (the client "
		    "secret%s), then 'oauthmail login %s'\n", OM_PROGNAME,
		    pl->name, pl->provider == PROVIDER_GOOGLE ? " Google "
		    "gives desktop clients" : ", or --key KEY.pem with "
		    "client_certificate", pl->name);
		return EX_OK;
	}
	if (conf_load(path, &cf, &err) == -1)
		return fail(&err);
	if ((a = conf_account(&cf, pl->name)) == NULL) {
		conf_free(&cf);
		err_set(&err, ERR_INTERNAL, "account %s not in %s", pl->name,
		    path);
		return fail(&err);
	}
	rc = login_run(a, LOGIN_DEFAULT, &err) == 0 ? EX_OK : fail(&err);
	conf_free(&cf);
	return rc;
}

int
setup_run(const struct invocation *inv)
{
	struct plan pl;
	struct err err;
	struct buf b;
	struct stat sb;
	char path[PATH_MAX];
	const char *at;
	int exists, r;

	memset(&pl, 0, sizeof(pl));
	err_clear(&err);
	pl.address = inv->cmd_account;
	at = strrchr(pl.address, '@');
	if (at == NULL || at == pl.address || !valid_word(at + 1) ||
	    strchr(at + 1, '.') == NULL || strlen(pl.address) > LIM_ADDR ||
	    strpbrk(pl.address, " \t\r\n<>\"") != NULL) {
		err_set(&err, ERR_USAGE, "'%s' is not an address like "
		    "you@example.com", pl.address);
		return fail(&err);
	}
	pl.domain = at + 1;
	if (config_path(inv, path, sizeof(path), &err) == -1 ||
	    recognise(&pl, &err) == -1)
		return fail(&err);
	fprintf(stderr, "%s: %s: provider %s (recognised by %s)%s%s\n",
	    OM_PROGNAME, pl.domain, conf_provider_name(pl.provider), pl.why,
	    pl.tenant[0] ? ", tenant " : "", pl.tenant);
	if (ask_client_and_flow(&pl, &err) == -1)
		return fail(&err);
	make_name(&pl);
	exists = lstat(path, &sb) == 0;
	if (inv->dry_run) {
		buf_init(&b, SETUP_TEXT_MAX, 0);
		r = account_text(&pl, !exists, &b);
		printf("# %s %s:\n%s", exists ? "would be added to" :
		    "would be written to", path, buf_str(&b));
		buf_free(&b);
		return r == 0 && fflush(stdout) == 0 ? EX_OK : EX_IOERR;
	}
	if ((exists ? append_config(path, &pl, &err) :
	    create_config(path, &pl, &err)) == -1)
		return fail(&err);
	fprintf(stderr, "%s: account %s written to %s\n", OM_PROGNAME,
	    pl.name, path);
	return sign_in(path, &pl);
}
