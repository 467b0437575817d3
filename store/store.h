/*
 * store.h - the flash store: a crash-safe, log-structured store on hal_flash.
 *
 * What it keeps (the API speaks these nouns, never flash offsets):
 *   - blobs: immutable byte strings (message bodies), written in chunks as
 *     they arrive, read back from any offset in chunks.  A blob lives while
 *     a message refers to it (its reference count is the number of live
 *     messages that name it); one body serves every recipient.
 *   - mailboxes (one per user) holding folders; a folder has a UIDVALIDITY
 *     and a UIDNEXT; a message has a UID, flags, an internal date, a size, a
 *     blob and a modification sequence number (modseq).
 *   - settings: typed key/value pairs, the latest write wins.
 *   - named records: a value of up to STORE_REC_VALUE_MAX bytes under a
 *     name in a namespace (domains, users, aliases, the outbound queue),
 *     created, replaced and deleted in transactions, iterated in name order.
 *
 * Every change happens in a transaction: store_txn_begin(), any number of
 * blob writes and typed changes, then store_txn_commit() (durable and atomic
 * when it returns 0: after any power cut either all of it is there or none)
 * or store_txn_abort().  Nothing of a transaction is visible to readers
 * before its commit returned.
 *
 * On flash (all integers little-endian):
 *   block   = identity unit | open unit | records...
 *             identity: magic "PBS1", format version, erase count, CRC
 *             open:     64-bit block sequence number, id counter, CRC
 *             (each unit padded to the program size, at least 16 bytes)
 *   record  = header {crc32c, payload length, transaction id, type} +
 *             payload, padded to the program size; the CRC covers the
 *             header (after the CRC field) and the payload.
 *   A blob chunk record carries {blob id, offset} and data.  A commit
 *   record carries operations, each a complete, versioned new state of one
 *   object (message, blob, folder, mailbox, setting, named record) or a
 *   tombstone (message, named record);
 *   a transaction is visible exactly when its commit record is valid.
 *
 * RAM: every index is a caller-provided table (struct store_mem), so the
 * bound is stated by its size.  Per live message 32 bytes (struct
 * store_msg); per blob 20 bytes plus 16 bytes per chunk (a chunk holds up to
 * STORE_CHUNK_BYTES of data); per erase block 36 bytes; per named record
 * 284 bytes (struct store_rec with its name, plus 4 in rec_order; the value
 * stays on flash).  A full table makes the transaction fail with PB_ENOMEM
 * before anything is written.
 *
 * Mount reads every block header, then every block in use in sequence
 * order: commit records in full (CRC checked, operations replayed), chunk
 * records by their 24-byte headers only when another record follows them
 * in the block (so they were programmed in full; the last record of a
 * block, the only one a power cut can tear, is always read in full).  A
 * chunk's data is CRC-checked when it is read and by store_check, never
 * returned when damaged; GC never copies a damaged record.  So mount reads
 * about 24 bytes per 4 KiB of message data plus the commit records: the
 * same order as reading an index checkpoint (16 bytes per chunk) would
 * cost, without writing one.
 *
 * Measured by make bench (tests/bench/store_bench.c, sim flash, 16-byte
 * program unit): write amplification 1.06 (4 KiB blocks) and 1.16 (64 KiB
 * blocks) for 10,000 messages of 4 KiB with random deletes and GC; erase
 * spread (max/mean) 1.31 after writing the store five times over with a
 * third of it cold; mount times and index RAM per message are printed by
 * make bench (see the README).
 *
 * Queue entries are named records in STORE_NS_QUEUE that keep their
 * message body alive (store_rec_put_blob); smtp/smtp_queue.h gives them
 * their shape.
 *
 * UNFINISHED: a per-folder UID index (a walk in UID order reads the message
 * table once, a lookup out of order scans it: see store_mail.c);
 * record names are held in full in RAM (280 bytes per record).
 *
 * Errors: PB_ENOSPC when the flash is full down to the reserve that keeps
 * garbage collection possible (expunges and flag changes still work then),
 * PB_ENOMEM when a RAM table is full, PB_ECORRUPT when stored data fails its
 * CRC (it is never returned as data), PB_ENOENT for an unknown object,
 * PB_EIO when the flash fails.
 */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <stdint.h>

#include "hal_flash.h"
#include "pb_err.h"

#define STORE_CHUNK_BYTES   4096u   /* data per chunk record at most (a transaction's write buffer) */
#define STORE_TXN_OPS_BYTES 3520u   /* serialised changes of one transaction at most: one
                                       commit record, which must fit the smallest block
                                       (4 KiB less two 256-byte header units); about 55
                                       messages in distinct folders, or 4 records of the
                                       largest size */
/* What changes take of STORE_TXN_OPS_BYTES, for callers that must know
 * before they promise (an SMTP server answering RCPT): */
