/*
 * remote.c — full bare mirrors of `url` repositories, refreshed only when a cheap listing shows a watched branch
 * moved; credentials presented per provider and given up after one rejection (libgit2 would ask forever); every
 * network step bounded by poll.timeout, since libgit2 1.5 has no network timeouts of its own.
 */
#include "remote.h"

#include <ctype.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

volatile int *remote_stop_flag;

/* Set by SIGALRM once the deadline of the current network step has passed. */
static volatile sig_atomic_t remote_alarm_fired;

/* Per-operation context handed to libgit2's callbacks. */
struct remote_ctx {
	const struct repo_config *rc;
	double deadline;          /* time_monotonic() past which callbacks cancel; 0: none */
	long timeout;
	int attempts;             /* credentials handed out */
	bool auth_failed;         /* the server rejected the credential we gave */
	bool timed_out;
	bool stopped;
	char *token;              /* read from token_file on first use; wiped and freed by remote_ctx_clear */
	char *url_user;           /* user:password of the configured URL, kept out of the mirror's config and */
	char *url_password;       /* handed to libgit2 only here; wiped and freed by remote_ctx_clear */
	char secret_error[512];   /* why a secret could not be read, or "" */
};

static const char *const remote_git_env[] = {
	"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES",
	"GIT_COMMON_DIR", "GIT_NAMESPACE", "GIT_CEILING_DIRECTORIES", "GIT_DISCOVERY_ACROSS_FILESYSTEM",
	"GIT_QUARANTINE_PATH", "GIT_CONFIG", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM", "GIT_CONFIG_NOSYSTEM",
	"GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT", "GIT_PREFIX", "GIT_REPLACE_REF_BASE", "GIT_GRAFT_FILE",
	"GIT_SHALLOW_FILE", "GIT_PUSH_OPTION_COUNT", NULL
};

void
remote_clear_git_env(void)
{
	for (size_t i = 0; remote_git_env[i] != NULL; i++)
		unsetenv(remote_git_env[i]);
}

char *
remote_mirror_path(const char *state_dir, const char *name)
{
	struct sbuf sb = SBUF_INIT;
	const char *p;

	sbuf_addf(&sb, "%s/mirrors/", state_dir);
	for (p = name; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			c == '-' || c == '_' || (c == '.' && p != name);

		if (plain)
			sbuf_add(&sb, p, 1);
		else
			sbuf_addf(&sb, "%%%02X", c);
	}
	sbuf_adds(&sb, ".git");
	return sbuf_detach(&sb);
}

/* The user:password part of a scheme://user:password@host/... URL: its bounds, or false when it has none. */
static bool
remote_url_userinfo(const char *url, const char **start, const char **end)
{
	const char *scheme, *at, *slash;

	if (url == NULL || (scheme = strstr(url, "://")) == NULL)
		return false;     /* scp-like user@host:path carries no secret */
	scheme += 3;
	slash = strchr(scheme, '/');
	at = strchr(scheme, '@');
	if (at == NULL || (slash != NULL && at > slash))
		return false;
	*start = scheme;
	*end = at;
	return true;
}

char *
remote_redact_url(const char *url)
{
	const char *start, *end;

	if (url == NULL)
		return xstrdup("");
	if (!remote_url_userinfo(url, &start, &end))
		return xstrdup(url);
	return xasprintf("%.*s%s", (int)(start - url), url, end + 1);
}

char *
remote_url_without_password(const char *url)
{
	const char *start, *end, *colon;

	if (!remote_url_userinfo(url, &start, &end))
		return xstrdup(url);
	colon = memchr(start, ':', (size_t)(end - start));
	if (colon == NULL)
		return xstrdup(url);
	return xasprintf("%.*s%s", (int)(colon - url), url, end);
}

/* Percent-decodes [s, e) (RFC 3986 userinfo). */
static char *
remote_percent_decode(const char *s, const char *e)
{
	struct sbuf sb = SBUF_INIT;
	char hex[3] = { 0, 0, 0 };

	for (; s < e; s++) {
		if (*s == '%' && e - s >= 3 && isxdigit((unsigned char)s[1]) && isxdigit((unsigned char)s[2])) {
			char c;

			hex[0] = s[1];
			hex[1] = s[2];
			c = (char)strtol(hex, NULL, 16);
			sbuf_add(&sb, &c, 1);
			s += 2;
		} else {
			sbuf_add(&sb, s, 1);
		}
	}
	return sbuf_detach(&sb);
}

