/*
 * http-replay.h — the replies http-replay.c hands out in place of a Bytebase server (fuzzing only).
 */
#ifndef BBGITOPS_HTTP_REPLAY_H
#define BBGITOPS_HTTP_REPLAY_H

#include <stddef.h>

#include "http.h"

struct replay_reply {
	long status;
	const char *body;    /* not NUL-terminated: LEN bytes */
	size_t len;
	long retry_after;
};

/* The replies for the next requests, in order (borrowed until the next replay_set). */
void replay_set(const struct replay_reply *replies, size_t n);

#endif
