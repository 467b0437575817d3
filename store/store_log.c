/*
 * store_log.c - blocks and records: opening a block for the log head,
 * appending records, reading them back, and mounting (scanning every block
 * in use in sequence order and replaying what was committed).
 */
#include <string.h>

#include "hal_clock.h"
#include "store.h"

static int store_log_open(struct store *s, int reserve_ok);

uint32_t store_log_data_start(const struct store *s)
{
    return 2 * s->unit;
}

uint32_t store_log_free_blocks(const struct store *s)
{
    uint32_t n = 0;
    for (uint32_t b = 0; b < s->nblocks; b++)
        n += s->mem.blocks[b].state == STORE_BLK_FREE;
    return n;
}

static int store_log_program(struct store *s, uint64_t addr, const void *buf, size_t len)
{
    int err = hal_flash_program(s->flash, addr, buf, len);
    if (err == 0)
        s->bytes_programmed += len;
    return err;
}

/* The identity unit: magic, format, erase count; the open unit: sequence
 * number and id counter.  Each carries its own CRC. */
static void store_log_identity(struct store *s, uint8_t *u, uint32_t erase_count)
{
    memset(u, 0xFF, s->unit);
    store_put32(u, STORE_MAGIC);
    store_put16(u + 4, STORE_FORMAT);
    store_put16(u + 6, 0);
    store_put32(u + 8, erase_count);
    store_put32(u + 12, store_crc32c(0, u, 12));
}

static void store_log_openunit(struct store *s, uint8_t *u, uint64_t seq, uint32_t next_id)
{
    memset(u, 0xFF, s->unit);
    store_put64(u, seq);
    store_put32(u + 8, next_id);
    store_put32(u + 12, store_crc32c(0, u, 12));
}

/* Erase a free block and make it the head.  Prefers the least-erased free
 * block; a block that fails to erase or program is retired and another
 * tried.  reserve_ok: 0 ordinary writes (leave the reserve), 1 deletes
 * (leave one block for GC), 2 GC itself. */
static int store_log_open(struct store *s, int reserve_ok)
{
    uint32_t keep = reserve_ok == 0 ? STORE_RESERVE_BLOCKS : reserve_ok == 1 ? 1 : 0;
    for (;;) {
        if (store_log_free_blocks(s) <= keep)
            return PB_ENOSPC;
        uint32_t best = STORE_NONE;
        for (uint32_t b = 0; b < s->nblocks; b++) {
            struct store_block *k = &s->mem.blocks[b];
            if (k->state == STORE_BLK_FREE &&
                (best == STORE_NONE || k->erase_count < s->mem.blocks[best].erase_count))
                best = b;
        }
        struct store_block *k = &s->mem.blocks[best];
        uint64_t at = store_addr(s, best, 0);
        int err = hal_flash_erase(s->flash, at);
        s->erases++;
        k->erase_count++;
        if (err == 0) {
            store_log_identity(s, s->wbuf, k->erase_count);
            store_log_openunit(s, s->wbuf + s->unit, s->next_seq, s->next_id);
            err = store_log_program(s, at, s->wbuf, 2 * s->unit);
        }
        if (err) {
            /* A worn block: keep away from it from now on. */
            k->state = STORE_BLK_RETIRED;
            continue;
        }
        if (s->head != STORE_NONE) {
            struct store_block *h = &s->mem.blocks[s->head];
            h->state = STORE_BLK_USED;
            h->used = s->erase_size;    /* closed: its tail is dead space */
        }
        k->state = STORE_BLK_HEAD;
        k->seq = s->next_seq++;
        k->used = store_log_data_start(s);
        k->live = 0;
        k->tombs = 0;
        k->min_version = STORE_NONE;
        s->head = best;
        s->head_off = k->used;
        return 0;
    }
}

int store_log_ensure_head(struct store *s, int reserve_ok)
{
    return s->head == STORE_NONE ? store_log_open(s, reserve_ok) : 0;
}

int store_log_append(struct store *s, uint16_t type, uint32_t txn, const void *a, size_t alen,
                     const void *b, size_t blen, int reserve_ok, uint64_t *addr)
{
    uint32_t len = (uint32_t)(alen + blen);
    uint32_t total = store_align(s, STORE_REC_HDR + len);
    if (STORE_REC_HDR + len > STORE_REC_MAX || total > s->erase_size - store_log_data_start(s))
        return PB_EINVAL;
    if (s->head == STORE_NONE || s->head_off + total > s->erase_size) {
        int err = store_log_open(s, reserve_ok);
        if (err)
            return err;
    }
    uint8_t *r = s->wbuf;
    memset(r, 0xFF, total);
    store_put32(r + 4, len);
    store_put32(r + 8, txn);
    store_put16(r + 12, type);
    store_put16(r + 14, 0);
    if (alen)
        memcpy(r + STORE_REC_HDR, a, alen);
    if (blen)
        memcpy(r + STORE_REC_HDR + alen, b, blen);
    store_put32(r, store_crc32c(0, r + 4, STORE_REC_HDR - 4 + len));
    uint64_t at = store_addr(s, s->head, s->head_off);
    int err = store_log_program(s, at, r, total);
    if (err) {
        /* The block may hold a half-written record now: close it. */
        s->mem.blocks[s->head].state = STORE_BLK_USED;
        s->mem.blocks[s->head].used = s->erase_size;
        s->head = STORE_NONE;
        return err;
    }
    s->head_off += total;
    s->mem.blocks[s->head].used = s->head_off;
    if (addr)
        *addr = at;
    return 0;
}

