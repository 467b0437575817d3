/*
 * smtp_cmd.c - parsing one SMTP command line (see smtp_cmd.h).
 *
 * Verbs come from a table of {name, argument rule}.  MAIL and RCPT accept
 * "FROM:<path>" and, as every widely used MTA does, "FROM: <path>" with one
 * space; parameters follow the path, separated by spaces.
 */
#include "smtp_cmd.h"

#include <string.h>

#include "pb_err.h"

enum smtp_cmd_args {
    SMTP_ARGS_NONE,         /* nothing may follow the verb */
    SMTP_ARGS_OPTIONAL,     /* anything may follow (HELP, NOOP) */
    SMTP_ARGS_REQUIRED,     /* something must follow (VRFY, EXPN, AUTH) */
    SMTP_ARGS_DOMAIN,       /* HELO/EHLO */
    SMTP_ARGS_PATH,         /* MAIL/RCPT */
    SMTP_ARGS_BDAT,
};

struct smtp_cmd_verb {
    const char *name;
    enum smtp_verb verb;
    enum smtp_cmd_args args;
};

static const struct smtp_cmd_verb smtp_cmd_verbs[] = {
    { "HELO", SMTP_VERB_HELO, SMTP_ARGS_DOMAIN },
    { "EHLO", SMTP_VERB_EHLO, SMTP_ARGS_DOMAIN },
    { "MAIL", SMTP_VERB_MAIL, SMTP_ARGS_PATH },
    { "RCPT", SMTP_VERB_RCPT, SMTP_ARGS_PATH },
    { "DATA", SMTP_VERB_DATA, SMTP_ARGS_NONE },
    { "BDAT", SMTP_VERB_BDAT, SMTP_ARGS_BDAT },
    { "RSET", SMTP_VERB_RSET, SMTP_ARGS_NONE },
    { "NOOP", SMTP_VERB_NOOP, SMTP_ARGS_OPTIONAL },
    { "QUIT", SMTP_VERB_QUIT, SMTP_ARGS_NONE },
    { "HELP", SMTP_VERB_HELP, SMTP_ARGS_OPTIONAL },
    { "VRFY", SMTP_VERB_VRFY, SMTP_ARGS_REQUIRED },
    { "EXPN", SMTP_VERB_EXPN, SMTP_ARGS_REQUIRED },
    { "STARTTLS", SMTP_VERB_STARTTLS, SMTP_ARGS_NONE },
    { "AUTH", SMTP_VERB_AUTH, SMTP_ARGS_REQUIRED },
};

static const struct smtp_reply smtp_cmd_unknown = { 500, "5.5.1", "Command not recognized" };
static const struct smtp_reply smtp_cmd_bad_chars = { 500, "5.5.2", "Syntax error: control or non-ASCII characters in command" };
static const struct smtp_reply smtp_cmd_no_args = { 501, "5.5.4", "Syntax error: this command takes no arguments" };
static const struct smtp_reply smtp_cmd_need_args = { 501, "5.5.4", "Syntax error: argument missing" };
static const struct smtp_reply smtp_cmd_bad_domain = { 501, "5.5.4", "Syntax error: HELO/EHLO needs your host name or address literal" };
static const struct smtp_reply smtp_cmd_bad_from = { 501, "5.5.4", "Syntax error: use MAIL FROM:<address>" };
static const struct smtp_reply smtp_cmd_bad_to = { 501, "5.5.4", "Syntax error: use RCPT TO:<address>" };
static const struct smtp_reply smtp_cmd_bad_sender = { 553, "5.1.7", "The sender address is not a valid address" };
static const struct smtp_reply smtp_cmd_bad_rcpt = { 553, "5.1.3", "The recipient address is not a valid address" };
static const struct smtp_reply smtp_cmd_long_addr = { 553, "5.1.3", "Address too long" };
static const struct smtp_reply smtp_cmd_utf8_addr = { 553, "5.6.7", "UTF-8 address without SMTPUTF8 on MAIL FROM" };
static const struct smtp_reply smtp_cmd_bad_param = { 555, "5.5.4", "Unsupported or malformed MAIL/RCPT parameter" };
static const struct smtp_reply smtp_cmd_bad_size = { 501, "5.5.4", "Syntax error in SIZE=" };
static const struct smtp_reply smtp_cmd_bad_bdat = { 501, "5.5.4", "Syntax error: use BDAT <size> [LAST]" };

static bool smtp_cmd_ieq(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++) {
        char x = a[i];
        if (x >= 'a' && x <= 'z')
            x = (char)(x - 'a' + 'A');
        if (x != b[i])
            return false;
    }
    return true;
}

