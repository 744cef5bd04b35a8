/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * test_token.c -- token record, OAuth error classification, and token_get
 * against a tiny token endpoint on 127.0.0.1 with the kernel keyring.
 */
#include "unit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "json.h"
#include "log.h"
#include "http.h"
#include "oauth.h"
#include "seal.h"
#include "status.h"
#include "store.h"
#include "store_backend.h"
#include "token.h"
#include "xmalloc.h"

/*
 * --- Record -----------------------------------------------------------------
 */

static void
test_record_roundtrip(void **state)
{
	struct token_record r, back;
	struct buf b;
	struct err err;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.access_token = xstrdup("AT \"quoted\" \\ x");
	r.expires_at = 1700000123;
	r.lifetime = 299;
	r.refresh_token = xstrdup("RT-\xc3\xa9");
	r.refresh_issued = 1690000000;
	r.last_success = 1700000000;
	r.needs_login = 1;
	r.scope = xstrdup("https://outlook.office.com/SMTP.Send offline_access");
	buf_init(&b, LIM_TOKEN * 3, BUF_SECRET);
	assert_int_equal(token_record_dump(&r, &b, &err), 0);
	assert_int_equal(token_record_parse(&back, b.data, b.len, &err), 0);
	assert_string_equal(back.access_token, r.access_token);
	assert_string_equal(back.refresh_token, r.refresh_token);
	assert_string_equal(back.scope, r.scope);
	assert_int_equal(back.expires_at, r.expires_at);
	assert_int_equal(back.lifetime, 299);
	assert_int_equal(back.refresh_issued, r.refresh_issued);
	assert_int_equal(back.last_success, r.last_success);
	assert_int_equal(back.needs_login, 1);
	token_record_free(&back);
	token_record_free(&r);
	assert_null(r.access_token);
	buf_free(&b);
}

static void
test_record_rejects(void **state)
{
	static const char *bad[] = {
		"", "[]", "{\"access_token\":1}", "{\"expires_at\":\"soon\"}",
		"{\"expires_at\":-1}", "{\"needs_login\":1}",
		"{\"expires_in\":-5}", "{\"expires_in\":\"300\"}",
		"{\"refresh_token\":\"a\",\"refresh_token\":\"b\"}",
	};
	struct token_record r;
	struct err err;
	size_t i;

	(void)state;
	for (i = 0; i < nitems(bad); i++) {
		assert_int_equal(token_record_parse(&r, bad[i], strlen(bad[i]),
		    &err), -1);
		assert_null(r.refresh_token);
	}
	/* A minimal seed (what tests and tools write) parses. */
	assert_int_equal(token_record_parse(&r,
	    "{\"refresh_token\":\"R\"}", 21, &err), 0);
	assert_string_equal(r.refresh_token, "R");
	assert_null(r.access_token);
	assert_int_equal(r.expires_at, 0);
	assert_int_equal(r.needs_login, 0);
	token_record_free(&r);
}

/* The margin: the account's, at most a third of a known lifetime. */
static void
test_margin(void **state)
{
	struct account a;
	struct token_record r;

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&r, 0, sizeof(r));
	a.refresh_margin = 300;
	assert_int_equal(token_margin(&r, &a), 300);	/* unknown */
	r.lifetime = 3599;
	assert_int_equal(token_margin(&r, &a), 300);
	r.lifetime = 300;				/* Keycloak */
	assert_int_equal(token_margin(&r, &a), 100);
	r.lifetime = 12;
	assert_int_equal(token_margin(&r, &a), 4);
	a.refresh_margin = 0;
	assert_int_equal(token_margin(&r, &a), 0);
}

/*
 * --- Classification ---------------------------------------------------------
 */

