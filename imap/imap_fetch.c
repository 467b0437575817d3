/*
 * imap_fetch.c - FETCH and SEARCH: the commands that read messages.
 *
 * FETCH writes one message at a time, each item in turn; a body section
 * is a literal of exact size streamed from the store as the connection
 * has room (imap_fetch_step is called again by imap_session_pump), so no
 * message is ever held in RAM.  Sections resolve onto the MIME tree of
 * mail/mime.h (parsed from flash into one shared table: the session is
 * single-threaded and a parse finishes within one step).  HEADER.FIELDS
 * is not a byte range of the message: its size is counted with one pass
 * over the header, and each piece is produced again from the header's
 * start (headers are small; the bytes need not sit in RAM).
 *
 * ENVELOPE and BODYSTRUCTURE are rendered into a shared buffer of
 * IMAP_FETCH_RENDER_MAX bytes; what would not fit is cut (address lists
 * then shown as NIL, a structure as a single text part).
 *
 * SEARCH keys are read from the command text again for every message
 * (no compiled program to hold): the command stays in the session's
 * buffer while the results are written.
 *
 * UNFINISHED: BINARY, SENTBEFORE/SENTON/SENTSINCE compare the internal
 * date (not the Date: field), ESEARCH answers only
 * ALL (as a list, no MIN/MAX/COUNT), Content-MD5 is NIL.
 */
#include <stdio.h>
#include <string.h>

#include "addrlist.h"
#include "cte.h"
#include "encword.h"
#include "header.h"
#include "imap_session_priv.h"
#include "mime.h"
#include "pb_err.h"

#define IMAP_FETCH_PARTS      24
#define IMAP_FETCH_RENDER_MAX 6000
#define IMAP_FETCH_VALUE_MAX  1000

enum imap_fi {
    IMAP_FI_FLAGS, IMAP_FI_UID, IMAP_FI_INTERNALDATE, IMAP_FI_SIZE, IMAP_FI_ENVELOPE,
    IMAP_FI_BODYSTRUCTURE, IMAP_FI_BODY, IMAP_FI_SECTION, IMAP_FI_MODSEQ,
};
enum imap_spec { IMAP_SP_ALL, IMAP_SP_HEADER, IMAP_SP_FIELDS, IMAP_SP_FIELDS_NOT, IMAP_SP_TEXT,
                 IMAP_SP_MIME };
enum imap_src { IMAP_SRC_BLOB, IMAP_SRC_FIELDS, IMAP_SRC_FIELDS_NOT };

/* Shared scratch (one command runs at a time on the appliance). */
static struct mime_parser imap_fetch_parser;
static struct mime_part imap_fetch_parts[IMAP_FETCH_PARTS];
static char imap_fetch_render[IMAP_FETCH_RENDER_MAX];
static char imap_fetch_value[IMAP_FETCH_VALUE_MAX + 1];

struct imap_blob_ctx {
    struct imap_mailbox *mb;
    uint32_t blob;
};

static int imap_blob_read(void *ctx, uint32_t off, void *buf, size_t len)
{
    const struct imap_blob_ctx *b = ctx;
    return imap_mailbox_read(b->mb, b->blob, off, buf, len);
}

/* Parse the message's MIME structure into imap_fetch_parts: the count. */
static int imap_fetch_mime(struct imap_mailbox *mb, const struct store_msg_info *mi)
{
    char buf[1024];
    mime_parse_begin(&imap_fetch_parser, imap_fetch_parts, IMAP_FETCH_PARTS);
    for (uint32_t off = 0; off < mi->size;) {
        uint32_t want = mi->size - off < sizeof(buf) ? mi->size - off : (uint32_t)sizeof(buf);
        int n = imap_mailbox_read(mb, mi->blob, off, buf, want);
        if (n <= 0)
            return n < 0 ? n : PB_ECORRUPT;
        mime_parse_feed(&imap_fetch_parser, buf, (size_t)n);
        off += (uint32_t)n;
    }
    return mime_parse_end(&imap_fetch_parser);
}

/* ----------------------------------------------------- bounded writer --- */

struct imap_buf {
    char *p;
    size_t len, cap;
    bool over;
};

