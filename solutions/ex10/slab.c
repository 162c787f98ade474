/* slab.c — tier 2: objects of one size class, carved from slabs of 4 KiB
 * pages that tier 3 hands out. Each class has one lock and a list of the slabs
 * that have room; thread caches come here only on a miss (refill) or when a
 * bin is full (drain), and move a batch of objects per lock taken, so the
 * lock is paid once per batch rather than once per call (Bonwick & Adams,
 * "Magazines and Vmem", USENIX 2001). A slab whose objects have all come back
 * returns its pages to tier 3 at once.
 *
 * The statement weighs this central design against slabs per CPU: per CPU,
 * two threads on different CPUs never share a class's lock, but a thread can
 * move between CPUs in the middle of a refill, and a drain must still find
 * the slab an object came from, which lives on whichever CPU carved it.
 */
#include "tiers.h"

#include <stdbool.h>
#include <string.h>
#include <unistd.h>

static const uint16_t class_size[TI_NBINS] = TI_CLASS_SIZES;

/* Invariants of a class (checked by slab_check), under its lock:
 *   S1 a slab is on `partial` iff it has room: free != NULL or fresh < its end;
 *   S2 used + |free| + (end - fresh) / size == capacity;
 *   S3 a slab with used == 0 is not kept: its pages went back to tier 3. */
typedef struct {
    pthread_mutex_t lock;
    ti_page_t *partial; /* slabs that have room, doubly linked */
} slab_class_t;

static slab_class_t classes[TI_NBINS] = {
#define C PTHREAD_MUTEX_INITIALIZER, NULL
    {C}, {C}, {C}, {C}, {C}, {C}, {C}, {C}, {C}, {C}, {C}, {C}, {C}, {C}, {C}, {C},
#undef C
};

/* A slab holds at least 8 objects: one page, or a few for the big classes. */
static int slab_order(int cls)
{
    int order = 0;
    while (((size_t)TI_PAGE << order) < 8u * class_size[cls])
        order++;
    return order;
}

static char *slab_end(const ti_page_t *s)
{
    return page_addr(s) + (size_t)s->capacity * class_size[s->cls];
}

static bool has_room(const ti_page_t *s)
{
    return s->free != NULL || s->fresh < slab_end(s);
}

static void partial_push(slab_class_t *c, ti_page_t *s)
{
    s->prev = NULL;
    s->next = c->partial;
    if (s->next != NULL)
        s->next->prev = s;
    c->partial = s;
}

static void partial_remove(slab_class_t *c, ti_page_t *s)
{
    if (s->prev != NULL)
        s->prev->next = s->next;
    else
        c->partial = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    s->next = s->prev = NULL;
}

/* A new slab from tier 3, on the class's list; NULL when there is no memory. */
static ti_page_t *slab_new(slab_class_t *c, int cls)
{
    int order = slab_order(cls);
    ti_page_t *s = buddy_alloc(order, TI_SLAB, cls);
    if (s == NULL)
        return NULL;
    s->capacity = (uint16_t)(((size_t)TI_PAGE << order) / class_size[cls]);
    s->used = 0;
    s->free = NULL;
    s->fresh = page_addr(s);
    partial_push(c, s);
    return s;
}

/* One object from slab s, which has room. */
static void *slab_take(ti_page_t *s)
{
    void *obj = s->free;
    if (obj != NULL) {
        s->free = *(void **)obj;
    } else {
        obj = s->fresh;
        s->fresh += class_size[s->cls];
    }
    s->used++;
    return obj;
}

int slab_refill(int cls, void **list, int want)
{
    slab_class_t *c = &classes[cls];
    void *head = NULL;
    int got = 0;
    ti_lock(&c->lock);
    while (got < want) {
        ti_page_t *s = c->partial != NULL ? c->partial : slab_new(c, cls);
        if (s == NULL)
            break;
        while (got < want && has_room(s)) {
            void *obj = slab_take(s);
            *(void **)obj = head;
            head = obj;
            got++;
        }
        if (!has_room(s))
            partial_remove(c, s);
    }
    pthread_mutex_unlock(&c->lock);
    *list = head;
    return got;
}

void slab_drain(int cls, void *list, int n)
{
    slab_class_t *c = &classes[cls];
    ti_lock(&c->lock);
    while (n-- > 0 && list != NULL) {
        void *obj = list;
        list = *(void **)obj;
        ti_page_t *s = page_of(obj);
        if (!has_room(s))
            partial_push(c, s); /* it was full: it has room again */
        *(void **)obj = s->free;
        s->free = obj;
        if (--s->used == 0) { /* S3: every object is back */
            partial_remove(c, s);
            buddy_free(s);
        }
    }
    pthread_mutex_unlock(&c->lock);
}

/* ---- fork, check ---- */

void slab_lock_all(void)
{
    for (int i = 0; i < TI_NBINS; i++)
        pthread_mutex_lock(&classes[i].lock);
}

void slab_unlock_all(void)
{
    for (int i = TI_NBINS; i-- > 0;)
        pthread_mutex_unlock(&classes[i].lock);
}

void slab_reinit_locks(void)
{
    for (int i = 0; i < TI_NBINS; i++)
        pthread_mutex_init(&classes[i].lock, NULL);
}

static int fail(const char *what)
{
    static const char head[] = "ti_check: tier 2 (slabs): ";
    ssize_t u = write(2, head, sizeof head - 1);
    u = write(2, what, strlen(what));
    u = write(2, "\n", 1);
    (void)u;
    return -1;
}

int slab_check(void)
{
    int bad = 0;
    for (int i = 0; i < TI_NBINS && bad == 0; i++) {
        slab_class_t *c = &classes[i];
        pthread_mutex_lock(&c->lock);
        for (ti_page_t *s = c->partial; s != NULL && bad == 0; s = s->next) {
            size_t nfree = 0;
            for (void *o = s->free; o != NULL && nfree <= s->capacity; o = *(void **)o)
                nfree++;
            size_t never = (size_t)(slab_end(s) - s->fresh) / class_size[i];
            if (s->kind != TI_SLAB || s->cls != i)
                bad = fail("a slab on a class's list is not a slab of that class");
            else if (!has_room(s))
                bad = fail("S1: a full slab is on the list of slabs with room");
            else if (s->used + nfree + never != s->capacity)
                bad = fail("S2: used + free + never handed out differs from the capacity");
            else if (s->used == 0)
                bad = fail("S3: an empty slab was kept instead of going back to tier 3");
        }
        pthread_mutex_unlock(&c->lock);
    }
    return bad;
}
