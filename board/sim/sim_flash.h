/*
 * sim_flash.h - NOR flash emulated in a host file, with power-cut injection.
 *
 * The file holds exactly what a real chip would hold.  The rules of
 * hal_flash.h are enforced: program only clears bits (PB_EPERM otherwise,
 * nothing changed), erase sets a whole block to 0xFF, alignment is checked.
 *
 * Power cut: when powercut_after is N > 0, the N-th program or erase
 * operation is torn - a pseudo-random prefix of its bytes is applied (for a
 * program, with NOR's AND rule; for an erase, a prefix of the block is set
 * to 0xFF) - the file is synced and the process exits at once with status
 * SIM_FLASH_POWERCUT_STATUS.  The tear length is derived from N, so a given
 * N always tears the same way.
 */
#ifndef SIM_FLASH_H
#define SIM_FLASH_H

#include <stdint.h>

#include "hal_flash.h"

#define SIM_FLASH_POWERCUT_STATUS 99
#define SIM_FLASH_DEFAULT_SIZE    (64ull * 1024 * 1024)
#define SIM_FLASH_ERASE_SIZE      4096u
#define SIM_FLASH_PROGRAM_SIZE    16u

struct sim_flash {
    struct hal_flash dev;       /* what hal_flash_device() hands out */
    int fd;
    uint64_t ops;               /* program + erase operations so far */
    uint64_t powercut_after;    /* 0 = never */
};

/* Open (creating and filling with 0xFF if missing) the flash file at path.
 * size 0 means: the existing file's size, or SIM_FLASH_DEFAULT_SIZE for a
 * new file.  A size that differs from an existing file's is PB_EINVAL.
 * Geometry is erase_size / program_size.  Returns 0 or a negative PB_E*. */
int sim_flash_open(struct sim_flash *f, const char *path, uint64_t size,
                   uint32_t erase_size, uint32_t program_size,
                   uint64_t powercut_after);

/* Close the file (after a sync). */
void sim_flash_close(struct sim_flash *f);

#endif
