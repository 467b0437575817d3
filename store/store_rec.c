/*
 * store_rec.c - named records: a value under a name in a namespace
 * (domains, users, aliases, the outbound queue).
 *
 * A record's state on flash is one operation in a commit record (a put
 * with the whole value, or a tombstone).  The RAM index keeps, per live
 * record, its name and where its operation lies; the value is read from
 * flash, checked by the commit record's CRC, when asked for.  The slots
 * 0..nrecs-1 of mem.recs are in use (a delete moves the last slot into the
 * hole); mem.rec_order lists them sorted by namespace, then name as bytes.
 */
#include <string.h>

#include "store.h"

#define STORE_REC_BODY 4u   /* u8 ns, u8 namelen, u16 vallen */

/* A put's body is ns, namelen, vallen, name, value and, when the record
 * keeps a blob alive (a queue entry and its message body), a trailing u32
 * blob id: present exactly when the body is 4 bytes longer than the name
 * and value.  Records written without it read as blob 0. */
static uint32_t store_rec_op_blob(const uint8_t *op)
{
    const uint8_t *b = op + STORE_OP_HDR;
    uint32_t blen = store_get16(op + 2);
    uint32_t end = STORE_REC_BODY + b[1] + store_get16(b + 2);
    return blen >= end + 4 ? store_get32(b + end) : 0;
}

static void store_rec_blob_ref(struct store *s, uint32_t blob)
{
    int bi = blob ? store_blob_find(s, blob) : -1;
    if (bi >= 0)
        s->mem.blobs[bi].refs++;
}

static int store_rec_cmp(uint8_t ns_a, const char *a, size_t la, uint8_t ns_b, const char *b, size_t lb)
{
    if (ns_a != ns_b)
        return ns_a < ns_b ? -1 : 1;
    int c = memcmp(a, b, la < lb ? la : lb);
    if (c)
        return c;
    return la < lb ? -1 : la > lb ? 1 : 0;
}

