/*
 * store_priv.h - the store's internal state and the functions its modules
 * share.  Included by store.h so callers can allocate struct store; only
 * the store's own .c files use what is in here.
 */
#ifndef STORE_PRIV_H
#define STORE_PRIV_H

#include <stddef.h>
#include <stdint.h>

#define STORE_MAGIC         0x31534250u  /* "PBS1" */
#define STORE_FORMAT        1u
#define STORE_REC_HDR       16u          /* crc, len, txn, type */
#define STORE_CHUNK_HDR     8u           /* blob id, offset */
#define STORE_REC_MAX       (STORE_REC_HDR + STORE_CHUNK_HDR + STORE_CHUNK_BYTES)
#define STORE_NONE          0xFFFFFFFFu

enum { STORE_BLK_FREE = 0, STORE_BLK_USED, STORE_BLK_HEAD, STORE_BLK_RETIRED };
enum { STORE_BLOB_PENDING = 1, STORE_BLOB_LIVE = 2 };
enum { STORE_REC_CHUNK = 1, STORE_REC_COMMIT = 2 };
enum {
    STORE_OP_BLOB = 1,      /* u32 id, u32 size */
    STORE_OP_MSG = 2,       /* u32 id, u32 uid, u32 blob, u32 size, u32 date, u16 folder, u16 flags */
    STORE_OP_MSG_DEL = 3,   /* u32 id */
    STORE_OP_FOLDER = 4,    /* u16 id, u16 namelen, u32 mailbox, u32 uidvalidity, u32 uidnext, name */
    STORE_OP_MAILBOX = 5,   /* u32 id, u16 namelen, u16 0, name */
    STORE_OP_SETTING = 6,   /* u8 type, u8 keylen, u16 vallen, key, value */
    STORE_OP_REC = 7,       /* u8 ns, u8 namelen, u16 vallen, name, value[, u32 blob] */
    STORE_OP_REC_DEL = 8,   /* u8 ns, u8 namelen, u16 0, name */
    STORE_OP_FOLDER_DEL = 9,    /* u16 id, u16 0: the folder and its messages */
    STORE_OP_MAILBOX_DEL = 10,  /* u32 id: the mailbox, its folders and messages */
    STORE_OP_WIPE = 11,         /* u32 0: everything older (a factory reset) */
};
#define STORE_OP_HDR 8u     /* u8 type, u8 0, u16 body length, u32 version */

struct store_folder {
    uint16_t id;            /* 0 = slot unused */
    uint32_t mailbox;
    uint32_t uidvalidity, uidnext;
    uint32_t version, owner;
    char name[STORE_NAME_MAX + 1];
};

struct store_mailbox {
    uint32_t id;            /* 0 = slot unused */
    uint32_t version, owner;
    char user[STORE_NAME_MAX + 1];
};

struct store_setting {
    uint8_t used, type;
    uint16_t len;
    uint32_t version, owner;
    char key[STORE_KEY_MAX + 1];
    uint8_t value[STORE_VALUE_MAX];
};

struct store_txn {
    struct store *s;
    uint8_t in_use, slot;
    uint8_t blob_open;      /* a blob is being written */
    uint8_t deletes_only;   /* may use the reserve */
    uint32_t id;
    uint32_t blob;          /* the blob being written */
    uint32_t blob_size;
    uint32_t buf_len;
    uint32_t ops_len;
    uint8_t ops[STORE_TXN_OPS_BYTES];
    uint8_t buf[STORE_CHUNK_BYTES];
};

struct store {
    const struct hal_flash *flash;
    struct store_mem mem;
    uint32_t nblocks, erase_size, prog;
    uint32_t unit;          /* one header unit: max(16, prog) */
    uint32_t head;          /* block being appended to, or STORE_NONE */
    uint32_t head_off;
    uint64_t next_seq;
    uint32_t next_id;       /* ids, transaction ids and versions */
    uint32_t modseq_high;   /* store_modseq_high(): newest committed version */
    uint16_t next_folder;
    uint32_t nmsgs, nblobs, nchunks, nrecs;
    uint32_t gc_count;
    uint32_t msg_hint;      /* message table index where the last UID lookup ended */
    uint32_t wipe_version;  /* the newest wipe: older operations and blobs do not count */
    uint32_t wipe_owner;    /* block of that wipe operation */
    uint32_t mount_ms, torn;
    uint64_t bytes_programmed, erases;
    struct store_folder folders[STORE_FOLDERS_MAX];
    struct store_mailbox mailboxes[STORE_MAILBOXES_MAX];
    struct store_setting settings[STORE_SETTINGS_MAX];
    struct store_txn txns[STORE_TXN_MAX];
    uint8_t wbuf[STORE_REC_MAX + 256];  /* a record being written */
    uint8_t rbuf[STORE_REC_MAX + 256];  /* a record being read (mount, GC, check) */
    uint8_t cbuf[STORE_REC_MAX + 256];  /* the chunk a blob reader verified last */
    uint64_t cbuf_addr;                 /* its address; ~0 when empty */
    uint8_t gcops[STORE_TXN_OPS_BYTES]; /* operations GC is moving */
};

