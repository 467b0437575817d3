/*
 * smtp_cmd.h - parsing one SMTP command line (RFC 5321 section 4.1).
 *
 * The session hands over one line without its CRLF; the parser names the
 * verb and checks its arguments, including MAIL and RCPT paths and their
 * ESMTP parameters (SIZE, BODY, SMTPUTF8).  What the session may do with
 * the command (order, policy) is not decided here.  On a syntax error the
 * reply to send is filled in.
 */
#ifndef SMTP_CMD_H
#define SMTP_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "address.h"

#define SMTP_CMD_LINE_MAX 512      /* octets of a command line with its CRLF (4.5.3.1.4) */
#define SMTP_CMD_DOMAIN_MAX 255

enum smtp_verb {
    SMTP_VERB_HELO,
    SMTP_VERB_EHLO,
    SMTP_VERB_MAIL,
    SMTP_VERB_RCPT,
    SMTP_VERB_DATA,
    SMTP_VERB_BDAT,
    SMTP_VERB_RSET,
    SMTP_VERB_NOOP,
    SMTP_VERB_QUIT,
    SMTP_VERB_HELP,
    SMTP_VERB_VRFY,
    SMTP_VERB_EXPN,
    SMTP_VERB_STARTTLS,
    SMTP_VERB_AUTH,
    SMTP_VERB_UNKNOWN,
};

enum smtp_body {
    SMTP_BODY_DEFAULT,      /* no BODY= given (7BIT, but 8-bit is tolerated) */
    SMTP_BODY_7BIT,
    SMTP_BODY_8BITMIME,
    SMTP_BODY_BINARYMIME,
};

/* A reply: code, enhanced status (RFC 3463) and text. Static strings. */
struct smtp_reply {
    int code;
    const char *status;
    const char *text;
};

struct smtp_cmd {
    enum smtp_verb verb;
    const char *arg;        /* the rest of the line after the verb and a space (in line) */
    size_t arg_len;
    /* HELO/EHLO */
    char domain[SMTP_CMD_DOMAIN_MAX + 1];
    /* MAIL/RCPT */
    struct mail_address addr;
    uint64_t size;          /* SIZE=, 0 if not given */
    enum smtp_body body;
    bool smtputf8;
    /* BDAT */
    uint64_t chunk;
    bool last;
};

/* Parse line (len octets, no CRLF, not NUL-terminated).  utf8_ok says
 * whether UTF-8 addresses may appear (the client gave SMTPUTF8 on MAIL;
 * for MAIL itself the parser sees the parameter).  Returns 0 with *cmd
 * filled, or PB_EINVAL with *err set to the reply to send. */
int smtp_cmd_parse(const char *line, size_t len, bool utf8_ok, struct smtp_cmd *cmd,
                   struct smtp_reply *err);

/* The verb's name ("MAIL"), for logs. */
const char *smtp_cmd_verb_name(enum smtp_verb v);

#endif
