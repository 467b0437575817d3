/*
 * imap_session.h - one IMAP server session (RFC 3501 IMAP4rev1, RFC 9051
 * IMAP4rev2 after ENABLE), transport-free.
 *
 * Bytes from the client go in through imap_session_input(); responses come
 * out through a write callback; the mailbox is an imap_mailbox over the
 * store.  The session knows nothing of TCP, TLS or time.
 *
 * Input.  A command is a line ending in CRLF (a bare LF is accepted),
 * possibly carrying literals: a line ending in "{n}" gets "+ Ready" and the
 * session reads n more bytes as part of the command; "{n+}" and "{n-}"
 * (LITERAL+ / LITERAL-) are read without the continuation.  A whole command
 * with its literals is at most IMAP_SESSION_CMD_MAX bytes ("BAD" beyond,
 * the literal bytes of a non-synchronising literal are read and dropped).
 * APPEND's message literal is not kept: it streams into the store as it
 * arrives, and one bigger than cfg->max_size is refused before it is read
 * ("NO [TOOBIG]"; a non-synchronising one is read and dropped).
 *
 * The session stops reading (imap_session_input() returns less than it was
 * given and keeps the rest unread) in the modes the caller drives:
 *   IMAP_MODE_SENDING   a response that may be long (FETCH, SEARCH, LIST,
 *                       the untagged updates before a tagged reply): call
 *                       imap_session_pump() with the room the connection
 *                       has until the mode changes.  Message bodies stream
 *                       from the store, never whole in RAM.
 *   IMAP_MODE_DELAY     a login failed: call imap_session_resume() after
 *                       the delay (1-2 s, without blocking).
 *   IMAP_MODE_STARTTLS  "OK" was sent for STARTTLS: drop whatever the client
 *                       pipelined behind it, start TLS, then call
 *                       imap_session_tls_started().
 *   IMAP_MODE_CLOSED    LOGOUT or a fatal error: close once replies are out.
 * In IMAP_MODE_IDLE the session reads (for "DONE") and the caller calls
 * imap_session_poll() now and then (every 500 ms): changes to the folder,
 * by other sessions or by SMTP deliveries, are written as they appear.
 *
 * Folder names.  The store keeps them in UTF-8.  An IMAP4rev1 session
 * sends and reads them in modified UTF-7 (RFC 3501 5.1.3, imap_mutf7.h):
 * a name that is not canonical modified UTF-7 gets "BAD" and changes
 * nothing.  After ENABLE IMAP4rev2 (RFC 9051) or ENABLE UTF8=ACCEPT
 * (RFC 6855) they are UTF-8 both ways (ill-formed UTF-8 gets "BAD").
 *
 * CONDSTORE (RFC 7162, without QRESYNC).  SELECT and EXAMINE always say
 * "* OK [HIGHESTMODSEQ n]" (every folder keeps modseqs); STATUS has a
 * HIGHESTMODSEQ item; FETCH has MODSEQ and the (CHANGEDSINCE n) modifier;
 * STORE has (UNCHANGEDSINCE n) and answers "OK [MODIFIED set]" for the
 * messages it left alone because they changed after n; SEARCH has the
 * MODSEQ key and ends its result in "(MODSEQ n)".  ENABLE CONDSTORE,
 * SELECT/EXAMINE ... (CONDSTORE) or any of these turns CONDSTORE on for
 * the session: from then on every untagged FETCH carries MODSEQ.  A
 * message's modseq is the store's (the version of the change that wrote
 * its flags); the folder's HIGHESTMODSEQ is the store-wide one
 * (imap_mailbox_highest_modseq).  Nothing of it is kept per message in
 * the session: a modseq is read from the store when it is written out.
 *
 * LOGIN and AUTHENTICATE are refused without TLS (LOGINDISABLED, RFC 3501
 * 6.2.3; RFC 8314), when cfg->tls_available says TLS can be had.
 */
#ifndef IMAP_SESSION_H
#define IMAP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap_cmd.h"
#include "imap_mailbox.h"
#include "sasl.h"

#define IMAP_SESSION_CMD_MAX     8192    /* bytes of a command with its literals */
#define IMAP_SESSION_MAX_ERRORS  10      /* BADs before the session is closed */
#define IMAP_SESSION_MAX_LOGINS  3       /* failed logins before the session is closed */
#define IMAP_SESSION_FETCH_ITEMS 16      /* items of one FETCH */
#define IMAP_SESSION_PUMP_MIN    4096    /* room imap_session_pump() needs to make progress */
#define IMAP_ES_MIN   0x01u             /* SEARCH RETURN (MIN MAX COUNT ALL) */
#define IMAP_ES_MAX   0x02u
#define IMAP_ES_COUNT 0x04u
#define IMAP_ES_ALL   0x08u
/* Bytes of a folder name as a client writes it: modified UTF-7 takes up
 * to 8/3 bytes per byte of the UTF-8 name the store keeps. */
#define IMAP_SESSION_NAME_WIRE   (3 * STORE_NAME_MAX + 8)

enum imap_state {
    IMAP_STATE_NOTAUTH,     /* before login */
    IMAP_STATE_AUTH,        /* logged in, no folder selected */
    IMAP_STATE_SELECTED,    /* a folder is selected */
    IMAP_STATE_LOGOUT,      /* LOGOUT or closing */
};

