// fuzz-links: smtp/smtp_session.c smtp/smtp_cmd.c smtp/smtp_data.c mail/address.c mail/date.c accounts/sasl.c mail/utf8.c
/*
 * fuzz_smtp_session.c - libFuzzer target for a whole SMTP server session:
 * arbitrary client bytes, delivered in pieces whose sizes the input picks.
 * Invariants: every reply line is well-formed ("ddd[ -]..." ending CRLF),
 * a message is committed only inside a transaction the session began, and
 * each commit is answered "250 2.0.0 Ok: queued as".  The first byte's
 * high bit picks a submission session (AUTH PLAIN/LOGIN, logins held and
 * resumed, Date:/Message-ID: added to messages); a held session resumes
 * before the next piece, as the server's timer would.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hal_clock.h"
#include "hal_rng.h"
#include "pb_err.h"
#include "smtp_session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The board functions the session uses, deterministic here. */
int64_t hal_clock_wall(void)
{
    return 1795000000;
}

int hal_rng_fill(void *buf, size_t len)
{
    memset(buf, 7, len);
    return 0;
}

static int open_txn, commits, queued_replies;
static char outbuf[1 << 16];
static size_t outlen;

static void check_out(void *ctx, const char *s, size_t n)
{
    (void)ctx;
    /* Every reply is whole lines of "ddd" + ' ' or '-' + text + CRLF. */
    if (n < 6 || s[n - 2] != '\r' || s[n - 1] != '\n')
        abort();
    for (size_t i = 0; i < n;) {
        const char *end = memchr(s + i, '\n', n - i);
        if (!end)
            abort();
        if (end - (s + i) < 5 || s[i] < '2' || s[i] > '5' || (s[i + 3] != ' ' && s[i + 3] != '-'))
            abort();
        if (strncmp(s + i, "250 2.0.0 Ok: queued as", 23) == 0)
            queued_replies++;
        i = (size_t)(end - s) + 1;
    }
    if (outlen + n < sizeof(outbuf)) {
        memcpy(outbuf + outlen, s, n);
        outlen += n;
    }
}

static int be_begin(void *ctx, const struct smtp_envelope *env, struct smtp_reply *r)
{
    (void)ctx;
    (void)r;
    if (open_txn || strlen(env->id) != SMTP_SESSION_ID_LEN)
        abort();
    open_txn = 1;
    return 0;
}

static int be_rcpt(void *ctx, const struct mail_address *a, struct smtp_reply *r)
{
    (void)ctx;
    if (!open_txn)
        abort();
    if (a->local[0] == 'x') {
        *r = (struct smtp_reply){ 550, "5.1.1", "No such user" };
        return PB_ENOENT;
    }
    return 0;
}

static int be_write(void *ctx, const uint8_t *d, size_t n)
{
    (void)ctx;
    (void)d;
    (void)n;
    if (!open_txn)
        abort();
    return 0;
}

static int be_commit(void *ctx)
{
    (void)ctx;
    if (!open_txn)
        abort();
    open_txn = 0;
    commits++;
    return 0;
}

static void be_abort(void *ctx)
{
    (void)ctx;
    open_txn = 0;
}

static int be_auth(void *ctx, const char *peer, const char *user, const char *pass)
{
    (void)ctx;
    (void)peer;
    if (!user[0] || !pass[0])
        abort();        /* the session never asks about an empty login */
    return strcmp(pass, "pw") == 0 ? 0 : user[0] == 'x' ? PB_EBUSY : PB_EPERM;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct smtp_backend be = { NULL, be_begin, be_rcpt, be_write, be_commit, be_abort,
                                            be_auth };
    static const struct smtp_session_config mx = { .hostname = "mx.example.test", .max_size = 5000,
                                                   .tls_available = true };
    static const struct smtp_session_config sub = { .hostname = "mx.example.test", .max_size = 5000,
                                                    .tls_available = true, .submission = true };
    static struct smtp_session s;
    if (size < 1)
        return 0;
    size_t step = data[0] % 64 + 1;
    const struct smtp_session_config *cfgp = data[0] & 0x80 ? &sub : &mx;
    data++;
    size--;
    open_txn = commits = queued_replies = 0;
    outlen = 0;
    smtp_session_init(&s, cfgp, &be, check_out, NULL, "192.0.2.9");
    size_t off = 0;
    while (off < size) {
        size_t n = size - off < step ? size - off : step;
        uint8_t *piece = malloc(n);
        memcpy(piece, data + off, n);
        size_t used = smtp_session_input(&s, piece, n);
        free(piece);
        if (used > n)
            abort();
        if (s.state == SMTP_STATE_HOLD) {
            /* The server's delay is over: the rest of the piece comes again. */
            smtp_session_resume(&s);
            if (s.state == SMTP_STATE_HOLD)
                abort();
            off += used;
            continue;
        }
        if (s.state == SMTP_STATE_STARTTLS) {
            /* What a server does: drop the rest, pretend TLS came up. */
            smtp_session_tls_started(&s, "TLSv1.3", "TLS_AES_128_GCM_SHA256");
            off += n;
            continue;
        }
        if (s.state == SMTP_STATE_CLOSED)
            break;
        if (used < n)
            abort();
        off += n;
    }
    smtp_session_end(&s);
    if (open_txn || commits != queued_replies)
        abort();
    return 0;
}
