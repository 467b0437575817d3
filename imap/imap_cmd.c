/*
 * imap_cmd.c - the IMAP command grammar (see imap_cmd.h).
 *
 * Character classes follow RFC 3501 section 9: an atom is any CHAR but
 * atom-specials ("(" ")" "{" SP CTL "%" "*" DQUOTE "\" "]"); an astring
 * adds "]"; a LIST pattern adds "%" and "*".  Bytes above 0x7f are
 * accepted inside quoted strings and literals (UTF-8, RFC 9051) and not
 * in atoms.
 */
#include "imap_cmd.h"

#include <string.h>

#include "pb_err.h"

static int imap_cmd_fail(struct imap_cmd *c, int err)
{
    if (!c->err)
        c->err = err;
    return c->err;
}

void imap_cmd_init(struct imap_cmd *c, const char *buf, size_t len)
{
    c->p = buf;
    c->end = buf + len;
    c->err = 0;
}

bool imap_cmd_ok(const struct imap_cmd *c)
{
    return c->err == 0;
}

static bool imap_is_atom_char(unsigned char ch)
{
    if (ch <= 0x1f || ch >= 0x7f)
        return false;
    return !strchr("(){ %*\"\\]", ch);
}

static bool imap_is_astring_char(unsigned char ch)
{
    return imap_is_atom_char(ch) || ch == ']';
}

bool imap_cmd_peek(const struct imap_cmd *c, char ch)
{
    return !c->err && c->p < c->end && *c->p == ch;
}

bool imap_cmd_take(struct imap_cmd *c, char ch)
{
    if (!imap_cmd_peek(c, ch))
        return false;
    c->p++;
    return true;
}

int imap_cmd_sp(struct imap_cmd *c)
{
    if (c->err)
        return c->err;
    if (!imap_cmd_take(c, ' '))
        return imap_cmd_fail(c, PB_EINVAL);
    return 0;
}

bool imap_cmd_at_end(const struct imap_cmd *c)
{
    if (c->err)
        return false;
    const char *p = c->p;
    if (p < c->end && *p == '\r')
        p++;
    if (p < c->end && *p == '\n')
        p++;
    return p == c->end;
}

int imap_cmd_end(struct imap_cmd *c)
{
    if (c->err)
        return c->err;
    if (!imap_cmd_at_end(c))
        return imap_cmd_fail(c, PB_EINVAL);
    c->p = c->end;
    return 0;
}

/* A run of characters of class ok, copied into out[cap]. */
static int imap_cmd_run(struct imap_cmd *c, bool (*ok)(unsigned char), char *out, size_t cap,
                        size_t *len, bool upper)
{
    if (c->err)
        return c->err;
    size_t n = 0;
    while (c->p < c->end && ok((unsigned char)*c->p)) {
        if (n + 1 >= cap)
            return imap_cmd_fail(c, PB_ERANGE);
        char ch = *c->p++;
        if (upper && ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 32);
        out[n++] = ch;
    }
    if (n == 0)
        return imap_cmd_fail(c, PB_EINVAL);
    out[n] = '\0';
    if (len)
        *len = n;
    return 0;
}

static bool imap_is_tag_char(unsigned char ch)
{
    return imap_is_astring_char(ch) && ch != '+';
}

int imap_cmd_tag(struct imap_cmd *c, char *tag)
{
    return imap_cmd_run(c, imap_is_tag_char, tag, IMAP_CMD_TAG_MAX + 1, NULL, false);
}

int imap_cmd_atom(struct imap_cmd *c, char *out, size_t cap, bool upper)
{
    return imap_cmd_run(c, imap_is_atom_char, out, cap, NULL, upper);
}

int imap_cmd_number(struct imap_cmd *c, uint32_t *v)
{
    if (c->err)
        return c->err;
    uint64_t n = 0;
    int digits = 0;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        n = n * 10 + (uint64_t)(*c->p++ - '0');
        if (n > 0xffffffffull)
            return imap_cmd_fail(c, PB_ERANGE);
        digits++;
    }
    if (!digits)
        return imap_cmd_fail(c, PB_EINVAL);
    *v = (uint32_t)n;
    return 0;
}

