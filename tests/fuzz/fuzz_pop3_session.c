// fuzz-links: pop3/pop3_session.c accounts/sasl.c
/*
 * fuzz_pop3_session.c - libFuzzer target for a whole POP3 server session
 * over a fake maildrop: arbitrary client bytes, delivered in pieces whose
 * sizes the input picks, with the caller's events (TLS up after STLS, the
 * end of a login delay, pumping with varying room) in between.
 * Invariants: a pump never writes more than the room it was given; the
 * maildrop is read only for messages of the snapshot that are not marked
 * deleted, and only while logged in; a commit happens at most once, only
 * while logged in, and with marks only inside the snapshot; every login
 * that succeeded is logged out exactly once by the end.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pb_err.h"
#include "pop3_session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const msgs[] = {
    "Subject: a\r\n\r\n.dot\r\n..\r\n.\r\nend\r\n",
    "Subject: b\r\nX: y\r\n\r\nl1\r\nl2\r\nl3",
    "\r\n\r\n.\r\n",
};
#define NMSGS 3

static struct pop3_session s;
static int logged_in, logins, logouts, commits, fail_commit, fail_read;
static size_t pump_room, pump_written;
static int pumping;

static void out(void *ctx, const char *p, size_t n)
{
    (void)ctx;
    (void)p;
    if (pumping) {
        pump_written += n;
        if (pump_written > pump_room)
            abort();
    }
    if (n == 0)
        abort();
}

static int be_login(void *ctx, const char *peer, const char *user, const char *pass)
{
    (void)ctx;
    (void)peer;
    if (logged_in || !user[0])
        abort();
    if (strcmp(pass, "busy") == 0)
        return PB_EBUSY;
    if (strcmp(pass, "io") == 0)
        return PB_EIO;
    if (strcmp(pass, "pw") != 0)
        return PB_EPERM;
    logged_in = 1;
    logins++;
    return 0;
}

static int be_count(void *ctx)
{
    (void)ctx;
    if (!logged_in)
        abort();
    return NMSGS;
}

static int be_msg(void *ctx, unsigned i, struct pop3_msg *m)
{
    (void)ctx;
    if (!logged_in)
        abort();
    if (i >= NMSGS)
        return PB_ENOENT;
    *m = (struct pop3_msg){ (uint32_t)strlen(msgs[i]), 10 + i, 1 };
    return 0;
}

static int be_read(void *ctx, unsigned i, uint32_t off, void *buf, size_t len)
{
    (void)ctx;
    if (!logged_in || i >= NMSGS || ((s.deleted[i / 8] >> (i % 8)) & 1u) || len == 0)
        abort();
    if (fail_read)
        return PB_ECORRUPT;
    size_t n = strlen(msgs[i]);
    if (off >= n)
        return 0;
    if (len > n - off)
        len = n - off;
    if (len > 5)
        len = 5;
    memcpy(buf, msgs[i] + off, len);
    return (int)len;
}

static int be_commit(void *ctx, const uint8_t *deleted, unsigned count)
{
    (void)ctx;
    if (!logged_in || commits || count != NMSGS)
        abort();
    for (unsigned i = NMSGS; i < 8; i++)
        if ((deleted[0] >> i) & 1u)
            abort();
    commits++;
    return fail_commit ? PB_EIO : 0;
}

static void be_logout(void *ctx)
{
    (void)ctx;
    if (!logged_in)
        abort();
    logged_in = 0;
    logouts++;
}

static const struct pop3_backend backend = {
    NULL, be_login, be_count, be_msg, be_read, be_commit, be_logout,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct pop3_session_config cfg = {
        .hostname = "mail.example.test", .tls_available = true, .max_deletes = 2,
    };
    if (size < 1)
        return 0;
    uint8_t flags = data[0];
    logged_in = logins = logouts = commits = 0;
    fail_commit = flags & 2;
    fail_read = (flags & 12) == 12;
    pop3_session_init(&s, &cfg, &backend, out, NULL, "192.0.2.1", (flags & 1) ? "TLSv1.3" : NULL);
    size_t pos = 1;
    for (int turns = 0; pos < size && s.state != POP3_STATE_CLOSED && turns < 100000; turns++) {
        uint8_t ctl = data[pos++];
        switch (s.state) {
        case POP3_STATE_SENDING:
            pump_room = POP3_SESSION_PUMP_MIN + ctl;
            pump_written = 0;
            pumping = 1;
            pop3_session_pump(&s, pump_room);
            pumping = 0;
            continue;
        case POP3_STATE_DELAY:
            pop3_session_resume(&s);
            continue;
        case POP3_STATE_STLS:
            pop3_session_tls_started(&s, "TLSv1.2");
            continue;
        default:
            break;
        }
        size_t n = (size_t)(ctl % 64) + 1;
        if (n > size - pos)
            n = size - pos;
        size_t used = pop3_session_input(&s, data + pos, n);
        if (used > n)
            abort();
        pos += used;
    }
    pop3_session_end(&s, "fuzz end");
    if (logged_in || logins != logouts || s.state != POP3_STATE_CLOSED)
        abort();
    return 0;
}