#define STORE_TXN_BLOB_BYTES 16u
#define STORE_TXN_MSG_BYTES(folder_name_len) /* a message, and its folder's UIDNEXT */ \
    (32u + 8u + ((16u + (uint32_t)(folder_name_len) + 3u) & ~3u))
#define STORE_TXN_REC_BYTES(name_len, value_len, with_blob) \
    (8u + ((4u + (uint32_t)(name_len) + (uint32_t)(value_len) + ((with_blob) ? 4u : 0u) + 3u) & ~3u))
#define STORE_TXN_MAX       24      /* transactions open at once: every SMTP and IMAP session may hold one */
#define STORE_NAME_MAX      63      /* user names, folder names (bytes) */
#define STORE_KEY_MAX       31      /* setting keys (bytes) */
#define STORE_VALUE_MAX     1024    /* setting values (bytes): a certificate fits */
#define STORE_FOLDERS_MAX   2048    /* all users: 6 standard folders each, and their own */
#define STORE_MAILBOXES_MAX 256     /* users */
#define STORE_SETTINGS_MAX  32
#define STORE_RESERVE_BLOCKS 3      /* free blocks kept for GC and deletes */
#define STORE_REC_NAME_MAX  255   /* bytes of a record name (no NUL inside) */
#define STORE_REC_VALUE_MAX 512   /* bytes of a record value */

/* Message flags (IMAP system flags). */
#define STORE_FLAG_SEEN     0x01u
#define STORE_FLAG_ANSWERED 0x02u
#define STORE_FLAG_FLAGGED  0x04u
#define STORE_FLAG_DELETED  0x08u
#define STORE_FLAG_DRAFT    0x10u

enum store_type { STORE_T_STR = 1, STORE_T_U32 = 2, STORE_T_BYTES = 3 };

/* Namespaces of named records. */
enum store_ns {
    STORE_NS_DOMAIN = 1, STORE_NS_USER = 2, STORE_NS_ALIAS = 3, STORE_NS_QUEUE = 4,
    STORE_NS_IMAP = 5,      /* per-user IMAP state: subscriptions, keyword names */
    STORE_NS_LAST = STORE_NS_IMAP
};

/* ---- caller-provided tables (placed by the board, e.g. external RAM) ---- */

struct store_block {        /* 32 bytes per erase block */
    uint64_t seq;           /* block sequence number; 0 when not in use */
    uint32_t erase_count;
    uint32_t used;          /* bytes written (the whole block once closed) */
    uint32_t live;          /* bytes of live records */
    uint32_t min_version;   /* lowest operation version in the block */
    uint8_t state;          /* STORE_BLK_* (store_priv.h) */
    uint8_t keeps;          /* nothing counted live, yet it holds a tombstone
                             * still needed: not released while there is room
                             * (store_gc.c); cleared when any block is released */
    uint16_t tombs;         /* bytes of tombstones GC copied here (not in live) */
    uint8_t pad[4];
};

struct store_msg {          /* 32 bytes per live message */
    uint32_t id;            /* never reused; the table is sorted by it */
    uint32_t uid;
    uint32_t blob;
    uint32_t size;
    uint32_t modseq;        /* version of the operation that wrote this state */
    uint32_t date;          /* internal date, seconds since 1970 */
    uint32_t owner;         /* block holding that operation */
    uint16_t folder;
    uint16_t flags;
};

struct store_blob {         /* 20 bytes per blob */
    uint32_t id;            /* sorted by id */
    uint32_t size;
    uint32_t version;
    uint32_t owner;         /* block of the blob operation */
    uint16_t refs;
    uint8_t state;          /* STORE_BLOB_PENDING / _LIVE */
    uint8_t txn;            /* slot of the writing transaction while pending */
};

struct store_chunk {        /* 16 bytes per chunk, sorted by (blob, offset) */
    uint32_t blob;
    uint32_t offset;
    uint64_t addr;          /* flash address of the chunk record */
};

struct store_rec {          /* 280 bytes per named record (value on flash) */
    uint64_t addr;          /* flash address of the commit record holding its operation */
    uint32_t version;       /* of that operation */
    uint32_t blob;          /* the blob it keeps alive, or 0 */
    uint16_t at;            /* offset of the operation in that record's payload */
    uint16_t size;          /* bytes of the operation */
    uint8_t ns;             /* enum store_ns */
    uint8_t len;            /* bytes of name */
    char name[STORE_REC_NAME_MAX + 1];  /* NUL-terminated */
};

