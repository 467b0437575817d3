/*
 * mime.c - streaming message structure parser (see mime.h).
 *
 * The parser works a line at a time but never holds a line: it keeps the
 * first MIME_PEEK_MAX bytes of each line (a boundary line is shorter than
 * that, trailing blanks aside) and, while in a header, the unfolded field
 * being read (up to MIME_FIELD_MAX bytes).  A field is complete when the
 * next line starts with something other than a blank, so it is interpreted
 * at the first byte of the following line.  Line counts come from a running
 * count of line feeds, taken when a part opens and when it closes.
 */
#include "mime.h"

#include <string.h>

#include "pb_err.h"

enum { MIME_S_HEADER, MIME_S_BODY };

static void mime_field_done(struct mime_parser *p);
static void mime_header_done(struct mime_parser *p, uint32_t body_off);
static void mime_line_end(struct mime_parser *p, bool had_lf);
static void mime_part_default(struct mime_part *part);

/* ------------------------------------------------------------ text helpers */

static char mime_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool mime_is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* token characters of RFC 2045 5.1 (CTLs, SPACE and tspecials excluded). */
static bool mime_is_token(char c)
{
    unsigned char u = (unsigned char)c;
    if (u <= 0x20 || u >= 0x7f)
        return false;
    return strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

static bool mime_name_is(const char *s, size_t n, const char *lit)
{
    size_t i = 0;
    for (; i < n && lit[i]; i++)
        if (mime_lower(s[i]) != lit[i])
            return false;
    return i == n && lit[i] == '\0';
}

/* A cursor over an unfolded field value. */
struct mime_cur {
    const char *s, *end;
};

/* Skip blanks and (nested) comments: RFC 5322 CFWS. */
static void mime_cfws(struct mime_cur *c)
{
    while (c->s < c->end) {
        if (mime_is_blank(*c->s)) {
            c->s++;
        } else if (*c->s == '(') {
            unsigned depth = 0;
            while (c->s < c->end) {
                char ch = *c->s++;
                if (ch == '\\' && c->s < c->end)
                    c->s++;
                else if (ch == '(')
                    depth++;
                else if (ch == ')' && --depth == 0)
                    break;
            }
        } else {
            return;
        }
    }
}

/* A token, or 0 bytes. */
static size_t mime_token(struct mime_cur *c, const char **start)
{
    mime_cfws(c);
    *start = c->s;
    while (c->s < c->end && mime_is_token(*c->s))
        c->s++;
    return (size_t)(c->s - *start);
}

/* Copy n bytes lower-cased into dst (cap includes the NUL); false if cut. */
static bool mime_copy_lower(char *dst, size_t cap, const char *src, size_t n)
{
    bool fit = n < cap;
    if (!fit)
        n = cap - 1;
    for (size_t i = 0; i < n; i++)
        dst[i] = mime_lower(src[i]);
    dst[n] = '\0';
    return fit;
}

/* Copy a value with its surrounding blanks removed; false if cut. */
static bool mime_copy_trim(char *dst, size_t cap, const char *s, const char *end)
{
    while (s < end && mime_is_blank(*s))
        s++;
    while (end > s && mime_is_blank(end[-1]))
        end--;
    size_t n = (size_t)(end - s);
    bool fit = n < cap;
    if (!fit)
        n = cap - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return fit;
}

static int mime_hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = mime_lower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* ------------------------------------------------------------- parameters */

/* A packed list being written: name NUL value NUL ... */
struct mime_plist {
    char *buf;
    uint16_t *len;
    size_t cap;
    size_t last;        /* offset of the last name written, for continuations */
    bool has_last;
    bool cut;
};

/* Append the bytes of one value, %-decoding when ext.  The value is
 * written over the list's terminating NUL and a new NUL put after it. */
static bool mime_plist_put_value(struct mime_plist *l, const char *v, size_t n, bool ext)
{
    size_t at = *l->len;
    for (size_t i = 0; i < n; i++) {
        char ch = v[i];
        if (ext && ch == '%' && i + 2 < n) {
            int hi = mime_hex(v[i + 1]);
            int lo = mime_hex(v[i + 2]);
            if (hi >= 0 && lo >= 0) {
                ch = (char)(hi * 16 + lo);
                i += 2;
            }
        }
        if (ch == '\0' || at + 1 >= l->cap)
            return false;
        l->buf[at++] = ch;
    }
    l->buf[at] = '\0';
    *l->len = (uint16_t)(at + 1);
    return true;
}

/* One parameter: base name (lower-cased by the caller), its RFC 2231
 * section (-1 for none), whether it is extended, and its raw value. */
static void mime_plist_add(struct mime_plist *l, const char *name, size_t nlen, long section,
                           bool ext, const char *v, size_t vlen)
{
    if (ext && section <= 0) {
        /* charset'language'value: the charset is not kept (values are
         * passed on as bytes). */
        const char *q1 = memchr(v, '\'', vlen);
        const char *q2 = q1 ? memchr(q1 + 1, '\'', (size_t)(v + vlen - q1 - 1)) : NULL;
        if (q2) {
            vlen -= (size_t)(q2 + 1 - v);
            v = q2 + 1;
        }
    }
    if (section > 0) {
        /* A continuation joins the parameter written just before it. */
        if (!l->has_last || !mime_name_is(name, nlen, l->buf + l->last))
            return;
        size_t save = *l->len;
        *l->len = (uint16_t)(save - 1);     /* back over the value's NUL */
        if (!mime_plist_put_value(l, v, vlen, ext)) {
            l->buf[save - 1] = '\0';
            *l->len = (uint16_t)save;
            l->cut = true;
        }
        return;
    }
    size_t save = *l->len;
    if (save + nlen + 2 > l->cap) {
        l->cut = true;
        l->has_last = false;
        return;
    }
    for (size_t i = 0; i < nlen; i++)
        l->buf[save + i] = mime_lower(name[i]);
    l->buf[save + nlen] = '\0';
    *l->len = (uint16_t)(save + nlen + 1);
    if (!mime_plist_put_value(l, v, vlen, ext)) {
        *l->len = (uint16_t)save;
        l->cut = true;
        l->has_last = false;
        return;
    }
    l->last = save;
    l->has_last = true;
}

/* Parse ";" name "=" value ... into l.  The boundary, if any, is copied
 * to p->bnd as well (it must survive a full parameter list). */
static void mime_params(struct mime_parser *p, struct mime_cur *c, struct mime_plist *l, bool ct)
{
    char qbuf[MIME_FIELD_MAX];
    while (c->s < c->end) {
        mime_cfws(c);
        if (c->s >= c->end)
            break;
        if (*c->s != ';') {
            /* Junk between parameters: skip to the next ';'. */
            const char *semi = memchr(c->s, ';', (size_t)(c->end - c->s));
            if (!semi)
                break;
            c->s = semi;
        }
        c->s++;
        const char *name;
        size_t nlen = mime_token(c, &name);
        mime_cfws(c);
        if (nlen == 0 || c->s >= c->end || *c->s != '=')
            continue;
        c->s++;
        mime_cfws(c);
        const char *v;
        size_t vlen = 0;
        if (c->s < c->end && *c->s == '"') {
            c->s++;
            while (c->s < c->end && *c->s != '"') {
                if (*c->s == '\\' && c->s + 1 < c->end)
                    c->s++;
                qbuf[vlen++] = *c->s++;
            }
            if (c->s < c->end)
                c->s++;
            v = qbuf;
        } else {
            /* Lenient: a bare value runs to ';' or a blank, tspecials
             * included, as senders write unquoted "name=a/b.pdf". */
            v = c->s;
            while (c->s < c->end && *c->s != ';' && !mime_is_blank(*c->s))
                c->s++;
            vlen = (size_t)(c->s - v);
        }
        /* RFC 2231: name*, name*N, name*N*. */
        const char *star = memchr(name, '*', nlen);
        size_t blen = star ? (size_t)(star - name) : nlen;
        long section = -1;
        bool ext = false;
        if (star) {
            const char *q = star + 1, *nend = name + nlen;
            if (q < nend && *q >= '0' && *q <= '9') {
                section = 0;
                while (q < nend && *q >= '0' && *q <= '9' && section < 1000)
                    section = section * 10 + (*q++ - '0');
            }
            if (q < nend && *q == '*') {
                ext = true;
                q++;
            } else if (q == star + 1) {
                ext = true;     /* "name*": extended, one section */
            }
            if (q != nend || blen == 0)
                continue;
        }
        if (ct && section <= 0 && mime_name_is(name, blen, "boundary") &&
            vlen >= 1 && vlen <= MIME_BOUNDARY_MAX) {
            memcpy(p->bnd, v, vlen);
            p->bnd_len = (uint8_t)vlen;
        }
        mime_plist_add(l, name, blen, section, ext, v, vlen);
    }
}

const char *mime_param_get(const char *packed, size_t len, const char *name)
{
    size_t it = 0;
    const char *n, *v;
    while (mime_param_next(packed, len, &it, &n, &v))
        if (strcmp(n, name) == 0)
            return v;
    return NULL;
}

bool mime_param_next(const char *packed, size_t len, size_t *it,
                     const char **name, const char **value)
{
    if (*it >= len)
        return false;
    const char *n = packed + *it;
    const char *nul = memchr(n, '\0', len - *it);
    if (!nul || (size_t)(nul + 1 - packed) >= len)
        return false;
    const char *v = nul + 1;
    const char *vnul = memchr(v, '\0', len - (size_t)(v - packed));
    if (!vnul)
        return false;
    *it = (size_t)(vnul + 1 - packed);
    *name = n;
    *value = v;
    return true;
}

const char *mime_part_charset(const struct mime_part *part)
{
    const char *cs = mime_param_get(part->params, part->params_len, "charset");
    return cs && cs[0] ? cs : "us-ascii";
}

bool mime_part_is_multipart(const struct mime_part *part)
{
    return strcmp(part->type, "multipart") == 0;
}

bool mime_part_is_message(const struct mime_part *part)
{
    return strcmp(part->type, "message") == 0 &&
           (strcmp(part->subtype, "rfc822") == 0 || strcmp(part->subtype, "global") == 0);
}

/* ----------------------------------------------------------------- fields */

static struct mime_part *mime_cur_part(struct mime_parser *p)
{
    return p->skip ? NULL : &p->parts[p->open[p->top].part];
}

static void mime_set_type(struct mime_part *part, const char *t, const char *st)
{
    strcpy(part->type, t);
    strcpy(part->subtype, st);
}

static void mime_field_content_type(struct mime_parser *p, struct mime_part *part,
                                    struct mime_cur *c)
{
    const char *t, *st;
    size_t tl = mime_token(c, &t);
    mime_cfws(c);
    if (tl == 0 || c->s >= c->end || *c->s != '/')
        return;     /* unusable: the default stays */
    c->s++;
    size_t stl = mime_token(c, &st);
    if (stl == 0)
        return;
    p->ct_seen = 1;
    if (!mime_copy_lower(part->type, sizeof(part->type), t, tl) ||
        !mime_copy_lower(part->subtype, sizeof(part->subtype), st, stl))
        part->flags |= MIME_PART_FIELD_CUT;
    part->flags &= (uint8_t)~MIME_PART_CT_DEFAULT;
    part->params_len = 0;
    p->bnd_len = 0;
    struct mime_plist l = { part->params, &part->params_len, sizeof(part->params), 0, false, false };
    mime_params(p, c, &l, true);
    if (l.cut)
        part->flags |= MIME_PART_PARAMS_CUT;
}

static void mime_field_disposition(struct mime_parser *p, struct mime_part *part,
                                   struct mime_cur *c)
{
    const char *t;
    size_t tl = mime_token(c, &t);
    if (tl == 0)
        return;
    if (!mime_copy_lower(part->disposition, sizeof(part->disposition), t, tl))
        part->flags |= MIME_PART_FIELD_CUT;
    part->dparams_len = 0;
    struct mime_plist l = { part->dparams, &part->dparams_len, sizeof(part->dparams), 0, false, false };
    mime_params(p, c, &l, false);
    if (l.cut)
        part->flags |= MIME_PART_PARAMS_CUT;
}

static void mime_field_encoding(struct mime_part *part, struct mime_cur *c)
{
    const char *t;
    size_t tl = mime_token(c, &t);
    if (tl == 0)
        return;
    if (!mime_copy_lower(part->encoding, sizeof(part->encoding), t, tl))
        part->flags |= MIME_PART_FIELD_CUT;
    static const char *const names[] = { "7bit", "8bit", "binary", "base64", "quoted-printable" };
    part->enc = MIME_ENC_OTHER;
    for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(part->encoding, names[i]) == 0)
            part->enc = (uint8_t)i;
}

