/*
 * smtp_session.c - one SMTP server session (see smtp_session.h).
 *
 * Commands dispatch from a table of {verb, states where it is allowed,
 * proceed function}.  Everything the session says goes through
 * smtp_reply(), with an enhanced status code on every line (RFC 3463).
 */
#include "smtp_session.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "date.h"
#include "hal_clock.h"
#include "hal_rng.h"
#include "pb_err.h"
#include "sasl.h"

struct smtp_session_cmd {
    enum smtp_verb verb;
    unsigned states;        /* bit per enum smtp_state where it is allowed */
    void (*proceed)(struct smtp_session *s, const struct smtp_cmd *cmd);
    const struct smtp_reply *refused;   /* reply when in another state */
};

static void smtp_proceed_helo(struct smtp_session *s, const struct smtp_cmd *cmd);
static void smtp_proceed_mail(struct smtp_session *s, const struct smtp_cmd *cmd);
static void smtp_proceed_rcpt(struct smtp_session *s, const struct smtp_cmd *cmd);
static void smtp_proceed_data(struct smtp_session *s, const struct smtp_cmd *cmd);
static void smtp_proceed_bdat(struct smtp_session *s, const struct smtp_cmd *cmd);
static void smtp_proceed_rset(struct smtp_session *s, const struct smtp_cmd *cmd);
static void smtp_proceed_noop(struct smtp_session *s, const struct smtp_cmd *cmd);
static void smtp_proceed_quit(struct smtp_session *s, const struct smtp_cmd *cmd);
static void smtp_proceed_help(struct smtp_session *s, const struct smtp_cmd *cmd);
static void smtp_proceed_vrfy(struct smtp_session *s, const struct smtp_cmd *cmd);
static void smtp_proceed_expn(struct smtp_session *s, const struct smtp_cmd *cmd);
static void smtp_proceed_starttls(struct smtp_session *s, const struct smtp_cmd *cmd);
static void smtp_proceed_auth(struct smtp_session *s, const struct smtp_cmd *cmd);

static const struct smtp_reply smtp_r_need_helo = { 503, "5.5.1", "Send HELO or EHLO first" };
static const struct smtp_reply smtp_r_nested_mail = { 503, "5.5.1", "Nested MAIL command: send RSET first" };
static const struct smtp_reply smtp_r_need_mail = { 503, "5.5.1", "Send MAIL FROM first" };
static const struct smtp_reply smtp_r_need_rcpt = { 503, "5.5.1", "No valid recipients: send RCPT TO first" };
static const struct smtp_reply smtp_r_bad_sequence = { 503, "5.5.1", "Bad sequence of commands" };

#define SMTP_ANY_CMD_STATE ((1u << SMTP_STATE_INIT) | (1u << SMTP_STATE_READY) | \
                            (1u << SMTP_STATE_MAIL) | (1u << SMTP_STATE_RCPT))
#define SMTP_AFTER_HELO ((1u << SMTP_STATE_READY) | (1u << SMTP_STATE_MAIL) | (1u << SMTP_STATE_RCPT))

static const struct smtp_session_cmd smtp_session_cmds[] = {
    { SMTP_VERB_HELO, SMTP_ANY_CMD_STATE, smtp_proceed_helo, NULL },
    { SMTP_VERB_EHLO, SMTP_ANY_CMD_STATE, smtp_proceed_helo, NULL },
    { SMTP_VERB_MAIL, 1u << SMTP_STATE_READY, smtp_proceed_mail, NULL },
    { SMTP_VERB_RCPT, (1u << SMTP_STATE_MAIL) | (1u << SMTP_STATE_RCPT), smtp_proceed_rcpt, &smtp_r_need_mail },
    { SMTP_VERB_DATA, 1u << SMTP_STATE_RCPT, smtp_proceed_data, &smtp_r_need_rcpt },
    { SMTP_VERB_BDAT, 1u << SMTP_STATE_RCPT, smtp_proceed_bdat, &smtp_r_need_rcpt },
    { SMTP_VERB_RSET, SMTP_ANY_CMD_STATE, smtp_proceed_rset, NULL },
    { SMTP_VERB_NOOP, SMTP_ANY_CMD_STATE, smtp_proceed_noop, NULL },
    { SMTP_VERB_QUIT, SMTP_ANY_CMD_STATE, smtp_proceed_quit, NULL },
    { SMTP_VERB_HELP, SMTP_ANY_CMD_STATE, smtp_proceed_help, NULL },
    { SMTP_VERB_VRFY, SMTP_ANY_CMD_STATE, smtp_proceed_vrfy, NULL },
    { SMTP_VERB_EXPN, SMTP_ANY_CMD_STATE, smtp_proceed_expn, NULL },
    { SMTP_VERB_STARTTLS, (1u << SMTP_STATE_INIT) | (1u << SMTP_STATE_READY), smtp_proceed_starttls, &smtp_r_bad_sequence },
    { SMTP_VERB_AUTH, SMTP_ANY_CMD_STATE, smtp_proceed_auth, NULL },
};

