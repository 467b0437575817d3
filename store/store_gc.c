/*
 * store_gc.c - garbage collection and wear levelling.
 *
 * One step reclaims one block: it copies the block's live records to the
 * log head (chunks verbatim, live operations gathered into new commit
 * records that keep each operation's version), syncs, then releases the
 * block.  The victim is the block with the most dead bytes, or, every
 * STORE_GC_WEAR_EVERY-th step, the least-erased block in use, so that
 * blocks holding cold data take their share of erases.  New heads are
 * taken from the least-erased free blocks (store_log.c).
 */
#include <string.h>

#include "store.h"

/* Every 8th step: erase spread 1.31 in make bench (every 16th: 1.59). */
#define STORE_GC_WEAR_EVERY 8u

/* Whether free blocks are above the low-water mark: then GC only
 * releases blocks with nothing live, without copying. */
static int store_gc_roomy(const struct store *s)
{
    return store_log_free_blocks(s) > STORE_RESERVE_BLOCKS + 1 + s->nblocks / 8;
}

/* Bytes a step would win back from k.  Tombstones that GC copied count
 * as kept: a block of nothing else is not worth copying again (it would
 * win nothing and, picked again and again, wear the flash for ever). */
static uint32_t store_gc_dead(const struct store_block *k)
{
    uint32_t kept = k->live + k->tombs;
    return k->used > kept ? k->used - kept : 0;
}

static uint32_t store_gc_pick(struct store *s, int force)
{
    uint32_t best = STORE_NONE, cold = STORE_NONE, empty = STORE_NONE, max_erase = 0;
    for (uint32_t b = 0; b < s->nblocks; b++) {
        const struct store_block *k = &s->mem.blocks[b];
        if (k->erase_count > max_erase && k->state != STORE_BLK_RETIRED)
            max_erase = k->erase_count;
        if (k->state != STORE_BLK_USED)
            continue;
        uint32_t dead = store_gc_dead(k);
        if (k->live == 0 && !k->keeps && empty == STORE_NONE)
            empty = b;
        if (best == STORE_NONE || dead > store_gc_dead(&s->mem.blocks[best]) ||
            (dead == store_gc_dead(&s->mem.blocks[best]) && k->erase_count < s->mem.blocks[best].erase_count))
            best = b;
        if (cold == STORE_NONE || k->erase_count < s->mem.blocks[cold].erase_count)
            cold = b;
    }
    if (best == STORE_NONE)
        return STORE_NONE;
    /* With room to spare, only a block with nothing live is released (no
     * copy; mount reads fewer blocks).  Copying the live rest of a block
     * early is wasted when that rest dies soon too, as queue entries and
     * their bodies do a few seconds after they were written. */
    if (!force && store_gc_roomy(s))
        return empty;
    if (s->gc_count % STORE_GC_WEAR_EVERY == STORE_GC_WEAR_EVERY - 1 &&
        max_erase > s->mem.blocks[cold].erase_count + 2)
        return cold;
    /* A block with little dead data is not worth its erase: copying it
     * would cost more than it wins back; with at least half a block
     * dead, every step gains free space, so repeated steps end. */
    return store_gc_dead(&s->mem.blocks[best]) >= s->erase_size / 2 ? best : STORE_NONE;
}

/* Write the gathered operations as one commit record and move their
 * objects' ownership to where it landed. */
static int store_gc_flush(struct store *s, uint32_t *len)
{
    if (*len == 0)
        return 0;
    uint64_t addr;
    int err = store_log_append(s, STORE_REC_COMMIT, s->next_id++, s->gcops, *len, NULL, 0, 2, &addr);
    if (err)
        return err;
    uint32_t block = (uint32_t)(addr / s->erase_size);
    for (uint32_t off = 0; off < *len; off += store_op_len(s->gcops + off)) {
        const uint8_t *op = s->gcops + off;
        uint32_t v = store_get32(op + 4);
        if (v < s->mem.blocks[block].min_version)
            s->mem.blocks[block].min_version = v;
        store_apply_op(s, op, addr, off, 0);
        if (op[0] == STORE_OP_MSG_DEL || op[0] == STORE_OP_REC_DEL || op[0] == STORE_OP_FOLDER_DEL ||
            op[0] == STORE_OP_MAILBOX_DEL || op[0] == STORE_OP_WIPE)
            s->mem.blocks[block].tombs += (uint16_t)store_op_len(op);
    }
    *len = 0;
    return 0;
}

static int store_gc_commit(struct store *s, uint32_t victim, uint32_t len, uint32_t *gclen)
{
    const uint8_t *p = s->rbuf + STORE_REC_HDR;
    for (uint32_t off = 0; off + STORE_OP_HDR <= len;) {
        const uint8_t *op = p + off;
        uint32_t olen = store_op_len(op);
        if (olen > len - off)
            break;
        if (store_op_live(s, op, victim)) {
            if (*gclen + olen > STORE_TXN_OPS_BYTES) {
                /* The record being read stays in rbuf: flushing writes from gcops. */
                int err = store_gc_flush(s, gclen);
                if (err)
                    return err;
            }
            memcpy(s->gcops + *gclen, op, olen);
            *gclen += olen;
        }
        off += olen;
    }
    return 0;
}

