/*
 * store_bench.c - measurements of the flash store on the sim flash (issue 3).
 *
 *   store_bench wa DIR ERASE      write amplification: 10,000 messages of
 *                                 4 KiB to 10 mailboxes, random deletes, GC,
 *                                 on 16 MiB of ERASE-byte blocks
 *   store_bench wear DIR          erase spread after filling and rewriting
 *                                 the store five times (a third of it cold)
 *   store_bench mount DIR SIZE ERASE
 *                                 fill a SIZE flash of ERASE blocks with
 *                                 4 KiB messages, then time a mount; RAM
 *                                 used by the indexes per 1,000 messages
 *   store_bench commit DIR N      commit N messages of 4 KiB (for callgrind,
 *                                 which counts bench_commit() only)
 *
 * Every mode prints "name: value" lines.  Nothing here is a test: it
 * asserts nothing about time (tests/bench/store_bench.sh runs it).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sim_flash.h"
#include "store.h"

#define MSG_BYTES 4096u
#define MAILBOXES 10

/* The bench stands in for the board: the store asks it for the time. */
uint64_t hal_clock_ms(void);
uint64_t hal_clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct store st;
static struct sim_flash fl;
static struct store_mem mem;
static uint16_t folders[MAILBOXES];
static uint64_t rng_state = 88172645463325252ull;

static uint32_t bench_rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)rng_state;
}

static void bench_die(const char *what, int err)
{
    fprintf(stderr, "store_bench: %s: %s\n", what, pb_err_str(err));
    exit(1);
}

static void bench_tables(uint64_t flash, uint32_t erase, uint32_t msgs)
{
    mem.max_blocks = (uint32_t)(flash / erase);
    mem.blocks = calloc(mem.max_blocks, sizeof(*mem.blocks));
    mem.order = calloc(mem.max_blocks, sizeof(*mem.order));
    mem.max_msgs = msgs;
    mem.msgs = calloc(msgs, sizeof(*mem.msgs));
    mem.max_blobs = msgs;
    mem.blobs = calloc(msgs, sizeof(*mem.blobs));
    mem.max_chunks = 2 * msgs + 16;
    mem.chunks = calloc(mem.max_chunks, sizeof(*mem.chunks));
    mem.max_recs = 16;
    mem.recs = calloc(16, sizeof(*mem.recs));
    mem.rec_order = calloc(16, sizeof(*mem.rec_order));
    if (!mem.blocks || !mem.order || !mem.msgs || !mem.blobs || !mem.chunks || !mem.recs)
        bench_die("tables", PB_ENOMEM);
}

static void bench_open(const char *dir, const char *name, uint64_t size, uint32_t erase)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    unlink(path);
    int err = sim_flash_open(&fl, path, size, erase, 16, 0);
    if (err)
        bench_die("flash", err);
    if ((err = store_mount(&st, &fl.dev, &mem)))
        bench_die("mount", err);
    struct store_txn *t;
    if ((err = store_txn_begin(&st, &t)))
        bench_die("begin", err);
    for (int i = 0; i < MAILBOXES; i++) {
        char user[32];
        uint32_t mb;
        snprintf(user, sizeof(user), "user%d@example.test", i);
        if ((err = store_mailbox_create(t, user, &mb)) || (err = store_folder_create(t, mb, "INBOX", &folders[i])))
            bench_die("mailbox", err);
    }
    if ((err = store_txn_commit(t)))
        bench_die("commit", err);
}

/* Deliver one message of MSG_BYTES to folder f (streamed in 1 KiB pieces
 * as SMTP would); returns 0 or the commit's error. */
int bench_commit(uint16_t f, uint32_t *uid);
int bench_commit(uint16_t f, uint32_t *uid)
{
    static uint8_t piece[1024];
    struct store_txn *t;
    uint32_t blob;
    int err = store_txn_begin(&st, &t);
    if (err)
        return err;
    if ((err = store_blob_begin(t, &blob)))
        goto fail;
    for (uint32_t off = 0; off < MSG_BYTES; off += sizeof(piece)) {
        memset(piece, (int)(off + *uid), sizeof(piece));
        if ((err = store_blob_write(t, piece, sizeof(piece))))
            goto fail;
    }
    if ((err = store_blob_end(t)) || (err = store_msg_add(t, f, blob, 0, 1700000000u, uid)))
        goto fail;
    return store_txn_commit(t);
fail:
    store_txn_abort(t);
    return err;
}

