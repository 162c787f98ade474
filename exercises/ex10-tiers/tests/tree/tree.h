#ifndef TREE_H
#define TREE_H
#include <stddef.h>
void words_print(void);
unsigned long table_fill(size_t n);
unsigned long sum_squares(unsigned long n);
#endif
