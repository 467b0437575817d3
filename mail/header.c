/*
 * header.c - header fields read through a callback (see header.h).
 *
 * The iterator is a small byte reader over a one-chunk cache: a field is
 * scanned once, its name copied as it goes and its value unfolded into the
 * caller's buffer, so memory stays MAIL_HEADER_CHUNK bytes however long
 * the field is.  A field ends at a line feed that is not followed by a
 * blank, which needs one byte of look-ahead; the cache provides it.
 */
#include "header.h"

#include <string.h>

#include "pb_err.h"

static char mail_header_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

bool mail_header_name_eq(const char *a, size_t len, const char *b)
{
    size_t i = 0;
    for (; i < len && b[i]; i++)
        if (mail_header_lower(a[i]) != mail_header_lower(b[i]))
            return false;
    return i == len && b[i] == '\0';
}

int mail_header_mem_read(void *ctx, uint32_t off, void *buf, size_t len)
{
    const struct mail_header_mem *m = ctx;
    if (off >= m->len)
        return 0;
    size_t n = m->len - off < len ? m->len - off : len;
    memcpy(buf, (const char *)m->data + off, n);
    return (int)n;
}

void mail_header_iter_init(struct mail_header_iter *it, mail_header_read_fn read, void *ctx,
                           uint32_t off, uint32_t len)
{
    memset(it, 0, sizeof(*it));
    it->read = read;
    it->ctx = ctx;
    it->pos = off;
    it->end = len > UINT32_MAX - off ? UINT32_MAX : off + len;
    it->buf_off = off;
}

/* The byte at it->pos without consuming it (0..255), or -1 at the end of
 * the block or on a read error (then *err is set). */
static int mail_header_peek(struct mail_header_iter *it, int *err)
{
    if (it->pos >= it->end)
        return -1;
    if (it->pos < it->buf_off || it->pos >= it->buf_off + it->buf_len) {
        uint32_t want = it->end - it->pos;
        if (want > MAIL_HEADER_CHUNK)
            want = MAIL_HEADER_CHUNK;
        int n = it->read(it->ctx, it->pos, it->buf, want);
        if (n < 0) {
            *err = n;
            return -1;
        }
        if (n == 0) {
            it->end = it->pos;  /* the message is shorter than claimed */
            return -1;
        }
        it->buf_off = it->pos;
        it->buf_len = (uint16_t)(n > (int)want ? (int)want : n);
    }
    return it->buf[it->pos - it->buf_off];
}

int mail_header_iter_next(struct mail_header_iter *it, struct mail_header_field *f,
                          char *value, size_t cap)
{
    int err = 0;
    /* Each turn reads one line; a line without a colon is skipped.  The
     * loop ends with the block, so it is bounded by the block's length. */
    while (!it->done) {
        int c = mail_header_peek(it, &err);
        if (err)
            return err;
        bool blank = c < 0 || c == '\n';
        if (c == '\r') {
            /* "\r\n" is the blank line; a lone CR starts a junk line. */
            it->pos++;
            int c2 = mail_header_peek(it, &err);
            it->pos--;
            if (err)
                return err;
            blank = c2 < 0 || c2 == '\n';
        }
        if (blank) {
            it->done = true;
            return 0;
        }
        memset(f, 0, sizeof(*f));
        f->off = it->pos;
        size_t nlen = 0;
        bool colon = false;
        /* The name: up to the colon or the end of the line. */
        while ((c = mail_header_peek(it, &err)) >= 0 && c != '\n') {
            it->pos++;
            if (c == ':') {
                colon = true;
                break;
            }
            if (nlen < MAIL_HEADER_NAME_MAX && c != 0)
                f->name[nlen++] = (char)c;
        }
        if (err)
            return err;
        while (nlen > 0 && (f->name[nlen - 1] == ' ' || f->name[nlen - 1] == '\t'))
            nlen--;
        f->name[nlen] = '\0';
        /* The value: through line breaks followed by a blank. */
        size_t vlen = 0;
        bool lead = true;
        for (;;) {
            c = mail_header_peek(it, &err);
            if (err)
                return err;
            if (c < 0)
                break;
            it->pos++;
            if (c == '\n') {
                int next = mail_header_peek(it, &err);
                if (err)
                    return err;
                if (next != ' ' && next != '\t')
                    break;
                continue;
            }
            if (c == '\r' && colon) {
                int next = mail_header_peek(it, &err);
                if (err)
                    return err;
                if (next == '\n')
                    continue;
            }
            if (!colon || c == 0)
                continue;   /* NULs would cut the C string short */
            if (lead && (c == ' ' || c == '\t'))
                continue;
            lead = false;
            if (vlen + 1 < cap)
                value[vlen++] = (char)c;
            else
                f->value_cut = true;
        }
        while (vlen > 0 && (value[vlen - 1] == ' ' || value[vlen - 1] == '\t'))
            vlen--;
        if (cap > 0)
            value[vlen] = '\0';
        f->len = it->pos - f->off;
        f->value_len = vlen;
        if (colon && nlen > 0)
            return 1;
    }
    return 0;
}

int mail_header_find(mail_header_read_fn read, void *ctx, uint32_t off, uint32_t len,
                     const char *name, char *value, size_t cap, bool *cut)
{
    struct mail_header_iter it;
    struct mail_header_field f;
    mail_header_iter_init(&it, read, ctx, off, len);
    int r;
    while ((r = mail_header_iter_next(&it, &f, value, cap)) == 1) {
        if (mail_header_name_eq(f.name, strlen(f.name), name)) {
            if (cut)
                *cut = f.value_cut;
            return (int)f.value_len;
        }
    }
    if (cap > 0)
        value[0] = '\0';
    return r < 0 ? r : PB_ENOENT;
}
