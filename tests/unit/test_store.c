/*
 * test_store.c - the flash store on the sim flash: transactions, blobs,
 * mailboxes, settings, remount, GC, a full store, bit flips, worn blocks,
 * and geometries from 1-byte to 256-byte program units.
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

#define NBLOCKS 256
static struct store_block blocks[NBLOCKS];
static uint32_t order[NBLOCKS];
static struct store_msg msgs[512];
static struct store_blob blobs[512];
static struct store_chunk chunks[2048];
static struct store_rec recs[64];
static uint32_t rec_order[64];
static const struct store_mem mem = {
    blocks, NBLOCKS, order, msgs, 512, blobs, 512, chunks, 2048, recs, rec_order, 64,
};
static struct store st;
static struct sim_flash fl;
static char path[256];

/* A flash whose erase fails on chosen blocks (a worn-out chip). */
static uint64_t bad_erase_mask;
static const struct hal_flash_ops *real_ops;
static int worn_erase(void *ctx, uint64_t addr)
{
    struct sim_flash *f = ctx;
    uint64_t b = addr / f->dev.geo.erase_size;
    if (b < 64 && (bad_erase_mask >> b) & 1)
        return PB_EIO;
    return real_ops->erase(ctx, addr);
}

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof(path), "build/test/store-%d.img", (int)getpid());
    unlink(path);
    bad_erase_mask = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sim_flash_close(&fl);
    unlink(path);
    return 0;
}

static void open_flash(uint64_t size, uint32_t erase, uint32_t prog)
{
    assert_int_equal(sim_flash_open(&fl, path, size, erase, prog, 0), 0);
}

static void remount(void)
{
    assert_int_equal(store_mount(&st, &fl.dev, &mem), 0);
    struct store_check_report r;
    int problems = store_check(&st, &r);
    if (problems)
        fail_msg("check: %d problems, first: %s", problems, r.first);
}

static uint8_t pattern(uint32_t seed, uint32_t i)
{
    return (uint8_t)(seed * 131u + i * 7u + (i >> 9));
}

/* Deliver a body of size bytes (seeded) to every folder in fs. */
static int deliver(const uint16_t *fs, int n, uint32_t seed, uint32_t size, uint32_t *uids)
{
    struct store_txn *t;
    uint32_t blob;
    uint8_t piece[777];
    int err = store_txn_begin(&st, &t);
    if (err)
        return err;
    if ((err = store_blob_begin(t, &blob)))
        goto out;
    for (uint32_t off = 0; off < size;) {
        uint32_t k = size - off < sizeof(piece) ? size - off : (uint32_t)sizeof(piece);
        for (uint32_t i = 0; i < k; i++)
            piece[i] = pattern(seed, off + i);
        if ((err = store_blob_write(t, piece, k)))
            goto out;
        off += k;
    }
    if ((err = store_blob_end(t)))
        goto out;
    for (int i = 0; i < n; i++)
        if ((err = store_msg_add(t, fs[i], blob, 0, 1700000000u + seed, &uids[i])))
            goto out;
    return store_txn_commit(t);
out:
    store_txn_abort(t);
    return err;
}

static void expect_body(uint16_t folder, uint32_t uid, uint32_t seed, uint32_t size)
{
    struct store_msg_info mi;
    assert_int_equal(store_msg_get(&st, folder, uid, &mi), 0);
    assert_int_equal(mi.size, size);
    uint8_t buf[1000];
    for (uint32_t off = 0; off < size;) {
        int n = store_blob_read(&st, mi.blob, off, buf, sizeof(buf));
        assert_true(n > 0);
        for (int i = 0; i < n; i++)
            assert_int_equal(buf[i], pattern(seed, off + (uint32_t)i));
        off += (uint32_t)n;
    }
    /* From an odd offset in the middle. */
    if (size > 5000) {
        int n = store_blob_read(&st, mi.blob, 4999, buf, 10);
        assert_int_equal(n, 10);
        assert_int_equal(buf[0], pattern(seed, 4999));
    }
}

/* Flip bits of one byte on the medium (power off, edit the file, power on;
 * the store is not remounted). */
static void flip_bit(uint64_t addr, uint8_t mask)
{
    sim_flash_close(&fl);
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    uint8_t b;
    assert_int_equal(pread(fd, &b, 1, (off_t)addr), 1);
    b ^= mask;
    assert_int_equal(pwrite(fd, &b, 1, (off_t)addr), 1);
    close(fd);
    open_flash(0, 4096, 16);
}

