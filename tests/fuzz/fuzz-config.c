/*
 * fuzz-config.c — libFuzzer target for configuration text: libconfig's parser plus all of our validation
 * (config_load), through a memfd since the loader reads a path. Inputs holding "@include" are skipped: an include
 * reads any file by design (an operator's choice, not untrusted input), and /dev/zero would only hang the run.
 */
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"
#include "log.h"
#include "util.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz: ", LOG_LEVEL_QUIET);
	return 0;
}

/* Does PATH have a "." or ".." component (a base directory escaping the repository)? */
static bool
has_dot_component(const char *path)
{
	const char *c = path;

	while (*c != '\0') {
		size_t len = strcspn(c, "/");

		if ((len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
			return true;
		c += len;
		if (*c == '/')
			c++;
	}
	return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strlist errors = STRLIST_INIT;
	struct config *cfg = NULL;
	char path[64];
	size_t i;
	int fd;

	if (memmem(data, size, "@include", 8) != NULL)
		return 0;
	fd = memfd_create("fuzz-config", MFD_CLOEXEC);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size) {
		perror("memfd");
		abort();
	}
	fchmod(fd, 0600);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (config_load(path, &cfg, &errors) == 0) {
		if (cfg->n_repos == 0 || cfg->state_dir == NULL || cfg->state_dir[0] != '/')
			abort();   /* a loaded configuration watches something, somewhere absolute */
		for (i = 0; i < cfg->n_repos; i++) {
			const struct repo_config *r = &cfg->repos[i];

			/* a path, a url, or both (then the url only names the repository at its provider) */
			if (r->name == NULL || (r->path == NULL && r->url == NULL) || r->branch == NULL ||
			    strncmp(r->branch, "refs/", 5) == 0 || has_dot_component(r->base_directory) ||
			    (r->url != NULL && r->url[0] == '-') || config_find_repo(cfg, r->name) == NULL)
				abort();
			(void)config_branch_matches(r, "main");
			(void)config_branch_matches(r, "release/1.0");
		}
		config_free(cfg);
	} else if (errors.len == 0) {
		abort();   /* a refusal always says why */
	}
	strlist_clear(&errors);
	close(fd);
	return 0;
}