static void bench_expunge(uint16_t f, uint32_t uid)
{
    struct store_txn *t;
    int err = store_txn_begin(&st, &t);
    if (!err && !(err = store_msg_expunge(t, f, uid)))
        err = store_txn_commit(t);
    else if (!err)
        store_txn_abort(t);
    if (err)
        bench_die("expunge", err);
}

/* Commit one message, making room by GC when the store is full, then let
 * GC do what the event loop would between two messages. */
static void bench_deliver(uint16_t f, uint32_t *uid)
{
    int err;
    while ((err = bench_commit(f, uid)) == PB_ENOSPC)
        if (store_gc_step(&st, 1) <= 0)
            bench_die("full store and nothing to collect", err);
    if (err)
        bench_die("deliver", err);
    while (store_gc_step(&st, 0) > 0)
        ;
}

struct live {
    uint16_t folder;
    uint32_t uid;
};

/* 10,000 messages; the store keeps about 40% of the flash live by
 * expunging a random live message for every new one beyond that. */
static void bench_wa(const char *dir, uint32_t erase)
{
    const uint64_t flash = 16ull << 20;
    const uint32_t n = 10000, keep = (uint32_t)(flash * 4 / 10 / MSG_BYTES);
    bench_tables(flash, erase, n);
    bench_open(dir, "wa.img", flash, erase);
    static struct live live[10000];
    uint32_t nlive = 0;
    uint64_t before = st.bytes_programmed;
    for (uint32_t i = 0; i < n; i++) {
        uint16_t f = folders[bench_rng() % MAILBOXES];
        uint32_t uid = i;
        bench_deliver(f, &uid);
        live[nlive++] = (struct live){ f, uid };
        if (nlive > keep) {
            uint32_t k = bench_rng() % nlive;
            bench_expunge(live[k].folder, live[k].uid);
            live[k] = live[--nlive];
        }
    }
    double wa = (double)(st.bytes_programmed - before) / ((double)n * MSG_BYTES);
    struct store_stats s;
    store_stats(&st, &s);
    printf("write amplification: %.3f (flash bytes programmed / message bytes accepted; "
           "%u messages of %u bytes, 10 mailboxes, %u live at the end, 16 MiB flash, %u KiB blocks)\n",
           wa, n, MSG_BYTES, nlive, erase / 1024);
    printf("write amplification erases: %" PRIu64 " block erases for %" PRIu64 " MiB written\n",
           s.erases, (uint64_t)n * MSG_BYTES >> 20);
    sim_flash_close(&fl);
}

/* A third of the store cold (written once, never deleted), the rest
 * rewritten until five times the capacity has been written. */
static void bench_wear(const char *dir)
{
    const uint64_t flash = 8ull << 20;
    const uint32_t cap = (uint32_t)(flash / MSG_BYTES);
    bench_tables(flash, 4096, cap);
    bench_open(dir, "wear.img", flash, 4096);
    static struct live hot[4096];
    uint32_t nhot = 0, cold = cap / 3, keep = cap / 3;
    for (uint32_t i = 0; i < cold; i++) {
        uint32_t uid = i;
        bench_deliver(folders[0], &uid);
    }
    uint64_t written = (uint64_t)cold * MSG_BYTES;
    for (uint32_t i = 0; written < 5 * flash; i++) {
        uint16_t f = folders[1 + bench_rng() % (MAILBOXES - 1)];
        uint32_t uid = i;
        bench_deliver(f, &uid);
        written += MSG_BYTES;
        hot[nhot++] = (struct live){ f, uid };
        if (nhot > keep) {
            uint32_t k = bench_rng() % nhot;
            bench_expunge(hot[k].folder, hot[k].uid);
            hot[k] = hot[--nhot];
        }
    }
    struct store_stats s;
    store_stats(&st, &s);
    /* Erase counts as stored in the blocks (the format and first use of
     * a block count once). */
    uint64_t sum = 0;
    uint32_t max = 0, min = UINT32_MAX, nb = 0;
    for (uint32_t b = 0; b < st.nblocks; b++) {
        uint32_t e = mem.blocks[b].erase_count;
        sum += e;
        nb++;
        if (e > max)
            max = e;
        if (e < min)
            min = e;
    }
    double mean = (double)sum / nb;
    printf("erase spread: %.3f (max %u / mean %.2f erase count, min %u; 8 MiB flash written 5x, "
           "a third of it cold)\n", max / mean, max, mean, min);
    sim_flash_close(&fl);
}