static const char *const smtp_state_names[] = {
    [SMTP_STATE_INIT] = "init",
    [SMTP_STATE_READY] = "ready",
    [SMTP_STATE_MAIL] = "mail",
    [SMTP_STATE_RCPT] = "rcpt",
    [SMTP_STATE_DATA] = "data",
    [SMTP_STATE_BDAT] = "bdat",
    [SMTP_STATE_STARTTLS] = "starttls",
    [SMTP_STATE_HOLD] = "hold",
    [SMTP_STATE_CLOSED] = "closed",
};

const char *smtp_session_state_name(enum smtp_state st)
{
    return (unsigned)st < sizeof(smtp_state_names) / sizeof(smtp_state_names[0]) ?
        smtp_state_names[st] : "?";
}

static void smtp_enter_state(struct smtp_session *s, enum smtp_state st)
{
    s->state = st;
}

/* -------------------------------------------------------------- replies --- */

static void smtp_send(struct smtp_session *s, const char *text)
{
    s->write(s->write_ctx, text, strlen(text));
}

static void smtp_reply_fmt(struct smtp_session *s, int code, const char *status,
                           const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void smtp_reply_fmt(struct smtp_session *s, int code, const char *status,
                           const char *fmt, ...)
{
    char buf[SMTP_CMD_LINE_MAX];
    int n = snprintf(buf, sizeof(buf), "%d %s ", code, status);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, sizeof(buf) - (size_t)n - 2, fmt, ap);
    va_end(ap);
    strcat(buf, "\r\n");
    smtp_send(s, buf);
}

static void smtp_reply(struct smtp_session *s, const struct smtp_reply *r)
{
    smtp_reply_fmt(s, r->code, r->status, "%s", r->text);
}

/* A command the client should not have sent: counted, and too many close
 * the session (a client that does not speak SMTP, or a scanner). */
static void smtp_error(struct smtp_session *s, const struct smtp_reply *r)
{
    if (++s->errors >= SMTP_SESSION_MAX_ERRORS) {
        smtp_reply_fmt(s, 421, "4.7.0", "%s Too many errors, closing the connection",
                       s->cfg->hostname);
        smtp_session_end(s);
        smtp_enter_state(s, SMTP_STATE_CLOSED);
        return;
    }
    smtp_reply(s, r);
}

/* ---------------------------------------------------------- transaction --- */

static void smtp_txn_reset(struct smtp_session *s)
{
    if (s->in_txn)
        s->be->abort(s->be->ctx);
    s->in_txn = false;
    memset(&s->env, 0, sizeof(s->env));
    s->write_err = 0;
    s->msg_size = 0;
    s->bdat_left = 0;
    s->bdat_last = false;
    s->bdat_started = false;
}

/* 13 characters of base32 (65 bits of randomness, minus one). */
static void smtp_make_id(char *id)
{
    static const char alphabet[] = "0123456789BCDFGHJKLMNPQRSTVWXYZ";
    uint8_t r[SMTP_SESSION_ID_LEN];
    if (hal_rng_fill(r, sizeof(r)) != 0)
        memset(r, 0, sizeof(r));
    for (int i = 0; i < SMTP_SESSION_ID_LEN; i++)
        id[i] = alphabet[r[i] % (sizeof(alphabet) - 1)];
    id[SMTP_SESSION_ID_LEN] = '\0';
}

static void smtp_msg_put(struct smtp_session *s, const uint8_t *data, size_t len)
{
    s->msg_size += len;
    if (s->write_err || len == 0)
        return;
    if (s->msg_size > s->cfg->max_size) {
        s->write_err = PB_ERANGE;
        return;
    }
    s->write_err = s->be->write(s->be->ctx, data, len);
}

/* Submission (RFC 6409 section 8): a message without Date: or
 * Message-ID: gets them at the end of its header section. */
