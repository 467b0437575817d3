/*
 * smtp_session.h - one SMTP server session (RFC 5321), transport-free.
 *
 * The session is a state machine fed with the bytes the client sent and
 * answering through a write callback; it does not know about TCP or TLS.
 * Recipients and messages go to a backend (the mail store and accounts on
 * the appliance, a recorder in the tests) through struct smtp_backend.
 *
 * Input discipline: command lines end in CRLF (a bare LF is accepted as
 * the end of a command line, never inside DATA) and are at most 512
 * octets; the message ends on <CRLF>.<CRLF> only (see smtp_data.h); BDAT
 * chunks are taken by count.  A STARTTLS accepted by the session makes it
 * stop reading: the caller must drop whatever the client pipelined behind
 * the command, start TLS and call smtp_session_tls_started().
 */
#ifndef SMTP_SESSION_H
#define SMTP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "address.h"
#include "smtp_cmd.h"
#include "smtp_data.h"

#define SMTP_SESSION_ID_LEN     13      /* queue ID characters */
#define SMTP_SESSION_MAX_RCPTS  100
#define SMTP_SESSION_MAX_ERRORS 10      /* bad commands before the session is closed */

enum smtp_state {
    SMTP_STATE_INIT,        /* greeted, waiting for HELO/EHLO */
    SMTP_STATE_READY,       /* HELO/EHLO done: MAIL allowed */
    SMTP_STATE_MAIL,        /* MAIL accepted: RCPT allowed */
    SMTP_STATE_RCPT,        /* a recipient accepted: RCPT, DATA, BDAT allowed */
    SMTP_STATE_DATA,        /* reading the DATA body */
    SMTP_STATE_BDAT,        /* reading a BDAT chunk */
    SMTP_STATE_STARTTLS,    /* 220 sent for STARTTLS: waiting for the caller */
    SMTP_STATE_HOLD,        /* a failed AUTH: the 535 waits for smtp_session_resume() */
    SMTP_STATE_CLOSED,      /* QUIT or a fatal error: the caller closes */
};

#define SMTP_SESSION_USER_MAX 320   /* octets of a login name (an address) */
#define SMTP_SESSION_PASS_MAX 256

/* What the session knows of the message it is about to store. */
struct smtp_envelope {
    char id[SMTP_SESSION_ID_LEN + 1];   /* queue ID, also in Received: */
    struct mail_address from;
    enum smtp_body body;
    bool smtputf8;
    int nrcpt;
    const char *auth_user;      /* submission: the logged-in user; NULL on port 25 */
};

/* Where recipients and messages go.  Every function returns 0 or a
 * negative PB_E*; on failure the ones with a reply argument fill it. */
struct smtp_backend {
    void *ctx;
    /* A transaction starts (MAIL accepted by syntax and state).  PB_ENOSPC
     * gives 452 4.3.1. */
    int (*begin)(void *ctx, const struct smtp_envelope *env, struct smtp_reply *reply);
    /* Accept or refuse one recipient (550 5.1.1, 554 5.7.1, 452 ...). */
    int (*rcpt)(void *ctx, const struct mail_address *rcpt, struct smtp_reply *reply);
    /* Message bytes (headers the session adds first, then the body). */
    int (*write)(void *ctx, const uint8_t *data, size_t len);
    /* Make the message durable for every accepted recipient; 0 only once
     * it is on flash.  Anything else gets 451 4.3.0 (or 452 4.3.1 for
     * PB_ENOSPC) and the message is not acknowledged. */
    int (*commit)(void *ctx);
    /* Forget the transaction (RSET, refused message, closed session). */
    void (*abort)(void *ctx);
    /* Submission: check a login from peer (an address as text).  0: good;
     * PB_EPERM: wrong user or password; PB_EBUSY: the peer is locked out
     * after too many failures.  NULL: no logins. */
    int (*auth)(void *ctx, const char *peer, const char *user, const char *pass);
};

struct smtp_session_config {
    const char *hostname;       /* greeting and Received: */
    uint64_t max_size;          /* message size limit, octets */
    bool tls_available;         /* STARTTLS may be offered */
    void (*log)(const char *line);  /* one line per message, or NULL */
    /* Submission (RFC 6409, ports 587 and 465): AUTH PLAIN and LOGIN are
     * offered once TLS is on, MAIL needs a login, and a message without
     * Date: or Message-ID: gets them. */
    bool submission;
    bool hide_client;           /* submission: Received: without the client's address */
};

struct smtp_session {
    enum smtp_state state;
    const struct smtp_session_config *cfg;
    const struct smtp_backend *be;
    void (*write)(void *ctx, const char *s, size_t n);
    void *write_ctx;

    char peer_ip[48];
    char helo[SMTP_CMD_DOMAIN_MAX + 1];
    bool esmtp;
    bool tls;
    const char *tls_version, *tls_cipher;

    char line[SMTP_CMD_LINE_MAX + 1];
    size_t line_len;
    bool line_too_long;
    int errors;

    struct smtp_envelope env;
    struct mail_address rcpt1;  /* the first recipient, for Received: "for" */
    bool in_txn;                /* backend->begin() succeeded */
    int write_err;              /* first backend->write() failure of the message */
    uint64_t msg_size;
    struct smtp_data data;
    uint64_t bdat_left;         /* octets of the current BDAT chunk still to come */
    bool bdat_last;
    bool bdat_started;          /* a BDAT chunk came before: DATA is refused */

    unsigned long messages;     /* accepted in this session */

    /* Submission. */
    char auth_user[SMTP_SESSION_USER_MAX + 1];  /* "" until AUTH succeeded */
    int auth_step;              /* SMTP_AUTH_*: which SASL response the next line is */
    char auth_login[SMTP_SESSION_USER_MAX + 1]; /* AUTH LOGIN: the user name given */
    enum smtp_state held_from;  /* the state to go back to after SMTP_STATE_HOLD */
    /* Header scan of a submitted message: Date: and Message-ID: are added
     * at the end of the header section when missing. */
    bool in_headers, at_line_start, saw_date, saw_msgid;
    char hdr_name[12];
    size_t hdr_len;
    bool hdr_done;              /* the name of this line is known (':' seen or too long) */
};

/* Start a session and send the greeting.  write(ctx, ...) sends reply
 * text.  peer_ip is the client's address as text. */
void smtp_session_init(struct smtp_session *s, const struct smtp_session_config *cfg,
                       const struct smtp_backend *be,
                       void (*write)(void *ctx, const char *s, size_t n), void *write_ctx,
                       const char *peer_ip);

/* Feed bytes from the client.  Returns how many were consumed: all of
 * them, except when the session stopped (STARTTLS accepted, or closed),
 * where the rest must not be read as commands. */
size_t smtp_session_input(struct smtp_session *s, const uint8_t *data, size_t len);

/* TLS is up on the connection: back to the state before EHLO (RFC 3207
 * section 4.2), now encrypted.  version/cipher are for Received: (static
 * strings). */
void smtp_session_tls_started(struct smtp_session *s, const char *version, const char *cipher);

/* SMTP_STATE_HOLD: the delay after a failed login is over; the 535 goes
 * out and the session reads commands again. */
void smtp_session_resume(struct smtp_session *s);

/* The connection is going away (timeout, reset): abort any transaction. */
void smtp_session_end(struct smtp_session *s);

const char *smtp_session_state_name(enum smtp_state st);

#endif
