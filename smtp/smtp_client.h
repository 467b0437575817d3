/*
 * smtp_client.h - one SMTP client session (RFC 5321) that delivers one
 * message to one server, transport-free.
 *
 * Like smtp_session.h on the other side: the session is fed the bytes the
 * server sent (smtp_client_input) and is asked for the bytes to send
 * (smtp_client_pull, as much as the connection's send buffer takes); it
 * knows nothing of TCP, TLS or the store.  The body comes through a read
 * callback from any offset, so it streams from flash as the window allows.
 *
 * What it does: waits for the greeting, EHLO (HELO when EHLO is refused),
 * STARTTLS when the server offers it and the caller can do TLS (then EHLO
 * again), MAIL with SIZE=, BODY=8BITMIME and SMTPUTF8 as needed, every
 * RCPT, DATA with the body dot-stuffed, QUIT.  With PIPELINING (RFC 2920)
 * MAIL, every RCPT and DATA go in one flight.
 *
 * Results are per recipient (smtp_client.rcpt[i].reply): code 2xx
 * delivered, 4xx try later, 5xx failed, 0 no answer (the connection failed
 * or the session gave up before MAIL: try another server).  What is
 * refused without asking the server:
 *   - an 8-bit body to a server without 8BITMIME: 554 5.6.3 (the message
 *     is not converted to 7 bits: it is bounced with that reason);
 *   - an envelope that needs SMTPUTF8 to a server without it: 553 5.6.7;
 *   - a message larger than the server's SIZE: 552 5.3.4;
 *   - a session where TLS is required (relay host, DANE) and the server
 *     does not offer STARTTLS or it fails: no answer (code 0), with
 *     smtp_client.error saying why; nothing is sent in plaintext past EHLO.
 *
 * With credentials (a relay host), after TLS and EHLO: AUTH PLAIN (RFC
 * 4616) if offered, else AUTH LOGIN; never over plaintext.  A refusal,
 * or a server that offers neither, ends the session with no answer (code
 * 0: the message is deferred, not bounced, since wrong credentials are
 * ours to fix); smtp_client.error says why and never holds the password.
 *
 * Timeouts (RFC 5321 4.5.3.2): 5 minutes for the greeting, EHLO, MAIL and
 * each RCPT; 2 minutes for DATA's 354; 3 minutes per body block handed
 * to the transport; 10 minutes for the reply to the final dot.  The caller
 * calls smtp_client_tick() with the time; on expiry the session ends with
 * the recipients still unanswered at code 0 (or 4xx once DATA went out).
 *
 * Input discipline: reply lines end in CRLF (a bare LF is accepted), at
 * most SMTP_CLIENT_LINE_MAX octets; a line that is not "DDD", "DDD text"
 * or "DDD-text", or a multi-line reply whose code changes, ends the
 * session as a protocol error.
 */
#ifndef SMTP_CLIENT_H
#define SMTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SMTP_CLIENT_RCPTS     16      /* recipients of one transaction at most */
#define SMTP_CLIENT_LINE_MAX  512     /* octets of a reply line, CRLF included (RFC 5321 4.5.3.1.5) */
#define SMTP_CLIENT_TEXT_MAX  160     /* octets of reply text kept (logs, DSNs) */
#define SMTP_CLIENT_CMD_MAX   600     /* one command line (a path is at most 256 octets) */
#define SMTP_CLIENT_CHUNK     512     /* body bytes read from the source at a time */

/* RFC 5321 4.5.3.2, milliseconds. */
#define SMTP_CLIENT_T_GREETING  (5u * 60u * 1000u)
#define SMTP_CLIENT_T_CMD       (5u * 60u * 1000u)
#define SMTP_CLIENT_T_DATA      (2u * 60u * 1000u)
#define SMTP_CLIENT_T_BLOCK     (3u * 60u * 1000u)
#define SMTP_CLIENT_T_DOT       (10u * 60u * 1000u)
#define SMTP_CLIENT_T_QUIT      (30u * 1000u)  /* ours: a QUIT reply is only a courtesy */

/* A parsed reply: the code, the enhanced status code (RFC 3463) when the
 * first line carries one matching the code's class, and the first line's
 * text after it, clipped. */
