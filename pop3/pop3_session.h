/*
 * pop3_session.h - one POP3 server session (RFC 1939, 2449, 2595, 5034),
 * transport-free.
 *
 * The session is a state machine fed with the bytes the client sent and
 * answering through a write callback; it knows nothing of TCP, TLS or
 * time.  Logins and the maildrop go through struct pop3_backend (the store
 * and accounts on the appliance, a fake in the tests).
 *
 * Input discipline: command lines end in CRLF (a bare LF is accepted) and
 * are at most POP3_SESSION_LINE_MAX octets with the CRLF (RFC 2449
 * section 4); a SASL response line may be up to SASL_PLAIN_B64_MAX.
 *
 * The session stops reading (pop3_session_input() returns less than it
 * was given, and keeps the rest unread) in three states the caller drives:
 *   POP3_STATE_SENDING  RETR/TOP: call pop3_session_pump() with the room
 *                       the connection has, until the state changes.  The
 *                       message streams from the backend with dot-stuffing;
 *                       it is never held whole in RAM.
 *   POP3_STATE_DELAY    a login failed: the -ERR is held back.  Call
 *                       pop3_session_resume() after the delay (1-2 s,
 *                       without blocking the event loop).
 *   POP3_STATE_STLS     "+OK" was sent for STLS: drop whatever the client
 *                       pipelined behind the command, start TLS and call
 *                       pop3_session_tls_started().
 * In POP3_STATE_CLOSED the caller closes the connection once the replies
 * are sent.
 *
 * USER/PASS and AUTH are refused on a connection without TLS
 * ("-ERR [AUTH] ... use STLS" ; RFC 2595 section 2.1), and CAPA shows them
 * only under TLS.  Message numbers and sizes are fixed at login (the
 * backend takes a snapshot); DELE only marks, and QUIT in the TRANSACTION
 * state asks the backend to expunge every marked message in one commit,
 * answering "+OK" only when it succeeded.
 */
#ifndef POP3_SESSION_H
#define POP3_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sasl.h"

#define POP3_SESSION_LINE_MAX   255     /* octets of a command line, CRLF included */
#define POP3_SESSION_USER_MAX   254     /* user name (an address) */
#define POP3_SESSION_PASS_MAX   255
#define POP3_SESSION_MAX_MSGS   4096    /* messages of a maildrop shown at once */
#define POP3_SESSION_MAX_ERRORS 10      /* bad commands before the session is closed */
#define POP3_SESSION_MAX_LOGINS 3       /* failed logins before the session is closed */

enum pop3_state {
    POP3_STATE_AUTH,        /* AUTHORIZATION: USER/PASS, AUTH, STLS, CAPA, QUIT */
    POP3_STATE_SASL,        /* "+ " sent for AUTH PLAIN: the next line is the response */
    POP3_STATE_DELAY,       /* a login failed: waiting for pop3_session_resume() */
    POP3_STATE_TRANSACTION, /* logged in: the maildrop is open */
    POP3_STATE_SENDING,     /* RETR/TOP body: waiting for pop3_session_pump() */
    POP3_STATE_STLS,        /* "+OK" sent for STLS: waiting for the caller */
    POP3_STATE_CLOSED,      /* QUIT or a fatal error: the caller closes */
};

/* One message of the snapshot. */
struct pop3_msg {
    uint32_t size;          /* octets as stored (RFC 1939's "exact size" before stuffing) */
    uint32_t uid;
    uint32_t uidvalidity;   /* UIDL is "uidvalidity.uid": stable and never reused */
};

/* Login and the maildrop.  Message indexes are 0-based here (the session
 * numbers them from 1 for the client).  Negative returns are PB_E*. */
