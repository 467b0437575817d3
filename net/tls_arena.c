/*
 * tls_arena.c - first-fit allocator with coalescing for wolfSSL.
 *
 * Layout: the region is a sequence of blocks, each a 16-byte header
 * followed by its payload.  A header records the payload size, whether the
 * block is free, and the payload size of the previous block so that free()
 * can merge with both neighbours in O(1).  Free blocks are additionally
 * linked in address order (the links live in the free payload) so that
 * first-fit walks only free blocks.
 */
#include "tls_arena.h"

#include <assert.h>
#include <stddef.h>
#include <string.h>

#include "pb_err.h"

/* 8 bytes on the Cortex-M7; 16 on 64-bit hosts, where wolfSSL keeps
 * __int128 words in what it allocates. */
#define ARENA_ALIGN ((size_t)(_Alignof(max_align_t) > 8 ? _Alignof(max_align_t) : 8))
#define ARENA_MIN_PAYLOAD 16u  /* room for the free-list links */

struct arena_block {
    uint32_t size;       /* payload bytes, multiple of ARENA_ALIGN */
    uint32_t prev_size;  /* payload bytes of the block before, 0 for the first */
    uint32_t flags;
    uint32_t magic;
};

#define BLOCK_FREE 1u
#define BLOCK_LAST 2u
#define ARENA_MAGIC 0x7a3e11a5u

struct arena_links {
    struct arena_block *next, *prev;
};

_Static_assert(sizeof(struct arena_block) == TLS_ARENA_OVERHEAD, "header size");
_Static_assert(TLS_ARENA_OVERHEAD % _Alignof(max_align_t) == 0, "header keeps payload aligned");
_Static_assert(sizeof(struct arena_links) <= ARENA_MIN_PAYLOAD, "links fit");

static struct {
    uint8_t *base;
    size_t len;
    struct arena_block *free_head;
    struct tls_arena_stats st;
    uint32_t fail_countdown;    /* tls_arena_fail_after(): 0 = off */
} arena;

static size_t arena_round(size_t n)
{
    return (n + ARENA_ALIGN - 1u) & ~(size_t)(ARENA_ALIGN - 1u);
}

/* tls_arena_fail_after(): count this allocation down; once the count
 * reaches 1 it stays there and every allocation fails. */
static int arena_injected_failure(void)
{
    if (arena.fail_countdown == 0)
        return 0;
    if (arena.fail_countdown > 1) {
        arena.fail_countdown--;
        return 0;
    }
    return 1;
}

static struct arena_links *arena_links(struct arena_block *b)
{
    return (struct arena_links *)(void *)(b + 1);
}

static struct arena_block *arena_next(struct arena_block *b)
{
    if (b->flags & BLOCK_LAST)
        return NULL;
    return (struct arena_block *)(void *)((uint8_t *)(b + 1) + b->size);
}

static struct arena_block *arena_prev(struct arena_block *b)
{
    if ((uint8_t *)b == arena.base)
        return NULL;
    return (struct arena_block *)(void *)((uint8_t *)b - b->prev_size - sizeof(*b));
}

/* Insert b into the address-ordered free list. */
static void arena_list_insert(struct arena_block *b)
{
    struct arena_block *prev = NULL, *cur = arena.free_head;
    while (cur != NULL && cur < b) {
        prev = cur;
        cur = arena_links(cur)->next;
    }
    arena_links(b)->prev = prev;
    arena_links(b)->next = cur;
    if (cur != NULL)
        arena_links(cur)->prev = b;
    if (prev != NULL)
        arena_links(prev)->next = b;
    else
        arena.free_head = b;
    b->flags |= BLOCK_FREE;
}

static void arena_list_remove(struct arena_block *b)
{
    struct arena_links *l = arena_links(b);
    if (l->prev != NULL)
        arena_links(l->prev)->next = l->next;
    else
        arena.free_head = l->next;
    if (l->next != NULL)
        arena_links(l->next)->prev = l->prev;
    b->flags &= ~BLOCK_FREE;
}

/* Absorb the block after b (which must be free) into b. */
static void arena_merge_next(struct arena_block *b)
{
    struct arena_block *n = arena_next(b);
    struct arena_block *nn;
    arena_list_remove(n);
    b->size += (uint32_t)(sizeof(*n) + n->size);
    b->flags = (b->flags & ~BLOCK_LAST) | (n->flags & BLOCK_LAST);
    n->magic = 0;
    nn = arena_next(b);
    if (nn != NULL)
        nn->prev_size = b->size;
}

/* Cut b (in use) down to size payload bytes if the rest can form a block. */
static void arena_split(struct arena_block *b, size_t size)
{
    struct arena_block *rest, *after;
    if (b->size < size + sizeof(*b) + ARENA_MIN_PAYLOAD)
        return;
    rest = (struct arena_block *)(void *)((uint8_t *)(b + 1) + size);
    rest->size = (uint32_t)(b->size - size - sizeof(*b));
    rest->prev_size = (uint32_t)size;
    rest->flags = b->flags & BLOCK_LAST;
    rest->magic = ARENA_MAGIC;
    b->size = (uint32_t)size;
    b->flags &= ~BLOCK_LAST;
    after = arena_next(rest);
    if (after != NULL)
        after->prev_size = rest->size;
    arena_list_insert(rest);
    if (after != NULL && (after->flags & BLOCK_FREE))
        arena_merge_next(rest);
}