static void imap_bput(struct imap_buf *b, const char *s, size_t n)
{
    if (b->over || b->len + n >= b->cap) {
        b->over = true;
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void imap_bstr(struct imap_buf *b, const char *s)
{
    imap_bput(b, s, strlen(s));
}

static void imap_bnum(struct imap_buf *b, unsigned long v)
{
    char t[24];
    imap_bput(b, t, (size_t)snprintf(t, sizeof(t), "%lu", v));
}

/* nstring: NIL for NULL, else quoted, or a literal when it must be. */
static void imap_bnstring(struct imap_buf *b, const char *s, size_t n)
{
    if (!s) {
        imap_bstr(b, "NIL");
        return;
    }
    bool literal = false;
    for (size_t i = 0; i < n; i++)
        literal |= s[i] == '\r' || s[i] == '\n' || (unsigned char)s[i] >= 0x80;
    if (literal) {
        char t[24];
        imap_bput(b, t, (size_t)snprintf(t, sizeof(t), "{%lu}\r\n", (unsigned long)n));
        imap_bput(b, s, n);
        return;
    }
    imap_bput(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"' || s[i] == '\\')
            imap_bput(b, "\\", 1);
        imap_bput(b, s + i, 1);
    }
    imap_bput(b, "\"", 1);
}

static void imap_bnstr(struct imap_buf *b, const char *s)
{
    imap_bnstring(b, s && *s ? s : NULL, s ? strlen(s) : 0);
}

static void imap_bupper(struct imap_buf *b, const char *s)
{
    char t[MIME_SUBTYPE_MAX + 1];
    size_t n = 0;
    for (; s[n] && n < sizeof(t) - 1; n++)
        t[n] = s[n] >= 'a' && s[n] <= 'z' ? (char)(s[n] - 32) : s[n];
    imap_bnstring(b, t, n);
}

/* ---------------------------------------------------------- ENVELOPE --- */

static void imap_env_addrs(struct imap_buf *b, const char *v, bool show)
{
    struct mail_addrlist l;
    static struct mail_addrlist_entry e;
    if (!v || !show) {
        imap_bstr(b, "NIL");
        return;
    }
    mail_addrlist_init(&l, v, strlen(v));
    bool any = false;
    while (mail_addrlist_next(&l, &e)) {
        imap_bstr(b, any ? " (" : "((");
        any = true;
        if (e.kind == MAIL_ADDRLIST_MAILBOX) {
            imap_bnstr(b, e.name);
            imap_bput(b, " ", 1);
            imap_bnstr(b, e.route);
            imap_bput(b, " ", 1);
            imap_bnstring(b, e.mailbox, strlen(e.mailbox));
            imap_bput(b, " ", 1);
            imap_bnstr(b, e.host);
        } else if (e.kind == MAIL_ADDRLIST_GROUP_START) {
            imap_bstr(b, "NIL NIL ");
            imap_bnstring(b, e.name, strlen(e.name));
            imap_bstr(b, " NIL");
        } else {
            imap_bstr(b, "NIL NIL NIL NIL");
        }
        imap_bput(b, ")", 1);
    }
    imap_bstr(b, any ? ")" : "NIL");
}

/* ENVELOPE of the header at [off, off + len) of the message. */
static void imap_envelope(struct imap_buf *b, struct imap_mailbox *mb, uint32_t blob, uint32_t off,
                          uint32_t len, bool addrs)
{
    static const char *const fields[] = { "Date", "Subject", "From", "Sender", "Reply-To", "To",
                                          "Cc", "Bcc", "In-Reply-To", "Message-ID" };
    struct imap_blob_ctx ctx = { mb, blob };
    char from[IMAP_FETCH_VALUE_MAX + 1] = "";
    bool have_from = false;
    imap_bput(b, "(", 1);
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        int n = mail_header_find(imap_blob_read, &ctx, off, len, fields[i], imap_fetch_value,
                                 sizeof(imap_fetch_value), NULL);
        const char *v = n >= 0 ? imap_fetch_value : NULL;
        if (i)
            imap_bput(b, " ", 1);
        if (i == 2 && v) {
            memcpy(from, v, (size_t)n + 1);
            have_from = true;
        }
        if ((i == 3 || i == 4) && !v && have_from)
            v = from;               /* Sender and Reply-To default to From */
        if (i >= 2 && i <= 7)
            imap_env_addrs(b, v, addrs);
        else
            imap_bnstring(b, v, v ? strlen(v) : 0);
    }
    imap_bput(b, ")", 1);
}

/* ----------------------------------------------------- BODYSTRUCTURE --- */

static void imap_params(struct imap_buf *b, const char *packed, size_t len)
{
    size_t it = 0;
    const char *n, *v;
    bool any = false;
    while (mime_param_next(packed, len, &it, &n, &v)) {
        imap_bput(b, any ? " " : "(", 1);
        any = true;
        imap_bupper(b, n);
        imap_bput(b, " ", 1);
        imap_bnstring(b, v, strlen(v));
    }
    imap_bstr(b, any ? ")" : "NIL");
}

static void imap_ext(struct imap_buf *b, const struct mime_part *p)
{
    /* disposition, language, location */
    imap_bput(b, " ", 1);
    if (p->disposition[0]) {
        imap_bput(b, "(", 1);
        imap_bupper(b, p->disposition);
        imap_bput(b, " ", 1);
        imap_params(b, p->dparams, p->dparams_len);
        imap_bput(b, ")", 1);
    } else {
        imap_bstr(b, "NIL");
    }
    imap_bput(b, " ", 1);
    imap_bnstr(b, p->language);
    imap_bput(b, " ", 1);
    imap_bnstr(b, p->location);
}

static void imap_body(struct imap_buf *b, struct imap_mailbox *mb, uint32_t blob, int nparts,
                      int i, bool ext, int depth)
{
    const struct mime_part *p = &imap_fetch_parts[i];
    if (depth > MIME_DEPTH_MAX + 2) {
        b->over = true;
        return;
    }
    imap_bput(b, "(", 1);
    if (mime_part_is_multipart(p) && p->nchildren > 0) {
        for (int k = i + 1; k < nparts; k++)
            if (imap_fetch_parts[k].parent == i)
                imap_body(b, mb, blob, nparts, k, ext, depth + 1);
        imap_bput(b, " ", 1);
        imap_bupper(b, p->subtype);
        if (ext) {
            imap_bput(b, " ", 1);
            imap_params(b, p->params, p->params_len);
            imap_ext(b, p);
        }
        imap_bput(b, ")", 1);
        return;
    }
    imap_bupper(b, p->type);
    imap_bput(b, " ", 1);
    imap_bupper(b, p->subtype);
    imap_bput(b, " ", 1);
    imap_params(b, p->params, p->params_len);
    imap_bput(b, " ", 1);
    imap_bnstr(b, p->id);
    imap_bput(b, " ", 1);
    imap_bnstr(b, p->description);
    imap_bput(b, " ", 1);
    imap_bupper(b, p->encoding[0] ? p->encoding : "7bit");
    imap_bput(b, " ", 1);
    imap_bnum(b, p->body_len);
    if (mime_part_is_message(p) && i + 1 < nparts && imap_fetch_parts[i + 1].parent == i) {
        const struct mime_part *m = &imap_fetch_parts[i + 1];
        imap_bput(b, " ", 1);
        imap_envelope(b, mb, blob, m->hdr_off, m->hdr_len, true);
        imap_bput(b, " ", 1);
        imap_body(b, mb, blob, nparts, i + 1, ext, depth + 1);
        imap_bput(b, " ", 1);
        imap_bnum(b, p->body_lines);
    } else if (strcmp(p->type, "text") == 0) {
        imap_bput(b, " ", 1);
        imap_bnum(b, p->body_lines);
    }
    if (ext) {
        imap_bstr(b, " NIL");   /* MD5 */
        imap_ext(b, p);
    }
    imap_bput(b, ")", 1);
}

/* ------------------------------------------------------ FETCH parsing --- */

static bool imap_kw(const char *a, size_t n, const char *kw)
{
    if (strlen(kw) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = a[i] >= 'a' && a[i] <= 'z' ? (char)(a[i] - 32) : a[i];
        if (ch != kw[i])
            return false;
    }
    return true;
}

/* The section "[...]" after BODY / BODY.PEEK, and an optional <a.b>. */
static int imap_parse_section(struct imap_cmd *c, struct imap_fetch_item *it)
{
    if (!imap_cmd_take(c, '['))
        return PB_EINVAL;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        uint32_t n;
        if (imap_cmd_number(c, &n) || n == 0 || n > 0xffff || it->depth >= 8)
            return PB_EINVAL;
        it->part[it->depth++] = (uint16_t)n;
        if (!imap_cmd_take(c, '.'))
            break;
    }
    const char *w = c->p;
    while (c->p < c->end && ((*c->p >= 'A' && *c->p <= 'Z') || (*c->p >= 'a' && *c->p <= 'z') ||
                             *c->p == '.'))
        c->p++;
    size_t n = (size_t)(c->p - w);
    if (n == 0)
        it->spec = IMAP_SP_ALL;
    else if (imap_kw(w, n, "HEADER"))
        it->spec = IMAP_SP_HEADER;
    else if (imap_kw(w, n, "TEXT"))
        it->spec = IMAP_SP_TEXT;
    else if (imap_kw(w, n, "MIME") && it->depth > 0)
        it->spec = IMAP_SP_MIME;
    else if (imap_kw(w, n, "HEADER.FIELDS") || imap_kw(w, n, "HEADER.FIELDS.NOT")) {
        it->spec = n == 13 ? IMAP_SP_FIELDS : IMAP_SP_FIELDS_NOT;
        char f[MAIL_HEADER_NAME_MAX + 1];
        if (imap_cmd_sp(c) || !imap_cmd_take(c, '('))
            return PB_EINVAL;
        it->fields = c->p;
        do {
            if (imap_cmd_astring(c, f, sizeof(f), NULL))
                return PB_EINVAL;
        } while (imap_cmd_take(c, ' '));
        it->fields_len = (uint16_t)(c->p - it->fields);
        if (!imap_cmd_take(c, ')'))
            return PB_EINVAL;
    } else
        return PB_EINVAL;
    if (!imap_cmd_take(c, ']'))
        return PB_EINVAL;
    if (imap_cmd_take(c, '<')) {
        it->partial = true;
        if (imap_cmd_number(c, &it->p_start) || !imap_cmd_take(c, '.') ||
            imap_cmd_number(c, &it->p_len) || it->p_len == 0 || !imap_cmd_take(c, '>'))
            return PB_EINVAL;
    }
    return c->err;
}