static void make_folders(uint16_t *inbox_a, uint16_t *inbox_b)
{
    struct store_txn *t;
    uint32_t a, b;
    assert_int_equal(store_txn_begin(&st, &t), 0);
    assert_int_equal(store_mailbox_create(t, "alice@example.test", &a), 0);
    assert_int_equal(store_mailbox_create(t, "bob@example.test", &b), 0);
    assert_int_equal(store_folder_create(t, a, "INBOX", inbox_a), 0);
    assert_int_equal(store_folder_create(t, b, "INBOX", inbox_b), 0);
    assert_int_equal(store_txn_commit(t), 0);
}

static void test_blank_flash_mounts_empty(void **state)
{
    (void)state;
    open_flash(256 * 1024, 4096, 16);
    remount();
    struct store_stats s;
    store_stats(&st, &s);
    assert_int_equal(s.blocks, 64);
    assert_int_equal(s.blocks_used, 0);
    assert_int_equal(s.messages, 0);
    uint8_t v[8];
    assert_int_equal(store_setting_get(&st, "hostname", NULL, v, sizeof(v)), PB_ENOENT);
}

static void test_setting_latest_wins_across_remount(void **state)
{
    (void)state;
    open_flash(256 * 1024, 4096, 16);
    remount();
    const char *names[] = { "one.test", "two.test", "three.example.test" };
    for (int i = 0; i < 3; i++) {
        struct store_txn *t;
        assert_int_equal(store_txn_begin(&st, &t), 0);
        assert_int_equal(store_setting_set(t, "hostname", STORE_T_STR, names[i], strlen(names[i])), 0);
        assert_int_equal(store_txn_commit(t), 0);
    }
    remount();
    char v[64];
    enum store_type ty;
    int n = store_setting_get(&st, "hostname", &ty, v, sizeof(v));
    assert_int_equal(n, (int)strlen(names[2]));
    assert_memory_equal(v, names[2], (size_t)n);
    assert_int_equal(ty, STORE_T_STR);
    assert_int_equal(store_setting_get(&st, "hostname", NULL, v, 3), PB_ERANGE);
}

static void test_messages_flags_expunge_remount(void **state)
{
    (void)state;
    open_flash(512 * 1024, 4096, 16);
    remount();
    uint16_t fa, fb;
    make_folders(&fa, &fb);
    uint16_t both[2] = { fa, fb };
    uint32_t uids[2], u2[2];
    assert_int_equal(deliver(both, 2, 1, 10000, uids), 0);
    assert_int_equal(uids[0], 1);
    assert_int_equal(uids[1], 1);
    assert_int_equal(deliver(both, 1, 2, 300, u2), 0);
    assert_int_equal(u2[0], 2);
    /* One body for both recipients. */
    struct store_msg_info ma, mb;
    assert_int_equal(store_msg_get(&st, fa, 1, &ma), 0);
    assert_int_equal(store_msg_get(&st, fb, 1, &mb), 0);
    assert_int_equal(ma.blob, mb.blob);

    struct store_txn *t;
    assert_int_equal(store_txn_begin(&st, &t), 0);
    assert_int_equal(store_msg_set_flags(t, fa, 1, STORE_FLAG_SEEN | STORE_FLAG_FLAGGED), 0);
    assert_int_equal(store_txn_commit(t), 0);
    assert_int_equal(store_txn_begin(&st, &t), 0);
    assert_int_equal(store_msg_expunge(t, fb, 1), 0);
    assert_int_equal(store_txn_commit(t), 0);

    remount();
    expect_body(fa, 1, 1, 10000);
    expect_body(fa, 2, 2, 300);
    assert_int_equal(store_msg_get(&st, fb, 1, &mb), PB_ENOENT);
    assert_int_equal(store_msg_get(&st, fa, 1, &ma), 0);
    assert_int_equal(ma.flags, STORE_FLAG_SEEN | STORE_FLAG_FLAGGED);
    assert_true(ma.modseq > mb.modseq);
    struct store_msg_info it;
    assert_int_equal(store_msg_next(&st, fa, 0, &it), 0);
    assert_int_equal(it.uid, 1);
    assert_int_equal(store_msg_next(&st, fa, 1, &it), 0);
    assert_int_equal(it.uid, 2);
    assert_int_equal(store_msg_next(&st, fa, 2, &it), PB_ENOENT);

    /* Expunging the last reference frees the body; UIDs are not reused. */
    assert_int_equal(store_txn_begin(&st, &t), 0);
    assert_int_equal(store_msg_expunge(t, fa, 2), 0);
    assert_int_equal(store_txn_commit(t), 0);
    remount();
    struct store_folder_info fi;
    assert_int_equal(store_folder_info(&st, fa, &fi), 0);
    assert_int_equal(fi.uidnext, 3);
    assert_int_equal(fi.messages, 1);
    assert_int_equal(deliver(both, 1, 3, 50, u2), 0);
    assert_int_equal(u2[0], 3);
}

