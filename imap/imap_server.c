/*
 * imap_server.c - IMAP sessions on altcp connections (see imap_server.h).
 *
 * The connection plumbing (queued input, buffered replies, STARTTLS,
 * close) is net/conn.h's, shared with SMTP and POP3.  While the reply
 * buffer is more than half full no further command is read, and a message
 * body is pumped from flash into it only as far as it has room, so a
 * FETCH proceeds at the pace of the client's window.
 */
#include "imap_server.h"

#include <stdio.h>
#include <string.h>

#include "conn.h"
#include "hal_clock.h"
#include "lwip/altcp.h"
#include "lwip/altcp_tcp.h"
#include "lwip/altcp_tls.h"
#include "pb_err.h"
#include "tls.h"

#define imap_conn imap_server_slot

static struct imap_server_slot *imap_conns;


static err_t imap_conn_process(void *slot);
static err_t imap_conn_peer_closed(void *slot);
static err_t imap_conn_closing(void *slot);
static err_t imap_conn_poll(void *slot, uint64_t now);
static void imap_conn_reset(void *slot);
static void imap_conn_tls_started(void *slot, struct altcp_pcb *pcb);

static const struct conn_ops imap_conn_ops = {
    .name = "imap",
    .unit = "sessions",
    .busy = "* BYE Too many connections, try again later\r\n",
    .poll_interval = 1,         /* every 500 ms: the login delay's clock */
    .sent_is_activity = true,   /* a long FETCH to a slow client is not idle */
    .process = imap_conn_process,
    .peer_closed = imap_conn_peer_closed,
    .close = imap_conn_closing,
    .poll = imap_conn_poll,
    .reset = imap_conn_reset,
    .tls_started = imap_conn_tls_started,
};

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
        n += imap_conns[i].conn.pcb != NULL;
    return n;
}

/* ------------------------------------------------------------- output --- */

static void imap_conn_flush(struct imap_conn *c)
{
    conn_flush(&c->conn);
}

/* The session's write callback. */
static void imap_conn_write(void *ctx, const char *s, size_t n)
{
    struct imap_conn *c = ctx;
    conn_write(&c->conn, s, n);
}

/* ---------------------------------------------------------- lifecycle --- */

/* Close once every reply is handed to TCP.  why is for the log when the
 * session did not end by itself.  Returns ERR_ABRT when the pcb had to be
 * aborted (callbacks must then return ERR_ABRT). */
static err_t imap_conn_close(struct imap_conn *c, const char *why)
{
    c->conn.closing = true;
    if (why)
        imap_session_end(&c->session, why); /* logs once: the first reason wins */
    imap_conn_flush(c);
    if (c->conn.out_len > 0)
        return ERR_OK;              /* the sent callback comes back here */
    err_t err = conn_finish(&c->conn, false);
    imap_mailbox_logout(&c->mb);    /* an APPEND in progress is aborted */
    return err;
}

static err_t imap_conn_drop(struct imap_conn *c, const char *why)
{
    imap_session_end(&c->session, why);
    conn_finish(&c->conn, true);
    imap_mailbox_logout(&c->mb);    /* an APPEND in progress is aborted */
    return ERR_ABRT;
}

/* The sent and poll callbacks while closing. */
static err_t imap_conn_closing(void *slot)
{
    return imap_conn_close(slot, NULL);
}

static void imap_conn_tls_started(void *slot, struct altcp_pcb *pcb)
{
    struct imap_conn *c = slot;
    imap_session_tls_started(&c->session, tls_version_name(pcb));
}

/* The session said OK to STARTTLS: drop what the client pipelined behind
 * the command (RFC 3501 6.2.1, plaintext injection), then wrap the
 * connection. */
static err_t imap_conn_starttls(struct imap_conn *c)
{
    if (!conn_starttls(&c->conn, c->cfg->tls))
        return imap_conn_close(c, "STARTTLS failed (out of memory)");
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
static err_t imap_conn_process(void *slot)
{
    struct imap_conn *c = slot;
    while (!c->conn.closing && !c->conn.overflow) {
        if (c->session.mode == IMAP_MODE_SENDING) {
            imap_conn_flush(c);
            size_t room = sizeof(c->out) - c->conn.out_len;
            if (room < IMAP_SESSION_PUMP_MIN)
                break;              /* the sent callback comes back */
            imap_session_pump(&c->session, room);
            continue;
        }
        if (!c->conn.in || !imap_conn_reading(c) || c->conn.out_len >= sizeof(c->out) / 2)
            break;
        size_t avail = c->conn.in->len;
        size_t used = imap_session_input(&c->session, (const uint8_t *)c->conn.in->payload, avail);
        conn_consumed(&c->conn, used);
        if (used == 0 && imap_conn_reading(c))
            break;
    }
    if (c->conn.overflow) {
        conn_log(c->cfg->log, "imap: %s: dropped, it sends without reading replies",
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

/* The client closed without waiting for the end of the session. */
static err_t imap_conn_peer_closed(void *slot)
{
    struct imap_conn *c = slot;
    if (!c->conn.closing)
        return imap_conn_close(c, "client closed without LOGOUT");
    return ERR_OK;
}

static err_t imap_conn_poll(void *slot, uint64_t now)
{
    struct imap_conn *c = slot;
    if (c->session.mode == IMAP_MODE_DELAY && c->resume_ms && now >= c->resume_ms) {
        c->resume_ms = 0;
        imap_session_resume(&c->session);
        return imap_conn_process(c);
    }
    if (c->session.mode == IMAP_MODE_IDLE) {
        imap_session_poll(&c->session);
        return imap_conn_process(c);
    }
    if (now - c->conn.last_ms > IMAP_SERVER_IDLE_TIMEOUT * 1000ull) {
        imap_session_timeout(&c->session);
        return imap_conn_close(c, "idle timeout");
    }
    return ERR_OK;
}

static void imap_conn_reset(void *slot)
{
    struct imap_conn *c = slot;
    imap_session_end(&c->session, "connection reset");
    imap_mailbox_logout(&c->mb);    /* an APPEND in progress is aborted */
}

static err_t imap_server_accept(void *arg, struct altcp_pcb *pcb, err_t err)
{
    struct imap_server_config *cfg = arg;
    err_t ret;
    int slot = conn_accept(&imap_conn_ops, pcb, err, imap_conns ? &imap_conns[0].conn : NULL,
                           sizeof(*imap_conns), IMAP_SERVER_SESSIONS, cfg->log, &ret);
    if (slot < 0)
        return ret;
    struct imap_conn *c = &imap_conns[slot];
    conn_init(&c->conn, pcb, c->out, sizeof(c->out));
    c->resume_ms = 0;
    c->cfg = cfg;
    char ip[IPADDR_STRLEN_MAX];
    conn_peer(pcb, ip, sizeof(ip));
    conn_attach(&c->conn, pcb, &imap_conn_ops, c);
    conn_log(cfg->log, "imap: session from %s on port %u", ip, cfg->port);
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
    return conn_listen(cfg->port, cfg->tls, cfg->implicit_tls, imap_server_accept, cfg);
}
