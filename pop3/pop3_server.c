/*
 * pop3_server.c - POP3 sessions on altcp connections (see pop3_server.h).
 *
 * The connection plumbing (queued input, buffered replies, STLS, close)
 * is net/conn.h's, shared with SMTP and IMAP.  While the reply buffer is
 * more than half full no further command is read, and a message body is
 * pumped from flash into it only as far as it has room, so a RETR
 * proceeds at the pace of the client's window.
 */
#include "pop3_server.h"

#include <stdio.h>
#include <string.h>

#include "conn.h"
#include "hal_clock.h"
#include "lwip/altcp.h"
#include "lwip/altcp_tcp.h"
#include "lwip/altcp_tls.h"
#include "pb_err.h"
#include "tls.h"

#define pop3_conn pop3_server_slot

static struct pop3_server_slot *pop3_conns;     /* the caller's pool */

void pop3_server_init(struct pop3_server_slot *slots)
{
    memset(slots, 0, POP3_SERVER_SESSIONS * sizeof(*slots));
    pop3_conns = slots;
}

static err_t pop3_conn_process(void *slot);
static err_t pop3_conn_peer_closed(void *slot);
static err_t pop3_conn_closing(void *slot);
static err_t pop3_conn_poll(void *slot, uint64_t now);
static void pop3_conn_reset(void *slot);
static void pop3_conn_tls_started(void *slot, struct altcp_pcb *pcb);

static const struct conn_ops pop3_conn_ops = {
    .name = "pop3",
    .unit = "sessions",
    .busy = "-ERR [SYS/TEMP] too many connections, try again later\r\n",
    .poll_interval = 1,         /* every 500 ms: the login delay's clock */
    .sent_is_activity = true,   /* a long RETR to a slow client is not idle */
    .process = pop3_conn_process,
    .peer_closed = pop3_conn_peer_closed,
    .close = pop3_conn_closing,
    .poll = pop3_conn_poll,
    .reset = pop3_conn_reset,
    .tls_started = pop3_conn_tls_started,
};

int pop3_server_sessions_in_use(void)
{
    int n = 0;
    for (int i = 0; pop3_conns && i < POP3_SERVER_SESSIONS; i++)
        n += pop3_conns[i].conn.pcb != NULL;
    return n;
}

/* ------------------------------------------------------------- output --- */

static void pop3_conn_flush(struct pop3_conn *c)
{
    conn_flush(&c->conn);
}

/* The session's write callback. */
static void pop3_conn_write(void *ctx, const char *s, size_t n)
{
    struct pop3_conn *c = ctx;
    conn_write(&c->conn, s, n);
}

/* ---------------------------------------------------------- lifecycle --- */

/* Close once every reply is handed to TCP.  why is for the log when the
 * session did not end by itself.  Returns ERR_ABRT when the pcb had to be
 * aborted (callbacks must then return ERR_ABRT). */
static err_t pop3_conn_close(struct pop3_conn *c, const char *why)
{
    c->conn.closing = true;
    if (why)
        pop3_session_end(&c->session, why); /* logs once: the first reason wins */
    pop3_conn_flush(c);
    if (c->conn.out_len > 0)
        return ERR_OK;              /* the sent callback comes back here */
    err_t err = conn_finish(&c->conn, false);
    memset(c, 0, sizeof(*c));
    return err;
}

static err_t pop3_conn_drop(struct pop3_conn *c, const char *why)
{
    pop3_session_end(&c->session, why);
    conn_finish(&c->conn, true);
    memset(c, 0, sizeof(*c));
    return ERR_ABRT;
}

/* The sent and poll callbacks while closing. */
static err_t pop3_conn_closing(void *slot)
{
    return pop3_conn_close(slot, NULL);
}

static void pop3_conn_tls_started(void *slot, struct altcp_pcb *pcb)
{
    struct pop3_conn *c = slot;
    pop3_session_tls_started(&c->session, tls_version_name(pcb));
}

/* The session said +OK to STLS: drop what the client pipelined behind
 * the command (RFC 2595 section 4: plaintext injection), then wrap the
 * connection. */
static err_t pop3_conn_stls(struct pop3_conn *c)
{
    if (!conn_starttls(&c->conn, c->cfg->tls))
        return pop3_conn_close(c, "STLS failed (out of memory)");
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
static err_t pop3_conn_process(void *slot)
{
    struct pop3_conn *c = slot;
    while (!c->conn.closing && !c->conn.overflow) {
        if (c->session.state == POP3_STATE_SENDING) {
            pop3_conn_flush(c);
            size_t room = sizeof(c->out) - c->conn.out_len;
            if (room < POP3_SESSION_PUMP_MIN)
                break;              /* the sent callback comes back */
            pop3_session_pump(&c->session, room);
            continue;
        }
        if (!c->conn.in || !pop3_conn_reading(c) || c->conn.out_len >= sizeof(c->out) / 2)
            break;
        size_t avail = c->conn.in->len;
        size_t used = pop3_session_input(&c->session, (const uint8_t *)c->conn.in->payload, avail);
        conn_consumed(&c->conn, used);
        if (used == 0 && pop3_conn_reading(c))
            break;
    }
    if (c->conn.overflow) {
        conn_log(c->cfg->log, "pop3: %s: dropped, it sends without reading replies",
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

/* The client closed without waiting for the end of the session. */
static err_t pop3_conn_peer_closed(void *slot)
{
    struct pop3_conn *c = slot;
    if (!c->conn.closing)
        return pop3_conn_close(c, "client closed without QUIT");
    return ERR_OK;
}

static err_t pop3_conn_poll(void *slot, uint64_t now)
{
    struct pop3_conn *c = slot;
    if (c->session.state == POP3_STATE_DELAY && c->resume_ms && now >= c->resume_ms) {
        c->resume_ms = 0;
        pop3_session_resume(&c->session);
        return pop3_conn_process(c);
    }
    if (now - c->conn.last_ms > POP3_SERVER_IDLE_TIMEOUT * 1000ull) {
        static const char bye[] = "-ERR Idle for too long, closing the connection\r\n";
        pop3_conn_write(c, bye, sizeof(bye) - 1);
        return pop3_conn_close(c, "idle timeout");
    }
    return ERR_OK;
}

static void pop3_conn_reset(void *slot)
{
    struct pop3_conn *c = slot;
    pop3_session_end(&c->session, "connection reset");
    memset(c, 0, sizeof(*c));
}

static err_t pop3_server_accept(void *arg, struct altcp_pcb *pcb, err_t err)
{
    struct pop3_server_config *cfg = arg;
    err_t ret;
    int slot = conn_accept(&pop3_conn_ops, pcb, err, pop3_conns ? &pop3_conns[0].conn : NULL,
                           sizeof(*pop3_conns), POP3_SERVER_SESSIONS, cfg->log, &ret);
    if (slot < 0)
        return ret;
    struct pop3_conn *c = &pop3_conns[slot];
    memset(c, 0, sizeof(*c));
    conn_init(&c->conn, pcb, c->out, sizeof(c->out));
    c->cfg = cfg;
    char ip[IPADDR_STRLEN_MAX];
    conn_peer(pcb, ip, sizeof(ip));
    conn_attach(&c->conn, pcb, &pop3_conn_ops, c);
    conn_log(cfg->log, "pop3: session from %s on port %u", ip, cfg->port);
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
    return conn_listen(cfg->port, cfg->tls, cfg->implicit_tls, pop3_server_accept, cfg);
}