static void test_abort_and_uncommitted_are_invisible(void **state)
{
    (void)state;
    open_flash(256 * 1024, 4096, 16);
    remount();
    uint16_t fa, fb;
    make_folders(&fa, &fb);
    struct store_txn *t;
    uint32_t blob, uid;
    uint8_t data[9000];
    memset(data, 0x5A, sizeof(data));
    assert_int_equal(store_txn_begin(&st, &t), 0);
    assert_int_equal(store_blob_begin(t, &blob), 0);
    assert_int_equal(store_blob_write(t, data, sizeof(data)), 0);
    assert_int_equal(store_blob_end(t), 0);
    assert_int_equal(store_msg_add(t, fa, blob, 0, 0, &uid), 0);
    store_txn_abort(t);
    struct store_msg_info mi;
    assert_int_equal(store_msg_get(&st, fa, uid, &mi), PB_ENOENT);
    assert_int_equal(store_blob_read(&st, blob, 0, data, 10), PB_ENOENT);
    /* Written chunks of a transaction that never commits: gone at remount. */
    assert_int_equal(store_txn_begin(&st, &t), 0);
    assert_int_equal(store_blob_begin(t, &blob), 0);
    assert_int_equal(store_blob_write(t, data, sizeof(data)), 0);
    remount();
    struct store_stats s;
    store_stats(&st, &s);
    assert_int_equal(s.blobs, 0);
    assert_int_equal(s.chunks, 0);
    assert_int_equal(s.messages, 0);
}

static void test_gc_reclaims_and_keeps_data(void **state)
{
    (void)state;
    open_flash(256 * 1024, 4096, 16);   /* 64 blocks */
    remount();
    uint16_t fa, fb;
    make_folders(&fa, &fb);
    uint32_t uid[1];
    /* Write far more than the flash holds, keeping only the newest few. */
    for (uint32_t i = 1; i <= 200; i++) {
        int err = deliver(&fa, 1, i, 1500 + (i * 37) % 3000, uid);
        while (err == PB_ENOSPC) {
            assert_int_equal(store_gc_step(&st, 1), 1);
            err = deliver(&fa, 1, i, 1500 + (i * 37) % 3000, uid);
        }
        assert_int_equal(err, 0);
        assert_int_equal(uid[0], i);
        if (i > 8) {
            struct store_txn *t;
            assert_int_equal(store_txn_begin(&st, &t), 0);
            assert_int_equal(store_msg_expunge(t, fa, i - 8), 0);
            assert_int_equal(store_txn_commit(t), 0);
        }
        for (int k = 0; k < 1000 && store_gc_step(&st, 0) > 0; k++)
            ;
    }
    struct store_stats s;
    store_stats(&st, &s);
    assert_true(s.erases > 64);         /* blocks were reused */
    assert_true(s.erase_max - s.erase_min <= s.erase_mean + 3);
    remount();
    for (uint32_t i = 193; i <= 200; i++)
        expect_body(fa, i, i, 1500 + (i * 37) % 3000);
    struct store_folder_info fi;
    assert_int_equal(store_folder_info(&st, fa, &fi), 0);
    assert_int_equal(fi.messages, 8);
}

static void test_full_store_refuses_writes_but_deletes_work(void **state)
{
    (void)state;
    open_flash(128 * 1024, 4096, 16);   /* 32 blocks */
    remount();
    uint16_t fa, fb;
    make_folders(&fa, &fb);
    uint32_t uid[1], n = 0;
    int err;
    while ((err = deliver(&fa, 1, n + 1, 3000, uid)) == 0)
        n++;
    assert_int_equal(err, PB_ENOSPC);
    assert_true(n > 10);
    struct store_stats s;
    store_stats(&st, &s);
    assert_true(s.blocks_free >= STORE_RESERVE_BLOCKS);
    /* Every body still reads back; expunges still commit. */
    for (uint32_t i = 1; i <= n; i++)
        expect_body(fa, i, i, 3000);
    for (uint32_t i = 1; i <= n; i += 2) {
        struct store_txn *t;
        assert_int_equal(store_txn_begin(&st, &t), 0);
        assert_int_equal(store_msg_expunge(t, fa, i), 0);
        assert_int_equal(store_txn_commit(t), 0);
    }
    for (int i = 0; i < 1000 && store_gc_step(&st, 1) > 0; i++)
        ;
    assert_int_equal(deliver(&fa, 1, 999, 3000, uid), 0);
    remount();
    expect_body(fa, uid[0], 999, 3000);
}

