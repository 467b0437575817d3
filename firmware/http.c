/*
 * http.c - one HTTP/1.1 request, parsed incrementally (see http.h).
 *
 * Lines are gathered into r->line one byte at a time: a request is a few
 * hundred bytes, and byte-wise scanning makes every limit exact and every
 * loop bounded by the input.
 */
#include "http.h"

#include <string.h>

static int http_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static bool http_ieq(const char *a, size_t n, const char *b)
{
    if (strlen(b) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (http_lower((unsigned char)a[i]) != http_lower((unsigned char)b[i]))
            return false;
    return true;
}

/* RFC 9110 token characters (header names, methods). */
static bool http_tchar(int c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int http_hex(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = http_lower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static void http_fail(struct http_req *r, int status)
{
    r->state = HTTP_REQ_ERROR;
    r->status = status;
}

void http_req_init(struct http_req *r)
{
    /* The body buffer is not cleared: 64 KiB per request would cost more
     * than the request, and body_len bounds what is read of it. */
    memset(r, 0, offsetof(struct http_req, body));
    r->body_len = 0;
    r->body_max = HTTP_BODY_MAX;
    r->state = HTTP_REQ_LINE;
}

const char *http_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 301: return "Moved Permanently";
    case 303: return "See Other";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "";
    }
}

/* ------------------------------------------------------------- paths --- */

int http_path_normalise(const char *raw, size_t n, char *out, size_t cap)
{
    if (n == 0 || raw[0] != '/' || cap < 2)
        return 400;
    size_t o = 0;
    size_t seg = 0;             /* where the current segment starts in out */
    out[o++] = '/';
    seg = o;
    for (size_t i = 1; i <= n; i++) {
        int c;
        if (i == n || raw[i] == '/') {
            /* A segment ended: out[seg..o) is it. */
            size_t len = o - seg;
            if (len == 1 && out[seg] == '.')
                o = seg;                        /* "." means nothing */
            else if (len == 2 && out[seg] == '.' && out[seg + 1] == '.')
                return 404;                     /* never climb, not even inside the tree */
            else if (len == 0 && i < n)
                continue;                       /* "//" folds */
            if (i < n && o > seg) {
                if (o + 1 >= cap)
                    return 404;
                out[o++] = '/';
            }
            seg = o;
            continue;
        }
        c = (unsigned char)raw[i];
        if (c == '%') {
            if (i + 2 >= n)
                return 400;
            int h = http_hex((unsigned char)raw[i + 1]), l = http_hex((unsigned char)raw[i + 2]);
            if (h < 0 || l < 0)
                return 400;
            c = h * 16 + l;
            i += 2;
            if (c == '/' || c == 0)
                return 400;     /* an encoded slash would hide a segment boundary */
        }
        if (c == '\\')
            return 404;
        if (c < 0x20 || c == 0x7f)
            return 400;
        if (o + 1 >= cap)
            return 404;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return 0;
}

/* ------------------------------------------------------ request line --- */

static void http_request_line(struct http_req *r, const char *l, size_t n)
{
    const char *sp1 = memchr(l, ' ', n);
    if (!sp1) {
        http_fail(r, 400);
        return;
    }
    size_t mlen = (size_t)(sp1 - l);
    for (size_t i = 0; i < mlen; i++)
        if (!http_tchar((unsigned char)l[i])) {
            http_fail(r, 400);
            return;
        }
    if (mlen == 3 && memcmp(l, "GET", 3) == 0)
        r->method = HTTP_GET;
    else if (mlen == 4 && memcmp(l, "HEAD", 4) == 0)
        r->method = HTTP_HEAD;
    else if (mlen == 4 && memcmp(l, "POST", 4) == 0)
        r->method = HTTP_POST;
    else
        r->method = HTTP_OTHER;
    const char *t = sp1 + 1;
    const char *end = l + n;
    const char *sp2 = memchr(t, ' ', (size_t)(end - t));
    if (!sp2 || sp2 == t) {
        http_fail(r, 400);
        return;
    }
    const char *v = sp2 + 1;
    size_t vlen = (size_t)(end - v);
    if (vlen != 8 || memcmp(v, "HTTP/1.", 7) != 0 || v[7] < '0' || v[7] > '9') {
        http_fail(r, vlen == 8 && memcmp(v, "HTTP/", 5) == 0 ? 505 : 400);
        return;
    }
    r->minor = v[7] - '0';
    r->keep_alive = r->minor >= 1;
    size_t tlen = (size_t)(sp2 - t);
    /* The target: origin-form only ("/path?query"); an absolute URI or
     * "*" names nothing we serve. */
    for (size_t i = 0; i < tlen; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c <= 0x20 || c >= 0x7f) {
            http_fail(r, 400);
            return;
        }
    }
    const char *q = memchr(t, '?', tlen);
    size_t plen = q ? (size_t)(q - t) : tlen;
    if (q) {
        size_t qlen = tlen - plen - 1;
        if (qlen >= sizeof(r->query)) {
            http_fail(r, 414);
            return;
        }
        memcpy(r->query, q + 1, qlen);
        r->query[qlen] = '\0';
    }
    int st = http_path_normalise(t, plen, r->path, sizeof(r->path));
    if (st) {
        http_fail(r, st);
        return;
    }
    r->state = HTTP_REQ_HEADERS;
}

/* ----------------------------------------------------------- headers --- */

static bool http_copy_value(char *dst, size_t cap, const char *v, size_t n)
{
    if (n >= cap)
        return false;
    memcpy(dst, v, n);
    dst[n] = '\0';
    return true;
}

/* Whether a comma-separated list value contains token tok. */
static bool http_list_has(const char *v, size_t n, const char *tok)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t s = i;
        while (i < n && v[i] != ',')
            i++;
        size_t e = i;
        while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
            e--;
        if (e > s && http_ieq(v + s, e - s, tok))
            return true;
    }
    return false;
}

