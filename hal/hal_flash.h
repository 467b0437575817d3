/*
 * hal_flash.h - NOR flash as the store sees it.
 *
 * A flash device is a const table of operations plus a context pointer
 * (the Zephyr model), so a board exposes its chip and a test can hand the
 * store a device of its own.  Rules every implementation enforces, because
 * real NOR enforces them:
 *   - erase works on whole blocks of geo.erase_size bytes and leaves 0xFF;
 *   - program works on whole units of geo.program_size bytes, aligned, and
 *     can only clear bits (1 -> 0).  Asking to set a 0 bit back to 1 fails
 *     with PB_EPERM and changes nothing;
 *   - after program or erase returns 0 the data is on the medium as far as
 *     the board can tell; sync() flushes any board-level write cache (the
 *     emulated boards' host file) and must be called before a commit is
 *     reported durable.
 * Addresses and sizes are 64-bit so devices beyond 4 GiB work.
 * All functions return 0 or a count on success, a negative PB_E* on failure.
 */
#ifndef HAL_FLASH_H
#define HAL_FLASH_H

#include <stddef.h>
#include <stdint.h>

#include "pb_err.h"

struct hal_flash_geometry {
    uint64_t size;         /* bytes, a multiple of erase_size */
    uint32_t erase_size;   /* bytes per erase block: 4 KiB .. 256 KiB, power of two */
    uint32_t program_size; /* bytes per program unit: 1 .. 256, power of two */
};

struct hal_flash_ops {
    /* Copy len bytes at addr into buf.  Any alignment.  Returns 0. */
    int (*read)(void *ctx, uint64_t addr, void *buf, size_t len);
    /* Program len bytes (multiple of program_size, aligned).  PB_EPERM if a
     * 0 bit would become 1; PB_EINVAL if misaligned or out of range. */
    int (*program)(void *ctx, uint64_t addr, const void *buf, size_t len);
    /* Erase the block that starts at addr (aligned to erase_size) to 0xFF. */
    int (*erase)(void *ctx, uint64_t addr);
    /* Make every completed program/erase durable on the backing medium. */
    int (*sync)(void *ctx);
};

struct hal_flash {
    const struct hal_flash_ops *ops;
    void *ctx;
    struct hal_flash_geometry geo;
};

/* The board's flash device, valid after hal_board_init(); NULL if none. */
const struct hal_flash *hal_flash_device(void);

static inline int hal_flash_read(const struct hal_flash *f, uint64_t addr, void *buf, size_t len)
{
    return f->ops->read(f->ctx, addr, buf, len);
}
static inline int hal_flash_program(const struct hal_flash *f, uint64_t addr, const void *buf, size_t len)
{
    return f->ops->program(f->ctx, addr, buf, len);
}
static inline int hal_flash_erase(const struct hal_flash *f, uint64_t addr)
{
    return f->ops->erase(f->ctx, addr);
}
static inline int hal_flash_sync(const struct hal_flash *f)
{
    return f->ops->sync(f->ctx);
}

#endif