static void test_bit_flip_is_detected_not_returned(void **state)
{
    (void)state;
    open_flash(256 * 1024, 4096, 16);
    remount();
    uint16_t fa, fb;
    make_folders(&fa, &fb);
    uint32_t uid[1];
    assert_int_equal(deliver(&fa, 1, 7, 2000, uid), 0);
    struct store_msg_info mi;
    assert_int_equal(store_msg_get(&st, fa, uid[0], &mi), 0);
    uint64_t addr = chunks[0].addr;
    flip_bit(addr + 100, 0x10);
    /* Before a remount the index still points at the chunk: reading fails. */
    uint8_t buf[64];
    assert_int_equal(store_blob_read(&st, mi.blob, 0, buf, sizeof(buf)), PB_ECORRUPT);
    struct store_check_report r;
    assert_true(store_check(&st, &r) > 0);
    /* After a remount the damaged record is not indexed; check reports it. */
    assert_int_equal(store_mount(&st, &fl.dev, &mem), 0);
    assert_true(store_check(&st, &r) > 0);
    int n = store_blob_read(&st, mi.blob, 0, buf, sizeof(buf));
    assert_true(n < 0);
}

static void test_worn_blocks_are_retired(void **state)
{
    (void)state;
    open_flash(256 * 1024, 4096, 16);
    static struct hal_flash_ops worn;
    real_ops = fl.dev.ops;
    worn = *fl.dev.ops;
    worn.erase = worn_erase;
    struct hal_flash dev = fl.dev;
    dev.ops = &worn;
    bad_erase_mask = 0x0000F0F0F0F0F0F1ull;
    assert_int_equal(store_mount(&st, &dev, &mem), 0);
    uint16_t fa, fb;
    make_folders(&fa, &fb);
    uint32_t uid[1];
    for (uint32_t i = 1; i <= 30; i++)
        assert_int_equal(deliver(&fa, 1, i, 2500, uid), 0);
    struct store_stats s;
    store_stats(&st, &s);
    assert_true(s.blocks_retired > 0);
    for (uint32_t i = 1; i <= 30; i++)
        expect_body(fa, i, i, 2500);
    assert_int_equal(store_mount(&st, &dev, &mem), 0);
    struct store_check_report r;
    assert_int_equal(store_check(&st, &r), 0);
    for (uint32_t i = 1; i <= 30; i++)
        expect_body(fa, i, i, 2500);
}

static void run_geometry(uint32_t erase, uint32_t prog)
{
    open_flash(64ull * erase < 512 * 1024 ? 512 * 1024 : 64ull * erase, erase, prog);
    remount();
    uint16_t fa, fb;
    make_folders(&fa, &fb);
    uint16_t both[2] = { fa, fb };
    uint32_t uids[2];
    for (uint32_t i = 1; i <= 12; i++)
        assert_int_equal(deliver(both, 2, i, 700 * i, uids), 0);
    remount();
    for (uint32_t i = 1; i <= 12; i++)
        expect_body(fb, i, i, 700 * i);
    sim_flash_close(&fl);
    unlink(path);
}

static void test_geometries(void **state)
{
    (void)state;
    run_geometry(4096, 1);
    run_geometry(4096, 256);
    run_geometry(65536, 8);
    run_geometry(256 * 1024, 256);
}

static void test_ram_table_full_is_enomem(void **state)
{
    (void)state;
    open_flash(512 * 1024, 4096, 16);
    struct store_mem small = mem;
    small.max_msgs = 5;
    assert_int_equal(store_mount(&st, &fl.dev, &small), 0);
    uint16_t fa, fb;
    make_folders(&fa, &fb);
    uint32_t uid[1];
    for (int i = 0; i < 5; i++)
        assert_int_equal(deliver(&fa, 1, (uint32_t)i, 100, uid), 0);
    assert_int_equal(deliver(&fa, 1, 9, 100, uid), PB_ENOMEM);
    struct store_check_report r;
    assert_int_equal(store_check(&st, &r), 0);
}