int
remote_url_credentials(const char *url, char **user, char **password)
{
	const char *start, *end, *colon;

	*user = *password = NULL;
	if (!remote_url_userinfo(url, &start, &end))
		return 0;
	colon = memchr(start, ':', (size_t)(end - start));
	if (colon == NULL)
		return 0;
	*user = remote_percent_decode(start, colon);
	*password = remote_percent_decode(colon + 1, end);
	return 1;
}

static void
remote_on_alarm(int sig)
{
	(void)sig;
	remote_alarm_fired = 1;
}

/*
 * Arms SIGALRM at the deadline and every second after it. The handler is installed without SA_RESTART, so a
 * blocking connect() or recv() inside libgit2 fails with EINTR once the deadline is past; the callbacks catch the
 * rest. Ticks only start at the deadline, so a healthy transfer is never interrupted.
 */
static void
remote_deadline_arm(struct remote_ctx *ctx, struct sigaction *saved)
{
	struct sigaction sa;
	struct itimerval it;

	remote_alarm_fired = 0;
	ctx->deadline = ctx->timeout > 0 ? time_monotonic() + (double)ctx->timeout : 0;
	if (ctx->timeout <= 0)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = remote_on_alarm;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;
	sigaction(SIGALRM, &sa, saved);
	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = ctx->timeout;
	it.it_interval.tv_sec = 1;
	setitimer(ITIMER_REAL, &it, NULL);
}

static void
remote_deadline_disarm(struct remote_ctx *ctx, const struct sigaction *saved)
{
	struct itimerval it;

	if (ctx->timeout <= 0)
		return;
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	sigaction(SIGALRM, saved, NULL);
}

/* Non-zero when the operation must be cancelled; libgit2 then fails with the message set here. */
static int
remote_check(struct remote_ctx *ctx)
{
	if (remote_stop_flag != NULL && *remote_stop_flag) {
		ctx->stopped = true;
		git_error_set_str(GIT_ERROR_NET, "interrupted by a signal");
		return -1;
	}
	if (ctx->deadline > 0 && (remote_alarm_fired || time_monotonic() >= ctx->deadline)) {
		ctx->timed_out = true;
		git_error_set_str(GIT_ERROR_NET, "operation timed out");
		return -1;
	}
	return 0;
}

static int
remote_sideband_cb(const char *str, int len, void *payload)
{
	(void)str;
	(void)len;
	return remote_check(payload);
}

static int
remote_transfer_cb(const git_indexer_progress *stats, void *payload)
{
	(void)stats;
	return remote_check(payload);
}

static int
remote_ready_cb(git_remote *remote, int direction, void *payload)
{
	(void)remote;
	(void)direction;
	return remote_check(payload);
}

/* The user name under which a provider expects a token over HTTPS. */
static const char *
remote_token_user(const struct repo_config *rc, const char *user_from_url)
{
	switch (rc->provider) {
	case PROVIDER_GITHUB:
		return "x-access-token";
	case PROVIDER_GITLAB:
		return "oauth2";
	case PROVIDER_BITBUCKET:
		return "x-token-auth";
	case PROVIDER_AZURE:
		return rc->username != NULL ? rc->username : "bbgitops";
	case PROVIDER_GENERIC:
	case PROVIDER_NONE:
	default:
		break;
	}
	if (rc->username != NULL)
		return rc->username;
	if (user_from_url != NULL && *user_from_url != '\0')
		return user_from_url;
	return "git";
}

static int
remote_secret_failed(struct remote_ctx *ctx, const char *what, const struct error *e)
{
	snprintf(ctx->secret_error, sizeof(ctx->secret_error), "%s: %s", what, e->msg);
	git_error_set_str(GIT_ERROR_NET, ctx->secret_error);
	return GIT_EUSER;
}

