/*
 * header.h - the fields of a message header (RFC 5322 section 2.2), read
 * from wherever the message lives through a caller-supplied callback.
 *
 * The header block (for instance a part's hdr_off/hdr_len from mime.h) is
 * read in MAIL_HEADER_CHUNK-byte pieces, never as a whole.  Each field is
 * reported with its name, the raw byte range it occupies (for IMAP's
 * HEADER.FIELDS, which copies fields verbatim) and its value unfolded (line
 * breaks removed, RFC 5322 2.2.3) into a caller buffer, cut to the
 * buffer's size.  Names compare case-insensitively.  A line without a
 * colon is skipped; the blank line ends the header; NUL bytes are
 * dropped from names and values.  No heap.
 */
#ifndef MAIL_HEADER_H
#define MAIL_HEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MAIL_HEADER_NAME_MAX 76     /* longest field name kept (998 - ": " - value) */
#define MAIL_HEADER_CHUNK    128    /* bytes read per callback */

/* Read up to len bytes of the message at off into buf.  Returns the
 * number of bytes read (0 only past the end) or a negative PB_E*. */
typedef int (*mail_header_read_fn)(void *ctx, uint32_t off, void *buf, size_t len);

struct mail_header_field {
    char name[MAIL_HEADER_NAME_MAX + 1];   /* as written; cut if longer */
    uint32_t off;       /* first byte of the field in the message */
    uint32_t len;       /* bytes through the line break of its last line */
    size_t value_len;   /* unfolded value bytes in the caller's buffer */
    bool value_cut;     /* the value was longer than the buffer */
};

struct mail_header_iter {
    mail_header_read_fn read;
    void *ctx;
    uint32_t pos, end;          /* next byte to look at, end of the block */
    uint32_t buf_off;           /* message offset of buf[0] */
    uint16_t buf_len;
    bool done;
    unsigned char buf[MAIL_HEADER_CHUNK];
};

/* Iterate the header block [off, off + len). */
void mail_header_iter_init(struct mail_header_iter *it, mail_header_read_fn read, void *ctx,
                           uint32_t off, uint32_t len);

/* The next field into *f, its value (NUL-terminated, leading and trailing
 * blanks removed) into value[cap] (cap >= 1).  Returns 1 for a field, 0 at
 * the end of the header, or the read callback's error. */
int mail_header_iter_next(struct mail_header_iter *it, struct mail_header_field *f,
                          char *value, size_t cap);

/* The first field called name in [off, off + len): its unfolded value
 * into value[cap].  Returns the value's length, PB_ENOENT if there is no
 * such field, or a read error.  *cut (may be NULL) says it was cut. */
int mail_header_find(mail_header_read_fn read, void *ctx, uint32_t off, uint32_t len,
                     const char *name, char *value, size_t cap, bool *cut);

/* Whether field name a (len bytes) equals name b (NUL-terminated),
 * ignoring ASCII case. */
bool mail_header_name_eq(const char *a, size_t len, const char *b);

/* A memory buffer as a read callback: ctx is a struct mail_header_mem. */
struct mail_header_mem {
    const void *data;
    size_t len;
};
int mail_header_mem_read(void *ctx, uint32_t off, void *buf, size_t len);

#endif
