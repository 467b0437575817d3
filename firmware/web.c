/*
 * web.c - the web page's HTTP/1.1 server (see web.h).
 *
 * A connection is: read one request into the slot's http_req (header
 * block, then body), hand it to web_page_handle(), serialise the response
 * into the slot's output buffer, and either read the next request
 * (keep-alive) or close once the response is out.  The pages and the
 * sessions are web_page.c's and web_session.c's business.
 */
#include "web.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "board_pools.h"
#include "conn.h"
#include "hal_clock.h"
#include "lwip/altcp.h"
#include "pb_err.h"
#include "web_page.h"

static struct web_slot *web_slots;      /* the caller's pool */

/* The body of the response being built: one at a time (the event loop is
 * single-threaded), copied into the slot's output buffer at once. */
static char web_body[WEB_BODY_MAX] PB_STORE_SECTION;

static err_t web_conn_process(void *slot);
static err_t web_conn_peer_closed(void *slot);
static err_t web_conn_close(void *slot);
static err_t web_conn_poll(void *slot, uint64_t now);
static void web_conn_reset(void *slot);

static const struct conn_ops web_conn_ops = {
    .name = "web",
    .unit = "connections",
    .busy = "HTTP/1.1 503 Service Unavailable\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 33\r\nRetry-After: 5\r\nConnection: close\r\n"
            "X-Frame-Options: DENY\r\nX-Content-Type-Options: nosniff\r\n"
            "Content-Security-Policy: default-src 'self'\r\n"
            "Referrer-Policy: no-referrer\r\n\r\n"
            "busy: too many connections, retry",
    .poll_interval = 4,         /* every 2 s: the timeouts' clock */
    .sent_is_activity = true,
    .process = web_conn_process,
    .peer_closed = web_conn_peer_closed,
    .close = web_conn_close,
    .poll = web_conn_poll,
    .reset = web_conn_reset,
};

/* ----------------------------------------------------------- response --- */

void web_resp_raw(struct web_resp *r, const char *s, size_t n)
{
    if (r->len + n > r->cap) {
        r->overflow = true;
        return;
    }
    memcpy(r->body + r->len, s, n);
    r->len += n;
}

void web_resp_printf(struct web_resp *r, const char *fmt, ...)
{
    size_t room = r->cap - r->len;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(r->body + r->len, room, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= room) {
        r->overflow = true;
        return;
    }
    r->len += (size_t)n;
}

void web_resp_html(struct web_resp *r, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': web_resp_raw(r, "&amp;", 5); break;
        case '<': web_resp_raw(r, "&lt;", 4); break;
        case '>': web_resp_raw(r, "&gt;", 4); break;
        case '"': web_resp_raw(r, "&quot;", 6); break;
        case '\'': web_resp_raw(r, "&#39;", 5); break;
        case '\r': break;       /* console output ends lines in CRLF */
        default: web_resp_raw(r, s, 1); break;
        }
    }
}

void web_resp_header(struct web_resp *r, const char *fmt, ...)
{
    size_t room = sizeof(r->headers) - r->headers_len;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(r->headers + r->headers_len, room, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n + 2 >= room) {
        r->headers[r->headers_len] = '\0';     /* drop the partial line */
        return;
    }
    r->headers_len += (size_t)n;
    memcpy(r->headers + r->headers_len, "\r\n", 3);
    r->headers_len += 2;
}

int web_resp_serialise(const struct web_resp *r, bool https, bool keep_alive, bool head_only,
                       char *out, size_t cap)
{
    int n = snprintf(out, cap,
                     "HTTP/1.1 %d %s\r\n"
                     "Content-Security-Policy: default-src 'self'; frame-ancestors 'none'; form-action 'self'\r\n"
                     "X-Frame-Options: DENY\r\n"
                     "X-Content-Type-Options: nosniff\r\n"
                     "Referrer-Policy: no-referrer\r\n"
                     "%s%s%s%s"
                     "Content-Length: %lu\r\n"
                     "Connection: %s\r\n"
                     "%.*s\r\n",
                     r->status, http_reason(r->status),
                     https ? "Strict-Transport-Security: max-age=31536000\r\n" : "",
                     r->ctype ? "Content-Type: " : "", r->ctype ? r->ctype : "", r->ctype ? "\r\n" : "",
                     (unsigned long)r->len, keep_alive ? "keep-alive" : "close",
                     (int)r->headers_len, r->headers);
    if (n < 0 || (size_t)n >= cap)
        return PB_ERANGE;
    size_t total = (size_t)n;
    if (r->page) {
        static const char nostore[] = "Cache-Control: no-store\r\n\r\n";
        /* Put it before the blank line that ends the header block. */
        if (total + sizeof(nostore) - 3 >= cap)
            return PB_ERANGE;
        memcpy(out + total - 2, nostore, sizeof(nostore));
        total += sizeof(nostore) - 3;
    }
    if (!head_only) {
        if (total + r->len > cap)
            return PB_ERANGE;
        memcpy(out + total, r->body, r->len);
        total += r->len;
    }
    return (int)total;
}