/* The unfolded field in p->field is complete: interpret it. */
static void mime_field_done(struct mime_parser *p)
{
    size_t n = p->field_len;
    p->field_len = 0;
    if (p->field_cut)
        p->flags |= MIME_F_FIELD_CUT;
    p->field_cut = 0;
    struct mime_part *part = mime_cur_part(p);
    const char *colon = memchr(p->field, ':', n);
    if (!part || !colon)
        return;
    const char *name = p->field, *nend = colon;
    while (nend > name && (nend[-1] == ' ' || nend[-1] == '\t'))
        nend--;
    size_t nlen = (size_t)(nend - name);
    struct mime_cur c = { colon + 1, p->field + n };
    if (nlen < 8 || mime_lower(name[0]) != 'c' || !mime_name_is(name, 8, "content-")) {
        if (p->top == 0 && mime_name_is(name, nlen, "mime-version"))
            p->flags |= MIME_F_MIME_VERSION;
        return;
    }
    name += 8;
    nlen -= 8;
    bool fit = true;
    if (mime_name_is(name, nlen, "type")) {
        if (!p->ct_seen)    /* the first Content-Type counts */
            mime_field_content_type(p, part, &c);
    } else if (mime_name_is(name, nlen, "transfer-encoding")) {
        if (!part->encoding[0])
            mime_field_encoding(part, &c);
    } else if (mime_name_is(name, nlen, "disposition")) {
        if (!part->disposition[0])
            mime_field_disposition(p, part, &c);
    } else if (mime_name_is(name, nlen, "id")) {
        fit = mime_copy_trim(part->id, sizeof(part->id), c.s, c.end);
    } else if (mime_name_is(name, nlen, "description")) {
        fit = mime_copy_trim(part->description, sizeof(part->description), c.s, c.end);
    } else if (mime_name_is(name, nlen, "language")) {
        fit = mime_copy_trim(part->language, sizeof(part->language), c.s, c.end);
    } else if (mime_name_is(name, nlen, "location")) {
        fit = mime_copy_trim(part->location, sizeof(part->location), c.s, c.end);
    }
    if (!fit)
        part->flags |= MIME_PART_FIELD_CUT;
}