static void smtp_msg_add_missing(struct smtp_session *s)
{
    char buf[300], date[MAIL_DATE_MAX];
    int n = 0;
    if (!s->saw_date && mail_date_format(hal_clock_wall(), date, sizeof(date)) > 0)
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, "Date: %s\r\n", date);
    if (!s->saw_msgid) {
        uint32_t r[2] = { 0, 0 };
        hal_rng_fill(r, sizeof(r));
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, "Message-ID: <%s.%08lx%08lx@%s>\r\n",
                      s->env.id, (unsigned long)r[0], (unsigned long)r[1], s->cfg->hostname);
    }
    s->saw_date = s->saw_msgid = true;
    if (n > 0 && (size_t)n < sizeof(buf))
        smtp_msg_put(s, (const uint8_t *)buf, (size_t)n);
}

static void smtp_msg_header_name(struct smtp_session *s)
{
    s->hdr_done = true;
    if (s->hdr_len == 4 && !strncmp(s->hdr_name, "date", 4))
        s->saw_date = true;
    if (s->hdr_len == 10 && !strncmp(s->hdr_name, "message-id", 10))
        s->saw_msgid = true;
}

/* Message bytes after the trace header.  On submission the header
 * section is watched (names of unfolded lines, up to the empty line) so
 * that missing fields go in just before the empty line. */
static void smtp_msg_write(struct smtp_session *s, const uint8_t *data, size_t len)
{
    if (!s->cfg->submission || !s->in_headers) {
        smtp_msg_put(s, data, len);
        return;
    }
    size_t from = 0;
    for (size_t i = 0; i < len && s->in_headers; i++) {
        uint8_t c = data[i];
        if (s->at_line_start) {
            s->at_line_start = false;
            s->hdr_len = 0;
            s->hdr_done = c == ' ' || c == '\t';    /* a folded line: no name */
            if (c == '\r' || c == '\n') {
                /* The empty line: the header section ends here. */
                smtp_msg_put(s, data + from, i - from);
                from = i;
                smtp_msg_add_missing(s);
                s->in_headers = false;
                break;
            }
        }
        if (c == '\n') {
            s->at_line_start = true;
            continue;
        }
        if (s->hdr_done)
            continue;
        if (c == ':')
            smtp_msg_header_name(s);
        else if (s->hdr_len < sizeof(s->hdr_name))
            s->hdr_name[s->hdr_len++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        else
            s->hdr_done = true;
    }
    smtp_msg_put(s, data + from, len - from);
}

/* The trace header of RFC 5321 section 4.4, first in the message. */
static void smtp_msg_received(struct smtp_session *s, const struct mail_address *only_rcpt)
{
    char date[MAIL_DATE_MAX], buf[900], rcpt[MAIL_PATH_MAX + 8];
    /* RFC 3848: ESMTP, then S for TLS and A for a logged-in sender. */
    char proto[16];
    strcpy(proto, s->env.smtputf8 ? "UTF8SMTP" : s->esmtp ? "ESMTP" : "SMTP");
    if (s->esmtp || s->env.smtputf8) {
        if (s->tls)
            strcat(proto, "S");
        if (s->auth_user[0])
            strcat(proto, "A");
    }
    if (mail_date_format(hal_clock_wall(), date, sizeof(date)) < 0)
        strcpy(date, "Thu, 1 Jan 1970 00:00:00 +0000");
    int n = s->cfg->submission && s->cfg->hide_client ?
        snprintf(buf, sizeof(buf), "Received: by %s (Pillarbox) with %s id %s", s->cfg->hostname,
                 proto, s->env.id) :
        snprintf(buf, sizeof(buf), "Received: from %s ([%s])\r\n\tby %s (Pillarbox) with %s id %s",
                 s->helo, s->peer_ip, s->cfg->hostname, proto, s->env.id);
    if (s->tls && n > 0 && (size_t)n < sizeof(buf))
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, "\r\n\t(version=%s cipher=%s)",
                      s->tls_version, s->tls_cipher);
    if (only_rcpt && n > 0 && (size_t)n < sizeof(buf)) {
        mail_address_format(only_rcpt, rcpt, sizeof(rcpt));
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, "\r\n\tfor <%s>", rcpt);
    }
    if (n > 0 && (size_t)n < sizeof(buf))
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, "; %s\r\n", date);
    if (n > 0 && (size_t)n < sizeof(buf))
        smtp_msg_put(s, (const uint8_t *)buf, (size_t)n);
    s->in_headers = s->at_line_start = true;
    s->saw_date = s->saw_msgid = false;
}