/* ---------------------------------------------------------- lifecycle --- */

int web_conns_in_use(void)
{
    int n = 0;
    for (int i = 0; web_slots && i < WEB_CONNS; i++)
        n += web_slots[i].conn.pcb != NULL;
    return n;
}

void web_init(struct web_slot *slots)
{
    for (int i = 0; i < WEB_CONNS; i++) {
        memset(&slots[i].conn, 0, sizeof(slots[i].conn));
        slots[i].cfg = NULL;
    }
    web_slots = slots;
}

static void web_conn_free(struct web_slot *c)
{
    memset(&c->conn, 0, sizeof(c->conn));
    c->cfg = NULL;
    c->req_start_ms = 0;
    c->drain_ms = 0;
}

/* Read and drop what is queued, reopening the window: closing with
 * unread data would make TCP send a reset that can destroy the answer. */
static void web_conn_drop_input(struct web_slot *c)
{
    while (c->conn.in)
        conn_consumed(&c->conn, c->conn.in->len);
}

static err_t web_conn_finish(struct web_slot *c)
{
    web_conn_drop_input(c);
    err_t err = conn_finish(&c->conn, false);
    web_conn_free(c);
    return err;
}

/* Close once the response is handed to TCP: shut our side, then drain
 * until the client closes or WEB_DRAIN_MS pass (web.h).  Returns ERR_ABRT
 * when the pcb had to be aborted. */
static err_t web_conn_close(void *slot)
{
    struct web_slot *c = slot;
    c->conn.closing = true;
    conn_flush(&c->conn);
    if (c->conn.out_len > 0)
        return ERR_OK;              /* the sent callback comes back here */
    web_conn_drop_input(c);
    if (c->drain_ms == 0) {
        c->drain_ms = hal_clock_ms();
        if (altcp_shutdown(c->conn.pcb, 0, 1) != ERR_OK)
            return web_conn_finish(c);
        return ERR_OK;
    }
    if (hal_clock_ms() - c->drain_ms > WEB_DRAIN_MS)
        return web_conn_finish(c);
    return ERR_OK;
}

/* ----------------------------------------------------------- requests --- */

/* Answer an error status the parser (or a timeout) decided, and close. */
static void web_conn_error(struct web_slot *c, int status)
{
    struct web_resp r = { .status = status, .ctype = "text/plain; charset=utf-8", .close = true,
                          .body = web_body, .cap = sizeof(web_body) };
    web_resp_printf(&r, "%d %s\n", status, http_reason(status));
    int n = web_resp_serialise(&r, c->cfg->https, false, false, c->out + c->conn.out_len,
                               c->conn.out_cap - c->conn.out_len);
    if (n > 0)
        c->conn.out_len += (size_t)n;
    conn_log(c->cfg->log, "web: %s: %d %s", c->peer, status, http_reason(status));
}

static void web_conn_answer(struct web_slot *c)
{
    struct http_req *q = &c->req;
    struct web_resp r = { .status = 200, .body = web_body, .cap = sizeof(web_body) };
    struct web_ctx ctx = {
        .req = q,
        .https = c->cfg->https,
        .peer = c->peer,
        .now_ms = hal_clock_ms(),
        .identity = c->cfg->identity,
    };
    web_page_handle(&ctx, &r);
    if (r.overflow) {
        /* A bug, not the client's: say so rather than send half a page. */
        conn_log(c->cfg->log, "web: %s: response for %s too large", c->peer, q->path);
        r.status = 500;
        r.ctype = "text/plain; charset=utf-8";
        r.len = 0;
        r.headers_len = 0;
        r.overflow = false;
        web_resp_printf(&r, "500 the page did not fit\n");
    }
    bool keep = q->keep_alive && !r.close;
    int n = web_resp_serialise(&r, c->cfg->https, keep, q->method == HTTP_HEAD,
                               c->out + c->conn.out_len, c->conn.out_cap - c->conn.out_len);
    if (n < 0) {
        c->conn.overflow = true;
        return;
    }
    c->conn.out_len += (size_t)n;
    if (!keep)
        c->conn.closing = true;
}

