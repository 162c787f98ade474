/* compile_me.c — what programs/gcc compiles: gcc and its compiler proper (cc1)
 * run on your malloc, and the assembly they write must be the same as on the C
 * library's. Any C file would do; this one is an interval tree with a little
 * of everything a compiler must work through: structs, recursion, loops that
 * vectorise, inline functions, a switch. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct node {
    long lo, hi, max_hi;
    int height;
    struct node *left, *right;
} node_t;

static inline int height(const node_t *n)
{
    return n != NULL ? n->height : 0;
}

static inline long max3(long a, long b, long c)
{
    long m = a > b ? a : b;
    return m > c ? m : c;
}

static void update(node_t *n)
{
    int hl = height(n->left), hr = height(n->right);
    n->height = 1 + (hl > hr ? hl : hr);
    n->max_hi = max3(n->hi, n->left ? n->left->max_hi : n->hi, n->right ? n->right->max_hi : n->hi);
}

static node_t *rotate_right(node_t *n)
{
    node_t *l = n->left;
    n->left = l->right;
    l->right = n;
    update(n);
    update(l);
    return l;
}

static node_t *rotate_left(node_t *n)
{
    node_t *r = n->right;
    n->right = r->left;
    r->left = n;
    update(n);
    update(r);
    return r;
}

static node_t *balance(node_t *n)
{
    update(n);
    int b = height(n->left) - height(n->right);
    if (b > 1) {
        if (height(n->left->left) < height(n->left->right))
            n->left = rotate_left(n->left);
        return rotate_right(n);
    }
    if (b < -1) {
        if (height(n->right->right) < height(n->right->left))
            n->right = rotate_right(n->right);
        return rotate_left(n);
    }
    return n;
}

node_t *interval_insert(node_t *root, long lo, long hi)
{
    if (root == NULL) {
        node_t *n = calloc(1, sizeof *n);
        if (n == NULL)
            abort();
        n->lo = lo;
        n->hi = n->max_hi = hi;
        n->height = 1;
        return n;
    }
    if (lo < root->lo)
        root->left = interval_insert(root->left, lo, hi);
    else
        root->right = interval_insert(root->right, lo, hi);
    return balance(root);
}

size_t interval_count_overlaps(const node_t *root, long lo, long hi)
{
    if (root == NULL || root->max_hi < lo)
        return 0;
    size_t n = interval_count_overlaps(root->left, lo, hi);
    if (root->lo <= hi && lo <= root->hi)
        n++;
    if (root->lo <= hi)
        n += interval_count_overlaps(root->right, lo, hi);
    return n;
}

void interval_free(node_t *root)
{
    while (root != NULL) {
        interval_free(root->left);
        node_t *right = root->right;
        free(root);
        root = right;
    }
}

/* A loop gcc vectorises at -O2 (since gcc 12). */
void saxpy(size_t n, float a, const float *restrict x, float *restrict y)
{
    for (size_t i = 0; i < n; i++)
        y[i] += a * x[i];
}

uint32_t checksum(const unsigned char *p, size_t n)
{
    uint32_t a = 1, b = 0;
    for (size_t i = 0; i < n; i++) {
        a = (a + p[i]) % 65521;
        b = (b + a) % 65521;
    }
    return b << 16 | a;
}

const char *op_name(int op)
{
    switch (op) {
    case 0: return "nop";
    case 1: return "load";
    case 2: return "store";
    case 3: return "add";
    case 4: return "sub";
    case 5: return "mul";
    case 6: return "div";
    case 7: return "jump";
    case 8: return "call";
    case 9: return "ret";
    default: return "?";
    }
}

char *join_words(const char *const *words, size_t n, char sep)
{
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += strlen(words[i]) + 1;
    char *out = malloc(len), *at = out;
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        size_t k = strlen(words[i]);
        memcpy(at, words[i], k);
        at += k;
        if (i + 1 < n)
            *at++ = sep;
    }
    *at = '\0';
    return out;
}
