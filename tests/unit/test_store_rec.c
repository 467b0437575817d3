/*
 * test_store_rec.c - the store's named records on the sim flash: put,
 * replace, delete, read committed state only, iterate in byte order, a full
 * RAM table, GC moving records and tombstones, remount, bit flips, and
 * records that keep a blob alive (queue entries and their message body).
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sim_flash.h"
#include "store.h"

#define NBLOCKS 64
#define NRECS   256
static struct store_block blocks[NBLOCKS];
static uint32_t order[NBLOCKS];
static struct store_msg msgs[64];
static struct store_blob blobs[64];
static struct store_chunk chunks[256];
static struct store_rec recs[NRECS];
static uint32_t rec_order[NRECS];
static struct store_mem mem = {
    blocks, NBLOCKS, order, msgs, 64, blobs, 64, chunks, 256, recs, rec_order, NRECS,
};
static struct store st;
static struct sim_flash fl;
static char path[256];

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof(path), "build/test/store-rec-%d.img", (int)getpid());
    unlink(path);
    mem.max_recs = NRECS;
    assert_int_equal(sim_flash_open(&fl, path, 256 * 1024, 4096, 16, 0), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sim_flash_close(&fl);
    unlink(path);
    return 0;
}

static void check(void)
{
    struct store_check_report r;
    int problems = store_check(&st, &r);
    if (problems)
        fail_msg("check: %d problems, first: %s", problems, r.first);
}

static void remount(void)
{
    assert_int_equal(store_mount(&st, &fl.dev, &mem), 0);
    check();
}

static int put1(enum store_ns ns, const char *name, const char *value)
{
    struct store_txn *t;
    int err = store_txn_begin(&st, &t);
    if (err)
        return err;
    if ((err = store_rec_put(t, ns, name, value, strlen(value)))) {
        store_txn_abort(t);
        return err;
    }
    return store_txn_commit(t);
}

static int del1(enum store_ns ns, const char *name)
{
    struct store_txn *t;
    int err = store_txn_begin(&st, &t);
    if (err)
        return err;
    if ((err = store_rec_del(t, ns, name))) {
        store_txn_abort(t);
        return err;
    }
    return store_txn_commit(t);
}

static void expect_rec(enum store_ns ns, const char *name, const char *value)
{
    char buf[STORE_REC_VALUE_MAX];
    int n = store_rec_get(&st, ns, name, buf, sizeof(buf));
    if (!value) {
        assert_int_equal(n, PB_ENOENT);
        return;
    }
    assert_int_equal(n, (int)strlen(value));
    assert_memory_equal(buf, value, (size_t)n);
}

static void test_put_get_replace_delete_remount(void **state)
{
    (void)state;
    remount();
    expect_rec(STORE_NS_USER, "alice@example.test", NULL);
    assert_int_equal(put1(STORE_NS_USER, "alice@example.test", "verifier-1"), 0);
    assert_int_equal(put1(STORE_NS_DOMAIN, "example.test", ""), 0);
    assert_int_equal(put1(STORE_NS_ALIAS, "postmaster@example.test", "alice@example.test"), 0);
    /* The same name in another namespace is another record. */
    assert_int_equal(put1(STORE_NS_ALIAS, "alice@example.test", "bob@example.test"), 0);
    expect_rec(STORE_NS_USER, "alice@example.test", "verifier-1");
    expect_rec(STORE_NS_DOMAIN, "example.test", "");
    assert_int_equal(put1(STORE_NS_USER, "alice@example.test", "verifier-2, longer"), 0);
    remount();
    expect_rec(STORE_NS_USER, "alice@example.test", "verifier-2, longer");
    expect_rec(STORE_NS_ALIAS, "alice@example.test", "bob@example.test");
    char small[4];
    assert_int_equal(store_rec_get(&st, STORE_NS_USER, "alice@example.test", small, sizeof(small)),
                     PB_ERANGE);
    assert_int_equal(del1(STORE_NS_ALIAS, "alice@example.test"), 0);
    assert_int_equal(del1(STORE_NS_ALIAS, "alice@example.test"), PB_ENOENT);
    assert_int_equal(del1(STORE_NS_QUEUE, "nothing"), PB_ENOENT);
    remount();
    expect_rec(STORE_NS_ALIAS, "alice@example.test", NULL);
    expect_rec(STORE_NS_USER, "alice@example.test", "verifier-2, longer");
    expect_rec(STORE_NS_ALIAS, "postmaster@example.test", "alice@example.test");
    struct store_stats s;
    store_stats(&st, &s);
    assert_int_equal(s.records, 3);
}

