/*
 * arch/cc.h - compiler and platform glue for lwIP (all boards).
 */
#ifndef PB_ARCH_CC_H
#define PB_ARCH_CC_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>   /* ssize_t, which lwIP's etharp API uses */

/* Same ssize_t for our -std=c11 code and the gnu11 dependencies. */
#ifndef SSIZE_MAX
#define SSIZE_MAX PTRDIFF_MAX
#endif

/* lwIP calls these; net/lwip_port.c defines them. */
void lwip_port_assert(const char *msg, const char *file, int line);
void lwip_port_diag(const char *fmt, ...);
uint32_t lwip_port_rand(void);

#define LWIP_PLATFORM_ASSERT(x) lwip_port_assert((x), __FILE__, __LINE__)
#define LWIP_PLATFORM_DIAG(x)   do { lwip_port_diag x; } while (0)
#define LWIP_RAND()             lwip_port_rand()

#define LWIP_NO_UNISTD_H 1
#define LWIP_ERRNO_STDINCLUDE 1

#endif
