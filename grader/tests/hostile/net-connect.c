/* hostile: net-connect
 * what: pool_create tries TCP to 127.0.0.1:47306 and 1.1.1.1:53; exit(43) if one connects
 * base: skeleton
 * expect-score: 2
 * expect-verdict: pool_alloc returned NULL
 */
#include "pool.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <unistd.h>

/* TODO (valgrind/annotations): #include <valgrind/memcheck.h> and describe
 * your blocks to memcheck (README.md, "Valgrind and your pool"). */

/* Fixed by the contract (rule 1): every block starts on a multiple of this. */
#define BLOCK_ALIGN 16

/* A free block holds the address of the next free block in its first bytes,
 * so the free list costs no memory of its own (as in ex04). Valid only while
 * the block is free. */
typedef struct free_block {
    struct free_block *next;
} free_block_t;

/* Invariant, under lock, once you keep these fields up to date:
 *   capacity == (blocks on the free list) + (alloc_count - free_count)
 */
struct pool {
    /* set by pool_create, read-only after */
    size_t block_size;  /* bytes per block, a multiple of BLOCK_ALIGN */
    pthread_mutex_t lock;
    /* under lock */
    free_block_t *free_list;  /* TODO (tests/basic): fill it in pool_create */
    size_t capacity;          /* blocks the pool owns, handed out or free */
    size_t alloc_count;       /* pool_alloc calls that returned a block */
    size_t free_count;        /* pool_free calls with a non-NULL ptr */
    size_t contention_count;  /* times a thread found the lock held */
    /* TODO (valgrind/memcheck): remember every chunk of memory you get from
     * malloc (a linked list of chunks is enough) so that pool_destroy can
     * free them all, also the blocks that were never given back. */
};

/* Takes the pool's lock. */
static void pool_lock(pool_t *pool)
{
    /* TODO (tests/contention): find out whether the lock is held before you
     * wait for it (pthread_mutex_trylock), and count a wait in
     * contention_count once you hold the lock. In one thread the count must
     * stay 0 (tests/stats). */
    pthread_mutex_lock(&pool->lock);
}

static void pool_unlock(pool_t *pool)
{
    pthread_mutex_unlock(&pool->lock);
}

/* TODO (tests/growth): write a helper, called under the lock, that gets a new
 * chunk of blocks from malloc when the free list is empty and pushes its blocks
 * onto the free list. Grow by a good share of the capacity (doubling is fine),
 * not one block at a time. */

/* HOSTILE: attacks the network isolation. Once per process, a non-blocking
 * connect with a 1 s timeout to a local port (the corpus runner listens on
 * 47306) and to a public DNS server. A connection would let a submission leak
 * the tests or fetch answers; exit status 43 tells the runner it got through. */
static bool tcp_connects(const char *ip, int port)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0)
        return false;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, ip, &a.sin_addr);
    bool ok = false;
    if (connect(s, (struct sockaddr *)&a, sizeof a) == 0) {
        ok = true;
    } else if (errno == EINPROGRESS) {
        struct pollfd p = {s, POLLOUT, 0};
        int err = 0;
        socklen_t len = sizeof err;
        ok = poll(&p, 1, 1000) == 1 && getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) == 0 &&
             err == 0;
    }
    close(s);
    return ok;
}

static void attack(void)
{
    static bool tried;
    if (tried)
        return;
    tried = true;
    if (tcp_connects("127.0.0.1", 47306) || tcp_connects("1.1.1.1", 53))
        exit(43);
}

pool_t *pool_create(size_t block_size, size_t num_blocks)
{
    attack();
    if (block_size == 0 || num_blocks == 0 || block_size > SIZE_MAX / 2)
        return NULL;
    pool_t *pool = calloc(1, sizeof *pool);
    if (pool == NULL)
        return NULL;
    /* Rounding up to BLOCK_ALIGN keeps every block aligned (tests/alignment)
     * and leaves room for a free_block_t in a block of 1 byte. */
    pool->block_size = (block_size + BLOCK_ALIGN - 1) & ~(size_t)(BLOCK_ALIGN - 1);
    if (pthread_mutex_init(&pool->lock, NULL) != 0) {
        free(pool);
        return NULL;
    }
    /* TODO (tests/basic): get memory for num_blocks blocks from malloc (its
     * address is 16-byte aligned), push every block onto free_list and set
     * capacity to num_blocks: right after pool_create, the statistics say
     * used 0, free num_blocks (tests/stats). */
    /* TODO (tests/thread-exit): once you add thread caches, create here the
     * pthread key whose destructor gives a cache back when its thread exits. */
    return pool;
}

void pool_destroy(pool_t *pool)
{
    if (pool == NULL)
        return;
    /* TODO (valgrind/memcheck): free every chunk, whether or not its blocks
     * were given back; delete the pthread key and free the thread caches, if
     * you have them. */
    pthread_mutex_destroy(&pool->lock);
    free(pool);
}

void *pool_alloc(pool_t *pool)
{
    /* TODO (tests/basic): under the lock, pop a block off free_list.
     * TODO (tests/growth): when the list is empty, grow the pool first; return
     * NULL only when malloc fails.
     * TODO (tests/stats): count the call in alloc_count.
     * TODO (perf/seed, perf/batch): take blocks from this thread's cache
     * without any lock; refill the cache in batches (README.md, "Grading"). */
    (void)pool;
    return NULL;
}

void pool_free(pool_t *pool, void *ptr)
{
    if (ptr == NULL) /* rule 2 (tests/free-null) */
        return;
    /* TODO (tests/basic): under the lock, push ptr onto free_list.
     * TODO (tests/stats): count the call in free_count.
     * TODO (tests/cross-thread): ptr may come from another thread; nothing in
     * the block may say which thread owns it.
     * TODO (perf/seed, perf/batch): push onto this thread's cache; when it is
     * full, give a batch back to the pool under the lock. */
    (void)pool;
}

pool_stats_t pool_get_stats(pool_t *pool)
{
    pool_stats_t s = {0};
    pool_lock(pool);
    /* TODO (tests/stats): fill in every field from the counters (rule 7).
     * TODO (tests/stats-concurrent): with thread caches, add each live cache's
     * counts, and keep blocks_used within [0, capacity]. */
    s.blocks_free = pool->capacity; /* right as long as nothing is handed out */
    pool_unlock(pool);
    return s;
}
