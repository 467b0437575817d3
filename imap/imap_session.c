/*
 * imap_session.c - one IMAP server session (see imap_session.h): input
 * framing (lines and literals), the command table, login, folders and the
 * selected folder's commands.  FETCH and SEARCH, which read messages, are
 * in imap_fetch.c; both write through the helpers of imap_session_priv.h.
 *
 * Every command ends in imap_finish(): the tagged reply waits in s->done
 * while the untagged updates of the selected folder (EXPUNGE, FETCH FLAGS,
 * EXISTS) go out first, as the connection has room (IMAP_MODE_SENDING).
 *
 * CONDSTORE (imap_session.h): a modseq is never kept in the session (4096
 * of them would be 16 KiB per session); an untagged FETCH reads it from
 * the store by UID when it is written.
 */
#include "imap_session.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "imap_mutf7.h"
#include "imap_session_priv.h"
#include "pb_err.h"

struct imap_session_cmd {
    const char *name;
    unsigned states;        /* bit per enum imap_state where it is allowed */
    void (*proceed)(struct imap_session *s, struct imap_cmd *c);
    bool uid;               /* has a UID form */
};

static void imap_proceed_capability(struct imap_session *s, struct imap_cmd *c);
static void imap_proceed_noop(struct imap_session *s, struct imap_cmd *c);
static void imap_proceed_logout(struct imap_session *s, struct imap_cmd *c);
static void imap_proceed_starttls(struct imap_session *s, struct imap_cmd *c);
static void imap_proceed_login(struct imap_session *s, struct imap_cmd *c);
static void imap_proceed_authenticate(struct imap_session *s, struct imap_cmd *c);
static void imap_proceed_enable(struct imap_session *s, struct imap_cmd *c);
static void imap_proceed_id(struct imap_session *s, struct imap_cmd *c);
static void imap_proceed_namespace(struct imap_session *s, struct imap_cmd *c);
static void imap_proceed_select(struct imap_session *s, struct imap_cmd *c);
static void imap_proceed_examine(struct imap_session *s, struct imap_cmd *c);
static void imap_proceed_create(struct imap_session *s, struct imap_cmd *c);
static void imap_proceed_delete(struct imap_session *s, struct imap_cmd *c);
static void imap_proceed_rename(struct imap_session *s, struct imap_cmd *c);
static void imap_proceed_subscribe(struct imap_session *s, struct imap_cmd *c);
static void imap_proceed_unsubscribe(struct imap_session *s, struct imap_cmd *c);
static void imap_proceed_list(struct imap_session *s, struct imap_cmd *c);
static void imap_proceed_lsub(struct imap_session *s, struct imap_cmd *c);
static void imap_proceed_status(struct imap_session *s, struct imap_cmd *c);
static void imap_proceed_append(struct imap_session *s, struct imap_cmd *c);
static void imap_proceed_idle(struct imap_session *s, struct imap_cmd *c);
static void imap_proceed_check(struct imap_session *s, struct imap_cmd *c);
static void imap_proceed_close(struct imap_session *s, struct imap_cmd *c);
static void imap_proceed_unselect(struct imap_session *s, struct imap_cmd *c);
static void imap_proceed_expunge(struct imap_session *s, struct imap_cmd *c);
static void imap_proceed_store(struct imap_session *s, struct imap_cmd *c);
static void imap_proceed_copy(struct imap_session *s, struct imap_cmd *c);
static void imap_proceed_move(struct imap_session *s, struct imap_cmd *c);

#define IMAP_IN_NOTAUTH  (1u << IMAP_STATE_NOTAUTH)
#define IMAP_IN_AUTH     (1u << IMAP_STATE_AUTH)
#define IMAP_IN_SELECTED (1u << IMAP_STATE_SELECTED)
#define IMAP_IN_ANY      (IMAP_IN_NOTAUTH | IMAP_IN_AUTH | IMAP_IN_SELECTED)
#define IMAP_IN_LOGGED   (IMAP_IN_AUTH | IMAP_IN_SELECTED)

static const struct imap_session_cmd imap_session_cmds[] = {
    { "CAPABILITY", IMAP_IN_ANY, imap_proceed_capability, false },
    { "NOOP", IMAP_IN_ANY, imap_proceed_noop, false },
    { "LOGOUT", IMAP_IN_ANY, imap_proceed_logout, false },
    { "STARTTLS", IMAP_IN_NOTAUTH, imap_proceed_starttls, false },
    { "LOGIN", IMAP_IN_NOTAUTH, imap_proceed_login, false },
    { "AUTHENTICATE", IMAP_IN_NOTAUTH, imap_proceed_authenticate, false },
    { "ID", IMAP_IN_ANY, imap_proceed_id, false },
    { "ENABLE", IMAP_IN_LOGGED, imap_proceed_enable, false },
    { "NAMESPACE", IMAP_IN_LOGGED, imap_proceed_namespace, false },
    { "SELECT", IMAP_IN_LOGGED, imap_proceed_select, false },
    { "EXAMINE", IMAP_IN_LOGGED, imap_proceed_examine, false },
    { "CREATE", IMAP_IN_LOGGED, imap_proceed_create, false },
    { "DELETE", IMAP_IN_LOGGED, imap_proceed_delete, false },
    { "RENAME", IMAP_IN_LOGGED, imap_proceed_rename, false },
    { "SUBSCRIBE", IMAP_IN_LOGGED, imap_proceed_subscribe, false },
    { "UNSUBSCRIBE", IMAP_IN_LOGGED, imap_proceed_unsubscribe, false },
    { "LIST", IMAP_IN_LOGGED, imap_proceed_list, false },
    { "LSUB", IMAP_IN_LOGGED, imap_proceed_lsub, false },
    { "STATUS", IMAP_IN_LOGGED, imap_proceed_status, false },
    { "APPEND", IMAP_IN_LOGGED, imap_proceed_append, false },
    { "IDLE", IMAP_IN_LOGGED, imap_proceed_idle, false },
    { "CHECK", IMAP_IN_SELECTED, imap_proceed_check, false },
    { "CLOSE", IMAP_IN_SELECTED, imap_proceed_close, false },
    { "UNSELECT", IMAP_IN_SELECTED, imap_proceed_unselect, false },
    { "EXPUNGE", IMAP_IN_SELECTED, imap_proceed_expunge, true },
    { "FETCH", IMAP_IN_SELECTED, imap_proceed_fetch, true },
    { "STORE", IMAP_IN_SELECTED, imap_proceed_store, true },
    { "COPY", IMAP_IN_SELECTED, imap_proceed_copy, true },
    { "MOVE", IMAP_IN_SELECTED, imap_proceed_move, true },
    { "SEARCH", IMAP_IN_SELECTED, imap_proceed_search, true },
};

static const char *const imap_mode_names[] = {
    [IMAP_MODE_COMMAND] = "command", [IMAP_MODE_LITERAL] = "literal",
    [IMAP_MODE_DISCARD] = "discard", [IMAP_MODE_APPEND] = "append",
    [IMAP_MODE_SASL] = "sasl", [IMAP_MODE_DELAY] = "delay",
    [IMAP_MODE_STARTTLS] = "starttls", [IMAP_MODE_SENDING] = "sending",
    [IMAP_MODE_IDLE] = "idle", [IMAP_MODE_CLOSED] = "closed",
};

const char *imap_session_mode_name(enum imap_mode m)
{
    return (unsigned)m < sizeof(imap_mode_names) / sizeof(imap_mode_names[0]) ?
        imap_mode_names[m] : "?";
}

/* ------------------------------------------------------------- output --- */

void imap_out(struct imap_session *s, const char *data, size_t n)
{
    s->write(s->write_ctx, data, n);
    s->room = s->room > n ? s->room - n : 0;
}

void imap_printf(struct imap_session *s, const char *fmt, ...)
{
    char buf[600];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    imap_out(s, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* A mailbox name or other text as a quoted string, or a literal when it
 * holds what a quoted string cannot (CR, LF, NUL is never kept). */
void imap_astring_out(struct imap_session *s, const char *v, size_t n)
{
    bool literal = false;
    for (size_t i = 0; i < n; i++)
        if (v[i] == '\r' || v[i] == '\n' || ((unsigned char)v[i] >= 0x80 && !s->utf8))
            literal = true;
    if (literal) {
        imap_printf(s, "{%lu}\r\n", (unsigned long)n);
        imap_out(s, v, n);
        return;
    }
    imap_out(s, "\"", 1);
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] == '"' || v[i] == '\\') {
            imap_out(s, v + start, i - start);
            imap_out(s, "\\", 1);
            start = i;
        }
    }
    imap_out(s, v + start, n - start);
    imap_out(s, "\"", 1);
}

void imap_name_out(struct imap_session *s, const char *name)
{
    char wire[IMAP_SESSION_NAME_WIRE + 1];
    size_t n = strlen(name);
    int m = s->utf8 ? PB_EINVAL : imap_mutf7_encode(name, n, wire, sizeof(wire));
    if (m >= 0)
        imap_astring_out(s, wire, (size_t)m);
    else
        imap_astring_out(s, name, n);   /* UTF-8 session, or a name that is not UTF-8 */
}