/* ------------------------------------------------------------------ parts */

/* Record a new part at hdr_off as a child of level p->top and open it.
 * When the table is full the part is skipped instead. */
static void mime_part_open(struct mime_parser *p, uint32_t hdr_off)
{
    struct mime_open *parent = &p->open[p->top];
    p->state = MIME_S_HEADER;
    p->ct_seen = 0;
    p->bnd_len = 0;
    p->field_len = 0;
    p->field_cut = 0;
    if (p->nparts >= p->max_parts) {
        p->flags |= MIME_F_PARTS_CUT;
        p->skip = 1;
        p->state = MIME_S_BODY;
        return;
    }
    struct mime_part *part = &p->parts[p->nparts];
    memset(part, 0, sizeof(*part));
    part->hdr_off = hdr_off;
    part->body_off = hdr_off;
    part->parent = parent->part;
    part->depth = (uint8_t)(p->top + 1);
    part->flags = MIME_PART_CT_DEFAULT;
    struct mime_part *pp = &p->parts[parent->part];
    if (pp->nchildren < 255)
        pp->nchildren++;
    if (parent->digest)
        mime_set_type(part, "message", "rfc822");
    else
        mime_set_type(part, "text", "plain");
    p->top++;
    memset(&p->open[p->top], 0, sizeof(p->open[p->top]));
    p->open[p->top].part = (int16_t)p->nparts++;
}