/* A decimal count without sign or leading garbage, at most 19 digits. */
static bool smtp_cmd_number(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    if (len == 0 || len > 19)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return true;
}

static int smtp_cmd_fail(struct smtp_reply *err, const struct smtp_reply *r)
{
    *err = *r;
    return PB_EINVAL;
}

/* HELO/EHLO argument: a domain or an address literal; anything after a
 * space (some clients add text) is ignored. */
static int smtp_cmd_domain(struct smtp_cmd *cmd, struct smtp_reply *err)
{
    size_t n = 0;
    while (n < cmd->arg_len && cmd->arg[n] != ' ')
        n++;
    if (n == 0 || n > SMTP_CMD_DOMAIN_MAX)
        return smtp_cmd_fail(err, &smtp_cmd_bad_domain);
    memcpy(cmd->domain, cmd->arg, n);
    cmd->domain[n] = '\0';
    if (cmd->domain[0] == '[') {
        if (cmd->domain[n - 1] != ']' || n < 3)
            return smtp_cmd_fail(err, &smtp_cmd_bad_domain);
        for (size_t i = 1; i + 1 < n; i++)
            if ((unsigned char)cmd->domain[i] < 33 || cmd->domain[i] == '[' || cmd->domain[i] == ']')
                return smtp_cmd_fail(err, &smtp_cmd_bad_domain);
        return 0;
    }
    if (!mail_address_domain_valid(cmd->domain, true))
        return smtp_cmd_fail(err, &smtp_cmd_bad_domain);
    return 0;
}

/* One ESMTP parameter of MAIL or RCPT. */
static int smtp_cmd_param(struct smtp_cmd *cmd, const char *p, size_t len, struct smtp_reply *err)
{
    const char *eq = memchr(p, '=', len);
    size_t klen = eq ? (size_t)(eq - p) : len;
    const char *v = eq ? eq + 1 : NULL;
    size_t vlen = eq ? len - klen - 1 : 0;

    if (cmd->verb == SMTP_VERB_MAIL && smtp_cmd_ieq(p, klen, "SIZE")) {
        if (!v || !smtp_cmd_number(v, vlen, &cmd->size))
            return smtp_cmd_fail(err, &smtp_cmd_bad_size);
        return 0;
    }
    if (cmd->verb == SMTP_VERB_MAIL && smtp_cmd_ieq(p, klen, "BODY") && v) {
        if (smtp_cmd_ieq(v, vlen, "7BIT"))
            cmd->body = SMTP_BODY_7BIT;
        else if (smtp_cmd_ieq(v, vlen, "8BITMIME"))
            cmd->body = SMTP_BODY_8BITMIME;
        else if (smtp_cmd_ieq(v, vlen, "BINARYMIME"))
            cmd->body = SMTP_BODY_BINARYMIME;
        else
            return smtp_cmd_fail(err, &smtp_cmd_bad_param);
        return 0;
    }
    if (cmd->verb == SMTP_VERB_MAIL && smtp_cmd_ieq(p, klen, "SMTPUTF8") && !v) {
        cmd->smtputf8 = true;
        return 0;
    }
    return smtp_cmd_fail(err, &smtp_cmd_bad_param);
}

static int smtp_cmd_path(struct smtp_cmd *cmd, bool utf8_ok, struct smtp_reply *err)
{
    bool mail = cmd->verb == SMTP_VERB_MAIL;
    const char *kw = mail ? "FROM:" : "TO:";
    size_t kwlen = strlen(kw);
    const char *p = cmd->arg;
    size_t left = cmd->arg_len;
    if (left < kwlen || !smtp_cmd_ieq(p, kwlen, kw))
        return smtp_cmd_fail(err, mail ? &smtp_cmd_bad_from : &smtp_cmd_bad_to);
    p += kwlen;
    left -= kwlen;
    if (left > 0 && *p == ' ') {
        p++;
        left--;
    }

    /* Parameters first (SMTPUTF8 decides how the path is read): find the
     * path's end by its closing '>' outside quotes. */
    size_t path_end = 0;
    bool quoted = false;
    for (size_t i = 0; i < left; i++) {
        if (p[i] == '\\' && quoted) {
            i++;
            continue;
        }
        if (p[i] == '"')
            quoted = !quoted;
        else if (p[i] == '>' && !quoted) {
            path_end = i + 1;
            break;
        }
    }
    if (path_end == 0 || p[0] != '<')
        return smtp_cmd_fail(err, mail ? &smtp_cmd_bad_from : &smtp_cmd_bad_to);

    const char *q = p + path_end;
    size_t qleft = left - path_end;
    while (qleft > 0) {
        if (*q != ' ')
            return smtp_cmd_fail(err, &smtp_cmd_bad_param);
        while (qleft > 0 && *q == ' ') {
            q++;
            qleft--;
        }
        size_t n = 0;
        while (n < qleft && q[n] != ' ')
            n++;
        if (n > 0 && smtp_cmd_param(cmd, q, n, err))
            return PB_EINVAL;
        q += n;
        qleft -= n;
    }

    unsigned flags = mail ? MAIL_ADDR_NULL_OK : MAIL_ADDR_BARE_LOCAL;
    if (utf8_ok || cmd->smtputf8)
        flags |= MAIL_ADDR_UTF8;
    size_t used = 0;
    int r = mail_address_parse_path(p, path_end, flags, &cmd->addr, &used);
    if (r == PB_ERANGE)
        return smtp_cmd_fail(err, &smtp_cmd_long_addr);
    if (r != 0 || used != path_end) {
        /* Say why a UTF-8 address failed, if that is why. */
        if (!(flags & MAIL_ADDR_UTF8) &&
            mail_address_parse_path(p, path_end, flags | MAIL_ADDR_UTF8, &cmd->addr, &used) == 0)
            return smtp_cmd_fail(err, &smtp_cmd_utf8_addr);
        return smtp_cmd_fail(err, mail ? &smtp_cmd_bad_sender : &smtp_cmd_bad_rcpt);
    }
    return 0;
}