int imap_name_in(const struct imap_session *s, const char *wire, size_t n, char *out, size_t cap)
{
    if (!s->utf8) {
        int m = imap_mutf7_decode(wire, n, out, cap);
        return m < 0 ? m : 0;
    }
    if (!imap_mutf7_utf8_ok(wire, n))
        return PB_EINVAL;
    if (n >= cap)
        return PB_ERANGE;
    memcpy(out, wire, n);
    out[n] = '\0';
    return 0;
}

const char *imap_flags_text(struct imap_mailbox *mb, uint16_t flags, char *buf, size_t cap)
{
    static const struct { uint16_t bit; const char *name; } names[] = {
        { STORE_FLAG_ANSWERED, "\\Answered" }, { STORE_FLAG_FLAGGED, "\\Flagged" },
        { STORE_FLAG_DELETED, "\\Deleted" }, { STORE_FLAG_SEEN, "\\Seen" },
        { STORE_FLAG_DRAFT, "\\Draft" },
    };
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if ((flags & names[i].bit) && n < cap)
            n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? " " : "", names[i].name);
    for (unsigned i = 0; i < IMAP_MAILBOX_KEYWORDS && n < cap; i++) {
        uint16_t bit = (uint16_t)(IMAP_MAILBOX_KEYWORD_BIT0 << i);
        const char *kw = (flags & bit) ? imap_mailbox_keyword_name(mb, bit) : NULL;
        if (kw)
            n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? " " : "", kw);
    }
    return buf;
}

unsigned imap_sync_budget(const struct imap_session *s, size_t room)
{
    /* "* n FETCH (UID n FLAGS (...))": 80 bytes with system flags only,
     * " MODSEQ (n)" 20 more. */
    size_t line = 100 + s->mb->nkeywords * (IMAP_MAILBOX_KEYWORD_MAX + 1);
    return room > 128 + line ? (unsigned)((room - 128) / line) : 1;
}

static void imap_log_end(struct imap_session *s, const char *result)
{
    if (s->logged)
        return;
    s->logged = true;
    imap_mailbox_logout(s->mb);
    if (s->cfg->log) {
        char user[sizeof(s->user)], line[400];
        size_t n = 0;
        for (; s->user[n]; n++)
            user[n] = (unsigned char)s->user[n] > ' ' && (unsigned char)s->user[n] < 0x7f ?
                      s->user[n] : '?';
        user[n] = '\0';
        snprintf(line, sizeof(line), "imap: session peer=%s tls=%s user=%s fetched=%lu result=%s",
                 s->peer_ip, s->tls ? s->tls_version : "no", n ? user : "-", s->fetched, result);
        s->cfg->log(line);
    }
}

static void imap_close(struct imap_session *s, const char *result)
{
    imap_log_end(s, result);
    s->state = IMAP_STATE_LOGOUT;
    s->mode = IMAP_MODE_CLOSED;
}

/* The end of a command: the tagged reply, after the folder's updates. */
void imap_finish(struct imap_session *s, const char *fmt, ...)
{
    int n = snprintf(s->done, sizeof(s->done), "%s ", s->tag);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->done + n, sizeof(s->done) - (size_t)n - 2, fmt, ap);
    va_end(ap);
    strcat(s->done, "\r\n");
    if (!s->mb->selected) {
        imap_out(s, s->done, strlen(s->done));
        s->mode = IMAP_MODE_COMMAND;
        return;
    }
    s->send_kind = IMAP_SEND_SYNC;
    s->mode = IMAP_MODE_SENDING;
}

/* A reply right now, without the folder's updates (BAD, NO of a parse). */
static void imap_tagged(struct imap_session *s, const char *text)
{
    imap_printf(s, "%s %s\r\n", s->tag[0] ? s->tag : "*", text);
    s->mode = IMAP_MODE_COMMAND;
}

void imap_bad(struct imap_session *s, const char *text)
{
    if (++s->errors >= IMAP_SESSION_MAX_ERRORS) {
        imap_printf(s, "* BYE Too many errors\r\n");
        imap_close(s, "too many errors");
        return;
    }
    char line[200];
    snprintf(line, sizeof(line), "BAD %s", text);
    imap_tagged(s, line);
}

/* A store error as the IMAP response code a client can act on. */
const char *imap_err_code(int err)
{
    switch (err) {
    case PB_ENOENT: return "[NONEXISTENT]";
    case PB_EEXIST: return "[ALREADYEXISTS]";
    case PB_ENOSPC: return "[OVERQUOTA]";
    case PB_EPERM: return "[CANNOT]";
    case PB_EINVAL: case PB_ERANGE: return "[CANNOT]";
    default: return "[SERVERBUG]";
    }
}

/* ------------------------------------------------------ sync and pump --- */

static void imap_sync_event(void *ctx, enum imap_mailbox_event ev, uint32_t seq, uint32_t uid,
                            uint16_t flags)
{
    struct imap_session *s = ctx;
    char f[IMAP_FLAGS_TEXT_MAX];
    switch (ev) {
    case IMAP_EV_EXPUNGE:
        imap_printf(s, "* %lu EXPUNGE\r\n", (unsigned long)seq);
        break;
    case IMAP_EV_FLAGS: {
        imap_printf(s, "* %lu FETCH (UID %lu FLAGS (%s)", (unsigned long)seq,
                    (unsigned long)uid, imap_flags_text(s->mb, flags, f, sizeof(f)));
        struct store_msg_info mi;
        /* A message expunged since has no modseq left to report: its
         * EXPUNGE comes at the next sync that may send one. */
        if (s->condstore && store_msg_get(s->mb->store, s->mb->folder, uid, &mi) == 0)
            imap_printf(s, " MODSEQ (%lu)", (unsigned long)mi.modseq);
        imap_out(s, ")\r\n", 3);
        break;
    }
    case IMAP_EV_EXISTS:
        imap_printf(s, "* %lu EXISTS\r\n", (unsigned long)seq);
        break;
    }
}

/* Untagged updates as far as room allows; 1 when all are out. */
static int imap_sync_step(struct imap_session *s)
{
    if (s->room < 256)
        return -1;
    unsigned budget = imap_sync_budget(s, s->room);
    int r = imap_mailbox_sync(s->mb, s->allow_expunge, budget, imap_sync_event, s);
    if (r == 1)
        return -1;
    if (r < 0) {
        imap_printf(s, "* BYE The folder cannot be read (%s)\r\n", pb_err_str(r));
        imap_close(s, "store error");
        return -1;
    }
    return 0;
}

void imap_session_pump(struct imap_session *s, size_t room)
{
    s->room = room;
    while (s->mode == IMAP_MODE_SENDING) {
        int r;
        switch (s->send_kind) {
        case IMAP_SEND_FETCH: r = imap_fetch_step(s); break;
        case IMAP_SEND_SEARCH: r = imap_search_step(s); break;
        case IMAP_SEND_LIST: r = imap_list_step(s); break;
        default: r = imap_sync_step(s); break;
        }
        if (r < 0)
            return;                 /* no room: the caller comes back */
        if (r == 0) {
            if (s->send_kind != IMAP_SEND_SYNC) {
                s->send_kind = IMAP_SEND_SYNC;
                continue;
            }
            if (s->room < strlen(s->done))
                return;
            imap_out(s, s->done, strlen(s->done));
            s->mode = IMAP_MODE_COMMAND;
            s->cmd_len = 0;         /* the command's text was needed until now */
        }
    }
}

void imap_session_poll(struct imap_session *s)
{
    if (s->mode != IMAP_MODE_IDLE || !imap_mailbox_changed(s->mb))
        return;
    imap_mailbox_keywords_load(s->mb);
    s->room = 4096;
    imap_mailbox_sync(s->mb, true, imap_sync_budget(s, s->room), imap_sync_event, s);
}

/* --------------------------------------------------------------- init --- */

void imap_session_init(struct imap_session *s, const struct imap_session_config *cfg,
                       struct imap_mailbox *mb,
                       void (*write)(void *ctx, const char *s, size_t n), void *write_ctx,
                       const char *peer_ip, const char *tls_version)
{
    memset(s, 0, sizeof(*s));
    s->cfg = cfg;
    s->mb = mb;
    s->write = write;
    s->write_ctx = write_ctx;
    snprintf(s->peer_ip, sizeof(s->peer_ip), "%s", peer_ip);
    s->tls = tls_version != NULL;
    s->tls_version = tls_version;
    s->room = 4096;
    imap_printf(s, "* OK [CAPABILITY %s] %s IMAP4rev1 service ready\r\n", imap_capabilities(s),
                cfg->hostname ? cfg->hostname : "Pillarbox");
}

void imap_session_tls_started(struct imap_session *s, const char *version)
{
    s->tls = true;
    s->tls_version = version;
    s->mode = IMAP_MODE_COMMAND;
    s->cmd_len = 0;
}

void imap_session_end(struct imap_session *s, const char *why)
{
    imap_log_end(s, why);
}

