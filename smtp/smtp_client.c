/*
 * smtp_client.c - one SMTP client session, transport-free (see
 * smtp_client.h).
 *
 * Every command goes through one queue of awaited replies: a command is
 * queued, handed out by smtp_client_pull() when its turn comes (all at
 * once with PIPELINING, one per reply without), and its reply is matched
 * against the head of the queue.  The body is not a command: after 354
 * the pump hands it out, then queues the final dot's reply.
 */
#include "smtp_client.h"

#include <stdio.h>
#include <string.h>

#include "pb_err.h"
#include "sasl.h"

static void smtp_client_queue(struct smtp_client *c, enum smtp_client_cmd cmd, int arg);
static void smtp_client_finish(struct smtp_client *c, const char *why);
static void smtp_client_quit(struct smtp_client *c);
static int smtp_client_auth_line(const struct smtp_client *c, int step, char *out, size_t cap);

static const char *const smtp_client_state_names[] = {
    "greeting", "commands", "tls", "body", "done",
};

const char *smtp_client_state_name(enum smtp_client_state st)
{
    return (unsigned)st < sizeof(smtp_client_state_names) / sizeof(smtp_client_state_names[0]) ?
           smtp_client_state_names[st] : "?";
}

/* ------------------------------------------------------------- replies --- */

int smtp_client_reply_line(const char *line, size_t len, int *code, bool *last, const char **text,
                           size_t *tlen)
{
    if (len < 3 || line[0] < '1' || line[0] > '5' || line[1] < '0' || line[1] > '9' ||
        line[2] < '0' || line[2] > '9')
        return PB_ECORRUPT;
    *code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (len == 3) {
        *last = true;
        *text = line + 3;
        *tlen = 0;
        return 0;
    }
    if (line[3] != ' ' && line[3] != '-')
        return PB_ECORRUPT;
    *last = line[3] == ' ';
    *text = line + 4;
    *tlen = len - 4;
    return 0;
}

/* 1 to 3 digits; returns how many, 0 if none. */
static size_t smtp_client_digits(const char *s, size_t len)
{
    size_t n = 0;
    while (n < len && n < 4 && s[n] >= '0' && s[n] <= '9')
        n++;
    return n >= 1 && n <= 3 ? n : 0;
}

size_t smtp_client_reply_enhanced(const char *text, size_t len, int cls, char *enh, size_t cap)
{
    if (len < 5 || text[0] != (char)('0' + cls) || text[1] != '.')
        return 0;
    size_t i = 2, n = smtp_client_digits(text + i, len - i);
    if (!n)
        return 0;
    i += n;
    if (i >= len || text[i] != '.')
        return 0;
    i++;
    if (!(n = smtp_client_digits(text + i, len - i)))
        return 0;
    i += n;
    if (i < len && text[i] != ' ')
        return 0;
    if (i + 1 > cap)
        return 0;
    memcpy(enh, text, i);
    enh[i] = '\0';
    return i < len ? i + 1 : i;
}

/* Keep the first line's code, enhanced code and text (printable ASCII
 * only: it goes to logs and DSNs). */
static void smtp_client_reply_first(struct smtp_client_reply *r, int code, const char *text, size_t tlen)
{
    memset(r, 0, sizeof(*r));
    r->code = code;
    size_t skip = smtp_client_reply_enhanced(text, tlen, code / 100, r->enh, sizeof(r->enh));
    text += skip;
    tlen -= skip;
    size_t n = 0;
    for (size_t i = 0; i < tlen && n + 1 < sizeof(r->text); i++)
        r->text[n++] = (text[i] >= 0x20 && text[i] < 0x7f) ? text[i] : '?';
    r->text[n] = '\0';
}

static bool smtp_client_keyword(const char *text, size_t tlen, const char *kw, const char **arg,
                                size_t *alen)
{
    size_t k = strlen(kw);
    if (tlen < k || (tlen > k && text[k] != ' '))
        return false;
    for (size_t i = 0; i < k; i++) {
        char ch = text[i];
        if (ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 32);
        if (ch != kw[i])
            return false;
    }
    *arg = tlen > k ? text + k + 1 : text + k;
    *alen = tlen > k ? tlen - k - 1 : 0;
    return true;
}

