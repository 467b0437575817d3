/*
 * imap_server.c - IMAP sessions on altcp connections (see imap_server.h).
 *
 * Ownership of received data: a pbuf handed to imap_conn_recv() is ours;
 * it waits in conn->in until the session has read it, and only then is
 * the TCP window reopened (altcp_recved), so a client that pipelines
 * faster than we answer is slowed down, not buffered without bound.
 * Replies collect in conn->out and go out as the send buffer allows; while
 * it is more than half full no further command is read.  A message body
 * is pumped from flash into conn->out only as far as it has room, so a
 * RETR proceeds at the pace of the client's window.
 *
 * The pool, output buffering, close and STARTTLS handling follow
 * pop3_server.c and smtp_server.c (UNFINISHED: one shared connection
 * module for the three services).
 */
#include "imap_server.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hal_clock.h"
#include "lwip/altcp.h"
#include "lwip/altcp_tcp.h"
#include "lwip/altcp_tls.h"
#include "pb_err.h"
#include "tls.h"

#define imap_conn imap_server_slot

static struct imap_server_slot *imap_conns;


static err_t imap_conn_recv(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err);
static err_t imap_conn_sent(void *arg, struct altcp_pcb *pcb, u16_t len);
static err_t imap_conn_poll(void *arg, struct altcp_pcb *pcb);
static void imap_conn_err(void *arg, err_t err);
static err_t imap_conn_process(struct imap_conn *c);

