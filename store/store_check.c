/*
 * store_check.c - statistics and the full consistency check.
 */
#include <stdio.h>
#include <string.h>

#include "store.h"

void store_stats(struct store *s, struct store_stats *st)
{
    memset(st, 0, sizeof(*st));
    uint64_t esum = 0;
    uint32_t n = 0;
    st->erase_min = STORE_NONE;
    for (uint32_t b = 0; b < s->nblocks; b++) {
        const struct store_block *k = &s->mem.blocks[b];
        if (k->state == STORE_BLK_RETIRED) {
            st->blocks_retired++;
            continue;
        }
        if (k->state == STORE_BLK_FREE) {
            st->blocks_free++;
        } else {
            st->blocks_used++;
            st->used += k->used;
            st->live += k->live;
        }
        esum += k->erase_count;
        n++;
        if (k->erase_count < st->erase_min)
            st->erase_min = k->erase_count;
        if (k->erase_count > st->erase_max)
            st->erase_max = k->erase_count;
    }
    if (st->erase_min == STORE_NONE)
        st->erase_min = 0;
    st->erase_mean = n ? (uint32_t)(esum / n) : 0;
    st->blocks = s->nblocks;
    st->capacity = (uint64_t)s->nblocks * s->erase_size;
    st->dead = st->used > st->live ? st->used - st->live : 0;
    st->free = (uint64_t)st->blocks_free * s->erase_size;
    st->reserve = (uint64_t)STORE_RESERVE_BLOCKS * s->erase_size;
    st->messages = s->nmsgs;
    st->blobs = s->nblobs;
    st->chunks = s->nchunks;
    st->records = s->nrecs;
    st->mount_ms = s->mount_ms;
    st->torn = s->torn;
    st->bytes_programmed = s->bytes_programmed;
    st->erases = s->erases;
}

static void store_check_fail(struct store_check_report *r, const char *what, uint32_t a, uint32_t b)
{
    if (r->problems++ == 0)
        snprintf(r->first, sizeof(r->first), "%s (%lu, %lu)", what, (unsigned long)a, (unsigned long)b);
}

static void store_check_fail_cb(void *ctx, const char *what, uint32_t a, uint32_t b)
{
    store_check_fail(ctx, what, a, b);
}

/* Every record of every block in use must pass its CRC up to the end of
 * the block's valid part; a record failing it with intact records after
 * it is a corruption (a torn last record is what a power cut leaves). */
static void store_check_blocks(struct store *s, struct store_check_report *r)
{
    for (uint32_t b = 0; b < s->nblocks; b++) {
        const struct store_block *k = &s->mem.blocks[b];
        if (k->state != STORE_BLK_USED && k->state != STORE_BLK_HEAD)
            continue;
        uint32_t off = store_log_data_start(s);
        while (off + STORE_REC_HDR <= s->erase_size) {
            int n = store_log_read(s, store_addr(s, b, off), s->rbuf,
                                   s->erase_size - off - STORE_REC_HDR, NULL, NULL);
            if (n == PB_ENOENT)
                break;
            if (n == PB_ECORRUPT) {
                uint32_t next = off + store_align(s, STORE_REC_HDR + store_get32(s->rbuf + 4));
                if (store_get32(s->rbuf + 4) <= STORE_REC_MAX && next + STORE_REC_HDR <= s->erase_size &&
                    store_log_read(s, store_addr(s, b, next), s->rbuf,
                                   s->erase_size - next - STORE_REC_HDR, NULL, NULL) >= 0) {
                    r->corrupt++;
                    off = next;
                    continue;
                }
                break;
            }
            if (n < 0) {
                store_check_fail(r, "flash read failed in block", b, off);
                break;
            }
            r->records++;
            off += store_align(s, STORE_REC_HDR + (uint32_t)n);
        }
        if (s->head == b && off > s->head_off)
            store_check_fail(r, "records beyond the head", b, off);
    }
}

