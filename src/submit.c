/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * submit.c -- one submission path for the command line, -bs and the
 * maildrop; see submit.h.
 */
#include "common.h"

#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "api.h"
#include "buf.h"
#include "log.h"
#include "runq.h"
#include "submit.h"
#include "util.h"
#include "xmalloc.h"

void
submit_bs_invocation(struct invocation *out, const struct invocation *inv,
    const char *sender, char **rcpts, size_t nrcpts, int body8bit,
    int smtputf8)
{
	*out = *inv;
	/* MAIL FROM:<> is the null sender, unless -f says otherwise */
	if (sender != NULL && (sender[0] != '\0' || inv->sender == NULL))
		out->sender = sender;
	out->rcpts = rcpts;
	out->nrcpts = nrcpts;
	out->ignore_dots = 1;
	out->extract = 0;
	if (body8bit)
		out->body = BODY_8BITMIME;
	if (smtputf8)
		out->smtputf8 = 1;
}

void
submit_size_limit(const struct account *acct, const struct sizecache *sys,
    struct size_limit *lim)
{
	struct sizecache c = { NULL, 0 };

	if (sys != NULL) {
		sizecache_limit(acct, sys, lim);
		return;
	}
	sizecache_load_user(acct, &c);
	sizecache_limit(acct, &c, lim);
	sizecache_free(&c);
}

void
submit_size_limit_of(const struct config *cf, const struct account *acct,
    struct size_limit *lim)
{
	struct sizecache c = { NULL, 0 };

	if (!cf->system_mode) {
		submit_size_limit(acct, NULL, lim);
		return;
	}
	sysq_sizes_load(cf, &c);
	sizecache_limit(acct, &c, lim);
	sizecache_free(&c);
}

void
submit_intake_opts(struct intake_opts *io, const struct invocation *inv,
    const struct account *acct, const struct aliases *al,
    const struct size_limit *lim)
{
	memset(io, 0, sizeof(*io));
	io->ignore_dots = inv->ignore_dots;
	io->extract = inv->extract;
	io->fullname = inv->fullname;
	io->from_addr = acct->from;
	io->aliases = al;
	io->rcpts = inv->rcpts;
	io->nrcpts = inv->nrcpts;
	io->max_size = (off_t)lim->bytes;
	io->size_cure = lim->why;
}

void
submit_envelope(struct envelope *env, const struct invocation *inv,
    const struct account *acct)
{
	const char *sender = conf_pick_sender(acct, inv->sender);

	free(env->account);
	env->account = xstrdup(acct->name);
	free(env->sender);
	env->sender = xstrdup(sender);
	if (!util_is_ascii(sender, strlen(sender)) || inv->smtputf8 > 0)
		env->smtputf8 = 1;
	if (inv->body == BODY_8BITMIME)
		env->body8bit = 1;
	if (inv->dsn_notify != NULL)
		env->dsn_notify = xstrdup(inv->dsn_notify);
	if (inv->dsn_ret != NULL)
		env->dsn_ret = xstrdup(inv->dsn_ret);
	if (inv->envid != NULL)
		env->envid = xstrdup(inv->envid);
	env->created = env->next_try = time(NULL);
	env->state = ENV_QUEUED;
}

int
submit_spool(struct queue *q, const struct invocation *inv,
    const struct account *acct, const struct aliases *al, FILE *in,
    char **idp, struct err *err)
{
	struct sizecache sizes = { NULL, 0 };
	struct size_limit lim;
	struct intake_opts io;
	struct envelope env;
	int fd, rc = -1;

	*idp = NULL;
	envelope_init(&env);
	/* The record is in the queue directory (sizecache.h). */
	sizecache_load(q->dirfd, SIZECACHE_USER_NAME, geteuid(), &sizes);
	sizecache_limit(acct, &sizes, &lim);
	sizecache_free(&sizes);
	if (queue_create(q, &env, &fd, err) == -1)
		goto out;
	submit_intake_opts(&io, inv, acct, al, &lim);
	if (intake_read(in, fd, &io, &env, err) == -1) {
		queue_abort(q, &env, fd);
		goto out;
	}
	submit_envelope(&env, inv, acct);
	/* refused now rather than at every delivery attempt */
	if (api_rcpts_check(acct, env.nrcpts, err) == -1) {
		queue_abort(q, &env, fd);
		goto out;
	}
	if (!addr_smtp_ok(env.sender)) {
		queue_abort(q, &env, fd);
		err_set(err, ERR_DATA, "invalid envelope sender '%.100s': "
		    "SMTP cannot carry it; give -f a plain address "
		    "(user@example.com)", env.sender);
		goto out;
	}
	if (queue_commit(q, &env, fd, err) == -1)
		goto out;
	*idp = xstrdup(env.id);
	rc = 0;
out:
	envelope_free(&env);
	return rc;
}