void imap_session_timeout(struct imap_session *s)
{
    imap_printf(s, "* BYE Idle for too long\r\n");
    imap_close(s, "idle timeout");
}

void imap_session_resume(struct imap_session *s)
{
    if (s->mode != IMAP_MODE_DELAY)
        return;
    imap_out(s, s->done, strlen(s->done));
    s->mode = IMAP_MODE_COMMAND;
    if (s->login_failures >= IMAP_SESSION_MAX_LOGINS) {
        imap_printf(s, "* BYE Too many failed logins\r\n");
        imap_close(s, "too many failed logins");
    }
}

/* -------------------------------------------------------------- input --- */

static void imap_dispatch(struct imap_session *s);
static void imap_sasl_line(struct imap_session *s, const char *line, size_t len);
static bool imap_append_start(struct imap_session *s, uint32_t n, bool nonsync);
static void imap_append_finish(struct imap_session *s, const char *line, size_t len);

/* The tag of a command line, for replies to a command we cannot parse. */
static void imap_read_tag(struct imap_session *s)
{
    struct imap_cmd c;
    imap_cmd_init(&c, s->cmd, s->cmd_len);
    if (imap_cmd_tag(&c, s->tag))
        strcpy(s->tag, "*");
}

/* A whole line is in cmd[line_start..cmd_len) (without its LF). */
static void imap_line(struct imap_session *s, size_t line_start)
{
    size_t len = s->cmd_len;
    if (len > line_start && s->cmd[len - 1] == '\r')
        len--;
    if (s->mode == IMAP_MODE_SASL) {
        imap_sasl_line(s, s->cmd, len);
        s->cmd_len = 0;
        return;
    }
    if (s->mode == IMAP_MODE_IDLE) {
        s->cmd_len = 0;
        if (len == 4 && (s->cmd[0] | 0x20) == 'd' && (s->cmd[1] | 0x20) == 'o' &&
            (s->cmd[2] | 0x20) == 'n' && (s->cmd[3] | 0x20) == 'e') {
            s->mode = IMAP_MODE_COMMAND;
            s->allow_expunge = true;
            imap_finish(s, "OK IDLE terminated");
        } else {
            s->mode = IMAP_MODE_COMMAND;
            imap_bad(s, "Expected DONE");
        }
        return;
    }
    if (s->append_tail) {
        s->append_tail = false;
        imap_append_finish(s, s->cmd + line_start, len - line_start);
        s->cmd_len = 0;
        return;
    }
    if (s->too_long) {
        s->too_long = false;
        imap_read_tag(s);
        s->cmd_len = 0;
        imap_bad(s, "Command too long");
        return;
    }
    uint32_t n;
    bool nonsync;
    int lit = imap_cmd_literal_at_end(s->cmd + line_start, len - line_start, &n, &nonsync);
    if (lit == 1) {
        s->cmd_len = len;
        if (imap_append_start(s, n, nonsync))
            return;
        if (s->cmd_len + 2 + n > sizeof(s->cmd)) {
            imap_read_tag(s);
            s->cmd_len = 0;
            if (nonsync) {
                s->lit_left = n;
                s->mode = IMAP_MODE_DISCARD;
                s->too_long = true;
            } else {
                imap_bad(s, "Literal too big");
            }
            return;
        }
        memcpy(s->cmd + s->cmd_len, "\r\n", 2);
        s->cmd_len += 2;
        s->lit_left = n;
        s->mode = n ? IMAP_MODE_LITERAL : IMAP_MODE_COMMAND;
        if (!nonsync)
            imap_out(s, "+ Ready for literal data\r\n", 26);
        return;
    }
    s->cmd_len = len;
    if (len == 0)
        return;                     /* an empty line: nothing to answer */
    imap_dispatch(s);
    if (s->mode != IMAP_MODE_SENDING)
        s->cmd_len = 0;             /* FETCH/SEARCH keep reading their arguments */
}

size_t imap_session_input(struct imap_session *s, const uint8_t *data, size_t len)
{
    size_t used = 0;
    size_t line_start = 0;
    while (used < len) {
        switch (s->mode) {
        case IMAP_MODE_COMMAND:
        case IMAP_MODE_SASL:
        case IMAP_MODE_IDLE: {
            /* Where this line starts: after the last literal. */
            line_start = s->cmd_len;
            while (line_start > 0 && s->cmd[line_start - 1] != '\n')
                line_start--;
            const uint8_t *lf = memchr(data + used, '\n', len - used);
            size_t take = lf ? (size_t)(lf - (data + used)) : len - used;
            if (s->too_long || s->cmd_len + take > sizeof(s->cmd) - 2) {
                if (!s->too_long)
                    s->cmd_len = s->cmd_len < 64 ? s->cmd_len : 64; /* keep the tag */
                s->too_long = true;
            } else {
                memcpy(s->cmd + s->cmd_len, data + used, take);
                s->cmd_len += take;
            }
            used += take;
            if (!lf)
                return used;
            used++;                 /* the LF */
            imap_line(s, line_start);
            break;
        }
        case IMAP_MODE_LITERAL: {
            size_t take = len - used < s->lit_left ? len - used : s->lit_left;
            memcpy(s->cmd + s->cmd_len, data + used, take);
            s->cmd_len += take;
            s->lit_left -= (uint32_t)take;
            used += take;
            if (s->lit_left == 0)
                s->mode = IMAP_MODE_COMMAND;
            break;
        }
        case IMAP_MODE_DISCARD: {
            size_t take = len - used < s->lit_left ? len - used : s->lit_left;
            s->lit_left -= (uint32_t)take;
            used += take;
            if (s->lit_left == 0)
                s->mode = IMAP_MODE_COMMAND;    /* too_long or append_tail says what then */
            break;
        }
        case IMAP_MODE_APPEND: {
            size_t take = len - used < s->lit_left ? len - used : s->lit_left;
            if (!s->append_err) {
                int err = imap_mailbox_append_write(s->mb, data + used, take);
                if (err) {
                    s->append_err = err;
                    imap_mailbox_append_abort(s->mb);
                }
            }
            s->lit_left -= (uint32_t)take;
            used += take;
            if (s->lit_left == 0) {
                s->mode = IMAP_MODE_COMMAND;
                s->append_tail = true;
                s->cmd_len = 0;
            }
            break;
        }
        default:
            return used;
        }
    }
    return used;
}

/* ---------------------------------------------------------- dispatch --- */

static void imap_dispatch(struct imap_session *s)
{
    struct imap_cmd c;
    char name[IMAP_CMD_ATOM_MAX + 1];
    imap_cmd_init(&c, s->cmd, s->cmd_len);
    if (imap_cmd_tag(&c, s->tag)) {
        strcpy(s->tag, "*");
        imap_bad(s, "Missing tag");
        return;
    }
    if (imap_cmd_sp(&c) || imap_cmd_atom(&c, name, sizeof(name), true)) {
        imap_bad(s, "Missing command");
        return;
    }
    s->send_uid = false;
    if (strcmp(name, "UID") == 0) {
        s->send_uid = true;
        if (imap_cmd_sp(&c) || imap_cmd_atom(&c, name, sizeof(name), true)) {
            imap_bad(s, "Missing command after UID");
            return;
        }
    }
    for (size_t i = 0; i < sizeof(imap_session_cmds) / sizeof(imap_session_cmds[0]); i++) {
        const struct imap_session_cmd *k = &imap_session_cmds[i];
        if (strcmp(name, k->name) != 0 || (s->send_uid && !k->uid))
            continue;
        if (!(k->states & (1u << s->state))) {
            imap_bad(s, s->state == IMAP_STATE_NOTAUTH ? "Log in first" :
                     s->state == IMAP_STATE_AUTH ? "Select a folder first" :
                     "Not allowed now");
            return;
        }
        s->allow_expunge = true;
        if (s->mb->logged_in)
            imap_mailbox_keywords_load(s->mb);  /* a reclaim elsewhere changes what bits mean */
        k->proceed(s, &c);
        return;
    }
    imap_bad(s, "Unknown command");
}

/* Arguments read: the command must end here. */
static bool imap_args_end(struct imap_session *s, struct imap_cmd *c)
{
    if (imap_cmd_end(c) == 0)
        return true;
    imap_bad(s, "Syntax error in arguments");
    return false;
}

/* Why a name from the client was refused (imap_name_in's error). */
static const char *imap_name_why(const struct imap_session *s, int err)
{
    if (err == PB_ERANGE)
        return "Mailbox name too long";
    return s->utf8 ? "Mailbox name is not UTF-8" :
           "Mailbox name is not modified UTF-7 (RFC 3501 5.1.3: \"&-\" for \"&\", other "
           "characters as \"&...-\")";
}

