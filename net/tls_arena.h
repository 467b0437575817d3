/*
 * tls_arena.h - the bounded memory arena of wolfSSL.
 *
 * wolfSSL's XMALLOC/XREALLOC/XFREE are mapped here by net/user_settings.h,
 * so TLS never touches the C heap.  The arena is a first-fit allocator over
 * one caller-provided region: free blocks are kept in address order and
 * merged with their neighbours on free.  Every block is aligned for any C
 * type: 8 bytes on the Cortex-M7, 16 on 64-bit hosts.
 *
 * Single-threaded like the rest of the firmware: call only from the event
 * loop (lwIP callbacks included).
 *
 * When the arena is exhausted tls_arena_alloc() returns NULL, wolfSSL fails
 * the operation with MEMORY_E and the TLS layer closes that connection; the
 * sessions that already have their memory carry on.
 */
#ifndef TLS_ARENA_H
#define TLS_ARENA_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of arena bookkeeping per allocation (a block header). */
#define TLS_ARENA_OVERHEAD 16u

struct tls_arena_stats {
    size_t size;            /* usable bytes of the region given to init */
    size_t in_use;          /* bytes handed out now (payloads, rounded up) */
    size_t peak;            /* highest in_use since init */
    size_t largest_free;    /* largest single free block (payload bytes) */
    uint32_t allocs;        /* live allocations */
    uint32_t failed;        /* allocations refused since init */
};

/* Take over region (len bytes, any alignment; the unaligned head and tail
 * are skipped) as the arena.  Called once at boot by tls_init(); calling it
 * again forgets every allocation (tests only).  Returns 0 or PB_EINVAL if
 * the region is too small to hold one block. */
int tls_arena_init(void *region, size_t len);

/* size bytes, aligned as above, or NULL when no free block fits (counted in
 * stats.failed) or size is 0.  Before tls_arena_init() always NULL. */
void *tls_arena_alloc(size_t size);

/* Resize ptr as realloc(3) does: NULL ptr allocates, size 0 frees and
 * returns NULL.  On failure ptr is untouched and NULL returned. */
void *tls_arena_realloc(void *ptr, size_t size);

/* Return ptr (from tls_arena_alloc/realloc, or NULL) to the arena.
 * Freeing a pointer the arena does not own is asserted. */
void tls_arena_free(void *ptr);

/* Tests only: the n-th allocation from now (1 = the next one, reallocs
 * that need a new block included) and every one after it fail as if the
 * arena were exhausted, until the next call; n = 0 turns this off.
 * tls_arena_init() turns it off too. */
void tls_arena_fail_after(uint32_t n);

/* Copy the counters into *st (for "show status" and the leak checks of
 * the tests). */
void tls_arena_stats(struct tls_arena_stats *st);

#endif
