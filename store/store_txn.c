/*
 * store_txn.c - transactions and blobs.
 *
 * A transaction collects its changes as serialised operations in its slot
 * and streams blob data to flash as chunk records while it arrives (the
 * chunks are invisible until the commit names their blob).  Commit writes
 * one commit record holding every operation, syncs the flash, and only then
 * applies the operations to the RAM index: the record's CRC makes it all or
 * nothing.
 */
#include <string.h>

#include "store.h"

/* Bytes of blob data that fit in one chunk record in a fresh block. */
static uint32_t store_txn_chunk_max(const struct store *s)
{
    uint32_t room = (s->erase_size - store_log_data_start(s)) & ~(s->prog - 1);
    uint32_t n = room - STORE_REC_HDR - STORE_CHUNK_HDR;
    return n < STORE_CHUNK_BYTES ? n : STORE_CHUNK_BYTES;
}

/* Write the transaction's buffered blob data as chunk records, filling
 * the rest of the head block before a new one is opened. */
static int store_txn_flush(struct store_txn *t)
{
    struct store *s = t->s;
    while (t->buf_len > 0) {
        uint32_t n = t->buf_len;
        uint32_t max = store_txn_chunk_max(s);
        if (s->head != STORE_NONE) {
            uint32_t left = (s->erase_size - s->head_off) & ~(s->prog - 1);
            /* Use the head's tail when it holds a useful piece. */
            if (left >= STORE_REC_HDR + STORE_CHUNK_HDR + 256 &&
                left - STORE_REC_HDR - STORE_CHUNK_HDR < n)
                max = left - STORE_REC_HDR - STORE_CHUNK_HDR;
        }
        if (n > max)
            n = max;
        if (s->nchunks >= s->mem.max_chunks)
            return PB_ENOMEM;
        uint8_t h[STORE_CHUNK_HDR];
        store_put32(h, t->blob);
        store_put32(h + 4, t->blob_size);
        uint64_t addr;
        int err = store_log_append(s, STORE_REC_CHUNK, t->id, h, sizeof(h), t->buf, n, 0, &addr);
        if (err)
            return err;
        if ((err = store_chunk_put(s, t->blob, t->blob_size, addr)))
            return err;
        int bi = store_blob_find(s, t->blob);
        t->blob_size += n;
        s->mem.blobs[bi].size = t->blob_size;
        s->mem.blocks[addr / s->erase_size].live += store_align(s, STORE_REC_HDR + STORE_CHUNK_HDR + n);
        memmove(t->buf, t->buf + n, t->buf_len - n);
        t->buf_len -= n;
    }
    return 0;
}

int store_txn_op(struct store_txn *t, uint8_t type, const void *body, uint32_t blen)
{
    uint32_t size = STORE_OP_HDR + ((blen + 3) & ~3u);
    if (t->ops_len + size > STORE_TXN_OPS_BYTES)
        return PB_ENOMEM;
    uint8_t *op = t->ops + t->ops_len;
    memset(op, 0, size);
    op[0] = type;
    store_put16(op + 2, (uint16_t)blen);
    memcpy(op + STORE_OP_HDR, body, blen);
    t->ops_len += size;
    return 0;
}

int store_txn_begin(struct store *s, struct store_txn **txn)
{
    for (int i = 0; i < STORE_TXN_MAX; i++) {
        struct store_txn *t = &s->txns[i];
        if (t->in_use)
            continue;
        t->in_use = 1;
        t->id = s->next_id++;
        t->blob_open = 0;
        t->deletes_only = 1;
        t->blob = 0;
        t->ops_len = 0;
        t->buf_len = 0;
        *txn = t;
        return 0;
    }
    return PB_EBUSY;
}

/* Forget this transaction's uncommitted blob (its chunks become dead). */
static void store_txn_drop_pending(struct store_txn *t)
{
    struct store *s = t->s;
    if (t->blob == 0)
        return;
    int bi = store_blob_find(s, t->blob);
    if (bi >= 0 && s->mem.blobs[bi].state == STORE_BLOB_PENDING)
        store_blob_drop(s, bi);
}