/* Close the innermost level at offset end, which has lf_end line feeds
 * before it; partial says the byte before end is not a line feed. */
static void mime_part_close(struct mime_parser *p, uint32_t end, uint32_t lf_end, bool partial)
{
    struct mime_open *o = &p->open[p->top];
    struct mime_part *part = &p->parts[o->part];
    if (o->multipart && !o->closed)
        part->flags |= MIME_PART_NO_CLOSE;
    if (p->state == MIME_S_HEADER && !p->skip) {
        /* The header never ended: it runs to end, the body is empty. */
        mime_field_done(p);
        part->flags |= MIME_PART_HDR_CUT;
        mime_part_default(part);
        part->hdr_len = end > part->hdr_off ? end - part->hdr_off : 0;
        part->body_off = part->hdr_off + part->hdr_len;
        part->body_len = 0;
        part->body_lines = 0;
        p->state = MIME_S_BODY;
    } else if (end > part->body_off) {
        part->body_len = end - part->body_off;
        part->body_lines = lf_end - o->lf_body + (partial ? 1u : 0u);
    } else {
        part->body_len = 0;
        part->body_lines = 0;
    }
    if (p->top > 0)
        p->top--;
}

/* RFC 2045 5.2: the default text/plain carries its charset. */
static void mime_part_default(struct mime_part *part)
{
    if ((part->flags & MIME_PART_CT_DEFAULT) && strcmp(part->type, "text") == 0) {
        struct mime_plist l = { part->params, &part->params_len, sizeof(part->params), 0, false, false };
        mime_plist_add(&l, "charset", 7, -1, false, "us-ascii", 8);
    }
}