int imap_cmd_modseq(struct imap_cmd *c, uint64_t *v)
{
    if (c->err)
        return c->err;
    uint64_t n = 0;
    int digits = 0;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        uint64_t d = (uint64_t)(*c->p++ - '0');
        /* mod-sequence-value is at most 2^63 - 1 (RFC 7162 section 7). */
        if (n > (0x7fffffffffffffffull - d) / 10)
            return imap_cmd_fail(c, PB_ERANGE);
        n = n * 10 + d;
        digits++;
    }
    if (!digits)
        return imap_cmd_fail(c, PB_EINVAL);
    *v = n;
    return 0;
}

/* quoted = DQUOTE *(QUOTED-CHAR / "\" quoted-specials) DQUOTE */
static int imap_cmd_quoted(struct imap_cmd *c, char *out, size_t cap, size_t *len)
{
    size_t n = 0;
    c->p++;                                 /* the opening quote */
    for (;;) {
        if (c->p >= c->end)
            return imap_cmd_fail(c, PB_EINVAL);
        unsigned char ch = (unsigned char)*c->p++;
        if (ch == '"')
            break;
        if (ch == '\\') {
            if (c->p >= c->end || (*c->p != '"' && *c->p != '\\'))
                return imap_cmd_fail(c, PB_EINVAL);
            ch = (unsigned char)*c->p++;
        } else if (ch == '\r' || ch == '\n' || ch == 0) {
            return imap_cmd_fail(c, PB_EINVAL);
        }
        if (n + 1 >= cap)
            return imap_cmd_fail(c, PB_ERANGE);
        out[n++] = (char)ch;
    }
    out[n] = '\0';
    if (len)
        *len = n;
    return 0;
}

/* literal = "{" number ["+" / "-"] "}" CRLF *CHAR8 (the bytes in the buffer) */
static int imap_cmd_literal(struct imap_cmd *c, char *out, size_t cap, size_t *len)
{
    uint32_t n;
    c->p++;                                 /* "{" */
    if (imap_cmd_number(c, &n))
        return c->err;
    if (!imap_cmd_take(c, '+'))
        imap_cmd_take(c, '-');
    if (!imap_cmd_take(c, '}'))
        return imap_cmd_fail(c, PB_EINVAL);
    imap_cmd_take(c, '\r');
    if (!imap_cmd_take(c, '\n'))
        return imap_cmd_fail(c, PB_EINVAL);
    if ((size_t)(c->end - c->p) < n)
        return imap_cmd_fail(c, PB_EINVAL);
    if ((size_t)n + 1 > cap)
        return imap_cmd_fail(c, PB_ERANGE);
    if (memchr(c->p, '\0', n))
        return imap_cmd_fail(c, PB_EINVAL);
    memcpy(out, c->p, n);
    out[n] = '\0';
    c->p += n;
    if (len)
        *len = n;
    return 0;
}

int imap_cmd_string(struct imap_cmd *c, char *out, size_t cap, size_t *len)
{
    if (c->err)
        return c->err;
    if (cap == 0)
        return imap_cmd_fail(c, PB_ERANGE);
    if (imap_cmd_peek(c, '"'))
        return imap_cmd_quoted(c, out, cap, len);
    if (imap_cmd_peek(c, '{'))
        return imap_cmd_literal(c, out, cap, len);
    return imap_cmd_fail(c, PB_EINVAL);
}

int imap_cmd_astring(struct imap_cmd *c, char *out, size_t cap, size_t *len)
{
    if (imap_cmd_peek(c, '"') || imap_cmd_peek(c, '{'))
        return imap_cmd_string(c, out, cap, len);
    return imap_cmd_run(c, imap_is_astring_char, out, cap, len, false);
}

static bool imap_is_list_char(unsigned char ch)
{
    return imap_is_astring_char(ch) || ch == '%' || ch == '*';
}

