/*
 * config.h — the parsed configuration (libconfig) and its validation.
 * config_load reads and checks the whole file, collecting every problem as "FILE:LINE: message" before failing once.
 * Secrets (service key, tokens, SSH passphrases) are read only on demand with config_read_secret, which refuses a
 * file that group or others can read (checked with fstat on the opened descriptor).
 */
#ifndef BBGITOPS_CONFIG_H
#define BBGITOPS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "util.h"

enum group_by { GROUP_BY_COMMIT, GROUP_BY_FILE };
enum start_mode { START_TIP, START_ALL };
enum hook_deliver { HOOK_DELIVER_BACKGROUND, HOOK_DELIVER_INLINE, HOOK_DELIVER_NONE };
/* A push handed to `poll --daemon`: the hook waits for it to be queued, or returns once the daemon has taken it. */
enum hook_handoff { HOOK_HANDOFF_WAIT, HOOK_HANDOFF_DETACH };
/* auto: read the server's version; 2 / 3: the 2.17 / 3.14+ flow; RELEASE: the flow of api_release ("3.8"). */
enum bytebase_api { BYTEBASE_API_AUTO, BYTEBASE_API_2, BYTEBASE_API_3, BYTEBASE_API_RELEASE };
enum provider { PROVIDER_NONE, PROVIDER_GITHUB, PROVIDER_GITLAB, PROVIDER_BITBUCKET, PROVIDER_AZURE,
	PROVIDER_GENERIC, PROVIDER_GITEA };

struct repo_config {
	char *name;
	char *path;               /* local repository (absolute, as written), or NULL */
	char *url;                /* remote repository, or NULL; with path: only names it at its provider */
	enum provider provider;   /* with url: how token_file is presented over HTTPS */
	char *token_file;
	char *username;           /* provider "generic" */
	char *api_url;            /* provider API base override, or NULL (derived from url) */
	bool comment;             /* comment on the merged pull request (default: where a token is set) */
	long comment_wait;        /* seconds to keep looking for the merged pull request before the commit fallback */
	char *ssh_key;
	char *ssh_passphrase_file;
	char *branch;             /* exact name or fnmatch(FNM_PATHNAME) glob */
	char *base_directory;     /* normalized: no leading/trailing '/', "" = repository root */
	char *project;            /* Bytebase project id */
	char *database_group;     /* or NULL */
	char **databases;         /* NULL-terminated list, or NULL */
	size_t n_databases;
	char *engine;             /* sheet engine override, or NULL */
	enum group_by group_by;
	enum start_mode start;
	char *title_template;     /* placeholders: {subject} {repository} {branch} {commit} {short} */
	int line;                 /* line of the entry in the config file */
};

struct bytebase_config {
	char *url;                /* without trailing '/' */
	char *service_account;
	char *service_key;        /* inline key (config file must then be private), or NULL */
	char *service_key_file;   /* or NULL */
	long timeout;             /* seconds per request */
	enum bytebase_api api;
	char *api_release;        /* "3.8" when api is BYTEBASE_API_RELEASE, else NULL */
	char *ca_file;            /* or NULL */
};

/*
 * Default max_migration_size: 16 MiB. Bytebase keeps a statement in one sheet and echoes it (base64, a third
 * larger) in its replies; the client sizes its reply cap from what it sent, so the limit is about the server and
 * the state database, not the client.
 */
#define CONFIG_MAX_MIGRATION_SIZE (16L * 1024 * 1024)

/* The `state` section: shared state in PostgreSQL (design §5). Absent: SQLite in state_dir. */
struct state_config {
	char *url;                /* a libpq connection URI (postgresql://...) */
	char *password_file;      /* a private file holding the password, or NULL */
	long connect_timeout;     /* seconds */
};

struct config {
	char *file;
	char *state_dir;
	struct state_config *state;         /* NULL: SQLite in state_dir */
	struct bytebase_config *bytebase;   /* NULL: issues stay in the local store */
	enum hook_deliver hook_deliver;
	enum hook_handoff hook_handoff;
	long poll_interval;
	long poll_jitter;
	long poll_timeout;
	long max_migration_size;            /* bytes; a larger migration file is refused (pre-receive) or failed */
	char *poll_metrics_file;   /* written after every poll cycle (Prometheus textfile), or NULL */
	struct repo_config *repos;
	size_t n_repos;
	struct strlist warnings;   /* "FILE:LINE: warning: ..." for check-config: accepted, but worth fixing */
};

/* -c FILE, else $BBGITOPS_CONFIG, else SYSCONFDIR/bbgitops.conf. */
const char *config_default_path(const char *from_command_line);

/*
 * Parses and validates FILE. On success returns 0 and *out (free with config_free).
 * On failure returns -1, *out untouched, and every problem appended to errors as "FILE:LINE: message"
 * (or "FILE: message" when no line applies).
 */
int config_load(const char *file, struct config **out, struct strlist *errors);
void config_free(struct config *cfg);

/* Deeper checks for check-config: secret files exist, are private and readable. Appends to errors; -1 if any. */
int config_check_secrets(const struct config *cfg, struct strlist *errors);

/*
 * Reads a secret from PATH (trailing newline stripped) into a new string in *out.
 * Refuses a file whose mode lets group or others read it. Returns 0, or -1 with err set (never the secret).
 */
int config_read_secret(const char *path, char **out, struct error *err);

/* The service key: inline, or read from service_key_file. */
int config_bytebase_key(const struct bytebase_config *bb, char **out, struct error *err);

/* Is the entry's branch a glob rather than one exact name? */
bool config_branch_is_glob(const struct repo_config *repo);

/* Does the short branch name ("main", "release/1.0") match the entry's branch pattern? */
bool config_branch_matches(const struct repo_config *repo, const char *branch);

const struct repo_config *config_find_repo(const struct config *cfg, const char *name);

const char *config_provider_name(enum provider p);

#endif
