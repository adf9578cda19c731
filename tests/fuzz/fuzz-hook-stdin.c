/*
 * fuzz-hook-stdin.c — libFuzzer target for the hooks' stdin parser (hook_input.c): whatever git — or anyone — writes
 * there. Every update it returns must be two 40-hex ids and a ref without spaces or control bytes.
 */
#include <stdio.h>

#include "fuzz.h"
#include "hook.h"
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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ref_update *updates = NULL;
	FILE *in = fmemopen((void *)data, size, "r");
	size_t n, i, j;

	if (size == 0 || in == NULL) {
		if (in != NULL)
			fclose(in);
		return 0;
	}
	n = hook_read_updates(in, &updates);
	fclose(in);
	for (i = 0; i < n; i++) {
		if (!str_is_hex_oid(updates[i].old_hex) || !str_is_hex_oid(updates[i].new_hex) ||
		    updates[i].ref[0] == '\0')
			abort();
		for (j = 0; updates[i].ref[j] != '\0'; j++)
			if ((unsigned char)updates[i].ref[j] <= ' ' || updates[i].ref[j] == 0x7f)
				abort();
	}
	hook_updates_free(updates, n);
	return 0;
}
