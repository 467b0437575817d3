/*
 * semihost.h - ARM semihosting, the emulated board's window on the host.
 *
 * Each call traps to the debugger or emulator (QEMU with
 * -semihosting-config enable=on,target=native) and blocks until the host
 * has done the work.  Without a semihosting host the BKPT instruction
 * faults, so only the emulated board uses this.  Handles are host file
 * handles (>= 0).  Positions and lengths are 32-bit on AArch32.
 */
#ifndef SEMIHOST_H
#define SEMIHOST_H

#include <stddef.h>
#include <stdint.h>

/* fopen()-style modes of SYS_OPEN. */
enum semihost_mode {
    SEMIHOST_RB = 1,      /* "rb" */
    SEMIHOST_RPLUSB = 3,  /* "r+b": read/write, the file must exist */
    SEMIHOST_WPLUSB = 7,  /* "w+b": read/write, created or truncated */
};

/* Open a host file.  Returns a handle, or -1. */
int semihost_open(const char *path, enum semihost_mode mode);
/* Close a handle.  Returns 0 or -1. */
int semihost_close(int fd);
/* Read len bytes.  Returns the number of bytes NOT read (0 = all read,
 * len = end of file), or -1 on error. */
int semihost_read(int fd, void *buf, size_t len);
/* Write len bytes.  Returns the number of bytes NOT written (0 = all). */
int semihost_write(int fd, const void *buf, size_t len);
/* Move to an absolute position.  Returns 0 or -1. */
int semihost_seek(int fd, uint32_t pos);
/* Length of an open file, or -1. */
long semihost_flen(int fd);
/* Host wall clock, seconds since 1970-01-01 UTC. */
uint32_t semihost_time(void);
/* Host real time since the emulator started, in centiseconds. */
uint32_t semihost_clock(void);
/* Copy the command line (with QEMU: the -kernel file name, a space, then
 * the -append string) into buf, NUL-terminated.  Returns 0 or -1. */
int semihost_cmdline(char *buf, size_t cap);
/* End the emulator with status (0 = success).  Returns only if the host
 * refused the request. */
void semihost_exit(int status);

#endif