/* The blank line ending the current header was seen; body at body_off. */
static void mime_header_done(struct mime_parser *p, uint32_t body_off)
{
    struct mime_open *o = &p->open[p->top];
    struct mime_part *part = &p->parts[o->part];
    part->hdr_len = body_off - part->hdr_off;
    part->body_off = body_off;
    o->lf_body = p->lf_total;
    p->state = MIME_S_BODY;
    mime_part_default(part);
    bool container = false;
    if (mime_part_is_multipart(part) && p->bnd_len > 0) {
        container = true;
    } else if (mime_part_is_message(part) &&
               (part->enc == MIME_ENC_7BIT || part->enc == MIME_ENC_8BIT ||
                part->enc == MIME_ENC_BINARY)) {
        container = true;
    }
    if (!container)
        return;
    if (p->top >= MIME_DEPTH_MAX) {
        p->flags |= MIME_F_DEPTH_CUT;
        return;
    }
    if (mime_part_is_multipart(part)) {
        o->multipart = 1;
        o->digest = strcmp(part->subtype, "digest") == 0;
        o->blen = p->bnd_len;
        memcpy(o->boundary, p->bnd, p->bnd_len);
    } else {
        mime_part_open(p, body_off);
        if (!p->skip)
            p->open[p->top].lf_body = p->lf_total;
    }
}

/* The level whose boundary the current line is, or -1; *close is set for
 * a close-delimiter.  Trailing blanks are allowed after the boundary. */
static int mime_boundary_match(struct mime_parser *p, bool *close)
{
    if (p->peek_len < 3 || p->peek[0] != '-' || p->peek[1] != '-' || p->tail_nonws)
        return -1;
    size_t n = p->peek_len;
    while (n > 2 && (p->peek[n - 1] == ' ' || p->peek[n - 1] == '\t' || p->peek[n - 1] == '\r'))
        n--;
    for (int k = p->top; k >= 0; k--) {
        const struct mime_open *o = &p->open[k];
        if (!o->multipart || o->closed)
            continue;
        if (n < 2u + o->blen || memcmp(p->peek + 2, o->boundary, o->blen) != 0)
            continue;
        if (n == 2u + o->blen) {
            *close = false;
            return k;
        }
        if (n == 4u + o->blen && p->peek[n - 2] == '-' && p->peek[n - 1] == '-') {
            *close = true;
            return k;
        }
    }
    return -1;
}