static void http_headers_end(struct http_req *r)
{
    if (r->minor >= 1 && !r->host[0]) {
        http_fail(r, 400);      /* RFC 9112 section 3.2: Host is required in 1.1 */
        return;
    }
    if (r->method == HTTP_POST && !r->has_length) {
        http_fail(r, 411);
        return;
    }
    if (r->has_length && r->content_length > r->body_max) {
        http_fail(r, 413);
        return;
    }
    r->state = r->content_length > 0 ? HTTP_REQ_BODY : HTTP_REQ_DONE;
}

static void http_header_line(struct http_req *r, const char *l, size_t n)
{
    if (n == 0) {
        http_headers_end(r);
        return;
    }
    if (l[0] == ' ' || l[0] == '\t') {
        http_fail(r, 400);      /* obs-fold (RFC 9112 section 5.2) */
        return;
    }
    const char *colon = memchr(l, ':', n);
    if (!colon || colon == l) {
        http_fail(r, 400);
        return;
    }
    size_t nlen = (size_t)(colon - l);
    for (size_t i = 0; i < nlen; i++)
        if (!http_tchar((unsigned char)l[i])) {
            http_fail(r, 400);  /* also "Name :" (space before the colon) */
            return;
        }
    const char *v = colon + 1;
    size_t vlen = n - nlen - 1;
    while (vlen && (*v == ' ' || *v == '\t')) {
        v++;
        vlen--;
    }
    while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
        vlen--;
    for (size_t i = 0; i < vlen; i++) {
        unsigned char c = (unsigned char)v[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            http_fail(r, 400);
            return;
        }
    }
    if (http_ieq(l, nlen, "host")) {
        if (r->host[0] || !http_copy_value(r->host, sizeof(r->host), v, vlen) || vlen == 0)
            http_fail(r, 400);
    } else if (http_ieq(l, nlen, "content-length")) {
        uint64_t len = 0;
        if (r->has_length || vlen == 0 || vlen > 10) {
            http_fail(r, vlen > 10 ? 413 : 400);
            return;
        }
        for (size_t i = 0; i < vlen; i++) {
            if (v[i] < '0' || v[i] > '9') {
                http_fail(r, 400);
                return;
            }
            len = len * 10 + (uint64_t)(v[i] - '0');
        }
        if (len > 0xffffffffu) {
            http_fail(r, 413);
            return;
        }
        r->has_length = true;
        r->content_length = (uint32_t)len;
    } else if (http_ieq(l, nlen, "transfer-encoding")) {
        http_fail(r, 501);
    } else if (http_ieq(l, nlen, "cookie")) {
        size_t have = strlen(r->cookie);
        size_t sep = have ? 2 : 0;
        if (have + sep + vlen >= sizeof(r->cookie)) {
            http_fail(r, 431);
            return;
        }
        if (sep)
            memcpy(r->cookie + have, "; ", 2);
        memcpy(r->cookie + have + sep, v, vlen);
        r->cookie[have + sep + vlen] = '\0';
    } else if (http_ieq(l, nlen, "content-type")) {
        if (!http_copy_value(r->ctype, sizeof(r->ctype), v, vlen))
            http_fail(r, 415);
    } else if (http_ieq(l, nlen, "connection")) {
        if (http_list_has(v, vlen, "close"))
            r->keep_alive = false;
        else if (http_list_has(v, vlen, "keep-alive"))
            r->keep_alive = true;
    }
}