struct smtp_client_reply {
    int code;
    char enh[12];
    char text[SMTP_CLIENT_TEXT_MAX];
};

/* Parse one reply line (without its CRLF).  Sets *code (200..599... any
 * 100..599), *last (no '-' after the code), *text and *tlen (the rest).
 * Returns 0 or PB_ECORRUPT. */
int smtp_client_reply_line(const char *line, size_t len, int *code, bool *last, const char **text,
                           size_t *tlen);

/* The enhanced status code at the start of text ("5.1.1 ..."): copies it
 * NUL-terminated into enh (cap >= 12) and returns the octets it took with
 * the blank after it, or 0 when text does not start with one of class
 * (2, 4 or 5). */
size_t smtp_client_reply_enhanced(const char *text, size_t len, int cls, char *enh, size_t cap);

/* Read up to len body bytes from offset; returns the count (0 at the end)
 * or a negative PB_E* (the session then ends, recipients unanswered). */
typedef int (*smtp_client_read_fn)(void *ctx, uint64_t offset, void *buf, size_t len);

struct smtp_client_config {
    const char *helo;           /* our name for EHLO/HELO */
    bool tls_available;         /* the caller can wrap the connection in TLS */
    bool tls_required;          /* no delivery without TLS (relay host, DANE) */
    bool tls_implicit;          /* the connection is TLS from the start (port 465): no STARTTLS */
    const char *auth_user;      /* log in with AUTH PLAIN or LOGIN (relay host); NULL: no AUTH */
    const char *auth_pass;      /* with auth_user; both caller-owned, at most SASL_CRED_MAX octets */
    bool body_8bit;             /* the body has octets over 127 */
    bool smtputf8;              /* the envelope has non-ASCII addresses */
    uint64_t size;              /* octets of the message (for SIZE=) */
};

enum smtp_client_state {
    SMTP_CLIENT_GREETING,       /* connected, waiting for 220 */
    SMTP_CLIENT_COMMANDS,       /* commands and their replies (the queue below) */
    SMTP_CLIENT_TLS,            /* 220 to STARTTLS: the caller starts TLS, then tls_started */
    SMTP_CLIENT_BODY,           /* 354 received: the body goes out */
    SMTP_CLIENT_DONE,           /* over: the caller closes */
};

/* A command sent (or to send) whose reply is awaited, in order. */
enum smtp_client_cmd {
    SMTP_CLIENT_EHLO, SMTP_CLIENT_HELO, SMTP_CLIENT_STARTTLS, SMTP_CLIENT_MAIL, SMTP_CLIENT_RCPT,
    SMTP_CLIENT_DATA, SMTP_CLIENT_DOT, SMTP_CLIENT_QUIT, SMTP_CLIENT_AUTH,
};

/* The steps of AUTH (the arg of SMTP_CLIENT_AUTH). */
enum { SMTP_CLIENT_AUTH_PLAIN, SMTP_CLIENT_AUTH_LOGIN, SMTP_CLIENT_AUTH_LOGIN_USER, SMTP_CLIENT_AUTH_LOGIN_PASS };

#define SMTP_CLIENT_QUEUE (SMTP_CLIENT_RCPTS + 4)

struct smtp_client {
    enum smtp_client_state state;
    struct smtp_client_config cfg;
    smtp_client_read_fn read;
    void *read_ctx;

    const char *from;           /* caller-owned; "" for the null sender */
    size_t from_len;
    int nrcpt;
    struct {
        const char *addr;       /* caller-owned, not NUL-terminated */
        uint16_t len;
        bool accepted;          /* 2xx to RCPT */
        struct smtp_client_reply reply;  /* the final word for this recipient */
    } rcpt[SMTP_CLIENT_RCPTS];

    /* Replies awaited: queue[head..tail) in order; [head..sent) went out. */
    struct { uint8_t cmd, arg; } queue[SMTP_CLIENT_QUEUE];
    int head, sent, tail;

    /* One command being handed out (partly, as the transport takes it). */
    char out[SMTP_CLIENT_CMD_MAX];
    size_t out_len, out_pos;

