/*
 * pop3_session.c - one POP3 server session (see pop3_session.h).
 *
 * Commands dispatch from a table of {verb, states where it is allowed,
 * proceed function}.  Multi-line responses that can be long (RETR, TOP,
 * LIST and UIDL without an argument) are not written at once: the session
 * enters POP3_STATE_SENDING and pop3_session_pump() writes them as the
 * connection has room, so a maildrop of thousands of messages or a message
 * of megabytes never needs more than the caller's output buffer.
 */
#include "pop3_session.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pb_err.h"

enum pop3_send_kind { POP3_SEND_BODY, POP3_SEND_LIST, POP3_SEND_UIDL };

struct pop3_session_cmd {
    const char *verb;
    unsigned states;        /* bit per enum pop3_state where it is allowed */
    void (*proceed)(struct pop3_session *s, const char *arg);
};

static void pop3_proceed_capa(struct pop3_session *s, const char *arg);
static void pop3_proceed_stls(struct pop3_session *s, const char *arg);
static void pop3_proceed_user(struct pop3_session *s, const char *arg);
static void pop3_proceed_pass(struct pop3_session *s, const char *arg);
static void pop3_proceed_auth(struct pop3_session *s, const char *arg);
static void pop3_proceed_quit(struct pop3_session *s, const char *arg);
static void pop3_proceed_stat(struct pop3_session *s, const char *arg);
static void pop3_proceed_list(struct pop3_session *s, const char *arg);
static void pop3_proceed_uidl(struct pop3_session *s, const char *arg);
static void pop3_proceed_retr(struct pop3_session *s, const char *arg);
static void pop3_proceed_top(struct pop3_session *s, const char *arg);
static void pop3_proceed_dele(struct pop3_session *s, const char *arg);
static void pop3_proceed_noop(struct pop3_session *s, const char *arg);
static void pop3_proceed_rset(struct pop3_session *s, const char *arg);

#define POP3_IN_AUTH (1u << POP3_STATE_AUTH)
#define POP3_IN_TXN  (1u << POP3_STATE_TRANSACTION)

static const struct pop3_session_cmd pop3_session_cmds[] = {
    { "CAPA", POP3_IN_AUTH | POP3_IN_TXN, pop3_proceed_capa },
    { "STLS", POP3_IN_AUTH, pop3_proceed_stls },
    { "USER", POP3_IN_AUTH, pop3_proceed_user },
    { "PASS", POP3_IN_AUTH, pop3_proceed_pass },
    { "AUTH", POP3_IN_AUTH, pop3_proceed_auth },
    { "QUIT", POP3_IN_AUTH | POP3_IN_TXN, pop3_proceed_quit },
    { "STAT", POP3_IN_TXN, pop3_proceed_stat },
    { "LIST", POP3_IN_TXN, pop3_proceed_list },
    { "UIDL", POP3_IN_TXN, pop3_proceed_uidl },
    { "RETR", POP3_IN_TXN, pop3_proceed_retr },
    { "TOP",  POP3_IN_TXN, pop3_proceed_top },
    { "DELE", POP3_IN_TXN, pop3_proceed_dele },
    { "NOOP", POP3_IN_TXN, pop3_proceed_noop },
    { "RSET", POP3_IN_TXN, pop3_proceed_rset },
};

static const char *const pop3_state_names[] = {
    [POP3_STATE_AUTH] = "authorization",
    [POP3_STATE_SASL] = "sasl",
    [POP3_STATE_DELAY] = "delay",
    [POP3_STATE_TRANSACTION] = "transaction",
    [POP3_STATE_SENDING] = "sending",
    [POP3_STATE_STLS] = "stls",
    [POP3_STATE_CLOSED] = "closed",
};

const char *pop3_session_state_name(enum pop3_state st)
{
    return (unsigned)st < sizeof(pop3_state_names) / sizeof(pop3_state_names[0]) ?
        pop3_state_names[st] : "?";
}

