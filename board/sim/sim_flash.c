/*
 * sim_flash.c - NOR flash in a host file (see sim_flash.h).
 */
#include "sim_flash.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int sim_flash_read(void *ctx, uint64_t addr, void *buf, size_t len);
static int sim_flash_program(void *ctx, uint64_t addr, const void *buf, size_t len);
static int sim_flash_erase(void *ctx, uint64_t addr);
static int sim_flash_sync(void *ctx);

static const struct hal_flash_ops sim_flash_ops = {
    .read = sim_flash_read,
    .program = sim_flash_program,
    .erase = sim_flash_erase,
    .sync = sim_flash_sync,
};

/* pread(2) or pwrite(2) of exactly len bytes, retrying short transfers. */
static int sim_flash_io(int fd, void *buf, size_t len, uint64_t off, int write)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = write ? pwrite(fd, p, len, (off_t)off) : pread(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return PB_EIO;
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

static int sim_flash_pread(int fd, void *buf, size_t len, uint64_t off)
{
    return sim_flash_io(fd, buf, len, off, 0);
}

static int sim_flash_pwrite(int fd, const void *buf, size_t len, uint64_t off)
{
    return sim_flash_io(fd, (void *)buf, len, off, 1);
}

/* Deterministic tear length in [0, len) for the operation that loses power. */
static size_t sim_flash_tear_len(uint64_t n, size_t len)
{
    uint64_t x = n * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 29;
    return len ? (size_t)(x % len) : 0;
}

/* Counts the operation; true when this one is the one that loses power. */
static int sim_flash_cut_now(struct sim_flash *f)
{
    f->ops++;
    return f->powercut_after != 0 && f->ops == f->powercut_after;
}

static _Noreturn void sim_flash_die(struct sim_flash *f)
{
    fsync(f->fd);
    _exit(SIM_FLASH_POWERCUT_STATUS);
}

static int sim_flash_check(const struct sim_flash *f, uint64_t addr, size_t len, uint32_t align)
{
    if (addr % align || len % align)
        return PB_EINVAL;
    if (addr > f->dev.geo.size || len > f->dev.geo.size - addr)
        return PB_EINVAL;
    return 0;
}

static int sim_flash_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
    struct sim_flash *f = ctx;
    if (addr > f->dev.geo.size || len > f->dev.geo.size - addr)
        return PB_EINVAL;
    return sim_flash_pread(f->fd, buf, len, addr);
}

static int sim_flash_program(void *ctx, uint64_t addr, const void *buf, size_t len)
{
    struct sim_flash *f = ctx;
    uint8_t old[256];
    const uint8_t *src = buf;
    int err = sim_flash_check(f, addr, len, f->dev.geo.program_size);
    if (err)
        return err;

    /* Check the whole range first: a refused program changes nothing. */
    for (size_t done = 0; done < len; done += sizeof(old)) {
        size_t n = len - done < sizeof(old) ? len - done : sizeof(old);
        if ((err = sim_flash_pread(f->fd, old, n, addr + done)))
            return err;
        for (size_t i = 0; i < n; i++)
            if ((old[i] & src[done + i]) != src[done + i])
                return PB_EPERM;
    }

    size_t keep = len;
    int cut = sim_flash_cut_now(f);
    if (cut)
        keep = sim_flash_tear_len(f->ops, len);
    /* Since every bit only goes 1 -> 0, the new value is simply src. */
    if (keep && (err = sim_flash_pwrite(f->fd, src, keep, addr)))
        return err;
    if (cut)
        sim_flash_die(f);
    return 0;
}

static int sim_flash_erase(void *ctx, uint64_t addr)
{
    struct sim_flash *f = ctx;
    uint8_t ones[4096];
    uint32_t bs = f->dev.geo.erase_size;
    int err = sim_flash_check(f, addr, bs, bs);
    if (err)
        return err;
    memset(ones, 0xFF, sizeof(ones));

    size_t keep = bs;
    int cut = sim_flash_cut_now(f);
    if (cut)
        keep = sim_flash_tear_len(f->ops, bs);
    for (size_t done = 0; done < keep; done += sizeof(ones)) {
        size_t n = keep - done < sizeof(ones) ? keep - done : sizeof(ones);
        if ((err = sim_flash_pwrite(f->fd, ones, n, addr + done)))
            return err;
    }
    if (cut)
        sim_flash_die(f);
    return 0;
}

static int sim_flash_sync(void *ctx)
{
    struct sim_flash *f = ctx;
    return fdatasync(f->fd) == 0 ? 0 : PB_EIO;
}

static int sim_flash_is_pow2(uint64_t v)
{
    return v && !(v & (v - 1));
}

int sim_flash_open(struct sim_flash *f, const char *path, uint64_t size,
                   uint32_t erase_size, uint32_t program_size,
                   uint64_t powercut_after)
{
    struct stat st;
    memset(f, 0, sizeof(*f));
    f->fd = -1;
    if (!sim_flash_is_pow2(erase_size) || !sim_flash_is_pow2(program_size) ||
        erase_size < 4096 || erase_size > 256 * 1024 || program_size > 256)
        return PB_EINVAL;

    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return errno == ENOSPC ? PB_ENOSPC : PB_EIO;
    if (fstat(fd, &st) < 0) {
        close(fd);
        return PB_EIO;
    }
    uint64_t have = (uint64_t)st.st_size;
    if (have == 0) {
        if (size == 0)
            size = SIM_FLASH_DEFAULT_SIZE;
        if (size % erase_size) {
            close(fd);
            return PB_EINVAL;
        }
        /* A fresh chip comes erased. */
        uint8_t ones[65536];
        memset(ones, 0xFF, sizeof(ones));
        for (uint64_t off = 0; off < size; off += sizeof(ones)) {
            size_t n = size - off < sizeof(ones) ? (size_t)(size - off) : sizeof(ones);
            if (sim_flash_pwrite(fd, ones, n, off)) {
                close(fd);
                return PB_EIO;
            }
        }
        fsync(fd);
    } else if (size != 0 && size != have) {
        close(fd);
        return PB_EINVAL;
    } else {
        size = have;
        if (size % erase_size) {
            close(fd);
            return PB_EINVAL;
        }
    }

    f->fd = fd;
    f->powercut_after = powercut_after;
    f->dev.ops = &sim_flash_ops;
    f->dev.ctx = f;
    f->dev.geo.size = size;
    f->dev.geo.erase_size = erase_size;
    f->dev.geo.program_size = program_size;
    return 0;
}

void sim_flash_close(struct sim_flash *f)
{
    if (f->fd >= 0) {
        fdatasync(f->fd);
        close(f->fd);
    }
    f->fd = -1;
}