static int store_gc_block(struct store *s, uint32_t victim)
{
    uint32_t off = store_log_data_start(s), gclen = 0;
    int err = 0;
    while (off + STORE_REC_HDR <= s->erase_size) {
        uint64_t addr = store_addr(s, victim, off);
        uint16_t type;
        uint32_t txn;
        int n = store_log_read(s, addr, s->rbuf, s->erase_size - off - STORE_REC_HDR, &type, &txn);
        if (n == PB_ENOENT)
            break;
        if (n == PB_ECORRUPT) {
            /* A record that fails its CRC is never copied (that would give
             * damaged data a valid CRC).  Mount indexes chunks from their
             * headers, so a chunk damaged since it was written may be in
             * the index: it is forgotten, and the blob reads as damaged
             * (PB_ECORRUPT) and store_check reports the hole.  Then skip
             * the record if the next one is intact. */
            uint8_t ch[STORE_CHUNK_HDR];
            if (store_get16(s->rbuf + 12) == STORE_REC_CHUNK &&
                hal_flash_read(s->flash, addr + STORE_REC_HDR, ch, sizeof(ch)) == 0) {
                int ci = store_chunk_find(s, store_get32(ch), store_get32(ch + 4));
                if (ci >= 0 && s->mem.chunks[ci].addr == addr)
                    store_chunk_forget(s, ci);
            }
            uint32_t next = off + store_align(s, STORE_REC_HDR + store_get32(s->rbuf + 4));
            if (store_get32(s->rbuf + 4) <= STORE_REC_MAX && next + STORE_REC_HDR <= s->erase_size &&
                store_log_read(s, store_addr(s, victim, next), s->cbuf,
                               s->erase_size - next - STORE_REC_HDR, NULL, NULL) >= 0) {
                s->cbuf_addr = ~0ull;
                off = next;
                continue;
            }
            s->cbuf_addr = ~0ull;
            break;
        }
        if (n < 0)
            return n;
        if (type == STORE_REC_CHUNK && (uint32_t)n >= STORE_CHUNK_HDR) {
            int ci = store_chunk_find(s, store_get32(s->rbuf + STORE_REC_HDR),
                                      store_get32(s->rbuf + STORE_REC_HDR + 4));
            if (ci >= 0 && s->mem.chunks[ci].addr == addr) {
                uint64_t naddr;
                err = store_log_append(s, STORE_REC_CHUNK, txn, s->rbuf + STORE_REC_HDR, (uint32_t)n,
                                       NULL, 0, 2, &naddr);
                if (err)
                    return err;
                s->mem.chunks[ci].addr = naddr;
                s->mem.blocks[naddr / s->erase_size].live += store_align(s, STORE_REC_HDR + (uint32_t)n);
                if (s->cbuf_addr == addr)
                    s->cbuf_addr = ~0ull;
            }
        } else if (type == STORE_REC_COMMIT) {
            if ((err = store_gc_commit(s, victim, (uint32_t)n, &gclen)))
                return err;
        }
        off += store_align(s, STORE_REC_HDR + (uint32_t)n);
    }
    if ((err = store_gc_flush(s, &gclen)))
        return err;
    /* The id counter must outlive the victim.  Mount takes it from the
     * highest id on flash, and the newest block in use has the highest:
     * its open unit holds the counter as it was when it was opened, above
     * every id in older blocks, and its records hold the ids given out
     * since.  The head is never a victim, so the newest block goes only
     * between a mount and the next write, when no head is open (a block
     * whose records all died, e.g. a deleted record's tombstone once the
     * put it deleted is gone).  Releasing it then would let the counter
     * go back at the next mount: versions (IMAP modseqs, store_modseq_high)
     * and UIDVALIDITYs would be given out a second time.  So a head is
     * opened first; its open unit keeps the counter (it is where the next
     * write goes anyway). */
    if ((err = store_log_ensure_head(s, 2)))
        return err;
    /* The copies are durable before the originals go. */
    if ((err = store_log_sync(s)))
        return err;
    store_log_release(s, victim);
    return 0;
}

/* Whether a commit record in block holds an operation that is still
 * live.  Tombstones are not counted in a block's live bytes (nothing
 * tells when they stop mattering: see store_op_live), so a block of
 * tombstones looks empty.  Copying them to the head to release it made a
 * new block that looked empty too, and the store rewrote them for ever:
 * in the 20 s after 200 queued messages were delivered it erased 6,600
 * blocks, and it would have gone on.  Read with rbuf, as store_gc_block does. */
static int store_gc_holds_live_ops(struct store *s, uint32_t block)
{
    uint32_t off = store_log_data_start(s);
    while (off + STORE_REC_HDR <= s->erase_size) {
        uint16_t type;
        int n = store_log_read(s, store_addr(s, block, off), s->rbuf, s->erase_size - off - STORE_REC_HDR,
                               &type, NULL);
        if (n < 0)
            return 0;       /* the end of its log (or damage: GC deals with that) */
        if (type == STORE_REC_COMMIT) {
            const uint8_t *p = s->rbuf + STORE_REC_HDR;
            for (uint32_t o = 0; o + STORE_OP_HDR <= (uint32_t)n;) {
                uint32_t olen = store_op_len(p + o);
                if (olen > (uint32_t)n - o)
                    break;
                if (store_op_live(s, p + o, block))
                    return 1;
                o += olen;
            }
        }
        off += store_align(s, STORE_REC_HDR + (uint32_t)n);
    }
    return 0;
}

int store_gc_step(struct store *s, int force)
{
    uint32_t victim = store_gc_pick(s, force);
    if (victim == STORE_NONE)
        return 0;
    if (!force && store_gc_roomy(s) && store_gc_holds_live_ops(s, victim)) {
        /* An "empty" block of tombstones: leave it until space is short
         * or a release may have let them go. */
        s->mem.blocks[victim].keeps = 1;
        return 0;
    }
    s->gc_count++;
    int err = store_gc_block(s, victim);
    return err ? err : 1;
}