static void pop3_enter_state(struct pop3_session *s, enum pop3_state st)
{
    s->state = st;
}

/* -------------------------------------------------------------- replies --- */

static void pop3_send(struct pop3_session *s, const char *text)
{
    s->write(s->write_ctx, text, strlen(text));
}

static void pop3_reply(struct pop3_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void pop3_reply(struct pop3_session *s, const char *fmt, ...)
{
    char buf[POP3_SESSION_LINE_MAX + 1];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf) - 2, fmt, ap);
    va_end(ap);
    strcat(buf, "\r\n");
    pop3_send(s, buf);
}

/* The session's one log line and the end of its maildrop; runs once. */
static void pop3_finish(struct pop3_session *s, const char *result)
{
    if (s->logged)
        return;
    s->logged = true;
    if (s->logged_in)
        s->be->logout(s->be->ctx);
    s->logged_in = false;
    if (s->cfg->log) {
        /* The user name is the client's text: nothing in it may act on
         * the console that shows the log. */
        char user[sizeof(s->user)], line[400];
        size_t n = 0;
        for (; s->user[n]; n++)
            user[n] = (unsigned char)s->user[n] > ' ' && (unsigned char)s->user[n] < 0x7f ?
                      s->user[n] : '?';
        user[n] = '\0';
        snprintf(line, sizeof(line), "pop3: session peer=%s tls=%s user=%s retrieved=%lu "
                 "deleted=%lu result=%s", s->peer_ip, s->tls ? s->tls_version : "no",
                 n ? user : "-", s->retrieved, s->removed, result);
        s->cfg->log(line);
    }
}

static void pop3_close(struct pop3_session *s, const char *result)
{
    pop3_finish(s, result);
    pop3_enter_state(s, POP3_STATE_CLOSED);
}

/* A command the client should not have sent: counted, and too many close
 * the session (a client that does not speak POP3, or a scanner). */
static void pop3_error(struct pop3_session *s, const char *text)
{
    if (++s->errors >= POP3_SESSION_MAX_ERRORS) {
        pop3_reply(s, "-ERR Too many errors, closing the connection");
        pop3_close(s, "too many errors");
        return;
    }
    pop3_reply(s, "-ERR %s", text);
}

/* ----------------------------------------------------------- arguments --- */

/* Compare n characters of a with the upper-case keyword b, ignoring case. */
static int pop3_casecmp(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = a[i] >= 'a' && a[i] <= 'z' ? (char)(a[i] - 32) : a[i];
        if (c != b[i])
            return 1;
    }
    return 0;
}

/* A decimal number of 1 to 9 digits (RFC 1939 message numbers and line
 * counts); the rest of arg after it in *end. */
static bool pop3_number(const char *arg, uint32_t *v, const char **end)
{
    uint32_t n = 0;
    int digits = 0;
    while (*arg >= '0' && *arg <= '9' && digits < 10) {
        n = n * 10 + (uint32_t)(*arg++ - '0');
        digits++;
    }
    if (digits == 0 || digits > 9)
        return false;
    *v = n;
    *end = arg;
    return true;
}

static bool pop3_is_deleted(const struct pop3_session *s, unsigned i)
{
    return (s->deleted[i / 8] >> (i % 8)) & 1u;
}

/* The message a command names: 0-based index in *i.  Replies -ERR and
 * returns false when there is none. */
static bool pop3_message(struct pop3_session *s, uint32_t n, unsigned *i, struct pop3_msg *m)
{
    if (n == 0 || n > s->count) {
        pop3_reply(s, "-ERR No such message");
        return false;
    }
    if (pop3_is_deleted(s, n - 1)) {
        pop3_reply(s, "-ERR Message %lu already deleted", (unsigned long)n);
        return false;
    }
    if (s->be->msg(s->be->ctx, n - 1, m) != 0) {
        pop3_reply(s, "-ERR Message %lu is no longer there", (unsigned long)n);
        return false;
    }
    *i = n - 1;
    return true;
}