/* One log line per message: who, what, and what became of it. */
static void smtp_msg_log(struct smtp_session *s, int code)
{
    char from[MAIL_PATH_MAX + 8], line[400];
    if (!s->cfg->log)
        return;
    mail_address_format(&s->env.from, from, sizeof(from));
    snprintf(line, sizeof(line), "smtp: %s from=<%s> rcpts=%d size=%lu peer=%s tls=%s result=%d",
             s->env.id, from, s->env.nrcpt, (unsigned long)s->msg_size, s->peer_ip,
             s->tls ? s->tls_version : "no", code);
    s->cfg->log(line);
}

/* The message is complete: refuse it with the right reply, or commit it. */
static void smtp_msg_finish(struct smtp_session *s, unsigned data_flags)
{
    int code;
    if (data_flags & (SMTP_DATA_BARE_LF | SMTP_DATA_BARE_CR)) {
        code = 554;
        smtp_reply_fmt(s, code, "5.6.0", "Message refused: it contains a bare %s; lines must "
                       "end in CRLF (RFC 5321 section 2.3.8)",
                       data_flags & SMTP_DATA_BARE_LF ? "LF" : "CR");
    } else if (data_flags & SMTP_DATA_LONG_LINE) {
        code = 500;
        smtp_reply_fmt(s, code, "5.5.2", "Message refused: a line is longer than 1000 octets "
                       "(RFC 5321 section 4.5.3.1.6)");
    } else if (s->write_err == PB_ERANGE || s->msg_size > s->cfg->max_size) {
        code = 552;
        smtp_reply_fmt(s, code, "5.3.4", "Message too big: the limit is %lu octets",
                       (unsigned long)s->cfg->max_size);
    } else {
        if (s->cfg->submission && s->in_headers) {
            /* No empty line: the whole message was its header section. */
            if (!s->at_line_start)
                smtp_msg_put(s, (const uint8_t *)"\r\n", 2);
            smtp_msg_add_missing(s);
            s->in_headers = false;
        }
        int err = s->write_err ? s->write_err : s->be->commit(s->be->ctx);
        if (err == PB_ENOSPC) {
            code = 452;
            smtp_reply_fmt(s, code, "4.3.1", "Insufficient system storage, try again later");
        } else if (err) {
            code = 451;
            smtp_reply_fmt(s, code, "4.3.0", "Local error while storing the message, try again later");
        } else {
            code = 250;
            s->in_txn = false;      /* committed: nothing to abort */
            s->messages++;
            smtp_reply_fmt(s, code, "2.0.0", "Ok: queued as %s", s->env.id);
        }
    }
    smtp_msg_log(s, code);
    smtp_txn_reset(s);
    smtp_enter_state(s, SMTP_STATE_READY);
}

/* ------------------------------------------------------------- commands --- */

static void smtp_proceed_helo(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    smtp_txn_reset(s);
    strcpy(s->helo, cmd->domain);
    s->esmtp = cmd->verb == SMTP_VERB_EHLO;
    smtp_enter_state(s, SMTP_STATE_READY);
    if (!s->esmtp) {
        smtp_reply_fmt(s, 250, "2.0.0", "%s Hello %s [%s]", s->cfg->hostname, s->helo, s->peer_ip);
        return;
    }
    char buf[600];
    int n = snprintf(buf, sizeof(buf),
                     "250-%s Hello %s [%s]\r\n"
                     "250-SIZE %lu\r\n"
                     "250-PIPELINING\r\n"
                     "250-8BITMIME\r\n"
                     "250-ENHANCEDSTATUSCODES\r\n"
                     "250-SMTPUTF8\r\n",
                     s->cfg->hostname, s->helo, s->peer_ip, (unsigned long)s->cfg->max_size);
    if (s->cfg->tls_available && !s->tls)
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, "250-STARTTLS\r\n");
    if (s->cfg->submission && s->tls && s->be->auth)
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, "250-AUTH PLAIN LOGIN\r\n");
    snprintf(buf + n, sizeof(buf) - (size_t)n, "250 CHUNKING\r\n");
    smtp_send(s, buf);
}

