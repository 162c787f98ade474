/* trace_adapter.h — the allocator of exercise 03 as the kit's trace engine
 * (grader/harness/trace.h) sees it. The heap is what the mmap spy saw mapped:
 * its high water is the footprint, and a block is inside the heap when it lies
 * in one live mapping. There is no reset: each trace runs in a fresh process.
 */
#ifndef TRACE_ADAPTER_H
#define TRACE_ADAPTER_H

#include "mmap_spy.h"
#include "seglist.h"
#include "trace.h"

#include <stdio.h>
#include <string.h>

static size_t adapter_heap_size(void)
{
    return spy_get().peak;
}

static const trace_allocator_t seglist_adapter = {
    .prefix = "sl_",
    .malloc = sl_malloc,
    .free = sl_free,
    .realloc = sl_realloc,
    .heap_size = adapter_heap_size,
    .in_heap = spy_contains,
};

/* The path of a trace of exercise 02, found from this file's place in the kit. */
static inline void ex02_trace_path(char *path, size_t len, const char *name)
{
    const char *slash = strrchr(__FILE__, '/');
    int dir = slash != NULL ? (int)(slash - __FILE__) : 1;
    snprintf(path, len, "%.*s/../../ex02-freelist/tests/traces/%s", dir,
             slash != NULL ? __FILE__ : ".", name);
}

#endif
