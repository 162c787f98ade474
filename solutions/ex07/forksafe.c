/* forksafe.c — reference solution of exercise 07: pools of fixed-size blocks
 * in caller-given arenas, thread-safe, and fork-safe.
 *
 * Each pool is ex04's pool (a bump pointer over the arena, then a LIFO free
 * list threaded through the free blocks) behind its own mutex. Every live pool
 * is also on a registry, an intrusive list through forkpool_t.next guarded by
 * registry_lock, so that three fork handlers can reach every pool:
 *   prepare  takes registry_lock, then every pool's lock, in list order:
 *            fork() waits until no thread is inside any pool;
 *   parent   releases them all;
 *   child    re-initialises them all: the child's only thread did not lock
 *            them as far as an error-checking or robust mutex knows (it has a
 *            new thread id), so it re-creates them, as glibc does for its
 *            malloc arenas.
 * Lock order, everywhere: registry_lock before any pool's lock. fk_alloc and
 * fk_free take only their pool's lock; fk_init and fk_destroy only the
 * registry's. Every operation is O(1) but fk_init and fk_destroy (O(pools)).
 */
#include "forksafe.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

_Static_assert(FK_ALIGN >= sizeof(void *) && FK_ALIGN % _Alignof(void *) == 0,
               "a stride that is a multiple of FK_ALIGN must hold an aligned link");
_Static_assert((FK_ARENA_ALIGN & (FK_ARENA_ALIGN - 1)) == 0 && FK_ARENA_ALIGN % FK_ALIGN == 0,
               "the first block's alignment must be a power of two and a multiple of FK_ALIGN");

/* ---- the registry of live pools ---- */

/* Every pool between fk_init and fk_destroy is on this list exactly once, and
 * no other: a fork handler must never touch memory that is not a live pool.
 * Guarded by registry_lock, which is taken before any pool's lock. */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static forkpool_t *registry;
static pthread_once_t handlers_once = PTHREAD_ONCE_INIT;

/* Takes fp off the list if it is there; true if it was. */
static bool registry_unlink(forkpool_t *fp)
{
    for (forkpool_t **at = &registry; *at != NULL; at = &(*at)->next)
        if (*at == fp) {
            *at = fp->next;
            return true;
        }
    return false;
}

static void fork_prepare(void)
{
    pthread_mutex_lock(&registry_lock);
    for (forkpool_t *p = registry; p != NULL; p = p->next)
        pthread_mutex_lock(&p->lock);
}

static void fork_parent(void)
{
    for (forkpool_t *p = registry; p != NULL; p = p->next)
        pthread_mutex_unlock(&p->lock);
    pthread_mutex_unlock(&registry_lock);
}

/* One thread, and every lock held by the thread that called fork(): the state
 * each lock guards is consistent, so a fresh mutex is all the child needs. */
static void fork_child(void)
{
    for (forkpool_t *p = registry; p != NULL; p = p->next)
        pthread_mutex_init(&p->lock, NULL);
    pthread_mutex_init(&registry_lock, NULL);
}

/* Once per process, whatever the number of pools: a handler registered twice
 * would take registry_lock twice in prepare, and wait for itself forever. */
static void handlers_register(void)
{
    if (pthread_atfork(fork_prepare, fork_parent, fork_child) != 0) {
        fputs("forksafe: pthread_atfork failed: a fork could copy a held lock\n", stderr);
        abort();
    }
}

/* ---- the link inside a free block ---- */

/* Valid only while the block is free; a held block's bytes are the caller's. */
typedef struct free_block {
    struct free_block *next;
} free_block_t;

static uintptr_t round_up(uintptr_t x, uintptr_t align)
{
    return (x + align - 1) & ~(align - 1);
}

static bool is_on_grid(const forkpool_t *fp, const unsigned char *p, const unsigned char *limit)
{
    return p >= fp->start && p < limit && (size_t)(p - fp->start) % fp->stride == 0;
}

/* ---- the API ---- */