/* Mount indexes chunks from their headers; a chunk damaged on the medium
 * is found when it is read, and GC never copies it (which would give
 * damaged data a valid CRC): the message stays unreadable, the others are
 * untouched, and the check keeps reporting it. */
static void test_bit_flip_then_gc(void **state)
{
    (void)state;
    open_flash(256 * 1024, 4096, 16);
    remount();
    uint16_t fa, fb;
    make_folders(&fa, &fb);
    uint32_t uid[3];
    assert_int_equal(deliver(&fa, 1, 7, 1000, &uid[0]), 0);
    assert_int_equal(deliver(&fa, 1, 8, 2500, &uid[1]), 0);
    assert_int_equal(deliver(&fa, 1, 9, 1500, &uid[2]), 0);
    struct store_msg_info mi;
    assert_int_equal(store_msg_get(&st, fa, uid[0], &mi), 0);
    uint64_t addr = chunks[0].addr;
    /* The message beside it goes, so that GC wants its block. */
    struct store_txn *t;
    assert_int_equal(store_txn_begin(&st, &t), 0);
    assert_int_equal(store_msg_expunge(t, fa, uid[1]), 0);
    assert_int_equal(store_txn_commit(t), 0);
    flip_bit(addr + 200, 0x01);
    assert_int_equal(store_mount(&st, &fl.dev, &mem), 0);
    struct store_stats ss;
    store_stats(&st, &ss);
    uint32_t before = ss.chunks;
    for (int i = 0; i < 200 && store_gc_step(&st, 1) > 0; i++)
        ;
    store_stats(&st, &ss);
    assert_int_equal(ss.chunks, before - 1);    /* the damaged one was not copied */
    uint8_t buf[64];
    assert_int_equal(store_blob_read(&st, mi.blob, 0, buf, sizeof(buf)), PB_ECORRUPT);
    expect_body(fa, uid[2], 9, 1500);
    struct store_check_report r;
    assert_true(store_check(&st, &r) > 0);
    assert_int_equal(store_mount(&st, &fl.dev, &mem), 0);
    expect_body(fa, uid[2], 9, 1500);
    assert_true(store_blob_read(&st, mi.blob, 0, buf, sizeof(buf)) < 0);
}

/* IMAP's CREATE/RENAME/DELETE and removing a user: a renamed folder keeps
 * its UIDVALIDITY, UIDs and messages; a deleted folder takes its messages
 * with it (a body shared with another folder stays); a deleted mailbox
 * takes its folders; all of it holds across GC and remounts. */