int store_log_sync(struct store *s)
{
    return hal_flash_sync(s->flash);
}

/* Read the record at addr into buf (header and payload).  Returns the
 * payload length; PB_ENOENT when the space there is erased (the end of the
 * block's log); PB_ECORRUPT when the record fails its check. */
int store_log_read(struct store *s, uint64_t addr, uint8_t *buf, uint32_t limit,
                   uint16_t *type, uint32_t *txn)
{
    int err = hal_flash_read(s->flash, addr, buf, STORE_REC_HDR);
    if (err)
        return err;
    int erased = 1;
    for (uint32_t i = 0; i < STORE_REC_HDR; i++)
        erased &= buf[i] == 0xFF;
    if (erased)
        return PB_ENOENT;
    uint32_t len = store_get32(buf + 4);
    if (len > limit || STORE_REC_HDR + len > STORE_REC_MAX)
        return PB_ECORRUPT;
    if ((err = hal_flash_read(s->flash, addr + STORE_REC_HDR, buf + STORE_REC_HDR, len)))
        return err;
    if (store_crc32c(0, buf + 4, STORE_REC_HDR - 4 + len) != store_get32(buf))
        return PB_ECORRUPT;
    if (type)
        *type = store_get16(buf + 12);
    if (txn)
        *txn = store_get32(buf + 8);
    return (int)len;
}

/* Give a block back to the free pool.  Its open unit is programmed to
 * zero first, so that whatever is left in it is never replayed again (the
 * identity unit, with the erase count, stays readable). */
void store_log_release(struct store *s, uint32_t block)
{
    struct store_block *k = &s->mem.blocks[block];
    memset(s->wbuf, 0, s->unit);
    int err = store_log_program(s, store_addr(s, block, s->unit), s->wbuf, s->unit);
    if (err) {
        err = hal_flash_erase(s->flash, store_addr(s, block, 0));
        s->erases++;
        k->erase_count++;
    }
    k->state = err ? STORE_BLK_RETIRED : STORE_BLK_FREE;
    k->seq = 0;
    k->used = 0;
    k->live = 0;
    k->tombs = 0;
    k->min_version = STORE_NONE;
    if (s->head == block)
        s->head = STORE_NONE;
    /* A block gone may have been the last older one a kept tombstone
     * guarded against: look at those again. */
    for (uint32_t b = 0; b < s->nblocks; b++)
        s->mem.blocks[b].keeps = 0;
}

/* ------------------------------------------------------------ mount --- */

static void store_mount_sort(struct store *s, uint32_t *o, uint32_t n)
{
    /* Shell sort by sequence number: no recursion, no allocation. */
    for (uint32_t gap = n / 2; gap > 0; gap /= 2)
        for (uint32_t i = gap; i < n; i++) {
            uint32_t v = o[i];
            uint64_t key = s->mem.blocks[v].seq;
            uint32_t j = i;
            while (j >= gap && s->mem.blocks[o[j - gap]].seq > key) {
                o[j] = o[j - gap];
                j -= gap;
            }
            o[j] = v;
        }
}

static void store_mount_id(struct store *s, uint32_t id)
{
    if (id != STORE_NONE && id >= s->next_id)
        s->next_id = id + 1;
}