static void test_limits_and_invalid_arguments(void **state)
{
    (void)state;
    remount();
    char name[STORE_REC_NAME_MAX + 2];
    uint8_t value[STORE_REC_VALUE_MAX + 1], back[STORE_REC_VALUE_MAX];
    memset(name, 'n', sizeof(name));
    name[STORE_REC_NAME_MAX] = '\0';
    for (size_t i = 0; i < sizeof(value); i++)
        value[i] = (uint8_t)(i * 13 + 1);
    struct store_txn *t;
    assert_int_equal(store_txn_begin(&st, &t), 0);
    assert_int_equal(store_rec_put(t, STORE_NS_QUEUE, name, value, STORE_REC_VALUE_MAX), 0);
    assert_int_equal(store_rec_put(t, STORE_NS_QUEUE, name, value, STORE_REC_VALUE_MAX + 1), PB_EINVAL);
    assert_int_equal(store_rec_put(t, STORE_NS_QUEUE, "", value, 1), PB_EINVAL);
    assert_int_equal(store_rec_put(t, (enum store_ns)0, "x", value, 1), PB_EINVAL);
    assert_int_equal(store_rec_put(t, (enum store_ns)(STORE_NS_LAST + 1), "x", value, 1), PB_EINVAL);
    assert_int_equal(store_rec_del(t, (enum store_ns)9, "x"), PB_EINVAL);
    name[STORE_REC_NAME_MAX] = 'n';
    name[STORE_REC_NAME_MAX + 1] = '\0';
    assert_int_equal(store_rec_put(t, STORE_NS_QUEUE, name, value, 1), PB_EINVAL);
    name[STORE_REC_NAME_MAX] = '\0';
    /* Four records of the largest size fit one transaction; a fifth does not. */
    assert_int_equal(store_rec_put(t, STORE_NS_USER, name, value, STORE_REC_VALUE_MAX), 0);
    assert_int_equal(store_rec_put(t, STORE_NS_ALIAS, name, value, STORE_REC_VALUE_MAX), 0);
    assert_int_equal(store_rec_put(t, STORE_NS_DOMAIN, name, value, STORE_REC_VALUE_MAX), 0);
    name[0] = 'm';
    assert_int_equal(store_rec_put(t, STORE_NS_ALIAS, name, value, STORE_REC_VALUE_MAX), PB_ENOMEM);
    assert_int_equal(store_txn_commit(t), 0);
    remount();
    assert_int_equal(store_rec_get(&st, STORE_NS_ALIAS, name, back, sizeof(back)), PB_ENOENT);
    name[0] = 'n';
    assert_int_equal(store_rec_get(&st, STORE_NS_QUEUE, name, back, sizeof(back)), STORE_REC_VALUE_MAX);
    assert_memory_equal(back, value, STORE_REC_VALUE_MAX);
    assert_int_equal(store_rec_get(&st, STORE_NS_USER, name, back, sizeof(back)), STORE_REC_VALUE_MAX);
    assert_int_equal(store_rec_get(&st, STORE_NS_ALIAS, name, back, sizeof(back)), STORE_REC_VALUE_MAX);
    char it[STORE_REC_NAME_MAX + 1];
    assert_int_equal(store_rec_next(&st, STORE_NS_QUEUE, "", it, sizeof(it)), STORE_REC_NAME_MAX);
    assert_string_equal(it, name);
    assert_int_equal(store_rec_next(&st, STORE_NS_QUEUE, "", it, STORE_REC_NAME_MAX), PB_ERANGE);
}

