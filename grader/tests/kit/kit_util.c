/* kit_util.c — helpers the kit's test files share (kit_tests.h). */
#define _GNU_SOURCE
#include "kit_tests.h"

#include <stdio.h>
#include <stdlib.h>

char *kit_command_output_n(const char *cmd, size_t *len)
{
    strbuf_t sb = {0};
    FILE *p = popen(cmd, "r");
    if (p != NULL) {
        char buf[65536];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, p)) > 0)
            sb_appendn(&sb, buf, n);
        pclose(p);
    }
    *len = sb.len;
    char *s = sb_take(&sb);
    return s != NULL ? s : xstrdup("");
}

char *kit_command_output(const char *cmd)
{
    size_t n;
    return str_trim(kit_command_output_n(cmd, &n));
}
