/*
 * store_index.c - the RAM index: sorted tables of messages, blobs and
 * chunks in the caller's memory, small fixed tables of folders, mailboxes
 * and settings, and the rules that apply one operation from flash to them.
 *
 * Every object remembers the version of the operation that wrote its
 * current state and the block holding it (its owner).  An operation is live
 * exactly when it is that one; everything else on flash is dead and GC may
 * drop it.  Replaying is order-tolerant: an operation older than the
 * object's current version changes nothing, so a copy moved by GC can be
 * replayed after newer changes without undoing them.
 */
#include <string.h>

#include "store.h"

static void store_index_live(struct store *s, uint32_t block, int32_t delta)
{
    if (block < s->nblocks)
        s->mem.blocks[block].live = (uint32_t)((int32_t)s->mem.blocks[block].live + delta);
}

void store_index_live_add(struct store *s, uint32_t block, int32_t delta)
{
    store_index_live(s, block, delta);
}

static uint32_t store_index_opsize(uint32_t body)
{
    return STORE_OP_HDR + ((body + 3) & ~3u);
}

uint32_t store_op_len(const uint8_t *op)
{
    return store_index_opsize(store_get16(op + 2));
}

/* ------------------------------------------------------------ lookups --- */

int store_msg_find(const struct store *s, uint32_t id)
{
    uint32_t lo = 0, hi = s->nmsgs;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (s->mem.msgs[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->nmsgs && s->mem.msgs[lo].id == id ? (int)lo : -1;
}

int store_blob_find(const struct store *s, uint32_t id)
{
    uint32_t lo = 0, hi = s->nblobs;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (s->mem.blobs[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->nblobs && s->mem.blobs[lo].id == id ? (int)lo : -1;
}

/* First chunk index with (blob, offset) >= the key. */
static uint32_t store_chunk_lower(const struct store *s, uint32_t blob, uint64_t offset)
{
    uint32_t lo = 0, hi = s->nchunks;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const struct store_chunk *c = &s->mem.chunks[mid];
        if (c->blob < blob || (c->blob == blob && c->offset < offset))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int store_chunk_find(const struct store *s, uint32_t blob, uint32_t offset)
{
    uint32_t i = store_chunk_lower(s, blob, offset);
    return i < s->nchunks && s->mem.chunks[i].blob == blob && s->mem.chunks[i].offset == offset
               ? (int)i : -1;
}

int store_chunk_lookup(const struct store *s, uint32_t blob, uint64_t offset)
{
    uint32_t i = store_chunk_lower(s, blob, offset + 1);
    if (i == 0 || s->mem.chunks[i - 1].blob != blob)
        return -1;
    return (int)(i - 1);
}

uint32_t store_chunk_bytes(const struct store *s, int ci)
{
    const struct store_chunk *c = &s->mem.chunks[ci];
    uint32_t end;
    if ((uint32_t)ci + 1 < s->nchunks && s->mem.chunks[ci + 1].blob == c->blob) {
        end = s->mem.chunks[ci + 1].offset;
    } else {
        int bi = store_blob_find(s, c->blob);
        end = bi >= 0 ? s->mem.blobs[bi].size : c->offset;
    }
    if (end < c->offset)
        end = c->offset;
    return store_align(s, STORE_REC_HDR + STORE_CHUNK_HDR + (end - c->offset));
}

static uint32_t store_chunk_block(const struct store *s, const struct store_chunk *c)
{
    return (uint32_t)(c->addr / s->erase_size);
}

int store_chunk_put(struct store *s, uint32_t blob, uint32_t offset, uint64_t addr)
{
    uint32_t i = store_chunk_lower(s, blob, offset);
    if (i < s->nchunks && s->mem.chunks[i].blob == blob && s->mem.chunks[i].offset == offset) {
        s->mem.chunks[i].addr = addr;   /* a newer copy (GC moved it) */
        return 0;
    }
    if (s->nchunks >= s->mem.max_chunks)
        return PB_ENOMEM;
    memmove(&s->mem.chunks[i + 1], &s->mem.chunks[i], (s->nchunks - i) * sizeof(s->mem.chunks[0]));
    s->mem.chunks[i] = (struct store_chunk){ .blob = blob, .offset = offset, .addr = addr };
    s->nchunks++;
    return 0;
}

int store_blob_new(struct store *s, uint32_t id, int state)
{
    if (s->nblobs >= s->mem.max_blobs)
        return PB_ENOMEM;
    uint32_t lo = 0, hi = s->nblobs;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (s->mem.blobs[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    memmove(&s->mem.blobs[lo + 1], &s->mem.blobs[lo], (s->nblobs - lo) * sizeof(s->mem.blobs[0]));
    s->mem.blobs[lo] = (struct store_blob){ .id = id, .state = (uint8_t)state, .owner = STORE_NONE };
    s->nblobs++;
    return (int)lo;
}

/* Forget a blob and its chunks; their bytes on flash become dead. */
void store_blob_drop(struct store *s, int idx)
{
    struct store_blob *b = &s->mem.blobs[idx];
    uint32_t first = store_chunk_lower(s, b->id, 0), end = first;
    while (end < s->nchunks && s->mem.chunks[end].blob == b->id) {
        store_index_live(s, store_chunk_block(s, &s->mem.chunks[end]),
                         -(int32_t)store_chunk_bytes(s, (int)end));
        end++;
    }
    memmove(&s->mem.chunks[first], &s->mem.chunks[end], (s->nchunks - end) * sizeof(s->mem.chunks[0]));
    s->nchunks -= end - first;
    if (b->state == STORE_BLOB_LIVE)
        store_index_live(s, b->owner, -(int32_t)store_index_opsize(8));
    memmove(b, b + 1, (s->nblobs - (uint32_t)idx - 1) * sizeof(*b));
    s->nblobs--;
    s->cbuf_addr = ~0ull;
}

void store_chunk_forget(struct store *s, int ci)
{
    memmove(&s->mem.chunks[ci], &s->mem.chunks[ci + 1],
            (s->nchunks - (uint32_t)ci - 1) * sizeof(s->mem.chunks[0]));
    s->nchunks--;
    s->cbuf_addr = ~0ull;
    store_account(s);   /* rare (a damaged record): recount rather than patch */
}

void store_blob_unref(struct store *s, uint32_t id)
{
    int bi = store_blob_find(s, id);
    if (bi < 0)
        return;
    if (s->mem.blobs[bi].refs > 0)
        s->mem.blobs[bi].refs--;
    if (s->mem.blobs[bi].refs == 0 && s->mem.blobs[bi].state == STORE_BLOB_LIVE)
        store_blob_drop(s, bi);
}

struct store_folder *store_folder_by_id(struct store *s, uint16_t id)
{
    for (int i = 0; i < STORE_FOLDERS_MAX; i++)
        if (s->folders[i].id == id && id != 0)
            return &s->folders[i];
    return NULL;
}

struct store_mailbox *store_mailbox_by_id(struct store *s, uint32_t id)
{
    for (int i = 0; i < STORE_MAILBOXES_MAX; i++)
        if (s->mailboxes[i].id == id && id != 0)
            return &s->mailboxes[i];
    return NULL;
}

struct store_setting *store_setting_by_key(struct store *s, const char *key, size_t klen)
{
    for (int i = 0; i < STORE_SETTINGS_MAX; i++)
        if (s->settings[i].used && strlen(s->settings[i].key) == klen &&
            memcmp(s->settings[i].key, key, klen) == 0)
            return &s->settings[i];
    return NULL;
}

/* ------------------------------------------------------------ applying --- */

static int store_apply_msg(struct store *s, const uint8_t *b, uint32_t version, uint32_t block,
                           int mounting)
{
    uint32_t id = store_get32(b);
    int i = store_msg_find(s, id);
    struct store_msg *m;
    if (i >= 0) {
        m = &s->mem.msgs[i];
        if (m->modseq > version)
            return 0;
        store_index_live(s, m->owner, -(int32_t)store_index_opsize(24));
    } else {
        if (s->nmsgs >= s->mem.max_msgs)
            return PB_ENOMEM;
        uint32_t lo = 0, hi = s->nmsgs;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (s->mem.msgs[mid].id < id)
                lo = mid + 1;
            else
                hi = mid;
        }
        memmove(&s->mem.msgs[lo + 1], &s->mem.msgs[lo], (s->nmsgs - lo) * sizeof(s->mem.msgs[0]));
        s->nmsgs++;
        m = &s->mem.msgs[lo];
        m->id = id;
        m->blob = store_get32(b + 8);
        if (!mounting) {
            int bi = store_blob_find(s, m->blob);
            if (bi >= 0)
                s->mem.blobs[bi].refs++;
        }
    }
    m->uid = store_get32(b + 4);
    m->size = store_get32(b + 12);
    m->date = store_get32(b + 16);
    m->folder = store_get16(b + 20);
    m->flags = store_get16(b + 22);
    m->modseq = version;
    m->owner = block;
    store_index_live(s, block, (int32_t)store_index_opsize(24));
    if (mounting) {
        struct store_folder *f = store_folder_by_id(s, m->folder);
        if (f && f->uidnext <= m->uid)
            f->uidnext = m->uid + 1;
    }
    return 0;
}

static void store_apply_msg_del(struct store *s, const uint8_t *b, uint32_t version, int mounting)
{
    int i = store_msg_find(s, store_get32(b));
    if (i < 0 || s->mem.msgs[i].modseq >= version)
        return;
    struct store_msg m = s->mem.msgs[i];
    store_index_live(s, m.owner, -(int32_t)store_index_opsize(24));
    memmove(&s->mem.msgs[i], &s->mem.msgs[i + 1], (s->nmsgs - (uint32_t)i - 1) * sizeof(m));
    s->nmsgs--;
    if (!mounting)
        store_blob_unref(s, m.blob);
}

static int store_apply_blob(struct store *s, const uint8_t *b, uint32_t version, uint32_t block)
{
    uint32_t id = store_get32(b);
    int i = store_blob_find(s, id);
    if (i < 0 && (i = store_blob_new(s, id, STORE_BLOB_LIVE)) < 0)
        return i;
    struct store_blob *k = &s->mem.blobs[i];
    if (k->state == STORE_BLOB_LIVE && k->owner != STORE_NONE) {
        if (k->version > version)
            return 0;
        store_index_live(s, k->owner, -(int32_t)store_index_opsize(8));
    }
    k->state = STORE_BLOB_LIVE;
    k->size = store_get32(b + 4);
    k->version = version;
    k->owner = block;
    store_index_live(s, block, (int32_t)store_index_opsize(8));
    return 0;
}

static int store_apply_folder(struct store *s, const uint8_t *b, uint32_t blen, uint32_t version,
                              uint32_t block)
{
    uint16_t id = store_get16(b);
    uint16_t nlen = store_get16(b + 2);
    if (nlen > STORE_NAME_MAX || 16u + nlen > blen)
        return 0;
    struct store_folder *f = store_folder_by_id(s, id);
    if (!f) {
        f = store_folder_by_id(s, 0);
        for (int i = 0; i < STORE_FOLDERS_MAX && !f; i++)
            if (s->folders[i].id == 0)
                f = &s->folders[i];
        if (!f)
            return PB_ENOMEM;
        memset(f, 0, sizeof(*f));
        f->id = id;
        f->owner = STORE_NONE;
    } else if (f->version > version) {
        return 0;
    }
    store_index_live(s, f->owner, -(int32_t)store_index_opsize(16u + (uint32_t)strlen(f->name)));
    f->mailbox = store_get32(b + 4);
    f->uidvalidity = store_get32(b + 8);
    if (store_get32(b + 12) > f->uidnext)
        f->uidnext = store_get32(b + 12);
    memcpy(f->name, b + 16, nlen);
    f->name[nlen] = '\0';
    f->version = version;
    f->owner = block;
    store_index_live(s, block, (int32_t)store_index_opsize(16u + nlen));
    return 0;
}

static int store_apply_mailbox(struct store *s, const uint8_t *b, uint32_t blen, uint32_t version,
                               uint32_t block)
{
    uint32_t id = store_get32(b);
    uint16_t nlen = store_get16(b + 4);
    if (nlen > STORE_NAME_MAX || 8u + nlen > blen)
        return 0;
    struct store_mailbox *m = store_mailbox_by_id(s, id);
    if (!m) {
        for (int i = 0; i < STORE_MAILBOXES_MAX && !m; i++)
            if (s->mailboxes[i].id == 0)
                m = &s->mailboxes[i];
        if (!m)
            return PB_ENOMEM;
        memset(m, 0, sizeof(*m));
        m->id = id;
        m->owner = STORE_NONE;
    } else if (m->version > version) {
        return 0;
    }
    store_index_live(s, m->owner, -(int32_t)store_index_opsize(8u + (uint32_t)strlen(m->user)));
    memcpy(m->user, b + 8, nlen);
    m->user[nlen] = '\0';
    m->version = version;
    m->owner = block;
    store_index_live(s, block, (int32_t)store_index_opsize(8u + nlen));
    return 0;
}

static int store_apply_setting(struct store *s, const uint8_t *b, uint32_t blen, uint32_t version,
                               uint32_t block)
{
    uint8_t klen = b[1];
    uint16_t vlen = store_get16(b + 2);
    if (klen > STORE_KEY_MAX || vlen > STORE_VALUE_MAX || 4u + klen + vlen > blen)
        return 0;
    struct store_setting *t = store_setting_by_key(s, (const char *)b + 4, klen);
    if (!t) {
        for (int i = 0; i < STORE_SETTINGS_MAX && !t; i++)
            if (!s->settings[i].used)
                t = &s->settings[i];
        if (!t)
            return PB_ENOMEM;
        memset(t, 0, sizeof(*t));
        t->used = 1;
        t->owner = STORE_NONE;
        memcpy(t->key, b + 4, klen);
    } else if (t->version > version) {
        return 0;
    }
    store_index_live(s, t->owner, -(int32_t)store_index_opsize(4u + klen + t->len));
    t->type = b[0];
    t->len = vlen;
    memcpy(t->value, b + 4 + klen, vlen);
    t->version = version;
    t->owner = block;
    store_index_live(s, block, (int32_t)store_index_opsize(4u + klen + vlen));
    return 0;
}

void store_index_orphans(struct store *s, int refs)
{
    for (int i = 0; i < STORE_FOLDERS_MAX; i++) {
        struct store_folder *f = &s->folders[i];
        if (f->id && !store_mailbox_by_id(s, f->mailbox)) {
            store_index_live(s, f->owner, -(int32_t)store_index_opsize(16u + (uint32_t)strlen(f->name)));
            f->id = 0;
        }
    }
    /* One compacting pass; unref may drop a blob, which touches blobs
     * and chunks, never this table. */
    uint32_t keep = 0;
    for (uint32_t i = 0; i < s->nmsgs; i++) {
        struct store_msg m = s->mem.msgs[i];
        if (store_folder_by_id(s, m.folder)) {
            s->mem.msgs[keep++] = m;
            continue;
        }
        store_index_live(s, m.owner, -(int32_t)store_index_opsize(24));
        if (refs)
            store_blob_unref(s, m.blob);
    }
    s->nmsgs = keep;
}

/* A folder or mailbox tombstone: the object goes if this is newer than
 * its state, and with it what it holds. */
static void store_apply_folder_del(struct store *s, const uint8_t *b, uint32_t version, int mounting)
{
    struct store_folder *f = store_folder_by_id(s, store_get16(b));
    if (!f || f->version >= version)
        return;
    store_index_live(s, f->owner, -(int32_t)store_index_opsize(16u + (uint32_t)strlen(f->name)));
    f->id = 0;
    /* Mounting: later blocks may still hold the newest state of other
     * folders whose messages came first, so orphans wait for the end. */
    if (!mounting)
        store_index_orphans(s, 1);
}

static void store_apply_mailbox_del(struct store *s, const uint8_t *b, uint32_t version, int mounting)
{
    struct store_mailbox *m = store_mailbox_by_id(s, store_get32(b));
    if (!m || m->version >= version)
        return;
    store_index_live(s, m->owner, -(int32_t)store_index_opsize(8u + (uint32_t)strlen(m->user)));
    m->id = 0;
    if (!mounting)
        store_index_orphans(s, 1);
}

/* The wipe operation (in block) matters while a block older than it
 * might still hold something it wiped. */
int store_wipe_live(const struct store *s, uint32_t block)
{
    if (!s->wipe_version || block != s->wipe_owner)
        return 0;
    for (uint32_t k = 0; k < s->nblocks; k++) {
        const struct store_block *bk = &s->mem.blocks[k];
        if (k != block && (bk->state == STORE_BLK_USED || bk->state == STORE_BLK_HEAD) &&
            bk->min_version < s->wipe_version)
            return 1;
    }
    return 0;
}

void store_index_clear(struct store *s, uint32_t version)
{
    /* Only what is older than the wipe: mount may have applied newer
     * state from blocks it read before the wipe's own (GC moves it). */
    uint32_t keep = 0;
    for (uint32_t i = 0; i < s->nmsgs; i++)
        if (s->mem.msgs[i].modseq >= version)
            s->mem.msgs[keep++] = s->mem.msgs[i];
    s->nmsgs = keep;
    for (uint32_t i = s->nblobs; i-- > 0;) {
        const struct store_blob *k = &s->mem.blobs[i];
        if (k->state == STORE_BLOB_LIVE ? k->version < version : k->id < version)
            store_blob_drop(s, (int)i);
    }
    for (int i = 0; i < STORE_FOLDERS_MAX; i++)
        if (s->folders[i].id && s->folders[i].version < version)
            s->folders[i].id = 0;
    for (int i = 0; i < STORE_MAILBOXES_MAX; i++)
        if (s->mailboxes[i].id && s->mailboxes[i].version < version)
            s->mailboxes[i].id = 0;
    for (int i = 0; i < STORE_SETTINGS_MAX; i++)
        if (s->settings[i].used && s->settings[i].version < version)
            s->settings[i].used = 0;
    store_rec_clear_older(s, version);
    s->cbuf_addr = ~0ull;
    s->msg_hint = 0;
}

/* A wipe: everything older than it is gone, at once.  Operations and
 * blobs older than the newest wipe are ignored from then on (mount meets
 * copies GC made of them in later blocks). */
static void store_apply_wipe(struct store *s, uint32_t version, uint32_t block)
{
    if (version < s->wipe_version)
        return;
    if (version > s->wipe_version) {
        s->wipe_version = version;
        store_index_clear(s, version);
    }
    s->wipe_owner = block;
    store_account(s);
}

int store_apply_op(struct store *s, const uint8_t *op, uint64_t rec, uint32_t at, int mounting)
{
    uint32_t block = (uint32_t)(rec / s->erase_size);
    uint32_t blen = store_get16(op + 2);
    uint32_t version = store_get32(op + 4);
    const uint8_t *b = op + STORE_OP_HDR;
    if (op[0] == STORE_OP_WIPE) {
        store_apply_wipe(s, version, block);
        return 0;
    }
    if (version < s->wipe_version)
        return 0;
    switch (op[0]) {
    case STORE_OP_BLOB:
        return blen >= 8 ? store_apply_blob(s, b, version, block) : 0;
    case STORE_OP_MSG:
        return blen >= 24 ? store_apply_msg(s, b, version, block, mounting) : 0;
    case STORE_OP_MSG_DEL:
        if (blen >= 4)
            store_apply_msg_del(s, b, version, mounting);
        return 0;
    case STORE_OP_FOLDER:
        return store_apply_folder(s, b, blen, version, block);
    case STORE_OP_FOLDER_DEL:
        if (blen >= 4)
            store_apply_folder_del(s, b, version, mounting);
        return 0;
    case STORE_OP_MAILBOX_DEL:
        if (blen >= 4)
            store_apply_mailbox_del(s, b, version, mounting);
        return 0;
    case STORE_OP_MAILBOX:
        return store_apply_mailbox(s, b, blen, version, block);
    case STORE_OP_SETTING:
        return store_apply_setting(s, b, blen, version, block);
    case STORE_OP_REC:
    case STORE_OP_REC_DEL:
        return store_rec_apply(s, op, rec, at, mounting);
    default:
        return 0;   /* a newer format's operation: ignored */
    }
}

int store_op_live(struct store *s, const uint8_t *op, uint32_t block)
{
    uint32_t version = store_get32(op + 4);
    const uint8_t *b = op + STORE_OP_HDR;
    int i;
    switch (op[0]) {
    case STORE_OP_BLOB:
        i = store_blob_find(s, store_get32(b));
        return i >= 0 && s->mem.blobs[i].state == STORE_BLOB_LIVE &&
               s->mem.blobs[i].version == version && s->mem.blobs[i].owner == block;
    case STORE_OP_MSG:
        i = store_msg_find(s, store_get32(b));
        return i >= 0 && s->mem.msgs[i].modseq == version && s->mem.msgs[i].owner == block;
    case STORE_OP_WIPE:
        return version == s->wipe_version && store_wipe_live(s, block);
    case STORE_OP_MSG_DEL:
    case STORE_OP_FOLDER_DEL:
    case STORE_OP_MAILBOX_DEL:
        /* A tombstone matters while an older block might still hold what
         * it deleted. */
        if (op[0] == STORE_OP_MSG_DEL ? store_msg_find(s, store_get32(b)) >= 0 :
            op[0] == STORE_OP_FOLDER_DEL ? store_folder_by_id(s, store_get16(b)) != NULL :
            store_mailbox_by_id(s, store_get32(b)) != NULL)
            return 0;
        for (uint32_t k = 0; k < s->nblocks; k++) {
            const struct store_block *bk = &s->mem.blocks[k];
            if (k != block && (bk->state == STORE_BLK_USED || bk->state == STORE_BLK_HEAD) &&
                bk->min_version < version)
                return 1;
        }
        return 0;
    case STORE_OP_FOLDER: {
        struct store_folder *f = store_folder_by_id(s, store_get16(b));
        return f && f->version == version && f->owner == block;
    }
    case STORE_OP_MAILBOX: {
        struct store_mailbox *m = store_mailbox_by_id(s, store_get32(b));
        return m && m->version == version && m->owner == block;
    }
    case STORE_OP_SETTING: {
        struct store_setting *t = store_setting_by_key(s, (const char *)b + 4, b[1]);
        return t && t->version == version && t->owner == block;
    }
    case STORE_OP_REC:
    case STORE_OP_REC_DEL:
        return store_rec_op_live(s, op, block);
    default:
        return 0;
    }
}

void store_account(struct store *s)
{
    for (uint32_t b = 0; b < s->nblocks; b++)
        s->mem.blocks[b].live = 0;
    for (uint32_t i = 0; i < s->nmsgs; i++)
        store_index_live(s, s->mem.msgs[i].owner, (int32_t)store_index_opsize(24));
    for (uint32_t i = 0; i < s->nblobs; i++)
        if (s->mem.blobs[i].state == STORE_BLOB_LIVE)
            store_index_live(s, s->mem.blobs[i].owner, (int32_t)store_index_opsize(8));
    for (uint32_t i = 0; i < s->nchunks; i++)
        store_index_live(s, store_chunk_block(s, &s->mem.chunks[i]), (int32_t)store_chunk_bytes(s, (int)i));
    for (int i = 0; i < STORE_FOLDERS_MAX; i++)
        if (s->folders[i].id)
            store_index_live(s, s->folders[i].owner,
                             (int32_t)store_index_opsize(16u + (uint32_t)strlen(s->folders[i].name)));
    for (int i = 0; i < STORE_MAILBOXES_MAX; i++)
        if (s->mailboxes[i].id)
            store_index_live(s, s->mailboxes[i].owner,
                             (int32_t)store_index_opsize(8u + (uint32_t)strlen(s->mailboxes[i].user)));
    for (int i = 0; i < STORE_SETTINGS_MAX; i++)
        if (s->settings[i].used)
            store_index_live(s, s->settings[i].owner,
                             (int32_t)store_index_opsize(4u + (uint32_t)strlen(s->settings[i].key) +
                                                         s->settings[i].len));
    store_rec_account(s);
    if (store_wipe_live(s, s->wipe_owner))
        store_index_live(s, s->wipe_owner, (int32_t)store_index_opsize(4));
}