enum inv_delivery
submit_delivery_mode(const struct invocation *inv, const struct account *acct)
{
	if (inv->delivery != DELIV_DEFAULT)
		return inv->delivery;
	switch (acct->delivery) {
	case CONF_DELIV_QUEUE:
		return DELIV_QUEUE;
	case CONF_DELIV_BACKGROUND:
		return DELIV_BACKGROUND;
	case CONF_DELIV_FOREGROUND:
		break;
	}
	return DELIV_FOREGROUND;
}

/*
 * The server works again: deliver what waits in the queue (due entries,
 * bounces just created, held entries), as a later run would.
 */
static void
flush_after_send(const struct config *cf, struct queue *q)
{
	struct err err;
	char **ids = NULL;
	size_t n = 0, nheld = 0;

	err_clear(&err);
	if (runq_select(q, QSEL_ALL, NULL, 1, time(NULL), &ids, &n, &err) == -1)
		return;
	queue_free_ids(ids, n);
	if (runq_select_held(q, QSEL_ALL, NULL, &ids, &nheld, &err) == -1)
		return;
	queue_free_ids(ids, nheld);
	if (n + nheld > 0 && runq_flush(cf, q, QSEL_ALL, NULL, 0, &err) == -1)
		log_info("queue run: %s", err.msg);
}

/* The child of a background delivery: off the caller's terminal and pipes. */
static OM_DEAD void
deliver_in_child(const struct config *cf, const struct account *acct,
    struct queue *q, const char *id)
{
	struct err err;
	char *ids[1];
	int fd;

	(void)setsid();
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		(void)dup2(fd, STDIN_FILENO);
		(void)dup2(fd, STDOUT_FILENO);
		(void)dup2(fd, STDERR_FILENO);
		if (fd > 2)
			(void)close(fd);
	}
	err_clear(&err);
	ids[0] = xstrdup(id);
	(void)deliver_entries(cf, acct, q, ids, 1, &err);
	_exit(0);
}

enum submit_done
submit_deliver(const struct config *cf, const struct account *acct,
    struct queue *q, const char *id, enum inv_delivery mode,
    enum deliver_outcome *outp, struct err *why)
{
	struct err err;
	char *ids[1];
	pid_t pid;

	*outp = DOUT_DEFERRED;
	err_clear(why);
	if (mode == DELIV_QUEUE) {
		log_info("%s: queued", id);
		return SUBMIT_QUEUED;
	}
	if (mode == DELIV_BACKGROUND) {
		/* Nothing buffered may be written twice. */
		(void)fflush(stdout);
		(void)fflush(stderr);
		if ((pid = fork()) == -1) {
			log_warn("fork; %s stays queued", id);
			return SUBMIT_QUEUED;
		}
		if (pid == 0)
			deliver_in_child(cf, acct, q, id);
		return SUBMIT_BACKGROUND;
	}
	err_clear(&err);
	ids[0] = xstrdup(id);
	/*
	 * The caller learns of a refusal of the whole message at once (exit
	 * status, SMTP reply); a DSN goes out only for recipients refused
	 * while others got the message.
	 */
	if (deliver_entries_ex(cf, acct, q, ids, 1, DELIVER_BOUNCE_PARTIAL,
	    outp, why, &err) == 0)
		*outp = DOUT_SENT;
	free(ids[0]);
	if (*outp == DOUT_SENT || *outp == DOUT_PARTIAL)
		flush_after_send(cf, q);
	return SUBMIT_TRIED;
}

int
submit_exitcode(enum deliver_outcome out, const struct err *why)
{
	switch (out) {
	case DOUT_SENT:
	case DOUT_PARTIAL:
	case DOUT_DEFERRED:
	case DOUT_HELD:
	case DOUT_SKIPPED:
		return EX_OK;
	case DOUT_FAILED:
		break;
	}
	return err_refusal_exitcode(why);
}

