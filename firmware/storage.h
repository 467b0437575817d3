/*
 * storage.h - the appliance's one flash store: mounted at boot on the
 * board's flash with the tables sized in board_pools.h, garbage-collected
 * a block at a time from the event loop.
 */
#ifndef STORAGE_H
#define STORAGE_H

#include "store.h"

/* Mount the store on hal_flash_device() (a blank flash mounts empty).
 * Returns 0 or a negative PB_E*; without a store, settings stay in RAM. */
int storage_init(void);

/* The mounted store, or NULL when there is none. */
struct store *storage_get(void);

/* One step of housekeeping (GC when it is due).  Returns 1 when it did
 * work, so the event loop does not sleep. */
int storage_poll(void);

#endif