static void smtp_proceed_mail(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    if (cmd->size > s->cfg->max_size) {
        smtp_reply_fmt(s, 552, "5.3.4", "Message too big: the limit is %lu octets",
                       (unsigned long)s->cfg->max_size);
        return;
    }
    if ((cmd->smtputf8 || cmd->body != SMTP_BODY_DEFAULT) && !s->esmtp) {
        smtp_error(s, &(struct smtp_reply){ 503, "5.5.1", "MAIL parameters need EHLO" });
        return;
    }
    if (cmd->body == SMTP_BODY_BINARYMIME) {
        smtp_reply_fmt(s, 555, "5.5.4", "BODY=BINARYMIME is not supported");
        return;
    }
    if (s->cfg->submission && !s->auth_user[0]) {
        smtp_error(s, &(struct smtp_reply){ 530, "5.7.0", s->tls ?
            "Authentication required: log in with AUTH first" :
            "Authentication required: send STARTTLS, then log in with AUTH" });
        return;
    }
    smtp_txn_reset(s);
    smtp_make_id(s->env.id);
    s->env.auth_user = s->cfg->submission ? s->auth_user : NULL;
    s->env.from = cmd->addr;
    s->env.body = cmd->body;
    s->env.smtputf8 = cmd->smtputf8;
    struct smtp_reply r;
    if (s->be->begin(s->be->ctx, &s->env, &r) != 0) {
        smtp_reply(s, &r);
        return;
    }
    s->in_txn = true;
    smtp_enter_state(s, SMTP_STATE_MAIL);
    smtp_reply_fmt(s, 250, "2.1.0", "Ok");
}

static void smtp_proceed_rcpt(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    if (s->env.nrcpt >= SMTP_SESSION_MAX_RCPTS) {
        smtp_reply_fmt(s, 452, "4.5.3", "Too many recipients: at most %d per message",
                       SMTP_SESSION_MAX_RCPTS);
        return;
    }
    if (cmd->addr.utf8 && !s->env.smtputf8) {
        smtp_reply_fmt(s, 553, "5.6.7", "UTF-8 address without SMTPUTF8 on MAIL FROM");
        return;
    }
    struct smtp_reply r;
    if (s->be->rcpt(s->be->ctx, &cmd->addr, &r) != 0) {
        smtp_reply(s, &r);
        return;
    }
    if (s->env.nrcpt++ == 0)
        s->rcpt1 = cmd->addr;
    smtp_enter_state(s, SMTP_STATE_RCPT);
    smtp_reply_fmt(s, 250, "2.1.5", "Ok");
}

static void smtp_proceed_data(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    if (s->bdat_started) {
        smtp_error(s, &smtp_r_bad_sequence);
        return;
    }
    smtp_data_init(&s->data);
    (void)cmd;
    smtp_msg_received(s, s->env.nrcpt == 1 ? &s->rcpt1 : NULL);
    smtp_enter_state(s, SMTP_STATE_DATA);
    smtp_reply_fmt(s, 354, "2.0.0", "End data with <CR><LF>.<CR><LF>");
}

static void smtp_proceed_bdat(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    if (!s->bdat_started) {
        smtp_msg_received(s, s->env.nrcpt == 1 ? &s->rcpt1 : NULL);
        s->bdat_started = true;
    }
    /* The chunk's octets follow at once; smtp_session_input() reads them
     * (and completes an empty chunk without waiting for any). */
    s->bdat_left = cmd->chunk;
    s->bdat_last = cmd->last;
    smtp_enter_state(s, SMTP_STATE_BDAT);
}

static void smtp_proceed_rset(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    (void)cmd;
    smtp_txn_reset(s);
    if (s->state != SMTP_STATE_INIT)
        smtp_enter_state(s, SMTP_STATE_READY);
    smtp_reply_fmt(s, 250, "2.0.0", "Ok");
}

static void smtp_proceed_noop(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    (void)cmd;
    smtp_reply_fmt(s, 250, "2.0.0", "Ok");
}

static void smtp_proceed_quit(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    (void)cmd;
    smtp_txn_reset(s);
    smtp_reply_fmt(s, 221, "2.0.0", "%s closing connection", s->cfg->hostname);
    smtp_enter_state(s, SMTP_STATE_CLOSED);
}

static void smtp_proceed_help(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    (void)cmd;
    smtp_reply_fmt(s, 214, "2.0.0", "Commands: HELO EHLO MAIL RCPT DATA BDAT RSET NOOP QUIT "
                   "HELP VRFY STARTTLS; see RFC 5321");
}

static void smtp_proceed_vrfy(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    (void)cmd;
    smtp_reply_fmt(s, 252, "2.5.0", "Cannot verify users; send the message and it will be "
                   "delivered or returned");
}

static void smtp_proceed_expn(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    (void)cmd;
    smtp_reply_fmt(s, 502, "5.5.1", "EXPN is disabled");
}