/* ------------------------------------------------------ system mode --- */

int
submit_drop_create(const struct config *cf, gid_t spool_gid,
    struct sysq_drop *d, struct err *err)
{
	d->dirfd = d->fd = -1;
	d->name[0] = '\0';
	d->sizes.v = NULL;
	d->sizes.n = 0;
	if (spool_gid != (gid_t)-1 &&
	    setresgid((gid_t)-1, spool_gid, (gid_t)-1) == -1)
		return err_set(err, ERR_TEMP, "setresgid: %s",
		    strerror(errno));
	return sysq_drop_create(cf, spool_gid, d, err);
}

/* The helper's answer to one request; the descriptors travel beside it. */
struct drop_reply {
	int	 ok;
	int	 class;
	char	 name[QUEUE_ID_LEN + 1];
	char	 msg[sizeof(((struct err *)0)->msg)];
};

/* Sends r, with the drop file's descriptors when it is a success. */
static int
send_reply(int sock, const struct drop_reply *r, const struct sysq_drop *d)
{
	union {
		struct cmsghdr	 hdr;
		char		 buf[CMSG_SPACE(2 * sizeof(int))];
	} cm;
	struct msghdr mh;
	struct iovec iov;
	int fds[2];
	ssize_t n;

	memset(&mh, 0, sizeof(mh));
	memset(&cm, 0, sizeof(cm));
	iov.iov_base = (void *)r;
	iov.iov_len = sizeof(*r);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (r->ok) {
		fds[0] = d->fd;
		fds[1] = d->dirfd;
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof(cm.buf);
		cm.hdr.cmsg_level = SOL_SOCKET;
		cm.hdr.cmsg_type = SCM_RIGHTS;
		cm.hdr.cmsg_len = CMSG_LEN(sizeof(fds));
		memcpy(CMSG_DATA(&cm.hdr), fds, sizeof(fds));
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	return n == (ssize_t)sizeof(*r) ? 0 : -1;
}

/*
 * The helper's first message: the maildrop's size record, which only the
 * spool group may read (a comment line when there is none).
 */
static void
send_sizes(const struct config *cf, gid_t spool_gid, gid_t rgid, int sock)
{
	struct sizecache c = { NULL, 0 };
	struct buf b;

	if (setresgid((gid_t)-1, spool_gid, (gid_t)-1) == 0) {
		sysq_sizes_load(cf, &c);
		if (setresgid((gid_t)-1, rgid, (gid_t)-1) == -1)
			_exit(EX_OSERR);
	}
	sizecache_format(&c, &b);
	(void)send(sock, b.data, b.len, MSG_NOSIGNAL);
	buf_free(&b);
	sizecache_free(&c);
}

/* The session's side: the record the helper sends first. */
static void
recv_sizes(int sock, struct sizecache *c)
{
	char *text = xmalloc(SIZECACHE_MAX_BYTES);
	ssize_t n;

	do
		n = recv(sock, text, SIZECACHE_MAX_BYTES, 0);
	while (n == -1 && errno == EINTR);
	if (n > 0)
		sizecache_parse(text, (size_t)n, c);
	free(text);
}

/*
 * The helper: holds the spool group as its saved gid, reads one-byte
 * requests, answers each with a new drop file. Ends at end of input.
 */
static OM_DEAD void
dropper_loop(const struct config *cf, gid_t spool_gid, int sock)
{
	struct drop_reply r;
	struct sysq_drop d;
	struct err err;
	gid_t rgid = getgid();
	ssize_t n;
	char c;
	int fd;

	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		(void)dup2(fd, STDIN_FILENO);
		(void)dup2(fd, STDOUT_FILENO);
		if (fd > 2)
			(void)close(fd);
	}
	send_sizes(cf, spool_gid, rgid, sock);
	for (;;) {
		n = read(sock, &c, 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n != 1)
			_exit(0);
		memset(&r, 0, sizeof(r));
		err_clear(&err);
		r.ok = submit_drop_create(cf, spool_gid, &d, &err) == 0;
		if (setresgid((gid_t)-1, rgid, (gid_t)-1) == -1)
			_exit(EX_OSERR);
		r.class = err.class;
		(void)strlcpy(r.name, d.name, sizeof(r.name));
		(void)strlcpy(r.msg, err.msg, sizeof(r.msg));
		if (send_reply(sock, &r, &d) == -1)
			_exit(0);
		if (d.fd != -1)
			(void)close(d.fd);
		if (d.dirfd != -1)
			(void)close(d.dirfd);
		sizecache_free(&d.sizes);
	}
}

