/*
 * workload.c - the store's power-cut harness.
 *
 * A scripted, seeded workload (deliver messages to several mailboxes, set
 * flags, expunge, change a setting, put and delete named records, enqueue
 * outbound queue entries that share a delivery's body (or hold it alone),
 * update and complete them, create, rename and delete a folder with its
 * messages, create and delete a whole mailbox, wipe everything (factory
 * reset) and set up again, abort a delivery, run GC)
 * against the
 * sim flash.  Before each commit it appends to a journal what the
 * transaction changes; after the commit it appends what commit returned,
 * and fsyncs.  The checker remounts, runs the consistency check, and
 * compares the store with the journal: every acknowledged commit is there
 * in full, nothing else is - except that the one transaction in flight at
 * the cut may be there in full or not at all.  The store's highest modseq
 * after each acknowledged commit is journaled too ("H n"): after the cut
 * it must not be below any of them.
 *
 *   workload run FLASH JOURNAL [--seed S] [--txns K] [--powercut-after N]
 *   workload check FLASH JOURNAL
 *   workload count [--seed S] [--txns K]            flash operations of a whole run
 *   workload sweep DIR --from A --to B [--seed S] [--txns K]
 *   workload random DIR --runs R --max N [--cutseed C] [--seed S] [--txns K]
 *
 * sweep and random fork one run per cut point (the child loses power, the
 * parent checks) and print "runs R cut C failures F" as their last line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim_flash.h"
#include "store.h"

#define FLASH_BYTES (128u * 1024u)
#define ERASE_BYTES 4096u
#define PROG_BYTES  16u
#define NFOLDERS    3       /* the users' INBOXes, there from the setup on */
#define NSLOTS      5       /* plus slot 3: a folder of alice's that is created,
                               renamed and deleted; slot 4: dave's INBOX, his
                               mailbox created and deleted */
static const char *extra_names[2] = { "Extra", "Extra/Renamed" };
#define MAXMSG      4096

static struct store_block blocks[64];
static uint32_t order[64];
static struct store_msg msgs[1024];
static struct store_blob blobs[1024];
static struct store_chunk chunks[4096];
static struct store_rec recs[64];
static uint32_t rec_order[64];
static const struct store_mem mem = { blocks, 64, order, msgs, 1024, blobs, 1024, chunks, 4096,
                                      recs, rec_order, 64 };
static struct store st;
static const char *users[NFOLDERS] = { "alice@example.test", "bob@example.test", "carol@example.test" };

/* The model: what the journal says should be there. */
struct wmsg {
    int fidx;
    uint32_t uid, seed, size, flags;
    int alive;
};
#define NRECNAMES 12
struct wrec {
    uint32_t seed, len;
    int alive;
};
/* Queue entries: a value plus the body they keep alive. */
#define NQUEUE 6
struct wqueue {
    uint32_t seed, size;    /* the body */
    uint32_t vseed, vlen;   /* the value */
    int alive;
};
struct model {
    struct wmsg m[MAXMSG];
    int n;
    struct wrec r[NRECNAMES];
    struct wqueue q[NQUEUE];
    char hostname[64];
    int setup_done;
    int slot_alive[NSLOTS];     /* slots 3 and 4 */
    int extra_nm;               /* slot 3's name: extra_names[extra_nm] */
};

static uint64_t rng_state;
static uint32_t rng(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng_state >> 33);
}

static uint8_t pattern(uint32_t seed, uint32_t i)
{
    return (uint8_t)(seed * 131u + i * 7u + (i >> 9) + 1);
}

