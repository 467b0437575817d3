/*
 * address.c - mail addresses (see address.h).
 *
 * The grammar is RFC 5321's: Path = "<" [A-d-l ":"] Mailbox ">",
 * Mailbox = Local-part "@" (Domain / address-literal), Local-part =
 * Dot-string / Quoted-string.  RFC 6531 adds UTF-8 to atext, qtext and
 * sub-domains; it is accepted only when the caller says so, and must be
 * well-formed UTF-8.
 */
#include "address.h"

#include "utf8.h"

#include <string.h>

#include "pb_err.h"

struct mail_address_cursor {
    const unsigned char *p, *end;
    unsigned flags;
};

/* atext of RFC 5322 3.2.3. */
static bool mail_address_is_atext(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static bool mail_address_is_letdig(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Length of the well-formed UTF-8 sequence (2..4 bytes, no overlongs, no
 * surrogates) at p, or 0. */
static size_t mail_address_utf8_len(const unsigned char *p, const unsigned char *end)
{
    size_t i = 0;
    return mail_utf8_next((const char *)p, (size_t)(end - p), &i) >= 0x80 ? i : 0;
}

/* Append n bytes to a bounded field; false when it would overflow. */
static bool mail_address_put(char *dst, size_t *len, size_t max, const unsigned char *src, size_t n)
{
    if (*len + n > max)
        return false;
    memcpy(dst + *len, src, n);
    *len += n;
    dst[*len] = '\0';
    return true;
}

/* Local-part into out->local.  Returns 0, PB_EINVAL, PB_ERANGE. */
static int mail_address_local(struct mail_address_cursor *c, struct mail_address *out)
{
    size_t len = 0;
    bool utf8_ok = c->flags & MAIL_ADDR_UTF8;
    out->local[0] = '\0';
    if (c->p < c->end && *c->p == '"') {
        c->p++;
        for (;;) {
            if (c->p >= c->end)
                return PB_EINVAL;
            unsigned char ch = *c->p;
            if (ch == '"') {
                c->p++;
                break;
            }
            if (ch == '\\') {
                /* quoted-pairSMTP: backslash then one of %d32-126 */
                if (c->end - c->p < 2 || c->p[1] < 32 || c->p[1] > 126)
                    return PB_EINVAL;
                if (!mail_address_put(out->local, &len, MAIL_LOCAL_MAX, c->p + 1, 1))
                    return PB_ERANGE;
                c->p += 2;
            } else if (ch >= 32 && ch <= 126) {
                if (!mail_address_put(out->local, &len, MAIL_LOCAL_MAX, c->p, 1))
                    return PB_ERANGE;
                c->p++;
            } else if (ch >= 0x80 && utf8_ok) {
                size_t n = mail_address_utf8_len(c->p, c->end);
                if (!n)
                    return PB_EINVAL;
                if (!mail_address_put(out->local, &len, MAIL_LOCAL_MAX, c->p, n))
                    return PB_ERANGE;
                out->utf8 = true;
                c->p += n;
            } else {
                return PB_EINVAL;
            }
        }
        return 0;
    }

    /* Dot-string: atoms separated by single dots. */
    bool need_atom = true;
    while (c->p < c->end) {
        unsigned char ch = *c->p;
        size_t n = 1;
        if (ch == '.') {
            if (need_atom)
                return PB_EINVAL;
            need_atom = true;
        } else if (mail_address_is_atext(ch)) {
            need_atom = false;
        } else if (ch >= 0x80 && utf8_ok && (n = mail_address_utf8_len(c->p, c->end)) != 0) {
            out->utf8 = true;
            need_atom = false;
        } else {
            break;
        }
        if (!mail_address_put(out->local, &len, MAIL_LOCAL_MAX, c->p, n))
            return PB_ERANGE;
        c->p += n;
    }
    return need_atom ? PB_EINVAL : 0;
}

/* Domain or address literal into out->domain. */
static int mail_address_domain(struct mail_address_cursor *c, struct mail_address *out)
{
    size_t len = 0;
    out->domain[0] = '\0';
    if (c->p < c->end && *c->p == '[') {
        /* address-literal: kept verbatim; dtext is %d33-90 / %d94-126. */
        out->literal = true;
        const unsigned char *start = c->p++;
        while (c->p < c->end && *c->p != ']') {
            if (*c->p < 33 || *c->p > 126 || *c->p == '[' || *c->p == '\\')
                return PB_EINVAL;
            c->p++;
        }
        if (c->p >= c->end || c->p - start < 2)
            return PB_EINVAL;
        c->p++;
        if (!mail_address_put(out->domain, &len, MAIL_DOMAIN_MAX, start, (size_t)(c->p - start)))
            return PB_ERANGE;
        return 0;
    }

    bool utf8_ok = c->flags & MAIL_ADDR_UTF8;
    size_t label = 0;
    unsigned char last = 0;
    while (c->p < c->end) {
        unsigned char ch = *c->p;
        size_t n = 1;
        if (ch == '.') {
            if (label == 0 || last == '-')
                return PB_EINVAL;
            label = 0;
        } else if (mail_address_is_letdig(ch) || (ch == '-' && label > 0)) {
            label++;
            if (ch >= 'A' && ch <= 'Z')
                ch = (unsigned char)(ch - 'A' + 'a');
        } else if (ch >= 0x80 && utf8_ok && (n = mail_address_utf8_len(c->p, c->end)) != 0) {
            label += n;
            out->utf8 = true;
        } else {
            break;
        }
        if (label > 63)
            return PB_ERANGE;
        last = ch;
        if (n == 1) {
            if (!mail_address_put(out->domain, &len, MAIL_DOMAIN_MAX, &ch, 1))
                return PB_ERANGE;
        } else if (!mail_address_put(out->domain, &len, MAIL_DOMAIN_MAX, c->p, n)) {
            return PB_ERANGE;
        }
        c->p += n;
    }
    if (label == 0 || last == '-')
        return PB_EINVAL;
    return 0;
}

/* ASCII case-insensitive equality of two NUL-terminated strings. */
static bool mail_address_ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = (*a >= 'A' && *a <= 'Z') ? (char)(*a - 'A' + 'a') : *a;
        char y = (*b >= 'A' && *b <= 'Z') ? (char)(*b - 'A' + 'a') : *b;
        if (x != y)
            return false;
    }
    return *a == *b;
}