/* An EHLO keyword line (RFC 5321 4.1.1.1). */
static void smtp_client_ehlo_line(struct smtp_client *c, const char *text, size_t tlen)
{
    const char *arg;
    size_t alen;
    if (smtp_client_keyword(text, tlen, "PIPELINING", &arg, &alen))
        c->pipelining = true;
    else if (smtp_client_keyword(text, tlen, "STARTTLS", &arg, &alen))
        c->starttls = true;
    else if (smtp_client_keyword(text, tlen, "8BITMIME", &arg, &alen))
        c->eightbit = true;
    else if (smtp_client_keyword(text, tlen, "SMTPUTF8", &arg, &alen))
        c->smtputf8 = true;
    else if (smtp_client_keyword(text, tlen, "AUTH", &arg, &alen)) {
        /* Mechanisms separated by spaces (RFC 4954 3). */
        for (size_t i = 0; i < alen;) {
            size_t j = i;
            while (j < alen && arg[j] != ' ')
                j++;
            const char *m;
            size_t ml;
            if (smtp_client_keyword(arg + i, j - i, "PLAIN", &m, &ml))
                c->auth_plain = true;
            else if (smtp_client_keyword(arg + i, j - i, "LOGIN", &m, &ml))
                c->auth_login = true;
            i = j + 1;
        }
    } else if (smtp_client_keyword(text, tlen, "SIZE", &arg, &alen)) {
        uint64_t v = 0;
        size_t i = 0;
        for (; i < alen && i < 19 && arg[i] >= '0' && arg[i] <= '9'; i++)
            v = v * 10 + (uint64_t)(arg[i] - '0');
        c->has_size = true;
        c->size_max = i == alen ? v : 0;    /* SIZE without a number (or a bad one): no limit said */
    }
}

/* ------------------------------------------------------------ commands --- */

static void smtp_client_queue(struct smtp_client *c, enum smtp_client_cmd cmd, int arg)
{
    if (c->tail == SMTP_CLIENT_QUEUE) {
        /* Compact: replies already matched free their slots. */
        memmove(c->queue, c->queue + c->head, (size_t)(c->tail - c->head) * sizeof(c->queue[0]));
        c->tail -= c->head;
        c->sent -= c->head;
        c->head = 0;
    }
    c->queue[c->tail].cmd = (uint8_t)cmd;
    c->queue[c->tail].arg = (uint8_t)arg;
    c->tail++;
}

/* Write the text of the next command to hand out into c->out.  Returns
 * false when the next must wait for replies (no PIPELINING, or a command
 * that may not be pipelined is outstanding). */
static bool smtp_client_format(struct smtp_client *c)
{
    if (c->sent == c->tail)
        return false;
    enum smtp_client_cmd cmd = c->queue[c->sent].cmd;
    /* RFC 2920 3.1: only MAIL, RCPT (and RSET) may be followed by more
     * before their reply; DATA, EHLO, STARTTLS, QUIT end a group.  Without
     * PIPELINING every command waits for the reply before it. */
    if (c->sent > c->head) {
        enum smtp_client_cmd prev = c->queue[c->sent - 1].cmd;
        if (!c->pipelining || (prev != SMTP_CLIENT_MAIL && prev != SMTP_CLIENT_RCPT))
            return false;
    }
    int n = 0;
    size_t cap = sizeof(c->out);
    switch (cmd) {
    case SMTP_CLIENT_EHLO:
        n = snprintf(c->out, cap, "EHLO %s\r\n", c->cfg.helo);
        break;
    case SMTP_CLIENT_HELO:
        n = snprintf(c->out, cap, "HELO %s\r\n", c->cfg.helo);
        break;
    case SMTP_CLIENT_STARTTLS:
        n = snprintf(c->out, cap, "STARTTLS\r\n");
        break;
    case SMTP_CLIENT_MAIL: {
        char size[40] = "";
        if (c->has_size)
            snprintf(size, sizeof(size), " SIZE=%lu", (unsigned long)c->cfg.size);
        n = snprintf(c->out, cap, "MAIL FROM:<%.*s>%s%s%s\r\n", (int)c->from_len, c->from, size,
                     c->cfg.body_8bit && c->eightbit ? " BODY=8BITMIME" : "",
                     c->cfg.smtputf8 ? " SMTPUTF8" : "");
        break;
    }
    case SMTP_CLIENT_RCPT: {
        int i = c->queue[c->sent].arg;
        n = snprintf(c->out, cap, "RCPT TO:<%.*s>\r\n", (int)c->rcpt[i].len, c->rcpt[i].addr);
        break;
    }
    case SMTP_CLIENT_DATA:
        n = snprintf(c->out, cap, "DATA\r\n");
        break;
    case SMTP_CLIENT_QUIT:
        n = snprintf(c->out, cap, "QUIT\r\n");
        break;
    case SMTP_CLIENT_AUTH:
        n = smtp_client_auth_line(c, c->queue[c->sent].arg, c->out, cap);
        if (n < 0) {
            smtp_client_finish(c, "the relay host credentials cannot be sent (too long)");
            return false;
        }
        break;
    case SMTP_CLIENT_DOT:
        return false;   /* the body pump wrote it */
    }
    c->out_len = n > 0 && (size_t)n < cap ? (size_t)n : 0;
    c->out_pos = 0;
    c->sent++;
    uint32_t t = cmd == SMTP_CLIENT_DATA ? SMTP_CLIENT_T_DATA :
                 cmd == SMTP_CLIENT_QUIT ? SMTP_CLIENT_T_QUIT : SMTP_CLIENT_T_CMD;
    c->deadline = c->now + t;
    return true;
}