static void smtp_proceed_starttls(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    (void)cmd;
    if (s->tls) {
        smtp_error(s, &(struct smtp_reply){ 503, "5.5.1", "TLS is already active" });
        return;
    }
    if (!s->cfg->tls_available) {
        smtp_reply_fmt(s, 454, "4.7.0", "TLS not available");
        return;
    }
    smtp_txn_reset(s);
    smtp_reply_fmt(s, 220, "2.0.0", "Ready to start TLS");
    smtp_enter_state(s, SMTP_STATE_STARTTLS);
}

/* ---------------------------------------------------------------- AUTH --- */

enum { SMTP_AUTH_NONE, SMTP_AUTH_PLAIN, SMTP_AUTH_LOGIN_USER, SMTP_AUTH_LOGIN_PASS };

/* A user name as it may appear in the log: printable ASCII only. */
static void smtp_log_safe(char *dst, size_t cap, const char *src)
{
    size_t n = 0;
    for (; *src && n + 1 < cap; src++)
        dst[n++] = *src > ' ' && *src < 127 ? *src : '?';
    dst[n] = '\0';
}

static void smtp_auth_log(struct smtp_session *s, const char *user, const char *what)
{
    char line[SMTP_SESSION_USER_MAX + 120], name[SMTP_SESSION_USER_MAX + 1];
    if (!s->cfg->log)
        return;
    smtp_log_safe(name, sizeof(name), user);
    snprintf(line, sizeof(line), "smtp: %s: %s %s", s->peer_ip, what, name);
    s->cfg->log(line);
}

static void smtp_auth_check(struct smtp_session *s, char *user, char *pass)
{
    int err = s->be->auth(s->be->ctx, s->peer_ip, user, pass);
    memset(pass, 0, strlen(pass));
    s->auth_step = SMTP_AUTH_NONE;
    if (err == 0) {
        snprintf(s->auth_user, sizeof(s->auth_user), "%s", user);
        smtp_auth_log(s, user, "logged in as");
        smtp_reply_fmt(s, 235, "2.7.0", "Authentication successful");
    } else if (err == PB_EBUSY) {
        smtp_auth_log(s, user, "locked out after too many failed logins, refused");
        smtp_reply_fmt(s, 454, "4.7.0", "Too many failed logins from your address; try again later");
    } else {
        /* Answered only after a delay (smtp_session_resume). */
        smtp_auth_log(s, user, "login failed for");
        s->held_from = s->state;
        smtp_enter_state(s, SMTP_STATE_HOLD);
    }
}

/* A base64 SASL response into text (no NUL inside); 0 or PB_EINVAL. */
static int smtp_auth_decode(const char *b64, size_t len, char *out, size_t cap)
{
    int n = sasl_base64_decode(b64, len, (unsigned char *)out, cap - 1);
    if (n < 0 || memchr(out, '\0', (size_t)n))
        return PB_EINVAL;
    out[n] = '\0';
    return 0;
}

/* The line answers a 334: a PLAIN response, or LOGIN's user or password. */
static void smtp_auth_line(struct smtp_session *s)
{
    char user[SMTP_SESSION_USER_MAX + 1], pass[SMTP_SESSION_PASS_MAX + 1];
    int step = s->auth_step;
    s->auth_step = SMTP_AUTH_NONE;
    if (s->line_too_long) {
        s->line_too_long = false;
        smtp_error(s, &(struct smtp_reply){ 500, "5.5.6", "Authentication line too long" });
        return;
    }
    if (s->line_len == 1 && s->line[0] == '*') {
        smtp_error(s, &(struct smtp_reply){ 501, "5.0.0", "Authentication cancelled" });
        return;
    }
    int err;
    if (step == SMTP_AUTH_PLAIN) {
        err = sasl_plain_decode(s->line, s->line_len, user, sizeof(user), pass, sizeof(pass));
        if (err == 0) {
            smtp_auth_check(s, user, pass);
            return;
        }
    } else if (step == SMTP_AUTH_LOGIN_USER) {
        err = smtp_auth_decode(s->line, s->line_len, s->auth_login, sizeof(s->auth_login));
        if (err == 0 && s->auth_login[0]) {
            s->auth_step = SMTP_AUTH_LOGIN_PASS;
            smtp_send(s, "334 UGFzc3dvcmQ6\r\n");     /* "Password:" */
            return;
        }
    } else {
        err = smtp_auth_decode(s->line, s->line_len, pass, sizeof(pass));
        if (err == 0 && pass[0]) {
            snprintf(user, sizeof(user), "%s", s->auth_login);
            smtp_auth_check(s, user, pass);
            return;
        }
    }
    memset(pass, 0, sizeof(pass));
    smtp_error(s, &(struct smtp_reply){ 501, "5.5.2", "Cannot decode the authentication response" });
}