/* store_crc.c */
uint32_t store_crc32c(uint32_t crc, const void *data, size_t len);

/* little-endian fields */
static inline void store_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void store_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline void store_put64(uint8_t *p, uint64_t v) { store_put32(p, (uint32_t)v); store_put32(p + 4, (uint32_t)(v >> 32)); }
static inline uint16_t store_get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t store_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t store_get64(const uint8_t *p) { return store_get32(p) | (uint64_t)store_get32(p + 4) << 32; }

static inline uint32_t store_align(const struct store *s, uint32_t n)
{
    return (n + s->prog - 1) & ~(s->prog - 1);
}
static inline uint64_t store_addr(const struct store *s, uint32_t block, uint32_t off)
{
    return (uint64_t)block * s->erase_size + off;
}

/* store_log.c: blocks and records */
int store_log_append(struct store *s, uint16_t type, uint32_t txn, const void *a, size_t alen,
                     const void *b, size_t blen, int reserve_ok, uint64_t *addr);
/* Read and verify the record at addr into buf (STORE_REC_MAX + 256 bytes).
 * Returns the payload length, PB_ECORRUPT, or 1 + PB_ENOENT-style: see .c */
int store_log_read(struct store *s, uint64_t addr, uint8_t *buf, uint32_t limit,
                   uint16_t *type, uint32_t *txn);
int store_log_sync(struct store *s);
/* Open a head block if none is open (reserve_ok as store_log_append). */
int store_log_ensure_head(struct store *s, int reserve_ok);
uint32_t store_log_free_blocks(const struct store *s);
uint32_t store_log_data_start(const struct store *s);
void store_log_release(struct store *s, uint32_t block);

/* store_txn.c: queue one serialised operation in the transaction */
int store_txn_op(struct store_txn *t, uint8_t type, const void *body, uint32_t blen);

/* store_index.c: the RAM tables */
int store_msg_find(const struct store *s, uint32_t id);      /* index or -1 */
int store_blob_find(const struct store *s, uint32_t id);
int store_chunk_find(const struct store *s, uint32_t blob, uint32_t offset); /* exact or -1 */
int store_chunk_lookup(const struct store *s, uint32_t blob, uint64_t offset); /* chunk holding offset */
int store_chunk_put(struct store *s, uint32_t blob, uint32_t offset, uint64_t addr);
int store_blob_new(struct store *s, uint32_t id, int state);
void store_blob_drop(struct store *s, int idx);
void store_blob_unref(struct store *s, uint32_t id);
void store_chunk_forget(struct store *s, int ci);  /* a chunk whose record is damaged */
uint32_t store_chunk_bytes(const struct store *s, int ci);
struct store_folder *store_folder_by_id(struct store *s, uint16_t id);
struct store_mailbox *store_mailbox_by_id(struct store *s, uint32_t id);
struct store_setting *store_setting_by_key(struct store *s, const char *key, size_t klen);
/* Apply one operation (as on flash) found in the commit record at rec, at
 * offset at of its payload; mounting: no refcounts. */
int store_apply_op(struct store *s, const uint8_t *op, uint64_t rec, uint32_t at, int mounting);
uint32_t store_op_len(const uint8_t *op);
/* Whether the operation at op (in block) is still the current state. */
int store_op_live(struct store *s, const uint8_t *op, uint32_t block);
void store_account(struct store *s);    /* recompute every block's live bytes */
/* Drop messages whose folder is gone and folders whose mailbox is gone
 * (after a folder or mailbox delete, and at the end of mount); refs: give
 * back blob references (not while mounting). */
void store_index_orphans(struct store *s, int refs);
/* Drop everything older than version (a wipe): the caller accounts
 * afterwards. */
void store_index_clear(struct store *s, uint32_t version);
void store_rec_clear_older(struct store *s, uint32_t version);
int store_wipe_live(const struct store *s, uint32_t block);
void store_index_live_add(struct store *s, uint32_t block, int32_t delta);

/* store_rec.c: the named-record index */
int store_rec_apply(struct store *s, const uint8_t *op, uint64_t rec, uint32_t at, int mounting);
int store_rec_op_live(struct store *s, const uint8_t *op, uint32_t block);
int store_rec_is_new(struct store *s, const uint8_t *op);   /* a put of a name not indexed */
uint32_t store_rec_refs(const struct store *s, uint32_t blob); /* records keeping blob alive */
void store_rec_account(struct store *s);
void store_rec_check(struct store *s, void (*fail)(void *ctx, const char *what, uint32_t a, uint32_t b),
                     void *ctx);

#endif