static int store_mount_record(struct store *s, uint32_t block, uint64_t addr, uint16_t type,
                              uint32_t txn, uint32_t len)
{
    const uint8_t *p = s->rbuf + STORE_REC_HDR;
    struct store_block *k = &s->mem.blocks[block];
    store_mount_id(s, txn);
    if (type == STORE_REC_CHUNK) {
        if (len < STORE_CHUNK_HDR)
            return 0;
        uint32_t blob = store_get32(p);
        store_mount_id(s, blob);
        if (blob < s->wipe_version)
            return 0;       /* written before a wipe */
        if (store_blob_find(s, blob) < 0) {
            int err = store_blob_new(s, blob, STORE_BLOB_PENDING);
            if (err < 0)
                return err;
        }
        return store_chunk_put(s, blob, store_get32(p + 4), addr);
    }
    if (type != STORE_REC_COMMIT)
        return 0;
    for (uint32_t off = 0; off + STORE_OP_HDR <= len;) {
        const uint8_t *op = p + off;
        uint32_t olen = store_op_len(op);
        if (olen > len - off)
            break;
        uint32_t version = store_get32(op + 4);
        store_mount_id(s, version);
        if (op[0] == STORE_OP_BLOB || op[0] == STORE_OP_MSG || op[0] == STORE_OP_MAILBOX)
            store_mount_id(s, store_get32(op + STORE_OP_HDR));
        if (op[0] == STORE_OP_FOLDER && store_get16(op + STORE_OP_HDR) >= s->next_folder)
            s->next_folder = (uint16_t)(store_get16(op + STORE_OP_HDR) + 1);
        if (version < k->min_version)
            k->min_version = version;
        int err = store_apply_op(s, op, addr, off, 1);
        if (err)
            return err;
        off += olen;
    }
    return 0;
}

/* Whether the record at off of block is a chunk that mount may index from
 * its header alone: its length is sane and another record (or the start of
 * one) follows it in the block, so it was programmed in full before power
 * could be lost (after a mount the log continues in a fresh block, so only
 * the last record of a block can be torn).  Its CRC is checked when the
 * chunk is read, and by store_check.  This keeps mount from reading every
 * byte of every message: it reads 24 bytes per chunk and the commit
 * records, which is about the size an index checkpoint would be, without
 * writing one.  On success the header and chunk header are in rbuf. */
static int store_mount_peek_chunk(struct store *s, uint32_t block, uint32_t off, uint32_t *len,
                                  uint32_t *txn)
{
    uint8_t *h = s->rbuf;
    if (hal_flash_read(s->flash, store_addr(s, block, off), h, STORE_REC_HDR + STORE_CHUNK_HDR))
        return 0;
    uint32_t n = store_get32(h + 4);
    if (store_get16(h + 12) != STORE_REC_CHUNK || n < STORE_CHUNK_HDR ||
        STORE_REC_HDR + n > STORE_REC_MAX)
        return 0;
    uint32_t next = off + store_align(s, STORE_REC_HDR + n);
    if (next + STORE_REC_HDR > s->erase_size)
        return 0;
    uint8_t after[STORE_REC_HDR];
    if (hal_flash_read(s->flash, store_addr(s, block, next), after, sizeof(after)))
        return 0;
    int erased = 1;
    for (uint32_t i = 0; i < sizeof(after); i++)
        erased &= after[i] == 0xFF;
    if (erased)
        return 0;
    *len = n;
    *txn = store_get32(h + 8);
    return 1;
}

static int store_mount_block(struct store *s, uint32_t block)
{
    uint32_t off = store_log_data_start(s);
    while (off + STORE_REC_HDR <= s->erase_size) {
        uint64_t addr = store_addr(s, block, off);
        uint16_t type;
        uint32_t txn, clen;
        if (store_mount_peek_chunk(s, block, off, &clen, &txn)) {
            int err = store_mount_record(s, block, addr, STORE_REC_CHUNK, txn, clen);
            if (err)
                return err;
            off += store_align(s, STORE_REC_HDR + clen);
            continue;
        }
        int n = store_log_read(s, addr, s->rbuf, s->erase_size - off - STORE_REC_HDR, &type, &txn);
        if (n == PB_ENOENT)
            break;
        if (n == PB_ECORRUPT) {
            /* Torn (the last thing written) or a flipped bit: if the length
             * still points at a valid record, skip this one; else the valid
             * part of the block ends here. */
            s->torn++;
            uint32_t len = store_get32(s->rbuf + 4);
            uint32_t next = off + store_align(s, STORE_REC_HDR + len);
            if (len <= STORE_REC_MAX && next + STORE_REC_HDR <= s->erase_size &&
                store_log_read(s, store_addr(s, block, next), s->cbuf,
                               s->erase_size - next - STORE_REC_HDR, NULL, NULL) >= 0) {
                off = next;
                continue;
            }
            break;
        }
        if (n < 0)
            return n;
        int err = store_mount_record(s, block, addr, type, txn, (uint32_t)n);
        if (err)
            return err;
        off += store_align(s, STORE_REC_HDR + (uint32_t)n);
    }
    return 0;
}