static int
remote_credentials_cb(git_credential **out, const char *url, const char *user_from_url, unsigned int allowed,
	void *payload)
{
	struct remote_ctx *ctx = payload;
	const struct repo_config *rc = ctx->rc;
	struct error e = ERROR_INIT;
	char *passphrase = NULL, *pub;
	const char *user;
	int rv;

	(void)url;
	if (remote_check(ctx) != 0)
		return GIT_EUSER;
	/* SSH first asks for the user name alone when the URL has none: not an attempt at authenticating. */
	if (allowed == GIT_CREDENTIAL_USERNAME) {
		user = user_from_url != NULL && *user_from_url != '\0' ? user_from_url :
			(rc->username != NULL ? rc->username : "git");
		return git_credential_username_new(out, user);
	}
	/* libgit2 calls again after every rejection; giving the same credential again would loop forever. */
	if (ctx->attempts > 0) {
		ctx->auth_failed = true;
		git_error_set_str(GIT_ERROR_NET, "the server rejected the credentials");
		return GIT_EAUTH;
	}
	ctx->attempts++;

	if ((allowed & GIT_CREDENTIAL_SSH_KEY) && rc->ssh_key != NULL) {
		user = user_from_url != NULL && *user_from_url != '\0' ? user_from_url :
			(rc->username != NULL ? rc->username : "git");
		if (rc->ssh_passphrase_file != NULL && config_read_secret(rc->ssh_passphrase_file, &passphrase, &e) < 0)
			return remote_secret_failed(ctx, "ssh_passphrase_file", &e);
		/* libssh2 built with libgcrypt (Debian) cannot derive the public key: hand over KEY.pub when present. */
		pub = xasprintf("%s.pub", rc->ssh_key);
		rv = git_credential_ssh_key_new(out, user, access(pub, R_OK) == 0 ? pub : NULL, rc->ssh_key,
			passphrase);
		free(pub);
		if (passphrase != NULL) {
			explicit_bzero(passphrase, strlen(passphrase));
			free(passphrase);
		}
		return rv;
	}
	if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) && rc->token_file != NULL) {
		if (ctx->token == NULL && config_read_secret(rc->token_file, &ctx->token, &e) < 0)
			return remote_secret_failed(ctx, "token_file", &e);
		return git_credential_userpass_plaintext_new(out, remote_token_user(rc, user_from_url), ctx->token);
	}
	if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) &&
	    (ctx->url_password != NULL || remote_url_credentials(rc->url, &ctx->url_user, &ctx->url_password)))
		return git_credential_userpass_plaintext_new(out, ctx->url_user, ctx->url_password);
	ctx->auth_failed = true;
	git_error_set_str(GIT_ERROR_NET, "the server asks for credentials and none fit (token_file or ssh_key)");
	return GIT_EAUTH;
}

static void
remote_callbacks_init(git_remote_callbacks *cb, struct remote_ctx *ctx)
{
	git_remote_init_callbacks(cb, GIT_REMOTE_CALLBACKS_VERSION);
	cb->credentials = remote_credentials_cb;
	cb->sideband_progress = remote_sideband_cb;
	cb->transfer_progress = remote_transfer_cb;
	cb->remote_ready = remote_ready_cb;
	cb->payload = ctx;
}

static void
remote_wipe(char **secret)
{
	if (*secret != NULL) {
		explicit_bzero(*secret, strlen(*secret));
		free(*secret);
		*secret = NULL;
	}
}

static void
remote_ctx_clear(struct remote_ctx *ctx)
{
	remote_wipe(&ctx->token);
	remote_wipe(&ctx->url_user);
	remote_wipe(&ctx->url_password);
}

/* "NAME: WHAT URL: reason (libgit2's message)". Returns -1. */
static int
remote_fail(struct error *err, struct remote_ctx *ctx, const char *what)
{
	const git_error *ge = git_error_last();
	const char *lib = ge != NULL && ge->message != NULL ? ge->message : "unknown libgit2 error";
	char *url = remote_redact_url(ctx->rc->url);
	int rv;

	if (ctx->stopped)
		rv = error_set(err, true, "%s: %s %s: interrupted", ctx->rc->name, what, url);
	else if (ctx->timed_out || remote_alarm_fired)
		rv = error_set(err, true, "%s: %s %s: timed out after %ld s (%s)", ctx->rc->name, what, url,
			ctx->timeout, lib);
	else if (ctx->secret_error[0] != '\0')
		rv = error_set(err, false, "%s: %s %s: %s", ctx->rc->name, what, url, ctx->secret_error);
	else if (ctx->auth_failed)
		rv = error_set(err, false, "%s: %s %s: authentication failed (%s)", ctx->rc->name, what, url, lib);
	else
		rv = error_set(err, true, "%s: %s %s: %s", ctx->rc->name, what, url, lib);
	free(url);
	return rv;
}