static void test_folder_rename_and_delete(void **state)
{
    (void)state;
    open_flash(512 * 1024, 4096, 16);
    remount();
    uint16_t fa, fb, arch, tmp;
    make_folders(&fa, &fb);
    uint32_t ma, mb;
    assert_int_equal(store_mailbox_find(&st, "alice@example.test", &ma), 0);
    assert_int_equal(store_mailbox_find(&st, "bob@example.test", &mb), 0);
    struct store_txn *t;
    assert_int_equal(store_txn_begin(&st, &t), 0);
    assert_int_equal(store_folder_create(t, ma, "Archive", &arch), 0);
    assert_int_equal(store_folder_create(t, ma, "Tmp", &tmp), 0);
    assert_int_equal(store_txn_commit(t), 0);
    uint16_t both[2] = { arch, fb };
    uint32_t u1[2], u2[1], u3[1];
    assert_int_equal(deliver(both, 2, 1, 6000, u1), 0);     /* one body in alice's Archive and bob's INBOX */
    assert_int_equal(deliver(&arch, 1, 2, 3000, u2), 0);
    assert_int_equal(deliver(&tmp, 1, 3, 2000, u3), 0);
    struct store_folder_info before, after;
    assert_int_equal(store_folder_info(&st, arch, &before), 0);

    /* Rename: same folder, new name; the old name is free, a taken one is refused. */
    assert_int_equal(store_txn_begin(&st, &t), 0);
    assert_int_equal(store_folder_rename(t, tmp, "INBOX"), PB_EEXIST);
    assert_int_equal(store_folder_rename(t, arch, "Archive/2026"), 0);
    assert_int_equal(store_txn_commit(t), 0);
    uint16_t id;
    assert_int_equal(store_folder_find(&st, ma, "Archive", &id), PB_ENOENT);
    assert_int_equal(store_folder_find(&st, ma, "Archive/2026", &id), 0);
    assert_int_equal(id, arch);
    assert_int_equal(store_folder_info(&st, arch, &after), 0);
    assert_int_equal(after.uidvalidity, before.uidvalidity);
    assert_int_equal(after.uidnext, before.uidnext);
    assert_int_equal(after.messages, 2);
    remount();
    assert_int_equal(store_folder_find(&st, ma, "Archive/2026", &id), 0);
    expect_body(arch, u2[0], 2, 3000);

    /* Listing a mailbox's folders. */
    struct store_folder_info fi;
    int n = 0;
    for (uint16_t at = 0; store_folder_next(&st, ma, at, &fi) == 0; at = fi.id)
        n++;
    assert_int_equal(n, 3);

    /* Delete the Archive: its messages go; the body bob shares stays. */
    struct store_stats ss;
    store_stats(&st, &ss);
    uint32_t nmsgs = ss.messages, nblobs = ss.blobs;
    assert_int_equal(store_txn_begin(&st, &t), 0);
    assert_int_equal(store_folder_delete(t, arch), 0);
    assert_int_equal(store_txn_commit(t), 0);
    store_stats(&st, &ss);
    assert_int_equal(ss.messages, nmsgs - 2);
    assert_int_equal(ss.blobs, nblobs - 1);
    assert_int_equal(store_folder_info(&st, arch, &fi), PB_ENOENT);
    expect_body(fb, u1[1], 1, 6000);
    struct store_check_report r;
    assert_int_equal(store_check(&st, &r), 0);
    for (int i = 0; i < 300 && store_gc_step(&st, 1) > 0; i++)
        ;
    remount();
    assert_int_equal(store_folder_find(&st, ma, "Archive/2026", &id), PB_ENOENT);
    expect_body(fb, u1[1], 1, 6000);
    expect_body(tmp, u3[0], 3, 2000);

    /* Delete alice: her folders and messages go; bob is untouched. */
    assert_int_equal(store_txn_begin(&st, &t), 0);
    assert_int_equal(store_mailbox_delete(t, ma), 0);
    assert_int_equal(store_txn_commit(t), 0);
    uint32_t gone;
    assert_int_equal(store_mailbox_find(&st, "alice@example.test", &gone), PB_ENOENT);
    assert_int_equal(store_folder_info(&st, tmp, &fi), PB_ENOENT);
    assert_int_equal(store_folder_info(&st, fa, &fi), PB_ENOENT);
    store_stats(&st, &ss);
    assert_int_equal(ss.messages, 1);
    assert_int_equal(ss.blobs, 1);
    remount();
    store_stats(&st, &ss);
    assert_int_equal(ss.messages, 1);
    expect_body(fb, u1[1], 1, 6000);
    /* The name can be used again, as a new mailbox. */
    uint32_t again;
    assert_int_equal(store_txn_begin(&st, &t), 0);
    assert_int_equal(store_mailbox_create(t, "alice@example.test", &again), 0);
    assert_int_equal(store_txn_commit(t), 0);
    assert_true(again != ma);
    assert_int_equal(store_txn_begin(&st, &t), 0);
    assert_int_equal(store_mailbox_delete(t, 12345), PB_ENOENT);
    assert_int_equal(store_folder_delete(t, 999), PB_ENOENT);
    store_txn_abort(t);
    remount();
}

/* UID lookups walk from where the last one ended: walking two folders in
 * turn, jumping back, asking for expunged or never-used UIDs all give what
 * a full search would. */