static int mail_address_mailbox(struct mail_address_cursor *c, struct mail_address *out,
                                bool bare_ok)
{
    int err = mail_address_local(c, out);
    if (err)
        return err;
    if (c->p < c->end && *c->p == '@') {
        c->p++;
        return mail_address_domain(c, out);
    }
    /* RFC 5321 4.1.1.3: "<Postmaster>" with no domain must be accepted. */
    if (bare_ok && mail_address_ieq(out->local, "postmaster"))
        return 0;
    return PB_EINVAL;
}

int mail_address_parse_path(const char *s, size_t len, unsigned flags,
                            struct mail_address *out, size_t *used)
{
    struct mail_address_cursor c = { (const unsigned char *)s, (const unsigned char *)s + len, flags };
    memset(out, 0, sizeof(*out));
    if (c.p >= c.end || *c.p != '<')
        return PB_EINVAL;
    c.p++;
    if (c.p < c.end && *c.p == '>') {
        if (!(flags & MAIL_ADDR_NULL_OK))
            return PB_EINVAL;
        out->null = true;
        *used = 2;
        return 0;
    }
    /* A-d-l: "@domain,@domain:" - parsed for syntax, then forgotten. */
    if (c.p < c.end && *c.p == '@') {
        struct mail_address route;
        for (;;) {
            c.p++;                              /* the '@' */
            memset(&route, 0, sizeof(route));
            int err = mail_address_domain(&c, &route);
            if (err)
                return err;
            if (c.p < c.end && *c.p == ',' && c.end - c.p > 1 && c.p[1] == '@') {
                c.p++;
                continue;
            }
            if (c.p < c.end && *c.p == ':') {
                c.p++;
                break;
            }
            return PB_EINVAL;
        }
    }
    int err = mail_address_mailbox(&c, out, flags & MAIL_ADDR_BARE_LOCAL);
    if (err)
        return err;
    if (c.p >= c.end || *c.p != '>')
        return PB_EINVAL;
    c.p++;
    *used = (size_t)(c.p - (const unsigned char *)s);
    if (*used > MAIL_PATH_MAX)
        return PB_ERANGE;
    return 0;
}

int mail_address_parse(const char *s, size_t len, unsigned flags, struct mail_address *out)
{
    struct mail_address_cursor c = { (const unsigned char *)s, (const unsigned char *)s + len, flags };
    memset(out, 0, sizeof(*out));
    int err = mail_address_mailbox(&c, out, false);
    if (err)
        return err;
    return c.p == c.end ? 0 : PB_EINVAL;
}

bool mail_address_domain_valid(const char *s, bool utf8)
{
    struct mail_address a;
    size_t len = strlen(s);
    struct mail_address_cursor c = { (const unsigned char *)s, (const unsigned char *)s + len,
                                     utf8 ? MAIL_ADDR_UTF8 : 0 };
    memset(&a, 0, sizeof(a));
    if (len == 0 || s[0] == '[')
        return false;
    return mail_address_domain(&c, &a) == 0 && c.p == c.end;
}

/* Whether the canonical local part can be written as a dot-string. */
static bool mail_address_is_dot_string(const char *s)
{
    bool need_atom = true;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '.') {
            if (need_atom)
                return false;
            need_atom = true;
        } else if (mail_address_is_atext(*p) || *p >= 0x80) {
            need_atom = false;
        } else {
            return false;
        }
    }
    return !need_atom;
}

/* Append one character to buf, counting what did not fit. */
static void mail_address_emit(char *buf, size_t cap, size_t *n, char ch)
{
    if (*n + 1 < cap)
        buf[*n] = ch;
    (*n)++;
}

int mail_address_format(const struct mail_address *a, char *buf, size_t cap)
{
    size_t n = 0;
    if (cap == 0)
        return PB_ERANGE;
    if (!a->null) {
        bool quote = !mail_address_is_dot_string(a->local);
        if (quote)
            mail_address_emit(buf, cap, &n, '"');
        for (const char *p = a->local; *p; p++) {
            if (quote && (*p == '"' || *p == '\\'))
                mail_address_emit(buf, cap, &n, '\\');
            mail_address_emit(buf, cap, &n, *p);
        }
        if (quote)
            mail_address_emit(buf, cap, &n, '"');
        if (a->domain[0]) {
            mail_address_emit(buf, cap, &n, '@');
            for (const char *p = a->domain; *p; p++)
                mail_address_emit(buf, cap, &n, *p);
        }
    }
    buf[n < cap ? n : cap - 1] = '\0';
    return n < cap ? (int)n : PB_ERANGE;
}
