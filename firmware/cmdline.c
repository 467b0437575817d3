/*
 * cmdline.c - splitting a console line into words (see cmdline.h).
 */
#include "cmdline.h"

#include "pb_err.h"

static int cmdline_is_space(char c)
{
    return c == ' ' || c == '\t';
}

int cmdline_split(char *line, char *argv[], int max)
{
    char *r = line;     /* read position */
    char *w = line;     /* write position: unquoting only ever shrinks */
    int argc = 0;

    for (;;) {
        while (cmdline_is_space(*r))
            r++;
        if (*r == '\0')
            break;
        if (argc == 0 && *r == '#')
            return 0;
        if (argc == max)
            return PB_ERANGE;
        argv[argc++] = w;
        int quoted = 0;
        while (*r != '\0' && (quoted || !cmdline_is_space(*r))) {
            if (*r == '"') {
                quoted = !quoted;
                r++;
            } else if (quoted && *r == '\\' && (r[1] == '"' || r[1] == '\\')) {
                *w++ = r[1];
                r += 2;
            } else {
                *w++ = *r++;
            }
        }
        if (quoted)
            return PB_EINVAL;
        /* r is at a space or the end; w <= r, so terminating is safe. */
        int at_end = *r == '\0';
        *w++ = '\0';
        if (at_end)
            break;
        r++;
    }
    return argc;
}