static void store_check_index(struct store *s, struct store_check_report *r)
{
    for (uint32_t i = 0; i < s->nchunks; i++) {
        const struct store_chunk *c = &s->mem.chunks[i];
        int bi = store_blob_find(s, c->blob);
        if (bi < 0) {
            store_check_fail(r, "chunk of an unknown blob", c->blob, c->offset);
            continue;
        }
        uint32_t expect = i > 0 && s->mem.chunks[i - 1].blob == c->blob
                              ? s->mem.chunks[i - 1].offset + store_get32(s->rbuf + 4) - STORE_CHUNK_HDR
                              : 0;
        uint16_t type;
        int n = store_log_read(s, c->addr, s->rbuf, STORE_REC_MAX, &type, NULL);
        if (n < (int)STORE_CHUNK_HDR || type != STORE_REC_CHUNK ||
            store_get32(s->rbuf + STORE_REC_HDR) != c->blob ||
            store_get32(s->rbuf + STORE_REC_HDR + 4) != c->offset) {
            store_check_fail(r, "chunk record unreadable or not the one indexed", c->blob, c->offset);
            continue;
        }
        if (c->offset != expect)
            store_check_fail(r, "blob has a hole or overlap at", c->blob, c->offset);
        int last = i + 1 == s->nchunks || s->mem.chunks[i + 1].blob != c->blob;
        if (last && c->offset + (uint32_t)n - STORE_CHUNK_HDR != s->mem.blobs[bi].size)
            store_check_fail(r, "blob chunks do not add up to its size", c->blob, s->mem.blobs[bi].size);
    }
    for (uint32_t i = 0; i < s->nblobs; i++) {
        const struct store_blob *k = &s->mem.blobs[i];
        uint32_t refs = 0;
        for (uint32_t m = 0; m < s->nmsgs; m++)
            refs += s->mem.msgs[m].blob == k->id;
        refs += store_rec_refs(s, k->id);
        if (k->state == STORE_BLOB_LIVE && refs != k->refs)
            store_check_fail(r, "blob reference count wrong", k->id, k->refs);
        if (k->state == STORE_BLOB_PENDING && !s->txns[k->txn].in_use)
            store_check_fail(r, "pending blob without its transaction", k->id, k->txn);
        if (k->state == STORE_BLOB_LIVE && k->size && store_chunk_lookup(s, k->id, 0) < 0)
            store_check_fail(r, "blob without data", k->id, k->size);
    }
    for (uint32_t i = 0; i < s->nmsgs; i++) {
        const struct store_msg *m = &s->mem.msgs[i];
        struct store_folder *f = store_folder_by_id(s, m->folder);
        int bi = store_blob_find(s, m->blob);
        if (!f)
            store_check_fail(r, "message in an unknown folder", m->id, m->folder);
        else if (m->uid >= f->uidnext)
            store_check_fail(r, "message UID not below UIDNEXT", m->uid, f->uidnext);
        if (bi < 0 || s->mem.blobs[bi].state != STORE_BLOB_LIVE)
            store_check_fail(r, "message without its blob", m->id, m->blob);
        else if (s->mem.blobs[bi].size != m->size)
            store_check_fail(r, "message size differs from its blob", m->id, m->size);
        for (uint32_t j = i + 1; j < s->nmsgs; j++) {
            if (s->mem.msgs[j].folder != m->folder)
                continue;
            if (s->mem.msgs[j].uid == m->uid)
                store_check_fail(r, "UID used twice", m->folder, m->uid);
            else if (s->mem.msgs[j].uid < m->uid)   /* UID lookups rely on this order */
                store_check_fail(r, "UIDs of a folder not in message-id order", m->folder, m->uid);
        }
    }
    for (int i = 0; i < STORE_FOLDERS_MAX; i++)
        if (s->folders[i].id && !store_mailbox_by_id(s, s->folders[i].mailbox))
            store_check_fail(r, "folder of an unknown mailbox", s->folders[i].id, s->folders[i].mailbox);
    store_rec_check(s, store_check_fail_cb, r);
    /* The live byte counts kept as changes happen must match a recount. */
    uint64_t before = 0, after = 0;
    for (uint32_t b = 0; b < s->nblocks; b++)
        before += s->mem.blocks[b].live;
    store_account(s);
    for (uint32_t b = 0; b < s->nblocks; b++)
        after += s->mem.blocks[b].live;
    if (before != after)
        store_check_fail(r, "live byte count drifted", (uint32_t)before, (uint32_t)after);
}

int store_check(struct store *s, struct store_check_report *r)
{
    memset(r, 0, sizeof(*r));
    store_check_blocks(s, r);
    store_check_index(s, r);
    if (r->corrupt)
        store_check_fail(r, "records failing their CRC", r->corrupt, 0);
    return (int)r->problems;
}
