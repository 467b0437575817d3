/*
 * lineedit.c - the console's line editor (see lineedit.h).
 */
#include "lineedit.h"

#include <string.h>

enum { LE_ESC_NONE, LE_ESC_SEEN, LE_ESC_CSI };

static void lineedit_echo(struct lineedit *le, const char *s, size_t n)
{
    if (le->secret && !(n == 2 && s[0] == '\r'))
        return;             /* only the line end shows while typing a secret */
    if (le->write)
        le->write(le->ctx, s, n);
}

/* Erase the visible line and show le->buf instead. */
static void lineedit_redraw(struct lineedit *le, size_t old_len)
{
    for (size_t i = 0; i < old_len; i++)
        lineedit_echo(le, "\b \b", 3);
    lineedit_echo(le, le->buf, le->len);
}

static void lineedit_set(struct lineedit *le, const char *s)
{
    size_t old = le->len;
    le->len = strlen(s);
    memcpy(le->buf, s, le->len + 1);
    lineedit_redraw(le, old);
}

static void lineedit_history_add(struct lineedit *le)
{
    if (le->len == 0 || le->secret)
        return;
    if (le->hist_n > 0 && strcmp(le->hist[le->hist_n - 1], le->buf) == 0)
        return;
    if (le->hist_n == LINEEDIT_HIST) {
        memmove(le->hist[0], le->hist[1], sizeof(le->hist[0]) * (LINEEDIT_HIST - 1));
        le->hist_n--;
    }
    memcpy(le->hist[le->hist_n++], le->buf, le->len + 1);
}

static void lineedit_history_move(struct lineedit *le, int up)
{
    if (le->hist_n == 0)
        return;
    if (up) {
        if (le->hist_pos == -1)
            le->hist_pos = le->hist_n - 1;
        else if (le->hist_pos > 0)
            le->hist_pos--;
        lineedit_set(le, le->hist[le->hist_pos]);
    } else if (le->hist_pos != -1) {
        if (le->hist_pos < le->hist_n - 1) {
            le->hist_pos++;
            lineedit_set(le, le->hist[le->hist_pos]);
        } else {
            le->hist_pos = -1;
            lineedit_set(le, "");
        }
    }
}

void lineedit_init(struct lineedit *le, lineedit_write_fn write, void *ctx)
{
    memset(le, 0, sizeof(*le));
    le->hist_pos = -1;
    le->write = write;
    le->ctx = ctx;
}

void lineedit_set_secret(struct lineedit *le, int secret)
{
    le->secret = secret;
}

void lineedit_set_complete(struct lineedit *le, lineedit_complete_fn fn)
{
    le->complete = fn;
}

static void lineedit_tab(struct lineedit *le)
{
    char add[LINEEDIT_MAX + 1] = "";
    int listed = 0;
    if (!le->complete || le->secret)
        return;
    le->complete(le->ctx, le->buf, le->len, add, sizeof(add), &listed);
    size_t n = strlen(add);
    if (listed)
        lineedit_echo(le, le->buf, le->len);    /* the caller printed choices under it */
    if (n == 0 || le->len + n > LINEEDIT_MAX) {
        if (!listed)
            lineedit_echo(le, "\a", 1);
        return;
    }
    memcpy(le->buf + le->len, add, n);
    le->len += n;
    le->buf[le->len] = '\0';
    lineedit_echo(le, add, n);
}

int lineedit_feed(struct lineedit *le, uint8_t c)
{
    int cr = le->last_cr;
    le->last_cr = 0;

    if (le->esc == LE_ESC_SEEN) {
        le->esc = c == '[' || c == 'O' ? LE_ESC_CSI : LE_ESC_NONE;
        return 0;
    }
    if (le->esc == LE_ESC_CSI) {
        if (c >= 0x40 && c <= 0x7E) {       /* final byte of the sequence */
            le->esc = LE_ESC_NONE;
            if ((c == 'A' || c == 'B') && !le->secret)
                lineedit_history_move(le, c == 'A');
        }
        return 0;
    }

    switch (c) {
    case '\n':
        if (cr)
            return 0;                   /* the LF of CRLF */
        /* fall through */
    case '\r':
        le->last_cr = c == '\r';
        lineedit_echo(le, "\r\n", 2);
        le->buf[le->len] = '\0';
        lineedit_history_add(le);
        le->hist_pos = -1;
        le->len = 0;                    /* the caller reads buf before the next feed */
        return 1;
    case 0x1B:
        le->esc = LE_ESC_SEEN;
        return 0;
    case 0x08:
    case 0x7F:
        if (le->len > 0) {
            le->len--;
            /* Step back over a whole UTF-8 sequence. */
            while (le->len > 0 && ((uint8_t)le->buf[le->len] & 0xC0) == 0x80)
                le->len--;
            le->buf[le->len] = '\0';
            lineedit_echo(le, "\b \b", 3);
        }
        return 0;
    case '\t':
        lineedit_tab(le);
        return 0;
    case 0x15:                          /* ctrl-U */
        lineedit_set(le, "");
        return 0;
    case 0x03:                          /* ctrl-C */
        lineedit_echo(le, "^C\r\n", 4);
        le->len = 0;
        le->buf[0] = '\0';
        le->hist_pos = -1;
        return 0;
    default:
        break;
    }

    if (c < 0x20)
        return 0;                       /* other control characters: ignored */
    if (le->len >= LINEEDIT_MAX) {
        lineedit_echo(le, "\a", 1);
        return 0;
    }
    le->buf[le->len++] = (char)c;
    le->buf[le->len] = '\0';
    lineedit_echo(le, (const char *)&c, 1);
    return 0;
}
