/*
 * syscalls.c - the few newlib system calls the image may reach.
 *
 * The firmware does not use the C heap (pools are static), but newlib's
 * stdio may allocate a buffer: _sbrk hands out the small region reserved
 * by the linker script and then fails with ENOMEM rather than growing into
 * the stack.  stdout and stderr go to the console UART; there is no file
 * system behind the C library.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "hal_reset.h"
#include "hal_uart.h"

void *_sbrk(ptrdiff_t incr);
int _write(int fd, const void *buf, size_t len);
int _read(int fd, void *buf, size_t len);
int _close(int fd);
int _fstat(int fd, struct stat *st);
int _isatty(int fd);
int _lseek(int fd, int off, int whence);
int _kill(int pid, int sig);
int _getpid(void);
_Noreturn void _exit(int status);

extern char __heap_start[], __heap_end[];

void *_sbrk(ptrdiff_t incr)
{
    static char *brk = __heap_start;
    if (incr < 0 || incr > __heap_end - brk) {
        errno = ENOMEM;
        return (void *)-1;
    }
    char *old = brk;
    brk += incr;
    return old;
}

int _write(int fd, const void *buf, size_t len)
{
    if (fd != 1 && fd != 2) {
        errno = EBADF;
        return -1;
    }
    int n = hal_uart_write(buf, len);
    if (n < 0) {
        errno = EIO;
        return -1;
    }
    return n;
}

int _read(int fd, void *buf, size_t len)
{
    (void)fd;
    (void)buf;
    (void)len;
    return 0; /* the console is read with hal_uart_read(), never stdin */
}

int _close(int fd)
{
    (void)fd;
    errno = EBADF;
    return -1;
}

int _fstat(int fd, struct stat *st)
{
    (void)fd;
    st->st_mode = S_IFCHR;
    return 0;
}

int _isatty(int fd)
{
    return fd >= 0 && fd <= 2;
}

int _lseek(int fd, int off, int whence)
{
    (void)fd;
    (void)off;
    (void)whence;
    errno = ESPIPE;
    return -1;
}

int _kill(int pid, int sig)
{
    (void)pid;
    (void)sig;
    errno = EINVAL;
    return -1;
}

int _getpid(void)
{
    return 1;
}

_Noreturn void _exit(int status)
{
    hal_reset_poweroff(status);
}