struct store_mem {
    struct store_block *blocks; uint32_t max_blocks;   /* >= flash size / erase size */
    uint32_t *order;            /* max_blocks entries: mount's scan order */
    struct store_msg *msgs;     uint32_t max_msgs;
    struct store_blob *blobs;   uint32_t max_blobs;
    struct store_chunk *chunks; uint32_t max_chunks;
    /* Named records: max_recs entries in recs, and as many in rec_order
     * (slot numbers sorted by namespace and name).  Both may be NULL with
     * max_recs 0: the store then refuses records with PB_ENOMEM. */
    struct store_rec *recs;     uint32_t *rec_order; uint32_t max_recs;
};

/* ---- what readers get ---- */

struct store_msg_info {
    uint16_t folder;
    uint32_t uid;
    uint32_t blob;
    uint32_t size;
    uint32_t flags;
    uint32_t modseq;
    uint32_t date;
};

struct store_folder_info {
    uint16_t id;
    uint32_t mailbox;
    uint32_t uidvalidity;
    uint32_t uidnext;
    uint32_t messages;
    char name[STORE_NAME_MAX + 1];
};

struct store_stats {
    uint64_t capacity;      /* bytes of flash */
    uint64_t used;          /* bytes in blocks in use */
    uint64_t live, dead;    /* of used */
    uint64_t free;          /* bytes in free blocks, reserve included */
    uint64_t reserve;       /* bytes kept for GC */
    uint32_t blocks, blocks_used, blocks_free, blocks_retired;
    uint32_t erase_min, erase_max, erase_mean;
    uint32_t messages, blobs, chunks, records;
    uint32_t mount_ms;
    uint32_t torn;          /* records found torn or corrupt at mount */
    uint64_t bytes_programmed, erases;  /* since mount */
};

struct store_check_report {
    uint32_t records;       /* valid records read */
    uint32_t corrupt;       /* records failing their CRC before the end of a block */
    uint32_t problems;      /* index inconsistencies */
    char first[120];        /* the first problem, in words */
};

struct store_txn;
struct store;

/* The store's own state (about 425 KiB with the defaults above; the board
 * decides where it lives).  Opaque to callers: use the functions. */
#include "store_priv.h"

/* Mount the store on flash using the tables in mem.  A blank (or foreign)
 * flash mounts as an empty store; nothing is written until the first
 * commit.  Returns 0, PB_EINVAL for a geometry or table size the store
 * cannot use, PB_ENOMEM when a table is too small for what is on flash,
 * PB_EIO. */
int store_mount(struct store *s, const struct hal_flash *flash, const struct store_mem *mem);

/* Erase every block and mount empty.  Returns 0 or a negative PB_E*. */
int store_format(struct store *s, const struct hal_flash *flash, const struct store_mem *mem);

/* ---- transactions ---- */
int store_txn_begin(struct store *s, struct store_txn **txn);   /* PB_EBUSY: no free slot */
int store_txn_commit(struct store_txn *txn);    /* frees the slot whatever it returns */
void store_txn_abort(struct store_txn *txn);
struct store *store_txn_store(struct store_txn *txn);   /* the store txn belongs to */

/* Factory reset: everything in the store (mail, accounts, settings, the
 * queue) is gone in one commit, so a power cut leaves all of it or none.
 * The space comes back through GC.  PB_EBUSY while a transaction is open
 * (try again), or the commit's error. */
int store_wipe(struct store *s);

/* One blob at a time per transaction: begin, write in pieces, end. */
int store_blob_begin(struct store_txn *txn, uint32_t *blob);
int store_blob_write(struct store_txn *txn, const void *data, size_t len);
int store_blob_end(struct store_txn *txn);

/* Read up to len bytes of a committed blob from offset.  Returns the count
 * (0 at the end), PB_ENOENT, PB_ECORRUPT. */
int store_blob_read(struct store *s, uint32_t blob, uint64_t offset, void *buf, size_t len);
int store_blob_size(struct store *s, uint32_t blob, uint32_t *size);

int store_mailbox_create(struct store_txn *txn, const char *user, uint32_t *mailbox);
int store_mailbox_find(struct store *s, const char *user, uint32_t *mailbox);
int store_folder_create(struct store_txn *txn, uint32_t mailbox, const char *name, uint16_t *folder);
int store_folder_find(struct store *s, uint32_t mailbox, const char *name, uint16_t *folder);
int store_folder_info(struct store *s, uint16_t folder, struct store_folder_info *info);
/* The folder of mailbox with the smallest id greater than after (0 for the
 * first); PB_ENOENT at the end. */
int store_folder_next(struct store *s, uint32_t mailbox, uint16_t after, struct store_folder_info *info);
/* Rename a folder (its UIDVALIDITY, UIDs and messages stay): PB_EEXIST
 * when the mailbox has a folder of that name, PB_ENOENT, PB_EINVAL. */
int store_folder_rename(struct store_txn *txn, uint16_t folder, const char *name);
/* Delete a folder with its messages (their bodies go when nothing else
 * refers to them), or a mailbox with its folders and messages.  Deletes
 * may use the reserve, like expunges.  PB_ENOENT. */