static void
test_classify(void **state)
{
	static const struct {
		long		 status;
		const char	*error;
		const char	*desc;
		long long	 code;		/* error_codes[0], 0: none */
		int		 parsed;
		enum err_class	 class;
		const char	*needle;	/* must appear in err.msg */
	} cases[] = {
		{ 200, NULL, NULL, 0, 1, ERR_NONE, NULL },
		{ 200, NULL, NULL, 0, 0, ERR_PROTO, "unreadable" },
		{ 0, NULL, NULL, 0, 0, ERR_TEMP, "no reply" },
		{ 500, NULL, NULL, 0, 0, ERR_TEMP, "HTTP 500" },
		{ 502, NULL, NULL, 0, 0, ERR_TEMP, "will retry" },
		{ 503, "invalid_grant", NULL, 0, 1, ERR_TEMP, NULL },
		{ 429, NULL, NULL, 0, 0, ERR_TEMP, "429" },
		{ 429, "invalid_request", NULL, 0, 1, ERR_TEMP, NULL },
		{ 400, "temporarily_unavailable", NULL, 0, 1, ERR_TEMP, NULL },
		{ 400, "server_error", NULL, 0, 1, ERR_TEMP, NULL },
		{ 400, "invalid_grant", "Token has been expired or revoked.", 0,
		    1, ERR_AUTH, "run 'oauthmail login acct1'" },
		{ 400, "invalid_client", NULL, 0, 1, ERR_CONFIG,
		    "oauthmail secret acct1" },
		{ 401, "unauthorized_client", NULL, 0, 1, ERR_CONFIG, "flow" },
		{ 400, "invalid_scope", NULL, 0, 1, ERR_CONFIG, "scope" },
		{ 400, "unsupported_grant_type", NULL, 0, 1, ERR_CONFIG, "flow" },
		{ 400, "invalid_request", NULL, 0, 1, ERR_CONFIG,
		    "token_endpoint" },
		{ 401, "invalid_client", "AADSTS7000218: The request body must "
		    "contain the following parameter: 'client_assertion' or "
		    "'client_secret'.\r\nTrace ID: 1", 7000218, 1, ERR_CONFIG,
		    "Allow public client flows" },
		{ 401, "invalid_client", "AADSTS7000218: no codes array", 0, 1,
		    ERR_CONFIG, "Allow public client flows" },
		{ 400, "invalid_grant", "AADSTS700082: The refresh token has "
		    "expired", 700082, 1, ERR_AUTH, "oauthmail login acct1" },
		{ 400, "invalid_grant", "AADSTS70043: expired", 70043, 1,
		    ERR_AUTH, "oauthmail login acct1" },
		{ 400, "invalid_request", "AADSTS50011: redirect mismatch",
		    50011, 1, ERR_CONFIG, "redirect URI" },
		{ 400, "unauthorized_client", "AADSTS7000112: disabled",
		    7000112, 1, ERR_CONFIG, "disabled" },
		{ 400, "invalid_scope", "AADSTS70011: bad scope", 70011, 1,
		    ERR_CONFIG, "scope" },
		{ 401, "invalid_client", "AADSTS7000215: Invalid client secret",
		    7000215, 1, ERR_CONFIG, "oauthmail secret acct1" },
		/* 70011 must not match 700112 or 7001100. */
		{ 400, "invalid_request", "AADSTS700112: something", 0, 1,
		    ERR_CONFIG, "token_endpoint" },
		{ 400, "access_denied", NULL, 0, 1, ERR_AUTH, "declined" },
		{ 400, "authorization_declined", NULL, 0, 1, ERR_AUTH,
		    "declined" },
		{ 400, "expired_token", NULL, 0, 1, ERR_AUTH, "expired" },
		{ 400, "something_new", NULL, 0, 1, ERR_TEMP, "something_new" },
		{ 404, NULL, NULL, 0, 0, ERR_CONFIG, "token_endpoint" },
		{ 302, NULL, NULL, 0, 0, ERR_CONFIG, "redirects" },
		{ 400, "invalid_grant", "bad\x1b[31m escape", 0, 1, ERR_AUTH,
		    "\\x1b" },
	};
	struct json_token t;
	struct err err;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		json_token_init(&t);
		t.error = cases[i].error ? xstrdup(cases[i].error) : NULL;
		t.error_description = cases[i].desc ?
		    xstrdup(cases[i].desc) : NULL;
		if (cases[i].code != 0) {
			t.error_codes[0] = cases[i].code;
			t.nerror_codes = 1;
		}
		err_clear(&err);
		rc = oauth_classify("acct1", cases[i].status,
		    cases[i].parsed ? &t : NULL, &err);
		if (cases[i].class == ERR_NONE)
			assert_int_equal(rc, 0);
		else {
			if (rc != -1 || err.class != cases[i].class)
				fail_msg("case %zu: rc %d class %s: %s", i, rc,
				    err_class_str(err.class), err.msg);
			if (cases[i].needle != NULL &&
			    strstr(err.msg, cases[i].needle) == NULL)
				fail_msg("case %zu: \"%s\" lacks \"%s\"", i,
				    err.msg, cases[i].needle);
			/* Trace IDs after CR LF are cut. */
			assert_null(strstr(err.msg, "Trace ID"));
			assert_null(strchr(err.msg, '\x1b'));
		}
		json_token_free(&t);
	}
}

static void
test_check_url(void **state)
{
	static const struct {
		const char	*url;
		int		 rc;
		int		 loopback;
	} cases[] = {
		{ "https://login.microsoftonline.com/common/oauth2/v2.0/token",
		    0, 0 },
		{ "HTTPS://oauth2.googleapis.com/token", 0, 0 },
		{ "http://127.0.0.1:8080/token", 0, 1 },
		{ "http://[::1]:8080/token", 0, 1 },
		{ "http://localhost/token", 0, 1 },
		{ "http://example.com/token", -1, 0 },
		{ "http://127.0.0.1.evil.com/token", -1, 0 },
		{ "http://localhost.evil.com/", -1, 0 },
		{ "ftp://127.0.0.1/x", -1, 0 },
		{ "file:///etc/passwd", -1, 0 },
		{ "", -1, 0 },
		{ "not a url", -1, 0 },
	};
	struct err err;
	size_t i;
	int lb;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		if (http_check_url(cases[i].url, &lb, &err) != cases[i].rc)
			fail_msg("url %s", cases[i].url);
		if (cases[i].rc == 0)
			assert_int_equal(lb, cases[i].loopback);
		else
			assert_int_equal(err.class, ERR_CONFIG);
	}
}

/*
 * --- token_get against a local token endpoint -------------------------------
 */

struct server {
	pid_t	 pid;
	int	 port;
	char	 log[64];	/* one line per request: the form body */
};

static void
serve(int ls, const char *status, const char *body, const char *log)
{
	char req[16384], resp[8192];
	FILE *fp;
	int c, n;
	size_t len;
	char *hend, *cl;
	long want;

	for (;;) {
		if ((c = accept(ls, NULL, NULL)) == -1)
			_exit(1);
		len = 0;
		hend = NULL;
		want = -1;
		while (len < sizeof(req) - 1) {
			ssize_t r = read(c, req + len, sizeof(req) - 1 - len);

			if (r <= 0)
				break;
			len += (size_t)r;
			req[len] = '\0';
			if (hend == NULL &&
			    (hend = strstr(req, "\r\n\r\n")) != NULL) {
				cl = strcasestr(req, "content-length:");
				want = cl ? strtol(cl + 15, NULL, 10) : 0;
			}
			if (hend != NULL &&
			    (long)(len - (size_t)(hend + 4 - req)) >= want)
				break;
		}
		if ((fp = fopen(log, "a")) != NULL) {
			fprintf(fp, "%s\n", hend ? hend + 4 : "");
			fclose(fp);
		}
		n = snprintf(resp, sizeof(resp), "HTTP/1.1 %s\r\n"
		    "Content-Type: application/json\r\nContent-Length: %zu\r\n"
		    "Connection: close\r\n\r\n%s", status, strlen(body), body);
		if (write(c, resp, (size_t)n) != (ssize_t)n)
			fprintf(stderr, "token server: short write\n");
		close(c);
	}
}

