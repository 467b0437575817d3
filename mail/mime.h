/*
 * mime.h - the structure of a message (RFC 5322 header/body, MIME parts of
 * RFC 2045/2046, message/rfc822 and message/global encapsulation), found in
 * one streaming pass.
 *
 * The caller feeds the message in chunks of any size (one byte at a time
 * gives the same result as the whole message at once) and gets a flat table
 * of parts in pre-order: part 0 is the message itself, each part names its
 * parent and depth, and carries byte offsets into the message, so a service
 * reads a part's bytes back from the store instead of holding the message
 * in RAM.  Nothing is allocated: the parser is a fixed struct and the part
 * table is the caller's.
 *
 * Tree shape.  A multipart part has its body parts as children.  A
 * message/rfc822 (or message/global) part has exactly one child: the
 * encapsulated message, whose header starts where the part's body starts
 * and which may itself be multipart.  IMAP's section numbers map onto this
 * tree; the IMAP service does that mapping.
 *
 * Offsets.  hdr_off/hdr_len cover a part's header fields and the blank line
 * that ends them (when there is one: a header cut short by a boundary or by
 * the end of the message has none, and the body is then empty).  body_off/
 * body_len cover the body; for a body part of a multipart the line break
 * before the next boundary line belongs to the boundary (RFC 2046 5.1.1),
 * not to the part.  body_lines is the number of line feeds in the body,
 * plus one when the body ends in a partial line.
 *
 * Leniency (what real mail needs): bare LF line ends as well as CRLF;
 * boundary lines with trailing whitespace; a missing close-delimiter (open
 * parts end where the message or the enclosing part ends); an outer
 * boundary closes the inner multiparts it cuts; MIME-Version is recorded
 * but not required.  Defaults per RFC 2045 5.2: no or unparseable
 * Content-Type is text/plain; charset=us-ascii, except in a
 * multipart/digest, where it is message/rfc822.  A multipart without a
 * usable boundary, and a message/rfc822 declared base64 or
 * quoted-printable, are leaves.
 *
 * Bounds.  Nesting: parts deeper than MIME_DEPTH_MAX are leaves.  Part
 * count: the caller's table; parts beyond it are not recorded (their bytes
 * still count toward their parents) and MIME_F_PARTS_CUT is set.  A header
 * field longer than MIME_FIELD_MAX is cut (MIME_F_FIELD_CUT), parameters
 * beyond MIME_PARAMS_MAX bytes are dropped (MIME_PART_PARAMS_CUT).
 * Messages up to 4 GiB - 1 (offsets are 32-bit).
 *
 * UNFINISHED: Content-MD5 is not kept (BODYSTRUCTURE's body MD5 will be
 * NIL); the charset'language' of RFC 2231 values is dropped and
 * continuations out of order are ignored.
 *
 * Sizes (checked by the unit tests): struct mime_parser is 2,632 bytes on
 * x86-64 (a few less on ARM), struct mime_part 816 bytes.  The parser also
 * takes up to MIME_FIELD_MAX bytes of stack while reading a parameter list.
 */
#ifndef MAIL_MIME_H
#define MAIL_MIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MIME_DEPTH_MAX     16   /* deepest part that may itself contain parts */
#define MIME_BOUNDARY_MAX  70   /* RFC 2046 5.1.1 */
#define MIME_FIELD_MAX     998  /* unfolded header field bytes kept (RFC 5322 2.1.1) */
#define MIME_TYPE_MAX      15   /* lower-cased media type ("application") */
#define MIME_SUBTYPE_MAX   63   /* lower-cased subtype */
#define MIME_PARAMS_MAX    192  /* packed Content-Type parameters */
#define MIME_DISP_MAX      23   /* lower-cased disposition type */
#define MIME_DPARAMS_MAX   128  /* packed Content-Disposition parameters */
#define MIME_ENC_MAX       23   /* lower-cased Content-Transfer-Encoding */
#define MIME_ID_MAX        95   /* Content-ID */
#define MIME_DESC_MAX      95   /* Content-Description (raw, encoded-words kept) */
#define MIME_LANG_MAX      47   /* Content-Language */
#define MIME_LOC_MAX       95   /* Content-Location */

/* Content-Transfer-Encoding, as far as decoding is concerned. */
enum mime_encoding {
    MIME_ENC_7BIT = 0,      /* also when the field is absent (RFC 2045 6.1) */
    MIME_ENC_8BIT,
    MIME_ENC_BINARY,
    MIME_ENC_BASE64,
    MIME_ENC_QP,
    MIME_ENC_OTHER,         /* an unknown token: see part->encoding */
};

/* Part flags. */
#define MIME_PART_CT_DEFAULT  0x01u  /* no usable Content-Type: the default was applied */
#define MIME_PART_PARAMS_CUT  0x02u  /* some parameters did not fit and were dropped */
#define MIME_PART_FIELD_CUT   0x04u  /* a value (id, description, ...) was cut to its bound */
#define MIME_PART_NO_CLOSE    0x08u  /* multipart ended without its close-delimiter */
#define MIME_PART_HDR_CUT     0x10u  /* the header ended without a blank line */