static struct arena_block *arena_block_of(void *ptr)
{
    struct arena_block *b = (struct arena_block *)ptr - 1;
    assert((uint8_t *)ptr > arena.base && (uint8_t *)ptr < arena.base + arena.len);
    assert(b->magic == ARENA_MAGIC && !(b->flags & BLOCK_FREE));
    return b;
}

int tls_arena_init(void *region, size_t len)
{
    uintptr_t start = ((uintptr_t)region + ARENA_ALIGN - 1u) & ~(uintptr_t)(ARENA_ALIGN - 1u);
    size_t skip = (size_t)(start - (uintptr_t)region);
    struct arena_block *b;

    memset(&arena, 0, sizeof(arena));
    if (region == NULL || len < skip + sizeof(*b) + ARENA_MIN_PAYLOAD)
        return PB_EINVAL;
    len = (len - skip) & ~(size_t)(ARENA_ALIGN - 1u);
    if (len > UINT32_MAX)
        len = UINT32_MAX & ~(size_t)(ARENA_ALIGN - 1u);
    arena.base = (uint8_t *)start;
    arena.len = len;
    b = (struct arena_block *)(void *)arena.base;
    b->size = (uint32_t)(len - sizeof(*b));
    b->prev_size = 0;
    b->flags = BLOCK_LAST;
    b->magic = ARENA_MAGIC;
    arena_list_insert(b);
    arena.st.size = b->size;
    return 0;
}

void *tls_arena_alloc(size_t size)
{
    struct arena_block *b;

    if (size == 0 || arena.base == NULL)
        return NULL;
    if (size > arena.len || arena_injected_failure()) {
        arena.st.failed++;
        return NULL;
    }
    size = arena_round(size < ARENA_MIN_PAYLOAD ? ARENA_MIN_PAYLOAD : size);
    for (b = arena.free_head; b != NULL; b = arena_links(b)->next) {
        if (b->size >= size)
            break;
    }
    if (b == NULL) {
        arena.st.failed++;
        return NULL;
    }
    arena_list_remove(b);
    arena_split(b, size);
    arena.st.in_use += b->size;
    arena.st.allocs++;
    if (arena.st.in_use > arena.st.peak)
        arena.st.peak = arena.st.in_use;
    return b + 1;
}

void tls_arena_free(void *ptr)
{
    struct arena_block *b, *n, *p;

    if (ptr == NULL)
        return;
    b = arena_block_of(ptr);
    arena.st.in_use -= b->size;
    arena.st.allocs--;
    arena_list_insert(b);
    n = arena_next(b);
    if (n != NULL && (n->flags & BLOCK_FREE))
        arena_merge_next(b);
    p = arena_prev(b);
    if (p != NULL && (p->flags & BLOCK_FREE))
        arena_merge_next(p);
}

void *tls_arena_realloc(void *ptr, size_t size)
{
    struct arena_block *b, *n;
    size_t want;
    void *fresh;

    if (ptr == NULL)
        return tls_arena_alloc(size);
    if (size == 0) {
        tls_arena_free(ptr);
        return NULL;
    }
    b = arena_block_of(ptr);
    if (size > arena.len) {
        /* Also keeps arena_round() below from wrapping to a tiny size. */
        arena.st.failed++;
        return NULL;
    }
    want = arena_round(size < ARENA_MIN_PAYLOAD ? ARENA_MIN_PAYLOAD : size);
    if (want <= b->size) {
        arena.st.in_use -= b->size;
        arena_split(b, want);
        arena.st.in_use += b->size;
        return ptr;
    }
    /* Grow in place when the next block is free and big enough. */
    n = arena_next(b);
    if (n != NULL && (n->flags & BLOCK_FREE) && b->size + sizeof(*n) + n->size >= want) {
        arena.st.in_use -= b->size;
        arena_list_insert(b);  /* merge_next expects a consistent free list */
        arena_merge_next(b);
        arena_list_remove(b);
        arena_split(b, want);
        arena.st.in_use += b->size;
        if (arena.st.in_use > arena.st.peak)
            arena.st.peak = arena.st.in_use;
        return ptr;
    }
    fresh = tls_arena_alloc(size);
    if (fresh == NULL)
        return NULL;
    memcpy(fresh, ptr, b->size);
    tls_arena_free(ptr);
    return fresh;
}

void tls_arena_fail_after(uint32_t n)
{
    arena.fail_countdown = n;
}

void tls_arena_stats(struct tls_arena_stats *st)
{
    struct arena_block *b;
    size_t largest = 0;

    for (b = arena.free_head; b != NULL; b = arena_links(b)->next) {
        if (b->size > largest)
            largest = b->size;
    }
    *st = arena.st;
    st->largest_free = largest;
}