/* " " then a mailbox name into out (the store's UTF-8). */
static bool imap_arg_mailbox(struct imap_session *s, struct imap_cmd *c, char *out, size_t cap)
{
    char wire[IMAP_SESSION_NAME_WIRE + 1];
    size_t n;
    if (imap_cmd_sp(c) || imap_cmd_astring(c, wire, sizeof(wire), &n)) {
        imap_bad(s, c->err == PB_ERANGE ? "Mailbox name too long" : "Mailbox name expected");
        return false;
    }
    int err = imap_name_in(s, wire, n, out, cap);
    if (err) {
        imap_bad(s, imap_name_why(s, err));
        return false;
    }
    return true;
}

/* ------------------------------------------------------ any state --- */

const char *imap_capabilities(const struct imap_session *s)
{
    static char caps[300];
    bool login_ok = s->tls || !s->cfg->tls_available;
    snprintf(caps, sizeof(caps),
             "IMAP4rev1 IMAP4rev2%s%s%s SASL-IR LITERAL+ ENABLE ID NAMESPACE IDLE UIDPLUS MOVE "
             "UNSELECT SPECIAL-USE CHILDREN LIST-STATUS ESEARCH CONDSTORE UTF8=ACCEPT APPENDLIMIT=%lu",
             s->state == IMAP_STATE_NOTAUTH && !s->tls && s->cfg->tls_available ? " STARTTLS" : "",
             s->state == IMAP_STATE_NOTAUTH && !login_ok ? " LOGINDISABLED" : "",
             s->state == IMAP_STATE_NOTAUTH && login_ok ? " AUTH=PLAIN" : "",
             (unsigned long)s->cfg->max_size);
    return caps;
}

static void imap_proceed_capability(struct imap_session *s, struct imap_cmd *c)
{
    if (!imap_args_end(s, c))
        return;
    imap_printf(s, "* CAPABILITY %s\r\n", imap_capabilities(s));
    imap_finish(s, "OK CAPABILITY completed");
}

static void imap_proceed_noop(struct imap_session *s, struct imap_cmd *c)
{
    if (!imap_args_end(s, c))
        return;
    imap_finish(s, "OK NOOP completed");
}

static void imap_proceed_check(struct imap_session *s, struct imap_cmd *c)
{
    if (!imap_args_end(s, c))
        return;
    imap_finish(s, "OK CHECK completed (everything is on flash already)");
}

static void imap_proceed_logout(struct imap_session *s, struct imap_cmd *c)
{
    if (!imap_args_end(s, c))
        return;
    imap_printf(s, "* BYE Logging out\r\n%s OK LOGOUT completed\r\n", s->tag);
    imap_close(s, "logout");
}

static void imap_proceed_starttls(struct imap_session *s, struct imap_cmd *c)
{
    if (!imap_args_end(s, c))
        return;
    if (s->tls || !s->cfg->tls_available) {
        imap_tagged(s, s->tls ? "BAD TLS is on already" : "NO TLS is not available");
        return;
    }
    imap_printf(s, "%s OK Begin TLS negotiation now\r\n", s->tag);
    s->mode = IMAP_MODE_STARTTLS;
}

static void imap_proceed_id(struct imap_session *s, struct imap_cmd *c)
{
    /* RFC 2971: the client's list is read and not kept. */
    (void)c;
    imap_printf(s, "* ID (\"name\" \"Pillarbox\")\r\n");
    imap_finish(s, "OK ID completed");
}

void imap_condstore_on(struct imap_session *s)
{
    if (s->condstore)
        return;
    s->condstore = true;
    /* RFC 7162 3.1: when CONDSTORE comes on with a folder selected, the
     * client is told that folder's HIGHESTMODSEQ. */
    if (s->mb->selected)
        imap_printf(s, "* OK [HIGHESTMODSEQ %lu] CONDSTORE is on\r\n",
                    (unsigned long)imap_mailbox_highest_modseq(s->mb));
}

static void imap_proceed_enable(struct imap_session *s, struct imap_cmd *c)
{
    char cap[IMAP_CMD_ATOM_MAX + 1];
    bool rev2 = false, utf8 = false, condstore = false;
    while (imap_cmd_take(c, ' ')) {
        if (imap_cmd_atom(c, cap, sizeof(cap), true))
            break;
        if (strcmp(cap, "IMAP4REV2") == 0 && !s->rev2)
            rev2 = true;
        else if (strcmp(cap, "UTF8=ACCEPT") == 0 && !s->utf8)
            utf8 = true;
        else if (strcmp(cap, "CONDSTORE") == 0 && !s->condstore)
            condstore = true;
    }
    if (!imap_args_end(s, c))
        return;
    /* Only what this command turned on is reported (RFC 5161 3.1). */
    s->rev2 |= rev2;
    s->utf8 |= rev2 || utf8;
    if (condstore)
        imap_condstore_on(s);
    imap_printf(s, "* ENABLED%s%s%s\r\n", rev2 ? " IMAP4rev2" : "", utf8 ? " UTF8=ACCEPT" : "",
                condstore ? " CONDSTORE" : "");
    imap_finish(s, "OK ENABLE completed");
}

static void imap_proceed_namespace(struct imap_session *s, struct imap_cmd *c)
{
    if (!imap_args_end(s, c))
        return;
    imap_printf(s, "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n");
    imap_finish(s, "OK NAMESPACE completed");
}

/* ------------------------------------------------------------ login --- */

static bool imap_login_allowed(struct imap_session *s)
{
    if (!s->tls && s->cfg->tls_available) {
        imap_tagged(s, "NO [PRIVACYREQUIRED] Use STARTTLS first");
        return false;
    }
    return true;
}

static void imap_login(struct imap_session *s, const char *user, const char *pass)
{
    snprintf(s->user, sizeof(s->user), "%s", user);
    int err = imap_mailbox_login(s->mb, s->peer_ip, user, pass);
    if (err == 0) {
        s->state = IMAP_STATE_AUTH;
        imap_finish(s, "OK [CAPABILITY %s] Logged in", imap_capabilities(s));
        return;
    }
    s->login_failures++;
    snprintf(s->done, sizeof(s->done), "%s NO %s\r\n", s->tag,
             err == PB_EPERM ? "[AUTHENTICATIONFAILED] Wrong user name or password" :
             err == PB_EBUSY ? "[UNAVAILABLE] Too many failed logins, try again later" :
             "[UNAVAILABLE] The mailbox cannot be opened now");
    s->mode = IMAP_MODE_DELAY;
}

static void imap_proceed_login(struct imap_session *s, struct imap_cmd *c)
{
    char user[IMAP_MAILBOX_USER_MAX + 1], pass[256];
    if (imap_cmd_sp(c) || imap_cmd_astring(c, user, sizeof(user), NULL) || imap_cmd_sp(c) ||
        imap_cmd_astring(c, pass, sizeof(pass), NULL) || imap_cmd_end(c)) {
        imap_bad(s, "LOGIN user password");
        return;
    }
    if (imap_login_allowed(s))
        imap_login(s, user, pass);
    memset(pass, 0, sizeof(pass));
}

static void imap_sasl_response(struct imap_session *s, const char *b64, size_t len)
{
    char user[IMAP_MAILBOX_USER_MAX + 1], pass[256];
    if (len == 1 && b64[0] == '*') {
        imap_tagged(s, "BAD AUTHENTICATE cancelled");
        return;
    }
    int err = sasl_plain_decode(b64, len, user, sizeof(user), pass, sizeof(pass));
    if (err) {
        imap_bad(s, "Bad PLAIN response");
        return;
    }
    imap_login(s, user, pass);
    memset(pass, 0, sizeof(pass));
}

static void imap_sasl_line(struct imap_session *s, const char *line, size_t len)
{
    s->mode = IMAP_MODE_COMMAND;
    imap_sasl_response(s, line, len);
}

static void imap_proceed_authenticate(struct imap_session *s, struct imap_cmd *c)
{
    char mech[IMAP_CMD_ATOM_MAX + 1];
    if (imap_cmd_sp(c) || imap_cmd_atom(c, mech, sizeof(mech), true)) {
        imap_bad(s, "AUTHENTICATE mechanism");
        return;
    }
    if (strcmp(mech, "PLAIN") != 0) {
        imap_tagged(s, "NO [CANNOT] Only PLAIN is offered");
        return;
    }
    if (!imap_login_allowed(s))
        return;
    if (imap_cmd_take(c, ' ')) {
        /* SASL-IR (RFC 4959): the response on the command line; "=" is empty. */
        const char *ir = c->p;
        size_t n = 0;
        while (ir + n < c->end && ir[n] != '\r' && ir[n] != '\n')
            n++;
        if (n == 1 && ir[0] == '=')
            n = 0;
        imap_sasl_response(s, ir, n);
        return;
    }
    if (!imap_args_end(s, c))
        return;
    imap_out(s, "+ \r\n", 4);
    s->mode = IMAP_MODE_SASL;
}

/* ----------------------------------------------------------- folders --- */

