#include "tree.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void words_print(void)
{
    static const char *w[] = {"thread", "cache", "slab", "buddy", "page", "bin"};
    char *line = malloc(256);
    line[0] = '\0';
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
        char *dup = strdup(w[i]);
        strcat(line, dup);
        strcat(line, i + 1 < sizeof w / sizeof w[0] ? " -> " : "\n");
        free(dup);
    }
    fputs(line, stdout);
    free(line);
}
