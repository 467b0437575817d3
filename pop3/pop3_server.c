/*
 * pop3_server.c - POP3 sessions on altcp connections (see pop3_server.h).
 *
 * Ownership of received data: a pbuf handed to pop3_conn_recv() is ours;
 * it waits in conn->in until the session has read it, and only then is
 * the TCP window reopened (altcp_recved), so a client that pipelines
 * faster than we answer is slowed down, not buffered without bound.
 * Replies collect in conn->out and go out as the send buffer allows; while
 * it is more than half full no further command is read.  A message body
 * is pumped from flash into conn->out only as far as it has room, so a
 * RETR proceeds at the pace of the client's window.
 *
 * The pool, output buffering, close and STARTTLS handling follow
 * smtp_server.c; they are the same pattern, kept per service for now.
 */
#include "pop3_server.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hal_clock.h"
#include "lwip/altcp.h"
#include "lwip/altcp_tcp.h"
#include "lwip/altcp_tls.h"
#include "pb_err.h"
#include "tls.h"

struct pop3_conn {
    struct altcp_pcb *pcb;          /* NULL: slot free */
    struct pop3_server_config *cfg;
    struct pop3_session session;
    struct pbuf *in;                /* received, not yet read by the session */
    char out[POP3_SERVER_OUT_BYTES];
    size_t out_len;
    uint64_t last_ms;               /* last activity, for the idle timeout */
    uint64_t resume_ms;             /* POP3_STATE_DELAY: when to answer; 0 unset */
    bool closing;
    bool overflow;                  /* a reply did not fit: the session is dropped */
};

static struct pop3_conn pop3_conns[POP3_SERVER_SESSIONS];

static err_t pop3_conn_recv(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err);
static err_t pop3_conn_sent(void *arg, struct altcp_pcb *pcb, u16_t len);
static err_t pop3_conn_poll(void *arg, struct altcp_pcb *pcb);
static void pop3_conn_err(void *arg, err_t err);
static err_t pop3_conn_process(struct pop3_conn *c);