static void test_reads_see_only_committed_state(void **state)
{
    (void)state;
    remount();
    assert_int_equal(put1(STORE_NS_USER, "a", "old"), 0);
    struct store_txn *t;
    assert_int_equal(store_txn_begin(&st, &t), 0);
    assert_int_equal(store_rec_put(t, STORE_NS_USER, "a", "new", 3), 0);
    assert_int_equal(store_rec_put(t, STORE_NS_USER, "b", "b1", 2), 0);
    expect_rec(STORE_NS_USER, "a", "old");
    expect_rec(STORE_NS_USER, "b", NULL);
    char n[8];
    assert_int_equal(store_rec_next(&st, STORE_NS_USER, "a", n, sizeof(n)), PB_ENOENT);
    store_txn_abort(t);
    expect_rec(STORE_NS_USER, "a", "old");
    expect_rec(STORE_NS_USER, "b", NULL);
    /* Within one transaction the last change of a name wins. */
    assert_int_equal(store_txn_begin(&st, &t), 0);
    assert_int_equal(store_rec_put(t, STORE_NS_USER, "c", "c1", 2), 0);
    assert_int_equal(store_rec_put(t, STORE_NS_USER, "c", "c2", 2), 0);
    assert_int_equal(store_rec_del(t, STORE_NS_USER, "a"), 0);
    assert_int_equal(store_rec_del(t, STORE_NS_USER, "a"), PB_ENOENT);
    assert_int_equal(store_rec_put(t, STORE_NS_USER, "d", "d1", 2), 0);
    assert_int_equal(store_rec_del(t, STORE_NS_USER, "d"), 0);
    assert_int_equal(store_rec_put(t, STORE_NS_USER, "e", "e1", 2), 0);
    assert_int_equal(store_txn_commit(t), 0);
    expect_rec(STORE_NS_USER, "a", NULL);
    expect_rec(STORE_NS_USER, "c", "c2");
    expect_rec(STORE_NS_USER, "d", NULL);
    assert_int_equal(store_txn_begin(&st, &t), 0);
    assert_int_equal(store_rec_del(t, STORE_NS_USER, "e"), 0);
    assert_int_equal(store_rec_put(t, STORE_NS_USER, "e", "e2", 2), 0);
    assert_int_equal(store_txn_commit(t), 0);
    remount();
    expect_rec(STORE_NS_USER, "a", NULL);
    expect_rec(STORE_NS_USER, "c", "c2");
    expect_rec(STORE_NS_USER, "d", NULL);
    expect_rec(STORE_NS_USER, "e", "e2");
}

static void test_iteration_in_byte_order(void **state)
{
    (void)state;
    remount();
    const char *names[] = { "b", "a", "ab", "\xc3\xa9t\xc3\xa9", "aa", "B", "a\x7f", "zz" };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        assert_int_equal(put1(STORE_NS_DOMAIN, names[i], "v"), 0);
    assert_int_equal(put1(STORE_NS_USER, "0", "v"), 0);
    assert_int_equal(put1(STORE_NS_ALIAS, "zzz", "v"), 0);
    const char *sorted[] = { "B", "a", "aa", "ab", "a\x7f", "b", "zz", "\xc3\xa9t\xc3\xa9" };
    for (int pass = 0; pass < 2; pass++) {
        char name[STORE_REC_NAME_MAX + 1] = "";
        for (size_t i = 0; i < sizeof(sorted) / sizeof(sorted[0]); i++) {
            char prev[STORE_REC_NAME_MAX + 1];
            strcpy(prev, name);
            int n = store_rec_next(&st, STORE_NS_DOMAIN, prev, name, sizeof(name));
            assert_int_equal(n, (int)strlen(sorted[i]));
            assert_string_equal(name, sorted[i]);
        }
        assert_int_equal(store_rec_next(&st, STORE_NS_DOMAIN, name, name, sizeof(name)), PB_ENOENT);
        /* "after" need not be a name that exists. */
        assert_int_equal(store_rec_next(&st, STORE_NS_DOMAIN, "a\x01", name, sizeof(name)), 2);
        assert_string_equal(name, "aa");
        assert_int_equal(store_rec_next(&st, STORE_NS_QUEUE, "", name, sizeof(name)), PB_ENOENT);
        remount();
    }
}