static int imap_parse_item(struct imap_session *s, struct imap_cmd *c)
{
    char name[IMAP_CMD_ATOM_MAX + 1];
    const char *start = c->p;
    /* Item names are letters, digits and dots; "[" starts a section (it is
     * an atom character, so imap_cmd_atom would swallow it). */
    size_t n = 0;
    while (c->p < c->end && n < sizeof(name) - 1 &&
           ((*c->p >= 'A' && *c->p <= 'Z') || (*c->p >= 'a' && *c->p <= 'z') ||
            (*c->p >= '0' && *c->p <= '9') || *c->p == '.')) {
        char ch = *c->p++;
        name[n++] = ch >= 'a' && ch <= 'z' ? (char)(ch - 32) : ch;
    }
    name[n] = '\0';
    if (n == 0)
        return PB_EINVAL;
    if (s->nitems >= IMAP_SESSION_FETCH_ITEMS)
        return PB_ERANGE;
    struct imap_fetch_item *it = &s->items[s->nitems];
    memset(it, 0, sizeof(*it));
    static const struct { const char *n; uint8_t kind, spec; bool peek; } simple[] = {
        { "FLAGS", IMAP_FI_FLAGS, 0, false }, { "UID", IMAP_FI_UID, 0, false },
        { "INTERNALDATE", IMAP_FI_INTERNALDATE, 0, false }, { "RFC822.SIZE", IMAP_FI_SIZE, 0, false },
        { "ENVELOPE", IMAP_FI_ENVELOPE, 0, false },
        { "BODYSTRUCTURE", IMAP_FI_BODYSTRUCTURE, 0, false },
        { "RFC822", IMAP_FI_SECTION, IMAP_SP_ALL, false },
        { "RFC822.HEADER", IMAP_FI_SECTION, IMAP_SP_HEADER, true },
        { "RFC822.TEXT", IMAP_FI_SECTION, IMAP_SP_TEXT, false },
        { "MODSEQ", IMAP_FI_MODSEQ, 0, false },
    };
    for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++) {
        if (strcmp(name, simple[i].n) == 0) {
            it->kind = simple[i].kind;
            it->spec = simple[i].spec;
            it->peek = simple[i].peek;
            it->label = start;
            it->label_len = (uint16_t)(c->p - start);
            s->nitems++;
            return 0;
        }
    }
    if (strcmp(name, "BODY") != 0 && strcmp(name, "BODY.PEEK") != 0)
        return PB_EINVAL;
    if (!imap_cmd_peek(c, '[')) {
        if (strcmp(name, "BODY") != 0)
            return PB_EINVAL;
        it->kind = IMAP_FI_BODY;
        s->nitems++;
        return 0;
    }
    it->kind = IMAP_FI_SECTION;
    it->peek = strcmp(name, "BODY.PEEK") == 0;
    const char *sec = c->p;
    if (imap_parse_section(c, it))
        return PB_EINVAL;
    it->label = sec;
    it->label_len = (uint16_t)(c->p - sec);
    if (it->partial) {
        /* the reply names only the origin: "BODY[]<0>" */
        const char *lt = memchr(sec, '<', it->label_len);
        it->label_len = (uint16_t)(lt - sec);
    }
    s->nitems++;
    return 0;
}

/* Whether MODSEQ is one of the items asked for. */
static bool imap_fetch_has_modseq(const struct imap_session *s)
{
    for (unsigned i = 0; i < s->nitems; i++)
        if (s->items[i].kind == IMAP_FI_MODSEQ)
            return true;
    return false;
}

void imap_proceed_fetch(struct imap_session *s, struct imap_cmd *c)
{
    s->nitems = 0;
    if (imap_cmd_sp(c) || imap_cmd_seqset(c, &s->set) || imap_cmd_sp(c)) {
        imap_bad(s, "FETCH set items");
        return;
    }
    int err = 0;
    if (imap_cmd_take(c, '(')) {
        do
            err = imap_parse_item(s, c);
        while (!err && imap_cmd_take(c, ' '));
        if (!err && !imap_cmd_take(c, ')'))
            err = PB_EINVAL;
    } else {
        const char *p = c->p;
        char name[IMAP_CMD_ATOM_MAX + 1];
        if (imap_cmd_atom(c, name, sizeof(name), true) == 0 &&
            (strcmp(name, "ALL") == 0 || strcmp(name, "FAST") == 0 || strcmp(name, "FULL") == 0)) {
            static const uint8_t all[] = { IMAP_FI_FLAGS, IMAP_FI_INTERNALDATE, IMAP_FI_SIZE,
                                           IMAP_FI_ENVELOPE, IMAP_FI_BODY };
            size_t n = strcmp(name, "FAST") == 0 ? 3 : strcmp(name, "ALL") == 0 ? 4 : 5;
            for (size_t i = 0; i < n; i++) {
                memset(&s->items[i], 0, sizeof(s->items[i]));
                s->items[i].kind = all[i];
            }
            s->nitems = (unsigned)n;
        } else {
            c->err = 0;
            c->p = p;
            err = imap_parse_item(s, c);
        }
    }
    /* fetch-modifiers (RFC 7162 3.1.4): (CHANGEDSINCE n) */
    s->f_changed = false;
    s->f_since = 0;
    if (!err && imap_cmd_take(c, ' ')) {
        char mod[IMAP_CMD_ATOM_MAX + 1];
        if (!imap_cmd_take(c, '(') || imap_cmd_atom(c, mod, sizeof(mod), true) ||
            strcmp(mod, "CHANGEDSINCE") != 0 || imap_cmd_sp(c) || imap_cmd_modseq(c, &s->f_since) ||
            !imap_cmd_take(c, ')'))
            err = PB_EINVAL;
        s->f_changed = true;
    }
    if (err || imap_cmd_end(c)) {
        imap_bad(s, "FETCH set (items) [(CHANGEDSINCE modseq)]");
        return;
    }
    /* MODSEQ or CHANGEDSINCE turn CONDSTORE on; CHANGEDSINCE implies
     * MODSEQ, and so does CONDSTORE for a FETCH that sets \Seen. */
    bool item = imap_fetch_has_modseq(s);
    s->f_modseq = s->f_changed && !item;    /* implied: written before the items */
    if (item || s->f_changed)
        imap_condstore_on(s);
    s->it = 1;
    s->f_open = false;
    s->allow_expunge = s->send_uid;
    snprintf(s->done, sizeof(s->done), "%s OK %sFETCH completed\r\n", s->tag,
             s->send_uid ? "UID " : "");
    s->send_kind = IMAP_SEND_FETCH;
    s->mode = IMAP_MODE_SENDING;
}

/* ------------------------------------------------------ FETCH writing --- */

