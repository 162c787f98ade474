/* alab_testlib.h — byte patterns that show whether a block kept its contents,
 * shared by the test programs of every exercise (through their own
 * *_testlib.h). Threads released together are in alab_threads.h.
 */
#ifndef ALAB_TESTLIB_H
#define ALAB_TESTLIB_H

#include <stddef.h>
#include <stdint.h>

/* ---- byte patterns ---- */

/* The byte a holder with this tag writes at offset i of its block. */
static inline unsigned char pattern_byte(uint32_t tag, size_t i)
{
    uint32_t x = tag * 2654435761u + (uint32_t)i * 40503u;
    return (unsigned char)(x >> 24 ^ x);
}

static inline void pattern_fill(void *block, size_t size, uint32_t tag)
{
    unsigned char *p = block;
    for (size_t i = 0; i < size; i++)
        p[i] = pattern_byte(tag, i);
}

/* The first offset where block no longer holds tag's pattern, or size if intact. */
static inline size_t pattern_check(const void *block, size_t size, uint32_t tag)
{
    const unsigned char *p = block;
    for (size_t i = 0; i < size; i++)
        if (p[i] != pattern_byte(tag, i))
            return i;
    return size;
}

#endif