static int remote_git_error(struct error *err, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
remote_git_error(struct error *err, const char *name, const char *fmt, ...)
{
	const git_error *ge = git_error_last();
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return error_set(err, false, "%s: %s: %s", name, what,
		ge != NULL && ge->message != NULL ? ge->message : "unknown libgit2 error");
}

static int
remote_rmtree_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

int
remote_rmtree(const char *path)
{
	return nftw(path, remote_rmtree_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* Creates the mirror in a temporary directory renamed into place, so a crash never leaves a half-made mirror. */
static int
remote_create_mirror(const char *path, const struct repo_config *rc, struct error *err)
{
	git_repository_init_options opts;
	git_repository *repo = NULL;
	git_remote *remote = NULL;
	char *tmp = xasprintf("%s.tmp-%ld", path, (long)getpid());
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	char *url = remote_url_without_password(rc->url);   /* the password never lands in the mirror's config */
	int rv = -1;

	git_repository_init_options_init(&opts, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	if (slash != NULL) {
		*slash = '\0';
		if (mkdir(dir, 02770) < 0 && errno != EEXIST) {
			error_set(err, false, "%s: cannot create %s: %s", rc->name, dir, strerror(errno));
			goto out;
		}
	}
	opts.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH | GIT_REPOSITORY_INIT_NO_REINIT;
	opts.mode = GIT_REPOSITORY_INIT_SHARED_GROUP;
	if (git_repository_init_ext(&repo, tmp, &opts) < 0) {
		remote_git_error(err, rc->name, "cannot create the mirror %s", tmp);
		goto out;
	}
	if (git_remote_create_with_fetchspec(&remote, repo, "origin", url, "+refs/heads/*:refs/heads/*") < 0) {
		remote_git_error(err, rc->name, "cannot configure the mirror %s", tmp);
		goto out;
	}
	if (git_remote_set_autotag(repo, "origin", GIT_REMOTE_DOWNLOAD_TAGS_NONE) < 0) {
		remote_git_error(err, rc->name, "cannot configure the mirror %s", tmp);
		goto out;
	}
	if (rename(tmp, path) < 0) {
		error_set(err, false, "%s: cannot rename %s to %s: %s", rc->name, tmp, path, strerror(errno));
		goto out;
	}
	rv = 0;
out:
	git_remote_free(remote);
	git_repository_free(repo);
	if (rv < 0 && access(tmp, F_OK) == 0)
		remote_rmtree(tmp);   /* best effort: no temporary mirror left behind */
	free(url);
	free(dir);
	free(tmp);
	return rv;
}

int
remote_open_mirror(const char *state_dir, const struct repo_config *rc, git_repository **out, bool *exists,
	struct error *err)
{
	char *path = remote_mirror_path(state_dir, rc->name);
	git_repository *repo = NULL;
	int rv = -1;

	*out = NULL;
	if (access(path, F_OK) < 0) {
		*exists = false;
		rv = 0;
		goto out;
	}
	if (git_repository_open_ext(&repo, path, GIT_REPOSITORY_OPEN_NO_SEARCH | GIT_REPOSITORY_OPEN_BARE,
		NULL) < 0) {
		remote_git_error(err, rc->name, "cannot open the mirror %s", path);
		goto out;
	}
	*exists = true;
	*out = repo;
	rv = 0;
out:
	free(path);
	return rv;
}

/*
 * The "origin" remote of the mirror, its URL brought in line with the configuration (without any password: an
 * older mirror that stored one is rewritten).
 */
static int
remote_lookup_origin(git_repository *mirror, const struct repo_config *rc, git_remote **out, struct error *err)
{
	git_remote *remote = NULL;
	char *url = remote_url_without_password(rc->url);
	int rv = -1;

	if (git_remote_lookup(&remote, mirror, "origin") < 0) {
		remote_git_error(err, rc->name, "mirror has no remote %s", "origin");
		goto out;
	}
	if (git_remote_url(remote) == NULL || strcmp(git_remote_url(remote), url) != 0) {
		git_remote_free(remote);
		remote = NULL;
		if (git_remote_set_url(mirror, "origin", url) < 0 || git_remote_lookup(&remote, mirror, "origin") < 0) {
			remote_git_error(err, rc->name, "cannot update the mirror's %s URL", "origin");
			goto out;
		}
		log_info("%s: remote URL changed; mirror follows the configuration", rc->name);
	}
	*out = remote;
	remote = NULL;
	rv = 0;
out:
	git_remote_free(remote);
	free(url);
	return rv;
}

/* Watched branches that differ between the remote's listing and the mirror (new, moved or deleted). */
static size_t
remote_count_moved(git_repository *mirror, const struct repo_config *rc, const git_remote_head **heads,
	size_t n_heads)
{
	git_reference_iterator *it = NULL;
	const char *name;
	size_t moved = 0;

	for (size_t i = 0; i < n_heads; i++) {
		git_oid local;

		if (!str_starts_with(heads[i]->name, "refs/heads/") ||
			!config_branch_matches(rc, heads[i]->name + strlen("refs/heads/")))
			continue;
		if (git_reference_name_to_id(&local, mirror, heads[i]->name) < 0 ||
			!git_oid_equal(&local, &heads[i]->oid)) {
			log_debug("%s: %s moved", rc->name, heads[i]->name);
			moved++;
		}
	}
	if (git_reference_iterator_glob_new(&it, mirror, "refs/heads/*") < 0)
		return moved + 1;   /* cannot tell: fetch */
	while (git_reference_next_name(&name, it) == 0) {
		bool found = false;

		if (!config_branch_matches(rc, name + strlen("refs/heads/")))
			continue;
		for (size_t i = 0; i < n_heads && !found; i++)
			found = strcmp(heads[i]->name, name) == 0;
		if (!found) {
			log_debug("%s: %s deleted", rc->name, name);
			moved++;
		}
	}
	git_reference_iterator_free(it);
	return moved;
}

int
remote_update(const char *state_dir, const struct repo_config *rc, long timeout, git_repository **out,
	struct remote_update_result *res, struct error *err)
{
	struct remote_ctx ctx = { .rc = rc, .timeout = timeout };
	git_fetch_options fopts;
	git_remote_callbacks cb;
	git_repository *mirror = NULL;
	git_remote *remote = NULL;
	const git_remote_head **heads = NULL;
	struct sigaction saved;
	char *path = remote_mirror_path(state_dir, rc->name);
	size_t n_heads = 0;
	bool exists = false, armed = false;
	int rv = -1;

	git_fetch_options_init(&fopts, GIT_FETCH_OPTIONS_VERSION);
	memset(res, 0, sizeof(*res));
	memset(&saved, 0, sizeof(saved));
	if (rc->url == NULL) {
		error_set(err, false, "%s: not a remote repository", rc->name);
		goto out;
	}
	if (remote_open_mirror(state_dir, rc, &mirror, &exists, err) < 0)
		goto out;
	if (!exists) {
		if (remote_create_mirror(path, rc, err) < 0)
			goto out;
		res->created = true;
		if (remote_open_mirror(state_dir, rc, &mirror, &exists, err) < 0)
			goto out;
	}
	if (remote_lookup_origin(mirror, rc, &remote, err) < 0)
		goto out;

	remote_callbacks_init(&cb, &ctx);
	remote_deadline_arm(&ctx, &saved);
	armed = true;
	if (git_remote_connect(remote, GIT_DIRECTION_FETCH, &cb, NULL, NULL) < 0) {
		remote_fail(err, &ctx, "listing");
		goto out;
	}
	if (git_remote_ls(&heads, &n_heads, remote) < 0) {
		remote_fail(err, &ctx, "listing");
		goto out;
	}
	res->moved = remote_count_moved(mirror, rc, heads, n_heads);
	if (res->moved == 0) {
		log_debug("%s: no watched branch moved; not fetching", rc->name);
		rv = 0;
		goto out;
	}
	/* Same connection: the listing is reused, only the pack negotiation follows. */
	fopts.callbacks = cb;
	fopts.prune = GIT_FETCH_PRUNE;
	fopts.update_fetchhead = 0;
	fopts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	if (git_remote_download(remote, NULL, &fopts) < 0) {
		remote_fail(err, &ctx, "fetching");
		goto out;
	}
	if (git_remote_update_tips(remote, &cb, 0, GIT_REMOTE_DOWNLOAD_TAGS_NONE, "bbgitops: fetch") < 0) {
		remote_fail(err, &ctx, "updating the mirror of");
		goto out;
	}
	if (git_remote_prune(remote, &cb) < 0) {
		remote_fail(err, &ctx, "pruning the mirror of");
		goto out;
	}
	res->fetched = true;
	rv = 0;
out:
	if (remote != NULL) {
		git_remote_disconnect(remote);
		git_remote_free(remote);
	}
	if (armed)
		remote_deadline_disarm(&ctx, &saved);
	remote_ctx_clear(&ctx);
	if (rv == 0)
		*out = mirror;
	else
		git_repository_free(mirror);
	free(path);
	return rv;
}

int
remote_pin_cursor(git_repository *mirror, const char *branch, const git_oid *id, struct error *err)
{
	git_reference *ref = NULL;
	char *name = xasprintf(REMOTE_CURSOR_REFS "%s", branch);
	int rv = 0;

	if (id != NULL) {
		if (git_reference_create(&ref, mirror, name, id, 1, "bbgitops: cursor") < 0)
			rv = remote_git_error(err, branch, "cannot pin the cursor as %s", name);
	} else if (git_reference_lookup(&ref, mirror, name) == 0) {
		if (git_reference_delete(ref) < 0)
			rv = remote_git_error(err, branch, "cannot drop the cursor pin %s", name);
	}
	git_reference_free(ref);
	free(name);
	return rv;
}