int store_folder_delete(struct store_txn *txn, uint16_t folder);
int store_mailbox_delete(struct store_txn *txn, uint32_t mailbox);

/* Add a message to a folder; its UID is assigned now (a UID of an aborted
 * transaction is never reused).  The blob must be committed or written in
 * this transaction. */
int store_msg_add(struct store_txn *txn, uint16_t folder, uint32_t blob, uint32_t flags,
                  uint32_t date, uint32_t *uid);
int store_msg_set_flags(struct store_txn *txn, uint16_t folder, uint32_t uid, uint32_t flags);
int store_msg_expunge(struct store_txn *txn, uint16_t folder, uint32_t uid);
int store_msg_get(struct store *s, uint16_t folder, uint32_t uid, struct store_msg_info *info);
/* The highest modification sequence number: the version of the newest
 * committed change of anything in the store (0 for an empty store).  Every
 * commit takes its version from one counter that only goes up, and a
 * message's modseq is the version of the change that wrote its current
 * state (added, flags set), so this is >= every message's modseq and grows
 * with every commit.  It never goes down, across remounts and power cuts
 * included: mount takes it from the id counter, which the header of the
 * newest block in use keeps even after GC dropped the newest records (see
 * store_gc.c).  Costs 4 bytes of RAM, nothing on flash. */
uint32_t store_modseq_high(const struct store *s);
/* The message with the smallest UID greater than after; PB_ENOENT if none. */
int store_msg_next(struct store *s, uint16_t folder, uint32_t after, struct store_msg_info *info);

int store_setting_set(struct store_txn *txn, const char *key, enum store_type type,
                      const void *value, size_t len);
/* Copy the value into buf; returns its length, PB_ENOENT, PB_ERANGE if cap is too small. */
int store_setting_get(struct store *s, const char *key, enum store_type *type, void *buf, size_t cap);

/* ---- named records ----
 * A name is 1..STORE_REC_NAME_MAX bytes without NUL; names compare as
 * bytes (callers normalise case).  A value is 0..STORE_REC_VALUE_MAX
 * bytes.  Puts and deletes take effect at commit; reads see only committed
 * state.  Within one transaction the last change of a name wins.  A commit
 * whose new names do not fit the RAM table fails with PB_ENOMEM before
 * anything is written; operations that do not fit the transaction
 * (STORE_TXN_OPS_BYTES) fail with PB_ENOMEM at once.  PB_EINVAL for an
 * unknown namespace, an empty or too long name, a too long value;
 * store_rec_next gives PB_ERANGE when the name does not fit cap. */

/* Create or replace the record ns/name with value (len bytes) in txn. */
int store_rec_put(struct store_txn *txn, enum store_ns ns, const char *name, const void *value, size_t len);
/* The same for a record that keeps blob alive while it exists (a queue
 * entry and its message body; one body serves every entry and message
 * that names it).  blob must be committed, or this transaction's own
 * after store_blob_end (PB_EINVAL otherwise, PB_ENOENT if unknown); 0 for
 * none.  Replacing or deleting the record gives the reference back. */
int store_rec_put_blob(struct store_txn *txn, enum store_ns ns, const char *name, uint32_t blob,
                       const void *value, size_t len);
/* The blob a committed record keeps alive (0 for none); PB_ENOENT. */
int store_rec_blob(struct store *s, enum store_ns ns, const char *name, uint32_t *blob);
/* Delete ns/name in txn; PB_ENOENT if it does not exist. */
int store_rec_del(struct store_txn *txn, enum store_ns ns, const char *name);
/* Copy the committed value of ns/name into buf; returns its length, PB_ENOENT, PB_ERANGE (cap too small; nothing copied), PB_ECORRUPT. */
int store_rec_get(struct store *s, enum store_ns ns, const char *name, void *buf, size_t cap);
/* Iterate committed names of ns in byte order: the first name greater than after ("" for the first), copied NUL-terminated into name (cap bytes); returns its length or PB_ENOENT at the end. */
int store_rec_next(struct store *s, enum store_ns ns, const char *after, char *name, size_t cap);

/* ---- housekeeping ---- */

/* One block's worth of garbage collection.  Without force, it only works
 * when free blocks run low or a block holds only dead data.  Returns 1 when
 * a block was reclaimed, 0 when there was nothing to do, or a negative PB_E*. */
int store_gc_step(struct store *s, int force);

void store_stats(struct store *s, struct store_stats *st);

/* Full read-only consistency check: every record's CRC in every block in
 * use, every index entry against flash.  Returns the number of problems
 * (0: consistent) and fills report. */
int store_check(struct store *s, struct store_check_report *report);

#endif
