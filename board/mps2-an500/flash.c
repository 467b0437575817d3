/*
 * flash.c - NOR flash emulated in a host file over semihosting
 * (hal_flash.h's hal_flash_device()).
 *
 * The host file is the chip's array, byte for byte.  This driver enforces
 * what the chip would: whole aligned erase blocks, whole aligned program
 * units, and programming may only clear bits; a request that would set a
 * 0 bit back to 1 fails with PB_EPERM before anything is written.  Every
 * write goes straight to the host file with write(2), so it survives the
 * emulator's exit or a guest reset; semihosting has no fsync, so sync()
 * has nothing left to flush (a host crash is outside the model).
 */
#include "hal_flash.h"

#include <string.h>

#include "mps2.h"
#include "semihost.h"

/* Semihosting positions are 32-bit and SYS_FLEN answers in a signed int:
 * keep the device well inside that. */
#define FLASH_MAX_BYTES (1024u * 1024u * 1024u)

/* Program-check and erase scratch: one erase block of 0xFF doubles as the
 * erase pattern and as the read-back buffer for programs. */
static uint8_t flash_ones[FLASH_ERASE_BYTES];
static uint8_t flash_old[256];

struct flash_ctx {
    int fd;          /* host handle, -1 when closed */
};

static struct flash_ctx flash_ctx = { .fd = -1 };

static int flash_read(void *ctx, uint64_t addr, void *buf, size_t len);
static int flash_program(void *ctx, uint64_t addr, const void *buf, size_t len);
static int flash_erase(void *ctx, uint64_t addr);
static int flash_sync(void *ctx);

static const struct hal_flash_ops flash_ops = {
    .read = flash_read,
    .program = flash_program,
    .erase = flash_erase,
    .sync = flash_sync,
};

static struct hal_flash flash_dev = {
    .ops = &flash_ops,
    .ctx = &flash_ctx,
    .geo = { .size = 0, .erase_size = FLASH_ERASE_BYTES, .program_size = FLASH_PROGRAM_BYTES },
};

static bool flash_in_range(uint64_t addr, size_t len)
{
    return addr <= flash_dev.geo.size && len <= flash_dev.geo.size - addr;
}

static int flash_host_read(struct flash_ctx *c, uint64_t addr, void *buf, size_t len)
{
    if (semihost_seek(c->fd, (uint32_t)addr) < 0)
        return PB_EIO;
    return semihost_read(c->fd, buf, len) == 0 ? 0 : PB_EIO;
}

static int flash_host_write(struct flash_ctx *c, uint64_t addr, const void *buf, size_t len)
{
    if (semihost_seek(c->fd, (uint32_t)addr) < 0)
        return PB_EIO;
    return semihost_write(c->fd, buf, len) == 0 ? 0 : PB_EIO;
}

/* Extend the file with erased blocks from byte from up to byte to. */
static int flash_fill_erased(struct flash_ctx *c, uint64_t from, uint64_t to)
{
    for (uint64_t at = from; at < to; ) {
        size_t n = to - at < sizeof flash_ones ? (size_t)(to - at) : sizeof flash_ones;
        int err = flash_host_write(c, at, flash_ones, n);
        if (err < 0)
            return err;
        at += n;
    }
    return 0;
}

int flash_init(const char *path, uint64_t size)
{
    struct flash_ctx *c = &flash_ctx;
    memset(flash_ones, 0xff, sizeof flash_ones);
    flash_close();

    if (size % FLASH_ERASE_BYTES != 0 || size > FLASH_MAX_BYTES)
        return PB_EINVAL;

    c->fd = semihost_open(path, SEMIHOST_RPLUSB);
    if (c->fd < 0)
        c->fd = semihost_open(path, SEMIHOST_WPLUSB);
    if (c->fd < 0)
        return PB_EIO;

    long have = semihost_flen(c->fd);
    if (have < 0) {
        flash_close();
        return PB_EIO;
    }
    /* A new (empty) file is a fresh chip: erased, at the size asked for.
     * An existing file is the chip: its size must be what was asked for,
     * as on the sim board, since a store does not survive a resize. */
    if (have == 0) {
        if (size == 0)
            size = FLASH_DEFAULT_BYTES;
        int err = flash_fill_erased(c, 0, size);
        if (err < 0) {
            flash_close();
            return err;
        }
    } else if (size != 0 && size != (uint64_t)have) {
        flash_close();
        return PB_EINVAL;
    } else {
        size = (uint64_t)have;
        if (size % FLASH_ERASE_BYTES != 0 || size > FLASH_MAX_BYTES) {
            flash_close();
            return PB_EINVAL;
        }
    }
    flash_dev.geo.size = size;
    return 0;
}

void flash_close(void)
{
    if (flash_ctx.fd >= 0)
        (void)semihost_close(flash_ctx.fd);
    flash_ctx.fd = -1;
    flash_dev.geo.size = 0;
}

const struct hal_flash *hal_flash_device(void)
{
    return flash_ctx.fd >= 0 ? &flash_dev : NULL;
}

static int flash_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
    struct flash_ctx *c = ctx;
    if (c->fd < 0)
        return PB_EIO;
    if (!flash_in_range(addr, len))
        return PB_EINVAL;
    if (len == 0)
        return 0;
    return flash_host_read(c, addr, buf, len);
}

static int flash_program(void *ctx, uint64_t addr, const void *buf, size_t len)
{
    struct flash_ctx *c = ctx;
    const uint8_t *src = buf;
    if (c->fd < 0)
        return PB_EIO;
    if (addr % FLASH_PROGRAM_BYTES != 0 || len % FLASH_PROGRAM_BYTES != 0 ||
        !flash_in_range(addr, len))
        return PB_EINVAL;

    /* Check the whole request first so a refused program changes nothing. */
    for (size_t off = 0; off < len; off += sizeof flash_old) {
        size_t n = len - off < sizeof flash_old ? len - off : sizeof flash_old;
        int err = flash_host_read(c, addr + off, flash_old, n);
        if (err < 0)
            return err;
        for (size_t i = 0; i < n; i++) {
            if ((uint8_t)(src[off + i] & ~flash_old[i]) != 0)
                return PB_EPERM;
        }
    }
    if (len == 0)
        return 0;
    return flash_host_write(c, addr, buf, len);
}

static int flash_erase(void *ctx, uint64_t addr)
{
    struct flash_ctx *c = ctx;
    if (c->fd < 0)
        return PB_EIO;
    if (addr % FLASH_ERASE_BYTES != 0 || !flash_in_range(addr, FLASH_ERASE_BYTES))
        return PB_EINVAL;
    return flash_host_write(c, addr, flash_ones, FLASH_ERASE_BYTES);
}

static int flash_sync(void *ctx)
{
    struct flash_ctx *c = ctx;
    return c->fd >= 0 ? 0 : PB_EIO;
}