static void test_uid_lookups_in_any_order(void **state)
{
    (void)state;
    open_flash(512 * 1024, 4096, 16);
    remount();
    uint16_t fa, fb;
    make_folders(&fa, &fb);
    uint32_t ua[20], ub[20];
    for (int i = 0; i < 20; i++) {
        assert_int_equal(deliver(&fa, 1, (uint32_t)i, 100, &ua[i]), 0);
        assert_int_equal(deliver(&fb, 1, (uint32_t)i + 100, 100, &ub[i]), 0);
    }
    struct store_txn *t;
    assert_int_equal(store_txn_begin(&st, &t), 0);
    for (int i = 0; i < 20; i += 3)
        assert_int_equal(store_msg_expunge(t, fa, ua[i]), 0);
    assert_int_equal(store_txn_commit(t), 0);
    /* Both folders walked in turn. */
    uint32_t a = 0, b = 0;
    int na = 0, nb = 0;
    struct store_msg_info mi;
    for (;;) {
        int ra = store_msg_next(&st, fa, a, &mi);
        if (ra == 0) {
            assert_true(mi.uid > a);
            a = mi.uid;
            na++;
        }
        int rb = store_msg_next(&st, fb, b, &mi);
        if (rb == 0) {
            assert_true(mi.uid > b);
            b = mi.uid;
            nb++;
        }
        if (ra && rb)
            break;
    }
    assert_int_equal(na, 20 - 7);
    assert_int_equal(nb, 20);
    /* Backwards, and expunged and unknown UIDs. */
    for (int i = 19; i >= 0; i--) {
        assert_int_equal(store_msg_get(&st, fa, ua[i], &mi), i % 3 == 0 ? PB_ENOENT : 0);
        assert_int_equal(store_msg_get(&st, fb, ub[i], &mi), 0);
        assert_int_equal(mi.uid, ub[i]);
    }
    assert_int_equal(store_msg_get(&st, fa, 0, &mi), PB_ENOENT);
    assert_int_equal(store_msg_get(&st, fa, 9999, &mi), PB_ENOENT);
    assert_int_equal(store_msg_next(&st, fa, ua[0], &mi), 0);
    assert_int_equal(mi.uid, ua[1]);
    assert_int_equal(store_msg_next(&st, fa, ua[19], &mi), PB_ENOENT);
    remount();
}

/* Factory reset: one commit takes everything (mail, mailboxes, settings,
 * records); it holds across remounts and GC, works on a full store, and
 * the store is usable again at once. */
static void test_wipe(void **state)
{
    (void)state;
    open_flash(256 * 1024, 4096, 16);
    remount();
    uint16_t fa, fb;
    make_folders(&fa, &fb);
    uint32_t u[2];
    uint16_t both[2];
    both[0] = fa;
    both[1] = fb;
    int n = 0;
    while (deliver(both, 2, (uint32_t)n, 3000, u) == 0)
        n++;                                    /* fill it up */
    assert_true(n > 10);
    struct store_txn *open;
    assert_int_equal(store_txn_begin(&st, &open), 0);
    assert_int_equal(store_wipe(&st), PB_EBUSY);     /* not under someone's feet */
    store_txn_abort(open);
    assert_int_equal(store_wipe(&st), 0);
    struct store_stats ss;
    store_stats(&st, &ss);
    assert_int_equal(ss.messages, 0);
    assert_int_equal(ss.blobs, 0);
    uint32_t mb;
    assert_int_equal(store_mailbox_find(&st, "alice@example.test", &mb), PB_ENOENT);
    remount();
    store_stats(&st, &ss);
    assert_int_equal(ss.messages, 0);
    assert_int_equal(store_mailbox_find(&st, "alice@example.test", &mb), PB_ENOENT);
    for (int i = 0; i < 500 && store_gc_step(&st, 1) > 0; i++)
        ;
    remount();
    store_stats(&st, &ss);
    assert_int_equal(ss.messages, 0);
    /* Usable again: the same names, new mail. */
    make_folders(&fa, &fb);
    assert_int_equal(deliver(&fa, 1, 77, 5000, u), 0);
    remount();
    expect_body(fa, u[0], 77, 5000);
    store_stats(&st, &ss);
    assert_int_equal(ss.messages, 1);
}

/* The highest modseq (an IMAP client's HIGHESTMODSEQ) grows with every
 * commit, is >= every message's modseq, and never goes down: not at a
 * remount, not when an aborted transaction's ids were never written, and
 * not when GC drops the newest block after a remount (its records all
 * dead: a record put and deleted, then a factory reset). */
