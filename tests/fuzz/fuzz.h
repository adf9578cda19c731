/*
 * fuzz.h — what every libFuzzer target defines (declared here so -Wmissing-prototypes stays quiet), and a
 * helper that turns the fuzzer's bytes into a NUL-terminated string.
 */
#ifndef BBGITOPS_FUZZ_H
#define BBGITOPS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* DATA as a new NUL-terminated string (a NUL inside ends it early, as it would in C). Caller frees. */
static inline char *
fuzz_string(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