/* The AUTH line of step (PLAIN, LOGIN, LOGIN's user, LOGIN's password)
 * into out, CRLF included; its length or a negative error. */
static int smtp_client_auth_line(const struct smtp_client *c, int step, char *out, size_t cap)
{
    char b64[SMTP_CLIENT_CMD_MAX];
    int n;
    switch (step) {
    case SMTP_CLIENT_AUTH_PLAIN:
        n = sasl_plain_encode(c->cfg.auth_user, c->cfg.auth_pass, b64, sizeof(b64));
        if (n < 0)
            return n;
        n = snprintf(out, cap, "AUTH PLAIN %s\r\n", b64);
        break;
    case SMTP_CLIENT_AUTH_LOGIN:
        n = snprintf(out, cap, "AUTH LOGIN\r\n");
        break;
    default: {
        const char *v = step == SMTP_CLIENT_AUTH_LOGIN_USER ? c->cfg.auth_user : c->cfg.auth_pass;
        n = sasl_base64_encode((const unsigned char *)v, strlen(v), b64, sizeof(b64));
        if (n < 0)
            return n;
        n = snprintf(out, cap, "%s\r\n", b64);
        break;
    }
    }
    memset(b64, 0, sizeof(b64));
    return n;
}

/* ---------------------------------------------------------------- body --- */

/* Body bytes, dot-stuffed (RFC 5321 4.5.2), then the terminator: CRLF if
 * the body did not end with one, and ".CRLF". */
static size_t smtp_client_body(struct smtp_client *c, uint8_t *buf, size_t cap)
{
    size_t n = 0;
    while (n < cap && !c->body_eof) {
        if (c->chunk_pos == c->chunk_len) {
            int r = c->read(c->read_ctx, c->body_off, c->chunk, sizeof(c->chunk));
            if (r < 0) {
                smtp_client_finish(c, "the message could not be read from flash");
                return n;
            }
            if (r == 0) {
                c->body_eof = true;
                break;
            }
            c->chunk_len = (size_t)r;
            c->chunk_pos = 0;
            c->body_off += (uint64_t)r;
        }
        uint8_t ch = c->chunk[c->chunk_pos];
        if (c->bol && ch == '.') {
            if (n + 2 > cap)
                break;
            buf[n++] = '.';
        }
        buf[n++] = ch;
        c->chunk_pos++;
        c->bol = ch == '\n';
        c->last[0] = c->last[1];
        c->last[1] = ch;
    }
    if (c->body_eof && c->state == SMTP_CLIENT_BODY) {
        bool crlf = c->last[0] == '\r' && c->last[1] == '\n';
        size_t need = crlf || c->body_off == 0 ? 3 : 5;
        if (n + need > cap)
            return n;
        if (need == 5) {
            buf[n++] = '\r';
            buf[n++] = '\n';
        }
        memcpy(buf + n, ".\r\n", 3);
        n += 3;
        smtp_client_queue(c, SMTP_CLIENT_DOT, 0);
        c->sent = c->tail;
        c->state = SMTP_CLIENT_COMMANDS;
        c->deadline = c->now + SMTP_CLIENT_T_DOT;
    } else if (n > 0) {
        c->deadline = c->now + SMTP_CLIENT_T_BLOCK;
    }
    return n;
}