static void test_modseq_high_never_goes_down(void **state)
{
    (void)state;
    open_flash(256 * 1024, 4096, 16);
    remount();
    assert_int_equal(store_modseq_high(&st), 0);
    uint16_t fa, fb;
    make_folders(&fa, &fb);
    uint32_t h0 = store_modseq_high(&st);
    assert_true(h0 > 0);
    uint32_t u[1];
    assert_int_equal(deliver(&fa, 1, 1, 500, u), 0);
    struct store_msg_info mi;
    assert_int_equal(store_msg_get(&st, fa, u[0], &mi), 0);
    assert_true(mi.modseq > h0);
    assert_int_equal(store_modseq_high(&st), mi.modseq);
    uint32_t h1 = store_modseq_high(&st);

    /* A transaction that takes ids and aborts changes nothing a client saw. */
    struct store_txn *t;
    assert_int_equal(store_txn_begin(&st, &t), 0);
    assert_int_equal(store_msg_set_flags(t, fa, u[0], STORE_FLAG_SEEN), 0);
    store_txn_abort(t);
    assert_int_equal(store_modseq_high(&st), h1);

    assert_int_equal(store_txn_begin(&st, &t), 0);
    assert_int_equal(store_msg_set_flags(t, fa, u[0], STORE_FLAG_FLAGGED), 0);
    assert_int_equal(store_txn_commit(t), 0);
    uint32_t h2 = store_modseq_high(&st);
    assert_true(h2 > h1);
    assert_int_equal(store_msg_get(&st, fa, u[0], &mi), 0);
    assert_int_equal(mi.modseq, h2);
    remount();
    assert_true(store_modseq_high(&st) >= h2);
    assert_int_equal(store_msg_get(&st, fa, u[0], &mi), 0);
    assert_int_equal(mi.modseq, h2);       /* the message's modseq is kept */
    uint32_t h3 = store_modseq_high(&st);

    /* A factory reset, GC until nothing old is left, then the wipe's own
     * block is all dead: a remount and GC drop it.  The counter stays. */
    assert_int_equal(store_wipe(&st), 0);
    assert_true(store_modseq_high(&st) > h3);
    uint32_t h4 = store_modseq_high(&st);
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 200 && store_gc_step(&st, 1) > 0; i++)
            ;
        remount();
        assert_true(store_modseq_high(&st) >= h4);
    }
    struct store_stats ss;
    store_stats(&st, &ss);
    assert_true(ss.blocks_used <= 2);

    /* A named record put and deleted: the delete's tombstone dies with
     * the put, and the block holding both is the newest. */
    assert_int_equal(store_txn_begin(&st, &t), 0);
    assert_int_equal(store_rec_put(t, STORE_NS_IMAP, "kw:x", "a", 1), 0);
    assert_int_equal(store_txn_commit(t), 0);
    assert_int_equal(store_txn_begin(&st, &t), 0);
    assert_int_equal(store_rec_del(t, STORE_NS_IMAP, "kw:x"), 0);
    assert_int_equal(store_txn_commit(t), 0);
    uint32_t h5 = store_modseq_high(&st);
    for (int round = 0; round < 3; round++) {
        remount();
        assert_true(store_modseq_high(&st) >= h5);
        for (int i = 0; i < 200 && store_gc_step(&st, 1) > 0; i++)
            ;
    }
    remount();
    assert_true(store_modseq_high(&st) >= h5);
    /* New changes get numbers above everything handed out before. */
    make_folders(&fa, &fb);
    assert_int_equal(deliver(&fa, 1, 2, 100, u), 0);
    assert_int_equal(store_msg_get(&st, fa, u[0], &mi), 0);
    assert_true(mi.modseq > h5);
    struct store_folder_info fi;
    assert_int_equal(store_folder_info(&st, fa, &fi), 0);
    assert_true(fi.uidvalidity > h5);       /* never one a client saw before */
}

/* The record check is CRC-32C: the standard check value, and the same
 * result however the data is split (the store checksums headers and
 * payloads in pieces). */
static void test_crc32c(void **state)
{
    (void)state;
    assert_int_equal(store_crc32c(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(store_crc32c(0, "", 0), 0);
    uint8_t buf[1000];
    for (int i = 0; i < 1000; i++)
        buf[i] = (uint8_t)(i * 7 + 3);
    uint32_t whole = store_crc32c(0, buf, sizeof(buf));
    for (size_t cut = 0; cut <= 9; cut++) {
        uint32_t c = store_crc32c(0, buf, cut);
        assert_int_equal(store_crc32c(c, buf + cut, sizeof(buf) - cut), whole);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_blank_flash_mounts_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_setting_latest_wins_across_remount, setup, teardown),
        cmocka_unit_test_setup_teardown(test_messages_flags_expunge_remount, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abort_and_uncommitted_are_invisible, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gc_reclaims_and_keeps_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_store_refuses_writes_but_deletes_work, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bit_flip_is_detected_not_returned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bit_flip_then_gc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_folder_rename_and_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uid_lookups_in_any_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wipe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_modseq_high_never_goes_down, setup, teardown),
        cmocka_unit_test(test_crc32c),
        cmocka_unit_test_setup_teardown(test_worn_blocks_are_retired, setup, teardown),
        cmocka_unit_test_setup_teardown(test_geometries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ram_table_full_is_enomem, setup, teardown),
    };
    return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
