/* onelock.c — the yardstick of the perf checks: a size-class allocator under
 * one mutex, as exercise 05's LK_ONE_LOCK (and the seed's "linked-list
 * allocator"): every call takes the lock. Kit code, linked into the benchmark
 * only; it gets its memory from mmap, so it never competes with malloc.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>

#define OL_NCLASSES 16
#define OL_CHUNK (1u << 20)
#define OL_HEADER 16

static const size_t ol_size[OL_NCLASSES] = {8, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048};
static pthread_mutex_t ol_lock = PTHREAD_MUTEX_INITIALIZER;
static void *ol_free_list[OL_NCLASSES];
static char *ol_bump, *ol_end;

void *ol_malloc(size_t size);
void ol_free(void *ptr);

/* Every block has a 16-byte header: its class, or its mapping's length. */
void *ol_malloc(size_t size)
{
    int c = 0;
    while (c < OL_NCLASSES && ol_size[c] < size)
        c++;
    if (c == OL_NCLASSES) {
        size_t len = size + OL_HEADER;
        char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
            return NULL;
        *(size_t *)m = len;
        return m + OL_HEADER;
    }
    pthread_mutex_lock(&ol_lock);
    char *b = ol_free_list[c];
    if (b != NULL) {
        ol_free_list[c] = *(void **)(b + OL_HEADER);
    } else {
        size_t need = ol_size[c] + OL_HEADER;
        if (ol_bump == NULL || (size_t)(ol_end - ol_bump) < need) {
            char *m = mmap(NULL, OL_CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (m == MAP_FAILED) {
                pthread_mutex_unlock(&ol_lock);
                return NULL;
            }
            ol_bump = m;
            ol_end = m + OL_CHUNK;
        }
        b = ol_bump;
        ol_bump += need;
        *(size_t *)b = (size_t)c;
    }
    pthread_mutex_unlock(&ol_lock);
    return b + OL_HEADER;
}

void ol_free(void *ptr)
{
    if (ptr == NULL)
        return;
    char *b = (char *)ptr - OL_HEADER;
    size_t tag = *(size_t *)b;
    if (tag >= OL_NCLASSES) {
        munmap(b, tag);
        return;
    }
    pthread_mutex_lock(&ol_lock);
    *(void **)ptr = ol_free_list[tag];
    ol_free_list[tag] = b;
    pthread_mutex_unlock(&ol_lock);
}