enum imap_mode {
    IMAP_MODE_COMMAND,      /* reading a command line */
    IMAP_MODE_LITERAL,      /* reading a literal into the command */
    IMAP_MODE_DISCARD,      /* dropping a refused non-synchronising literal */
    IMAP_MODE_APPEND,       /* the APPEND literal streams into the store */
    IMAP_MODE_SASL,         /* "+ " sent for AUTHENTICATE: the next line is the response */
    IMAP_MODE_DELAY,        /* a login failed: waiting for imap_session_resume() */
    IMAP_MODE_STARTTLS,     /* "OK" sent for STARTTLS: waiting for the caller */
    IMAP_MODE_SENDING,      /* a long response: waiting for imap_session_pump() */
    IMAP_MODE_IDLE,         /* IDLE: waiting for "DONE", polled for changes */
    IMAP_MODE_CLOSED,       /* the caller closes */
};

struct imap_session_config {
    const char *hostname;       /* greeting */
    bool tls_available;         /* STARTTLS may be offered */
    uint32_t max_size;          /* largest APPEND (the message-size setting), bytes */
    void (*log)(const char *line);  /* the session's one line, or NULL */
};

/* One FETCH item, parsed from the command. */
struct imap_fetch_item {
    uint8_t kind;               /* IMAP_FI_* (imap_session.c) */
    uint8_t spec;               /* section text: HEADER, TEXT, ... */
    uint8_t depth;              /* part numbers in part[] */
    bool peek;
    bool partial;
    uint16_t part[8];
    uint32_t p_start, p_len;    /* <start.len> */
    const char *fields;         /* "(From To)" in the command, for HEADER.FIELDS */
    uint16_t fields_len;
    const char *label;          /* "BODY[1.TEXT]" as the client wrote it */
    uint16_t label_len;
};

struct imap_session {
    enum imap_state state;
    enum imap_mode mode;
    const struct imap_session_config *cfg;
    struct imap_mailbox *mb;
    void (*write)(void *ctx, const char *s, size_t n);
    void *write_ctx;

    char peer_ip[48];
    bool tls;
    const char *tls_version;
    bool rev2;                  /* ENABLE IMAP4rev2 */
    bool utf8;                  /* folder names in UTF-8 (IMAP4rev2 or UTF8=ACCEPT), else modified UTF-7 */
    bool condstore;             /* CONDSTORE on (RFC 7162 3.1): untagged FETCH carries MODSEQ */
    int errors, login_failures;
    char user[IMAP_MAILBOX_USER_MAX + 1];

    char cmd[IMAP_SESSION_CMD_MAX];
    size_t cmd_len;
    bool too_long;              /* the command passed IMAP_SESSION_CMD_MAX */
    uint32_t lit_left;          /* literal bytes still to come (LITERAL, DISCARD, APPEND) */
    uint32_t append_size;
    int append_err;             /* first store error of the APPEND in progress */
    char tag[IMAP_CMD_TAG_MAX + 1];

    /* A long response in progress (IMAP_MODE_SENDING). */
    uint8_t send_kind;
    bool send_uid;              /* UID FETCH / UID SEARCH / ... */
    bool allow_expunge;         /* EXPUNGE responses may be sent now */
    char done[1024];            /* the tagged reply, written when the rest is out */
    size_t room;                /* what the current pump may still write */
    uint32_t it;                /* next message (seq) or folder id */
    struct imap_seqset set;
    struct imap_cmd rest;       /* arguments still to read (LIST pattern, SEARCH keys) */
    char pattern[STORE_NAME_MAX + 2];
    bool lsub;
    uint8_t list_status;        /* LIST ... RETURN (STATUS (...)): IMAP_STATUS_* bits */
    unsigned nitems;
    struct imap_fetch_item items[IMAP_SESSION_FETCH_ITEMS];
    bool f_open;                /* "* n FETCH (" written */
    bool f_set_seen;
    unsigned f_item;            /* item being written */
    uint8_t f_src;              /* literal source: blob range or filtered header */
    uint32_t f_blob, f_base, f_len, f_off;  /* literal in progress */
    uint32_t f_hdr_off, f_hdr_len;
    struct store_msg_info f_mi; /* the message being written */
    bool f_modseq;              /* FETCH writes MODSEQ (asked for, or CHANGEDSINCE) */
    bool f_changed;             /* FETCH (CHANGEDSINCE f_since): only messages changed after it */
    uint64_t f_since;
    bool s_modseq;              /* SEARCH has a MODSEQ key: the result ends in (MODSEQ s_modseq_max) */
    uint32_t s_modseq_max;      /* highest modseq of the messages found */
    bool append_tail;           /* the APPEND literal is in: the line ends it */
    /* SEARCH with ESEARCH results (RFC 4731, RFC 9051): what RETURN asked
     * for (IMAP_ES_* bits; 0 for a plain "* SEARCH"), the matches found in
     * a first walk, then written as MIN/MAX/COUNT and ALL ranges. */
    uint8_t esearch, e_phase;
    bool e_sep;
    uint32_t e_count, e_min, e_max, e_first, e_last;
    uint8_t e_hits[IMAP_MAILBOX_MAX_MSGS / 8];
    unsigned long fetched;

    const char *result;
    bool logged;
};

void imap_session_init(struct imap_session *s, const struct imap_session_config *cfg,
                       struct imap_mailbox *mb,
                       void (*write)(void *ctx, const char *s, size_t n), void *write_ctx,
                       const char *peer_ip, const char *tls_version);
size_t imap_session_input(struct imap_session *s, const uint8_t *data, size_t len);
void imap_session_pump(struct imap_session *s, size_t room);
void imap_session_resume(struct imap_session *s);
void imap_session_tls_started(struct imap_session *s, const char *version);
/* IDLE: report changes of the selected folder, if any. */
void imap_session_poll(struct imap_session *s);
/* The connection is going away (why: a static string for the log). */
void imap_session_end(struct imap_session *s, const char *why);
/* The "* BYE" for the idle timeout. */
void imap_session_timeout(struct imap_session *s);
const char *imap_session_mode_name(enum imap_mode m);

#endif