int imap_cmd_list_mailbox(struct imap_cmd *c, char *out, size_t cap)
{
    if (imap_cmd_peek(c, '"') || imap_cmd_peek(c, '{'))
        return imap_cmd_string(c, out, cap, NULL);
    return imap_cmd_run(c, imap_is_list_char, out, cap, NULL, false);
}

int imap_cmd_flag(struct imap_cmd *c, char *out, size_t cap)
{
    if (c->err)
        return c->err;
    if (cap < 2)
        return imap_cmd_fail(c, PB_ERANGE);
    if (imap_cmd_take(c, '\\')) {
        out[0] = '\\';
        return imap_cmd_run(c, imap_is_atom_char, out + 1, cap - 1, NULL, false);
    }
    return imap_cmd_run(c, imap_is_atom_char, out, cap, NULL, false);
}

/* seq-number = nz-number / "*"; sequence-set = (seq-number / seq-range) *("," ...) */
static bool imap_seq_number(const char **p, const char *end, uint32_t *v)
{
    if (*p < end && **p == '*') {
        (*p)++;
        *v = IMAP_SEQ_STAR;
        return true;
    }
    uint64_t n = 0;
    int digits = 0;
    while (*p < end && **p >= '0' && **p <= '9') {
        n = n * 10 + (uint64_t)(**p - '0');
        (*p)++;
        if (n > 0xffffffffull)
            return false;
        digits++;
    }
    *v = (uint32_t)n;
    return digits > 0 && n > 0;
}

int imap_cmd_seqset(struct imap_cmd *c, struct imap_seqset *set)
{
    if (c->err)
        return c->err;
    const char *start = c->p;
    for (;;) {
        uint32_t a, b;
        if (!imap_seq_number(&c->p, c->end, &a))
            return imap_cmd_fail(c, PB_EINVAL);
        if (c->p < c->end && *c->p == ':') {
            c->p++;
            if (!imap_seq_number(&c->p, c->end, &b))
                return imap_cmd_fail(c, PB_EINVAL);
        }
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            continue;
        }
        break;
    }
    set->text = start;
    set->len = (size_t)(c->p - start);
    set->last = false;
    return 0;
}

bool imap_seqset_contains(const struct imap_seqset *set, uint32_t n, uint32_t max)
{
    const char *p = set->text, *end = set->text + set->len;
    if (max == 0 || n == 0 || n > max)
        return false;
    while (p < end) {
        uint32_t a, b;
        if (!imap_seq_number(&p, end, &a))
            return false;
        b = a;
        if (p < end && *p == ':') {
            p++;
            if (!imap_seq_number(&p, end, &b))
                return false;
        }
        if (a == IMAP_SEQ_STAR)
            a = max;
        if (b == IMAP_SEQ_STAR)
            b = max;
        if (a > b) {
            uint32_t t = a;
            a = b;
            b = t;
        }
        if (n >= a && n <= b)
            return true;
        if (p < end && *p == ',')
            p++;
    }
    return false;
}

uint32_t imap_seqset_max(const struct imap_seqset *set, uint32_t star)
{
    const char *p = set->text, *end = set->text + set->len;
    uint32_t best = 0;
    while (p < end) {
        uint32_t v;
        if (*p == ':' || *p == ',') {
            p++;
            continue;
        }
        if (!imap_seq_number(&p, end, &v))
            break;
        if (v == IMAP_SEQ_STAR)
            v = star;
        if (v > best)
            best = v;
    }
    return best;
}

/* ------------------------------------------------------------- dates --- */

/* Howard Hinnant's days-from-civil algorithm (public domain description). */
int32_t imap_days_from_civil(int y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int32_t)doe - 719468;
}

