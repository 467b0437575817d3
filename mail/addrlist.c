/*
 * addrlist.c - RFC 5322 address lists (see addrlist.h).
 *
 * One pass of a small tokenizer (atoms, quoted strings, domain literals,
 * comments, specials) per address.  Words met before we know what they are
 * go both into a phrase (words joined by one space: the display name or
 * group name) and into a local part (joined with nothing: the "a.b" of
 * a.b@host); the special that follows decides which was meant.  The first
 * comment after a bare address is taken as its name when there is no
 * phrase, as in "alice@example.com (Alice)".
 */
#include "addrlist.h"

#include <string.h>

enum { MAIL_AL_END, MAIL_AL_WORD, MAIL_AL_QUOTED, MAIL_AL_LITERAL, MAIL_AL_SPECIAL };

struct mail_al_token {
    int kind;
    char special;               /* for MAIL_AL_SPECIAL */
    const char *s;              /* raw text (quotes included for QUOTED) */
    size_t len;
    bool closed;                /* QUOTED/LITERAL: the closing character was there */
};

/* A bounded text being built. */
struct mail_al_text {
    char *buf;
    size_t len, cap;            /* cap includes the NUL */
    bool *cut;
};

static void mail_al_put(struct mail_al_text *t, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (t->len + 1 >= t->cap) {
            *t->cut = true;
            break;
        }
        t->buf[t->len++] = s[i];
    }
    t->buf[t->len] = '\0';
}

/* Append a token's text: a quoted string without its quotes and escapes. */
static void mail_al_put_token(struct mail_al_text *t, const struct mail_al_token *tok)
{
    if (tok->kind != MAIL_AL_QUOTED) {
        mail_al_put(t, tok->s, tok->len);
        return;
    }
    size_t end = tok->len - (tok->closed ? 1u : 0u);
    for (size_t i = 1; i < end; i++) {
        if (tok->s[i] == '\\' && i + 1 < end)
            i++;
        if (tok->s[i] == '\r' || tok->s[i] == '\n')
            continue;
        mail_al_put(t, tok->s + i, 1);
    }
}

static bool mail_al_is_special(char c)
{
    return strchr("()<>[]:;@\\,.\"", c) != NULL;
}

static bool mail_al_is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Skip a comment starting at *s (at '('); its inside is returned. */
static void mail_al_comment(const char **s, const char *end, const char **in, size_t *inlen)
{
    unsigned depth = 0;
    const char *p = *s;
    *in = p + 1;
    while (p < end) {
        char c = *p++;
        if (c == '\\' && p < end)
            p++;
        else if (c == '(')
            depth++;
        else if (c == ')' && --depth == 0)
            break;
    }
    *inlen = (size_t)(p - *in) - (p[-1] == ')' && depth == 0 ? 1u : 0u);
    *s = p;
}

/* The next token; comments are skipped, the first one seen is kept in
 * *comment (when not NULL and still empty). */
static struct mail_al_token mail_al_next(struct mail_addrlist *l, const char **comment, size_t *clen)
{
    struct mail_al_token t = { MAIL_AL_END, 0, l->end, 0, false };
    while (l->s < l->end) {
        char c = *l->s;
        if (mail_al_is_blank(c)) {
            l->s++;
            continue;
        }
        if (c == '(') {
            const char *in;
            size_t inlen;
            mail_al_comment(&l->s, l->end, &in, &inlen);
            if (comment && !*comment) {
                *comment = in;
                *clen = inlen;
            }
            continue;
        }
        t.s = l->s;
        if (c == '"' || c == '[') {
            char close = c == '"' ? '"' : ']';
            t.kind = c == '"' ? MAIL_AL_QUOTED : MAIL_AL_LITERAL;
            l->s++;
            while (l->s < l->end && *l->s != close) {
                if (*l->s == '\\' && l->s + 1 < l->end)
                    l->s++;
                l->s++;
            }
            if (l->s < l->end) {
                l->s++;
                t.closed = true;
            }
        } else if (mail_al_is_special(c)) {
            t.kind = MAIL_AL_SPECIAL;
            t.special = c;
            l->s++;
        } else {
            t.kind = MAIL_AL_WORD;
            while (l->s < l->end && !mail_al_is_blank(*l->s) && !mail_al_is_special(*l->s))
                l->s++;
        }
        t.len = (size_t)(l->s - t.s);
        return t;
    }
    return t;
}

void mail_addrlist_init(struct mail_addrlist *l, const char *s, size_t len)
{
    l->s = s;
    l->end = s + len;
    l->in_group = false;
}

/* Skip to just after the next ',' (or to a ';' closing the group). */
static void mail_al_skip(struct mail_addrlist *l)
{
    while (l->s < l->end) {
        struct mail_al_token t = mail_al_next(l, NULL, NULL);
        if (t.kind == MAIL_AL_SPECIAL && t.special == ',')
            return;
        if (t.kind == MAIL_AL_SPECIAL && t.special == ';' && l->in_group) {
            l->s--;
            return;
        }
    }
}

/* Domain after '@': words, dots and literals as written.  Stops before
 * the first other token. */
static void mail_al_domain(struct mail_addrlist *l, struct mail_al_text *host)
{
    while (l->s < l->end) {
        const char *save = l->s;
        struct mail_al_token t = mail_al_next(l, NULL, NULL);
        if (t.kind == MAIL_AL_WORD || t.kind == MAIL_AL_LITERAL ||
            (t.kind == MAIL_AL_SPECIAL && t.special == '.')) {
            mail_al_put(host, t.s, t.len);
            continue;
        }
        l->s = save;
        return;
    }
}