static void imap_select(struct imap_session *s, struct imap_cmd *c, bool readonly)
{
    char name[STORE_NAME_MAX + 2], param[IMAP_CMD_ATOM_MAX + 1];
    bool condstore = false;
    if (!imap_arg_mailbox(s, c, name, sizeof(name)))
        return;
    /* select-params (RFC 4466): only CONDSTORE is known (RFC 7162 3.1.8). */
    if (imap_cmd_take(c, ' ')) {
        if (!imap_cmd_take(c, '(') || imap_cmd_atom(c, param, sizeof(param), true) ||
            strcmp(param, "CONDSTORE") != 0 || !imap_cmd_take(c, ')')) {
            imap_bad(s, "SELECT mailbox [(CONDSTORE)]");
            return;
        }
        condstore = true;
    }
    if (!imap_args_end(s, c))
        return;
    s->state = IMAP_STATE_AUTH;
    int err = imap_mailbox_select(s->mb, name, readonly);
    if (err) {
        imap_finish(s, "NO %s No such folder", imap_err_code(err));
        return;
    }
    struct store_folder_info fi;
    store_folder_info(s->mb->store, s->mb->folder, &fi);
    /* Every flag this mailbox knows: the system flags and the keyword
     * names given bits so far; \\* while there is a bit for a new one. */
    char flags[IMAP_FLAGS_TEXT_MAX];
    imap_mailbox_keywords_load(s->mb);
    imap_flags_text(s->mb, 0xffffu, flags, sizeof(flags));
    imap_printf(s, "* FLAGS (%s)\r\n", flags);
    imap_printf(s, "* OK [PERMANENTFLAGS (%s%s)] Flags kept\r\n* %u EXISTS\r\n",
                readonly ? "" : flags,
                !readonly && imap_mailbox_keywords_free(s->mb) ? " \\*" : "", s->mb->count);
    if (!s->rev2)
        imap_printf(s, "* 0 RECENT\r\n");
    imap_printf(s, "* OK [UIDVALIDITY %lu] UIDs valid\r\n* OK [UIDNEXT %lu] Predicted next UID\r\n",
                (unsigned long)fi.uidvalidity, (unsigned long)fi.uidnext);
    /* Every folder keeps modseqs: never NOMODSEQ (RFC 7162 3.1.2). */
    imap_printf(s, "* OK [HIGHESTMODSEQ %lu] Highest\r\n",
                (unsigned long)imap_mailbox_highest_modseq(s->mb));
    if (condstore)
        s->condstore = true;    /* and the client was just told HIGHESTMODSEQ */
    s->state = IMAP_STATE_SELECTED;
    imap_finish(s, "OK [%s] %s completed", readonly ? "READ-ONLY" : "READ-WRITE",
                readonly ? "EXAMINE" : "SELECT");
}

static void imap_proceed_select(struct imap_session *s, struct imap_cmd *c)
{
    imap_select(s, c, false);
}

static void imap_proceed_examine(struct imap_session *s, struct imap_cmd *c)
{
    imap_select(s, c, true);
}

static void imap_proceed_create(struct imap_session *s, struct imap_cmd *c)
{
    char name[STORE_NAME_MAX + 2];
    if (!imap_arg_mailbox(s, c, name, sizeof(name)) || !imap_args_end(s, c))
        return;
    int err = imap_mailbox_create(s->mb, name);
    if (err)
        imap_finish(s, "NO %s CREATE failed: %s", imap_err_code(err), pb_err_str(err));
    else
        imap_finish(s, "OK CREATE completed");
}

static void imap_proceed_delete(struct imap_session *s, struct imap_cmd *c)
{
    char name[STORE_NAME_MAX + 2];
    if (!imap_arg_mailbox(s, c, name, sizeof(name)) || !imap_args_end(s, c))
        return;
    bool was_selected = s->mb->selected;
    int err = imap_mailbox_delete(s->mb, name);
    if (was_selected && !s->mb->selected)
        s->state = IMAP_STATE_AUTH;
    if (err)
        imap_finish(s, "NO %s DELETE failed: %s", imap_err_code(err), pb_err_str(err));
    else
        imap_finish(s, "OK DELETE completed");
}

static void imap_proceed_rename(struct imap_session *s, struct imap_cmd *c)
{
    char from[STORE_NAME_MAX + 2], to[STORE_NAME_MAX + 2];
    if (!imap_arg_mailbox(s, c, from, sizeof(from)) || !imap_arg_mailbox(s, c, to, sizeof(to)) ||
        !imap_args_end(s, c))
        return;
    int err = imap_mailbox_rename(s->mb, from, to);
    if (err)
        imap_finish(s, "NO %s RENAME failed: %s", imap_err_code(err), pb_err_str(err));
    else
        imap_finish(s, "OK RENAME completed");
}

static void imap_subscribe(struct imap_session *s, struct imap_cmd *c, bool on)
{
    char name[STORE_NAME_MAX + 2];
    if (!imap_arg_mailbox(s, c, name, sizeof(name)) || !imap_args_end(s, c))
        return;
    int err = imap_mailbox_subscribe(s->mb, name, on);
    if (err)
        imap_finish(s, "NO %s failed: %s", imap_err_code(err), pb_err_str(err));
    else
        imap_finish(s, "OK %s completed", on ? "SUBSCRIBE" : "UNSUBSCRIBE");
}

static void imap_proceed_subscribe(struct imap_session *s, struct imap_cmd *c)
{
    imap_subscribe(s, c, true);
}

static void imap_proceed_unsubscribe(struct imap_session *s, struct imap_cmd *c)
{
    imap_subscribe(s, c, false);
}

/* LIST pattern match: "*" matches anything, "%" anything but "/". */
static bool imap_match(const char *pat, const char *name, int depth)
{
    if (depth > 16)
        return false;
    for (; *pat; pat++, name++) {
        if (*pat == '*' || *pat == '%') {
            for (const char *n = name;; n++) {
                if (imap_match(pat + 1, n, depth + 1))
                    return true;
                if (!*n || (*pat == '%' && *n == '/'))
                    return false;
            }
        }
        if (*pat != *name)
            return false;
    }
    return *name == '\0';
}

/* The STATUS items, in the order LIST-STATUS writes them. */
static const char *const imap_status_names[] = {
    "MESSAGES", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "DELETED", "SIZE", "RECENT", "HIGHESTMODSEQ",
};
#define IMAP_STATUS_NITEMS (sizeof(imap_status_names) / sizeof(imap_status_names[0]))

static int imap_status_bit(const char *item)
{
    for (unsigned i = 0; i < IMAP_STATUS_NITEMS; i++)
        if (strcmp(item, imap_status_names[i]) == 0)
            return (int)(1u << i);
    return -1;
}

/* LIST's return options (RFC 5258 section 6, RFC 5819): "RETURN (opt
 * ...)".  SUBSCRIBED, CHILDREN and SPECIAL-USE name what every LIST
 * answer carries anyway; STATUS (items) asks for a STATUS line per folder. */
static int imap_list_return(struct imap_session *s, struct imap_cmd *c)
{
    char opt[IMAP_CMD_ATOM_MAX + 1];
    s->list_status = 0;
    if (imap_cmd_at_end(c))
        return 0;
    if (imap_cmd_sp(c) || imap_cmd_atom(c, opt, sizeof(opt), true) || strcmp(opt, "RETURN") != 0 ||
        imap_cmd_sp(c) || !imap_cmd_take(c, '('))
        return PB_EINVAL;
    if (imap_cmd_take(c, ')'))
        return imap_cmd_end(c);
    do {
        if (imap_cmd_atom(c, opt, sizeof(opt), true))
            return PB_EINVAL;
        if (strcmp(opt, "STATUS") == 0) {
            if (imap_cmd_sp(c) || !imap_cmd_take(c, '('))
                return PB_EINVAL;
            do {
                int bit = imap_cmd_atom(c, opt, sizeof(opt), true) ? -1 : imap_status_bit(opt);
                if (bit < 0)
                    return PB_EINVAL;
                s->list_status |= (uint8_t)bit;
            } while (imap_cmd_take(c, ' '));
            if (!imap_cmd_take(c, ')'))
                return PB_EINVAL;
        } else if (strcmp(opt, "SUBSCRIBED") != 0 && strcmp(opt, "CHILDREN") != 0 &&
                   strcmp(opt, "SPECIAL-USE") != 0) {
            return PB_EINVAL;
        }
    } while (imap_cmd_take(c, ' '));
    if (!imap_cmd_take(c, ')'))
        return PB_EINVAL;
    return imap_cmd_end(c);
}

/* "* STATUS name (...)" after a LIST line that asked for it. */
static void imap_list_status(struct imap_session *s, const struct store_folder_info *folder)
{
    struct imap_mailbox_counts n;
    struct store_folder_info fi;
    if (imap_mailbox_status(s->mb, folder->id, &n, &fi) != 0)
        return;
    unsigned long v[IMAP_STATUS_NITEMS] = { n.messages, fi.uidnext, fi.uidvalidity, n.unseen,
                                            n.deleted, (unsigned long)n.bytes, 0,
                                            (unsigned long)imap_mailbox_highest_modseq(s->mb) };
    imap_out(s, "* STATUS ", 9);
    imap_name_out(s, fi.name);
    const char *sep = " (";
    for (unsigned i = 0; i < IMAP_STATUS_NITEMS; i++) {
        if (s->list_status & (1u << i)) {
            imap_printf(s, "%s%s %lu", sep, imap_status_names[i], v[i]);
            sep = " ";
        }
    }
    imap_out(s, ")\r\n", 3);
}