static int smtp_cmd_bdat(struct smtp_cmd *cmd, struct smtp_reply *err)
{
    const char *sp = memchr(cmd->arg, ' ', cmd->arg_len);
    size_t n = sp ? (size_t)(sp - cmd->arg) : cmd->arg_len;
    if (!smtp_cmd_number(cmd->arg, n, &cmd->chunk))
        return smtp_cmd_fail(err, &smtp_cmd_bad_bdat);
    if (sp) {
        if (!smtp_cmd_ieq(sp + 1, cmd->arg_len - n - 1, "LAST"))
            return smtp_cmd_fail(err, &smtp_cmd_bad_bdat);
        cmd->last = true;
    }
    return 0;
}

int smtp_cmd_parse(const char *line, size_t len, bool utf8_ok, struct smtp_cmd *cmd,
                   struct smtp_reply *err)
{
    memset(cmd, 0, sizeof(*cmd));
    cmd->verb = SMTP_VERB_UNKNOWN;
    /* Commands are ASCII; UTF-8 is allowed only in MAIL/RCPT paths. */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)line[i];
        if (c < 32 && c != '\t')
            return smtp_cmd_fail(err, &smtp_cmd_bad_chars);
    }
    /* Trailing spaces are a common slip of clients: forgiven. */
    while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
        len--;

    size_t vlen = 0;
    while (vlen < len && line[vlen] != ' ')
        vlen++;
    const struct smtp_cmd_verb *v = NULL;
    for (size_t i = 0; i < sizeof(smtp_cmd_verbs) / sizeof(smtp_cmd_verbs[0]); i++)
        if (smtp_cmd_ieq(line, vlen, smtp_cmd_verbs[i].name))
            v = &smtp_cmd_verbs[i];
    if (!v)
        return smtp_cmd_fail(err, &smtp_cmd_unknown);
    cmd->verb = v->verb;
    cmd->arg = line + vlen + (vlen < len ? 1 : 0);
    cmd->arg_len = vlen < len ? len - vlen - 1 : 0;

    if (v->args != SMTP_ARGS_PATH) {
        for (size_t i = 0; i < len; i++)
            if ((unsigned char)line[i] >= 0x80)
                return smtp_cmd_fail(err, &smtp_cmd_bad_chars);
    }
    switch (v->args) {
    case SMTP_ARGS_NONE:
        return cmd->arg_len ? smtp_cmd_fail(err, &smtp_cmd_no_args) : 0;
    case SMTP_ARGS_OPTIONAL:
        return 0;
    case SMTP_ARGS_REQUIRED:
        return cmd->arg_len ? 0 : smtp_cmd_fail(err, &smtp_cmd_need_args);
    case SMTP_ARGS_DOMAIN:
        return smtp_cmd_domain(cmd, err);
    case SMTP_ARGS_PATH:
        return smtp_cmd_path(cmd, utf8_ok, err);
    case SMTP_ARGS_BDAT:
        return smtp_cmd_bdat(cmd, err);
    }
    return smtp_cmd_fail(err, &smtp_cmd_unknown);
}

const char *smtp_cmd_verb_name(enum smtp_verb v)
{
    for (size_t i = 0; i < sizeof(smtp_cmd_verbs) / sizeof(smtp_cmd_verbs[0]); i++)
        if (smtp_cmd_verbs[i].verb == v)
            return smtp_cmd_verbs[i].name;
    return "UNKNOWN";
}
