// fuzz-links: firmware/http.c
/*
 * fuzz_http.c - libFuzzer target for HTTP requests as a browser (or an
 * attacker) sends them to the web page: fed in two pieces split at a
 * point the input chooses, then the body, then form and cookie lookups on
 * what came out.  Checks the parser's promises: a finished request has a
 * normalised path with no ".." segment and no backslash, a refused one has
 * an error status, and the body never exceeds its Content-Length.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct http_req fuzz_req;

static void fuzz_check_path(const char *p)
{
    if (p[0] != '/' || strstr(p, "/../") || strstr(p, "\\") ||
        (strlen(p) >= 3 && strcmp(p + strlen(p) - 3, "/..") == 0))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > HTTP_HEAD_MAX + 4096)
        return 0;
    size_t cut = data[0] % size;
    data++;
    size--;
    if (cut > size)
        cut = size;
    struct http_req *r = &fuzz_req;
    http_req_init(r);
    size_t off = 0;
    size_t ends[2] = { cut, size };
    for (int k = 0; k < 2; k++) {
        while (off < ends[k] && r->state != HTTP_REQ_DONE && r->state != HTTP_REQ_ERROR) {
            size_t used = r->state == HTTP_REQ_BODY ? http_req_body(r, data + off, ends[k] - off) :
                          http_req_feed(r, data + off, ends[k] - off);
            if (used == 0)
                break;
            off += used;
        }
    }
    if (r->state == HTTP_REQ_ERROR) {
        if (r->status < 400 || r->status > 505 || http_reason(r->status)[0] == '\0')
            abort();
        return 0;
    }
    if (r->state == HTTP_REQ_LINE)
        return 0;
    if (r->state != HTTP_REQ_HEADERS) {
        fuzz_check_path(r->path);
        if (r->body_len > r->content_length || r->content_length > HTTP_BODY_MAX)
            abort();
    }
    /* An exact-size copy of the body, so ASan sees reads past it. */
    char *body = malloc(r->body_len ? r->body_len : 1);
    if (!body)
        return 0;
    memcpy(body, r->body, r->body_len);
    char v[64];
    int n = http_form_get(body, r->body_len, "csrf", v, sizeof(v));
    if (n >= 0 && (size_t)n != strlen(v))
        abort();
    n = http_form_get(r->query, strlen(r->query), "emailaddress", v, sizeof(v));
    if (n >= 0 && (size_t)n != strlen(v))
        abort();
    n = http_cookie_get(r->cookie, "pb_session", v, sizeof(v));
    if (n >= 0 && (size_t)n != strlen(v))
        abort();
    free(body);
    /* The path normaliser on its own, on the raw input. */
    char out[HTTP_PATH_MAX];
    if (http_path_normalise((const char *)data, size < 300 ? size : 300, out, sizeof(out)) == 0)
        fuzz_check_path(out);
    return 0;
}
