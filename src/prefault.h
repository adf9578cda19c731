/*
 * prefault.h — a process about to do latency-bound work takes its page faults ahead, while nothing waits for it.
 */
#ifndef BBGITOPS_PREFAULT_H
#define BBGITOPS_PREFAULT_H

#include <stddef.h>

/*
 * Maps in, now, the pages the coming work would fault in one by one: the code and read-only data of the program
 * and its libraries (after fork the child has none of them mapped), its writable private pages (copied from the
 * parent at their first write), and HEAP_RESERVE more bytes of heap that malloc then keeps (allocations below
 * twice that size come from the heap rather than from a new mmap each). One madvise(MADV_POPULATE_*) per mapping: a batch costs a
 * fraction of the faults it replaces. Best effort: on a kernel without MADV_POPULATE_* (before 5.14) nothing is
 * populated and nothing fails.
 */
void prefault_process(size_t heap_reserve);

#endif