size_t http_req_feed(struct http_req *r, const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n && (r->state == HTTP_REQ_LINE || r->state == HTTP_REQ_HEADERS)) {
        uint8_t c = p[i++];
        r->head_len++;
        if (c == 0) {
            http_fail(r, 400);
            break;
        }
        /* RFC 9112 section 2.2 allows ignoring empty lines before the
         * request line (a client's stray CRLF after a POST body). */
        if (r->state == HTTP_REQ_LINE && r->line_len == 0 && (c == '\r' || c == '\n') &&
            r->head_len <= 4) {
            if (c == '\n')
                r->head_len = 0;
            continue;
        }
        if (c == '\n') {
            if (r->line_len == 0 || r->line[r->line_len - 1] != '\r') {
                http_fail(r, 400);      /* a bare LF: we insist on CRLF */
                break;
            }
            size_t len = r->line_len - 1;
            r->line[len] = '\0';
            r->line_len = 0;
            if (r->state == HTTP_REQ_LINE)
                http_request_line(r, r->line, len);
            else
                http_header_line(r, r->line, len);
            continue;
        }
        if (r->line_len > 0 && r->line[r->line_len - 1] == '\r') {
            http_fail(r, 400);          /* a bare CR */
            break;
        }
        if (r->state == HTTP_REQ_LINE && r->line_len + 1 >= HTTP_LINE_MAX) {
            http_fail(r, 414);
            break;
        }
        if (r->head_len > HTTP_HEAD_MAX || r->line_len + 1 >= sizeof(r->line)) {
            http_fail(r, 431);
            break;
        }
        r->line[r->line_len++] = (char)c;
    }
    return i;
}

size_t http_req_body(struct http_req *r, const uint8_t *p, size_t n)
{
    if (r->state != HTTP_REQ_BODY)
        return 0;
    size_t want = r->content_length - r->body_len;
    size_t take = n < want ? n : want;
    memcpy(r->body + r->body_len, p, take);
    r->body_len += take;
    if (r->body_len == r->content_length)
        r->state = HTTP_REQ_DONE;
    return take;
}

void http_req_body_limit(struct http_req *r, uint32_t max)
{
    if (max < r->body_max)
        r->body_max = max;
    if ((r->state == HTTP_REQ_BODY || r->state == HTTP_REQ_DONE) && r->content_length > r->body_max)
        http_fail(r, 413);
}

/* ------------------------------------------------------ form, cookie --- */

static int http_decode(const char *v, size_t n, char *out, size_t cap, bool plus)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)v[i];
        if (c == '+' && plus)
            c = ' ';
        else if (c == '%') {
            if (i + 2 >= n)
                return -2;
            int h = http_hex((unsigned char)v[i + 1]), l = http_hex((unsigned char)v[i + 2]);
            if (h < 0 || l < 0)
                return -2;
            c = h * 16 + l;
            i += 2;
        }
        if (c == 0 || o + 1 >= cap)
            return -2;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return (int)o;
}

int http_form_get(const char *form, size_t n, const char *name, char *out, size_t cap)
{
    size_t nlen = strlen(name);
    size_t i = 0;
    if (cap == 0)
        return -2;
    while (i < n) {
        size_t s = i;
        while (i < n && form[i] != '&')
            i++;
        const char *f = form + s;
        size_t flen = i - s;
        i++;                    /* past '&' */
        const char *eq = memchr(f, '=', flen);
        size_t klen = eq ? (size_t)(eq - f) : flen;
        /* Field names of our forms are plain words: compare them as sent. */
        if (klen != nlen || memcmp(f, name, nlen) != 0)
            continue;
        if (!eq) {
            out[0] = '\0';
            return 0;
        }
        return http_decode(eq + 1, flen - klen - 1, out, cap, true);
    }
    return -1;
}

int http_cookie_get(const char *cookies, const char *name, char *out, size_t cap)
{
    size_t nlen = strlen(name);
    const char *p = cookies;
    size_t n = strlen(cookies);
    size_t i = 0;
    while (i < n) {
        while (i < n && (p[i] == ' ' || p[i] == ';'))
            i++;
        size_t s = i;
        while (i < n && p[i] != ';')
            i++;
        const char *eq = memchr(p + s, '=', i - s);
        if (!eq || (size_t)(eq - (p + s)) != nlen || memcmp(p + s, name, nlen) != 0)
            continue;
        const char *v = eq + 1;
        size_t vlen = (size_t)(p + i - v);
        while (vlen && v[vlen - 1] == ' ')
            vlen--;
        if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
            v++;
            vlen -= 2;
        }
        if (vlen >= cap)
            return -2;
        memcpy(out, v, vlen);
        out[vlen] = '\0';
        return (int)vlen;
    }
    return -1;
}