void imap_civil_from_days(int32_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int32_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int yy = (int)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

static const char imap_months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

/* d-Mon-yyyy at p (day of 1 or 2 digits, or exactly 2 when strict). */
static bool imap_parse_date(const char **pp, const char *end, int32_t *days)
{
    const char *p = *pp;
    unsigned d = 0, m = 0;
    int y = 0, n = 0;
    if (p < end && *p == ' ')
        p++;                                /* date-day-fixed: " 7-Mar-..." */
    while (p < end && *p >= '0' && *p <= '9' && n < 2) {
        d = d * 10 + (unsigned)(*p++ - '0');
        n++;
    }
    if (!n || p >= end || *p++ != '-' || end - p < 4)
        return false;
    for (m = 0; m < 12; m++) {
        const char *mn = imap_months + 3 * m;
        int same = 1;
        for (int i = 0; i < 3; i++) {
            char ch = p[i];
            if (ch >= 'a' && ch <= 'z')
                ch = (char)(ch - 32);
            char want = mn[i] >= 'a' ? (char)(mn[i] - 32) : mn[i];
            same &= ch == want;
        }
        if (same)
            break;
    }
    if (m == 12)
        return false;
    p += 3;
    if (*p++ != '-')
        return false;
    for (n = 0; n < 4; n++) {
        if (p >= end || *p < '0' || *p > '9')
            return false;
        y = y * 10 + (*p++ - '0');
    }
    if (d < 1 || d > 31)
        return false;
    *days = imap_days_from_civil(y, m + 1, d);
    *pp = p;
    return true;
}

int imap_cmd_date(struct imap_cmd *c, int32_t *days)
{
    if (c->err)
        return c->err;
    bool quoted = imap_cmd_take(c, '"');
    if (!imap_parse_date(&c->p, c->end, days))
        return imap_cmd_fail(c, PB_EINVAL);
    if (quoted && !imap_cmd_take(c, '"'))
        return imap_cmd_fail(c, PB_EINVAL);
    return 0;
}

static bool imap_digits(const char **p, const char *end, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (*p >= end || **p < '0' || **p > '9')
            return false;
        *v = *v * 10 + (*(*p)++ - '0');
    }
    return true;
}

int imap_cmd_datetime(struct imap_cmd *c, int64_t *epoch)
{
    if (c->err)
        return c->err;
    int32_t days;
    int hh, mm, ss, zh, zm;
    if (!imap_cmd_take(c, '"') || !imap_parse_date(&c->p, c->end, &days))
        return imap_cmd_fail(c, PB_EINVAL);
    const char *p = c->p;
    if (p >= c->end || *p++ != ' ' || !imap_digits(&p, c->end, 2, &hh) || p >= c->end ||
        *p++ != ':' || !imap_digits(&p, c->end, 2, &mm) || p >= c->end || *p++ != ':' ||
        !imap_digits(&p, c->end, 2, &ss) || p >= c->end || *p++ != ' ' || p >= c->end ||
        (*p != '+' && *p != '-'))
        return imap_cmd_fail(c, PB_EINVAL);
    int sign = *p++ == '-' ? -1 : 1;
    if (!imap_digits(&p, c->end, 2, &zh) || !imap_digits(&p, c->end, 2, &zm) ||
        p >= c->end || *p++ != '"' || hh > 23 || mm > 59 || ss > 60 || zm > 59)
        return imap_cmd_fail(c, PB_EINVAL);
    c->p = p;
    *epoch = (int64_t)days * 86400 + hh * 3600 + mm * 60 + ss - sign * (zh * 3600 + zm * 60);
    return 0;
}

int imap_cmd_literal_at_end(const char *line, size_t len, uint32_t *n, bool *nonsync)
{
    if (len < 3 || line[len - 1] != '}')
        return 0;
    size_t i = len - 1;
    bool plus = false;
    if (line[i - 1] == '+' || line[i - 1] == '-') {
        plus = true;
        i--;
    }
    size_t digits_end = i;
    while (i > 0 && line[i - 1] >= '0' && line[i - 1] <= '9')
        i--;
    if (i == digits_end || i == 0 || line[i - 1] != '{')
        return 0;
    if (i >= 2 && line[i - 2] == '~')
        return 0;                           /* literal8 (BINARY): not offered */
    uint64_t v = 0;
    for (size_t k = i; k < digits_end; k++) {
        v = v * 10 + (uint64_t)(line[k] - '0');
        if (v > 0xffffffffull)
            return PB_ERANGE;
    }
    *n = (uint32_t)v;
    *nonsync = plus;
    return 1;
}