struct pop3_backend {
    void *ctx;
    /* Check user/pass for a client at peer and, if right, open the user's
     * maildrop: take the snapshot of its messages.  Returns 0; PB_EPERM
     * for a wrong user or password; PB_EBUSY while peer is locked out
     * after failed logins; PB_EEXIST when another session has the
     * maildrop; anything else is a system failure. */
    int (*login)(void *ctx, const char *peer, const char *user, const char *pass);
    /* Messages in the snapshot (at most POP3_SESSION_MAX_MSGS). */
    int (*count)(void *ctx);
    /* Message i of the snapshot: 0 or PB_ENOENT (gone meanwhile). */
    int (*msg)(void *ctx, unsigned i, struct pop3_msg *m);
    /* Up to len bytes of message i from offset: the count, 0 at the end,
     * or a negative PB_E*. */
    int (*read)(void *ctx, unsigned i, uint32_t offset, void *buf, size_t len);
    /* Expunge every message whose bit is set in deleted (bit i of byte
     * i/8), all in one durable transaction: 0 only once it is on flash;
     * on failure nothing is deleted. */
    int (*commit)(void *ctx, const uint8_t *deleted, unsigned count);
    /* The session is over: forget the snapshot (nothing is deleted). */
    void (*logout)(void *ctx);
};

struct pop3_session_config {
    const char *hostname;       /* greeting */
    bool tls_available;         /* STLS may be offered */
    unsigned max_deletes;       /* DELE marks one session can commit (0: no limit) */
    void (*log)(const char *line);  /* the session's one line, or NULL */
};

struct pop3_session {
    enum pop3_state state;
    const struct pop3_session_config *cfg;
    const struct pop3_backend *be;
    void (*write)(void *ctx, const char *s, size_t n);
    void *write_ctx;

    char peer_ip[48];
    bool tls;
    const char *tls_version;

    char line[SASL_PLAIN_B64_MAX + 2];
    size_t line_len;
    bool line_too_long;
    int errors;
    int login_failures;

    char user[POP3_SESSION_USER_MAX + 1];   /* from USER, or the logged-in user */
    bool have_user;             /* USER accepted, PASS may follow */
    bool logged_in;
    const char *delayed_reply;  /* the -ERR held back in POP3_STATE_DELAY */

    unsigned count;             /* messages in the snapshot */
    uint8_t deleted[POP3_SESSION_MAX_MSGS / 8];
    unsigned marked;            /* bits set in deleted */

    /* The message being sent (POP3_STATE_SENDING). */
    uint8_t send_kind;          /* message body, LIST or UIDL listing */
    unsigned send_msg;          /* message, or the listing's next message */
    uint32_t send_off;
    bool send_top;              /* TOP: stop after the header and send_lines body lines */
    uint32_t send_lines;
    bool at_line_start, line_nonblank, in_body;

    unsigned long retrieved, removed;
    const char *result;         /* how the session ended, for its log line */
    bool logged;                /* the session's log line is written */
};

/* Start a session and send the greeting.  write(ctx, ...) sends reply
 * text; peer_ip is the client's address as text; tls_version is non-NULL
 * when the connection is TLS from the start (port 995). */
void pop3_session_init(struct pop3_session *s, const struct pop3_session_config *cfg,
                       const struct pop3_backend *be,
                       void (*write)(void *ctx, const char *s, size_t n), void *write_ctx,
                       const char *peer_ip, const char *tls_version);

/* Feed bytes from the client.  Returns how many were consumed: all of
 * them unless the session stopped reading (see the top of this file). */
size_t pop3_session_input(struct pop3_session *s, const uint8_t *data, size_t len);

/* POP3_STATE_SENDING: write at most room octets more of the message
 * (room >= POP3_SESSION_PUMP_MIN; less does nothing).  The state returns
 * to TRANSACTION after the final ".", or becomes CLOSED if the message
 * could not be read (the client sees the response cut short, never a
 * wrong one). */
#define POP3_SESSION_PUMP_MIN 64   /* a listing line or a piece of body always fits */
void pop3_session_pump(struct pop3_session *s, size_t room);

/* POP3_STATE_DELAY: the delay is over; send the held -ERR. */
void pop3_session_resume(struct pop3_session *s);

/* TLS is up after STLS: back to AUTHORIZATION, now encrypted. */
void pop3_session_tls_started(struct pop3_session *s, const char *version);

/* The connection is going away: log the session (with why, a static
 * string, unless it ended by QUIT) and log out without deleting. */
void pop3_session_end(struct pop3_session *s, const char *why);

const char *pop3_session_state_name(enum pop3_state st);

#endif
