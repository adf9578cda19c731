/*
 * prefault.c — populating a process's page tables ahead of latency-bound work (prefault.h). Used by the hook
 * server's waiting worker (hook_server.c): forked from the server, it would otherwise take a page fault for every
 * page of code, data and new heap it touches while the pusher waits; on a virtual machine each fault is a trip
 * to the hypervisor (about 13 us measured here, a third of the worker's time for a push).
 */
#include "prefault.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/* A mapping larger than this (a locale archive, a big file someone mapped) is left alone. */
#define PREFAULT_MAX_MAPPING (64UL * 1024 * 1024)

/*
 * Grows the heap by HEAP_RESERVE bytes that free then keeps (not trimmed); allocations below twice that size come
 * from the heap (malloc would mmap, and fault in, each one of 128 KB or more).
 */
static void
reserve_heap(size_t heap_reserve)
{
	void *volatile block;    /* volatile: the compiler may not drop the malloc/free pair */

	mallopt(M_MMAP_THRESHOLD, (int)(2 * heap_reserve));
	mallopt(M_TRIM_THRESHOLD, (int)(4 * heap_reserve));
	block = malloc(heap_reserve);
	free(block);
}

void
prefault_process(size_t heap_reserve)
{
	char line[1024], perms[8], path[512];
	unsigned long start, end;
	FILE *maps;

	if (heap_reserve > 0)
		reserve_heap(heap_reserve);
	maps = fopen("/proc/self/maps", "re");
	if (maps == NULL)
		return;
	while (fgets(line, sizeof(line), maps) != NULL) {
		path[0] = '\0';
		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %511s", &start, &end, perms, path) < 3 ||
		    end - start > PREFAULT_MAX_MAPPING || perms[3] != 'p')
			continue;    /* shared mappings (SQLite's -shm, pack files) are the files' own pages */
		if (strcmp(path, "[stack]") == 0 || strncmp(path, "[v", 2) == 0)
			continue;    /* the stack grows on demand; vdso, vvar and vsyscall are the kernel's */
		if (perms[0] == 'r' && perms[1] == 'w')          /* heap, data, bss: copied at the first write */
			(void)madvise((void *)start, end - start, MADV_POPULATE_WRITE);
		else if (perms[0] == 'r' && path[0] == '/')      /* code and read-only data of the program and libraries */
			(void)madvise((void *)start, end - start, MADV_POPULATE_READ);
	}
	fclose(maps);
}