static void imap_server_log(struct imap_server_config *cfg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void imap_server_log(struct imap_server_config *cfg, const char *fmt, ...)
{
    char line[200];
    va_list ap;
    if (!cfg->log)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    cfg->log(line);
}

void imap_server_init(struct imap_server_slot *slots, struct store *store)
{
    imap_conns = slots;
    for (int i = 0; i < IMAP_SERVER_SESSIONS; i++) {
        memset(&slots[i], 0, sizeof(slots[i]));
        imap_mailbox_init(&slots[i].mb, store);
    }
}

int imap_server_sessions_in_use(void)
{
    int n = 0;
    if (!imap_conns)
        return 0;
    for (int i = 0; i < IMAP_SERVER_SESSIONS; i++)
        n += imap_conns[i].pcb != NULL;
    return n;
}

/* ------------------------------------------------------------- output --- */

static void imap_conn_flush(struct imap_conn *c)
{
    if (!c->pcb || c->out_len == 0)
        return;
    size_t room = altcp_sndbuf(c->pcb);
    size_t n = c->out_len < room ? c->out_len : room;
    if (n > 0 && altcp_write(c->pcb, c->out, (u16_t)n, TCP_WRITE_FLAG_COPY) == ERR_OK) {
        memmove(c->out, c->out + n, c->out_len - n);
        c->out_len -= n;
    }
    altcp_output(c->pcb);
}

/* The session's write callback. */
static void imap_conn_write(void *ctx, const char *s, size_t n)
{
    struct imap_conn *c = ctx;
    if (c->out_len + n > sizeof(c->out)) {
        imap_conn_flush(c);
        if (c->out_len + n > sizeof(c->out)) {
            /* Commands are read only while the buffer is half empty and
             * bodies are pumped into the room there is, so only a client
             * that never reads gets here: it is dropped, and no reply is
             * silently lost. */
            c->overflow = true;
            return;
        }
    }
    memcpy(c->out + c->out_len, s, n);
    c->out_len += n;
}

/* ---------------------------------------------------------- lifecycle --- */

static void imap_conn_free(struct imap_conn *c)
{
    if (c->in)
        pbuf_free(c->in);
    imap_mailbox_logout(&c->mb);    /* an APPEND in progress is aborted */
    c->pcb = NULL;
    c->in = NULL;
    c->out_len = 0;
    c->closing = c->overflow = false;
}

static void imap_conn_detach(struct altcp_pcb *pcb)
{
    altcp_arg(pcb, NULL);
    altcp_recv(pcb, NULL);
    altcp_sent(pcb, NULL);
    altcp_poll(pcb, NULL, 0);
    altcp_err(pcb, NULL);
}

/* Close once every reply is handed to TCP.  why is for the log when the
 * session did not end by itself.  Returns ERR_ABRT when the pcb had to be
 * aborted (callbacks must then return ERR_ABRT). */
static err_t imap_conn_close(struct imap_conn *c, const char *why)
{
    c->closing = true;
    if (why)
        imap_session_end(&c->session, why); /* logs once: the first reason wins */
    imap_conn_flush(c);
    if (c->out_len > 0)
        return ERR_OK;              /* the sent callback comes back here */
    struct altcp_pcb *pcb = c->pcb;
    imap_conn_detach(pcb);
    imap_conn_free(c);
    if (altcp_close(pcb) != ERR_OK) {
        altcp_abort(pcb);
        return ERR_ABRT;
    }
    return ERR_OK;
}

static err_t imap_conn_drop(struct imap_conn *c, const char *why)
{
    struct altcp_pcb *pcb = c->pcb;
    imap_session_end(&c->session, why);
    imap_conn_detach(pcb);
    imap_conn_free(c);
    altcp_abort(pcb);
    return ERR_ABRT;
}

static void imap_conn_callbacks(struct imap_conn *c, struct altcp_pcb *pcb)
{
    altcp_arg(pcb, c);
    altcp_recv(pcb, imap_conn_recv);
    altcp_sent(pcb, imap_conn_sent);
    altcp_err(pcb, imap_conn_err);
    altcp_poll(pcb, imap_conn_poll, 1);     /* every 500 ms: the login delay's clock */
}

static err_t imap_conn_tls_up(void *arg, struct altcp_pcb *pcb, err_t err)
{
    struct imap_conn *c = arg;
    if (!c || err != ERR_OK)
        return ERR_OK;
    imap_session_tls_started(&c->session, tls_version_name(pcb));
    c->last_ms = hal_clock_ms();
    return imap_conn_process(c);
}

/* The session said OK to STARTTLS: drop what the client pipelined behind
 * the command (RFC 3501 6.2.1, plaintext injection), then wrap the
 * connection. */
static err_t imap_conn_starttls(struct imap_conn *c)
{
    if (c->in) {
        altcp_recved(c->pcb, c->in->tot_len);
        pbuf_free(c->in);
        c->in = NULL;
    }
    imap_conn_flush(c);
    struct altcp_pcb *tls = altcp_tls_wrap(c->cfg->tls, c->pcb);
    if (!tls)
        return imap_conn_close(c, "STARTTLS failed (out of memory)");
    c->pcb = tls;
    imap_conn_callbacks(c, tls);
    tls_on_handshake(tls, imap_conn_tls_up);
    return ERR_OK;
}

static bool imap_conn_reading(const struct imap_conn *c)
{
    enum imap_mode m = c->session.mode;
    return m == IMAP_MODE_COMMAND || m == IMAP_MODE_LITERAL || m == IMAP_MODE_DISCARD ||
           m == IMAP_MODE_APPEND || m == IMAP_MODE_SASL || m == IMAP_MODE_IDLE;
}

/* Pump the body being sent and feed queued input to the session while it
 * can take it.  Each turn writes output, reads input or stops, and the
 * output buffer is finite, so the loop ends.  Returns ERR_ABRT if the
 * connection was aborted. */
static err_t imap_conn_process(struct imap_conn *c)
{
    while (!c->closing && !c->overflow) {
        if (c->session.mode == IMAP_MODE_SENDING) {
            imap_conn_flush(c);
            size_t room = sizeof(c->out) - c->out_len;
            if (room < IMAP_SESSION_PUMP_MIN)
                break;              /* the sent callback comes back */
            imap_session_pump(&c->session, room);
            continue;
        }
        if (!c->in || !imap_conn_reading(c) || c->out_len >= sizeof(c->out) / 2)
            break;
        size_t avail = c->in->len;
        size_t used = imap_session_input(&c->session, (const uint8_t *)c->in->payload, avail);
        if (used > 0) {
            altcp_recved(c->pcb, (u16_t)used);
            /* Drops what was read: whole pbufs are freed, a partly read
             * one keeps its unread tail. */
            c->in = pbuf_free_header(c->in, (u16_t)used);
        } else if (imap_conn_reading(c))
            break;
    }
    if (c->overflow) {
        imap_server_log(c->cfg, "imap: %s: dropped, it sends without reading replies",
                        c->session.peer_ip);
        return imap_conn_drop(c, "dropped (not reading replies)");
    }
    if (c->session.mode == IMAP_MODE_DELAY && c->resume_ms == 0)
        c->resume_ms = hal_clock_ms() + IMAP_SERVER_LOGIN_DELAY_MS;
    if (c->session.mode == IMAP_MODE_STARTTLS && c->cfg->tls)
        return imap_conn_starttls(c);
    imap_conn_flush(c);
    if (c->session.mode == IMAP_MODE_CLOSED)
        return imap_conn_close(c, "closed");
    return ERR_OK;
}

/* ---------------------------------------------------------- callbacks --- */

static err_t imap_conn_recv(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct imap_conn *c = arg;
    (void)err;
    if (!c) {
        if (p) {
            altcp_recved(pcb, p->tot_len);
            pbuf_free(p);
        }
        return ERR_OK;
    }
    if (!p) {
        /* The client closed: what it sent before still counts. */
        if (imap_conn_process(c) == ERR_ABRT)
            return ERR_ABRT;
        if (c->pcb && !c->closing)
            return imap_conn_close(c, "client closed without LOGOUT");
        return ERR_OK;
    }
    c->last_ms = hal_clock_ms();
    if (c->in)
        pbuf_cat(c->in, p);     /* p is ours now, chained behind */
    else
        c->in = p;
    return imap_conn_process(c);
}

static err_t imap_conn_sent(void *arg, struct altcp_pcb *pcb, u16_t len)
{
    struct imap_conn *c = arg;
    (void)pcb;
    (void)len;
    if (!c)
        return ERR_OK;
    c->last_ms = hal_clock_ms();    /* a long RETR to a slow client is not idle */
    if (c->closing)
        return imap_conn_close(c, NULL);
    imap_conn_flush(c);
    return imap_conn_process(c);
}

static err_t imap_conn_poll(void *arg, struct altcp_pcb *pcb)
{
    struct imap_conn *c = arg;
    (void)pcb;
    if (!c)
        return ERR_OK;
    if (c->closing)
        return imap_conn_close(c, NULL);
    uint64_t now = hal_clock_ms();
    if (c->session.mode == IMAP_MODE_DELAY && c->resume_ms && now >= c->resume_ms) {
        c->resume_ms = 0;
        imap_session_resume(&c->session);
        return imap_conn_process(c);
    }
    if (c->session.mode == IMAP_MODE_IDLE) {
        imap_session_poll(&c->session);
        return imap_conn_process(c);
    }
    if (now - c->last_ms > IMAP_SERVER_IDLE_TIMEOUT * 1000ull) {
        imap_session_timeout(&c->session);
        return imap_conn_close(c, "idle timeout");
    }
    return ERR_OK;
}

static void imap_conn_err(void *arg, err_t err)
{
    struct imap_conn *c = arg;
    (void)err;
    if (!c)
        return;
    /* The pcb is gone already. */
    imap_session_end(&c->session, "connection reset");
    imap_conn_free(c);
}

static err_t imap_server_accept(void *arg, struct altcp_pcb *pcb, err_t err)
{
    struct imap_server_config *cfg = arg;
    if (err != ERR_OK || !pcb)
        return ERR_VAL;
    struct imap_conn *c = NULL;
    int slot = 0;
    for (; imap_conns && slot < IMAP_SERVER_SESSIONS; slot++) {
        if (!imap_conns[slot].pcb) {
            c = &imap_conns[slot];
            break;
        }
    }
    if (!c || !imap_conns) {
        /* Pool empty: say so and hang up, leaving the others alone. */
        static const char busy[] = "* BYE Too many connections, try again later\r\n";
        altcp_write(pcb, busy, sizeof(busy) - 1, TCP_WRITE_FLAG_COPY);
        altcp_output(pcb);
        imap_server_log(cfg, "imap: connection refused, %d sessions busy", IMAP_SERVER_SESSIONS);
        if (altcp_close(pcb) != ERR_OK) {
            altcp_abort(pcb);
            return ERR_ABRT;
        }
        return ERR_OK;
    }
    c->in = NULL;
    c->out_len = 0;
    c->closing = c->overflow = false;
    c->resume_ms = 0;
    c->pcb = pcb;
    c->cfg = cfg;
    c->last_ms = hal_clock_ms();
    char ip[IPADDR_STRLEN_MAX];
    const ip_addr_t *peer = altcp_get_ip(pcb, 0);
    if (!peer || !ipaddr_ntoa_r(peer, ip, sizeof(ip)))
        strcpy(ip, "unknown");
    imap_conn_callbacks(c, pcb);
    imap_server_log(cfg, "imap: session from %s on port %u", ip, cfg->port);
    imap_session_init(&c->session, &cfg->session, &c->mb, imap_conn_write, c, ip,
                      cfg->implicit_tls ? tls_version_name(pcb) : NULL);
    imap_conn_flush(c);
    return ERR_OK;
}

int imap_server_start(struct imap_server_config *cfg)
{
    if (cfg->implicit_tls && !cfg->tls)
        return PB_EINVAL;
    cfg->session.tls_available = cfg->tls != NULL;
    struct altcp_pcb *pcb = cfg->implicit_tls ? altcp_tls_new(cfg->tls, IPADDR_TYPE_ANY) :
                                                altcp_tcp_new_ip_type(IPADDR_TYPE_ANY);
    if (!pcb)
        return PB_ENOMEM;
    if (altcp_bind(pcb, IP_ANY_TYPE, cfg->port) != ERR_OK) {
        altcp_close(pcb);
        return PB_EBUSY;
    }
    struct altcp_pcb *l = altcp_listen(pcb);
    if (!l) {
        altcp_close(pcb);
        return PB_ENOMEM;
    }
    altcp_arg(l, cfg);
    altcp_accept(l, imap_server_accept);
    return 0;
}
