/*
 * lineedit.h - the console's line editor.
 *
 * Turns the UART's byte stream into command lines: echo, backspace/DEL,
 * ctrl-U (erase line), ctrl-C (abandon line), up/down arrows (history),
 * tab (completion, through the caller's function).
 * CR, LF and CRLF all end a line, so it works on a terminal and on a pipe.
 * Bytes that are neither printable ASCII/UTF-8 nor an editing key are
 * ignored; a line longer than LINEEDIT_MAX is cut there (the terminal bell
 * rings).  No heap: the caller owns the struct.
 */
#ifndef LINEEDIT_H
#define LINEEDIT_H

#include <stddef.h>
#include <stdint.h>

#define LINEEDIT_MAX  255   /* characters per line */
#define LINEEDIT_HIST 8     /* remembered lines */

typedef void (*lineedit_write_fn)(void *ctx, const char *s, size_t n);
/* Tab: the caller looks at the line (buf, len) and writes into out (cap
 * bytes, NUL-terminated) what to append to it, or "" (it may print a list
 * of choices, then the line editor shows the line again). */
typedef void (*lineedit_complete_fn)(void *ctx, const char *buf, size_t len, char *out, size_t cap,
                                     int *listed);

struct lineedit {
    char buf[LINEEDIT_MAX + 1];    /* the line being edited, NUL-terminated */
    size_t len;
    int esc;                       /* escape-sequence parser state */
    int last_cr;                   /* previous byte was CR (swallow the LF of CRLF) */
    char hist[LINEEDIT_HIST][LINEEDIT_MAX + 1];
    int hist_n;                    /* lines stored */
    int hist_pos;                  /* -1: editing a new line; else index browsed */
    int secret;                    /* typing a password: no echo, no history */
    lineedit_write_fn write;
    void *ctx;
    lineedit_complete_fn complete;
};

/* Start with an empty line; echo goes to write(ctx, ...). */
void lineedit_init(struct lineedit *le, lineedit_write_fn write, void *ctx);

/* Tab completion (NULL: tab is ignored). */
void lineedit_set_complete(struct lineedit *le, lineedit_complete_fn fn);

/* Secret mode (for passwords): characters are not echoed and the line is
 * not remembered in the history. */
void lineedit_set_secret(struct lineedit *le, int secret);

/* Feed one byte.  Returns 1 when a line is complete: it is in le->buf
 * (NUL-terminated, without the line ending) until the next call.  Returns
 * 0 otherwise. */
int lineedit_feed(struct lineedit *le, uint8_t c);

#endif
