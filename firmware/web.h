/*
 * web.h - the web page's HTTP/1.1 server: 443 with TLS from the first
 * byte, 80 in plain HTTP (redirects to 443, except mail-client
 * autoconfiguration and the MTA-STS policy path), keep-alive, one fixed
 * pool of connections shared by both ports, idle timeouts, and the
 * response builder that puts the security headers on every answer.
 *
 * Why not lwIP's httpd app (src/apps/http): it gives GET handlers no
 * access to the request headers (no Cookie, so no session check), it
 * cannot emit per-response headers for generated pages (Set-Cookie, the
 * security headers next to a dynamic Content-Length), and it has no
 * 413/431 limits of its own.  So this is a small server on net/conn.h,
 * which already gives every service TLS as an altcp layer over wolfSSL.
 *
 * Contract:
 *   - Connections come from WEB_CONNS slots the caller places (external
 *     RAM on the reference board: each holds a request with its body of up
 *     to HTTP_BODY_MAX bytes and a whole response).  When every slot is in
 *     use a new connection gets "503 Service Unavailable" and is closed;
 *     the others carry on.
 *   - A request body is at most WEB_FORM_MAX bytes, WEB_TLS_FORM_MAX on
 *     /tls (the certificate upload): more is answered 413 as soon as the
 *     headers are in.
 *   - One request at a time per connection; a pipelined request waits
 *     until the previous response has been handed to TCP.  A refused
 *     request (4xx from the parser) is answered and the connection closed.
 *   - A connection idle for WEB_IDLE_S between requests, or one that takes
 *     longer than WEB_REQUEST_S to send one request, is closed (408).
 *   - Closing is graceful: once the response is out our side is shut and
 *     what the client still sends is read and dropped, for at most
 *     WEB_DRAIN_MS, so an error answer sent before the rest of a refused
 *     request arrived is not destroyed by a TCP reset.
 *   - Every response carries Content-Security-Policy: default-src 'self',
 *     X-Frame-Options: DENY, X-Content-Type-Options: nosniff,
 *     Referrer-Policy: no-referrer, and on HTTPS
 *     Strict-Transport-Security: max-age=31536000.
 */
#ifndef WEB_H
#define WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn.h"
#include "http.h"

#define WEB_CONNS        4              /* connections, both ports */
#define WEB_BODY_MAX     (32u * 1024u)  /* a generated page or asset, at most */
#define WEB_FORM_MAX     (8u * 1024u)   /* a request body (form, autodiscover), at most */
#define WEB_TLS_FORM_MAX (16u * 1024u)  /* the body of POST /tls: PEM certificate + key */
#define WEB_OUT_BYTES    (WEB_BODY_MAX + 2048u)  /* one whole response */
#define WEB_IDLE_S       30             /* keep-alive idle before closing */
#define WEB_REQUEST_S    30             /* one request must arrive within this */
#define WEB_DRAIN_MS     2000           /* reading what follows a closing answer */

struct altcp_tls_config;
struct identity;

struct web_config {
    uint16_t port;
    bool https;                         /* TLS from the first byte (tls must be set) */
    struct altcp_tls_config *tls;
    const struct identity *identity;    /* for the certificate page; may be NULL */
    void (*log)(const char *line);
};

/* One connection (about 54 KiB on ARM): the caller places the pool. */
struct web_slot {
    struct conn conn;                   /* conn.pcb NULL: free */
    struct web_config *cfg;
    uint64_t req_start_ms;              /* first byte of the request being read; 0 none yet */
    uint64_t drain_ms;                  /* sending side shut at this time; 0 not yet */
    char peer[48];
    struct http_req req;
    char out[WEB_OUT_BYTES];
};

/* A response being built: status, content type, extra header lines, and
 * the body in a caller-provided buffer. */
struct web_resp {
    int status;
    const char *ctype;                  /* NULL: no body expected (redirects) */
    bool page;                          /* a generated page: Cache-Control: no-store */
    bool close;                         /* close the connection after it */
    char headers[512];                  /* extra "Name: value\r\n" lines */
    size_t headers_len;
    char *body;
    size_t cap, len;
    bool overflow;                      /* the body did not fit: answered 500 */
};

/* Append to the body: raw bytes, printf-style text, or text with the HTML
 * specials (& < > " ') escaped. */
void web_resp_raw(struct web_resp *r, const char *s, size_t n);
void web_resp_printf(struct web_resp *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void web_resp_html(struct web_resp *r, const char *s);

/* Add a header line ("Name: value", without CRLF); cut if over 512. */
void web_resp_header(struct web_resp *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Serialise r (status line, security headers, Content-Length, extra
 * headers, body unless head_only) into out (cap bytes).  Returns the
 * length, or PB_ERANGE when it does not fit. */
int web_resp_serialise(const struct web_resp *r, bool https, bool keep_alive, bool head_only,
                       char *out, size_t cap);

/* The pool: WEB_CONNS slots.  Call once before web_start. */
void web_init(struct web_slot *slots);

/* Listen on cfg->port (cfg must stay valid).  Returns 0 or a negative
 * PB_E* (PB_EINVAL for HTTPS without a TLS config). */
int web_start(struct web_config *cfg);

/* Connections in use now. */
int web_conns_in_use(void);

#endif
