/*
 * storage.c - the appliance's flash store (see storage.h).
 */
#include "storage.h"

#include "board_pools.h"
#include "hal_flash.h"
#include "log.h"

static struct store_block storage_blocks[PB_STORE_MAX_BLOCKS] PB_STORE_SECTION;
static uint32_t storage_order[PB_STORE_MAX_BLOCKS] PB_STORE_SECTION;
static struct store_msg storage_msgs[PB_STORE_MAX_MSGS] PB_STORE_SECTION;
static struct store_blob storage_blobs[PB_STORE_MAX_BLOBS] PB_STORE_SECTION;
static struct store_chunk storage_chunks[PB_STORE_MAX_CHUNKS] PB_STORE_SECTION;
static struct store_rec storage_recs[PB_STORE_MAX_RECS] PB_STORE_SECTION;
static uint32_t storage_rec_order[PB_STORE_MAX_RECS] PB_STORE_SECTION;
static struct store storage_store PB_STORE_SECTION;
static int storage_mounted;

static const struct store_mem storage_mem = {
    storage_blocks, PB_STORE_MAX_BLOCKS, storage_order,
    storage_msgs, PB_STORE_MAX_MSGS,
    storage_blobs, PB_STORE_MAX_BLOBS,
    storage_chunks, PB_STORE_MAX_CHUNKS,
    storage_recs, storage_rec_order, PB_STORE_MAX_RECS,
};

int storage_init(void)
{
    const struct hal_flash *f = hal_flash_device();
    storage_mounted = 0;
    if (!f)
        return PB_ENOTSUP;
    int err = store_mount(&storage_store, f, &storage_mem);
    if (err)
        return err;
    storage_mounted = 1;
    struct store_stats st;
    store_stats(&storage_store, &st);
    log_printf("storage: mounted %lu KiB in %lu ms: %lu blocks in use, %lu messages%s",
               (unsigned long)(st.capacity / 1024), (unsigned long)st.mount_ms,
               (unsigned long)st.blocks_used, (unsigned long)st.messages,
               st.blocks_used ? "" : " (blank flash: new store)");
    if (st.torn)
        log_printf("storage: %lu torn or corrupt records skipped", (unsigned long)st.torn);
    return 0;
}

struct store *storage_get(void)
{
    return storage_mounted ? &storage_store : NULL;
}

int storage_poll(void)
{
    if (!storage_mounted)
        return 0;
    int r = store_gc_step(&storage_store, 0);
    if (r < 0)
        log_printf("storage: garbage collection failed: %s", pb_err_str(r));
    return r > 0;
}