/* One message-number argument and nothing else; replies on error. */
static bool pop3_one_message(struct pop3_session *s, const char *arg, unsigned *i,
                             struct pop3_msg *m)
{
    uint32_t n;
    const char *end;
    if (!pop3_number(arg, &n, &end) || *end) {
        pop3_error(s, "Syntax: a message number is expected");
        return false;
    }
    return pop3_message(s, n, i, m);
}

static void pop3_totals(struct pop3_session *s, unsigned long *n, unsigned long *octets)
{
    *n = 0;
    *octets = 0;
    for (unsigned i = 0; i < s->count; i++) {
        struct pop3_msg m;
        if (!pop3_is_deleted(s, i) && s->be->msg(s->be->ctx, i, &m) == 0) {
            (*n)++;
            *octets += m.size;
        }
    }
}

/* ------------------------------------------------------------ commands --- */

static void pop3_proceed_capa(struct pop3_session *s, const char *arg)
{
    char buf[300];
    bool auth = s->state == POP3_STATE_AUTH;
    (void)arg;
    snprintf(buf, sizeof(buf), "+OK Capability list follows\r\n"
             "TOP\r\nUIDL\r\n%s%sRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n%s"
             "IMPLEMENTATION Pillarbox\r\n.\r\n",
             auth && s->tls ? "USER\r\n" : "",
             auth && s->tls ? "SASL PLAIN\r\n" : "",
             auth && !s->tls && s->cfg->tls_available ? "STLS\r\n" : "");
    pop3_send(s, buf);
}

static void pop3_proceed_stls(struct pop3_session *s, const char *arg)
{
    (void)arg;
    if (s->tls) {
        pop3_error(s, "TLS is already active");
        return;
    }
    if (!s->cfg->tls_available) {
        pop3_reply(s, "-ERR [SYS/PERM] TLS is not available");
        return;
    }
    s->have_user = false;
    s->user[0] = '\0';
    pop3_reply(s, "+OK Begin TLS negotiation");
    pop3_enter_state(s, POP3_STATE_STLS);
}

/* Logins only under TLS: a password must never cross the network in
 * clear, and a client that tries gets told how to do better. */
static bool pop3_tls_required(struct pop3_session *s)
{
    if (s->tls)
        return false;
    pop3_reply(s, "-ERR [AUTH] Logins need TLS: use STLS first%s",
               s->cfg->tls_available ? "" : " (or port 995)");
    return true;
}

static void pop3_proceed_user(struct pop3_session *s, const char *arg)
{
    if (pop3_tls_required(s))
        return;
    size_t n = strlen(arg);
    if (n == 0 || n > POP3_SESSION_USER_MAX) {
        pop3_error(s, "Syntax: USER name");
        return;
    }
    memcpy(s->user, arg, n + 1);
    s->have_user = true;
    pop3_reply(s, "+OK Send PASS");
}

/* Try a login; on success the maildrop is open. */
static void pop3_login(struct pop3_session *s, const char *user, const char *pass)
{
    snprintf(s->user, sizeof(s->user), "%s", user);
    s->have_user = false;
    int err = s->be->login(s->be->ctx, s->peer_ip, user, pass);
    if (err == PB_EPERM || err == PB_EBUSY) {
        /* Held back: pop3_session_resume() sends it after the delay. */
        s->delayed_reply = err == PB_EBUSY ?
            "-ERR [AUTH] Too many failed logins from your address; try again later\r\n" :
            "-ERR [AUTH] Authentication failed\r\n";
        s->login_failures++;
        pop3_enter_state(s, POP3_STATE_DELAY);
        return;
    }
    if (err == PB_EEXIST) {
        pop3_reply(s, "-ERR [IN-USE] The maildrop is open in another session");
        s->user[0] = '\0';
        pop3_enter_state(s, POP3_STATE_AUTH);
        return;
    }
    if (err) {
        pop3_reply(s, "-ERR [SYS/TEMP] The maildrop cannot be opened now (%s); try again later",
                   pb_err_str(err));
        s->user[0] = '\0';
        pop3_enter_state(s, POP3_STATE_AUTH);
        return;
    }
    int count = s->be->count(s->be->ctx);
    s->count = count < 0 ? 0 : count > POP3_SESSION_MAX_MSGS ? POP3_SESSION_MAX_MSGS :
               (unsigned)count;
    memset(s->deleted, 0, sizeof(s->deleted));
    s->marked = 0;
    s->logged_in = true;
    unsigned long n, octets;
    pop3_totals(s, &n, &octets);
    pop3_enter_state(s, POP3_STATE_TRANSACTION);
    pop3_reply(s, "+OK Logged in, %lu message%s (%lu octets)", n, n == 1 ? "" : "s", octets);
}