size_t smtp_client_pull(struct smtp_client *c, uint8_t *buf, size_t cap, uint64_t now)
{
    size_t n = 0;
    c->now = now;
    while (n < cap && c->state != SMTP_CLIENT_DONE && c->state != SMTP_CLIENT_TLS) {
        if (c->out_pos < c->out_len) {
            size_t k = c->out_len - c->out_pos;
            if (k > cap - n)
                k = cap - n;
            memcpy(buf + n, c->out + c->out_pos, k);
            c->out_pos += k;
            n += k;
            continue;
        }
        if (c->state == SMTP_CLIENT_BODY) {
            n += smtp_client_body(c, buf + n, cap - n);
            break;
        }
        if (!smtp_client_format(c))
            break;
    }
    return n;
}

/* ------------------------------------------------------------ outcomes --- */

/* Copy a string, clipped to cap (NUL included). */
static void smtp_client_copy(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void smtp_client_set(struct smtp_client_reply *r, int code, const char *enh, const char *text)
{
    r->code = code;
    smtp_client_copy(r->enh, sizeof(r->enh), enh);
    smtp_client_copy(r->text, sizeof(r->text), text);
}

/* Recipients without an answer get r (a refusal before or at MAIL, or
 * after DATA). */
static void smtp_client_answer_all(struct smtp_client *c, const struct smtp_client_reply *r,
                                   bool accepted_only)
{
    for (int i = 0; i < c->nrcpt; i++)
        if (accepted_only ? c->rcpt[i].accepted : c->rcpt[i].reply.code == 0)
            c->rcpt[i].reply = *r;
}

/* The session ends without a QUIT (the connection is unusable). */
static void smtp_client_finish(struct smtp_client *c, const char *why)
{
    if (c->state == SMTP_CLIENT_DONE)
        return;
    if (why && !c->error[0])
        smtp_client_copy(c->error, sizeof(c->error), why);
    /* Once the body went out, an unanswered dot may or may not have been
     * taken: the recipients get a temporary failure and are tried again
     * (the duplicate RFC 1047 describes, the lesser evil than a loss). */
    if (c->mail_ok && c->accepted && !c->final) {
        struct smtp_client_reply r;
        smtp_client_set(&r, 451, "4.4.2", c->error);
        smtp_client_answer_all(c, &r, true);
    }
    c->state = SMTP_CLIENT_DONE;
}

static void smtp_client_quit(struct smtp_client *c)
{
    c->state = SMTP_CLIENT_COMMANDS;
    c->head = c->sent = c->tail = 0;
    smtp_client_queue(c, SMTP_CLIENT_QUIT, 0);
}

/* Refuse the whole message here, with a reason of our own, and QUIT. */
static void smtp_client_refuse(struct smtp_client *c, int code, const char *enh, const char *text)
{
    struct smtp_client_reply r;
    smtp_client_set(&r, code, enh, text);
    smtp_client_answer_all(c, &r, false);
    snprintf(c->error, sizeof(c->error), "%d %s %s", code, enh, text);
    smtp_client_quit(c);
}

/* EHLO/HELO done (and TLS if any): the transaction. */
static void smtp_client_transaction(struct smtp_client *c)
{
    if (c->cfg.tls_required && !c->tls) {
        smtp_client_quit(c);
        snprintf(c->error, sizeof(c->error), "TLS is required and the server does not offer STARTTLS");
        return;
    }
    if (c->cfg.auth_user && !c->authenticated) {
        if (!c->tls) {
            smtp_client_quit(c);
            snprintf(c->error, sizeof(c->error), "AUTH is never sent without TLS");
        } else if (c->auth_plain) {
            smtp_client_queue(c, SMTP_CLIENT_AUTH, SMTP_CLIENT_AUTH_PLAIN);
        } else if (c->auth_login) {
            smtp_client_queue(c, SMTP_CLIENT_AUTH, SMTP_CLIENT_AUTH_LOGIN);
        } else {
            smtp_client_quit(c);
            snprintf(c->error, sizeof(c->error), "the server offers neither AUTH PLAIN nor AUTH LOGIN");
        }
        return;
    }
    if (c->cfg.body_8bit && !c->eightbit) {
        smtp_client_refuse(c, 554, "5.6.3", "The message has 8-bit content and the receiving server "
                           "does not accept 8BITMIME; it was not converted");
        return;
    }
    if (c->cfg.smtputf8 && !c->smtputf8) {
        smtp_client_refuse(c, 553, "5.6.7", "The addresses need SMTPUTF8 and the receiving server "
                           "does not support it");
        return;
    }
    if (c->has_size && c->size_max && c->cfg.size > c->size_max) {
        smtp_client_refuse(c, 552, "5.3.4", "The message is larger than the receiving server accepts");
        return;
    }
    smtp_client_queue(c, SMTP_CLIENT_MAIL, 0);
    if (c->pipelining) {
        for (int i = 0; i < c->nrcpt; i++)
            smtp_client_queue(c, SMTP_CLIENT_RCPT, i);
        smtp_client_queue(c, SMTP_CLIENT_DATA, 0);
    }
}

/* One complete reply, for the command at the head of the queue. */
static void smtp_client_reply(struct smtp_client *c)
{
    struct smtp_client_reply *r = &c->reply;
    bool ok = r->code >= 200 && r->code < 300;
    c->last_reply = *r;
    if (c->state == SMTP_CLIENT_GREETING) {
        if (r->code != 220) {
            snprintf(c->error, sizeof(c->error), "greeting: %d %s %s", r->code, r->enh, r->text);
            smtp_client_quit(c);
            return;
        }
        c->state = SMTP_CLIENT_COMMANDS;
        smtp_client_queue(c, SMTP_CLIENT_EHLO, 0);
        return;
    }
    if (c->head == c->sent) {
        smtp_client_finish(c, "the server replied to nothing we sent");
        return;
    }
    enum smtp_client_cmd cmd = c->queue[c->head].cmd;
    int arg = c->queue[c->head].arg;
    c->head++;
    switch (cmd) {
    case SMTP_CLIENT_EHLO:
        if (ok) {
            c->esmtp = true;
            if (c->starttls && c->cfg.tls_available && !c->tls)
                smtp_client_queue(c, SMTP_CLIENT_STARTTLS, 0);
            else
                smtp_client_transaction(c);
        } else if (r->code >= 500) {
            smtp_client_queue(c, SMTP_CLIENT_HELO, 0);
        } else {
            snprintf(c->error, sizeof(c->error), "EHLO: %d %s %s", r->code, r->enh, r->text);
            smtp_client_quit(c);
        }
        break;
    case SMTP_CLIENT_HELO:
        if (ok)
            smtp_client_transaction(c);
        else {
            snprintf(c->error, sizeof(c->error), "HELO: %d %s %s", r->code, r->enh, r->text);
            smtp_client_quit(c);
        }
        break;
    case SMTP_CLIENT_STARTTLS:
        if (r->code == 220) {
            c->state = SMTP_CLIENT_TLS;
        } else if (c->cfg.tls_required) {
            snprintf(c->error, sizeof(c->error), "STARTTLS refused: %d %s %s", r->code, r->enh, r->text);
            smtp_client_quit(c);
        } else {
            smtp_client_transaction(c);     /* opportunistic: carry on in plaintext */
        }
        break;
    case SMTP_CLIENT_MAIL:
        c->mail_ok = ok;
        if (!ok) {
            snprintf(c->error, sizeof(c->error), "MAIL: %d %s %s", r->code, r->enh, r->text);
            smtp_client_answer_all(c, r, false);
            if (!c->pipelining)
                smtp_client_quit(c);
        } else if (!c->pipelining) {
            smtp_client_queue(c, SMTP_CLIENT_RCPT, 0);
        }
        break;
    case SMTP_CLIENT_RCPT:
        if (c->mail_ok) {
            c->rcpt[arg].reply = *r;
            c->rcpt[arg].accepted = ok;
            c->accepted += ok;
        }
        if (!c->pipelining) {
            if (arg + 1 < c->nrcpt)
                smtp_client_queue(c, SMTP_CLIENT_RCPT, arg + 1);
            else if (c->accepted)
                smtp_client_queue(c, SMTP_CLIENT_DATA, 0);
            else
                smtp_client_quit(c);
        }
        break;
    case SMTP_CLIENT_DATA:
        if (r->code == 354 && c->mail_ok && c->accepted) {
            c->state = SMTP_CLIENT_BODY;
            c->bol = true;
            c->deadline = c->now + SMTP_CLIENT_T_BLOCK;
        } else if (r->code == 354) {
            /* A pipelined DATA the server took though no RCPT was: an
             * empty message it cannot deliver to anyone (RFC 2920 3.1). */
            c->body_eof = true;
            c->state = SMTP_CLIENT_BODY;
        } else {
            if (c->mail_ok)
                smtp_client_answer_all(c, r, true);
            smtp_client_quit(c);
        }
        break;
    case SMTP_CLIENT_DOT:
        if (c->mail_ok && c->accepted) {
            smtp_client_answer_all(c, r, true);
            c->final = true;
        }
        smtp_client_quit(c);
        break;
    case SMTP_CLIENT_QUIT:
        c->state = SMTP_CLIENT_DONE;
        break;
    case SMTP_CLIENT_AUTH:
        if (r->code == 235) {
            c->authenticated = true;
            smtp_client_transaction(c);
        } else if (r->code == 334 && arg != SMTP_CLIENT_AUTH_PLAIN && arg != SMTP_CLIENT_AUTH_LOGIN_PASS) {
            smtp_client_queue(c, SMTP_CLIENT_AUTH, arg + 1);
        } else {
            snprintf(c->error, sizeof(c->error), "AUTH: %d %s %s", r->code, r->enh, r->text);
            smtp_client_quit(c);
        }
        break;
    }
}

/* -------------------------------------------------------------- input --- */

static void smtp_client_line(struct smtp_client *c)
{
    int code;
    bool last;
    const char *text;
    size_t tlen;
    size_t len = c->line_len;
    if (len && c->line[len - 1] == '\r')
        len--;
    if (smtp_client_reply_line(c->line, len, &code, &last, &text, &tlen) != 0) {
        smtp_client_finish(c, "the server sent a line that is not an SMTP reply");
        return;
    }
    if (!c->in_reply) {
        smtp_client_reply_first(&c->reply, code, text, tlen);
        c->in_reply = true;
    } else if (code != c->reply.code) {
        smtp_client_finish(c, "the server changed the code within a multi-line reply");
        return;
    } else if (c->head < c->sent && c->queue[c->head].cmd == SMTP_CLIENT_EHLO && code == 250) {
        smtp_client_ehlo_line(c, text, tlen);
    }
    if (last) {
        c->in_reply = false;
        smtp_client_reply(c);
    }
}

size_t smtp_client_input(struct smtp_client *c, const uint8_t *data, size_t len, uint64_t now)
{
    size_t i = 0;
    c->now = now;
    /* A new EHLO reply replaces what the server offered (after STARTTLS
     * the list may differ). */
    while (i < len && c->state != SMTP_CLIENT_DONE && c->state != SMTP_CLIENT_TLS &&
           c->state != SMTP_CLIENT_BODY) {
        uint8_t ch = data[i++];
        if (ch == '\n') {
            c->line[c->line_len] = '\0';
            if (!c->in_reply && c->head < c->sent && c->queue[c->head].cmd == SMTP_CLIENT_EHLO) {
                c->pipelining = c->starttls = c->eightbit = c->smtputf8 = c->has_size = false;
                c->auth_plain = c->auth_login = false;
                c->size_max = 0;
            }
            smtp_client_line(c);
            c->line_len = 0;
            continue;
        }
        if (c->line_len + 1 >= sizeof(c->line)) {
            smtp_client_finish(c, "the server sent a reply line over 512 octets");
            break;
        }
        c->line[c->line_len++] = (char)ch;
    }
    /* During the body the server has nothing to say; whatever it says
     * (an early error) is read after the dot. */
    return i;
}

/* ----------------------------------------------------------- lifecycle --- */

void smtp_client_init(struct smtp_client *c, const struct smtp_client_config *cfg, const char *from,
                      size_t from_len, smtp_client_read_fn read, void *read_ctx, uint64_t now)
{
    memset(c, 0, sizeof(*c));
    c->cfg = *cfg;
    c->from = from;
    c->from_len = from_len;
    c->read = read;
    c->read_ctx = read_ctx;
    c->state = SMTP_CLIENT_GREETING;
    c->tls = cfg->tls_implicit;
    c->now = now;
    c->deadline = now + SMTP_CLIENT_T_GREETING;
}

int smtp_client_add_rcpt(struct smtp_client *c, const char *addr, size_t len)
{
    if (c->nrcpt == SMTP_CLIENT_RCPTS)
        return PB_ERANGE;
    c->rcpt[c->nrcpt].addr = addr;
    c->rcpt[c->nrcpt].len = (uint16_t)len;
    c->nrcpt++;
    return 0;
}

void smtp_client_tls_started(struct smtp_client *c, const char *version, uint64_t now)
{
    if (c->state != SMTP_CLIENT_TLS)
        return;
    c->now = now;
    c->tls = true;
    smtp_client_copy(c->tls_version, sizeof(c->tls_version), version ? version : "TLS");
    c->esmtp = false;
    c->line_len = 0;
    c->in_reply = false;
    c->state = SMTP_CLIENT_COMMANDS;
    c->head = c->sent = c->tail = 0;
    smtp_client_queue(c, SMTP_CLIENT_EHLO, 0);
}

void smtp_client_tls_failed(struct smtp_client *c)
{
    smtp_client_finish(c, "the TLS handshake failed");
}

void smtp_client_tick(struct smtp_client *c, uint64_t now)
{
    c->now = now;
    if (c->state == SMTP_CLIENT_DONE || now < c->deadline)
        return;
    char why[64];
    snprintf(why, sizeof(why), "timed out (%s)", smtp_client_state_name(c->state));
    smtp_client_finish(c, why);
}

void smtp_client_conn_lost(struct smtp_client *c, const char *why)
{
    /* After QUIT went out, a close is the normal end. */
    if (c->head < c->sent && c->queue[c->head].cmd == SMTP_CLIENT_QUIT) {
        c->state = SMTP_CLIENT_DONE;
        return;
    }
    smtp_client_finish(c, why ? why : "the connection was lost");
}

bool smtp_client_final(struct smtp_client *c)
{
    if (!c->final || c->final_seen)
        return false;
    c->final_seen = true;
    return true;
}

bool smtp_client_reusable(const struct smtp_client *c)
{
    return c->final_seen && c->state == SMTP_CLIENT_COMMANDS && c->sent == c->head &&
           c->tail == c->head + 1 && c->queue[c->head].cmd == SMTP_CLIENT_QUIT;
}

int smtp_client_next(struct smtp_client *c, const struct smtp_client_config *msg, const char *from,
                     size_t from_len, uint64_t now)
{
    if (!smtp_client_reusable(c))
        return PB_EINVAL;
    c->cfg.body_8bit = msg->body_8bit;
    c->cfg.smtputf8 = msg->smtputf8;
    c->cfg.size = msg->size;
    c->from = from;
    c->from_len = from_len;
    c->nrcpt = 0;
    memset(c->rcpt, 0, sizeof(c->rcpt));
    c->head = c->sent = c->tail = 0;
    c->out_len = c->out_pos = 0;
    c->mail_ok = false;
    c->accepted = 0;
    c->final = c->final_seen = false;
    c->body_off = 0;
    c->chunk_len = c->chunk_pos = 0;
    c->bol = true;
    c->last[0] = c->last[1] = 0;
    c->body_eof = false;
    c->error[0] = '\0';
    c->now = now;
    c->deadline = now + SMTP_CLIENT_T_CMD;
    return 0;
}

void smtp_client_begin(struct smtp_client *c)
{
    if (c->state == SMTP_CLIENT_COMMANDS && c->head == c->tail)
        smtp_client_transaction(c);
}

bool smtp_client_answered(const struct smtp_client *c)
{
    for (int i = 0; i < c->nrcpt; i++)
        if (c->rcpt[i].reply.code)
            return true;
    return false;
}