static void imap_list(struct imap_session *s, struct imap_cmd *c, bool lsub)
{
    char ref[STORE_NAME_MAX + 2], refw[IMAP_SESSION_NAME_WIRE + 1], patw[IMAP_SESSION_NAME_WIRE + 1];
    size_t refn;
    if (imap_cmd_sp(c) || imap_cmd_astring(c, refw, sizeof(refw), &refn) || imap_cmd_sp(c) ||
        imap_cmd_list_mailbox(c, patw, sizeof(patw)) ||
        (lsub ? imap_cmd_end(c) : imap_list_return(s, c))) {
        imap_bad(s, "LIST reference pattern [RETURN (options)]");
        return;
    }
    /* "%" and "*" are printable ASCII: they pass through either form. */
    int err = imap_name_in(s, refw, refn, ref, sizeof(ref));
    if (!err)
        err = imap_name_in(s, patw, strlen(patw), s->pattern, sizeof(s->pattern));
    if (err) {
        imap_bad(s, imap_name_why(s, err));
        return;
    }
    if (lsub)
        s->list_status = 0;
    if (s->pattern[0] == '\0') {
        imap_printf(s, "* %s (\\Noselect) \"/\" \"\"\r\n", lsub ? "LSUB" : "LIST");
        imap_finish(s, "OK %s completed", lsub ? "LSUB" : "LIST");
        return;
    }
    if (ref[0]) {
        /* The reference is a prefix of the pattern (RFC 3501 6.3.8). */
        char joined[sizeof(s->pattern)];
        size_t r = strlen(ref);
        if (r + strlen(s->pattern) + 1 >= sizeof(joined)) {
            imap_bad(s, "Pattern too long");
            return;
        }
        size_t p = strlen(s->pattern);
        memcpy(joined, ref, r);
        if (ref[r - 1] != '/')
            joined[r++] = '/';
        memcpy(joined + r, s->pattern, p + 1);
        memcpy(s->pattern, joined, sizeof(joined));
    }
    if (strncmp(s->pattern, "inbox", 5) == 0 || strncmp(s->pattern, "Inbox", 5) == 0)
        memcpy(s->pattern, "INBOX", 5);
    s->lsub = lsub;
    s->it = 0;
    s->send_kind = IMAP_SEND_LIST;
    snprintf(s->done, sizeof(s->done), "%s OK %s completed\r\n", s->tag, lsub ? "LSUB" : "LIST");
    s->mode = IMAP_MODE_SENDING;
}

int imap_list_step(struct imap_session *s)
{
    struct store_folder_info fi, ch;
    if (s->room < 512)
        return -1;
    if (imap_mailbox_next(s->mb, (uint16_t)s->it, &fi) != 0)
        return 0;
    s->it = fi.id;
    if (!imap_match(s->pattern, fi.name, 0))
        return 1;
    bool sub = imap_mailbox_subscribed(s->mb, fi.name);
    if (s->lsub && !sub)
        return 1;
    bool children = false;
    size_t n = strlen(fi.name);
    for (uint16_t after = 0; !children && imap_mailbox_next(s->mb, after, &ch) == 0; after = ch.id)
        children = strncmp(ch.name, fi.name, n) == 0 && ch.name[n] == '/';
    const char *use = imap_mailbox_special_use(fi.name);
    imap_printf(s, "* %s (%s%s%s%s) \"/\" ", s->lsub ? "LSUB" : "LIST",
                children ? "\\HasChildren" : "\\HasNoChildren",
                sub && !s->lsub ? " \\Subscribed" : "", use ? " " : "", use ? use : "");
    imap_name_out(s, fi.name);
    imap_out(s, "\r\n", 2);
    if (s->list_status)
        imap_list_status(s, &fi);
    return 1;
}

static void imap_proceed_list(struct imap_session *s, struct imap_cmd *c)
{
    imap_list(s, c, false);
}

static void imap_proceed_lsub(struct imap_session *s, struct imap_cmd *c)
{
    imap_list(s, c, true);
}

static void imap_proceed_status(struct imap_session *s, struct imap_cmd *c)
{
    char name[STORE_NAME_MAX + 2], item[IMAP_CMD_ATOM_MAX + 1], out[300];
    uint16_t folder;
    bool condstore = false;
    if (!imap_arg_mailbox(s, c, name, sizeof(name)))
        return;
    if (imap_cmd_sp(c) || !imap_cmd_take(c, '(')) {
        imap_bad(s, "STATUS mailbox (items)");
        return;
    }
    int err = imap_mailbox_find(s->mb, name, &folder);
    struct imap_mailbox_counts cnt = { 0, 0, 0, 0 };
    struct store_folder_info fi;
    if (!err)
        err = imap_mailbox_status(s->mb, folder, &cnt, &fi);
    size_t n = 0;
    out[0] = '\0';
    do {
        if (imap_cmd_atom(c, item, sizeof(item), true))
            break;
        unsigned long v;
        if (strcmp(item, "MESSAGES") == 0) v = cnt.messages;
        else if (strcmp(item, "UNSEEN") == 0) v = cnt.unseen;
        else if (strcmp(item, "RECENT") == 0) v = 0;
        else if (strcmp(item, "UIDNEXT") == 0) v = err ? 0 : fi.uidnext;
        else if (strcmp(item, "UIDVALIDITY") == 0) v = err ? 0 : fi.uidvalidity;
        else if (strcmp(item, "SIZE") == 0) v = (unsigned long)cnt.bytes;
        else if (strcmp(item, "DELETED") == 0) v = cnt.deleted;
        else if (strcmp(item, "HIGHESTMODSEQ") == 0) {
            v = (unsigned long)imap_mailbox_highest_modseq(s->mb);
            condstore = true;
        } else {
            imap_bad(s, "Unknown STATUS item");
            return;
        }
        if (n < sizeof(out) - 40)
            n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s %lu", n ? " " : "", item, v);
    } while (imap_cmd_take(c, ' '));
    if (!imap_cmd_take(c, ')') || !imap_args_end(s, c)) {
        if (c->err == 0)
            imap_bad(s, "STATUS mailbox (items)");
        return;
    }
    if (err) {
        imap_finish(s, "NO %s No such folder", imap_err_code(err));
        return;
    }
    if (condstore)
        imap_condstore_on(s);
    imap_out(s, "* STATUS ", 9);
    imap_name_out(s, fi.name);
    imap_printf(s, " (%s)\r\n", out);
    imap_finish(s, "OK STATUS completed");
}

/* ------------------------------------------------------------ APPEND --- */

int imap_flag_list(struct imap_session *s, struct imap_cmd *c, uint16_t *flags, bool create)
{
    char f[IMAP_CMD_ATOM_MAX + 2];
    bool paren = imap_cmd_take(c, '(');
    int kwerr = 0;
    *flags = 0;
    if (paren && imap_cmd_take(c, ')'))
        return 0;
    do {
        if (imap_cmd_flag(c, f, sizeof(f)))
            return c->err;
        if (f[0] != '\\') {
            /* The whole list is read before a keyword error is returned,
             * so that the caller can tell it from bad syntax. */
            uint16_t bit;
            int err = imap_mailbox_keyword(s->mb, f, create, &bit);
            if (err == 0)
                *flags |= bit;
            else if (err != PB_ENOENT && !kwerr)
                kwerr = err;
            continue;
        }
        static const struct { const char *n; uint16_t bit; } map[] = {
            { "\\SEEN", STORE_FLAG_SEEN }, { "\\ANSWERED", STORE_FLAG_ANSWERED },
            { "\\FLAGGED", STORE_FLAG_FLAGGED }, { "\\DELETED", STORE_FLAG_DELETED },
            { "\\DRAFT", STORE_FLAG_DRAFT },
        };
        for (char *p = f; *p; p++)
            if (*p >= 'a' && *p <= 'z')
                *p = (char)(*p - 32);
        size_t i = 0;
        for (; i < sizeof(map) / sizeof(map[0]); i++)
            if (strcmp(f, map[i].n) == 0)
                break;
        if (i == sizeof(map) / sizeof(map[0]))
            return PB_EINVAL;   /* \\Recent and unknown system flags cannot be set */
        *flags |= map[i].bit;
    } while (paren && imap_cmd_take(c, ' '));
    if (paren && !imap_cmd_take(c, ')'))
        return PB_EINVAL;
    return c->err ? c->err : kwerr;
}

/* The line so far is "tag APPEND mailbox [flags] [date] {n}": the literal
 * is the message.  Returns false when it is some other command (or a
 * literal inside APPEND's arguments), which then reads its literal the
 * ordinary way. */
