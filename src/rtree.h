/*
 * rtree: the global radix tree that maps page addresses to extents
 * (facts §6.6).  With LG_VADDR 48 and 4 KiB pages a key has 36 significant
 * bits: a root of 2^18 leaf pointers (static) and leaves of 2^18 one-word
 * elements (2 MiB each, from base).  Each element packs
 *   szind << 48 | extent pointer (48 bits) | slab bit (bit 0).
 * Every thread keeps a 16-entry direct-mapped cache of leaves plus an
 * 8-entry LRU behind it, so most lookups are two loads.
 */
#ifndef JEMALLOC_RTREE_H
#define JEMALLOC_RTREE_H

#include "atomic.h"
#include "mutex.h"

#define RTREE_NSB (LG_VADDR - LG_PAGE)
#if RTREE_NSB <= 36
#  define RTREE_HEIGHT 2
#  define RTREE_LEAF_BITS (RTREE_NSB / 2)
#  define RTREE_MID_BITS 0
#else
#  define RTREE_HEIGHT 3
#  define RTREE_LEAF_BITS (RTREE_NSB / 3)
#  define RTREE_MID_BITS (RTREE_NSB / 3)
#endif
#define RTREE_ROOT_BITS (RTREE_NSB - RTREE_LEAF_BITS - RTREE_MID_BITS)

#define RTREE_CTX_LG_NCACHE 4
#define RTREE_CTX_NCACHE (1 << RTREE_CTX_LG_NCACHE)
#define RTREE_CTX_NCACHE_L2 8
#define RTREE_LEAFKEY_INVALID ((uintptr_t)1)

typedef struct rtree_leaf_elm_s {
	atomic_u64_t bits;
} rtree_leaf_elm_t;

typedef struct {
	uintptr_t leafkey;
	rtree_leaf_elm_t *leaf;
} rtree_ctx_cache_elm_t;

/* Per-thread lookup cache; lives in the tsd block. */
typedef struct {
	rtree_ctx_cache_elm_t cache[RTREE_CTX_NCACHE];
	rtree_ctx_cache_elm_t l2_cache[RTREE_CTX_NCACHE_L2];
} rtree_ctx_t;

typedef struct {
	/* Synchronization: nodes and leaves are published with release
	 * stores and created under init_lock; never freed. */
	malloc_mutex_t init_lock;
	atomic_p_t root[1 << RTREE_ROOT_BITS];
} rtree_t;

extern rtree_t extents_rtree;

bool rtree_new(rtree_t *rtree, bool zeroed);
void rtree_ctx_data_init(rtree_ctx_t *ctx);
rtree_leaf_elm_t *rtree_leaf_elm_lookup_hard(rtree_t *rtree, rtree_ctx_t *ctx,
    uintptr_t key, bool dependent, bool init_missing);

JEMALLOC_ALWAYS_INLINE uintptr_t
rtree_leafkey(uintptr_t key) {
	return key & ~((ZU(1) << (LG_PAGE + RTREE_LEAF_BITS)) - 1);
}

JEMALLOC_ALWAYS_INLINE size_t
rtree_cache_slot(uintptr_t key) {
	return (key >> (LG_PAGE + RTREE_LEAF_BITS)) & (RTREE_CTX_NCACHE - 1);
}

JEMALLOC_ALWAYS_INLINE size_t
rtree_leaf_subkey(uintptr_t key) {
	return (key >> LG_PAGE) & ((ZU(1) << RTREE_LEAF_BITS) - 1);
}

/*
 * The element for key, or NULL when its leaf does not exist and
 * init_missing is false (or the key is outside LG_VADDR bits).
 * dependent means the caller knows the key is registered.
 */
JEMALLOC_ALWAYS_INLINE rtree_leaf_elm_t *
rtree_leaf_elm_lookup(rtree_t *rtree, rtree_ctx_t *ctx, uintptr_t key,
    bool dependent, bool init_missing) {
	uintptr_t leafkey = rtree_leafkey(key);
	size_t slot = rtree_cache_slot(key);
	if (likely(ctx->cache[slot].leafkey == leafkey))
		return &ctx->cache[slot].leaf[rtree_leaf_subkey(key)];
	/* Second level: hit moves to L1, the L1 entry one step down L2. */
	for (unsigned i = 0; i < RTREE_CTX_NCACHE_L2; i++) {
		if (ctx->l2_cache[i].leafkey == leafkey) {
			rtree_leaf_elm_t *leaf = ctx->l2_cache[i].leaf;
			if (i > 0) {
				ctx->l2_cache[i] = ctx->l2_cache[i - 1];
				ctx->l2_cache[i - 1] = ctx->cache[slot];
			} else {
				ctx->l2_cache[0] = ctx->cache[slot];
			}
			ctx->cache[slot].leafkey = leafkey;
			ctx->cache[slot].leaf = leaf;
			return &leaf[rtree_leaf_subkey(key)];
		}
	}
	return rtree_leaf_elm_lookup_hard(rtree, ctx, key, dependent,
	    init_missing);
}