static void bench_mount(const char *dir, uint64_t size, uint32_t erase)
{
    uint32_t msgs = (uint32_t)(size / MSG_BYTES);
    bench_tables(size, erase, msgs);
    char name[64];
    snprintf(name, sizeof(name), "mount-%" PRIu64 ".img", size);
    bench_open(dir, name, size, erase);
    uint32_t n = 0;
    double t0 = bench_now();
    for (;; n++) {
        uint32_t uid = n;
        int err = bench_commit(folders[n % MAILBOXES], &uid);
        if (err == PB_ENOSPC)
            break;
        if (err)
            bench_die("fill", err);
    }
    double fill = bench_now() - t0;
    struct store_stats s;
    store_stats(&st, &s);
    uint64_t index = (uint64_t)s.messages * sizeof(struct store_msg) + (uint64_t)s.blobs * sizeof(struct store_blob) +
                     (uint64_t)s.chunks * sizeof(struct store_chunk);
    t0 = bench_now();
    int err = store_mount(&st, &fl.dev, &mem);
    double mt = bench_now() - t0;
    if (err)
        bench_die("remount", err);
    store_stats(&st, &s);
    printf("mount time %" PRIu64 " MiB (%u KiB blocks): %.3f s for %u messages, %" PRIu64
           " MiB used (filled in %.1f s)\n", size >> 20, erase / 1024, mt, s.messages, s.used >> 20, fill);
    printf("index RAM per 1000 messages (%u KiB blocks): %" PRIu64 " bytes (+ %u bytes per erase block)\n",
           erase / 1024, index * 1000 / (s.messages ? s.messages : 1),
           (unsigned)(sizeof(struct store_block) + sizeof(uint32_t)));
    sim_flash_close(&fl);
    snprintf(name, sizeof(name), "%s/mount-%" PRIu64 ".img", dir, size);
    unlink(name);
}

static void bench_commits(const char *dir, uint32_t n)
{
    bench_tables(64ull << 20, 4096, n + 16);
    bench_open(dir, "commit.img", 64ull << 20, 4096);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t uid = i;
        int err = bench_commit(folders[i % MAILBOXES], &uid);
        if (err)
            bench_die("commit", err);
    }
    printf("committed: %u\n", n);
    sim_flash_close(&fl);
}

int main(int argc, char **argv)
{
    if (argc >= 4 && !strcmp(argv[1], "wa"))
        bench_wa(argv[2], (uint32_t)strtoul(argv[3], NULL, 0));
    else if (argc >= 3 && !strcmp(argv[1], "wear"))
        bench_wear(argv[2]);
    else if (argc >= 5 && !strcmp(argv[1], "mount"))
        bench_mount(argv[2], strtoull(argv[3], NULL, 0), (uint32_t)strtoul(argv[4], NULL, 0));
    else if (argc >= 4 && !strcmp(argv[1], "commit"))
        bench_commits(argv[2], (uint32_t)strtoul(argv[3], NULL, 0));
    else {
        fprintf(stderr, "usage: store_bench wa DIR ERASE | wear DIR | mount DIR SIZE ERASE | commit DIR N\n");
        return 2;
    }
    return 0;
}