int store_wipe(struct store *s)
{
    for (int i = 0; i < STORE_TXN_MAX; i++)
        if (s->txns[i].in_use)
            return PB_EBUSY;
    struct store_txn *t;
    int err = store_txn_begin(s, &t);
    if (err)
        return err;
    uint8_t b[4] = { 0, 0, 0, 0 };
    /* Only a tombstone: it may use the reserve, so a full store resets. */
    if ((err = store_txn_op(t, STORE_OP_WIPE, b, sizeof(b)))) {
        store_txn_abort(t);
        return err;
    }
    return store_txn_commit(t);
}

struct store *store_txn_store(struct store_txn *t)
{
    return t->s;
}

void store_txn_abort(struct store_txn *t)
{
    store_txn_drop_pending(t);
    t->in_use = 0;
}

/* Room in the RAM tables for what the operations create, so that nothing
 * can fail after the commit record is on flash. */
static int store_txn_room(struct store_txn *t)
{
    struct store *s = t->s;
    uint32_t msgs = 0, folders = 0, mailboxes = 0, settings = 0, recs = 0;
    for (uint32_t off = 0; off < t->ops_len; off += store_op_len(t->ops + off)) {
        const uint8_t *op = t->ops + off, *b = op + STORE_OP_HDR;
        if (op[0] == STORE_OP_MSG && store_msg_find(s, store_get32(b)) < 0)
            msgs++;
        else if (op[0] == STORE_OP_FOLDER && !store_folder_by_id(s, store_get16(b)))
            folders++;
        else if (op[0] == STORE_OP_MAILBOX && !store_mailbox_by_id(s, store_get32(b)))
            mailboxes++;
        else if (op[0] == STORE_OP_SETTING && !store_setting_by_key(s, (const char *)b + 4, b[1]))
            settings++;
        else if (op[0] == STORE_OP_REC && store_rec_is_new(s, op))
            recs++;
    }
    for (int i = 0; i < STORE_FOLDERS_MAX; i++)
        folders -= folders && s->folders[i].id == 0;
    for (int i = 0; i < STORE_MAILBOXES_MAX; i++)
        mailboxes -= mailboxes && s->mailboxes[i].id == 0;
    for (int i = 0; i < STORE_SETTINGS_MAX; i++)
        settings -= settings && !s->settings[i].used;
    if (msgs > s->mem.max_msgs - s->nmsgs || recs > s->mem.max_recs - s->nrecs || folders ||
        mailboxes || settings)
        return PB_ENOMEM;
    return 0;
}

int store_txn_commit(struct store_txn *t)
{
    struct store *s = t->s;
    int err = 0;
    if (t->blob_open)
        err = store_blob_end(t);
    if (!err)
        err = store_txn_room(t);
    if (err || t->ops_len == 0) {
        store_txn_abort(t);
        return err;
    }
    uint32_t version = s->next_id++;
    for (uint32_t off = 0; off < t->ops_len; off += store_op_len(t->ops + off)) {
        uint8_t *op = t->ops + off;
        store_put32(op + 4, version);
        if (op[0] == STORE_OP_FOLDER) {
            /* UIDNEXT as it is now, not when the change was queued: a
             * transaction that committed in between may have used UIDs. */
            struct store_folder *f = store_folder_by_id(s, store_get16(op + STORE_OP_HDR));
            if (f)
                store_put32(op + STORE_OP_HDR + 12, f->uidnext);
        }
    }
    uint64_t addr;
    err = store_log_append(s, STORE_REC_COMMIT, t->id, t->ops, t->ops_len, NULL, 0,
                           t->deletes_only ? 1 : 0, &addr);
    if (err) {
        store_txn_abort(t);
        return err;
    }
    s->modseq_high = version;   /* the record is on flash, even if sync fails */
    err = store_log_sync(s);
    /* On PB_EIO from sync the record may or may not be durable; the index
     * follows what was written, and the caller must not acknowledge. */
    uint32_t block = (uint32_t)(addr / s->erase_size);
    if (version < s->mem.blocks[block].min_version)
        s->mem.blocks[block].min_version = version;
    for (uint32_t off = 0; off < t->ops_len; off += store_op_len(t->ops + off))
        store_apply_op(s, t->ops + off, addr, off, 0);
    /* A blob that nothing refers to is dead from the start. */
    if (t->blob) {
        int bi = store_blob_find(s, t->blob);
        if (bi >= 0 && s->mem.blobs[bi].refs == 0)
            store_blob_drop(s, bi);
    }
    t->in_use = 0;
    return err;
}

