/*
 * semihost.c - ARM semihosting calls (see semihost.h).
 */
#include "semihost.h"

#include <string.h>

enum {
    SYS_OPEN = 0x01,
    SYS_CLOSE = 0x02,
    SYS_WRITE = 0x05,
    SYS_READ = 0x06,
    SYS_SEEK = 0x0A,
    SYS_FLEN = 0x0C,
    SYS_CLOCK = 0x10,
    SYS_TIME = 0x11,
    SYS_GET_CMDLINE = 0x15,
    SYS_EXIT = 0x18,
    SYS_EXIT_EXTENDED = 0x20,
};

/* Reason codes of SYS_EXIT (ARM's "Angel" stop reasons). */
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u
#define ADP_STOPPED_RUNTIME_ERROR    0x20023u

/* The trap: operation in r0, argument (a value or a pointer to a block of
 * words) in r1, result in r0.  "memory" because the host reads and writes
 * the argument block and the buffers it points to. */
static int32_t semihost_call(uint32_t op, uintptr_t arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register uintptr_t r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return (int32_t)r0;
}

int semihost_open(const char *path, enum semihost_mode mode)
{
    uint32_t args[3] = { (uintptr_t)path, (uint32_t)mode, (uint32_t)strlen(path) };
    return semihost_call(SYS_OPEN, (uintptr_t)args);
}

int semihost_close(int fd)
{
    uint32_t args[1] = { (uint32_t)fd };
    return semihost_call(SYS_CLOSE, (uintptr_t)args);
}

int semihost_read(int fd, void *buf, size_t len)
{
    uint32_t args[3] = { (uint32_t)fd, (uintptr_t)buf, (uint32_t)len };
    return semihost_call(SYS_READ, (uintptr_t)args);
}

int semihost_write(int fd, const void *buf, size_t len)
{
    uint32_t args[3] = { (uint32_t)fd, (uintptr_t)buf, (uint32_t)len };
    return semihost_call(SYS_WRITE, (uintptr_t)args);
}

int semihost_seek(int fd, uint32_t pos)
{
    uint32_t args[2] = { (uint32_t)fd, pos };
    return semihost_call(SYS_SEEK, (uintptr_t)args) == 0 ? 0 : -1;
}

long semihost_flen(int fd)
{
    uint32_t args[1] = { (uint32_t)fd };
    return semihost_call(SYS_FLEN, (uintptr_t)args);
}

uint32_t semihost_time(void)
{
    return (uint32_t)semihost_call(SYS_TIME, 0);
}

uint32_t semihost_clock(void)
{
    return (uint32_t)semihost_call(SYS_CLOCK, 0);
}

int semihost_cmdline(char *buf, size_t cap)
{
    uint32_t args[2] = { (uintptr_t)buf, (uint32_t)cap };
    if (cap == 0)
        return -1;
    buf[0] = '\0';
    if (semihost_call(SYS_GET_CMDLINE, (uintptr_t)args) != 0)
        return -1;
    buf[cap - 1] = '\0';
    return 0;
}

void semihost_exit(int status)
{
    /* On AArch32 plain SYS_EXIT takes the reason code itself in r1 and
     * cannot carry a status: "application exit" ends QEMU with 0. */
    if (status == 0) {
        semihost_call(SYS_EXIT, ADP_STOPPED_APPLICATION_EXIT);
        return;
    }
    /* SYS_EXIT_EXTENDED takes a block {reason, subcode}; the subcode is
     * the exit status.  A host that does not know it returns, and then a
     * run-time error is the best non-zero status left to us. */
    uint32_t args[2] = { ADP_STOPPED_APPLICATION_EXIT, (uint32_t)status };
    semihost_call(SYS_EXIT_EXTENDED, (uintptr_t)args);
    semihost_call(SYS_EXIT, ADP_STOPPED_RUNTIME_ERROR);
}