/* Bytes through the blank line that ends the message header. */
static int imap_header_len(struct imap_mailbox *mb, const struct store_msg_info *mi, uint32_t *len)
{
    char buf[512];
    int state = 1;                  /* 1: at a line start */
    for (uint32_t off = 0; off < mi->size;) {
        uint32_t want = mi->size - off < sizeof(buf) ? mi->size - off : (uint32_t)sizeof(buf);
        int n = imap_mailbox_read(mb, mi->blob, off, buf, want);
        if (n <= 0)
            return n < 0 ? n : PB_ECORRUPT;
        for (int i = 0; i < n; i++) {
            char ch = buf[i];
            if (ch == '\n') {
                if (state) {
                    *len = off + (uint32_t)i + 1;
                    return 0;
                }
                state = 1;
            } else if (ch == '\r' && state) {
                /* a CR at a line start may begin the blank line */
            } else {
                state = 0;
            }
        }
        off += (uint32_t)n;
    }
    *len = mi->size;                /* no body */
    return 0;
}

/* Whether field name is in the item's list. */
static bool imap_field_listed(const struct imap_fetch_item *it, const char *name)
{
    struct imap_cmd c;
    char f[MAIL_HEADER_NAME_MAX + 1];
    imap_cmd_init(&c, it->fields, it->fields_len);
    do {
        if (imap_cmd_astring(&c, f, sizeof(f), NULL))
            return false;
        if (mail_header_name_eq(name, strlen(name), f))
            return true;
    } while (imap_cmd_take(&c, ' '));
    return false;
}

/* The filtered header (HEADER.FIELDS[.NOT]): bytes [from, from + len)
 * of it into out (NULL: just count).  Returns its total size. */
static int imap_fields(struct imap_session *s, const struct imap_fetch_item *it, bool not,
                       uint32_t from, char *out, uint32_t len, uint32_t *wrote)
{
    struct imap_blob_ctx ctx = { s->mb, s->f_mi.blob };
    struct mail_header_iter hi;
    struct mail_header_field f;
    char v[1];
    uint32_t pos = 0;
    *wrote = 0;
    mail_header_iter_init(&hi, imap_blob_read, &ctx, s->f_hdr_off, s->f_hdr_len);
    int r;
    for (;;) {
        r = mail_header_iter_next(&hi, &f, v, sizeof(v));
        if (r <= 0)
            break;
        if (imap_field_listed(it, f.name) == not)
            continue;
        /* copy the overlap of [pos, pos + f.len) with [from, from + len) */
        if (out && pos + f.len > from && pos < from + len) {
            uint32_t a = from > pos ? from - pos : 0;
            uint32_t b = from + len - pos < f.len ? from + len - pos : f.len;
            int n = imap_mailbox_read(s->mb, s->f_mi.blob, f.off + a, out + (pos + a - from), b - a);
            if (n != (int)(b - a))
                return PB_ECORRUPT;
            *wrote += b - a;
        }
        pos += f.len;
    }
    if (r < 0)
        return r;
    /* the blank line that ends a header */
    if (out && pos + 2 > from && pos < from + len) {
        for (uint32_t k = pos > from ? pos : from; k < pos + 2 && k < from + len; k++) {
            out[k - from] = k == pos ? '\r' : '\n';
            (*wrote)++;
        }
    }
    return (int)(pos + 2);
}

/* Resolve a section onto byte ranges of the message (or of its filtered header). */
static int imap_resolve(struct imap_session *s, const struct imap_fetch_item *it)
{
    const struct store_msg_info *mi = &s->f_mi;
    uint32_t hoff = 0, hlen, boff, blen;
    s->f_src = IMAP_SRC_BLOB;
    if (it->depth == 0) {
        if (it->spec == IMAP_SP_ALL) {
            s->f_base = 0;
            s->f_len = mi->size;
            return 0;
        }
        int err = imap_header_len(s->mb, mi, &hlen);
        if (err)
            return err;
        boff = hlen;
        blen = mi->size - hlen;
    } else {
        int nparts = imap_fetch_mime(s->mb, mi);
        if (nparts < 0)
            return nparts;
        int cur = 0;                /* a message node */
        bool body_of_msg = false;
        for (unsigned d = 0; d < it->depth; d++) {
            const struct mime_part *p = &imap_fetch_parts[cur];
            int next = -1;
            if (mime_part_is_multipart(p)) {
                unsigned k = 0;
                for (int j = cur + 1; j < nparts; j++)
                    if (imap_fetch_parts[j].parent == cur && ++k == it->part[d]) {
                        next = j;
                        break;
                    }
                body_of_msg = false;
            } else if (it->part[d] == 1 && (cur == 0 || (imap_fetch_parts[cur].parent >= 0 &&
                       mime_part_is_message(&imap_fetch_parts[imap_fetch_parts[cur].parent])))) {
                next = cur;         /* part 1 of a single-part message: its body */
                body_of_msg = true;
            }
            if (next < 0)
                return PB_ENOENT;
            cur = next;
            /* Going deeper through a message/rfc822 part: into the message. */
            if (d + 1 < it->depth && mime_part_is_message(&imap_fetch_parts[cur]) &&
                cur + 1 < nparts && imap_fetch_parts[cur + 1].parent == cur)
                cur = cur + 1;
        }
        const struct mime_part *p = &imap_fetch_parts[cur];
        if (it->spec == IMAP_SP_MIME) {
            if (body_of_msg) {
                hoff = p->hdr_off;
                hlen = p->hdr_len;
            } else {
                hoff = p->hdr_off;
                hlen = p->hdr_len;
            }
            s->f_base = hoff;
            s->f_len = hlen;
            return 0;
        }
        if (it->spec == IMAP_SP_ALL) {
            s->f_base = p->body_off;
            s->f_len = p->body_len;
            return 0;
        }
        /* HEADER, TEXT, HEADER.FIELDS of an encapsulated message */
        if (!mime_part_is_message(p) || cur + 1 >= nparts || imap_fetch_parts[cur + 1].parent != cur)
            return PB_ENOENT;
        p = &imap_fetch_parts[cur + 1];
        hoff = p->hdr_off;
        hlen = p->hdr_len;
        boff = p->body_off;
        blen = p->body_len;
    }
    s->f_hdr_off = hoff;
    s->f_hdr_len = hlen;
    if (it->spec == IMAP_SP_HEADER) {
        s->f_base = hoff;
        s->f_len = hlen;
    } else if (it->spec == IMAP_SP_TEXT) {
        s->f_base = boff;
        s->f_len = blen;
    } else {
        uint32_t w;
        s->f_src = it->spec == IMAP_SP_FIELDS ? IMAP_SRC_FIELDS : IMAP_SRC_FIELDS_NOT;
        int n = imap_fields(s, it, s->f_src == IMAP_SRC_FIELDS_NOT, 0, NULL, 0, &w);
        if (n < 0)
            return n;
        s->f_base = 0;
        s->f_len = (uint32_t)n;
    }
    return 0;
}

