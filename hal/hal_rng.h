/*
 * hal_rng.h - cryptographic entropy (TRNG on a real board).
 */
#ifndef HAL_RNG_H
#define HAL_RNG_H

#include <stddef.h>

/* Fill buf with len bytes of entropy suitable for seeding a DRBG.
 * Returns 0, or PB_EIO if the source failed (never returns weak bytes). */
int hal_rng_fill(void *buf, size_t len);

#endif
