// fuzz-links: mail/mime.c mail/header.c
/*
 * fuzz_mime.c - libFuzzer target for the MIME structure parser and the
 * header reader.  Invariants: every part's header and body lie inside the
 * message and inside its parent's body, in pre-order; parent and depth
 * agree; feeding one byte at a time (small inputs) or in uneven chunks
 * gives the same table as feeding all at once; every header field the
 * reader reports lies inside the header it was asked to read.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "header.h"
#include "mime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXP 24

static struct mime_part whole[MAXP], other[MAXP];

static int parse(const uint8_t *data, size_t size, size_t chunk, struct mime_part *parts)
{
    struct mime_parser p;
    memset(parts, 0, sizeof(*parts) * MAXP);
    mime_parse_begin(&p, parts, MAXP);
    for (size_t i = 0; i < size; i += chunk)
        if (mime_parse_feed(&p, data + i, size - i < chunk ? size - i : chunk) != 0)
            abort();
    return mime_parse_end(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int n = parse(data, size, size ? size : 1, whole);
    if (n < 1 || n > MAXP)
        abort();
    for (int i = 0; i < n; i++) {
        const struct mime_part *q = &whole[i];
        if ((uint64_t)q->hdr_off + q->hdr_len > size || (uint64_t)q->body_off + q->body_len > size)
            abort();
        if (q->hdr_off + q->hdr_len != q->body_off)
            abort();
        if (q->body_lines > q->body_len)
            abort();
        if (i == 0) {
            if (q->parent != -1 || q->depth != 0 || q->hdr_off != 0)
                abort();
            continue;
        }
        if (q->parent < 0 || q->parent >= i || q->depth != whole[q->parent].depth + 1 ||
            q->depth > MIME_DEPTH_MAX)
            abort();
        const struct mime_part *pp = &whole[q->parent];
        if (q->hdr_off < pp->body_off || q->body_off + q->body_len > pp->body_off + pp->body_len)
            abort();
        if (q->hdr_off < whole[i - 1].hdr_off)
            abort();
        if (!mime_part_is_multipart(pp) && !mime_part_is_message(pp))
            abort();
    }
    /* Any chunking gives the same table. */
    size_t chunk = size <= 512 ? 1 : 1 + (size_t)data[0] % 97;
    if (parse(data, size, chunk, other) != n || memcmp(other, whole, sizeof(*whole) * (size_t)n))
        abort();
    /* The header reader stays inside each part's header. */
    struct mail_header_mem mem = { data, size };
    for (int i = 0; i < n; i++) {
        struct mail_header_iter it;
        struct mail_header_field f;
        char value[64];
        mail_header_iter_init(&it, mail_header_mem_read, &mem, whole[i].hdr_off, whole[i].hdr_len);
        int r;
        while ((r = mail_header_iter_next(&it, &f, value, sizeof(value))) == 1) {
            if (f.off < whole[i].hdr_off || f.off + f.len > whole[i].hdr_off + whole[i].hdr_len ||
                f.value_len >= sizeof(value) || strlen(value) != f.value_len)
                abort();
        }
        if (r != 0)
            abort();
    }
    return 0;
}