static const char *const imap_month_names[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* A small item of message s->it; false when it does not fit now. */
static bool imap_fetch_small(struct imap_session *s, const struct imap_fetch_item *it)
{
    struct imap_buf b = { imap_fetch_render, 0, sizeof(imap_fetch_render), false };
    char f[IMAP_FLAGS_TEXT_MAX];
    const struct store_msg_info *mi = &s->f_mi;
    switch (it->kind) {
    case IMAP_FI_FLAGS:
        imap_bstr(&b, "FLAGS (");
        imap_bstr(&b, imap_flags_text(s->mb, s->mb->flags[s->it - 1], f, sizeof(f)));
        imap_bstr(&b, ")");
        break;
    case IMAP_FI_UID:
        imap_bstr(&b, "UID ");
        imap_bnum(&b, mi->uid);
        break;
    case IMAP_FI_MODSEQ:
        imap_bstr(&b, "MODSEQ (");
        imap_bnum(&b, mi->modseq);
        imap_bstr(&b, ")");
        break;
    case IMAP_FI_SIZE:
        imap_bstr(&b, "RFC822.SIZE ");
        imap_bnum(&b, mi->size);
        break;
    case IMAP_FI_INTERNALDATE: {
        int y;
        unsigned m, d;
        uint32_t t = mi->date;
        imap_civil_from_days((int32_t)(t / 86400), &y, &m, &d);
        snprintf(f, sizeof(f), "INTERNALDATE \"%02u-%s-%04d %02lu:%02lu:%02lu +0000\"", d,
                 imap_month_names[m - 1], y, (unsigned long)(t % 86400 / 3600),
                 (unsigned long)(t % 3600 / 60), (unsigned long)(t % 60));
        imap_bstr(&b, f);
        break;
    }
    case IMAP_FI_ENVELOPE: {
        uint32_t hl;
        if (imap_header_len(s->mb, mi, &hl))
            hl = 0;
        imap_bstr(&b, "ENVELOPE ");
        imap_envelope(&b, s->mb, mi->blob, 0, hl, true);
        if (b.over) {
            b.len = 0;
            b.over = false;
            imap_bstr(&b, "ENVELOPE ");
            imap_envelope(&b, s->mb, mi->blob, 0, hl, false);
        }
        break;
    }
    case IMAP_FI_BODY:
    case IMAP_FI_BODYSTRUCTURE: {
        bool ext = it->kind == IMAP_FI_BODYSTRUCTURE;
        int nparts = imap_fetch_mime(s->mb, mi);
        imap_bstr(&b, ext ? "BODYSTRUCTURE " : "BODY ");
        if (nparts > 0)
            imap_body(&b, s->mb, mi->blob, nparts, 0, ext, 0);
        if (nparts <= 0 || b.over) {
            b.len = 0;
            b.over = false;
            imap_bstr(&b, ext ? "BODYSTRUCTURE " : "BODY ");
            imap_bstr(&b, "(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" ");
            imap_bnum(&b, mi->size);
            imap_bstr(&b, " 0)");
        }
        break;
    }
    default:
        break;
    }
    if (b.len + 2 > s->room)
        return false;
    imap_out(s, b.p, b.len);
    return true;
}

/* Open a body section of the message: its label and literal size. */
static int imap_fetch_section_start(struct imap_session *s, const struct imap_fetch_item *it)
{
    int err = imap_resolve(s, it);
    if (err == PB_ENOENT) {
        s->f_base = 0;
        s->f_len = 0;       /* a part that does not exist is empty (RFC 3501 6.4.5) */
        s->f_src = IMAP_SRC_BLOB;
    } else if (err) {
        return err;
    }
    if (it->partial) {
        uint32_t start = it->p_start < s->f_len ? it->p_start : s->f_len;
        uint32_t n = s->f_len - start < it->p_len ? s->f_len - start : it->p_len;
        s->f_base += s->f_src == IMAP_SRC_BLOB ? start : 0;
        s->f_off = s->f_src == IMAP_SRC_BLOB ? 0 : start;
        s->f_len = s->f_src == IMAP_SRC_BLOB ? n : start + n;
    } else {
        s->f_off = 0;
    }
    if (it->label)
        imap_printf(s, "%s%.*s", it->kind == IMAP_FI_SECTION && it->label[0] == '[' ? "BODY" : "",
                    (int)it->label_len, it->label);
    if (it->partial)
        imap_printf(s, "<%lu>", (unsigned long)it->p_start);
    imap_printf(s, " {%lu}\r\n", (unsigned long)(s->f_len - s->f_off));
    return 0;
}

/* Stream the open literal as room allows; 1 when it is all out. */
static int imap_fetch_section_pump(struct imap_session *s, const struct imap_fetch_item *it)
{
    char buf[1024];
    while (s->f_off < s->f_len) {
        if (s->room == 0)
            return 0;
        uint32_t n = s->f_len - s->f_off;
        if (n > sizeof(buf))
            n = sizeof(buf);
        if (n > s->room)
            n = (uint32_t)s->room;
        int got;
        if (s->f_src == IMAP_SRC_BLOB) {
            got = imap_mailbox_read(s->mb, s->f_mi.blob, s->f_base + s->f_off, buf, n);
        } else {
            uint32_t w;
            got = imap_fields(s, it, s->f_src == IMAP_SRC_FIELDS_NOT, s->f_off, buf, n, &w);
            got = got < 0 ? got : (int)w;
        }
        if (got <= 0)
            return got < 0 ? got : PB_ECORRUPT;
        imap_out(s, buf, (size_t)got);
        s->f_off += (uint32_t)got;
    }
    return 1;
}

int imap_fetch_step(struct imap_session *s)
{
    struct imap_mailbox *mb = s->mb;
    if (!s->f_open) {
        while (s->it <= mb->count && !imap_selected(s, &s->set, s->it))
            s->it++;
        if (s->it > mb->count)
            return 0;
        if (s->room < IMAP_SESSION_PUMP_MIN)
            return -1;
        if (imap_mailbox_msg(mb, s->it, &s->f_mi) != 0 ||
            (s->f_changed && s->f_mi.modseq <= s->f_since)) {
            s->it++;                /* expunged meanwhile, or unchanged: nothing to show */
            return 1;
        }
        s->f_set_seen = false;
        for (unsigned i = 0; i < s->nitems; i++)
            if (s->items[i].kind == IMAP_FI_SECTION && !s->items[i].peek)
                s->f_set_seen = true;
        if (s->f_set_seen && !mb->readonly && !(s->f_mi.flags & STORE_FLAG_SEEN)) {
            struct store_txn *txn = NULL;
            int err = imap_mailbox_set_flags(mb, &txn, s->it,
                                             (uint16_t)(s->f_mi.flags | STORE_FLAG_SEEN));
            err = imap_mailbox_commit(mb, &txn, err);
            if (!err) {
                s->f_mi.flags |= STORE_FLAG_SEEN;
                imap_mailbox_saw_flags(mb, s->it, (uint16_t)s->f_mi.flags);
                /* The new modseq, for MODSEQ below (as is, if it went). */
                struct store_msg_info now;
                if (imap_mailbox_msg(mb, s->it, &now) == 0)
                    s->f_mi.modseq = now.modseq;
            } else {
                s->f_set_seen = false;
            }
        } else {
            s->f_set_seen = false;
        }
        imap_printf(s, "* %lu FETCH (", (unsigned long)s->it);
        s->f_open = true;
        s->f_item = 0;
        s->f_len = s->f_off = 0;
        /* RFC 7162 3.1: a FETCH that sets \Seen carries UID and MODSEQ
         * for a CONDSTORE client. */
        if (s->send_uid || (s->f_set_seen && s->condstore)) {
            bool has_uid = false;
            for (unsigned i = 0; i < s->nitems; i++)
                has_uid |= s->items[i].kind == IMAP_FI_UID;
            if (!has_uid)
                imap_printf(s, "UID %lu ", (unsigned long)s->f_mi.uid);
        }
        if (s->f_modseq || (s->f_set_seen && s->condstore && !imap_fetch_has_modseq(s)))
            imap_printf(s, "MODSEQ (%lu)%s", (unsigned long)s->f_mi.modseq, s->nitems ? " " : "");
        s->f_base = UINT32_MAX;     /* no literal open */
    }
    while (s->f_item < s->nitems) {
        const struct imap_fetch_item *it = &s->items[s->f_item];
        if (it->kind == IMAP_FI_SECTION) {
            if (s->f_base == UINT32_MAX) {
                if (s->room < 128)
                    return -1;
                int err = imap_fetch_section_start(s, it);
                if (err < 0)
                    goto fail;
            }
            int r = imap_fetch_section_pump(s, it);
            if (r < 0)
                goto fail;
            if (r == 0)
                return -1;
        } else if (!imap_fetch_small(s, it)) {
            return -1;
        }
        s->f_base = UINT32_MAX;
        s->f_item++;
        if (s->f_item < s->nitems)
            imap_out(s, " ", 1);
    }
    if (s->room < 64 + IMAP_FLAGS_TEXT_MAX)
        return -1;
    if (s->f_set_seen) {
        char f[IMAP_FLAGS_TEXT_MAX];
        imap_printf(s, " FLAGS (%s)", imap_flags_text(s->mb, (uint16_t)s->f_mi.flags, f, sizeof(f)));
    }
    imap_out(s, ")\r\n", 3);
    s->f_open = false;
    s->fetched++;
    s->it++;
    return 1;
fail:
    /* The message went away under us (expunged elsewhere and its body
     * collected) or flash failed: a literal cannot be taken back. */
    imap_printf(s, "\r\n* BYE The message could not be read\r\n");
    s->mode = IMAP_MODE_CLOSED;
    s->state = IMAP_STATE_LOGOUT;
    imap_session_end(s, "message unreadable during FETCH");
    return -1;
}

/* ------------------------------------------------------------- SEARCH --- */

static char imap_search_arg[1024];

/* Case-insensitive ASCII substring. */
static bool imap_contains(const char *hay, size_t hn, const char *needle, size_t nn)
{
    if (nn == 0)
        return true;
    for (size_t i = 0; i + nn <= hn; i++) {
        size_t k = 0;
        for (; k < nn; k++) {
            char a = hay[i + k], b = needle[k];
            if (a >= 'A' && a <= 'Z') a = (char)(a + 32);
            if (b >= 'A' && b <= 'Z') b = (char)(b + 32);
            if (a != b)
                break;
        }
        if (k == nn)
            return true;
    }
    return false;
}

static bool imap_search_header(struct imap_session *s, const struct store_msg_info *mi,
                               const char *field, const char *needle)
{
    struct imap_blob_ctx ctx = { s->mb, mi->blob };
    struct mail_header_iter hi;
    struct mail_header_field f;
    static char dec[IMAP_FETCH_VALUE_MAX + 1];
    uint32_t hl;
    if (imap_header_len(s->mb, mi, &hl))
        return false;
    mail_header_iter_init(&hi, imap_blob_read, &ctx, 0, hl);
    while (mail_header_iter_next(&hi, &f, imap_fetch_value, sizeof(imap_fetch_value)) == 1) {
        if (field && !mail_header_name_eq(f.name, strlen(f.name), field))
            continue;
        size_t n = mail_encword_decode(imap_fetch_value, f.value_len, dec, sizeof(dec));
        if (imap_contains(dec, n, needle, strlen(needle)) ||
            (!field && imap_contains(f.name, strlen(f.name), needle, strlen(needle))))
            return true;
    }
    return false;
}

/* The decoded text of every leaf part (and the header when text) contains
 * needle: streamed through mail/cte.c with a window that keeps the last
 * needle-length bytes of the previous piece. */
static bool imap_search_body(struct imap_session *s, const struct store_msg_info *mi,
                             const char *needle, bool text)
{
    size_t nn = strlen(needle);
    if (text && imap_search_header(s, mi, NULL, needle))
        return true;
    if (nn == 0)
        return true;
    if (nn > 256)
        return false;
    int nparts = imap_fetch_mime(s->mb, mi);
    if (nparts <= 0)
        return false;
    for (int i = 0; i < nparts; i++) {
        const struct mime_part *p = &imap_fetch_parts[i];
        if (mime_part_is_multipart(p) || mime_part_is_message(p))
            continue;
        struct mail_cte d;
        mail_cte_init(&d, p->enc == MIME_ENC_BASE64 ? MAIL_CTE_BASE64 :
                          p->enc == MIME_ENC_QP ? MAIL_CTE_QP : MAIL_CTE_IDENTITY);
        char in[512], win[256 + 1024];
        size_t keep = 0;
        for (uint32_t off = 0; off <= p->body_len;) {
            size_t got = 0, out;
            if (off < p->body_len) {
                uint32_t want = p->body_len - off < sizeof(in) ? p->body_len - off : (uint32_t)sizeof(in);
                int n = imap_mailbox_read(s->mb, mi->blob, p->body_off + off, in, want);
                if (n <= 0)
                    return false;
                size_t used = 0;
                while (used < (size_t)n) {
                    size_t u;
                    out = mail_cte_decode(&d, in + used, (size_t)n - used, &u, win + keep,
                                          sizeof(win) - keep);
                    used += u;
                    if (imap_contains(win, keep + out, needle, nn))
                        return true;
                    size_t tot = keep + out;
                    keep = tot < nn ? tot : nn - 1;
                    memmove(win, win + tot - keep, keep);
                    if (u == 0 && out == 0)
                        break;
                }
                off += (uint32_t)n;
                got = (size_t)n;
            }
            if (off >= p->body_len) {
                out = mail_cte_finish(&d, win + keep, sizeof(win) - keep);
                if (imap_contains(win, keep + out, needle, nn))
                    return true;
                break;
            }
            (void)got;
        }
    }
    return false;
}

/* One search key at c for message seq (mi NULL: check syntax only).
 * Returns 1 match, 0 no match, negative for a syntax error. */
static int imap_search_key(struct imap_session *s, struct imap_cmd *c, uint32_t seq,
                           const struct store_msg_info *mi, int depth)
{
    char key[IMAP_CMD_ATOM_MAX + 1];
    if (depth > 16)
        return PB_ERANGE;
    if (imap_cmd_take(c, '(')) {
        int all = 1;
        do {
            int r = imap_search_key(s, c, seq, mi, depth + 1);
            if (r < 0)
                return r;
            all &= r;
        } while (imap_cmd_take(c, ' '));
        return imap_cmd_take(c, ')') ? all : PB_EINVAL;
    }
    if ((c->p < c->end && (*c->p == '*' || (*c->p >= '0' && *c->p <= '9')))) {
        struct imap_seqset set;
        if (imap_cmd_seqset(c, &set))
            return PB_EINVAL;
        return mi ? imap_seqset_contains(&set, seq, s->mb->count) : 1;
    }
    if (imap_cmd_atom(c, key, sizeof(key), true))
        return PB_EINVAL;
    static const struct { const char *k; uint16_t flag; bool set; } flags[] = {
        { "ANSWERED", STORE_FLAG_ANSWERED, true }, { "DELETED", STORE_FLAG_DELETED, true },
        { "DRAFT", STORE_FLAG_DRAFT, true }, { "FLAGGED", STORE_FLAG_FLAGGED, true },
        { "SEEN", STORE_FLAG_SEEN, true }, { "UNANSWERED", STORE_FLAG_ANSWERED, false },
        { "UNDELETED", STORE_FLAG_DELETED, false }, { "UNDRAFT", STORE_FLAG_DRAFT, false },
        { "UNFLAGGED", STORE_FLAG_FLAGGED, false }, { "UNSEEN", STORE_FLAG_SEEN, false },
        { "OLD", 0, false }, { "ALL", 0, false },
    };
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
        if (strcmp(key, flags[i].k) == 0)
            return !mi || (flags[i].flag ? ((mi->flags & flags[i].flag) != 0) == flags[i].set : 1);
    if (strcmp(key, "NEW") == 0 || strcmp(key, "RECENT") == 0)
        return !mi;                 /* \Recent is never set */
    if (strcmp(key, "NOT") == 0) {
        if (imap_cmd_sp(c))
            return PB_EINVAL;
        int r = imap_search_key(s, c, seq, mi, depth + 1);
        return r < 0 ? r : (!mi || !r);
    }
    if (strcmp(key, "OR") == 0) {
        if (imap_cmd_sp(c))
            return PB_EINVAL;
        int a = imap_search_key(s, c, seq, mi, depth + 1);
        if (a < 0 || imap_cmd_sp(c))
            return PB_EINVAL;
        int b = imap_search_key(s, c, seq, mi, depth + 1);
        return b < 0 ? b : (a || b);
    }
    if (strcmp(key, "UID") == 0) {
        struct imap_seqset set;
        if (imap_cmd_sp(c) || imap_cmd_seqset(c, &set))
            return PB_EINVAL;
        return !mi || imap_seqset_contains(&set, mi->uid, s->mb->uids[s->mb->count - 1]);
    }
    if (strcmp(key, "MODSEQ") == 0) {
        /* RFC 7162 3.1.5: MODSEQ ["/flags/name" priv|shared|all] n.  The
         * store keeps one modseq per message, not one per flag: the
         * entry is read and the message's modseq compared. */
        char entry[IMAP_CMD_ATOM_MAX + 1];
        uint64_t n;
        if (imap_cmd_sp(c))
            return PB_EINVAL;
        if (imap_cmd_peek(c, '"')) {
            if (imap_cmd_string(c, entry, sizeof(entry), NULL) || imap_cmd_sp(c) ||
                imap_cmd_atom(c, entry, sizeof(entry), true) ||
                (strcmp(entry, "PRIV") != 0 && strcmp(entry, "SHARED") != 0 &&
                 strcmp(entry, "ALL") != 0) || imap_cmd_sp(c))
                return PB_EINVAL;
        }
        if (imap_cmd_modseq(c, &n))
            return PB_EINVAL;
        s->s_modseq = true;
        return !mi || mi->modseq >= n;
    }
    if (strcmp(key, "LARGER") == 0 || strcmp(key, "SMALLER") == 0) {
        uint32_t n;
        if (imap_cmd_sp(c) || imap_cmd_number(c, &n))
            return PB_EINVAL;
        return !mi || (key[0] == 'L' ? mi->size > n : mi->size < n);
    }
    const char *dk = strncmp(key, "SENT", 4) == 0 ? key + 4 : key;
    if (strcmp(dk, "BEFORE") == 0 || strcmp(dk, "ON") == 0 || strcmp(dk, "SINCE") == 0) {
        int32_t days;
        if (imap_cmd_sp(c) || imap_cmd_date(c, &days))
            return PB_EINVAL;
        if (!mi)
            return 1;
        int32_t md = (int32_t)(mi->date / 86400);
        return dk[0] == 'B' ? md < days : dk[0] == 'O' ? md == days : md >= days;
    }
    if (strcmp(key, "KEYWORD") == 0 || strcmp(key, "UNKEYWORD") == 0) {
        char f[IMAP_CMD_ATOM_MAX + 1];
        uint16_t bit = 0;
        if (imap_cmd_sp(c) || imap_cmd_atom(c, f, sizeof(f), false))
            return PB_EINVAL;
        if (!mi)
            return 1;
        /* A keyword no message was ever given matches none. */
        bool has = imap_mailbox_keyword(s->mb, f, false, &bit) == 0 && (mi->flags & bit);
        return key[0] == 'U' ? !has : has;
    }
    static const char *const hdr[] = { "FROM", "TO", "CC", "BCC", "SUBJECT" };
    const char *field = NULL;
    char name[MAIL_HEADER_NAME_MAX + 1];
    for (size_t i = 0; i < sizeof(hdr) / sizeof(hdr[0]); i++)
        if (strcmp(key, hdr[i]) == 0)
            field = hdr[i];
    if (strcmp(key, "HEADER") == 0) {
        if (imap_cmd_sp(c) || imap_cmd_astring(c, name, sizeof(name), NULL))
            return PB_EINVAL;
        field = name;
    }
    if (field || strcmp(key, "BODY") == 0 || strcmp(key, "TEXT") == 0) {
        if (imap_cmd_sp(c) || imap_cmd_astring(c, imap_search_arg, sizeof(imap_search_arg), NULL))
            return PB_EINVAL;
        if (!mi)
            return 1;
        if (field)
            return imap_search_header(s, mi, field, imap_search_arg);
        return imap_search_body(s, mi, imap_search_arg, key[0] == 'T');
    }
    return PB_EINVAL;
}

/* All keys of the program for message seq. */
static int imap_search_eval(struct imap_session *s, uint32_t seq, const struct store_msg_info *mi)
{
    struct imap_cmd c = s->rest;
    int all = 1;
    do {
        int r = imap_search_key(s, &c, seq, mi, 0);
        if (r < 0)
            return r;
        all &= r;
    } while (imap_cmd_take(&c, ' '));
    return imap_cmd_at_end(&c) ? all : PB_EINVAL;
}

void imap_proceed_search(struct imap_session *s, struct imap_cmd *c)
{
    char w[IMAP_CMD_ATOM_MAX + 1];
    if (imap_cmd_sp(c)) {
        imap_bad(s, "SEARCH keys");
        return;
    }
    /* RETURN (options) (RFC 4731): ESEARCH results; a rev2 session gets
     * them always, ALL when it names no option. */
    s->esearch = s->rev2 ? IMAP_ES_ALL : 0;
    struct imap_cmd save = *c;
    if (imap_cmd_atom(c, w, sizeof(w), true) == 0 && strcmp(w, "RETURN") == 0) {
        static const struct { const char *name; uint8_t bit; } opts[] = {
            { "MIN", IMAP_ES_MIN }, { "MAX", IMAP_ES_MAX },
            { "COUNT", IMAP_ES_COUNT }, { "ALL", IMAP_ES_ALL },
        };
        uint8_t want = 0;
        if (imap_cmd_sp(c) || !imap_cmd_take(c, '(')) {
            imap_bad(s, "SEARCH RETURN (MIN MAX COUNT ALL) keys");
            return;
        }
        if (!imap_cmd_take(c, ')')) {
            do {
                size_t i = 0;
                if (imap_cmd_atom(c, w, sizeof(w), true) == 0)
                    for (; i < sizeof(opts) / sizeof(opts[0]); i++)
                        if (strcmp(w, opts[i].name) == 0)
                            break;
                if (c->err || i == sizeof(opts) / sizeof(opts[0])) {
                    imap_bad(s, "SEARCH RETURN options are MIN MAX COUNT ALL");
                    return;
                }
                want |= opts[i].bit;
            } while (imap_cmd_take(c, ' '));
            if (!imap_cmd_take(c, ')')) {
                imap_bad(s, "SEARCH RETURN (MIN MAX COUNT ALL) keys");
                return;
            }
        }
        s->esearch = want ? want : IMAP_ES_ALL;     /* "RETURN ()" is ALL */
        if (imap_cmd_sp(c)) {
            imap_bad(s, "SEARCH keys");
            return;
        }
        save = *c;
    } else {
        *c = save;
    }
    if (imap_cmd_atom(c, w, sizeof(w), true) == 0 && strcmp(w, "CHARSET") == 0) {
        if (imap_cmd_sp(c) || imap_cmd_astring(c, w, sizeof(w), NULL) || imap_cmd_sp(c)) {
            imap_bad(s, "SEARCH CHARSET name keys");
            return;
        }
        for (char *p = w; *p; p++)
            if (*p >= 'a' && *p <= 'z')
                *p = (char)(*p - 32);
        if (strcmp(w, "UTF-8") != 0 && strcmp(w, "US-ASCII") != 0) {
            imap_finish(s, "NO [BADCHARSET (UTF-8 US-ASCII)] Unknown charset");
            return;
        }
    } else {
        *c = save;
    }
    s->rest = *c;
    s->s_modseq = false;
    s->s_modseq_max = 0;
    if (imap_search_eval(s, 0, NULL) < 0) {
        imap_bad(s, "Bad search program");
        return;
    }
    if (s->s_modseq)
        imap_condstore_on(s);
    s->it = 1;
    s->f_open = false;
    s->e_phase = 0;
    s->e_count = s->e_min = s->e_max = 0;
    if (s->esearch)
        memset(s->e_hits, 0, sizeof(s->e_hits));
    s->allow_expunge = s->send_uid;
    snprintf(s->done, sizeof(s->done), "%s OK %sSEARCH completed\r\n", s->tag,
             s->send_uid ? "UID " : "");
    s->send_kind = IMAP_SEND_SEARCH;
    s->mode = IMAP_MODE_SENDING;
}

/* Write the range e_first:e_last of the ALL result. */
static void imap_esearch_range(struct imap_session *s)
{
    if (s->e_first == s->e_last)
        imap_printf(s, "%s%lu", s->e_sep ? "," : "", (unsigned long)s->e_first);
    else
        imap_printf(s, "%s%lu:%lu", s->e_sep ? "," : "", (unsigned long)s->e_first,
                    (unsigned long)s->e_last);
    s->e_sep = true;
}

/* ESEARCH: every message is evaluated first (the matches are bits in
 * e_hits), so that MIN, MAX and COUNT are known before ALL is written;
 * ALL then goes out as ranges as the connection has room. */
static int imap_esearch_step(struct imap_session *s)
{
    struct store_msg_info mi;
    if (s->e_phase == 0) {
        while (s->it <= s->mb->count) {
            uint32_t seq = s->it++;
            if (imap_mailbox_msg(s->mb, seq, &mi) != 0 || imap_search_eval(s, seq, &mi) != 1)
                continue;
            uint32_t v = s->send_uid ? mi.uid : seq;
            if (mi.modseq > s->s_modseq_max)
                s->s_modseq_max = mi.modseq;
            s->e_hits[(seq - 1) / 8] |= (uint8_t)(1u << ((seq - 1) % 8));
            if (!s->e_count++)
                s->e_min = v;
            s->e_max = v;
        }
        s->e_phase = 1;
    }
    if (s->e_phase == 1) {
        if (s->room < 256)
            return -1;
        imap_printf(s, "* ESEARCH (TAG ");
        imap_astring_out(s, s->tag, strlen(s->tag));
        imap_printf(s, ")%s", s->send_uid ? " UID" : "");
        /* No match: MIN, MAX and ALL are left out, COUNT is 0 (RFC 4731 3.1). */
        if ((s->esearch & IMAP_ES_MIN) && s->e_count)
            imap_printf(s, " MIN %lu", (unsigned long)s->e_min);
        if ((s->esearch & IMAP_ES_MAX) && s->e_count)
            imap_printf(s, " MAX %lu", (unsigned long)s->e_max);
        if (s->esearch & IMAP_ES_COUNT)
            imap_printf(s, " COUNT %lu", (unsigned long)s->e_count);
        /* RFC 7162 3.1.5: the highest modseq of what was found. */
        if (s->s_modseq && s->e_count)
            imap_printf(s, " MODSEQ %lu", (unsigned long)s->s_modseq_max);
        if ((s->esearch & IMAP_ES_ALL) && s->e_count)
            imap_out(s, " ALL ", 5);
        s->e_phase = (s->esearch & IMAP_ES_ALL) && s->e_count ? 2 : 3;
        s->it = 1;
        s->e_first = s->e_last = 0;
        s->e_sep = false;
    }
    if (s->e_phase == 2) {
        for (; s->it <= s->mb->count; s->it++) {
            uint32_t seq = s->it;
            if (!(s->e_hits[(seq - 1) / 8] & (1u << ((seq - 1) % 8))))
                continue;
            uint32_t v = s->send_uid ? s->mb->uids[seq - 1] : seq;
            if (s->e_first && v == s->e_last + 1) {
                s->e_last = v;
                continue;
            }
            if (s->e_first) {
                if (s->room < 32)
                    return -1;
                imap_esearch_range(s);
            }
            s->e_first = s->e_last = v;
        }
        if (s->room < 32)
            return -1;
        if (s->e_first)
            imap_esearch_range(s);
        s->e_phase = 3;
    }
    if (s->room < 8)
        return -1;
    imap_out(s, "\r\n", 2);
    return 0;
}

int imap_search_step(struct imap_session *s)
{
    struct store_msg_info mi;
    if (s->esearch)
        return imap_esearch_step(s);
    if (!s->f_open) {
        if (s->room < 128)
            return -1;
        imap_printf(s, "* SEARCH");
        s->f_open = true;
    }
    while (s->it <= s->mb->count) {
        if (s->room < 32)
            return -1;
        uint32_t seq = s->it++;
        if (imap_mailbox_msg(s->mb, seq, &mi) != 0)
            continue;
        if (imap_search_eval(s, seq, &mi) == 1) {
            imap_printf(s, " %lu", (unsigned long)(s->send_uid ? mi.uid : seq));
            if (mi.modseq > s->s_modseq_max)
                s->s_modseq_max = mi.modseq;
        }
    }
    if (s->room < 32)
        return -1;
    /* RFC 7162 3.1.5: the highest modseq of what was found, if anything. */
    if (s->s_modseq && s->s_modseq_max)
        imap_printf(s, " (MODSEQ %lu)", (unsigned long)s->s_modseq_max);
    imap_out(s, "\r\n", 2);
    s->f_open = false;
    return 0;
}
