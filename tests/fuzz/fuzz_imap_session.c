// fuzz-links: imap/imap_session.c imap/imap_fetch.c imap/imap_mailbox.c imap/imap_cmd.c imap/imap_mutf7.c store/store_check.c store/store_crc.c store/store_gc.c store/store_index.c store/store_log.c store/store_mail.c store/store_rec.c store/store_txn.c mail/mime.c mail/header.c mail/encword.c mail/cte.c mail/charset.c mail/addrlist.c mail/address.c mail/date.c accounts/sasl.c accounts/auth_guard.c mail/utf8.c
/*
 * fuzz_imap_session.c - libFuzzer target for a whole IMAP server session
 * over a real store on a RAM flash: one user (alice@example.test, password
 * "pw") with INBOX, Sent, Trash and Archive and a few messages (plain,
 * multipart with base64, message/rfc822, no body), and arbitrary client
 * bytes delivered in pieces whose sizes the input picks: literals,
 * pipelined commands, IDLE/DONE, APPEND, STARTTLS, with the caller's events
 * (TLS up, the end of a login delay, IDLE polls, pumps with varying room)
 * in between.
 *
 * Every input starts from the same flash image (copied back, then
 * mounted).  Invariants: no sanitizer report; input() never takes more
 * than it was given; a pump makes progress or waits for more room; the
 * session ends with no transaction left open and the store consistent
 * (store_check finds no problem and mounts again).
 *
 * Password hashing is not what is fuzzed here: accounts_user_check and
 * accounts_lower are this file's (the real ones need wolfCrypt and cost a
 * PBKDF2 per try).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "auth_guard.h"
#include "hal_clock.h"
#include "imap_session.h"
#include "pb_err.h"
#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- a RAM NOR flash: program clears bits, erase sets a block ---- */
#define F_BLOCK 4096u
#define F_BLOCKS 48u
static uint8_t flash[F_BLOCKS * F_BLOCK], pristine[F_BLOCKS * F_BLOCK];

static int f_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
    (void)ctx;
    if (addr + len > sizeof(flash))
        return PB_EINVAL;
    memcpy(buf, flash + addr, len);
    return 0;
}

static int f_program(void *ctx, uint64_t addr, const void *buf, size_t len)
{
    (void)ctx;
    const uint8_t *b = buf;
    if (addr + len > sizeof(flash) || addr % 16 || len % 16)
        return PB_EINVAL;
    for (size_t i = 0; i < len; i++)
        if ((flash[addr + i] & b[i]) != b[i])
            return PB_EPERM;
    memcpy(flash + addr, buf, len);
    return 0;
}

static int f_erase(void *ctx, uint64_t addr)
{
    (void)ctx;
    if (addr % F_BLOCK || addr >= sizeof(flash))
        return PB_EINVAL;
    memset(flash + addr, 0xff, F_BLOCK);
    return 0;
}

static int f_sync(void *ctx)
{
    (void)ctx;
    return 0;
}

static const struct hal_flash_ops f_ops = { f_read, f_program, f_erase, f_sync };
static const struct hal_flash f_dev = { &f_ops, NULL, { sizeof(flash), F_BLOCK, 16 } };

static struct store_block blocks[F_BLOCKS];
static uint32_t order[F_BLOCKS];
static struct store_msg msgs[256];
static struct store_blob blobs[256];
static struct store_chunk chunks[512];
static struct store_rec recs[64];
static uint32_t rec_order[64];
static const struct store_mem mem = { blocks, F_BLOCKS, order, msgs, 256, blobs, 256,
                                      chunks, 512, recs, rec_order, 64 };
static struct store st;

/* ---- what imap_mailbox needs from below ---- */
static uint64_t now_ms;

uint64_t hal_clock_ms(void)
{
    return now_ms;
}

int64_t hal_clock_wall(void)
{
    return 1700000000;
}

bool accounts_user_check(struct store *s, const char *addr, const char *password)
{
    (void)s;
    return strcmp(addr, "alice@example.test") == 0 && strcmp(password, "pw") == 0;
}

void accounts_lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s + 32);
}

/* ---- the mailbox every input starts from ---- */
static const char *const seed_msgs[] = {
    "From: Bob <bob@example.test>\r\nTo: alice@example.test\r\nSubject: =?UTF-8?Q?caf=C3=A9?=\r\n"
    "Date: Tue, 1 Aug 2023 10:00:00 +0200\r\nMessage-ID: <1@example.test>\r\n\r\nnoon.\r\n",
    "From: carol@example.test\r\nSubject: report\r\nMIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=XX\r\n\r\npre\r\n--XX\r\nContent-Type: text/plain\r\n\r\n"
    "body text\r\n--XX\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    "c2VjcmV0IHdvcmQ=\r\n--XX\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nhi\r\n--XX--\r\n",
    "Subject: no body",
    "",
};