static void smtp_proceed_auth(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    if (!s->cfg->submission || !s->be->auth) {
        smtp_error(s, &(struct smtp_reply){ 503, "5.5.1", "AUTH is not offered on this port; "
                                            "use submission (587 or 465)" });
        return;
    }
    if (!s->tls) {
        smtp_error(s, &(struct smtp_reply){ 538, "5.7.11", "Encryption required: send STARTTLS "
                                            "before AUTH, so the password is not sent in clear" });
        return;
    }
    if (s->auth_user[0] || s->state != SMTP_STATE_READY) {
        smtp_error(s, &(struct smtp_reply){ 503, "5.5.1", s->auth_user[0] ? "Already logged in" :
            s->state == SMTP_STATE_INIT ? "Send EHLO first" : "AUTH is not allowed during a mail transaction" });
        return;
    }
    const char *a = cmd->arg;
    size_t len = cmd->arg_len, m = 0;
    while (m < len && a[m] != ' ')
        m++;
    const char *ir = m < len ? a + m + 1 : NULL;
    size_t irlen = ir ? len - m - 1 : 0;
    if (m == 5 && !strncasecmp(a, "PLAIN", 5)) {
        if (!ir) {
            s->auth_step = SMTP_AUTH_PLAIN;
            smtp_send(s, "334 \r\n");
            return;
        }
        char user[SMTP_SESSION_USER_MAX + 1], pass[SMTP_SESSION_PASS_MAX + 1];
        if (sasl_plain_decode(ir, irlen, user, sizeof(user), pass, sizeof(pass)) == 0) {
            smtp_auth_check(s, user, pass);
            return;
        }
        memset(pass, 0, sizeof(pass));
        smtp_error(s, &(struct smtp_reply){ 501, "5.5.2", "Cannot decode the authentication response" });
    } else if (m == 5 && !strncasecmp(a, "LOGIN", 5)) {
        if (ir && (smtp_auth_decode(ir, irlen, s->auth_login, sizeof(s->auth_login)) != 0 ||
                   !s->auth_login[0])) {
            smtp_error(s, &(struct smtp_reply){ 501, "5.5.2", "Cannot decode the authentication response" });
            return;
        }
        s->auth_step = ir ? SMTP_AUTH_LOGIN_PASS : SMTP_AUTH_LOGIN_USER;
        smtp_send(s, ir ? "334 UGFzc3dvcmQ6\r\n" : "334 VXNlcm5hbWU6\r\n");  /* "Password:", "Username:" */
    } else {
        smtp_error(s, &(struct smtp_reply){ 504, "5.5.4", "Unknown authentication mechanism: "
                                            "use PLAIN or LOGIN" });
    }
}

void smtp_session_resume(struct smtp_session *s)
{
    if (s->state != SMTP_STATE_HOLD)
        return;
    smtp_enter_state(s, s->held_from);
    smtp_error(s, &(struct smtp_reply){ 535, "5.7.8", "Authentication failed: wrong user name or password" });
}

/* -------------------------------------------------------------- input --- */

static void smtp_session_line(struct smtp_session *s)
{
    struct smtp_cmd cmd;
    struct smtp_reply err;
    if (s->auth_step) {
        smtp_auth_line(s);
        return;
    }
    if (s->line_too_long) {
        s->line_too_long = false;
        smtp_error(s, &(struct smtp_reply){ 500, "5.5.2", "Line too long: at most 512 octets" });
        return;
    }
    if (smtp_cmd_parse(s->line, s->line_len, s->env.smtputf8, &cmd, &err) != 0) {
        smtp_error(s, &err);
        return;
    }
    for (size_t i = 0; i < sizeof(smtp_session_cmds) / sizeof(smtp_session_cmds[0]); i++) {
        const struct smtp_session_cmd *c = &smtp_session_cmds[i];
        if (c->verb != cmd.verb)
            continue;
        if (!(c->states & (1u << s->state))) {
            const struct smtp_reply *r = c->refused;
            if (!r)
                r = s->state == SMTP_STATE_INIT ? &smtp_r_need_helo :
                    cmd.verb == SMTP_VERB_MAIL ? &smtp_r_nested_mail : &smtp_r_bad_sequence;
            if (cmd.verb == SMTP_VERB_MAIL && s->state == SMTP_STATE_INIT)
                r = &smtp_r_need_helo;
            smtp_error(s, r);
            return;
        }
        c->proceed(s, &cmd);
        return;
    }
    smtp_error(s, &(struct smtp_reply){ 502, "5.5.1", "Command not implemented" });
}

