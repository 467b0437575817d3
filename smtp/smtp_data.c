/*
 * smtp_data.c - the DATA body decoder (see smtp_data.h).
 *
 * States:
 *   SOL    at the start of a line (after CRLF, or at the start of the body)
 *   TEXT   inside a line
 *   CR     a CR was seen inside a line: CRLF ends the line, anything else
 *          makes it a bare CR
 *   DOT    the line began with '.': a second '.' (or any text) is the
 *          stuffed text, the dot itself is dropped
 *   DOTCR  the line is ".<CR>": LF ends the data
 */
#include "smtp_data.h"

enum { SMTP_DATA_SOL, SMTP_DATA_TEXT, SMTP_DATA_CR, SMTP_DATA_DOT, SMTP_DATA_DOTCR };

void smtp_data_init(struct smtp_data *d)
{
    d->state = SMTP_DATA_SOL;
    d->line_len = 0;
    d->flags = 0;
    d->out_bytes = 0;
    d->done = false;
}

/* An ordinary octet inside a line. */
static void smtp_data_text(struct smtp_data *d, uint8_t c, uint8_t *out, size_t *o)
{
    if (c == '\n') {
        /* Not a line end: it stays in the message and the message is marked. */
        d->flags |= SMTP_DATA_BARE_LF;
    } else if (c >= 0x80) {
        d->flags |= SMTP_DATA_8BIT;
    } else if (c == 0) {
        d->flags |= SMTP_DATA_NUL;
    }
    out[(*o)++] = c;
    d->state = SMTP_DATA_TEXT;
}

size_t smtp_data_feed(struct smtp_data *d, const uint8_t *in, size_t len,
                      uint8_t *out, size_t *out_len)
{
    size_t i = 0, o = 0;
    while (i < len && !d->done) {
        uint8_t c = in[i++];
        d->line_len++;
        if (d->line_len > SMTP_DATA_LINE_MAX)
            d->flags |= SMTP_DATA_LONG_LINE;

        switch (d->state) {
        case SMTP_DATA_SOL:
            if (c == '.') {
                d->state = SMTP_DATA_DOT;
            } else if (c == '\r') {
                out[o++] = '\r';
                d->state = SMTP_DATA_CR;
            } else
                smtp_data_text(d, c, out, &o);
            break;
        case SMTP_DATA_DOT:
            if (c == '\r')
                d->state = SMTP_DATA_DOTCR;
            else if (c == '.') {
                out[o++] = '.';         /* ".." is a stuffed "." */
                d->state = SMTP_DATA_TEXT;
            } else
                smtp_data_text(d, c, out, &o);  /* a lone leading dot is dropped */
            break;
        case SMTP_DATA_DOTCR:
            if (c == '\n') {
                d->done = true;
                break;
            }
            /* ".<CR>x": the CR was bare. */
            d->flags |= SMTP_DATA_BARE_CR;
            out[o++] = '\r';           /* the CR held back after the dot */
            if (c == '\r') {
                out[o++] = '\r';
                d->state = SMTP_DATA_CR;
            } else {
                smtp_data_text(d, c, out, &o);
            }
            break;
        case SMTP_DATA_CR:
            if (c == '\n') {
                out[o++] = '\n';
                d->state = SMTP_DATA_SOL;
                d->line_len = 0;
            } else if (c == '\r') {
                /* CR CR: the first was bare; the second may still start a CRLF. */
                d->flags |= SMTP_DATA_BARE_CR;
                out[o++] = '\r';
            } else {
                d->flags |= SMTP_DATA_BARE_CR;
                smtp_data_text(d, c, out, &o);
            }
            break;
        default: /* SMTP_DATA_TEXT */
            if (c == '\r') {
                out[o++] = '\r';
                d->state = SMTP_DATA_CR;
            } else
                smtp_data_text(d, c, out, &o);
            break;
        }
    }
    d->out_bytes += o;
    *out_len = o;
    return i;
}