    /* The reply being read. */
    char line[SMTP_CLIENT_LINE_MAX + 1];
    size_t line_len;
    bool in_reply;              /* lines of a multi-line reply came */
    struct smtp_client_reply reply;

    /* What the server offers (from the last EHLO). */
    bool esmtp, pipelining, starttls, eightbit, smtputf8, has_size, auth_plain, auth_login;
    uint64_t size_max;
    bool tls;                   /* TLS is up */
    bool authenticated;         /* 235 to AUTH */
    char tls_version[16];

    bool mail_ok;               /* MAIL accepted */
    int accepted;               /* RCPTs accepted */
    bool final;                 /* the reply to the final dot is in rcpt[] */
    bool final_seen;            /* the caller has been told (smtp_client_final) */

    /* Body pump. */
    uint64_t body_off;
    uint8_t chunk[SMTP_CLIENT_CHUNK];
    size_t chunk_len, chunk_pos;
    bool bol;                   /* at the start of a line */
    uint8_t last[2];            /* the last two body octets sent */
    bool body_eof;

    uint64_t now, deadline;     /* ms */
    char error[SMTP_CLIENT_TEXT_MAX + 40];  /* why the session ended early, for logs */
    struct smtp_client_reply last_reply;    /* the last reply (logs) */
};

/* Start a session for one message from the sender from (from_len octets,
 * 0 for <>), the body read through read(read_ctx, ...).  now in ms. */
void smtp_client_init(struct smtp_client *c, const struct smtp_client_config *cfg, const char *from,
                      size_t from_len, smtp_client_read_fn read, void *read_ctx, uint64_t now);

/* Add a recipient before the session starts; PB_ERANGE past
 * SMTP_CLIENT_RCPTS. */
int smtp_client_add_rcpt(struct smtp_client *c, const char *addr, size_t len);

/* Bytes from the server.  Returns how many were consumed: all of them,
 * except when the session stopped reading (STARTTLS accepted, or done):
 * the rest must be dropped. */
size_t smtp_client_input(struct smtp_client *c, const uint8_t *data, size_t len, uint64_t now);

/* Up to cap bytes to send now; 0 when there is nothing to send. */
size_t smtp_client_pull(struct smtp_client *c, uint8_t *buf, size_t cap, uint64_t now);

/* TLS is up after STARTTLS: EHLO again (RFC 3207 4.2).  version for logs. */
void smtp_client_tls_started(struct smtp_client *c, const char *version, uint64_t now);

/* STARTTLS could not be completed (handshake failed): the session ends. */
void smtp_client_tls_failed(struct smtp_client *c);

/* The clock: ends the session when the current step's time is up. */
void smtp_client_tick(struct smtp_client *c, uint64_t now);

/* The connection was lost: the session ends. */
void smtp_client_conn_lost(struct smtp_client *c, const char *why);

/* true once, right after the reply to the final dot arrived: the moment
 * the caller must make the outcome durable (before anything else). */
bool smtp_client_final(struct smtp_client *c);

/* Another message on the same connection (RFC 5321 3.3: a transaction
 * after the previous one's final reply), instead of QUIT.  Possible only
 * right after smtp_client_final() returned true, while QUIT is still
 * unsent (smtp_client_reusable).  The greeting, EHLO capabilities, TLS and
 * login are kept; sender, recipients, per-recipient results and the body
 * start afresh.  Then add the recipients (smtp_client_add_rcpt) and call
 * smtp_client_begin().  msg carries the new message's body_8bit, smtputf8
 * and size (the rest of it is ignored).  Returns 0 or PB_EINVAL (not
 * reusable now: nothing changed). */
bool smtp_client_reusable(const struct smtp_client *c);
int smtp_client_next(struct smtp_client *c, const struct smtp_client_config *msg, const char *from,
                     size_t from_len, uint64_t now);
void smtp_client_begin(struct smtp_client *c);

/* Whether any recipient has an answer (the server spoke for them); if not,
 * the caller may try another server. */
bool smtp_client_answered(const struct smtp_client *c);

const char *smtp_client_state_name(enum smtp_client_state st);

#endif