/* The current line (from p->line_start to p->pos) is complete. */
static void mime_line_end(struct mime_parser *p, bool had_lf)
{
    uint32_t line_end = p->pos;     /* the LF, or the end of the message */
    uint32_t content = line_end - p->line_start - (p->last_cr ? 1u : 0u);
    uint8_t eol = had_lf ? (uint8_t)(p->last_cr ? 2 : 1) : 0;
    uint32_t next = line_end + (had_lf ? 1u : 0u);
    bool close = false;
    int k = mime_boundary_match(p, &close);
    if (k >= 0) {
        /* The line break before the boundary line belongs to it. */
        uint32_t end = p->line_start - p->prev_eol_len;
        uint32_t lf_line = p->lf_total - (had_lf ? 1u : 0u);
        uint32_t lf_end = lf_line - (p->prev_eol_len ? 1u : 0u);
        bool partial = p->prev_line_len > 0;
        /* A blank line that ends a header and is at once the boundary's
         * line break ("...\n\n--b"): the innermost part ends no earlier
         * than it starts, and its parents with it. */
        if (p->top > k && end < p->parts[p->open[p->top].part].body_off) {
            end = p->line_start;
            lf_end = lf_line;
            partial = false;
        }
        if (p->skip) {
            p->skip = 0;
            p->state = MIME_S_BODY;
        }
        p->field_len = 0;
        while (p->top > k)
            mime_part_close(p, end, lf_end, partial);
        if (close) {
            p->open[k].closed = 1;
            p->state = MIME_S_BODY;
        } else {
            mime_part_open(p, next);
        }
    } else if (p->state == MIME_S_HEADER && !p->skip) {
        if (p->last_cr && p->field_len > 0 && p->field[p->field_len - 1] == '\r')
            p->field_len--;
        if (content == 0)
            mime_header_done(p, next);
    }
    p->prev_line_len = content;
    p->prev_eol_len = eol;
}

/* ------------------------------------------------------------------- API */

void mime_parse_begin(struct mime_parser *p, struct mime_part *parts, unsigned max_parts)
{
    memset(p, 0, sizeof(*p));
    p->parts = parts;
    p->max_parts = max_parts;
    p->bol = 1;
    p->state = MIME_S_HEADER;
    memset(&parts[0], 0, sizeof(parts[0]));
    parts[0].parent = -1;
    parts[0].flags = MIME_PART_CT_DEFAULT;
    mime_set_type(&parts[0], "text", "plain");
    p->nparts = 1;
    p->open[0].part = 0;
}

int mime_parse_feed(struct mime_parser *p, const void *data, size_t len)
{
    if (p->flags & MIME_F_ENDED)
        return PB_EINVAL;
    if (len > (size_t)(UINT32_MAX - p->pos))
        return PB_ERANGE;
    const char *s = data, *end = s + len;
    while (s < end) {
        if (p->bol) {
            p->bol = 0;
            p->line_start = p->pos;
            p->peek_len = 0;
            p->tail_nonws = 0;
            p->last_cr = 0;
            /* A line that does not start with a blank ends the field
             * before it (RFC 5322 2.2.3 unfolding). */
            if (p->state == MIME_S_HEADER && !p->skip && *s != ' ' && *s != '\t' && p->field_len)
                mime_field_done(p);
        }
        const char *lf = memchr(s, '\n', (size_t)(end - s));
        const char *stop = lf ? lf : end;
        size_t n = (size_t)(stop - s);
        if (n) {
            size_t room = MIME_PEEK_MAX - p->peek_len;
            size_t take = n < room ? n : room;
            memcpy(p->peek + p->peek_len, s, take);
            p->peek_len = (uint8_t)(p->peek_len + take);
            if (take < n && p->peek[0] == '-' && !p->tail_nonws) {
                for (size_t i = take; i < n; i++)
                    if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') {
                        p->tail_nonws = 1;
                        break;
                    }
            }
            if (p->state == MIME_S_HEADER && !p->skip) {
                size_t froom = MIME_FIELD_MAX - p->field_len;
                size_t ftake = n < froom ? n : froom;
                memcpy(p->field + p->field_len, s, ftake);
                p->field_len = (uint16_t)(p->field_len + ftake);
                if (ftake < n)
                    p->field_cut = 1;
            }
            p->last_cr = s[n - 1] == '\r';
            p->pos += (uint32_t)n;
            s = stop;
        }
        if (lf) {
            p->lf_total++;
            mime_line_end(p, true);
            p->pos++;
            s++;
            p->bol = 1;
        }
    }
    return 0;
}

int mime_parse_end(struct mime_parser *p)
{
    if (p->flags & MIME_F_ENDED)
        return PB_EINVAL;
    /* The last byte is not a line feed: a partial line, which may still
     * be a boundary.  What stays open after it ends with the message. */
    bool partial = !p->bol;
    if (partial)
        mime_line_end(p, false);
    p->flags |= MIME_F_ENDED;
    p->skip = 0;
    for (;;) {
        uint8_t top = p->top;
        mime_part_close(p, p->pos, p->lf_total, partial);
        if (top == 0)
            break;
    }
    return (int)p->nparts;
}