static void pop3_proceed_pass(struct pop3_session *s, const char *arg)
{
    if (pop3_tls_required(s))
        return;
    if (!s->have_user) {
        pop3_error(s, "Send USER first");
        return;
    }
    if (!*arg || strlen(arg) > POP3_SESSION_PASS_MAX) {
        s->have_user = false;
        pop3_error(s, "Syntax: PASS password");
        return;
    }
    char user[POP3_SESSION_USER_MAX + 1];
    memcpy(user, s->user, sizeof(user));
    pop3_login(s, user, arg);
}

/* A SASL PLAIN response (initial or on its own line). */
static void pop3_sasl_plain(struct pop3_session *s, const char *b64)
{
    char user[POP3_SESSION_USER_MAX + 1], pass[POP3_SESSION_PASS_MAX + 1];
    pop3_enter_state(s, POP3_STATE_AUTH);
    /* RFC 5034 section 4: "=" is an empty initial response. */
    int err = strcmp(b64, "=") == 0 ? PB_EINVAL :
              sasl_plain_decode(b64, strlen(b64), user, sizeof(user), pass, sizeof(pass));
    if (err) {
        pop3_error(s, err == PB_EPERM ? "[AUTH] Logging in as another user is not allowed" :
                   "Invalid PLAIN response");
        return;
    }
    pop3_login(s, user, pass);
    memset(pass, 0, sizeof(pass));
}

static void pop3_proceed_auth(struct pop3_session *s, const char *arg)
{
    if (!*arg) {
        /* The pre-CAPA way of asking for the mechanisms (RFC 1734). */
        pop3_send(s, s->tls ? "+OK Mechanisms follow\r\nPLAIN\r\n.\r\n" :
                              "+OK Mechanisms follow\r\n.\r\n");
        return;
    }
    if (pop3_tls_required(s))
        return;
    s->have_user = false;
    const char *sp = strchr(arg, ' ');
    size_t mlen = sp ? (size_t)(sp - arg) : strlen(arg);
    if (mlen != 5 || pop3_casecmp(arg, "PLAIN", 5) != 0) {
        pop3_error(s, "Unrecognized authentication type: PLAIN is offered");
        return;
    }
    if (sp) {
        pop3_sasl_plain(s, sp + 1);
        return;
    }
    pop3_send(s, "+ \r\n");
    pop3_enter_state(s, POP3_STATE_SASL);
}

static void pop3_proceed_quit(struct pop3_session *s, const char *arg)
{
    (void)arg;
    if (s->state == POP3_STATE_TRANSACTION) {
        /* UPDATE (RFC 1939 section 6): all or nothing, and +OK only once
         * the expunges are on flash. */
        if (s->marked && s->be->commit(s->be->ctx, s->deleted, s->count) != 0) {
            pop3_reply(s, "-ERR [SYS/TEMP] The marked messages could not be deleted; "
                       "none were deleted");
            pop3_close(s, "delete failed");
            return;
        }
        s->removed = s->marked;
    }
    pop3_reply(s, "+OK %s POP3 server signing off", s->cfg->hostname);
    pop3_close(s, "quit");
}

static void pop3_proceed_stat(struct pop3_session *s, const char *arg)
{
    (void)arg;
    unsigned long n, octets;
    pop3_totals(s, &n, &octets);
    pop3_reply(s, "+OK %lu %lu", n, octets);
}