static int seed_store(void)
{
    struct store_txn *t;
    uint32_t mbox, blob, uid;
    uint16_t f[4];
    static const char *const names[] = { "INBOX", "Sent", "Trash", "Archive" };
    if (store_format(&st, &f_dev, &mem) || store_txn_begin(&st, &t) ||
        store_mailbox_create(t, "alice@example.test", &mbox))
        return -1;
    for (int i = 0; i < 4; i++)
        if (store_folder_create(t, mbox, names[i], &f[i]))
            return -1;
    if (store_txn_commit(t))
        return -1;
    for (size_t i = 0; i < sizeof(seed_msgs) / sizeof(seed_msgs[0]); i++) {
        if (store_txn_begin(&st, &t) || store_blob_begin(t, &blob) ||
            store_blob_write(t, seed_msgs[i], strlen(seed_msgs[i])) || store_blob_end(t) ||
            store_msg_add(t, f[i % 2 ? 0 : (i ? 3 : 0)], blob, i == 1 ? STORE_FLAG_SEEN : 0,
                          1690000000u + (uint32_t)i * 86400u, &uid) ||
            store_txn_commit(t))
            return -1;
    }
    memcpy(pristine, flash, sizeof(flash));
    return 0;
}

/* ---- the session ---- */
static struct imap_session s;
static struct imap_mailbox mb;
static size_t written;

static bool trace;                  /* FUZZ_TRACE set: the replies go to stderr */

static void out(void *ctx, const char *p, size_t n)
{
    (void)ctx;
    if (trace)
        fwrite(p, 1, n, stderr);
    written += n;
}

static const struct imap_session_config cfg = { "mail.example.test", true, 4096, NULL };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        if (seed_store())
            abort();
        ready = 1;
        trace = getenv("FUZZ_TRACE") != NULL;
    }
    if (size < 1 || size > 20000)
        return 0;
    memcpy(flash, pristine, sizeof(flash));
    if (store_mount(&st, &f_dev, &mem))
        abort();
    auth_guard_reset();
    now_ms += 3600u * 1000u;        /* no lockout carried from the last input */
    uint8_t flags = data[0];
    imap_mailbox_init(&mb, &st);
    imap_session_init(&s, &cfg, &mb, out, NULL, "192.0.2.1", (flags & 1) ? "TLSv1.3" : NULL);
    size_t pos = 1, chunk_left = 0;
    int stuck = 0;
    /* The input is a flags byte, then chunks: a control byte (low six
     * bits: the chunk's length less one; bit 7: poll during IDLE) and the
     * bytes.  The caller's events take no input: the room of a pump comes
     * from the last byte read. */
    for (int turns = 0; pos < size && s.mode != IMAP_MODE_CLOSED && turns < 100000; turns++) {
        switch (s.mode) {
        case IMAP_MODE_SENDING: {
            size_t before = written;
            imap_session_pump(&s, IMAP_SESSION_PUMP_MIN + (size_t)data[pos - 1] * 64u);
            /* A pump with at least PUMP_MIN of room writes something or
             * finishes; more than a few in a row that do neither hang. */
            stuck = written == before && s.mode == IMAP_MODE_SENDING ? stuck + 1 : 0;
            if (stuck > 3)
                abort();
            continue;
        }
        case IMAP_MODE_DELAY:
            imap_session_resume(&s);
            continue;
        case IMAP_MODE_STARTTLS:
            imap_session_tls_started(&s, "TLSv1.2");
            continue;
        default:
            break;
        }
        if (chunk_left == 0) {
            uint8_t ctl = data[pos++];
            if (s.mode == IMAP_MODE_IDLE && (ctl & 0x80))
                imap_session_poll(&s);
            chunk_left = (size_t)(ctl % 64) + 1;
            if (pos >= size)
                break;
        }
        size_t n = chunk_left < size - pos ? chunk_left : size - pos;
        size_t used = imap_session_input(&s, data + pos, n);
        if (used > n)
            abort();
        /* What the session left unread is offered again after the event
         * that made it stop (the rest of a chunk, not a new control byte). */
        pos += used;
        chunk_left = used == n ? 0 : chunk_left - used;
        if (used == 0 && s.mode == IMAP_MODE_COMMAND && ++stuck > 3)
            abort();            /* reading commands and taking nothing: a hang */
    }
    /* The replies of the last command go out too. */
    for (int i = 0; i < 10000 && s.mode == IMAP_MODE_SENDING; i++)
        imap_session_pump(&s, IMAP_SESSION_PUMP_MIN);
    if (s.mode == IMAP_MODE_SENDING)
        abort();
    imap_session_end(&s, "fuzz end");
    /* Every transaction is closed again: all slots can be taken. */
    struct store_txn *t[STORE_TXN_MAX];
    for (int i = 0; i < STORE_TXN_MAX; i++)
        if (store_txn_begin(&st, &t[i]))
            abort();
    for (int i = 0; i < STORE_TXN_MAX; i++)
        store_txn_abort(t[i]);
    struct store_check_report rep;
    if (store_check(&st, &rep) != 0)
        abort();
    if (store_mount(&st, &f_dev, &mem))
        abort();
    return 0;
}