static void test_full_table_is_enomem_before_writing(void **state)
{
    (void)state;
    mem.max_recs = 8;
    remount();
    char name[16];
    for (int i = 0; i < 8; i++) {
        snprintf(name, sizeof(name), "u%d", i);
        assert_int_equal(put1(STORE_NS_USER, name, "x"), 0);
    }
    struct store_stats before, after;
    store_stats(&st, &before);
    assert_int_equal(put1(STORE_NS_USER, "one-more", "x"), PB_ENOMEM);
    store_stats(&st, &after);
    assert_int_equal(after.bytes_programmed, before.bytes_programmed);
    /* Replacing and deleting still work; then there is room again. */
    assert_int_equal(put1(STORE_NS_USER, "u3", "replaced"), 0);
    assert_int_equal(del1(STORE_NS_USER, "u5"), 0);
    assert_int_equal(put1(STORE_NS_USER, "one-more", "x"), 0);
    check();
    /* A flash holding more records than the table: mount says so. */
    mem.max_recs = 4;
    assert_int_equal(store_mount(&st, &fl.dev, &mem), PB_ENOMEM);
    mem.max_recs = 8;
    remount();
    expect_rec(STORE_NS_USER, "u3", "replaced");
    expect_rec(STORE_NS_USER, "u5", NULL);
}

/* Churn through a small flash many times over; GC must move the live
 * records and keep deleted ones deleted, also across remounts. */
static void test_gc_moves_records_and_tombstones(void **state)
{
    (void)state;
    remount();
    static char model[40][64];
    static int alive[40];
    memset(alive, 0, sizeof(alive));
    uint32_t rng = 12345;
    char name[32], value[400];
    for (int step = 0; step < 3000; step++) {
        rng = rng * 1103515245u + 12345u;
        int k = (int)((rng >> 8) % 40);
        snprintf(name, sizeof(name), "user%02d@example.test", k);
        int err;
        if (alive[k] && (rng >> 20) % 3 == 0) {
            err = del1(STORE_NS_USER, name);
            if (err == 0)
                alive[k] = 0;
        } else {
            size_t len = 20 + (rng >> 4) % 300;
            int h = snprintf(value, sizeof(value), "%d:%d:", step, k);
            memset(value + h, 'a' + step % 26, len - (size_t)h);
            value[len] = '\0';
            err = put1(STORE_NS_USER, name, value);
            if (err == 0) {
                alive[k] = 1;
                snprintf(model[k], sizeof(model[k]), "%.63s", value);
            }
        }
        while (err == PB_ENOSPC) {
            assert_int_equal(store_gc_step(&st, 1), 1);
            err = 0;
        }
        assert_int_equal(err, 0);
        while (store_gc_step(&st, 0) > 0)
            ;
        if (step % 500 == 499)
            remount();
    }
    struct store_stats s;
    store_stats(&st, &s);
    assert_true(s.erase_mean >= 2);     /* the flash was rewritten */
    remount();
    char buf[STORE_REC_VALUE_MAX];
    int count = 0;
    for (int k = 0; k < 40; k++) {
        snprintf(name, sizeof(name), "user%02d@example.test", k);
        int n = store_rec_get(&st, STORE_NS_USER, name, buf, sizeof(buf));
        if (!alive[k]) {
            assert_int_equal(n, PB_ENOENT);
            continue;
        }
        count++;
        assert_true(n >= (int)strlen(model[k]));
        assert_memory_equal(buf, model[k], strlen(model[k]));
    }
    store_stats(&st, &s);
    assert_int_equal(s.records, (uint32_t)count);
}

/* Queue entries come and go; each delete leaves a tombstone that must stay
 * while an older block (here the settings') might still hold the entry.
 * With room to spare, GC must settle: it once copied a block of such
 * tombstones to the head to free it, which made another block of them,
 * and the store rewrote them for ever while idle. */
