/*
 * store_dump.c - a test tool: mounts a powered-off appliance's flash file
 * and shows what a user's INBOX holds, so tests can check delivered mail
 * byte for byte without a mail client.  Never part of the product.
 *
 *   store-dump FLASH list USER        one line per message: UID SIZE FLAGS
 *   store-dump FLASH cat USER UID     the message, raw, on stdout
 *   store-dump FLASH queue            one line per outbound queue entry:
 *                                     NAME SIZE FROM RCPT...
 *   store-dump FLASH qcat NAME        the message of a queue entry as it will
 *                                     be sent, raw, on stdout
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_flash.h"
#include "smtp_queue.h"
#include "store.h"

#define DUMP_BLOCKS 65536u
#define DUMP_MSGS   100000u
#define DUMP_CHUNKS 200000u
#define DUMP_RECS   4096u

static struct store_block dump_blocks[DUMP_BLOCKS];
static uint32_t dump_order[DUMP_BLOCKS];
static struct store_msg dump_msgs[DUMP_MSGS];
static struct store_blob dump_blobs[DUMP_MSGS];
static struct store_chunk dump_chunks[DUMP_CHUNKS];
static struct store_rec dump_recs[DUMP_RECS];
static uint32_t dump_rec_order[DUMP_RECS];
static struct store dump_store;

static int dump_blob(uint32_t blob, uint64_t from)
{
    char buf[4096];
    for (uint64_t off = from;;) {
        int n = store_blob_read(&dump_store, blob, off, buf, sizeof(buf));
        if (n < 0) {
            fprintf(stderr, "store-dump: read failed (%d)\n", n);
            return 1;
        }
        if (n == 0)
            return 0;
        fwrite(buf, 1, (size_t)n, stdout);
        off += (uint64_t)n;
    }
}

static int dump_queue(int argc, char **argv)
{
    char name[SMTP_QUEUE_NAME_MAX + 1] = "";
    uint8_t value[STORE_REC_VALUE_MAX];
    struct smtp_queue_entry e;
    if (strcmp(argv[2], "qcat") == 0) {
        if (argc < 4 || smtp_queue_get(&dump_store, argv[3], &e, value, sizeof(value)) != 0) {
            fprintf(stderr, "store-dump: no queue entry %s\n", argc < 4 ? "" : argv[3]);
            return 1;
        }
        return dump_blob(e.blob, e.offset);
    }
    while (store_rec_next(&dump_store, STORE_NS_QUEUE, name, name, sizeof(name)) >= 0) {
        uint32_t size = 0;
        if (smtp_queue_get(&dump_store, name, &e, value, sizeof(value)) != 0 ||
            store_blob_size(&dump_store, e.blob, &size) != 0) {
            fprintf(stderr, "store-dump: queue entry %s unreadable\n", name);
            return 1;
        }
        printf("%s %u <%.*s>", name, (unsigned)(size - e.offset), (int)e.from_len, e.from);
        for (int i = 0; i < e.nrcpt; i++)
            printf(" %.*s", (int)e.rcpt[i].len, e.rcpt[i].addr);
        printf("\n");
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct store_mem mem = {
        dump_blocks, DUMP_BLOCKS, dump_order, dump_msgs, DUMP_MSGS, dump_blobs, DUMP_MSGS,
        dump_chunks, DUMP_CHUNKS, dump_recs, dump_rec_order, DUMP_RECS,
    };
    struct sim_flash f;
    uint32_t mbox;
    uint16_t folder;
    int queue = argc >= 3 && (strcmp(argv[2], "queue") == 0 || strcmp(argv[2], "qcat") == 0);
    if ((argc < 4 && !queue) || (strcmp(argv[2], "cat") == 0 && argc < 5)) {
        fprintf(stderr, "usage: store-dump FLASH list USER | store-dump FLASH cat USER UID\n");
        return 2;
    }
    if (sim_flash_open(&f, argv[1], 0, SIM_FLASH_ERASE_SIZE, SIM_FLASH_PROGRAM_SIZE, 0) != 0 ||
        store_mount(&dump_store, &f.dev, &mem) != 0) {
        fprintf(stderr, "store-dump: cannot mount %s\n", argv[1]);
        return 1;
    }
    if (queue)
        return dump_queue(argc, argv);
    if (store_mailbox_find(&dump_store, argv[3], &mbox) != 0 ||
        store_folder_find(&dump_store, mbox, "INBOX", &folder) != 0) {
        fprintf(stderr, "store-dump: no INBOX for %s\n", argv[3]);
        return 1;
    }
    struct store_msg_info m;
    if (strcmp(argv[2], "list") == 0) {
        for (uint32_t uid = 0; store_msg_next(&dump_store, folder, uid, &m) == 0; uid = m.uid)
            printf("%u %u %u\n", (unsigned)m.uid, (unsigned)m.size, (unsigned)m.flags);
        return 0;
    }
    if (store_msg_get(&dump_store, folder, (uint32_t)strtoul(argv[4], NULL, 10), &m) != 0) {
        fprintf(stderr, "store-dump: no message %s\n", argv[4]);
        return 1;
    }
    return dump_blob(m.blob, 0);
}