/* --- element encoding ------------------------------------------------ */

JEMALLOC_ALWAYS_INLINE uint64_t
rtree_leaf_elm_bits_encode(const void *extent, unsigned szind, bool slab) {
	return ((uint64_t)szind << 48) |
	    ((uint64_t)(uintptr_t)extent & ((QU(1) << 48) - 1)) | (uint64_t)slab;
}

JEMALLOC_ALWAYS_INLINE uint64_t
rtree_leaf_elm_bits_read(const rtree_leaf_elm_t *elm, bool dependent) {
	return atomic_load_u64(&elm->bits, dependent ? ATOMIC_RELAXED :
	    ATOMIC_ACQUIRE);
}

JEMALLOC_ALWAYS_INLINE void *
rtree_leaf_elm_bits_extent_get(uint64_t bits) {
	/* Sign-extend bit 47 and drop the slab bit. */
	return (void *)((uintptr_t)((int64_t)(bits << 16) >> 16) &
	    ~(uintptr_t)1);
}

JEMALLOC_ALWAYS_INLINE unsigned
rtree_leaf_elm_bits_szind_get(uint64_t bits) {
	return (unsigned)(bits >> 48);
}

JEMALLOC_ALWAYS_INLINE bool
rtree_leaf_elm_bits_slab_get(uint64_t bits) {
	return bits & 1;
}

JEMALLOC_ALWAYS_INLINE void
rtree_leaf_elm_write(rtree_leaf_elm_t *elm, const void *extent,
    unsigned szind, bool slab) {
	atomic_store_u64(&elm->bits, rtree_leaf_elm_bits_encode(extent, szind,
	    slab), ATOMIC_RELEASE);
}

/* Updates szind and slab, keeping the extent. */
JEMALLOC_ALWAYS_INLINE void
rtree_leaf_elm_szind_slab_update(rtree_leaf_elm_t *elm, unsigned szind,
    bool slab) {
	uint64_t bits = rtree_leaf_elm_bits_read(elm, true);
	rtree_leaf_elm_write(elm, rtree_leaf_elm_bits_extent_get(bits), szind,
	    slab);
}

/* Returns true on failure (no memory for a leaf, or key out of range). */
JEMALLOC_ALWAYS_INLINE bool
rtree_write(rtree_t *rtree, rtree_ctx_t *ctx, uintptr_t key,
    const void *extent, unsigned szind, bool slab) {
	rtree_leaf_elm_t *elm = rtree_leaf_elm_lookup(rtree, ctx, key, false,
	    true);
	if (elm == NULL)
		return true;
	rtree_leaf_elm_write(elm, extent, szind, slab);
	return false;
}

JEMALLOC_ALWAYS_INLINE void *
rtree_extent_read(rtree_t *rtree, rtree_ctx_t *ctx, uintptr_t key,
    bool dependent) {
	rtree_leaf_elm_t *elm = rtree_leaf_elm_lookup(rtree, ctx, key,
	    dependent, false);
	if (!dependent && elm == NULL)
		return NULL;
	return rtree_leaf_elm_bits_extent_get(rtree_leaf_elm_bits_read(elm,
	    dependent));
}

/* Reads szind and slab; returns true if the key has no leaf. */
JEMALLOC_ALWAYS_INLINE bool
rtree_szind_slab_read(rtree_t *rtree, rtree_ctx_t *ctx, uintptr_t key,
    bool dependent, unsigned *r_szind, bool *r_slab) {
	rtree_leaf_elm_t *elm = rtree_leaf_elm_lookup(rtree, ctx, key,
	    dependent, false);
	if (!dependent && elm == NULL)
		return true;
	uint64_t bits = rtree_leaf_elm_bits_read(elm, dependent);
	*r_szind = rtree_leaf_elm_bits_szind_get(bits);
	*r_slab = rtree_leaf_elm_bits_slab_get(bits);
	return false;
}

JEMALLOC_ALWAYS_INLINE void
rtree_clear(rtree_t *rtree, rtree_ctx_t *ctx, uintptr_t key) {
	rtree_leaf_elm_t *elm = rtree_leaf_elm_lookup(rtree, ctx, key, true,
	    false);
	rtree_leaf_elm_write(elm, NULL, NSIZES, false);
}

#endif