static void pop3_start_sending(struct pop3_session *s, enum pop3_send_kind kind, unsigned i)
{
    s->send_top = false;
    s->send_msg = i;
    s->send_off = 0;
    s->send_kind = (uint8_t)kind;
    s->send_lines = 0;
    s->at_line_start = true;
    s->line_nonblank = false;
    s->in_body = false;
    pop3_enter_state(s, POP3_STATE_SENDING);
}

static void pop3_listing(struct pop3_session *s, const char *arg, enum pop3_send_kind kind)
{
    unsigned i;
    struct pop3_msg m;
    if (*arg) {
        if (!pop3_one_message(s, arg, &i, &m))
            return;
        if (kind == POP3_SEND_LIST)
            pop3_reply(s, "+OK %u %lu", i + 1, (unsigned long)m.size);
        else
            pop3_reply(s, "+OK %u %lu.%lu", i + 1, (unsigned long)m.uidvalidity,
                       (unsigned long)m.uid);
        return;
    }
    pop3_send(s, kind == POP3_SEND_LIST ? "+OK Scan listing follows\r\n" :
                                          "+OK Unique-id listing follows\r\n");
    pop3_start_sending(s, kind, 0);
}

static void pop3_proceed_list(struct pop3_session *s, const char *arg)
{
    pop3_listing(s, arg, POP3_SEND_LIST);
}

static void pop3_proceed_uidl(struct pop3_session *s, const char *arg)
{
    pop3_listing(s, arg, POP3_SEND_UIDL);
}

static void pop3_proceed_retr(struct pop3_session *s, const char *arg)
{
    unsigned i;
    struct pop3_msg m;
    if (!pop3_one_message(s, arg, &i, &m))
        return;
    pop3_reply(s, "+OK %lu octets", (unsigned long)m.size);
    pop3_start_sending(s, POP3_SEND_BODY, i);
}

static void pop3_proceed_top(struct pop3_session *s, const char *arg)
{
    uint32_t n, lines;
    const char *end;
    unsigned i;
    struct pop3_msg m;
    if (!pop3_number(arg, &n, &end) || *end != ' ' || !pop3_number(end + 1, &lines, &end) || *end) {
        pop3_error(s, "Syntax: TOP message lines");
        return;
    }
    if (!pop3_message(s, n, &i, &m))
        return;
    pop3_reply(s, "+OK Top of message follows");
    pop3_start_sending(s, POP3_SEND_BODY, i);
    s->send_top = true;
    s->send_lines = lines;
}

static void pop3_proceed_dele(struct pop3_session *s, const char *arg)
{
    unsigned i;
    struct pop3_msg m;
    if (!pop3_one_message(s, arg, &i, &m))
        return;
    if (s->cfg->max_deletes && s->marked >= s->cfg->max_deletes) {
        pop3_reply(s, "-ERR [SYS/TEMP] At most %u deletions per session: QUIT, then log in "
                   "again for the rest", s->cfg->max_deletes);
        return;
    }
    s->deleted[i / 8] |= (uint8_t)(1u << (i % 8));
    s->marked++;
    pop3_reply(s, "+OK Message %u deleted", i + 1);
}

static void pop3_proceed_noop(struct pop3_session *s, const char *arg)
{
    (void)arg;
    pop3_reply(s, "+OK");
}

static void pop3_proceed_rset(struct pop3_session *s, const char *arg)
{
    (void)arg;
    memset(s->deleted, 0, sizeof(s->deleted));
    s->marked = 0;
    unsigned long n, octets;
    pop3_totals(s, &n, &octets);
    pop3_reply(s, "+OK Maildrop has %lu message%s (%lu octets)", n, n == 1 ? "" : "s", octets);
}

/* -------------------------------------------------------------- sending --- */