static void
server_start(struct server *s, const char *status, const char *body)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int ls, one = 1;

	snprintf(s->log, sizeof(s->log), "/tmp/om-test-token-%d.log",
	    (int)getpid());
	unlink(s->log);
	ls = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(ls >= 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(ls, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(ls, 8), 0);
	assert_int_equal(getsockname(ls, (struct sockaddr *)&sin, &sl), 0);
	s->port = ntohs(sin.sin_port);
	s->pid = fork();
	assert_true(s->pid >= 0);
	if (s->pid == 0)
		serve(ls, status, body, s->log);
	close(ls);
}

/* Stops the server; returns the number of requests and the first body. */
static int
server_stop(struct server *s, char *first, size_t size)
{
	FILE *fp;
	char line[16384];
	int n = 0;

	kill(s->pid, SIGTERM);
	waitpid(s->pid, NULL, 0);
	if (first != NULL && size > 0)
		first[0] = '\0';
	if ((fp = fopen(s->log, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (n == 0 && first != NULL)
			(void)strlcpy(first, line, size);
		n++;
	}
	fclose(fp);
	unlink(s->log);
	return n;
}

struct fixture {
	struct store	*st;
	struct account	 acct;
	char		 name[64];
	char		 url[128];
	char		 qdir[64];	/* the queue directory: refresh locks */
};

static int nacct;

/* Removes a flat temporary directory (lock files only). */
static void
rmtree(const char *dir)
{
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.')
				(void)unlinkat(dirfd(d), de->d_name, 0);
		(void)closedir(d);
	}
	(void)rmdir(dir);
}

static int
setup(void **state)
{
	struct fixture *f;
	struct err err;

	f = xcalloc(1, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "unit-%d-%d-%ld", (int)getpid(),
	    nacct++, (long)time(NULL));
	f->acct.name = f->name;
	f->acct.client_id = "client-1";
	f->acct.scope = "https://outlook.office.com/SMTP.Send offline_access";
	f->acct.refresh_margin = 300;
	f->acct.keyring = KEYRING_KERNEL;
	f->acct.provider = PROVIDER_CUSTOM;
	(void)strlcpy(f->qdir, "/tmp/om-unit-token.XXXXXX", sizeof(f->qdir));
	assert_non_null(mkdtemp(f->qdir));
	f->acct.queue_dir = f->qdir;
	if (store_open_account(&f->acct, &f->st, &err) == -1) {
		fprintf(stderr, "kernel keyring unavailable: %s\n", err.msg);
		rmtree(f->qdir);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	struct err err;

	store_delete(f->st, f->name, STORE_TOKEN, &err);
	store_delete(f->st, f->name, STORE_CLIENT_SECRET, &err);
	store_close(f->st);
	rmtree(f->qdir);
	free(f);
	return 0;
}

static void
seed(struct fixture *f, const char *json)
{
	struct err err;

	assert_int_equal(store_put(f->st, f->name, STORE_TOKEN, json,
	    strlen(json), &err), 0);
}

static void
load(struct fixture *f, struct token_record *r)
{
	struct buf b;
	struct err err;

	buf_init(&b, LIM_TOKEN * 3, BUF_SECRET);
	assert_int_equal(store_get(f->st, f->name, STORE_TOKEN, &b, &err), 0);
	assert_int_equal(token_record_parse(r, b.data, b.len, &err), 0);
	buf_free(&b);
}

static void
raw(struct fixture *f, struct buf *b)
{
	struct err err;

	buf_init(b, LIM_TOKEN * 3, BUF_SECRET);
	assert_int_equal(store_get(f->st, f->name, STORE_TOKEN, b, &err), 0);
}

static void
point(struct fixture *f, struct server *s)
{
	snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d/token", s->port);
	f->acct.token_endpoint = f->url;
}

static void
test_store_kernel(void **state)
{
	struct fixture *f = *state;
	struct buf b;
	struct err err;

	buf_init(&b, 1024, BUF_SECRET);
	assert_string_equal(store_backend_name(f->st), "kernel");
	assert_int_equal(store_get(f->st, f->name, STORE_PASSWORD, &b, &err),
	    1);
	assert_int_equal(store_put(f->st, f->name, STORE_PASSWORD, "pw1", 3,
	    &err), 0);
	assert_int_equal(store_put(f->st, f->name, STORE_PASSWORD, "pw-two", 6,
	    &err), 0);
	assert_int_equal(store_get(f->st, f->name, STORE_PASSWORD, &b, &err),
	    0);
	assert_string_equal(b.data, "pw-two");
	/* Kinds are separate. */
	assert_int_equal(store_get(f->st, f->name, STORE_CLIENT_SECRET, &b,
	    &err), 1);
	assert_int_equal(store_delete(f->st, f->name, STORE_PASSWORD, &err), 0);
	assert_int_equal(store_delete(f->st, f->name, STORE_PASSWORD, &err), 0);
	assert_int_equal(store_get(f->st, f->name, STORE_PASSWORD, &b, &err),
	    1);
	buf_free(&b);
}

static void
test_get_cached(void **state)
{
	struct fixture *f = *state;
	struct server s;
	struct buf out;
	struct err err;
	char json[256];
	int cached;

	server_start(&s, "500 Internal Server Error", "{}");
	point(f, &s);
	snprintf(json, sizeof(json), "{\"access_token\":\"AT-valid\","
	    "\"expires_at\":%lld,\"refresh_token\":\"RT-0\"}",
	    (long long)time(NULL) + 3600);
	seed(f, json);
	buf_init(&out, LIM_TOKEN, BUF_SECRET);
	assert_int_equal(token_get(&f->acct, f->st, 0, &out, &cached, &err), 0);
	assert_string_equal(out.data, "AT-valid");
	assert_int_equal(cached, 1);
	/* 10 s left of a 12 s token: inside 300 s, outside a third of 12. */
	snprintf(json, sizeof(json), "{\"access_token\":\"AT-short\","
	    "\"expires_at\":%lld,\"expires_in\":12,\"refresh_token\":"
	    "\"RT-0\"}", (long long)time(NULL) + 10);
	seed(f, json);
	assert_int_equal(token_get(&f->acct, f->st, 0, &out, &cached, &err), 0);
	assert_string_equal(out.data, "AT-short");
	assert_int_equal(cached, 1);
	assert_int_equal(server_stop(&s, NULL, 0), 0);
	buf_free(&out);
}

static void
test_get_refresh_rotates(void **state)
{
	struct fixture *f = *state;
	struct server s;
	struct buf out;
	struct err err;
	struct token_record r;
	char json[256], body[4096];
	int cached;
	time_t now = time(NULL);

	server_start(&s, "200 OK", "{\"access_token\":\"AT-new\","
	    "\"token_type\":\"Bearer\",\"expires_in\":\"3599\","
	    "\"refresh_token\":\"RT-new\",\"scope\":\"SMTP.Send\"}");
	point(f, &s);
	/* Valid for 100 s: inside the 300 s margin, so refreshed. */
	snprintf(json, sizeof(json), "{\"access_token\":\"AT-old\","
	    "\"expires_at\":%lld,\"refresh_token\":\"RT-old&=+\","
	    "\"last_success\":77}", (long long)now + 100);
	seed(f, json);
	buf_init(&out, LIM_TOKEN, BUF_SECRET);
	assert_int_equal(token_get(&f->acct, f->st, 0, &out, &cached, &err), 0);
	assert_string_equal(out.data, "AT-new");
	assert_int_equal(cached, 0);
	/* A second call is served from the keyring. */
	assert_int_equal(token_get(&f->acct, f->st, 0, &out, &cached, &err), 0);
	assert_int_equal(cached, 1);
	assert_int_equal(server_stop(&s, body, sizeof(body)), 1);
	assert_non_null(strstr(body, "grant_type=refresh_token"));
	assert_non_null(strstr(body, "refresh_token=RT-old%26%3D%2B"));
	assert_non_null(strstr(body, "client_id=client-1"));
	assert_null(strstr(body, "client_secret"));
	load(f, &r);
	assert_string_equal(r.access_token, "AT-new");
	assert_string_equal(r.refresh_token, "RT-new");
	assert_true(r.expires_at >= now + 3599 && r.expires_at <= now + 3700);
	assert_int_equal(r.lifetime, 3599);
	assert_true(r.refresh_issued >= now);
	assert_int_equal(r.last_success, 77);
	assert_int_equal(r.needs_login, 0);
	token_record_free(&r);
	buf_free(&out);
}

static void
test_get_refresh_keeps_rt(void **state)
{
	struct fixture *f = *state;
	struct server s;
	struct buf out;
	struct err err;
	struct token_record r;
	char body[4096];
	int cached;

	server_start(&s, "200 OK", "{\"access_token\":\"AT-g\","
	    "\"expires_in\":3600}");
	point(f, &s);
	seed(f, "{\"refresh_token\":\"RT-google\",\"refresh_issued\":5}");
	assert_int_equal(store_put(f->st, f->name, STORE_CLIENT_SECRET,
	    "cs-1", 4, &err), 0);
	buf_init(&out, LIM_TOKEN, BUF_SECRET);
	assert_int_equal(token_get(&f->acct, f->st, 0, &out, &cached, &err), 0);
	assert_string_equal(out.data, "AT-g");
	assert_int_equal(server_stop(&s, body, sizeof(body)), 1);
	assert_non_null(strstr(body, "client_secret=cs-1"));
	load(f, &r);
	assert_string_equal(r.refresh_token, "RT-google");
	assert_int_equal(r.refresh_issued, 5);
	token_record_free(&r);
	buf_free(&out);
}

static void
test_get_force(void **state)
{
	struct fixture *f = *state;
	struct server s;
	struct buf out;
	struct err err;
	char json[256];
	int cached;

	server_start(&s, "200 OK", "{\"access_token\":\"AT-forced\","
	    "\"expires_in\":3600}");
	point(f, &s);
	snprintf(json, sizeof(json), "{\"access_token\":\"AT-valid\","
	    "\"expires_at\":%lld,\"refresh_token\":\"RT\"}",
	    (long long)time(NULL) + 3600);
	seed(f, json);
	buf_init(&out, LIM_TOKEN, BUF_SECRET);
	assert_int_equal(token_get(&f->acct, f->st, 1, &out, &cached, &err), 0);
	assert_string_equal(out.data, "AT-forced");
	assert_int_equal(cached, 0);
	assert_int_equal(server_stop(&s, NULL, 0), 1);
	buf_free(&out);
}

static void
test_get_invalid_grant(void **state)
{
	struct fixture *f = *state;
	struct server s;
	struct buf out;
	struct err err;
	struct token_record r;
	int cached;

	server_start(&s, "400 Bad Request", "{\"error\":\"invalid_grant\","
	    "\"error_description\":\"AADSTS700082: The refresh token has "
	    "expired due to inactivity.\\r\\nTrace ID: abc\","
	    "\"error_codes\":[700082]}");
	point(f, &s);
	seed(f, "{\"access_token\":\"AT-old\",\"expires_at\":1,"
	    "\"refresh_token\":\"RT-keep\"}");
	buf_init(&out, LIM_TOKEN, BUF_SECRET);
	assert_int_equal(token_get(&f->acct, f->st, 0, &out, &cached, &err),
	    -1);
	assert_int_equal(err.class, ERR_AUTH);
	assert_non_null(strstr(err.msg, "oauthmail login"));
	load(f, &r);
	assert_int_equal(r.needs_login, 1);
	assert_string_equal(r.refresh_token, "RT-keep");
	token_record_free(&r);
	/* needs_login: no further request until login or force. */
	assert_int_equal(token_get(&f->acct, f->st, 0, &out, &cached, &err),
	    -1);
	assert_int_equal(err.class, ERR_AUTH);
	assert_int_equal(server_stop(&s, NULL, 0), 1);
	buf_free(&out);
}

static void
test_get_transient(void **state)
{
	static const char *statuses[] = {
		"500 Internal Server Error", "503 Service Unavailable",
		"429 Too Many Requests",
	};
	struct fixture *f = *state;
	struct server s;
	struct buf out, before, after;
	struct err err;
	size_t i;
	int cached;

	seed(f, "{\"access_token\":\"AT-old\",\"expires_at\":1,"
	    "\"refresh_token\":\"RT-keep\",\"last_success\":9}");
	raw(f, &before);
	buf_init(&out, LIM_TOKEN, BUF_SECRET);
	for (i = 0; i < nitems(statuses); i++) {
		server_start(&s, statuses[i], "<html>busy</html>");
		point(f, &s);
		assert_int_equal(token_get(&f->acct, f->st, 0, &out, &cached,
		    &err), -1);
		assert_int_equal(err.class, ERR_TEMP);
		assert_int_equal(server_stop(&s, NULL, 0), 1);
		raw(f, &after);
		assert_int_equal(after.len, before.len);
		assert_memory_equal(after.data, before.data, before.len);
		buf_free(&after);
	}
	/* A token endpoint that is not listening: transient too. */
	assert_int_equal(token_get(&f->acct, f->st, 0, &out, &cached, &err),
	    -1);
	assert_int_equal(err.class, ERR_TEMP);
	raw(f, &after);
	assert_memory_equal(after.data, before.data, before.len);
	buf_free(&after);
	buf_free(&before);
	buf_free(&out);
}

static void
test_get_no_record(void **state)
{
	struct fixture *f = *state;
	struct buf out;
	struct err err;
	int cached;

	f->acct.token_endpoint = "http://127.0.0.1:1/token";
	buf_init(&out, LIM_TOKEN, BUF_SECRET);
	assert_int_equal(token_get(&f->acct, f->st, 0, &out, &cached, &err),
	    -1);
	assert_int_equal(err.class, ERR_AUTH);
	assert_non_null(strstr(err.msg, "oauthmail login"));
	/* Client credentials without a secret: a configuration error. */
	f->acct.flow = FLOW_CLIENT_CREDENTIALS;
	assert_int_equal(token_get(&f->acct, f->st, 0, &out, &cached, &err),
	    -1);
	assert_int_equal(err.class, ERR_CONFIG);
	assert_non_null(strstr(err.msg, "oauthmail secret"));
	buf_free(&out);
}

static void
test_get_client_credentials(void **state)
{
	struct fixture *f = *state;
	struct server s;
	struct buf out;
	struct err err;
	struct token_record r;
	char body[4096];
	int cached;

	server_start(&s, "200 OK", "{\"access_token\":\"AT-app\","
	    "\"expires_in\":3599,\"token_type\":\"Bearer\"}");
	point(f, &s);
	f->acct.flow = FLOW_CLIENT_CREDENTIALS;
	f->acct.scope = "https://outlook.office365.com/.default";
	assert_int_equal(store_put(f->st, f->name, STORE_CLIENT_SECRET,
	    "s3cret~", 7, &err), 0);
	buf_init(&out, LIM_TOKEN, BUF_SECRET);
	assert_int_equal(token_get(&f->acct, f->st, 0, &out, &cached, &err), 0);
	assert_string_equal(out.data, "AT-app");
	assert_int_equal(server_stop(&s, body, sizeof(body)), 1);
	assert_non_null(strstr(body, "grant_type=client_credentials"));
	assert_non_null(strstr(body, "client_secret=s3cret~"));
	load(f, &r);
	assert_string_equal(r.access_token, "AT-app");
	assert_null(r.refresh_token);
	token_record_free(&r);
	buf_free(&out);
}

static void
test_mark_success(void **state)
{
	struct fixture *f = *state;
	struct token_record r;
	time_t now = time(NULL);

	seed(f, "{\"refresh_token\":\"RT\",\"last_success\":10}");
	token_mark_success(&f->acct, f->st);
	load(f, &r);
	assert_true(r.last_success >= now);
	assert_string_equal(r.refresh_token, "RT");
	token_record_free(&r);
}

static void
test_device_and_exchange(void **state)
{
	struct fixture *f = *state;
	struct server s;
	struct json_token t;
	struct err err;
	char url[128], body[4096];

	server_start(&s, "400 Bad Request",
	    "{\"error\":\"authorization_pending\"}");
	point(f, &s);
	assert_int_equal(oauth_device_poll(&f->acct, "DC-1", NULL, &t, &err),
	    OAUTH_POLL_PENDING);
	json_token_free(&t);
	assert_int_equal(server_stop(&s, body, sizeof(body)), 1);
	assert_non_null(strstr(body, "grant_type=urn%3Aietf%3Aparams%3Aoauth"
	    "%3Agrant-type%3Adevice_code"));
	assert_non_null(strstr(body, "device_code=DC-1"));

	server_start(&s, "200 OK", "{\"device_code\":\"DC\",\"user_code\":"
	    "\"UC\",\"verification_uri\":\"https://example.com/device\","
	    "\"expires_in\":900}");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/devicecode", s.port);
	f->acct.device_endpoint = url;
	assert_int_equal(oauth_device_authorize(&f->acct, NULL, &t, &err), 0);
	assert_string_equal(t.user_code, "UC");
	assert_int_equal(t.interval, 5);
	json_token_free(&t);
	server_stop(&s, NULL, 0);

	server_start(&s, "200 OK", "{\"access_token\":\"A\",\"expires_in\":1}");
	point(f, &s);
	assert_int_equal(oauth_code_exchange(&f->acct, "CODE/1", "VERIFIER",
	    "http://127.0.0.1:5555/", NULL, &t, &err), 0);
	json_token_free(&t);
	assert_int_equal(server_stop(&s, body, sizeof(body)), 1);
	assert_non_null(strstr(body, "code=CODE%2F1"));
	assert_non_null(strstr(body, "code_verifier=VERIFIER"));
	assert_non_null(strstr(body,
	    "redirect_uri=http%3A%2F%2F127.0.0.1%3A5555%2F"));

	/* Plain http to anything but loopback is refused before sending. */
	f->acct.token_endpoint = "http://example.com/token";
	assert_int_equal(oauth_refresh(&f->acct, "RT", NULL, &t, &err), -1);
	assert_int_equal(err.class, ERR_CONFIG);
	json_token_free(&t);
}

/* Everything at -v -v, with canaries: none may reach stderr. */
static void
test_debug_redacts(void **state)
{
	struct fixture *f = *state;
	struct server s;
	struct buf out;
	struct err err;
	char path[64], text[65536];
	FILE *fp;
	size_t n;
	int cached, saved;

	server_start(&s, "200 OK", "{\"access_token\":\"CANARY-ACCESS-7q\","
	    "\"expires_in\":3600,\"refresh_token\":\"CANARY-REFRESH-NEW-9z\","
	    "\"id_token\":\"CANARY-ID-3x\",\"token_type\":\"Bearer\"}");
	point(f, &s);
	seed(f, "{\"refresh_token\":\"CANARY-REFRESH-OLD-5k\"}");
	assert_int_equal(store_put(f->st, f->name, STORE_CLIENT_SECRET,
	    "CANARY-SECRET-1w", 16, &err), 0);
	snprintf(path, sizeof(path), "/tmp/om-test-stderr-%d", (int)getpid());
	fflush(stderr);
	saved = dup(2);
	fp = fopen(path, "w+");
	assert_non_null(fp);
	dup2(fileno(fp), 2);
	log_init(2, 0, "test");
	buf_init(&out, LIM_TOKEN, BUF_SECRET);
	assert_int_equal(token_get(&f->acct, f->st, 0, &out, &cached, &err), 0);
	log_init(0, 0, "test");
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	assert_string_equal(out.data, "CANARY-ACCESS-7q");
	assert_int_equal(server_stop(&s, NULL, 0), 1);
	rewind(fp);
	n = fread(text, 1, sizeof(text) - 1, fp);
	text[n] = '\0';
	fclose(fp);
	unlink(path);
	/* The exchange was logged ... */
	assert_non_null(strstr(text, "grant_type=refresh_token"));
	assert_non_null(strstr(text, "redacted"));
	/* ... and no secret. */
	if (strstr(text, "CANARY") != NULL)
		fail_msg("secret in debug output:\n%s", text);
	buf_free(&out);
}

/*
 * --- The sealed token copy ---------------------------------------------------
 */

static const unsigned char key1[SEAL_KEY_LEN] = "0123456789abcdef0123456789abcdef";
static const unsigned char key2[SEAL_KEY_LEN] = "0123456789abcdef0123456789abcdeF";

static void
test_seal_roundtrip(void **state)
{
	const char *rec = "{\"access_token\":\"AT\",\"refresh_token\":\"RT\"}";
	struct buf a, b, pt;
	struct err err;

	(void)state;
	buf_init(&a, SEAL_MAX_PLAIN + SEAL_OVERHEAD, 0);
	buf_init(&b, SEAL_MAX_PLAIN + SEAL_OVERHEAD, 0);
	buf_init(&pt, SEAL_MAX_PLAIN, BUF_SECRET);
	assert_int_equal(seal_encrypt(key1, "acct", rec, strlen(rec), &a, &err),
	    0);
	assert_int_equal(a.len, strlen(rec) + SEAL_OVERHEAD);
	assert_memory_equal(a.data, "OMS1", 4);
	/* No plaintext in the blob. */
	assert_null(memmem(a.data, a.len, "refresh_token", 13));
	/* A random nonce per write: the same record seals differently. */
	assert_int_equal(seal_encrypt(key1, "acct", rec, strlen(rec), &b, &err),
	    0);
	assert_int_not_equal(memcmp(a.data + 4, b.data + 4, SEAL_NONCE_LEN), 0);
	assert_int_not_equal(memcmp(a.data, b.data, a.len), 0);
	assert_int_equal(seal_decrypt(key1, "acct", a.data, a.len, &pt, &err),
	    0);
	assert_int_equal(pt.len, strlen(rec));
	assert_memory_equal(pt.data, rec, pt.len);
	assert_int_equal(seal_decrypt(key1, "acct", b.data, b.len, &pt, &err),
	    0);
	assert_memory_equal(pt.data, rec, pt.len);
	buf_free(&a);
	buf_free(&b);
	buf_free(&pt);
}

static void
test_seal_refuses(void **state)
{
	const char *rec = "{\"refresh_token\":\"RT-secret\"}";
	struct buf a, pt;
	struct err err;
	size_t i;

	(void)state;
	buf_init(&a, SEAL_MAX_PLAIN + SEAL_OVERHEAD, 0);
	buf_init(&pt, SEAL_MAX_PLAIN, BUF_SECRET);
	assert_int_equal(seal_encrypt(key1, "acct", rec, strlen(rec), &a, &err),
	    0);
	/* Wrong key, wrong account (AAD): refused, nothing returned. */
	assert_int_equal(seal_decrypt(key2, "acct", a.data, a.len, &pt, &err),
	    -1);
	assert_int_equal(err.class, ERR_DATA);
	assert_int_equal(pt.len, 0);
	assert_int_equal(seal_decrypt(key1, "acct2", a.data, a.len, &pt, &err),
	    -1);
	assert_int_equal(seal_decrypt(key1, "acc", a.data, a.len, &pt, &err),
	    -1);
	assert_int_equal(seal_decrypt(key1, "", a.data, a.len, &pt, &err), -1);
	/* Any flipped bit anywhere (magic, nonce, ciphertext, tag). */
	for (i = 0; i < a.len; i++) {
		a.data[i] ^= 0x01;
		assert_int_equal(seal_decrypt(key1, "acct", a.data, a.len, &pt,
		    &err), -1);
		assert_int_equal(pt.len, 0);
		a.data[i] ^= 0x01;
	}
	/* Truncated or extended. */
	for (i = 0; i < a.len; i++)
		assert_int_equal(seal_decrypt(key1, "acct", a.data, i, &pt,
		    &err), -1);
	assert_int_equal(buf_addc(&a, 0), 0);
	assert_int_equal(seal_decrypt(key1, "acct", a.data, a.len, &pt, &err),
	    -1);
	a.data[--a.len] = '\0';
	assert_int_equal(seal_decrypt(key1, "acct", a.data, a.len, &pt, &err),
	    0);
	/* Nothing to seal, or too much. */
	assert_int_equal(seal_encrypt(key1, "acct", "", 0, &a, &err), -1);
	buf_free(&a);
	buf_free(&pt);
}

static void
test_seal_key_parse(void **state)
{
	unsigned char k[SEAL_KEY_LEN];
	struct err err;
	char hex[66];
	size_t i;

	(void)state;
	assert_int_equal(seal_key_parse((const char *)key1, 32, k, &err), 0);
	assert_memory_equal(k, key1, 32);
	/* A raw key ending in a newline byte is taken as is. */
	assert_int_equal(seal_key_parse("0123456789abcdef0123456789abcde\n",
	    32, k, &err), 0);
	assert_int_equal(k[31], '\n');
	for (i = 0; i < 32; i++)
		(void)snprintf(hex + 2 * i, 3, "%02x", key1[i]);
	assert_int_equal(seal_key_parse(hex, 64, k, &err), 0);
	assert_memory_equal(k, key1, 32);
	hex[64] = '\n';
	hex[65] = '\0';
	assert_int_equal(seal_key_parse(hex, 65, k, &err), 0);
	assert_memory_equal(k, key1, 32);
	assert_int_equal(seal_key_parse(hex, 31, k, &err), -1);
	assert_int_equal(err.class, ERR_CONFIG);
	assert_non_null(strstr(err.msg, "--seal-key"));
	assert_int_equal(seal_key_parse(hex, 33, k, &err), -1);
	assert_int_equal(seal_key_parse(hex, 63, k, &err), -1);
	hex[5] = 'g';
	assert_int_equal(seal_key_parse(hex, 64, k, &err), -1);
	assert_int_equal(seal_key_parse("", 0, k, &err), -1);
}

static void
test_seal_file(void **state)
{
	struct fixture *f = *state;
	struct buf pt;
	struct err err;
	struct stat sb;
	char path[256];
	int dfd;

	buf_init(&pt, SEAL_MAX_PLAIN, BUF_SECRET);
	dfd = open(f->qdir, O_RDONLY | O_DIRECTORY);
	assert_true(dfd >= 0);
	assert_int_equal(seal_read(dfd, key1, "a", NULL, &pt, &err), 1);
	assert_int_equal(seal_write(dfd, key1, "a", NULL, "rec-1", 5, &err), 0);
	assert_int_equal(seal_write(dfd, key1, "a", NULL, "rec-22", 6, &err),
	    0);
	assert_int_equal(seal_read(dfd, key1, "a", NULL, &pt, &err), 0);
	assert_string_equal(pt.data, "rec-22");
	snprintf(path, sizeof(path), "%s/token-a.sealed", f->qdir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	/* Another account's file copied over this one's name: refused. */
	assert_int_equal(seal_write(dfd, key1, "b", NULL, "rec-b", 5, &err), 0);
	assert_int_equal(renameat(dfd, "token-b.sealed", dfd, "token-a.sealed"),
	    0);
	assert_int_equal(seal_read(dfd, key1, "a", NULL, &pt, &err), -1);
	assert_int_equal(err.class, ERR_DATA);
	/* A symlink is not followed. */
	assert_int_equal(unlinkat(dfd, "token-a.sealed", 0), 0);
	assert_int_equal(seal_write(dfd, key1, "c", NULL, "rec-c", 5, &err), 0);
	assert_int_equal(symlinkat("token-c.sealed", dfd, "token-a.sealed"), 0);
	assert_int_equal(seal_read(dfd, key1, "a", NULL, &pt, &err), -1);
	assert_int_equal(seal_remove(dfd, "a", &err), 0);
	assert_int_equal(seal_remove(dfd, "a", &err), 0);
	assert_int_equal(seal_read(dfd, key1, "a", NULL, &pt, &err), 1);
	assert_int_equal(seal_remove(dfd, "c", &err), 0);
	/* Bound to an identity: opens with that identity only. */
	assert_int_equal(seal_write(dfd, key1, "d", "user=u1", "rec-d", 5,
	    &err), 0);
	assert_int_equal(seal_read(dfd, key1, "d", "user=u1", &pt, &err), 0);
	assert_int_equal(pt.len, 5);
	assert_int_equal(seal_read(dfd, key1, "d", "user=u2", &pt, &err), -1);
	assert_int_equal(err.class, ERR_DATA);
	assert_int_equal(seal_read(dfd, key1, "d", NULL, &pt, &err), -1);
	assert_int_equal(seal_remove(dfd, "d", &err), 0);
	close(dfd);
	buf_free(&pt);
}

/*
 * Writes the token-key credential into a fresh directory and points
 * CREDENTIALS_DIRECTORY at it.
 */
static void
with_seal_key(char *dir, size_t size, const void *key, size_t keylen)
{
	char path[256];
	int fd;

	(void)strlcpy(dir, "/tmp/om-unit-cred.XXXXXX", size);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/token-key", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0400);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, key, keylen), (ssize_t)keylen);
	close(fd);
	assert_int_equal(setenv("CREDENTIALS_DIRECTORY", dir, 1), 0);
}

static void
no_seal_key(const char *dir)
{
	unsetenv("CREDENTIALS_DIRECTORY");
	rmtree(dir);
}

static void
get_is(struct store *st, const char *name, const char *want)
{
	struct buf b;
	struct err err;

	buf_init(&b, SEAL_MAX_PLAIN, BUF_SECRET);
	assert_int_equal(store_get(st, name, STORE_TOKEN, &b, &err), 0);
	assert_string_equal(b.data, want);
	buf_free(&b);
}

/* The kernel keyring key of a name-keyed token record (store.h). */
static const struct store_key *
name_key(const char *name)
{
	static struct store_key k;

	memset(&k, 0, sizeof(k));
	k.account = name;
	k.kind = STORE_TOKEN;
	k.client_id = k.endpoint = k.tenant = k.user = "";
	return &k;
}

static void
test_sealed_store(void **state)
{
	struct fixture *f = *state;
	struct store *st, *plain;
	struct buf b;
	struct err err;
	struct stat sb;
	char cred[64], path[256], c;
	const char *rec1 = "{\"refresh_token\":\"RT-1\"}";
	const char *rec2 = "{\"refresh_token\":\"RT-2\"}";
	int fd;

	buf_init(&b, SEAL_MAX_PLAIN, BUF_SECRET);
	assert_int_equal(store_kernel_backend.open(&err), 0);
	with_seal_key(cred, sizeof(cred), key1, SEAL_KEY_LEN);
	assert_int_equal(store_open_account(&f->acct, &st, &err), 0);
	assert_true(store_sealed(st));
	snprintf(path, sizeof(path), "%s/token-%s.sealed", f->qdir, f->name);

	/* A put writes the keyring and the sealed copy (0600). */
	assert_int_equal(store_put(st, f->name, STORE_TOKEN, rec1,
	    strlen(rec1), &err), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	/* "Reboot": the keyring forgets; a get restores from the copy... */
	assert_int_equal(store_kernel_backend.del(name_key(f->name), &err),
	    0);
	get_is(st, f->name, rec1);
	/* ...into the keyring. */
	assert_int_equal(store_kernel_backend.get(name_key(f->name), &b,
	    &err), 0);
	assert_string_equal(b.data, rec1);

	/* A record written to the keyring alone (a sign-in without the key)
	 * is sealed at the next get. */
	assert_int_equal(store_kernel_backend.put(name_key(f->name), rec2,
	    strlen(rec2), &err), 0);
	get_is(st, f->name, rec2);
	assert_int_equal(store_kernel_backend.del(name_key(f->name), &err),
	    0);
	get_is(st, f->name, rec2);

	/* An altered copy: refused, sign-in needed, nothing returned. */
	assert_int_equal(store_kernel_backend.del(name_key(f->name), &err),
	    0);
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &c, 1, 20), 1);
	c ^= 0x40;
	assert_int_equal(pwrite(fd, &c, 1, 20), 1);
	close(fd);
	assert_int_equal(store_get(st, f->name, STORE_TOKEN, &b, &err), -1);
	assert_int_equal(err.class, ERR_AUTH);
	assert_non_null(strstr(err.msg, "oauthmail login"));
	assert_int_equal(b.len, 0);

	/* Another key: refused too. */
	assert_int_equal(store_put(st, f->name, STORE_TOKEN, rec1,
	    strlen(rec1), &err), 0);
	store_close(st);
	no_seal_key(cred);
	with_seal_key(cred, sizeof(cred), key2, SEAL_KEY_LEN);
	assert_int_equal(store_open_account(&f->acct, &st, &err), 0);
	assert_int_equal(store_kernel_backend.del(name_key(f->name), &err),
	    0);
	assert_int_equal(store_get(st, f->name, STORE_TOKEN, &b, &err), -1);
	assert_int_equal(err.class, ERR_AUTH);
	store_close(st);

	/* A logout without the key still removes the sealed copy. */
	no_seal_key(cred);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(store_open_account(&f->acct, &plain, &err), 0);
	assert_false(store_sealed(plain));
	assert_int_equal(store_delete(plain, f->name, STORE_TOKEN, &err), 0);
	assert_int_equal(stat(path, &sb), -1);
	store_close(plain);

	/* A malformed key: the store does not open, the fix is named. */
	with_seal_key(cred, sizeof(cred), "short", 5);
	assert_int_equal(store_open_account(&f->acct, &st, &err), -1);
	assert_int_equal(err.class, ERR_CONFIG);
	assert_non_null(strstr(err.msg, "--seal-key"));
	no_seal_key(cred);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_roundtrip),
		cmocka_unit_test(test_record_rejects),
		cmocka_unit_test(test_margin),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_check_url),
		cmocka_unit_test(test_seal_roundtrip),
		cmocka_unit_test(test_seal_refuses),
		cmocka_unit_test(test_seal_key_parse),
		cmocka_unit_test_setup_teardown(test_seal_file, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sealed_store, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_store_kernel, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_get_cached, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_get_refresh_rotates, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_get_refresh_keeps_rt,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_force, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_get_invalid_grant, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_get_transient, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_get_no_record, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_get_client_credentials,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_mark_success, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_device_and_exchange, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_debug_redacts, setup,
		    teardown),
	};
	int rc;

	signal(SIGPIPE, SIG_IGN);
	rc = cmocka_run_group_tests_name("token", tests, NULL, NULL);
	http_cleanup();
	return rc;
}