int
submit_dropper_start(struct submit_dropper *dr, const struct config *cf,
    gid_t spool_gid, struct err *err)
{
	int sv[2];

	dr->cf = cf;
	dr->pid = 0;
	dr->sock = -1;
	dr->sizes.v = NULL;
	dr->sizes.n = 0;
	if (spool_gid == (gid_t)-1) {
		sysq_sizes_load(cf, &dr->sizes);
		return 0;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		return err_set(err, ERR_OS, "socketpair: %s", strerror(errno));
	(void)fflush(stdout);
	(void)fflush(stderr);
	if ((dr->pid = fork()) == -1) {
		(void)close(sv[0]);
		(void)close(sv[1]);
		return err_set(err, ERR_OS, "fork: %s", strerror(errno));
	}
	if (dr->pid == 0) {
		(void)close(sv[0]);
		dropper_loop(cf, spool_gid, sv[1]);
	}
	(void)close(sv[1]);
	dr->sock = sv[0];
	recv_sizes(dr->sock, &dr->sizes);
	return 0;
}

/* Receives the helper's answer; the descriptors go to d. */
static int
recv_reply(int sock, struct drop_reply *r, struct sysq_drop *d)
{
	union {
		struct cmsghdr	 hdr;
		char		 buf[CMSG_SPACE(2 * sizeof(int))];
	} cm;
	struct cmsghdr *c;
	struct msghdr mh;
	struct iovec iov;
	int fds[2];
	ssize_t n;

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = r;
	iov.iov_len = sizeof(*r);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n == -1 && errno == EINTR);
	if (n != (ssize_t)sizeof(*r))
		return -1;
	c = CMSG_FIRSTHDR(&mh);
	if (c != NULL && c->cmsg_level == SOL_SOCKET &&
	    c->cmsg_type == SCM_RIGHTS &&
	    c->cmsg_len == CMSG_LEN(sizeof(fds))) {
		memcpy(fds, CMSG_DATA(c), sizeof(fds));
		d->fd = fds[0];
		d->dirfd = fds[1];
	}
	r->name[sizeof(r->name) - 1] = '\0';
	r->msg[sizeof(r->msg) - 1] = '\0';
	if ((mh.msg_flags & MSG_CTRUNC) || (r->ok && d->fd == -1))
		return -1;
	return 0;
}

int
submit_dropper_create(struct submit_dropper *dr, struct sysq_drop *d,
    struct err *err)
{
	struct drop_reply r;
	ssize_t n;

	d->fd = d->dirfd = -1;
	d->name[0] = '\0';
	d->sizes.v = NULL;
	d->sizes.n = 0;
	if (dr->sock == -1)
		return sysq_drop_create(dr->cf, (gid_t)-1, d, err);
	do
		n = send(dr->sock, "c", 1, MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	if (n != 1 || recv_reply(dr->sock, &r, d) == -1) {
		sysq_drop_abort(d);
		return err_set(err, ERR_TEMP, "the maildrop helper process "
		    "did not answer; the message was not accepted, try again "
		    "later");
	}
	if (!r.ok) {
		sysq_drop_abort(d);
		return err_set(err, r.class > ERR_NONE && r.class <=
		    ERR_INTERNAL ? (enum err_class)r.class : ERR_TEMP, "%s",
		    r.msg);
	}
	(void)strlcpy(d->name, r.name, sizeof(d->name));
	sizecache_copy(&d->sizes, &dr->sizes);
	return 0;
}

void
submit_dropper_stop(struct submit_dropper *dr)
{
	sizecache_free(&dr->sizes);
	if (dr->sock != -1)
		(void)close(dr->sock);
	dr->sock = -1;
	if (dr->pid > 0)
		while (waitpid(dr->pid, NULL, 0) == -1 && errno == EINTR)
			;
	dr->pid = 0;
}
