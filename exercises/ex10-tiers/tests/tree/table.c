#include "tree.h"
#include <stdlib.h>

unsigned long table_fill(size_t n)
{
    unsigned long **rows = calloc(n, sizeof *rows), sum = 0;
    for (size_t i = 0; i < n; i++) {
        rows[i] = malloc((i % 50 + 1) * sizeof **rows);
        for (size_t j = 0; j <= i % 50; j++)
            rows[i][j] = i * j;
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j <= i % 50; j++)
            sum += rows[i][j] % 1000;
        free(rows[i]);
    }
    free(rows);
    return sum;
}