static bool imap_append_start(struct imap_session *s, uint32_t n, bool nonsync)
{
    struct imap_cmd c;
    char name[IMAP_CMD_ATOM_MAX + 1], box[STORE_NAME_MAX + 2], wire[IMAP_SESSION_NAME_WIRE + 1];
    size_t wire_len;
    uint16_t flags = 0, folder;
    int64_t date = -1;
    imap_cmd_init(&c, s->cmd, s->cmd_len);
    if (imap_cmd_tag(&c, s->tag) || imap_cmd_sp(&c) || imap_cmd_atom(&c, name, sizeof(name), true) ||
        strcmp(name, "APPEND") != 0)
        return false;
    if (imap_cmd_sp(&c) || imap_cmd_peek(&c, '{') ||
        imap_cmd_astring(&c, wire, sizeof(wire), &wire_len) || imap_cmd_sp(&c))
        return false;
    int nameerr = imap_name_in(s, wire, wire_len, box, sizeof(box));
    int kwerr = 0;
    if (imap_cmd_peek(&c, '(')) {
        if (s->mb->logged_in)
            imap_mailbox_keywords_load(s->mb);
        kwerr = imap_flag_list(s, &c, &flags, s->state != IMAP_STATE_NOTAUTH);
        if (kwerr == PB_EINVAL || c.err || imap_cmd_sp(&c))
            return false;
    }
    if (imap_cmd_peek(&c, '"')) {
        if (imap_cmd_datetime(&c, &date) || imap_cmd_sp(&c))
            return false;
    }
    if (!imap_cmd_peek(&c, '{'))
        return false;
    /* This literal is the message. */
    s->cmd_len = 0;
    s->append_err = 0;
    s->append_size = n;
    int err = s->state == IMAP_STATE_NOTAUTH ? PB_EPERM : 0;
    const char *why = "Log in first";
    if (!err && n > s->cfg->max_size) {
        err = PB_ERANGE;
        why = "[TOOBIG] Message bigger than the size limit";
    }
    if (!err && (err = nameerr) != 0)
        why = imap_name_why(s, err);
    if (!err && (err = imap_mailbox_find(s->mb, box, &folder)) != 0)
        why = "[TRYCREATE] No such folder";
    if (!err && (err = kwerr) != 0)
        why = err == PB_ENOSPC || err == PB_ERANGE ?
              "[LIMIT] No room for that keyword (11 names in use per mailbox, 31 bytes each)" :
              "[SERVERBUG] The store cannot take a keyword now";
    if (!err && (err = imap_mailbox_append_begin(s->mb, folder, flags,
                                                 date < 0 ? 0 : (uint32_t)date)) != 0)
        why = "[SERVERBUG] The store cannot take a message now";
    if (err) {
        char line[200];
        snprintf(line, sizeof(line), "%s %s", err == PB_EPERM ? "BAD" : "NO", why);
        if (nonsync) {
            /* The client sends the bytes anyway: read and drop them. */
            s->lit_left = n;
            s->mode = n ? IMAP_MODE_DISCARD : IMAP_MODE_COMMAND;
            s->append_err = err;
            s->append_tail = true;
            snprintf(s->done, sizeof(s->done), "%s %s\r\n", s->tag, line);
        } else {
            imap_tagged(s, line);
        }
        return true;
    }
    s->lit_left = n;
    s->mode = n ? IMAP_MODE_APPEND : IMAP_MODE_COMMAND;
    s->append_tail = n == 0;
    if (!nonsync)
        imap_out(s, "+ Ready for literal data\r\n", 26);
    return true;
}

static void imap_append_finish(struct imap_session *s, const char *line, size_t len)
{
    (void)line;
    if (s->append_err && s->done[0]) {
        /* A refused non-synchronising literal: its reply was kept. */
        imap_out(s, s->done, strlen(s->done));
        s->done[0] = '\0';
        s->mode = IMAP_MODE_COMMAND;
        return;
    }
    if (len != 0) {
        imap_mailbox_append_abort(s->mb);
        imap_bad(s, "One message per APPEND (MULTIAPPEND is not offered)");
        return;
    }
    if (s->append_err) {
        imap_finish(s, "NO %s The message could not be stored: %s", imap_err_code(s->append_err),
                    pb_err_str(s->append_err));
        return;
    }
    uint32_t uid, uidvalidity;
    int err = imap_mailbox_append_end(s->mb, &uid, &uidvalidity);
    if (err == PB_EAGAIN) {
        imap_finish(s, "NO [UNAVAILABLE] Its keywords were given to other names meanwhile: "
                    "APPEND again");
        return;
    }
    if (err) {
        imap_finish(s, "NO %s The message could not be stored: %s", imap_err_code(err),
                    pb_err_str(err));
        return;
    }
    imap_finish(s, "OK [APPENDUID %lu %lu] APPEND completed", (unsigned long)uidvalidity,
                (unsigned long)uid);
}

static void imap_proceed_append(struct imap_session *s, struct imap_cmd *c)
{
    /* Only reached when the message was not a literal. */
    (void)c;
    imap_bad(s, "APPEND mailbox [(flags)] [date] {size}");
}

/* ------------------------------------------------- selected folder --- */

static void imap_proceed_idle(struct imap_session *s, struct imap_cmd *c)
{
    if (!imap_args_end(s, c))
        return;
    imap_out(s, "+ idling\r\n", 10);
    s->mode = IMAP_MODE_IDLE;
    s->room = 4096;
    imap_mailbox_sync(s->mb, true, imap_sync_budget(s, s->room), imap_sync_event, s);
}

static void imap_proceed_unselect(struct imap_session *s, struct imap_cmd *c)
{
    if (!imap_args_end(s, c))
        return;
    imap_mailbox_unselect(s->mb);
    s->state = IMAP_STATE_AUTH;
    imap_finish(s, "OK UNSELECT completed");
}

/* Expunge \Deleted messages (of uids when given); 0 or the error. */
static int imap_expunge_deleted(struct imap_session *s, const struct imap_seqset *uids)
{
    struct store_txn *txn = NULL;
    struct store_msg_info mi;
    int err = 0;
    for (uint32_t seq = 1; seq <= s->mb->count && !err; seq++) {
        if (imap_mailbox_msg(s->mb, seq, &mi) != 0 || !(mi.flags & STORE_FLAG_DELETED))
            continue;
        if (uids && !imap_seqset_contains(uids, mi.uid, s->mb->uids[s->mb->count - 1]))
            continue;
        err = imap_mailbox_expunge(s->mb, &txn, seq);
    }
    int cerr = imap_mailbox_commit(s->mb, &txn, err);
    return err ? err : cerr;
}

static void imap_proceed_close(struct imap_session *s, struct imap_cmd *c)
{
    if (!imap_args_end(s, c))
        return;
    int err = s->mb->readonly ? 0 : imap_expunge_deleted(s, NULL);
    imap_mailbox_unselect(s->mb);
    s->state = IMAP_STATE_AUTH;
    if (err)
        imap_finish(s, "NO %s CLOSE could not expunge: %s", imap_err_code(err), pb_err_str(err));
    else
        imap_finish(s, "OK CLOSE completed");
}

static void imap_proceed_expunge(struct imap_session *s, struct imap_cmd *c)
{
    struct imap_seqset set;
    if (s->send_uid && (imap_cmd_sp(c) || imap_cmd_seqset(c, &set))) {
        imap_bad(s, "UID EXPUNGE set");
        return;
    }
    if (!imap_args_end(s, c))
        return;
    if (s->mb->readonly) {
        imap_finish(s, "NO [READ-ONLY] The folder is read-only");
        return;
    }
    int err = imap_expunge_deleted(s, s->send_uid ? &set : NULL);
    if (err)
        imap_finish(s, "NO %s EXPUNGE failed: %s", imap_err_code(err), pb_err_str(err));
    else
        imap_finish(s, "OK EXPUNGE completed");
}

/* Whether message seq is named by set (UIDs when the command is UID ...). */
bool imap_selected(struct imap_session *s, const struct imap_seqset *set, uint32_t seq)
{
    struct imap_mailbox *mb = s->mb;
    if (!mb->count)
        return false;
    if (s->send_uid)
        return imap_seqset_contains(set, mb->uids[seq - 1], mb->uids[mb->count - 1]);
    return imap_seqset_contains(set, seq, mb->count);
}

/* A set being built in buf[cap] from numbers in rising order, as ranges
 * ("3:5,9"): *first..*last is the range still open (0: none); flush
 * writes it out.  False when it does not fit. */
static bool imap_set_add(char *buf, size_t cap, uint32_t *first, uint32_t *last, uint32_t n,
                         bool flush)
{
    if (!flush && *first && n == *last + 1) {
        *last = n;
        return true;
    }
    if (*first) {
        size_t len = strlen(buf);
        int w = *first == *last ?
                snprintf(buf + len, cap - len, "%s%lu", len ? "," : "", (unsigned long)*first) :
                snprintf(buf + len, cap - len, "%s%lu:%lu", len ? "," : "", (unsigned long)*first,
                         (unsigned long)*last);
        if (w < 0 || (size_t)w >= cap - len) {
            buf[len] = '\0';
            return false;
        }
    }
    *first = *last = flush ? 0 : n;
    return true;
}

