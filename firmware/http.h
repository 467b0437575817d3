/*
 * http.h - one HTTP/1.1 request (RFC 9112), parsed incrementally from
 * bytes as they arrive: no transport, no clock, no heap.
 *
 * Contract:
 *   - http_req_feed() takes bytes as they come and copies the request line
 *     and the header block into the caller's struct (fixed arrays), so the
 *     caller may free what it fed.  It returns how many bytes it took; the
 *     rest belongs to the body or to the next (pipelined) request.
 *   - The body (Content-Length bytes, never chunked) is collected by the
 *     caller with http_req_body(), into the struct's body buffer.
 *   - A request that breaks a rule ends parsing with req->status set to the
 *     HTTP status to answer (400, 404, 411, 413, 414, 431, 501, 505) and
 *     state HTTP_REQ_ERROR; the caller answers and closes the connection.
 *   - Limits: request line HTTP_LINE_MAX (-> 414), header block
 *     HTTP_HEAD_MAX (-> 431), body HTTP_BODY_MAX (-> 413; the caller may
 *     allow less per path with http_req_body_limit()).
 *   - Refused outright (400): bare CR, NUL, obs-fold (a header line that
 *     starts with a space), header names with characters outside token,
 *     a second Host or Content-Length, Content-Length that is not digits.
 *     Transfer-Encoding of any kind: 501 (chunked in a request is what
 *     request smuggling rides on; we need no streaming uploads).
 *   - The target's path is normalised into req->path: percent-decoded,
 *     "." segments dropped, repeated "/" folded.  A ".." segment (however
 *     encoded), a backslash, an encoded "/" or a NUL gives 404 or 400: the
 *     path can never name anything outside the table it is looked up in.
 */
#ifndef HTTP_H
#define HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_LINE_MAX   2048            /* request line, CRLF included */
#define HTTP_HEAD_MAX   8192            /* header block, CRLF CRLF included */
/* The largest body the web page takes (the certificate upload, 16 KiB):
 * each connection holds one, so more would only cost RAM. */
#define HTTP_BODY_MAX   (16u * 1024u)   /* Content-Length accepted at most */
#define HTTP_PATH_MAX   256             /* normalised path */
#define HTTP_QUERY_MAX  512             /* raw query string (after '?') */
#define HTTP_HOST_MAX   128
#define HTTP_COOKIE_MAX 1024
#define HTTP_CTYPE_MAX  96

enum http_method { HTTP_OTHER, HTTP_GET, HTTP_HEAD, HTTP_POST };

enum http_req_state {
    HTTP_REQ_LINE,      /* reading the request line */
    HTTP_REQ_HEADERS,   /* reading header lines */
    HTTP_REQ_BODY,      /* headers done; body_len < content_length */
    HTTP_REQ_DONE,      /* the whole request is here */
    HTTP_REQ_ERROR,     /* refused: answer status and close */
};

struct http_req {
    enum http_req_state state;
    int status;                         /* HTTP_REQ_ERROR: the status to answer */
    enum http_method method;
    int minor;                          /* HTTP/1.minor */
    char path[HTTP_PATH_MAX];           /* normalised, always starts with '/' */
    char query[HTTP_QUERY_MAX];         /* raw, still percent-encoded; "" if none */
    char host[HTTP_HOST_MAX];
    char cookie[HTTP_COOKIE_MAX];       /* every Cookie header, joined with "; " */
    char ctype[HTTP_CTYPE_MAX];
    bool has_length;
    bool keep_alive;                    /* HTTP/1.1 unless "Connection: close" */
    uint32_t content_length;
    uint32_t body_max;                  /* limit in force (HTTP_BODY_MAX by default) */
    size_t line_len;                    /* bytes of the current line so far */
    size_t head_len;                    /* bytes of the request line and headers so far */
    char line[HTTP_LINE_MAX];           /* the current line */
    uint8_t body[HTTP_BODY_MAX];
    size_t body_len;
};

/* Ready for a new request (keep-alive: call again after each one). */
void http_req_init(struct http_req *r);

/* Feed n bytes.  Returns the bytes taken (<= n): parsing stops at the end
 * of the header block, so the body and anything after stay with the
 * caller.  Check r->state afterwards. */
size_t http_req_feed(struct http_req *r, const uint8_t *p, size_t n);

/* In HTTP_REQ_BODY: take up to n body bytes.  Returns the bytes taken;
 * the state becomes HTTP_REQ_DONE when the body is complete. */
size_t http_req_body(struct http_req *r, const uint8_t *p, size_t n);

/* Headers just ended (state HTTP_REQ_BODY or DONE): lower the body limit
 * for this request; a longer Content-Length turns the request into 413. */
void http_req_body_limit(struct http_req *r, uint32_t max);

/* Normalise a raw target path (no query) into out (cap bytes).  Returns 0,
 * or the HTTP status to answer: 400 (NUL, encoded slash, bad escape, not
 * starting with '/') or 404 (a ".." segment, a backslash, too long). */
int http_path_normalise(const char *raw, size_t n, char *out, size_t cap);

/* Find field name in an application/x-www-form-urlencoded string of n
 * bytes (a body or a query) and percent-decode its value ('+' is a space)
 * into out (cap bytes, NUL-terminated).  Returns the value's length, or
 * -1 when the field is absent, or -2 when the value does not fit or has a
 * bad escape or a NUL. */
int http_form_get(const char *form, size_t n, const char *name, char *out, size_t cap);

/* Find cookie name in a Cookie header value; copy its value into out.
 * Returns the length, -1 when absent, -2 when it does not fit. */
int http_cookie_get(const char *cookies, const char *name, char *out, size_t cap);

/* The reason phrase of a status ("Not Found"); "" if unknown. */
const char *http_reason(int status);

#endif