bool mail_addrlist_next(struct mail_addrlist *l, struct mail_addrlist_entry *e)
{
    /* Each turn of the loop consumes at least one token, so it ends with
     * the input. */
    for (;;) {
        memset(e, 0, sizeof(*e));
        struct mail_al_text name = { e->name, 0, sizeof(e->name), &e->cut };
        struct mail_al_text route = { e->route, 0, sizeof(e->route), &e->cut };
        struct mail_al_text mbox = { e->mailbox, 0, sizeof(e->mailbox), &e->cut };
        struct mail_al_text host = { e->host, 0, sizeof(e->host), &e->cut };
        const char *comment = NULL;
        size_t clen = 0;
        bool words = false, space = false;
        struct mail_al_token t;
        /* Words up to the special that says what they were. */
        for (;;) {
            t = mail_al_next(l, &comment, &clen);
            if (t.kind == MAIL_AL_WORD || t.kind == MAIL_AL_QUOTED) {
                if (space && words)
                    mail_al_put(&name, " ", 1);
                mail_al_put_token(&name, &t);
                mail_al_put_token(&mbox, &t);
                words = true;
                space = true;
            } else if (t.kind == MAIL_AL_SPECIAL && t.special == '.') {
                mail_al_put(&name, ".", 1);
                mail_al_put(&mbox, ".", 1);
                space = true;
            } else {
                break;
            }
        }
        if (t.kind == MAIL_AL_END) {
            if (words) {
                /* A bare word at the end: a mailbox without a host. */
                e->kind = MAIL_ADDRLIST_MAILBOX;
                e->name[0] = '\0';
                return true;
            }
            if (l->in_group) {
                l->in_group = false;
                e->kind = MAIL_ADDRLIST_GROUP_END;
                return true;
            }
            return false;
        }
        char sp = t.kind == MAIL_AL_SPECIAL ? t.special : 0;
        if (sp == ':' && !l->in_group) {
            e->kind = MAIL_ADDRLIST_GROUP_START;
            e->mailbox[0] = '\0';
            l->in_group = true;
            return true;
        }
        if (sp == ';' && l->in_group && !words) {
            l->in_group = false;
            e->kind = MAIL_ADDRLIST_GROUP_END;
            e->name[0] = '\0';
            /* An optional comma after the group. */
            const char *save = l->s;
            t = mail_al_next(l, NULL, NULL);
            if (!(t.kind == MAIL_AL_SPECIAL && t.special == ','))
                l->s = save;
            return true;
        }
        if (sp == ',' && !words)
            continue;       /* an empty list element */
        e->kind = MAIL_ADDRLIST_MAILBOX;
        if (sp == '<') {
            /* angle-addr: [route ":"] local "@" domain ">" */
            mbox.len = 0;
            e->mailbox[0] = '\0';
            const char *save = l->s;
            t = mail_al_next(l, NULL, NULL);
            if (t.kind == MAIL_AL_SPECIAL && t.special == '@') {
                /* obs-route: "@a,@b:" */
                mail_al_put(&route, "@", 1);
                for (;;) {
                    mail_al_domain(l, &route);
                    t = mail_al_next(l, NULL, NULL);
                    if (t.kind == MAIL_AL_SPECIAL && t.special == ',') {
                        t = mail_al_next(l, NULL, NULL);
                        if (t.kind == MAIL_AL_SPECIAL && t.special == '@') {
                            mail_al_put(&route, ",@", 2);
                            continue;
                        }
                    }
                    break;
                }
                if (!(t.kind == MAIL_AL_SPECIAL && t.special == ':')) {
                    mail_al_skip(l);
                    continue;
                }
            } else {
                l->s = save;
            }
            for (;;) {
                t = mail_al_next(l, NULL, NULL);
                if (t.kind == MAIL_AL_WORD || t.kind == MAIL_AL_QUOTED)
                    mail_al_put_token(&mbox, &t);
                else if (t.kind == MAIL_AL_SPECIAL && t.special == '.')
                    mail_al_put(&mbox, ".", 1);
                else
                    break;
            }
            if (t.kind == MAIL_AL_SPECIAL && t.special == '@') {
                mail_al_domain(l, &host);
                t = mail_al_next(l, NULL, NULL);
            }
            if (!(t.kind == MAIL_AL_SPECIAL && t.special == '>')) {
                /* Unterminated: keep what we have, resynchronise. */
                if (t.kind == MAIL_AL_SPECIAL && t.special == ',')
                    l->s--;
            }
            if (!words)
                e->name[0] = '\0';
        } else if (sp == '@' && words) {
            e->name[0] = '\0';
            mail_al_domain(l, &host);
        } else if ((sp == ',' || sp == ';') && words) {
            /* A word alone: a mailbox without a host. */
            e->name[0] = '\0';
            l->s--;
        } else {
            mail_al_skip(l);
            continue;
        }
        /* What follows the address up to the comma or group end: a trailing
         * comment can serve as the name. */
        const char *trail = NULL;
        size_t tlen = 0;
        for (;;) {
            const char *save = l->s;
            t = mail_al_next(l, &trail, &tlen);
            if (t.kind == MAIL_AL_END)
                break;
            if (t.kind == MAIL_AL_SPECIAL && t.special == ',')
                break;
            if (t.kind == MAIL_AL_SPECIAL && t.special == ';' && l->in_group) {
                l->s = save;
                break;
            }
        }
        if (!e->name[0]) {
            const char *c = comment ? comment : trail;
            size_t n = comment ? clen : tlen;
            if (c) {
                name.len = 0;
                mail_al_put(&name, c, n);
            }
        }
        return true;
    }
}