static void imap_proceed_store(struct imap_session *s, struct imap_cmd *c)
{
    struct imap_seqset set;
    char item[IMAP_CMD_ATOM_MAX + 1];
    uint16_t flags;
    uint64_t since = 0;
    bool conditional = false;
    if (imap_cmd_sp(c) || imap_cmd_seqset(c, &set) || imap_cmd_sp(c)) {
        imap_bad(s, "STORE set item flags");
        return;
    }
    /* store-modifiers (RFC 7162 3.1.3): (UNCHANGEDSINCE n) */
    if (imap_cmd_take(c, '(')) {
        if (imap_cmd_atom(c, item, sizeof(item), true) || strcmp(item, "UNCHANGEDSINCE") != 0 ||
            imap_cmd_sp(c) || imap_cmd_modseq(c, &since) || !imap_cmd_take(c, ')') ||
            imap_cmd_sp(c)) {
            imap_bad(s, "STORE set (UNCHANGEDSINCE modseq) item flags");
            return;
        }
        conditional = true;
    }
    int op = imap_cmd_take(c, '+') ? 1 : imap_cmd_take(c, '-') ? -1 : 0;
    if (imap_cmd_atom(c, item, sizeof(item), true) || imap_cmd_sp(c) ||
        (strcmp(item, "FLAGS") != 0 && strcmp(item, "FLAGS.SILENT") != 0)) {
        imap_bad(s, "STORE set [+-]FLAGS[.SILENT] (flags)");
        return;
    }
    bool silent = strcmp(item, "FLAGS.SILENT") == 0;
    /* -FLAGS of a keyword never used has nothing to take away. */
    int ferr = imap_flag_list(s, c, &flags, op >= 0);
    if (ferr || !imap_args_end(s, c)) {
        if (s->mode == IMAP_MODE_COMMAND && c->err == 0)
            imap_finish(s, "NO %s", ferr == PB_EINVAL ? "[CANNOT] \\Recent and unknown system flags cannot be set" :
                        ferr == PB_ENOSPC || ferr == PB_ERANGE ?
                        "[LIMIT] No room for that keyword (11 names in use per mailbox, 31 bytes each)" :
                        "[SERVERBUG] The store cannot take a keyword now");
        else if (c->err)
            imap_bad(s, "Bad flag list");
        return;
    }
    if (s->mb->readonly) {
        imap_finish(s, "NO [READ-ONLY] The folder is read-only");
        return;
    }
    if (conditional)
        imap_condstore_on(s);
    /* The messages left alone because they changed after UNCHANGEDSINCE
     * (RFC 7162 3.1.3), as a set for "OK [MODIFIED set]".  They are
     * known before anything is stored: when the set would not fit the
     * reply, nothing is stored (the client could not be told which). */
    char modified[700];
    uint32_t m_first = 0, m_last = 0;
    modified[0] = '\0';
    struct store_msg_info mi;
    bool fits = true;
    for (uint32_t seq = 1; conditional && fits && seq <= s->mb->count; seq++)
        if (imap_selected(s, &set, seq) && imap_mailbox_msg(s->mb, seq, &mi) == 0 &&
            mi.modseq > since)
            fits = imap_set_add(modified, sizeof(modified), &m_first, &m_last,
                                s->send_uid ? mi.uid : seq, false);
    if (!fits || !imap_set_add(modified, sizeof(modified), &m_first, &m_last, 0, true)) {
        imap_finish(s, "NO [LIMIT] Too many messages changed since UNCHANGEDSINCE to list; "
                    "nothing stored");
        return;
    }
    struct store_txn *txn = NULL;
    int err = 0;
    uint32_t changed[64];
    unsigned nchanged = 0;
    for (uint32_t seq = 1; seq <= s->mb->count && !err; seq++) {
        if (!imap_selected(s, &set, seq) || imap_mailbox_msg(s->mb, seq, &mi) != 0)
            continue;
        if (conditional && mi.modseq > since)
            continue;       /* in MODIFIED */
        uint16_t nf = op > 0 ? (uint16_t)(mi.flags | flags) :
                      op < 0 ? (uint16_t)(mi.flags & ~flags) :
                      flags;
        if (nf != mi.flags)
            err = imap_mailbox_set_flags(s->mb, &txn, seq, nf);
        /* .SILENT leaves out FLAGS, not the new MODSEQ a CONDSTORE
         * client must learn (RFC 7162 3.1.3): with CONDSTORE on, the
         * change is reported by the sync like any other (FLAGS and
         * MODSEQ, as the connection has room). */
        if (!err && silent && !s->condstore)
            imap_mailbox_saw_flags(s->mb, seq, nf);
        else if (!err && nf == mi.flags && nchanged < 64)
            changed[nchanged++] = seq;  /* unchanged: still answered with FETCH */
    }
    int cerr = imap_mailbox_commit(s->mb, &txn, err);
    if (!err)
        err = cerr;
    char f[IMAP_FLAGS_TEXT_MAX];
    for (unsigned i = 0; i < nchanged && !err; i++) {
        imap_printf(s, "* %lu FETCH (UID %lu FLAGS (%s)", (unsigned long)changed[i],
                    (unsigned long)s->mb->uids[changed[i] - 1],
                    imap_flags_text(s->mb, s->mb->flags[changed[i] - 1], f, sizeof(f)));
        if (s->condstore && imap_mailbox_msg(s->mb, changed[i], &mi) == 0)
            imap_printf(s, " MODSEQ (%lu)", (unsigned long)mi.modseq);
        imap_out(s, ")\r\n", 3);
    }
    s->allow_expunge = s->send_uid;
    if (err)
        imap_finish(s, "NO %s STORE failed: %s", imap_err_code(err), pb_err_str(err));
    else if (modified[0])
        imap_finish(s, "OK [MODIFIED %s] Conditional STORE failed for those", modified);
    else
        imap_finish(s, "OK STORE completed");
}

/* Append n to a UID list "1:3,7" being built in buf (cap bytes). */
static void imap_uidlist_add(char *buf, size_t cap, uint32_t n, bool *overflow)
{
    size_t len = strlen(buf);
    if (len + 12 >= cap) {
        *overflow = true;
        return;
    }
    snprintf(buf + len, cap - len, "%s%lu", len ? "," : "", (unsigned long)n);
}

static void imap_copy(struct imap_session *s, struct imap_cmd *c, bool move)
{
    struct imap_seqset set;
    char name[STORE_NAME_MAX + 2];
    uint16_t dest;
    if (imap_cmd_sp(c) || imap_cmd_seqset(c, &set) || !imap_arg_mailbox(s, c, name, sizeof(name)) ||
        !imap_args_end(s, c)) {
        if (s->mode == IMAP_MODE_COMMAND && c->err)
            imap_bad(s, "COPY set mailbox");
        return;
    }
    int err = imap_mailbox_find(s->mb, name, &dest);
    if (err) {
        imap_finish(s, "NO [TRYCREATE] No such folder");
        return;
    }
    if (move && s->mb->readonly) {
        imap_finish(s, "NO [READ-ONLY] The folder is read-only");
        return;
    }
    struct store_folder_info fi;
    store_folder_info(s->mb->store, dest, &fi);
    char src[400] = "", dst[400] = "";
    bool overflow = false;
    struct store_txn *txn = NULL;
    unsigned copied = 0;
    for (uint32_t seq = 1; seq <= s->mb->count && !err; seq++) {
        uint32_t uid;
        if (!imap_selected(s, &set, seq))
            continue;
        err = imap_mailbox_copy(s->mb, &txn, seq, dest, &uid);
        if (err == PB_ENOENT) {
            err = 0;                /* expunged meanwhile */
            continue;
        }
        if (!err && move)
            err = imap_mailbox_expunge(s->mb, &txn, seq);
        if (!err) {
            copied++;
            imap_uidlist_add(src, sizeof(src), s->mb->uids[seq - 1], &overflow);
            imap_uidlist_add(dst, sizeof(dst), uid, &overflow);
        }
    }
    int cerr = imap_mailbox_commit(s->mb, &txn, err);
    if (!err)
        err = cerr;
    if (err) {
        imap_finish(s, "NO %s %s failed: %s", imap_err_code(err), move ? "MOVE" : "COPY",
                    pb_err_str(err));
        return;
    }
    char code[900] = "";
    if (copied && !overflow)
        snprintf(code, sizeof(code), "[COPYUID %lu %s %s] ", (unsigned long)fi.uidvalidity, src, dst);
    if (move) {
        /* RFC 6851: COPYUID in an untagged OK before the EXPUNGEs. */
        if (code[0])
            imap_printf(s, "* OK %sMoved\r\n", code);
        imap_finish(s, "OK MOVE completed");
    } else {
        imap_finish(s, "OK %sCOPY completed", code);
    }
}

static void imap_proceed_copy(struct imap_session *s, struct imap_cmd *c)
{
    imap_copy(s, c, false);
}

static void imap_proceed_move(struct imap_session *s, struct imap_cmd *c)
{
    imap_copy(s, c, true);
}