static void test_gc_settles_on_tombstones(void **state)
{
    (void)state;
    remount();
    assert_int_equal(put1(STORE_NS_DOMAIN, "example.test", "old and cold"), 0);
    char name[64], value[200];
    memset(value, 'q', sizeof(value) - 1);
    value[sizeof(value) - 1] = '\0';
    /* Queued, then delivered one by one (as a queue runner does): names
     * as long as the queue's, so the tombstones fill several blocks. */
#define QNAME "20261127T031746.%06d.example.net"
    for (int i = 0; i < 200; i++) {
        snprintf(name, sizeof(name), QNAME, i);
        assert_int_equal(put1(STORE_NS_QUEUE, name, value), 0);
    }
    for (int i = 0; i < 199; i++) {
        snprintf(name, sizeof(name), QNAME, i);
        assert_int_equal(del1(STORE_NS_QUEUE, name), 0);
        int steps = 0;
        while (store_gc_step(&st, 0) > 0)
            assert_true(++steps < 64);
    }
    struct store_stats a, b;
    store_stats(&st, &a);
    /* Idle: nothing more to do, so nothing is written. */
    for (int i = 0; i < 1000; i++)
        assert_int_equal(store_gc_step(&st, 0), 0);
    store_stats(&st, &b);
    assert_true(b.erases == a.erases);
    assert_true(b.bytes_programmed == a.bytes_programmed);
    /* Space still comes back when it is needed: forced steps free blocks
     * and end; what is live and what was deleted stay so. */
    int steps = 0;
    while (store_gc_step(&st, 1) > 0)
        assert_true(++steps < 2 * NBLOCKS);
    remount();
    expect_rec(STORE_NS_DOMAIN, "example.test", "old and cold");
    snprintf(name, sizeof(name), QNAME, 0);
    expect_rec(STORE_NS_QUEUE, name, NULL);
    snprintf(name, sizeof(name), QNAME, 198);
    expect_rec(STORE_NS_QUEUE, name, NULL);
    snprintf(name, sizeof(name), QNAME, 199);
    expect_rec(STORE_NS_QUEUE, name, value);
#undef QNAME
}

static void test_bit_flip_is_ecorrupt(void **state)
{
    (void)state;
    remount();
    assert_int_equal(put1(STORE_NS_ALIAS, "abuse@example.test", "alice@example.test"), 0);
    uint64_t addr = recs[0].addr;
    sim_flash_close(&fl);
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    uint8_t b;
    assert_int_equal(pread(fd, &b, 1, (off_t)addr + 40), 1);
    b ^= 0x04;
    assert_int_equal(pwrite(fd, &b, 1, (off_t)addr + 40), 1);
    close(fd);
    assert_int_equal(sim_flash_open(&fl, path, 0, 4096, 16, 0), 0);
    char buf[64];
    assert_int_equal(store_rec_get(&st, STORE_NS_ALIAS, "abuse@example.test", buf, sizeof(buf)),
                     PB_ECORRUPT);
    struct store_check_report r;
    assert_true(store_check(&st, &r) > 0);
    /* After a remount the damaged commit is not replayed: the record is gone, not garbage. */
    assert_int_equal(store_mount(&st, &fl.dev, &mem), 0);
    assert_int_equal(store_rec_get(&st, STORE_NS_ALIAS, "abuse@example.test", buf, sizeof(buf)),
                     PB_ENOENT);
}

/* A body written in one transaction; returns its blob id. */
static uint32_t body(struct store_txn *t, char c, uint32_t size)
{
    uint32_t blob;
    char piece[500];
    memset(piece, c, sizeof(piece));
    assert_int_equal(store_blob_begin(t, &blob), 0);
    for (uint32_t off = 0; off < size; off += sizeof(piece))
        assert_int_equal(store_blob_write(t, piece, size - off < sizeof(piece) ? size - off : sizeof(piece)), 0);
    assert_int_equal(store_blob_end(t), 0);
    return blob;
}

static void expect_body(uint32_t blob, char c, uint32_t size)
{
    uint32_t got;
    char buf[700];
    assert_int_equal(store_blob_size(&st, blob, &got), 0);
    assert_int_equal(got, size);
    for (uint32_t off = 0; off < size;) {
        int n = store_blob_read(&st, blob, off, buf, sizeof(buf));
        assert_true(n > 0);
        for (int i = 0; i < n; i++)
            assert_int_equal(buf[i], c);
        off += (uint32_t)n;
    }
}