struct mime_part {
    uint32_t hdr_off, hdr_len;      /* header fields and the blank line, bytes */
    uint32_t body_off, body_len;    /* body, bytes */
    uint32_t body_lines;            /* line feeds in the body (+1 for a partial last line) */
    int16_t parent;                 /* index of the parent part, -1 for part 0 */
    uint8_t depth;                  /* 0 for the message itself */
    uint8_t flags;                  /* MIME_PART_* */
    uint8_t enc;                    /* enum mime_encoding */
    uint8_t nchildren;              /* children recorded (saturates at 255) */
    uint16_t params_len;            /* bytes used in params[] */
    uint16_t dparams_len;           /* bytes used in dparams[] */
    char type[MIME_TYPE_MAX + 1];       /* "text" */
    char subtype[MIME_SUBTYPE_MAX + 1]; /* "plain" */
    /* Parameters packed as name NUL value NUL ..., names lower-cased,
     * values unquoted (RFC 2231 continuations joined and %-decoded, their
     * charset'language' prefix dropped).  Read with mime_param_get/next. */
    char params[MIME_PARAMS_MAX];
    char encoding[MIME_ENC_MAX + 1];    /* "" when absent, else lower-cased */
    char disposition[MIME_DISP_MAX + 1];/* "" when absent, else lower-cased */
    char dparams[MIME_DPARAMS_MAX];     /* disposition parameters, packed as params[] */
    char id[MIME_ID_MAX + 1];           /* "" when absent */
    char description[MIME_DESC_MAX + 1];
    char language[MIME_LANG_MAX + 1];
    char location[MIME_LOC_MAX + 1];
};

/* Parser flags (struct mime_parser.flags), about the whole message. */
#define MIME_F_MIME_VERSION 0x01u   /* the message header has MIME-Version */
#define MIME_F_PARTS_CUT    0x02u   /* the part table was full: parts are missing */
#define MIME_F_DEPTH_CUT    0x04u   /* a container deeper than MIME_DEPTH_MAX was left a leaf */
#define MIME_F_FIELD_CUT    0x08u   /* a header field was longer than MIME_FIELD_MAX */
#define MIME_F_ENDED        0x80u   /* mime_parse_end() was called */

#define MIME_PEEK_MAX 80    /* first bytes of each line kept: enough for any boundary line */

/* One open level: a part whose end has not been seen yet. */
struct mime_open {
    int16_t part;           /* index into the table */
    uint8_t multipart;      /* this level has a boundary */
    uint8_t closed;         /* its close-delimiter was seen: epilogue */
    uint8_t digest;         /* multipart/digest: children default to message/rfc822 */
    uint8_t blen;           /* boundary length */
    uint32_t lf_body;       /* line feeds before body_off */
    char boundary[MIME_BOUNDARY_MAX];
};

/* All fields private: zero-initialised by mime_parse_begin(). */
struct mime_parser {
    struct mime_part *parts;
    unsigned max_parts, nparts;
    unsigned flags;                 /* MIME_F_* */
    uint32_t pos;                   /* bytes fed so far */
    uint32_t line_start;            /* offset of the current line */
    uint32_t lf_total;              /* line feeds fed so far */
    uint32_t prev_line_len;         /* content bytes of the previous line */
    uint8_t prev_eol_len;           /* 0, 1 (LF) or 2 (CRLF) */
    uint8_t state;                  /* header or body */
    uint8_t bol;                    /* the next byte starts a line */
    uint8_t skip;                   /* in a part that was not recorded */
    uint8_t last_cr;                /* the last byte fed was CR */
    uint8_t tail_nonws;             /* non-blank byte beyond peek[] in this line */
    uint8_t field_cut;
    uint8_t top;                    /* index of the innermost open level */
    uint8_t ct_seen;                /* the current header had a Content-Type */
    uint8_t peek_len;
    uint16_t field_len;
    uint8_t bnd_len;                /* boundary of the current header's Content-Type */
    char bnd[MIME_BOUNDARY_MAX];
    char peek[MIME_PEEK_MAX];
    char field[MIME_FIELD_MAX];
    struct mime_open open[MIME_DEPTH_MAX + 1];
};

/* Start parsing a message into parts[0..max_parts-1] (max_parts >= 1). */
void mime_parse_begin(struct mime_parser *p, struct mime_part *parts, unsigned max_parts);

/* Feed the next len bytes of the message.  Returns 0, PB_ERANGE if the
 * message would pass 4 GiB, PB_EINVAL after mime_parse_end(). */
int mime_parse_feed(struct mime_parser *p, const void *data, size_t len);

/* The message is complete: close the open parts.  Returns the number of
 * parts recorded (>= 1), or PB_EINVAL if called twice. */
int mime_parse_end(struct mime_parser *p);

/* Value of parameter name (lower-case) in a packed list (part->params,
 * part->params_len or part->dparams, part->dparams_len), or NULL. */
const char *mime_param_get(const char *packed, size_t len, const char *name);

/* Iterate a packed list: *it starts at 0.  Returns true with *name and
 * *value set, false at the end. */
bool mime_param_next(const char *packed, size_t len, size_t *it,
                     const char **name, const char **value);

/* Charset of a text part: its charset parameter, else "us-ascii". */
const char *mime_part_charset(const struct mime_part *part);

/* Whether part is a container whose children the parser looked for. */
bool mime_part_is_multipart(const struct mime_part *part);
bool mime_part_is_message(const struct mime_part *part);

#endif