static void pop3_server_log(struct pop3_server_config *cfg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void pop3_server_log(struct pop3_server_config *cfg, const char *fmt, ...)
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

int pop3_server_sessions_in_use(void)
{
    int n = 0;
    for (int i = 0; i < POP3_SERVER_SESSIONS; i++)
        n += pop3_conns[i].pcb != NULL;
    return n;
}

/* ------------------------------------------------------------- output --- */

static void pop3_conn_flush(struct pop3_conn *c)
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
static void pop3_conn_write(void *ctx, const char *s, size_t n)
{
    struct pop3_conn *c = ctx;
    if (c->out_len + n > sizeof(c->out)) {
        pop3_conn_flush(c);
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

static void pop3_conn_free(struct pop3_conn *c)
{
    if (c->in)
        pbuf_free(c->in);
    memset(c, 0, sizeof(*c));
}

static void pop3_conn_detach(struct altcp_pcb *pcb)
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
static err_t pop3_conn_close(struct pop3_conn *c, const char *why)
{
    c->closing = true;
    if (why)
        pop3_session_end(&c->session, why); /* logs once: the first reason wins */
    pop3_conn_flush(c);
    if (c->out_len > 0)
        return ERR_OK;              /* the sent callback comes back here */
    struct altcp_pcb *pcb = c->pcb;
    pop3_conn_detach(pcb);
    pop3_conn_free(c);
    if (altcp_close(pcb) != ERR_OK) {
        altcp_abort(pcb);
        return ERR_ABRT;
    }
    return ERR_OK;
}

static err_t pop3_conn_drop(struct pop3_conn *c, const char *why)
{
    struct altcp_pcb *pcb = c->pcb;
    pop3_session_end(&c->session, why);
    pop3_conn_detach(pcb);
    pop3_conn_free(c);
    altcp_abort(pcb);
    return ERR_ABRT;
}

static void pop3_conn_callbacks(struct pop3_conn *c, struct altcp_pcb *pcb)
{
    altcp_arg(pcb, c);
    altcp_recv(pcb, pop3_conn_recv);
    altcp_sent(pcb, pop3_conn_sent);
    altcp_err(pcb, pop3_conn_err);
    altcp_poll(pcb, pop3_conn_poll, 1);     /* every 500 ms: the login delay's clock */
}

static err_t pop3_conn_tls_up(void *arg, struct altcp_pcb *pcb, err_t err)
{
    struct pop3_conn *c = arg;
    if (!c || err != ERR_OK)
        return ERR_OK;
    pop3_session_tls_started(&c->session, tls_version_name(pcb));
    c->last_ms = hal_clock_ms();
    return pop3_conn_process(c);
}

/* The session said +OK to STLS: drop what the client pipelined behind
 * the command (RFC 2595 section 4: plaintext injection), then wrap the
 * connection. */
static err_t pop3_conn_stls(struct pop3_conn *c)
{
    if (c->in) {
        altcp_recved(c->pcb, c->in->tot_len);
        pbuf_free(c->in);
        c->in = NULL;
    }
    pop3_conn_flush(c);
    struct altcp_pcb *tls = altcp_tls_wrap(c->cfg->tls, c->pcb);
    if (!tls)
        return pop3_conn_close(c, "STLS failed (out of memory)");
    c->pcb = tls;
    pop3_conn_callbacks(c, tls);
    tls_on_handshake(tls, pop3_conn_tls_up);
    return ERR_OK;
}

static bool pop3_conn_reading(const struct pop3_conn *c)
{
    enum pop3_state st = c->session.state;
    return st == POP3_STATE_AUTH || st == POP3_STATE_SASL || st == POP3_STATE_TRANSACTION;
}

/* Pump the body being sent and feed queued input to the session while it
 * can take it.  Each turn writes output, reads input or stops, and the
 * output buffer is finite, so the loop ends.  Returns ERR_ABRT if the
 * connection was aborted. */
static err_t pop3_conn_process(struct pop3_conn *c)
{
    while (!c->closing && !c->overflow) {
        if (c->session.state == POP3_STATE_SENDING) {
            pop3_conn_flush(c);
            size_t room = sizeof(c->out) - c->out_len;
            if (room < POP3_SESSION_PUMP_MIN)
                break;              /* the sent callback comes back */
            pop3_session_pump(&c->session, room);
            continue;
        }
        if (!c->in || !pop3_conn_reading(c) || c->out_len >= sizeof(c->out) / 2)
            break;
        size_t avail = c->in->len;
        size_t used = pop3_session_input(&c->session, (const uint8_t *)c->in->payload, avail);
        if (used > 0) {
            altcp_recved(c->pcb, (u16_t)used);
            /* Drops what was read: whole pbufs are freed, a partly read
             * one keeps its unread tail. */
            c->in = pbuf_free_header(c->in, (u16_t)used);
        } else if (pop3_conn_reading(c))
            break;
    }
    if (c->overflow) {
        pop3_server_log(c->cfg, "pop3: %s: dropped, it sends without reading replies",
                        c->session.peer_ip);
        return pop3_conn_drop(c, "dropped (not reading replies)");
    }
    if (c->session.state == POP3_STATE_DELAY && c->resume_ms == 0)
        c->resume_ms = hal_clock_ms() + POP3_SERVER_LOGIN_DELAY_MS;
    if (c->session.state == POP3_STATE_STLS && c->cfg->tls)
        return pop3_conn_stls(c);
    pop3_conn_flush(c);
    if (c->session.state == POP3_STATE_CLOSED)
        return pop3_conn_close(c, "closed");
    return ERR_OK;
}

/* ---------------------------------------------------------- callbacks --- */

static err_t pop3_conn_recv(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct pop3_conn *c = arg;
    (void)err;
    if (!c) {
        if (p) {
            altcp_recved(pcb, p->tot_len);
            pbuf_free(p);
        }
        return ERR_OK;
    }
    if (!p) {
        /* The client closed: what it sent before still counts (a QUIT
         * with its UPDATE, say). */
        if (pop3_conn_process(c) == ERR_ABRT)
            return ERR_ABRT;
        if (c->pcb && !c->closing)
            return pop3_conn_close(c, "client closed without QUIT");
        return ERR_OK;
    }
    c->last_ms = hal_clock_ms();
    if (c->in)
        pbuf_cat(c->in, p);     /* p is ours now, chained behind */
    else
        c->in = p;
    return pop3_conn_process(c);
}

static err_t pop3_conn_sent(void *arg, struct altcp_pcb *pcb, u16_t len)
{
    struct pop3_conn *c = arg;
    (void)pcb;
    (void)len;
    if (!c)
        return ERR_OK;
    c->last_ms = hal_clock_ms();    /* a long RETR to a slow client is not idle */
    if (c->closing)
        return pop3_conn_close(c, NULL);
    pop3_conn_flush(c);
    return pop3_conn_process(c);
}

static err_t pop3_conn_poll(void *arg, struct altcp_pcb *pcb)
{
    struct pop3_conn *c = arg;
    (void)pcb;
    if (!c)
        return ERR_OK;
    if (c->closing)
        return pop3_conn_close(c, NULL);
    uint64_t now = hal_clock_ms();
    if (c->session.state == POP3_STATE_DELAY && c->resume_ms && now >= c->resume_ms) {
        c->resume_ms = 0;
        pop3_session_resume(&c->session);
        return pop3_conn_process(c);
    }
    if (now - c->last_ms > POP3_SERVER_IDLE_TIMEOUT * 1000ull) {
        static const char bye[] = "-ERR Idle for too long, closing the connection\r\n";
        pop3_conn_write(c, bye, sizeof(bye) - 1);
        return pop3_conn_close(c, "idle timeout");
    }
    return ERR_OK;
}

static void pop3_conn_err(void *arg, err_t err)
{
    struct pop3_conn *c = arg;
    (void)err;
    if (!c)
        return;
    /* The pcb is gone already. */
    pop3_session_end(&c->session, "connection reset");
    pop3_conn_free(c);
}

static err_t pop3_server_accept(void *arg, struct altcp_pcb *pcb, err_t err)
{
    struct pop3_server_config *cfg = arg;
    if (err != ERR_OK || !pcb)
        return ERR_VAL;
    struct pop3_conn *c = NULL;
    int slot = 0;
    for (; slot < POP3_SERVER_SESSIONS; slot++) {
        if (!pop3_conns[slot].pcb) {
            c = &pop3_conns[slot];
            break;
        }
    }
    if (!c) {
        /* Pool empty: say so and hang up, leaving the others alone. */
        static const char busy[] = "-ERR [SYS/TEMP] too many connections, try again later\r\n";
        altcp_write(pcb, busy, sizeof(busy) - 1, TCP_WRITE_FLAG_COPY);
        altcp_output(pcb);
        pop3_server_log(cfg, "pop3: connection refused, %d sessions busy", POP3_SERVER_SESSIONS);
        if (altcp_close(pcb) != ERR_OK) {
            altcp_abort(pcb);
            return ERR_ABRT;
        }
        return ERR_OK;
    }
    memset(c, 0, sizeof(*c));
    c->pcb = pcb;
    c->cfg = cfg;
    c->last_ms = hal_clock_ms();
    char ip[IPADDR_STRLEN_MAX];
    const ip_addr_t *peer = altcp_get_ip(pcb, 0);
    if (!peer || !ipaddr_ntoa_r(peer, ip, sizeof(ip)))
        strcpy(ip, "unknown");
    pop3_conn_callbacks(c, pcb);
    pop3_server_log(cfg, "pop3: session from %s on port %u", ip, cfg->port);
    pop3_session_init(&c->session, &cfg->session, &cfg->backends[slot], pop3_conn_write, c, ip,
                      cfg->implicit_tls ? tls_version_name(pcb) : NULL);
    pop3_conn_flush(c);
    return ERR_OK;
}

int pop3_server_start(struct pop3_server_config *cfg)
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
    altcp_accept(l, pop3_server_accept);
    return 0;
}