static void test_queue_entries_keep_their_body(void **state)
{
    (void)state;
    remount();
    struct store_txn *t;
    uint32_t mb, uid, b1, b2, got;
    uint16_t f;
    /* One body for a local message and two queue entries (two remote
     * domains), all in one transaction. */
    assert_int_equal(store_txn_begin(&st, &t), 0);
    assert_int_equal(store_mailbox_create(t, "alice@example.test", &mb), 0);
    assert_int_equal(store_txn_commit(t), 0);
    assert_int_equal(store_txn_begin(&st, &t), 0);
    assert_int_equal(store_folder_create(t, mb, "INBOX", &f), 0);
    assert_int_equal(store_txn_commit(t), 0);
    assert_int_equal(store_txn_begin(&st, &t), 0);
    b1 = body(t, 'a', 9000);
    assert_int_equal(store_msg_add(t, f, b1, 0, 1700000000u, &uid), 0);
    assert_int_equal(store_rec_put_blob(t, STORE_NS_QUEUE, "q1.example.org", b1, "v1", 2), 0);
    assert_int_equal(store_rec_put_blob(t, STORE_NS_QUEUE, "q1.example.net", b1, "v1", 2), 0);
    assert_int_equal(store_txn_commit(t), 0);
    check();
    /* A body only the queue holds (an alias that forwards outside). */
    assert_int_equal(store_txn_begin(&st, &t), 0);
    b2 = body(t, 'b', 5000);
    /* A blob of another transaction, or an unknown one, is refused. */
    struct store_txn *t2;
    assert_int_equal(store_txn_begin(&st, &t2), 0);
    assert_int_equal(store_rec_put_blob(t2, STORE_NS_QUEUE, "x", b2, "v", 1), PB_EINVAL);
    assert_int_equal(store_rec_put_blob(t2, STORE_NS_QUEUE, "x", 999999, "v", 1), PB_ENOENT);
    store_txn_abort(t2);
    assert_int_equal(store_rec_put_blob(t, STORE_NS_QUEUE, "q2.example.org", b2, "v2", 2), 0);
    assert_int_equal(store_txn_commit(t), 0);
    check();
    assert_int_equal(store_rec_blob(&st, STORE_NS_QUEUE, "q2.example.org", &got), 0);
    assert_int_equal(got, b2);

    /* The local copy is expunged: the queue still delivers the body. */
    assert_int_equal(store_txn_begin(&st, &t), 0);
    assert_int_equal(store_msg_expunge(t, f, uid), 0);
    assert_int_equal(store_txn_commit(t), 0);
    expect_body(b1, 'a', 9000);
    /* An attempt updates an entry in place: the body stays. */
    assert_int_equal(store_txn_begin(&st, &t), 0);
    assert_int_equal(store_rec_put_blob(t, STORE_NS_QUEUE, "q1.example.org", b1, "attempt 2", 9), 0);
    assert_int_equal(store_txn_commit(t), 0);
    check();
    expect_body(b1, 'a', 9000);
    remount();
    expect_body(b1, 'a', 9000);
    expect_body(b2, 'b', 5000);
    /* GC moves everything: still there, counts still right. */
    for (int i = 0; i < 200 && store_gc_step(&st, 1) > 0; i++)
        ;
    check();
    expect_body(b1, 'a', 9000);

    /* One domain done: the other entry still holds the body. */
    assert_int_equal(store_txn_begin(&st, &t), 0);
    assert_int_equal(store_rec_del(t, STORE_NS_QUEUE, "q1.example.org"), 0);
    assert_int_equal(store_txn_commit(t), 0);
    expect_body(b1, 'a', 9000);
    /* The last entry done: the body is gone, and stays gone after a remount. */
    assert_int_equal(store_txn_begin(&st, &t), 0);
    assert_int_equal(store_rec_del(t, STORE_NS_QUEUE, "q1.example.net"), 0);
    assert_int_equal(store_rec_put(t, STORE_NS_QUEUE, "q2.example.org", "no body", 7), 0);
    assert_int_equal(store_txn_commit(t), 0);
    check();
    assert_int_equal(store_blob_size(&st, b1, &got), PB_ENOENT);
    assert_int_equal(store_blob_size(&st, b2, &got), PB_ENOENT);
    assert_int_equal(store_rec_blob(&st, STORE_NS_QUEUE, "q2.example.org", &got), 0);
    assert_int_equal(got, 0);
    remount();
    assert_int_equal(store_blob_size(&st, b1, &got), PB_ENOENT);
    struct store_stats ss;
    store_stats(&st, &ss);
    assert_int_equal(ss.blobs, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_get_replace_delete_remount, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits_and_invalid_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reads_see_only_committed_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_iteration_in_byte_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_table_is_enomem_before_writing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gc_moves_records_and_tombstones, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gc_settles_on_tombstones, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bit_flip_is_ecorrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_entries_keep_their_body, setup, teardown),
    };
    return cmocka_run_group_tests_name("store_rec", tests, NULL, NULL);
}