/* Command mode: gather a line; returns bytes consumed. */
static size_t smtp_session_commands(struct smtp_session *s, const uint8_t *in, size_t len)
{
    size_t i = 0;
    while (i < len && s->state <= SMTP_STATE_RCPT) {
        uint8_t c = in[i++];
        if (c == '\n') {
            if (s->line_len > 0 && s->line[s->line_len - 1] == '\r')
                s->line_len--;
            smtp_session_line(s);
            s->line_len = 0;
            continue;
        }
        /* One octet of slack holds a CR that may precede the LF. */
        if (s->line_len < SMTP_CMD_LINE_MAX - 1)
            s->line[s->line_len++] = (char)c;
        else
            s->line_too_long = true;
    }
    return i;
}

static size_t smtp_session_data(struct smtp_session *s, const uint8_t *in, size_t len)
{
    uint8_t out[1025];
    size_t used = 0;
    while (used < len && !s->data.done) {
        size_t n = len - used < sizeof(out) - 1 ? len - used : sizeof(out) - 1;
        size_t olen;
        used += smtp_data_feed(&s->data, in + used, n, out, &olen);
        smtp_msg_write(s, out, olen);
    }
    if (s->data.done)
        smtp_msg_finish(s, s->data.flags);
    return used;
}

static size_t smtp_session_bdat(struct smtp_session *s, const uint8_t *in, size_t len)
{
    size_t n = len < s->bdat_left ? len : (size_t)s->bdat_left;
    smtp_msg_write(s, in, n);
    s->bdat_left -= n;
    if (s->bdat_left == 0) {
        if (s->bdat_last) {
            smtp_msg_finish(s, 0);
        } else {
            smtp_enter_state(s, SMTP_STATE_RCPT);
            smtp_reply_fmt(s, 250, "2.0.0", "Ok: %lu octets received",
                           (unsigned long)s->msg_size);
        }
    }
    return n;
}

size_t smtp_session_input(struct smtp_session *s, const uint8_t *data, size_t len)
{
    size_t used = 0;
    for (;;) {
        enum smtp_state before = s->state;
        size_t n;
        switch (s->state) {
        case SMTP_STATE_DATA:
            n = smtp_session_data(s, data + used, len - used);
            break;
        case SMTP_STATE_BDAT:
            /* Runs even with no input left: "BDAT 0" completes at once. */
            n = smtp_session_bdat(s, data + used, len - used);
            break;
        case SMTP_STATE_STARTTLS:
        case SMTP_STATE_HOLD:
        case SMTP_STATE_CLOSED:
            return used;
        default:
            n = smtp_session_commands(s, data + used, len - used);
            break;
        }
        used += n;
        if (n == 0 && s->state == before)
            return used;
        if (used == len && s->state != SMTP_STATE_BDAT)
            return used;
    }
}

void smtp_session_init(struct smtp_session *s, const struct smtp_session_config *cfg,
                       const struct smtp_backend *be,
                       void (*write)(void *ctx, const char *s, size_t n), void *write_ctx,
                       const char *peer_ip)
{
    memset(s, 0, sizeof(*s));
    s->cfg = cfg;
    s->be = be;
    s->write = write;
    s->write_ctx = write_ctx;
    snprintf(s->peer_ip, sizeof(s->peer_ip), "%s", peer_ip);
    strcpy(s->helo, "unknown");
    smtp_enter_state(s, SMTP_STATE_INIT);
    smtp_reply_fmt(s, 220, "2.0.0", "%s ESMTP Pillarbox", cfg->hostname);
}

void smtp_session_tls_started(struct smtp_session *s, const char *version, const char *cipher)
{
    s->tls = true;
    s->tls_version = version;
    s->tls_cipher = cipher;
    s->esmtp = false;
    strcpy(s->helo, "unknown");
    s->auth_user[0] = '\0';
    s->auth_step = SMTP_AUTH_NONE;
    s->line_len = 0;
    s->line_too_long = false;
    smtp_enter_state(s, SMTP_STATE_INIT);
}

void smtp_session_end(struct smtp_session *s)
{
    smtp_txn_reset(s);
    smtp_enter_state(s, SMTP_STATE_CLOSED);
}
