/*
 * rng.c - entropy from the host's /dev/urandom over semihosting
 * (hal_rng.h).  On the product this is the MCU's TRNG.
 */
#include "hal_rng.h"

#include "mps2.h"
#include "pb_err.h"
#include "semihost.h"

static int rng_fd = -1;

int rng_init(void)
{
    rng_close();
    rng_fd = semihost_open("/dev/urandom", SEMIHOST_RB);
    return rng_fd >= 0 ? 0 : PB_EIO;
}

void rng_close(void)
{
    if (rng_fd >= 0)
        (void)semihost_close(rng_fd);
    rng_fd = -1;
}

int hal_rng_fill(void *buf, size_t len)
{
    unsigned char *p = buf;
    if (rng_fd < 0)
        return PB_EIO;
    while (len > 0) {
        /* SYS_READ answers with the number of bytes it did NOT read. */
        int left = semihost_read(rng_fd, p, len);
        if (left < 0 || (size_t)left >= len)
            return PB_EIO;
        p += len - (size_t)left;
        len = (size_t)left;
    }
    return 0;
}