static int jfd = -1;
static void journal(int sync, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void journal(int sync, const char *fmt, ...)
{
    char line[160];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (write(jfd, line, (size_t)n) != n)
        _exit(3);
    if (sync)
        fsync(jfd);
}

static void queue_name(int i, char *name, size_t cap)
{
    snprintf(name, cap, "q%d", i);
}

/* Put queue entry qi keeping blob alive, with a fresh value; journals it. */
static int queue_put(struct store_txn *t, int k, int qi, uint32_t blob, uint32_t seed, uint32_t size)
{
    uint8_t v[STORE_REC_VALUE_MAX];
    char name[16];
    uint32_t vseed = rng(), vlen = 1 + rng() % 300;
    for (uint32_t j = 0; j < vlen; j++)
        v[j] = pattern(vseed, j);
    queue_name(qi, name, sizeof(name));
    journal(0, "E %d %d %u %u %u %u\n", k, qi, seed, size, vseed, vlen);
    return store_rec_put_blob(t, STORE_NS_QUEUE, name, blob, v, vlen);
}

/* The folder of slot fidx; nm picks slot 3's name. */
static int folder_id_nm(int fidx, int nm, uint16_t *folder)
{
    uint32_t mb;
    const char *user = fidx < NFOLDERS ? users[fidx] : fidx == 3 ? users[0] : "dave@example.test";
    int err = store_mailbox_find(&st, user, &mb);
    return err ? err : store_folder_find(&st, mb, fidx == 3 ? extra_names[nm] : "INBOX", folder);
}

static int folder_id(const struct model *w, int fidx, uint16_t *folder)
{
    return folder_id_nm(fidx, w->extra_nm, folder);
}

/* ------------------------------------------------------------ workload --- */

static int w_setup(int k)
{
    struct store_txn *t;
    int err = store_txn_begin(&st, &t);
    if (err)
        return err;
    journal(0, "B %d\nM %d\n", k, k);
    for (int i = 0; i < NFOLDERS && !err; i++) {
        uint32_t mb;
        uint16_t f;
        err = store_mailbox_create(t, users[i], &mb);
        if (!err)
            err = store_folder_create(t, mb, "INBOX", &f);
    }
    if (err) {
        store_txn_abort(t);
        return err;
    }
    return store_txn_commit(t);
}

static int w_deliver(int k, struct model *w, int do_abort)
{
    struct store_txn *t;
    uint32_t blob, seed = rng(), size = 50 + rng() % 6000;
    int nrcpt = 1 + (int)(rng() % NFOLDERS), first = (int)(rng() % NFOLDERS);
    /* A third of deliveries also queue the body for a remote recipient;
     * some of those have no local recipient at all. */
    int qi = -1;
    if (rng() % 3 == 0)
        for (int i = 0; i < NQUEUE; i++)
            if (!w->q[i].alive) {
                qi = i;
                nrcpt = rng() % 4 == 0 ? 0 : nrcpt;
                break;
            }
    uint8_t piece[1500];
    int err = store_txn_begin(&st, &t);
    if (err)
        return err;
    if (!do_abort)
        journal(0, "B %d\n", k);
    if ((err = store_blob_begin(t, &blob)))
        goto fail;
    for (uint32_t off = 0; off < size;) {
        uint32_t n = 1 + rng() % sizeof(piece);
        if (n > size - off)
            n = size - off;
        for (uint32_t i = 0; i < n; i++)
            piece[i] = pattern(seed, off + i);
        if ((err = store_blob_write(t, piece, n)))
            goto fail;
        off += n;
    }
    if ((err = store_blob_end(t)))
        goto fail;
    for (int r = 0; r < nrcpt; r++) {
        int fidx = (first + r) % NFOLDERS;
        uint16_t f;
        uint32_t uid;
        if ((err = folder_id(w, fidx, &f)) || (err = store_msg_add(t, f, blob, 0, 1700000000u, &uid)))
            goto fail;
        if (!do_abort)
            journal(0, "D %d %d %u %u %u\n", k, fidx, uid, seed, size);
    }
    for (int fidx = NFOLDERS; fidx < NSLOTS; fidx++) {
        uint16_t f;
        uint32_t uid;
        if (!w->slot_alive[fidx] || rng() % 2)
            continue;
        if ((err = folder_id(w, fidx, &f)) || (err = store_msg_add(t, f, blob, 0, 1700000000u, &uid)))
            goto fail;
        if (!do_abort)
            journal(0, "D %d %d %u %u %u\n", k, fidx, uid, seed, size);
    }
    if (qi >= 0 && !do_abort && (err = queue_put(t, k, qi, blob, seed, size)))
        goto fail;
    if (do_abort) {
        store_txn_abort(t);
        return 0;
    }
    return store_txn_commit(t);
fail:
    store_txn_abort(t);
    return err;
}

static int workload_live(const struct model *w)
{
    int live = 0;
    for (int i = 0; i < w->n; i++)
        live += w->m[i].alive;
    return live;
}

static int w_pick(const struct model *w)
{
    int live = 0;
    for (int i = 0; i < w->n; i++)
        live += w->m[i].alive;
    if (!live)
        return -1;
    int pick = (int)(rng() % (uint32_t)live);
    for (int i = 0; i < w->n; i++)
        if (w->m[i].alive && pick-- == 0)
            return i;
    return -1;
}

static int w_change(int k, struct model *w, int expunge)
{
    int i = w_pick(w);
    if (i < 0)
        return 1;   /* nothing to do */
    struct store_txn *t;
    uint16_t f;
    uint32_t flags = rng() & 0x1F;
    int err = store_txn_begin(&st, &t);
    if (err)
        return err;
    journal(0, "B %d\n", k);
    if (!(err = folder_id(w, w->m[i].fidx, &f))) {
        if (expunge) {
            journal(0, "X %d %d %u\n", k, w->m[i].fidx, w->m[i].uid);
            err = store_msg_expunge(t, f, w->m[i].uid);
        } else {
            journal(0, "F %d %d %u %u\n", k, w->m[i].fidx, w->m[i].uid, flags);
            err = store_msg_set_flags(t, f, w->m[i].uid, flags);
        }
    }
    if (err) {
        store_txn_abort(t);
        return err;
    }
    return store_txn_commit(t);
}

static int w_setting(int k)
{
    char name[64];
    struct store_txn *t;
    snprintf(name, sizeof(name), "host%u.example.test", rng() % 100000);
    int err = store_txn_begin(&st, &t);
    if (err)
        return err;
    journal(0, "B %d\nS %d %s\n", k, k, name);
    if ((err = store_setting_set(t, "hostname", STORE_T_STR, name, strlen(name)))) {
        store_txn_abort(t);
        return err;
    }
    return store_txn_commit(t);
}

/* Named records: NRECNAMES names spread over two namespaces. */
static enum store_ns rec_ns(int i)
{
    return i % 2 ? STORE_NS_ALIAS : STORE_NS_USER;
}

static void rec_name(int i, char *name, size_t cap)
{
    snprintf(name, cap, "user%d@example.test", i);
}

/* One to three puts or deletes of named records in one transaction. */
static int w_records(int k, const struct model *w)
{
    struct store_txn *t;
    int err = store_txn_begin(&st, &t);
    if (err)
        return err;
    journal(0, "B %d\n", k);
    int n = 1 + (int)(rng() % 3), done[NRECNAMES] = { 0 };
    for (int c = 0; c < n && !err; c++) {
        int i = (int)(rng() % NRECNAMES);
        char name[64];
        if (done[i])
            continue;   /* one change per name keeps the journal simple */
        done[i] = 1;
        rec_name(i, name, sizeof(name));
        if (w->r[i].alive && rng() % 3 == 0) {
            journal(0, "Q %d %d\n", k, i);
            err = store_rec_del(t, rec_ns(i), name);
        } else {
            uint8_t v[STORE_REC_VALUE_MAX];
            uint32_t seed = rng(), len = rng() % 400;
            for (uint32_t j = 0; j < len; j++)
                v[j] = pattern(seed, j);
            journal(0, "R %d %d %u %u\n", k, i, seed, len);
            err = store_rec_put(t, rec_ns(i), name, v, len);
        }
    }
    if (err) {
        store_txn_abort(t);
        return err;
    }
    return store_txn_commit(t);
}

/* Slot 3 (a folder of alice's): create, rename or delete it; slot 4
 * (dave's mailbox): create or delete it. */
static int w_slots(int k, const struct model *w)
{
    int slot = NFOLDERS + (int)(rng() % 2);
    struct store_txn *t;
    uint32_t mb;
    uint16_t f;
    int err = store_txn_begin(&st, &t);
    if (err)
        return err;
    journal(0, "B %d\n", k);
    if (!w->slot_alive[slot]) {
        journal(0, "C %d %d\n", k, slot);
        if (slot == 3)
            err = store_mailbox_find(&st, users[0], &mb);
        else
            err = store_mailbox_create(t, "dave@example.test", &mb);
        if (!err)
            err = store_folder_create(t, mb, slot == 3 ? extra_names[0] : "INBOX", &f);
    } else if (slot == 3 && rng() % 2) {
        journal(0, "N %d\n", k);
        if (!(err = folder_id(w, 3, &f)))
            err = store_folder_rename(t, f, extra_names[!w->extra_nm]);
    } else {
        journal(0, "K %d %d\n", k, slot);
        if (slot == 3) {
            if (!(err = folder_id(w, 3, &f)))
                err = store_folder_delete(t, f);
        } else if (!(err = store_mailbox_find(&st, "dave@example.test", &mb))) {
            err = store_mailbox_delete(t, mb);
        }
    }
    if (err) {
        store_txn_abort(t);
        return err;
    }
    return store_txn_commit(t);
}

/* Factory reset: everything goes in one commit. */
static int w_wipe(int k)
{
    journal(0, "B %d\nW %d\n", k, k);
    return store_wipe(&st);
}

/* An attempt on a queue entry: updated in place (same body), or done. */
static int w_queue(int k, const struct model *w)
{
    int live[NQUEUE], n = 0;
    for (int i = 0; i < NQUEUE; i++)
        if (w->q[i].alive)
            live[n++] = i;
    if (!n)
        return 1;
    int qi = live[rng() % (uint32_t)n];
    char name[16];
    uint32_t blob = 0;
    queue_name(qi, name, sizeof(name));
    struct store_txn *t;
    int err = store_rec_blob(&st, STORE_NS_QUEUE, name, &blob);
    if (err || (err = store_txn_begin(&st, &t)))
        return err;
    journal(0, "B %d\n", k);
    if (rng() % 2) {
        journal(0, "Z %d %d\n", k, qi);
        err = store_rec_del(t, STORE_NS_QUEUE, name);
    } else {
        err = queue_put(t, k, qi, blob, w->q[qi].seed, w->q[qi].size);
    }
    if (err) {
        store_txn_abort(t);
        return err;
    }
    return store_txn_commit(t);
}

static int model_apply_line(struct model *w, const char *line);
static uint64_t workload_ops;

/* Runs the workload; returns 0 when it ran to the end. */
static int workload_run(const char *flash, const char *jpath, uint64_t seed, int txns, uint64_t cut)
{
    static struct sim_flash fl;
    static struct model w;
    memset(&w, 0, sizeof(w));
    rng_state = seed * 2654435761u + 1;
    if (sim_flash_open(&fl, flash, FLASH_BYTES, ERASE_BYTES, PROG_BYTES, cut))
        return 2;
    jfd = open(jpath, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    if (jfd < 0 || store_mount(&st, &fl.dev, &mem))
        return 2;
    for (int k = 0; k < txns; k++) {
        uint32_t r = k == 0 ? 0 : rng() % 100;
        int err;
        char buf[4096];
        off_t before = lseek(jfd, 0, SEEK_END);
        if (k == 0 || !w.setup_done)
            err = w_setup(k);
        else if (r < 42 && workload_live(&w) < 10)
            err = w_deliver(k, &w, 0);
        else if (r < 42)
            err = w_change(k, &w, 1);
        else if (r < 55)
            err = w_change(k, &w, 0);
        else if (r < 72)
            err = w_change(k, &w, 1);
        else if (r < 78)
            err = w_slots(k, &w);
        else if (r < 84)
            err = w_setting(k);
        else if (r < 89)
            err = w_records(k, &w);
        else if (r < 94)
            err = w_queue(k, &w);
        else if (r >= 98)
            err = w_wipe(k);
        else
            err = w_deliver(k, &w, 1);
        if (err == 1)
            continue;
        journal(1, "A %d %d\n", k, err);
        if (err == 0)
            journal(1, "H %lu\n", (unsigned long)store_modseq_high(&st));
        if (err == 0) {
            /* Keep the workload's own view: replay this transaction's lines. */
            off_t after = lseek(jfd, 0, SEEK_END);
            int rfd = open(jpath, O_RDONLY);
            ssize_t n = pread(rfd, buf, sizeof(buf) - 1, before);
            close(rfd);
            if (n > 0 && after > before) {
                buf[n] = '\0';
                for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
                    model_apply_line(&w, line);
            }
        }
        if (store_gc_step(&st, k % 10 == 9 || err == PB_ENOSPC) < 0)
            return 4;
        if (k % 16 == 15) {
            /* A reboot without a power cut, then GC before anything is
             * written: the newest block may be a victim while no head is
             * open, and the modseq counter must not go back. */
            uint32_t high = store_modseq_high(&st);
            if (store_mount(&st, &fl.dev, &mem))
                return 2;
            if (store_modseq_high(&st) < high)
                return 5;
            if (store_gc_step(&st, 1) < 0)
                return 4;
        }
    }
    close(jfd);
    workload_ops = fl.ops;
    sim_flash_close(&fl);
    return 0;
}

/* ------------------------------------------------------------- checker --- */

static int model_apply_line(struct model *w, const char *line)
{
    int k, fidx;
    unsigned uid, seed, size, flags;
    char name[64];
    if (sscanf(line, "D %d %d %u %u %u", &k, &fidx, &uid, &seed, &size) == 5) {
        if (w->n < MAXMSG)
            w->m[w->n++] = (struct wmsg){ fidx, uid, seed, size, 0, 1 };
    } else if (sscanf(line, "F %d %d %u %u", &k, &fidx, &uid, &flags) == 4) {
        for (int i = 0; i < w->n; i++)
            if (w->m[i].alive && w->m[i].fidx == fidx && w->m[i].uid == uid)
                w->m[i].flags = flags;
    } else if (sscanf(line, "X %d %d %u", &k, &fidx, &uid) == 3) {
        for (int i = 0; i < w->n; i++)
            if (w->m[i].alive && w->m[i].fidx == fidx && w->m[i].uid == uid)
                w->m[i].alive = 0;
    } else if (sscanf(line, "R %d %d %u %u", &k, &fidx, &seed, &size) == 4) {
        if (fidx >= 0 && fidx < NRECNAMES)
            w->r[fidx] = (struct wrec){ seed, size, 1 };
    } else if (sscanf(line, "E %d %d %u %u %u %u", &k, &fidx, &seed, &size, &uid, &flags) == 6) {
        if (fidx >= 0 && fidx < NQUEUE)
            w->q[fidx] = (struct wqueue){ seed, size, uid, flags, 1 };
    } else if (sscanf(line, "C %d %d", &k, &fidx) == 2) {
        if (fidx >= NFOLDERS && fidx < NSLOTS) {
            w->slot_alive[fidx] = 1;
            if (fidx == 3)
                w->extra_nm = 0;
        }
    } else if (sscanf(line, "K %d %d", &k, &fidx) == 2) {
        if (fidx >= NFOLDERS && fidx < NSLOTS) {
            w->slot_alive[fidx] = 0;
            for (int i = 0; i < w->n; i++)
                if (w->m[i].fidx == fidx)
                    w->m[i].alive = 0;
        }
    } else if (sscanf(line, "N %d", &k) == 1) {
        w->extra_nm = !w->extra_nm;
    } else if (sscanf(line, "Z %d %d", &k, &fidx) == 2) {
        if (fidx >= 0 && fidx < NQUEUE)
            w->q[fidx].alive = 0;
    } else if (sscanf(line, "Q %d %d", &k, &fidx) == 2) {
        if (fidx >= 0 && fidx < NRECNAMES)
            w->r[fidx].alive = 0;
    } else if (sscanf(line, "S %d %63s", &k, name) == 2) {
        strcpy(w->hostname, name);
    } else if (sscanf(line, "W %d", &k) == 1) {
        memset(w, 0, sizeof(*w));
    } else if (sscanf(line, "M %d", &k) == 1) {
        w->setup_done = 1;
    }
    return 0;
}

static char why[256];

/* Whether blob holds size bytes of pattern(seed). */
static int body_equal(uint32_t blob, uint32_t seed, uint32_t size, const char *what)
{
    uint8_t buf[1024];
    uint32_t got = 0;
    if (store_blob_size(&st, blob, &got) || got != size) {
        snprintf(why, sizeof(why), "%s: body size %u, expected %u", what, got, size);
        return 0;
    }
    for (uint32_t off = 0; off < size;) {
        int r = store_blob_read(&st, blob, off, buf, sizeof(buf));
        if (r <= 0) {
            snprintf(why, sizeof(why), "%s: body read: %s", what, pb_err_str(r));
            return 0;
        }
        for (int i = 0; i < r; i++)
            if (buf[i] != pattern(seed, off + (uint32_t)i)) {
                snprintf(why, sizeof(why), "%s: body differs at %u", what, off + (uint32_t)i);
                return 0;
            }
        off += (uint32_t)r;
    }
    return 1;
}

/* Whether the store holds exactly the model's state. */
static int check_equal(const struct model *w)
{
    char v[STORE_VALUE_MAX + 1];
    int n = store_setting_get(&st, "hostname", NULL, v, STORE_VALUE_MAX);
    if (n < 0 && w->hostname[0]) {
        snprintf(why, sizeof(why), "hostname missing, expected %s", w->hostname);
        return 0;
    }
    if (n >= 0) {
        v[n] = '\0';
        if (strcmp(v, w->hostname)) {
            snprintf(why, sizeof(why), "hostname %.100s, expected %.63s", v, w->hostname);
            return 0;
        }
    }
    int expect_recs = 0, seen_recs = 0;
    for (int i = 0; i < NRECNAMES; i++) {
        char rn[64];
        uint8_t rv[STORE_REC_VALUE_MAX];
        rec_name(i, rn, sizeof(rn));
        int rl = store_rec_get(&st, rec_ns(i), rn, rv, sizeof(rv));
        if (!w->r[i].alive) {
            if (rl != PB_ENOENT) {
                snprintf(why, sizeof(why), "record %s: %d, expected none", rn, rl);
                return 0;
            }
            continue;
        }
        expect_recs++;
        if (rl != (int)w->r[i].len) {
            snprintf(why, sizeof(why), "record %s: %d, expected %u bytes", rn, rl, w->r[i].len);
            return 0;
        }
        for (int j = 0; j < rl; j++)
            if (rv[j] != pattern(w->r[i].seed, (uint32_t)j)) {
                snprintf(why, sizeof(why), "record %s differs at %d", rn, j);
                return 0;
            }
    }
    for (int i = 0; i < NQUEUE; i++) {
        char qn[16];
        uint8_t qv[STORE_REC_VALUE_MAX];
        uint32_t blob;
        queue_name(i, qn, sizeof(qn));
        int ql = store_rec_get(&st, STORE_NS_QUEUE, qn, qv, sizeof(qv));
        if (!w->q[i].alive) {
            if (ql != PB_ENOENT) {
                snprintf(why, sizeof(why), "queue entry %s: %d, expected none", qn, ql);
                return 0;
            }
            continue;
        }
        expect_recs++;
        if (ql != (int)w->q[i].vlen || store_rec_blob(&st, STORE_NS_QUEUE, qn, &blob)) {
            snprintf(why, sizeof(why), "queue entry %s: %d, expected %u bytes", qn, ql, w->q[i].vlen);
            return 0;
        }
        for (int j = 0; j < ql; j++)
            if (qv[j] != pattern(w->q[i].vseed, (uint32_t)j)) {
                snprintf(why, sizeof(why), "queue entry %s differs at %d", qn, j);
                return 0;
            }
        if (!body_equal(blob, w->q[i].seed, w->q[i].size, qn))
            return 0;
    }
    for (enum store_ns ns = STORE_NS_DOMAIN; ns <= STORE_NS_LAST; ns++) {
        char rn[STORE_REC_NAME_MAX + 1] = "";
        while (store_rec_next(&st, ns, rn, rn, sizeof(rn)) > 0)
            seen_recs++;
    }
    if (seen_recs != expect_recs) {
        snprintf(why, sizeof(why), "%d records, expected %d", seen_recs, expect_recs);
        return 0;
    }
    for (int fidx = 0; fidx < NSLOTS; fidx++) {
        uint16_t f;
        int want = fidx < NFOLDERS ? w->setup_done : w->slot_alive[fidx];
        /* Slot 3 is never there under its other name. */
        if (fidx == 3 && folder_id_nm(3, !w->extra_nm, &f) == 0) {
            snprintf(why, sizeof(why), "folder %s exists, expected %s", extra_names[!w->extra_nm],
                     want ? extra_names[w->extra_nm] : "neither");
            return 0;
        }
        if (fidx == 4 && !want) {
            uint32_t mb;
            if (store_mailbox_find(&st, "dave@example.test", &mb) == 0) {
                snprintf(why, sizeof(why), "mailbox of dave exists, expected none");
                return 0;
            }
        }
        if (folder_id(w, fidx, &f)) {
            if (want) {
                snprintf(why, sizeof(why), "folder %d missing", fidx);
                return 0;
            }
            continue;
        }
        if (!want) {
            snprintf(why, sizeof(why), "folder %d exists, expected none", fidx);
            return 0;
        }
        int expect = 0;
        for (int i = 0; i < w->n; i++)
            expect += w->m[i].alive && w->m[i].fidx == fidx;
        struct store_msg_info mi;
        uint32_t after = 0;
        int seen = 0;
        while (store_msg_next(&st, f, after, &mi) == 0) {
            after = mi.uid;
            seen++;
            const struct wmsg *m = NULL;
            for (int i = 0; i < w->n; i++)
                if (w->m[i].alive && w->m[i].fidx == fidx && w->m[i].uid == mi.uid)
                    m = &w->m[i];
            if (!m) {
                snprintf(why, sizeof(why), "folder %d uid %u should not exist", fidx, mi.uid);
                return 0;
            }
            if (m->flags != mi.flags || m->size != mi.size) {
                snprintf(why, sizeof(why), "folder %d uid %u flags %u size %u, expected %u %u", fidx,
                         mi.uid, mi.flags, mi.size, m->flags, m->size);
                return 0;
            }
            uint8_t buf[1024];
            for (uint32_t off = 0; off < mi.size;) {
                int r = store_blob_read(&st, mi.blob, off, buf, sizeof(buf));
                if (r <= 0) {
                    snprintf(why, sizeof(why), "folder %d uid %u body read: %s", fidx, mi.uid,
                             pb_err_str(r));
                    return 0;
                }
                for (int i = 0; i < r; i++)
                    if (buf[i] != pattern(m->seed, off + (uint32_t)i)) {
                        snprintf(why, sizeof(why), "folder %d uid %u body differs at %u", fidx,
                                 mi.uid, off + (uint32_t)i);
                        return 0;
                    }
                off += (uint32_t)r;
            }
        }
        if (seen != expect) {
            snprintf(why, sizeof(why), "folder %d has %d messages, expected %d", fidx, seen, expect);
            return 0;
        }
    }
    return 1;
}

/* Returns 0 when the store matches the journal. */
static int workload_check(const char *flash, const char *jpath)
{
    static struct sim_flash fl;
    static struct model done, inflight;
    memset(&done, 0, sizeof(done));
    if (sim_flash_open(&fl, flash, 0, ERASE_BYTES, PROG_BYTES, 0)) {
        fprintf(stderr, "check: cannot open flash\n");
        return 1;
    }
    int err = store_mount(&st, &fl.dev, &mem);
    if (err) {
        fprintf(stderr, "check: mount failed: %s\n", pb_err_str(err));
        sim_flash_close(&fl);
        return 1;
    }
    struct store_check_report r;
    if (store_check(&st, &r)) {
        fprintf(stderr, "check: consistency: %u problems, first: %s\n", r.problems, r.first);
        sim_flash_close(&fl);
        return 1;
    }
    /* Replay the journal: a transaction's lines count once its "A k 0" is there. */
    FILE *j = fopen(jpath, "r");
    static char pend[64][160];
    int npend = 0, open_k = -1;
    char line[160];
    unsigned long high = 0, h;
    while (j && fgets(line, sizeof(line), j)) {
        int k, rc;
        if (sscanf(line, "H %lu", &h) == 1) {
            if (h > high)
                high = h;   /* an IMAP client may have seen it as HIGHESTMODSEQ */
        } else if (sscanf(line, "B %d", &k) == 1) {
            open_k = k;
            npend = 0;
        } else if (sscanf(line, "A %d %d", &k, &rc) == 2) {
            if (rc == 0)
                for (int i = 0; i < npend; i++)
                    model_apply_line(&done, pend[i]);
            open_k = -1;
            npend = 0;
        } else if (npend < 64) {
            strcpy(pend[npend++], line);
        }
    }
    if (j)
        fclose(j);
    if (store_modseq_high(&st) < high) {
        fprintf(stderr, "check: highest modseq %lu, an acknowledged commit had %lu\n",
                (unsigned long)store_modseq_high(&st), high);
        sim_flash_close(&fl);
        return 1;
    }
    int ok = check_equal(&done);
    if (!ok && open_k >= 0) {
        char first[256];
        strcpy(first, why);
        inflight = done;
        for (int i = 0; i < npend; i++)
            model_apply_line(&inflight, pend[i]);
        ok = check_equal(&inflight);
        if (!ok)
            fprintf(stderr, "check: without txn %d: %s; with it: %s\n", open_k, first, why);
    } else if (!ok) {
        fprintf(stderr, "check: %s\n", why);
    }
    sim_flash_close(&fl);
    return ok ? 0 : 1;
}

/* -------------------------------------------------------------- drivers --- */


static uint64_t workload_count(uint64_t seed, int txns, const char *dir)
{
    char flash[512], jpath[512];
    snprintf(flash, sizeof(flash), "%s/count-%d.img", dir, (int)getpid());
    snprintf(jpath, sizeof(jpath), "%s/count-%d.journal", dir, (int)getpid());
    unlink(flash);
    int rc = workload_run(flash, jpath, seed, txns, 0);
    unlink(flash);
    unlink(jpath);
    return rc == 0 ? workload_ops : 0;
}

/* One cut run at n, then its check; returns 0 when consistent. */
static int one_cut(const char *dir, uint64_t seed, int txns, uint64_t n, int *was_cut)
{
    char flash[512], jpath[512];
    snprintf(flash, sizeof(flash), "%s/cut-%d.img", dir, (int)getpid());
    snprintf(jpath, sizeof(jpath), "%s/cut-%d.journal", dir, (int)getpid());
    unlink(flash);
    unlink(jpath);
    pid_t pid = fork();
    if (pid < 0)
        return 1;
    if (pid == 0)
        _exit(workload_run(flash, jpath, seed, txns, n));
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return 1;
    int code = WEXITSTATUS(status);
    *was_cut = code == SIM_FLASH_POWERCUT_STATUS;
    if (code != 0 && code != SIM_FLASH_POWERCUT_STATUS) {
        fprintf(stderr, "cut %llu: workload exit %d\n", (unsigned long long)n, code);
        return 1;
    }
    int bad = workload_check(flash, jpath);
    if (bad)
        fprintf(stderr, "cut %llu (seed %llu, txns %d): FAILED\n", (unsigned long long)n,
                (unsigned long long)seed, txns);
    unlink(flash);
    unlink(jpath);
    return bad;
}

static const char *opt(int argc, char **argv, const char *name, const char *def)
{
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], name))
            return argv[i + 1];
    return def;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: workload run|check|sweep|random ... (see workload.c)\n");
        return 2;
    }
    uint64_t seed = strtoull(opt(argc, argv, "--seed", "1"), NULL, 0);
    int txns = atoi(opt(argc, argv, "--txns", "120"));
    const char *mode = argv[1];
    if (!strcmp(mode, "run") && argc >= 4)
        return workload_run(argv[2], argv[3], seed, txns,
                            strtoull(opt(argc, argv, "--powercut-after", "0"), NULL, 0));
    if (!strcmp(mode, "check") && argc >= 4)
        return workload_check(argv[2], argv[3]);
    if (!strcmp(mode, "count") && argc >= 3) {
        uint64_t n = workload_count(seed, txns, argv[2]);
        printf("%llu\n", (unsigned long long)n);
        return n ? 0 : 1;
    }
    if ((!strcmp(mode, "sweep") || !strcmp(mode, "random")) && argc >= 3) {
        const char *dir = argv[2];
        uint64_t from = strtoull(opt(argc, argv, "--from", "1"), NULL, 0);
        uint64_t to = strtoull(opt(argc, argv, "--to", "100"), NULL, 0);
        uint64_t runs = strtoull(opt(argc, argv, "--runs", "0"), NULL, 0);
        uint64_t max = strtoull(opt(argc, argv, "--max", "1000"), NULL, 0);
        int random = !strcmp(mode, "random");
        uint64_t total = random ? runs : to - from + 1, cuts = 0, fails = 0;
        uint64_t rs = strtoull(opt(argc, argv, "--cutseed", "1"), NULL, 0) * 7919 + 17;
        for (uint64_t i = 0; i < total; i++) {
            uint64_t n;
            if (random) {
                rs = rs * 6364136223846793005ull + 1442695040888963407ull;
                n = 1 + (rs >> 33) % max;
            } else {
                n = from + i;
            }
            int was_cut = 0;
            fails += one_cut(dir, seed, txns, n, &was_cut) != 0;
            cuts += was_cut;
        }
        printf("runs %llu cut %llu failures %llu\n", (unsigned long long)total,
               (unsigned long long)cuts, (unsigned long long)fails);
        return fails ? 1 : 0;
    }
    fprintf(stderr, "workload: bad arguments\n");
    return 2;
}
