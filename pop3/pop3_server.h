/*
 * pop3_server.h - POP3 sessions on altcp connections: listening (110 with
 * STLS, 995 with TLS from the first byte), the session pool, output
 * buffering and streaming, STLS, the delay after a failed login, the idle
 * timeout.
 *
 * Sessions come from one fixed pool of POP3_SERVER_SESSIONS shared by
 * every POP3 port; when it is empty a new connection is answered
 * "-ERR [SYS/TEMP] too many connections" and closed at once, and the
 * sessions already running carry on.  Each pool slot has its own backend
 * (the caller provides POP3_SERVER_SESSIONS of them, shared by the ports).
 *
 * A failed login is answered after POP3_SERVER_LOGIN_DELAY_MS to
 * POP3_SERVER_LOGIN_DELAY_MS + 500 ms, from the TCP poll timer: the event
 * loop and the other sessions run on meanwhile.
 */
#ifndef POP3_SERVER_H
#define POP3_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "conn.h"
#include "pop3_session.h"

#define POP3_SERVER_SESSIONS       8       /* concurrent sessions, all ports */
#define POP3_SERVER_OUT_BYTES      4096    /* reply buffer per session */
#define POP3_SERVER_IDLE_TIMEOUT   600     /* seconds idle before closing (RFC 1939: at least 600) */
#define POP3_SERVER_LOGIN_DELAY_MS 1500

struct altcp_tls_config;
struct pop3_server_config;

/* One session of the pool (about 6 KiB): the caller places the pool, so a
 * board can keep it in external RAM. */
struct pop3_server_slot {
    struct conn conn;               /* conn.pcb NULL: slot free */
    struct pop3_server_config *cfg;
    struct pop3_session session;
    char out[POP3_SERVER_OUT_BYTES];
    uint64_t resume_ms;             /* POP3_STATE_DELAY: when to answer; 0 unset */
};

/* The pool: POP3_SERVER_SESSIONS slots, shared by the ports.  Call once
 * before pop3_server_start. */
void pop3_server_init(struct pop3_server_slot *slots);

struct pop3_server_config {
    uint16_t port;
    bool implicit_tls;                      /* TLS from the first byte (995) */
    struct pop3_session_config session;     /* tls_available is set from tls */
    struct altcp_tls_config *tls;           /* certificate, or NULL (no STLS, no 995) */
    const struct pop3_backend *backends;    /* POP3_SERVER_SESSIONS of them */
    void (*log)(const char *line);          /* one line per session */
};

/* Listen on cfg->port (cfg must stay valid).  Returns 0 or a negative
 * PB_E* (PB_EINVAL for implicit TLS without a TLS config). */
int pop3_server_start(struct pop3_server_config *cfg);

/* Sessions in use now (for "show status"). */
int pop3_server_sessions_in_use(void);

#endif
