/*
 * smtp_server.h - SMTP sessions on altcp connections: listening, the
 * session pool, output buffering, STARTTLS, timeouts.
 *
 * One listener per port.  Sessions come from a fixed pool of
 * SMTP_SERVER_SESSIONS; when it is empty a new connection is answered
 * "421 4.3.2" and closed at once, and the sessions already running carry
 * on.  Each pool slot has its own backend (the caller provides them, so a
 * backend can keep per-session state).
 */
#ifndef SMTP_SERVER_H
#define SMTP_SERVER_H

#include <stdint.h>

#include "smtp_session.h"

#define SMTP_SERVER_SESSIONS     16     /* concurrent sessions, all ports */
#define SMTP_SERVER_OUT_BYTES    2048   /* reply buffer per session */
#define SMTP_SERVER_CMD_TIMEOUT  300    /* default seconds idle before 421 (RFC 5321 4.5.3.2.7) */
#define SMTP_SERVER_AUTH_DELAY_MS 1500  /* a failed login is answered this late, at least */

struct altcp_tls_config;

struct smtp_server_config {
    uint16_t port;
    struct smtp_session_config session;    /* tls_available is set from tls */
    struct altcp_tls_config *tls;           /* STARTTLS certificate, or NULL */
    const struct smtp_backend *backends;    /* SMTP_SERVER_SESSIONS of them */
    void (*log)(const char *line);          /* one line per session and message */
    bool implicit_tls;                      /* TLS from the first byte (465, RFC 8314) */
    bool require_rdns;                      /* greet only peers whose address has a PTR
                                               name (554 5.7.25 otherwise; 421 4.7.25 when
                                               DNS cannot tell now) */
    uint32_t timeout;                       /* seconds idle before 421; 0: SMTP_SERVER_CMD_TIMEOUT.
                                               May change while sessions run (so may
                                               session.max_size): read at each use. */
};

/* Listen on cfg->port (cfg must stay valid).  Returns 0 or a negative
 * PB_E*. */
int smtp_server_start(struct smtp_server_config *cfg);

/* Sessions in use now (for "show status"). */
int smtp_server_sessions_in_use(void);

/* Messages accepted on every SMTP port (25, 587, 465) during the UTC day
 * of now_s (wall clock, seconds since 1970): the counter starts again at
 * the first message of a new day.  RAM only: zero after a restart. */
unsigned long smtp_server_accepted_today(int64_t now_s);

#endif