int fk_init(forkpool_t *fp, void *arena, size_t arena_size, size_t block_size)
{
    if (fp == NULL || arena == NULL || block_size == 0 || block_size > SIZE_MAX - FK_ALIGN)
        return -1;
    pthread_once(&handlers_once, handlers_register);
    size_t stride = round_up(block_size, FK_ALIGN);
    uintptr_t base = (uintptr_t)arena;
    size_t pad = round_up(base, FK_ARENA_ALIGN) - base; /* bytes before the first boundary */
    size_t usable = arena_size > pad ? arena_size - pad : 0;

    /* Under registry_lock no fork can start: the pool is set up whole before
     * a handler can see it. A live pool is taken off first (init twice). */
    pthread_mutex_lock(&registry_lock);
    registry_unlink(fp);
    pthread_mutex_init(&fp->lock, NULL);
    fp->start = (unsigned char *)arena + pad;
    fp->stride = stride;
    fp->block_size = block_size;
    fp->capacity = usable / stride;
    fp->end = fp->start + fp->capacity * stride;
    fp->fresh = fp->start;
    fp->free_list = NULL;
    fp->next = registry;
    registry = fp;
    pthread_mutex_unlock(&registry_lock);
    return 0;
}

void *fk_alloc(forkpool_t *fp)
{
    void *b = NULL;
    pthread_mutex_lock(&fp->lock);
    if (fp->free_list != NULL) { /* LIFO: the block freed last */
        free_block_t *head = fp->free_list;
        fp->free_list = head->next;
        b = head;
    } else if (fp->fresh < fp->end) { /* never handed out yet */
        b = fp->fresh;
        fp->fresh += fp->stride;
    }
    pthread_mutex_unlock(&fp->lock);
    return b; /* NULL: every block is held */
}

void fk_free(forkpool_t *fp, void *block)
{
    if (block == NULL)
        return;
    free_block_t *b = block;
    pthread_mutex_lock(&fp->lock);
    b->next = fp->free_list;
    fp->free_list = b;
    pthread_mutex_unlock(&fp->lock);
}

size_t fk_capacity(forkpool_t *fp)
{
    pthread_mutex_lock(&fp->lock);
    size_t n = fp->capacity;
    pthread_mutex_unlock(&fp->lock);
    return n;
}

void fk_destroy(forkpool_t *fp)
{
    pthread_mutex_lock(&registry_lock);
    bool was_live = registry_unlink(fp);
    pthread_mutex_unlock(&registry_lock);
    if (!was_live)
        return;
    /* No handler can reach it now; its memory is the caller's. */
    pthread_mutex_destroy(&fp->lock);
}

/* ---- the invariant, checked ---- */

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fk_check(%p): ", (void *)fp);                                         \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            ok = false;                                                                            \
            goto out_unlock;                                                                       \
        }                                                                                          \
    } while (0)

int fk_check(forkpool_t *fp)
{
    bool ok = true;
    pthread_mutex_lock(&fp->lock);
    CHECK(fp->stride % FK_ALIGN == 0 && fp->stride >= fp->block_size,
          "stride %zu is not a multiple of %d holding %zu bytes", fp->stride, FK_ALIGN, fp->block_size);
    CHECK(fp->end == fp->start + fp->capacity * fp->stride, "end is not start + capacity * stride");
    CHECK(fp->fresh == fp->end || is_on_grid(fp, fp->fresh, fp->end), "fresh %p is off the grid",
          (void *)fp->fresh);
    size_t carved = (size_t)(fp->fresh - fp->start) / fp->stride, nfree = 0;
    for (free_block_t *b = fp->free_list; b != NULL; b = b->next) {
        CHECK(nfree < carved, "the free list holds more blocks than were ever carved (a cycle?)");
        CHECK(is_on_grid(fp, (unsigned char *)b, fp->fresh),
              "free block %p is not a carved block of this pool", (void *)b);
        nfree++;
    }
out_unlock:
    pthread_mutex_unlock(&fp->lock);
    return ok ? 0 : -1;
}