/* --------------------------------------------------------------- blobs --- */

int store_blob_begin(struct store_txn *t, uint32_t *blob)
{
    struct store *s = t->s;
    if (t->blob_open || t->blob != 0)
        return PB_EBUSY;    /* one blob per transaction */
    uint32_t id = s->next_id++;
    int bi = store_blob_new(s, id, STORE_BLOB_PENDING);
    if (bi < 0)
        return bi;
    s->mem.blobs[bi].txn = t->slot;
    t->blob = id;
    t->blob_open = 1;
    t->blob_size = 0;
    t->buf_len = 0;
    t->deletes_only = 0;
    *blob = id;
    return 0;
}

int store_blob_write(struct store_txn *t, const void *data, size_t len)
{
    const uint8_t *p = data;
    if (!t->blob_open)
        return PB_EINVAL;
    while (len > 0) {
        size_t n = STORE_CHUNK_BYTES - t->buf_len;
        if (n > len)
            n = len;
        memcpy(t->buf + t->buf_len, p, n);
        t->buf_len += (uint32_t)n;
        p += n;
        len -= n;
        if (t->buf_len == STORE_CHUNK_BYTES) {
            int err = store_txn_flush(t);
            if (err)
                return err;
        }
    }
    return 0;
}

int store_blob_end(struct store_txn *t)
{
    if (!t->blob_open)
        return PB_EINVAL;
    int err = store_txn_flush(t);
    if (err)
        return err;
    t->blob_open = 0;
    uint8_t b[8];
    store_put32(b, t->blob);
    store_put32(b + 4, t->blob_size);
    return store_txn_op(t, STORE_OP_BLOB, b, sizeof(b));
}

int store_blob_size(struct store *s, uint32_t blob, uint32_t *size)
{
    int bi = store_blob_find(s, blob);
    if (bi < 0 || s->mem.blobs[bi].state != STORE_BLOB_LIVE)
        return PB_ENOENT;
    *size = s->mem.blobs[bi].size;
    return 0;
}

int store_blob_read(struct store *s, uint32_t blob, uint64_t offset, void *buf, size_t len)
{
    uint8_t *out = buf;
    uint32_t size;
    int err = store_blob_size(s, blob, &size);
    if (err)
        return err;
    size_t done = 0;
    while (done < len && offset < size) {
        int ci = store_chunk_lookup(s, blob, offset);
        if (ci < 0)
            return PB_ECORRUPT;
        const struct store_chunk *c = &s->mem.chunks[ci];
        if (s->cbuf_addr != c->addr) {
            /* Verify the whole chunk once; later reads of it come from RAM. */
            s->cbuf_addr = ~0ull;
            uint16_t type;
            int n = store_log_read(s, c->addr, s->cbuf, STORE_REC_MAX, &type, NULL);
            if (n < 0)
                return n == PB_ENOENT ? PB_ECORRUPT : n;
            if (type != STORE_REC_CHUNK || (uint32_t)n < STORE_CHUNK_HDR ||
                store_get32(s->cbuf + STORE_REC_HDR) != blob ||
                store_get32(s->cbuf + STORE_REC_HDR + 4) != c->offset)
                return PB_ECORRUPT;
            s->cbuf_addr = c->addr;
        }
        uint32_t clen = store_get32(s->cbuf + 4) - STORE_CHUNK_HDR;
        uint64_t in = offset - c->offset;
        if (in >= clen)
            return PB_ECORRUPT;     /* a hole: the index and flash disagree */
        size_t n = clen - (size_t)in;
        if (n > len - done)
            n = len - done;
        if (n > size - offset)
            n = (size_t)(size - offset);
        memcpy(out + done, s->cbuf + STORE_REC_HDR + STORE_CHUNK_HDR + in, n);
        done += n;
        offset += n;
    }
    return (int)done;
}
