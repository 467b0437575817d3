/*
 * imap_server.h - IMAP sessions on altcp connections: listening (143 with
 * STARTTLS, 993 with TLS from the first byte), the session pool, output
 * buffering and streaming, STARTTLS, the delay after a failed login, IDLE
 * polling and the idle timeout (30 minutes, RFC 3501 5.4).
 *
 * Sessions come from one fixed pool of IMAP_SERVER_SESSIONS slots shared
 * by both ports, which the caller provides (cfg->slots: with their
 * mailbox snapshots they are large, and the board decides where they
 * live).  When the pool is empty a new connection gets "* BYE" and is
 * closed at once; the sessions already running carry on.
 *
 * A failed login is answered after IMAP_SERVER_LOGIN_DELAY_MS to 500 ms
 * more, from the TCP poll timer: the event loop runs on meanwhile.  The
 * same timer (every 500 ms) polls sessions in IDLE, so a delivery shows
 * within a second.
 */
#ifndef IMAP_SERVER_H
#define IMAP_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "conn.h"
#include "imap_mailbox.h"
#include "imap_session.h"

#define IMAP_SERVER_SESSIONS       8       /* concurrent sessions, all ports */
#define IMAP_SERVER_OUT_BYTES      8192    /* reply buffer per session (>= 2 x IMAP_SESSION_PUMP_MIN) */
#define IMAP_SERVER_IDLE_TIMEOUT   1800    /* seconds idle before closing (RFC 3501: at least 30 min) */
#define IMAP_SERVER_LOGIN_DELAY_MS 1500

struct altcp_tls_config;
struct altcp_pcb;
struct pbuf;
struct imap_server_config;

/* One connection with its session and mailbox view (about 40 KiB). */
struct imap_server_slot {
    struct conn conn;               /* conn.pcb NULL: slot free */
    struct imap_server_config *cfg;
    struct imap_session session;
    struct imap_mailbox mb;
    char out[IMAP_SERVER_OUT_BYTES];
    uint64_t resume_ms;             /* IMAP_MODE_DELAY: when to answer; 0 unset */
};

struct imap_server_config {
    uint16_t port;
    bool implicit_tls;                      /* TLS from the first byte (993) */
    struct imap_session_config session;     /* tls_available is set from tls */
    struct altcp_tls_config *tls;           /* certificate, or NULL (no STARTTLS, no 993) */
    struct imap_server_slot *slots;         /* IMAP_SERVER_SESSIONS of them, shared by the ports */
    void (*log)(const char *line);          /* one line per session */
};

/* The store the mailboxes are in. */
void imap_server_init(struct imap_server_slot *slots, struct store *store);

/* Listen on cfg->port (cfg must stay valid).  Returns 0 or a negative
 * PB_E* (PB_EINVAL for implicit TLS without a TLS config). */
int imap_server_start(struct imap_server_config *cfg);

/* Sessions in use now (for "show status"). */
int imap_server_sessions_in_use(void);

#endif