static int store_mount_init(struct store *s, const struct hal_flash *flash, const struct store_mem *mem)
{
    const struct hal_flash_geometry *g = &flash->geo;
    memset(s, 0, sizeof(*s));
    if (g->erase_size < 4096 || g->program_size == 0 || g->program_size > 256 ||
        (g->program_size & (g->program_size - 1)) || g->size % g->erase_size)
        return PB_EINVAL;
    s->flash = flash;
    s->mem = *mem;
    s->erase_size = g->erase_size;
    s->prog = g->program_size;
    s->unit = g->program_size < 16 ? 16 : g->program_size;
    uint64_t nb = g->size / g->erase_size;
    if (nb > mem->max_blocks || nb < STORE_RESERVE_BLOCKS + 2)
        return PB_EINVAL;
    s->nblocks = (uint32_t)nb;
    s->head = STORE_NONE;
    s->next_seq = 1;
    s->next_id = 1;
    s->next_folder = 1;
    s->cbuf_addr = ~0ull;
    for (int i = 0; i < STORE_TXN_MAX; i++) {
        s->txns[i].s = s;
        s->txns[i].slot = (uint8_t)i;
    }
    return 0;
}

int store_mount(struct store *s, const struct hal_flash *flash, const struct store_mem *mem)
{
    uint64_t t0 = hal_clock_ms();
    int err = store_mount_init(s, flash, mem);
    if (err)
        return err;

    /* Pass 1: every block header. */
    uint32_t nused = 0, known = 0;
    uint64_t erase_sum = 0;
    for (uint32_t b = 0; b < s->nblocks; b++) {
        struct store_block *k = &s->mem.blocks[b];
        memset(k, 0, sizeof(*k));
        k->min_version = STORE_NONE;
        k->erase_count = STORE_NONE;
        if ((err = hal_flash_read(flash, store_addr(s, b, 0), s->rbuf, 2 * s->unit)))
            return err;
        const uint8_t *id = s->rbuf, *op = s->rbuf + s->unit;
        if (store_get32(id) != STORE_MAGIC || store_get32(id + 12) != store_crc32c(0, id, 12))
            continue;   /* blank, torn erase, or not ours: free, count unknown */
        k->erase_count = store_get32(id + 8);
        erase_sum += k->erase_count;
        known++;
        if (store_get16(id + 4) != STORE_FORMAT || store_get32(op + 12) != store_crc32c(0, op, 12))
            continue;   /* released (open unit zeroed) or never opened */
        k->seq = store_get64(op);
        k->state = STORE_BLK_USED;
        k->used = s->erase_size;
        store_mount_id(s, store_get32(op + 8) - 1);
        if (k->seq >= s->next_seq)
            s->next_seq = k->seq + 1;
        s->mem.order[nused++] = b;
    }
    /* A block whose erase count was lost (its erase was cut) gets the mean. */
    uint32_t mean = known ? (uint32_t)(erase_sum / known) : 0;
    for (uint32_t b = 0; b < s->nblocks; b++)
        if (s->mem.blocks[b].erase_count == STORE_NONE)
            s->mem.blocks[b].erase_count = mean;

    /* Pass 2: every record, oldest block first. */
    store_mount_sort(s, s->mem.order, nused);
    for (uint32_t i = 0; i < nused; i++)
        if ((err = store_mount_block(s, s->mem.order[i])))
            return err;

    /* Folders of deleted mailboxes and messages of deleted folders. */
    store_index_orphans(s, 0);
    /* Blobs whose transaction never committed, and blobs nothing refers to
     * any more, are dead; reference counts come from the messages and the
     * records (queue entries) that name them. */
    for (uint32_t i = 0; i < s->nblobs; i++)
        s->mem.blobs[i].refs = 0;
    for (uint32_t i = 0; i < s->nmsgs; i++) {
        int bi = store_blob_find(s, s->mem.msgs[i].blob);
        if (bi >= 0)
            s->mem.blobs[bi].refs++;
    }
    for (uint32_t i = 0; i < s->nrecs; i++) {
        int bi = s->mem.recs[i].blob ? store_blob_find(s, s->mem.recs[i].blob) : -1;
        if (bi >= 0)
            s->mem.blobs[bi].refs++;
    }
    for (uint32_t i = s->nblobs; i-- > 0;)
        if (s->mem.blobs[i].state != STORE_BLOB_LIVE || s->mem.blobs[i].refs == 0)
            store_blob_drop(s, (int)i);
    store_account(s);
    /* Every id on flash, the open units' counters included, is below
     * next_id now: no version handed out before the power went (and so no
     * HIGHESTMODSEQ an IMAP client saw) can be above this. */
    s->modseq_high = s->next_id - 1;
    s->mount_ms = (uint32_t)(hal_clock_ms() - t0);
    return 0;
}

int store_format(struct store *s, const struct hal_flash *flash, const struct store_mem *mem)
{
    int err = store_mount_init(s, flash, mem);
    if (err)
        return err;
    for (uint32_t b = 0; b < s->nblocks; b++)
        if ((err = hal_flash_erase(flash, store_addr(s, b, 0))) && err != PB_EIO)
            return err;
    if ((err = hal_flash_sync(flash)))
        return err;
    return store_mount(s, flash, mem);
}