/* LIST/UIDL without argument: one line per undeleted message. */
static void pop3_pump_listing(struct pop3_session *s, size_t room)
{
    while (s->send_msg < s->count) {
        unsigned i = s->send_msg;
        struct pop3_msg m;
        char line[40];
        int n = 0;
        if (!pop3_is_deleted(s, i) && s->be->msg(s->be->ctx, i, &m) == 0) {
            if (s->send_kind == POP3_SEND_LIST)
                n = snprintf(line, sizeof(line), "%u %lu\r\n", i + 1, (unsigned long)m.size);
            else
                n = snprintf(line, sizeof(line), "%u %lu.%lu\r\n", i + 1,
                             (unsigned long)m.uidvalidity, (unsigned long)m.uid);
        }
        if ((size_t)n > room)
            return;
        if (n > 0)
            s->write(s->write_ctx, line, (size_t)n);
        room -= (size_t)n;
        s->send_msg++;
    }
    if (room < 3)
        return;
    pop3_send(s, ".\r\n");
    pop3_enter_state(s, POP3_STATE_TRANSACTION);
}

/* RETR/TOP: a piece of the message, dot-stuffed (RFC 1939 section 3).
 * TOP stops after the blank line ending the header and send_lines lines
 * of the body. */
static void pop3_pump_body(struct pop3_session *s, size_t room)
{
    uint8_t in[512];
    char out[2 * sizeof(in) + 5];
    /* Each input byte makes at most two output bytes; 5 for the end. */
    size_t want = (room - 5) / 2;
    if (want > sizeof(in))
        want = sizeof(in);
    bool done = s->send_top && s->in_body && s->send_lines == 0;
    size_t o = 0, used = 0;
    if (!done) {
        int r = s->be->read(s->be->ctx, s->send_msg, s->send_off, in, want);
        if (r < 0) {
            /* +OK went out already: cutting the connection is the only
             * way left to tell the client the message is not whole. */
            pop3_close(s, "message unreadable");
            return;
        }
        done = r == 0;
        while (used < (size_t)r && !done) {
            uint8_t c = in[used++];
            if (c == '.' && s->at_line_start)
                out[o++] = '.';
            out[o++] = (char)c;
            if (c != '\n') {
                s->at_line_start = false;
                if (c != '\r')
                    s->line_nonblank = true;
                continue;
            }
            if (s->send_top) {
                if (!s->in_body && !s->line_nonblank)
                    s->in_body = true;      /* the blank line ending the header */
                else if (s->in_body)
                    s->send_lines--;
                done = s->in_body && s->send_lines == 0;
            }
            s->at_line_start = true;
            s->line_nonblank = false;
        }
        s->send_off += (uint32_t)used;
    }
    if (done) {
        if (!s->at_line_start) {
            out[o++] = '\r';
            out[o++] = '\n';
        }
        memcpy(out + o, ".\r\n", 3);
        o += 3;
        if (!s->send_top)
            s->retrieved++;
        pop3_enter_state(s, POP3_STATE_TRANSACTION);
    }
    if (o > 0)
        s->write(s->write_ctx, out, o);
}

void pop3_session_pump(struct pop3_session *s, size_t room)
{
    if (s->state != POP3_STATE_SENDING || room < POP3_SESSION_PUMP_MIN)
        return;
    if (s->send_kind != POP3_SEND_BODY)
        pop3_pump_listing(s, room);
    else
        pop3_pump_body(s, room);
}

/* ---------------------------------------------------------------- input --- */