/* Feed queued input to the request and answer complete requests, one at a
 * time: the next is read only when the previous response has left the
 * output buffer.  Returns ERR_ABRT if the connection was aborted. */
static err_t web_conn_process(void *slot)
{
    struct web_slot *c = slot;
    while (!c->conn.closing && !c->conn.overflow && c->conn.out_len == 0) {
        struct http_req *q = &c->req;
        if (q->state == HTTP_REQ_DONE) {
            web_conn_answer(c);
            http_req_init(q);
            c->req_start_ms = 0;
            conn_flush(&c->conn);
            continue;
        }
        if (q->state == HTTP_REQ_ERROR) {
            web_conn_error(c, q->status);
            c->conn.closing = true;
            break;
        }
        if (!c->conn.in)
            break;
        if (c->req_start_ms == 0)
            c->req_start_ms = hal_clock_ms();
        const uint8_t *p = (const uint8_t *)c->conn.in->payload;
        size_t avail = c->conn.in->len;
        bool head = q->state != HTTP_REQ_BODY;
        size_t used = head ? http_req_feed(q, p, avail) : http_req_body(q, p, avail);
        conn_consumed(&c->conn, used);
        /* Headers just ended: every form is small, the certificate
         * upload (PEM text, URL-encoded) less so. */
        if (head && (q->state == HTTP_REQ_BODY || q->state == HTTP_REQ_DONE))
            http_req_body_limit(q, strcmp(q->path, "/tls") == 0 ? WEB_TLS_FORM_MAX : WEB_FORM_MAX);
        if (used == 0 && q->state != HTTP_REQ_DONE && q->state != HTTP_REQ_ERROR)
            break;
    }
    if (c->conn.overflow) {
        conn_log(c->cfg->log, "web: %s: dropped (response did not fit)", c->peer);
        conn_finish(&c->conn, true);
        web_conn_free(c);
        return ERR_ABRT;
    }
    if (c->conn.closing)
        return web_conn_close(c);
    conn_flush(&c->conn);
    return ERR_OK;
}

/* ---------------------------------------------------------- callbacks --- */

/* The client closed its side.  process() already answered what it
 * completed (and went on closing); a drain that was waiting for this is
 * over. */
static err_t web_conn_peer_closed(void *slot)
{
    struct web_slot *c = slot;
    if (c->drain_ms)
        return web_conn_finish(c);      /* both sides shut: done */
    if (!c->conn.closing)
        return web_conn_close(c);
    return ERR_OK;
}

static err_t web_conn_poll(void *slot, uint64_t now)
{
    struct web_slot *c = slot;
    if (c->req_start_ms && now - c->req_start_ms > WEB_REQUEST_S * 1000ull) {
        /* A request trickling in byte by byte holds a slot: not for long. */
        if (c->conn.out_len == 0)
            web_conn_error(c, 408);
        return web_conn_close(c);
    }
    if (!c->req_start_ms && now - c->conn.last_ms > WEB_IDLE_S * 1000ull)
        return web_conn_close(c);
    return ERR_OK;
}

static void web_conn_reset(void *slot)
{
    web_conn_free(slot);
}

static err_t web_accept(void *arg, struct altcp_pcb *pcb, err_t err)
{
    struct web_config *cfg = arg;
    err_t ret;
    int slot = conn_accept(&web_conn_ops, pcb, err, web_slots ? &web_slots[0].conn : NULL,
                           sizeof(*web_slots), WEB_CONNS, cfg->log, &ret);
    if (slot < 0)
        return ret;
    struct web_slot *c = &web_slots[slot];
    conn_init(&c->conn, pcb, c->out, sizeof(c->out));
    c->cfg = cfg;
    c->req_start_ms = 0;
    c->drain_ms = 0;
    conn_peer(pcb, c->peer, sizeof(c->peer));
    http_req_init(&c->req);
    conn_attach(&c->conn, pcb, &web_conn_ops, c);
    return ERR_OK;
}

int web_start(struct web_config *cfg)
{
    if (cfg->https && !cfg->tls)
        return PB_EINVAL;
    return conn_listen(cfg->port, cfg->https ? cfg->tls : NULL, cfg->https, web_accept, cfg);
}
