#include "tree.h"
#include <stdio.h>

int main(void)
{
    words_print();
    printf("table %lu\n", table_fill(10000));
    printf("sum %lu\n", sum_squares(1000));
    return 0;
}
