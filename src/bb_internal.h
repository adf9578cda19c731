/*
 * bb_internal.h — what the Bytebase client files (bb_client.c, bb_targets.c) share and nothing else sees: the
 * handle's fields and the run caches. Flow files use bb_client.h and bb_targets.h only.
 */
#ifndef BBGITOPS_BB_INTERNAL_H
#define BBGITOPS_BB_INTERNAL_H

#include "bb_client.h"

struct http;
struct bb_cache;

struct bb {
	const struct bytebase_config *cfg;
	struct http *http;
	char *key;
	char *token;
	long logins;
	long retry_after;
	int last_code;
	enum bb_range range;       /* once bb_detect settled it */
	struct bb_version version;
	struct bb_cache *cache;    /* bb_targets.c: targets, engines, databases, environment order */
	int urandom;
};

/* Frees the run caches (bb_targets.c). */
void bb_caches_clear(struct bb *bb);

#endif