static void pop3_session_line(struct pop3_session *s)
{
    if (s->line_too_long) {
        s->line_too_long = false;
        if (s->state == POP3_STATE_SASL)
            pop3_enter_state(s, POP3_STATE_AUTH);
        pop3_error(s, "Line too long: at most 255 octets");
        return;
    }
    if (s->state == POP3_STATE_SASL) {
        if (strcmp(s->line, "*") == 0) {
            pop3_enter_state(s, POP3_STATE_AUTH);
            pop3_reply(s, "-ERR AUTH cancelled");
            return;
        }
        pop3_sasl_plain(s, s->line);
        return;
    }
    /* keyword [SP argument]: the keyword is 3 or 4 characters (RFC 1939),
     * matched without regard to case. */
    char *sp = strchr(s->line, ' ');
    size_t vlen = sp ? (size_t)(sp - s->line) : s->line_len;
    const char *arg = sp ? sp + 1 : "";
    for (size_t i = 0; i < sizeof(pop3_session_cmds) / sizeof(pop3_session_cmds[0]); i++) {
        const struct pop3_session_cmd *c = &pop3_session_cmds[i];
        if (strlen(c->verb) != vlen || pop3_casecmp(s->line, c->verb, vlen) != 0)
            continue;
        if (!(c->states & (1u << s->state))) {
            pop3_error(s, s->state == POP3_STATE_AUTH ? "Log in first" :
                       "Command not valid in this state");
            return;
        }
        c->proceed(s, arg);
        return;
    }
    pop3_error(s, "Unknown command");
}

size_t pop3_session_input(struct pop3_session *s, const uint8_t *data, size_t len)
{
    size_t i = 0;
    while (i < len && (s->state == POP3_STATE_AUTH || s->state == POP3_STATE_SASL ||
                       s->state == POP3_STATE_TRANSACTION)) {
        uint8_t c = data[i++];
        size_t max = s->state == POP3_STATE_SASL ? SASL_PLAIN_B64_MAX : POP3_SESSION_LINE_MAX - 2;
        if (c == '\n') {
            if (s->line_len > 0 && s->line[s->line_len - 1] == '\r')
                s->line_len--;
            if (s->line_len > max)
                s->line_too_long = true;
            s->line[s->line_len] = '\0';
            /* A NUL inside a line would cut it short unseen: refuse it. */
            if (strlen(s->line) != s->line_len) {
                if (s->state == POP3_STATE_SASL)
                    pop3_enter_state(s, POP3_STATE_AUTH);
                s->line_too_long = false;
                pop3_error(s, "NUL in a command line");
            } else
                pop3_session_line(s);
            s->line_len = 0;
            continue;
        }
        /* One octet of slack holds a CR that may precede the LF. */
        if (s->line_len < max + 1)
            s->line[s->line_len++] = (char)c;
        else
            s->line_too_long = true;
    }
    return i;
}

void pop3_session_resume(struct pop3_session *s)
{
    if (s->state != POP3_STATE_DELAY)
        return;
    pop3_send(s, s->delayed_reply ? s->delayed_reply : "-ERR [AUTH] Authentication failed\r\n");
    s->delayed_reply = NULL;
    if (s->login_failures >= POP3_SESSION_MAX_LOGINS) {
        pop3_close(s, "login failed");
        return;
    }
    s->user[0] = '\0';
    pop3_enter_state(s, POP3_STATE_AUTH);
}

void pop3_session_init(struct pop3_session *s, const struct pop3_session_config *cfg,
                       const struct pop3_backend *be,
                       void (*write)(void *ctx, const char *s, size_t n), void *write_ctx,
                       const char *peer_ip, const char *tls_version)
{
    memset(s, 0, sizeof(*s));
    s->cfg = cfg;
    s->be = be;
    s->write = write;
    s->write_ctx = write_ctx;
    snprintf(s->peer_ip, sizeof(s->peer_ip), "%s", peer_ip);
    s->tls = tls_version != NULL;
    s->tls_version = tls_version;
    pop3_enter_state(s, POP3_STATE_AUTH);
    pop3_reply(s, "+OK %s POP3 Pillarbox ready", cfg->hostname);
}

void pop3_session_tls_started(struct pop3_session *s, const char *version)
{
    s->tls = true;
    s->tls_version = version;
    s->line_len = 0;
    s->line_too_long = false;
    s->have_user = false;
    s->user[0] = '\0';
    pop3_enter_state(s, POP3_STATE_AUTH);
}

void pop3_session_end(struct pop3_session *s, const char *why)
{
    pop3_close(s, why);
}