/* First position in rec_order whose name is >= (ns, name), or > when strict. */
static uint32_t store_rec_lower(const struct store *s, uint8_t ns, const char *name, size_t len, int strict)
{
    uint32_t lo = 0, hi = s->nrecs;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const struct store_rec *r = &s->mem.recs[s->mem.rec_order[mid]];
        int c = store_rec_cmp(r->ns, r->name, r->len, ns, name, len);
        if (c < 0 || (strict && c == 0))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Position in rec_order of (ns, name), or -1. */
static int store_rec_find(const struct store *s, uint8_t ns, const char *name, size_t len)
{
    uint32_t i = store_rec_lower(s, ns, name, len, 0);
    if (i >= s->nrecs)
        return -1;
    const struct store_rec *r = &s->mem.recs[s->mem.rec_order[i]];
    return store_rec_cmp(r->ns, r->name, r->len, ns, name, len) == 0 ? (int)i : -1;
}

static int store_rec_name_ok(enum store_ns ns, const char *name, size_t *len)
{
    if (ns < STORE_NS_DOMAIN || ns > STORE_NS_LAST || !name)
        return 0;
    *len = strlen(name);
    return *len > 0 && *len <= STORE_REC_NAME_MAX;
}

static void store_rec_remove(struct store *s, uint32_t pos)
{
    uint32_t slot = s->mem.rec_order[pos];
    uint32_t last = s->nrecs - 1;
    memmove(&s->mem.rec_order[pos], &s->mem.rec_order[pos + 1],
            (s->nrecs - pos - 1) * sizeof(s->mem.rec_order[0]));
    s->nrecs--;
    if (slot != last) {
        s->mem.recs[slot] = s->mem.recs[last];
        for (uint32_t i = 0; i < s->nrecs; i++)
            if (s->mem.rec_order[i] == last) {
                s->mem.rec_order[i] = slot;
                break;
            }
    }
}

/* ------------------------------------------------ index (from flash) --- */

/* Mounting: no reference counts (store_mount counts them at the end).
 * Otherwise a put of a newer version takes a reference on its blob and
 * gives back the one of the state it replaces; a delete gives it back; a
 * put of the same version (GC moving it) changes nothing but the place. */
int store_rec_apply(struct store *s, const uint8_t *op, uint64_t rec, uint32_t at, int mounting)
{
    uint32_t blen = store_get16(op + 2);
    uint32_t version = store_get32(op + 4);
    const uint8_t *b = op + STORE_OP_HDR;
    if (blen < STORE_REC_BODY || b[1] == 0 || STORE_REC_BODY + b[1] > blen)
        return 0;
    uint8_t ns = b[0], len = b[1];
    const char *name = (const char *)b + STORE_REC_BODY;
    if (memchr(name, '\0', len))
        return 0;
    int pos = store_rec_find(s, ns, name, len);
    struct store_rec *r = pos >= 0 ? &s->mem.recs[s->mem.rec_order[pos]] : NULL;
    if (op[0] == STORE_OP_REC_DEL) {
        if (r && r->version < version) {
            uint32_t old = r->blob;
            store_index_live_add(s, (uint32_t)(r->addr / s->erase_size), -(int32_t)r->size);
            store_rec_remove(s, (uint32_t)pos);
            if (!mounting && old)
                store_blob_unref(s, old);
        }
        return 0;
    }
    if (STORE_REC_BODY + len + store_get16(b + 2) > blen || store_get16(b + 2) > STORE_REC_VALUE_MAX)
        return 0;
    uint32_t blob = store_rec_op_blob(op), old = 0;
    if (r) {
        if (r->version > version)
            return 0;
        store_index_live_add(s, (uint32_t)(r->addr / s->erase_size), -(int32_t)r->size);
        if (r->version < version) {
            old = r->blob;
            r->blob = blob;
            if (!mounting)
                store_rec_blob_ref(s, blob);
        }
    } else {
        if (s->nrecs >= s->mem.max_recs)
            return PB_ENOMEM;
        uint32_t i = store_rec_lower(s, ns, name, len, 0);
        memmove(&s->mem.rec_order[i + 1], &s->mem.rec_order[i],
                (s->nrecs - i) * sizeof(s->mem.rec_order[0]));
        s->mem.rec_order[i] = s->nrecs;
        r = &s->mem.recs[s->nrecs++];
        memset(r, 0, sizeof(*r));
        r->ns = ns;
        r->len = len;
        memcpy(r->name, name, len);
        r->blob = blob;
        if (!mounting)
            store_rec_blob_ref(s, blob);
    }
    r->addr = rec;
    r->at = (uint16_t)at;
    r->size = (uint16_t)store_op_len(op);
    r->version = version;
    store_index_live_add(s, (uint32_t)(rec / s->erase_size), (int32_t)r->size);
    if (!mounting && old)
        store_blob_unref(s, old);   /* after the new reference: the same blob stays */
    return 0;
}

void store_rec_clear_older(struct store *s, uint32_t version)
{
    for (uint32_t pos = s->nrecs; pos-- > 0;)
        if (s->mem.recs[s->mem.rec_order[pos]].version < version)
            store_rec_remove(s, pos);
}

int store_rec_op_live(struct store *s, const uint8_t *op, uint32_t block)
{
    const uint8_t *b = op + STORE_OP_HDR;
    uint32_t version = store_get32(op + 4);
    if (store_get16(op + 2) < STORE_REC_BODY + b[1])
        return 0;
    int pos = store_rec_find(s, b[0], (const char *)b + STORE_REC_BODY, b[1]);
    if (op[0] == STORE_OP_REC) {
        if (pos < 0)
            return 0;
        const struct store_rec *r = &s->mem.recs[s->mem.rec_order[pos]];
        return r->version == version && r->addr / s->erase_size == block;
    }
    /* A tombstone matters while the name is gone and an older block might
     * still hold a put it deleted. */
    if (pos >= 0)
        return 0;
    for (uint32_t k = 0; k < s->nblocks; k++) {
        const struct store_block *bk = &s->mem.blocks[k];
        if (k != block && (bk->state == STORE_BLK_USED || bk->state == STORE_BLK_HEAD) &&
            bk->min_version < version)
            return 1;
    }
    return 0;
}

int store_rec_is_new(struct store *s, const uint8_t *op)
{
    const uint8_t *b = op + STORE_OP_HDR;
    return store_rec_find(s, b[0], (const char *)b + STORE_REC_BODY, b[1]) < 0;
}

void store_rec_account(struct store *s)
{
    for (uint32_t i = 0; i < s->nrecs; i++)
        store_index_live_add(s, (uint32_t)(s->mem.recs[i].addr / s->erase_size),
                             (int32_t)s->mem.recs[i].size);
}

/* Read the operation of r from flash into rbuf; returns a pointer to it or
 * NULL when the flash no longer holds it intact. */
static const uint8_t *store_rec_load(struct store *s, const struct store_rec *r)
{
    uint16_t type;
    int n = store_log_read(s, r->addr, s->rbuf, STORE_REC_MAX, &type, NULL);
    if (n < 0 || type != STORE_REC_COMMIT || (uint32_t)r->at + STORE_OP_HDR > (uint32_t)n)
        return NULL;
    const uint8_t *op = s->rbuf + STORE_REC_HDR + r->at;
    const uint8_t *b = op + STORE_OP_HDR;
    uint32_t blen = store_get16(op + 2);
    if (op[0] != STORE_OP_REC || r->at + store_op_len(op) > (uint32_t)n ||
        store_get32(op + 4) != r->version || blen < STORE_REC_BODY || b[0] != r->ns ||
        b[1] != r->len || STORE_REC_BODY + r->len + store_get16(b + 2) > blen ||
        memcmp(b + STORE_REC_BODY, r->name, r->len) != 0)
        return NULL;
    return op;
}

void store_rec_check(struct store *s, void (*fail)(void *ctx, const char *what, uint32_t a, uint32_t b),
                     void *ctx)
{
    for (uint32_t i = 0; i < s->nrecs; i++) {
        const struct store_rec *r = &s->mem.recs[s->mem.rec_order[i]];
        if (s->mem.rec_order[i] >= s->nrecs) {
            fail(ctx, "record order names an unused slot", i, s->mem.rec_order[i]);
            continue;
        }
        if (i > 0) {
            const struct store_rec *p = &s->mem.recs[s->mem.rec_order[i - 1]];
            if (store_rec_cmp(p->ns, p->name, p->len, r->ns, r->name, r->len) >= 0)
                fail(ctx, "records out of order at", i, r->ns);
        }
        if (!store_rec_load(s, r))
            fail(ctx, "record unreadable or not the one indexed", r->ns, r->version);
        if (r->blob && store_blob_find(s, r->blob) < 0)
            fail(ctx, "record keeps a blob that is gone", r->ns, r->blob);
    }
}

/* ---------------------------------------------------- transactions --- */

/* Drop an earlier change of ns/name queued in t, so that a name appears at
 * most once in a commit (the tombstone rule in store_rec_apply relies on
 * it); returns the type of the dropped operation or 0. */
static int store_rec_unqueue(struct store_txn *t, uint8_t ns, const char *name, size_t len)
{
    for (uint32_t off = 0; off < t->ops_len; off += store_op_len(t->ops + off)) {
        uint8_t *op = t->ops + off;
        const uint8_t *b = op + STORE_OP_HDR;
        if ((op[0] != STORE_OP_REC && op[0] != STORE_OP_REC_DEL) || b[0] != ns || b[1] != len ||
            memcmp(b + STORE_REC_BODY, name, len) != 0)
            continue;
        int type = op[0];
        uint32_t olen = store_op_len(op);
        memmove(op, op + olen, t->ops_len - off - olen);
        t->ops_len -= olen;
        return type;
    }
    return 0;
}

int store_rec_put(struct store_txn *t, enum store_ns ns, const char *name, const void *value, size_t len)
{
    return store_rec_put_blob(t, ns, name, 0, value, len);
}

int store_rec_put_blob(struct store_txn *t, enum store_ns ns, const char *name, uint32_t blob,
                       const void *value, size_t len)
{
    size_t nlen;
    if (!store_rec_name_ok(ns, name, &nlen) || len > STORE_REC_VALUE_MAX || (len && !value))
        return PB_EINVAL;
    if (blob) {
        /* The same rule as a message: a committed blob, or this
         * transaction's own once it has ended. */
        int bi = store_blob_find(t->s, blob);
        if (bi < 0)
            return PB_ENOENT;
        const struct store_blob *k = &t->s->mem.blobs[bi];
        if (k->state == STORE_BLOB_PENDING && (k->txn != t->slot || t->blob_open))
            return PB_EINVAL;
    }
    uint32_t blen = STORE_REC_BODY + (uint32_t)nlen + (uint32_t)len + (blob ? 4u : 0u);
    /* Room first, so that a refused put leaves the transaction as it was. */
    uint32_t queued = 0;
    for (uint32_t off = 0; off < t->ops_len; off += store_op_len(t->ops + off)) {
        const uint8_t *op = t->ops + off, *b = op + STORE_OP_HDR;
        if ((op[0] == STORE_OP_REC || op[0] == STORE_OP_REC_DEL) && b[0] == ns && b[1] == nlen &&
            memcmp(b + STORE_REC_BODY, name, nlen) == 0)
            queued = store_op_len(op);
    }
    if (t->ops_len - queued + STORE_OP_HDR + ((blen + 3) & ~3u) > STORE_TXN_OPS_BYTES)
        return PB_ENOMEM;
    store_rec_unqueue(t, (uint8_t)ns, name, nlen);
    uint8_t b[STORE_REC_BODY + STORE_REC_NAME_MAX + STORE_REC_VALUE_MAX + 4];
    b[0] = (uint8_t)ns;
    b[1] = (uint8_t)nlen;
    store_put16(b + 2, (uint16_t)len);
    memcpy(b + STORE_REC_BODY, name, nlen);
    if (len)
        memcpy(b + STORE_REC_BODY + nlen, value, len);
    if (blob)
        store_put32(b + STORE_REC_BODY + nlen + len, blob);
    int err = store_txn_op(t, STORE_OP_REC, b, blen);
    if (!err)
        t->deletes_only = 0;
    return err;
}

int store_rec_del(struct store_txn *t, enum store_ns ns, const char *name)
{
    size_t nlen;
    if (!store_rec_name_ok(ns, name, &nlen))
        return PB_EINVAL;
    int queued = 0;
    for (uint32_t off = 0; off < t->ops_len; off += store_op_len(t->ops + off)) {
        const uint8_t *op = t->ops + off, *b = op + STORE_OP_HDR;
        if ((op[0] == STORE_OP_REC || op[0] == STORE_OP_REC_DEL) && b[0] == ns && b[1] == nlen &&
            memcmp(b + STORE_REC_BODY, name, nlen) == 0)
            queued = op[0];
    }
    if (queued == STORE_OP_REC_DEL)
        return PB_ENOENT;   /* deleted already in this transaction */
    int committed = store_rec_find(t->s, (uint8_t)ns, name, nlen) >= 0;
    if (queued == STORE_OP_REC) {
        store_rec_unqueue(t, (uint8_t)ns, name, nlen);
        if (!committed)
            return 0;       /* created and deleted in this transaction */
    } else if (!committed) {
        return PB_ENOENT;
    }
    uint8_t b[STORE_REC_BODY + STORE_REC_NAME_MAX];
    b[0] = (uint8_t)ns;
    b[1] = (uint8_t)nlen;
    store_put16(b + 2, 0);
    memcpy(b + STORE_REC_BODY, name, nlen);
    return store_txn_op(t, STORE_OP_REC_DEL, b, STORE_REC_BODY + (uint32_t)nlen);
}

/* ---------------------------------------------------------- reading --- */

/* The committed record ns/name: its index entry, or PB_EINVAL/PB_ENOENT. */
static int store_rec_lookup(struct store *s, enum store_ns ns, const char *name, size_t *nlen,
                            const struct store_rec **r)
{
    if (!store_rec_name_ok(ns, name, nlen))
        return PB_EINVAL;
    int pos = store_rec_find(s, (uint8_t)ns, name, *nlen);
    if (pos < 0)
        return PB_ENOENT;
    *r = &s->mem.recs[s->mem.rec_order[pos]];
    return 0;
}

int store_rec_get(struct store *s, enum store_ns ns, const char *name, void *buf, size_t cap)
{
    size_t nlen;
    const struct store_rec *r;
    int err = store_rec_lookup(s, ns, name, &nlen, &r);
    if (err)
        return err;
    const uint8_t *op = store_rec_load(s, r);
    if (!op)
        return PB_ECORRUPT;
    const uint8_t *b = op + STORE_OP_HDR;
    uint16_t vlen = store_get16(b + 2);
    if (vlen > cap)
        return PB_ERANGE;
    if (vlen)
        memcpy(buf, b + STORE_REC_BODY + nlen, vlen);
    return vlen;
}

int store_rec_blob(struct store *s, enum store_ns ns, const char *name, uint32_t *blob)
{
    size_t nlen;
    const struct store_rec *r;
    int err = store_rec_lookup(s, ns, name, &nlen, &r);
    if (!err)
        *blob = r->blob;
    return err;
}

uint32_t store_rec_refs(const struct store *s, uint32_t blob)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < s->nrecs; i++)
        n += s->mem.recs[i].blob == blob;
    return n;
}

int store_rec_next(struct store *s, enum store_ns ns, const char *after, char *name, size_t cap)
{
    if (ns < STORE_NS_DOMAIN || ns > STORE_NS_LAST || !after)
        return PB_EINVAL;
    size_t alen = strlen(after);
    uint32_t i = store_rec_lower(s, (uint8_t)ns, after, alen, 1);
    if (i >= s->nrecs)
        return PB_ENOENT;
    const struct store_rec *r = &s->mem.recs[s->mem.rec_order[i]];
    if (r->ns != ns)
        return PB_ENOENT;
    if ((size_t)r->len + 1 > cap)
        return PB_ERANGE;
    memcpy(name, r->name, r->len);
    name[r->len] = '\0';
    return r->len;
}
