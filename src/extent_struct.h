/*
 * extent_t: the descriptor of a run of pages (an "extent"), shared by the
 * base, extent and arena layers.  Only the struct and its field accessors
 * live here; the extent module holds the operations.
 *
 * e_bits packs, from bit 0 up (facts §6.4):
 *   arena_ind:12 | slab:1 | committed:1 | dumpable:1 | zeroed:1 | state:2 |
 *   szind:8 | nfree:10 | sn:28
 */
#ifndef JEMALLOC_EXTENT_STRUCT_H
#define JEMALLOC_EXTENT_STRUCT_H

#include "bitmap.h"
#include "ph.h"
#include "ql.h"

typedef enum {
	extent_state_active = 0,
	extent_state_dirty = 1,
	extent_state_muzzy = 2,
	extent_state_retained = 3
} extent_state_t;

typedef struct extent_s extent_t;
struct extent_s {
	/* Synchronization: owner of the extent (container lock or the
	 * allocation holder); read racily only for coalescing checks. */
	uint64_t e_bits;
	void *e_addr;
	/* Size (page multiple) in the high bits, serial number in the low
	 * LG_PAGE bits: extents are ordered by this for age-based reuse. */
	size_t e_size_esn;
	ql_elm(extent_t) ql_link;
	phn(extent_t) ph_link;
	union {
		/* Slab: region map, bit set = region in use. */
		bitmap_t e_slab_bitmap[BITMAP_GROUPS_MAX];
		/* Base block tails: bytes still free. */
		size_t e_bsize;
		/* Large extents of a profiling build: the sampled
		 * allocation's context, NULL when not sampled. */
		void *e_prof_tctx;
	};
};

typedef ql_head(extent_t) extent_list_t;
typedef ph(extent_t) extent_heap_t;

#define EXTENT_BITS_ARENA_SHIFT 0
#define EXTENT_BITS_ARENA_MASK (((uint64_t)1 << MALLOCX_ARENA_BITS) - 1)
#define EXTENT_BITS_SLAB_SHIFT 12
#define EXTENT_BITS_COMMITTED_SHIFT 13
#define EXTENT_BITS_DUMPABLE_SHIFT 14
#define EXTENT_BITS_ZEROED_SHIFT 15
#define EXTENT_BITS_STATE_SHIFT 16
#define EXTENT_BITS_STATE_MASK ((uint64_t)3 << EXTENT_BITS_STATE_SHIFT)
#define EXTENT_BITS_SZIND_SHIFT 18
#define EXTENT_BITS_SZIND_MASK (((uint64_t)1 << LG_CEIL_NSIZES) - 1)
#define EXTENT_BITS_NFREE_SHIFT (EXTENT_BITS_SZIND_SHIFT + LG_CEIL_NSIZES)
#define EXTENT_BITS_NFREE_MASK (((uint64_t)1 << (LG_SLAB_MAXREGS + 1)) - 1)
#define EXTENT_BITS_SN_SHIFT (EXTENT_BITS_NFREE_SHIFT + LG_SLAB_MAXREGS + 1)

#define EXTENT_ESN_MASK PAGE_MASK
#define EXTENT_SIZE_MASK (~EXTENT_ESN_MASK)

static inline uint64_t
extent_bits_get_(const extent_t *e) {
	return __atomic_load_n(&e->e_bits, __ATOMIC_RELAXED);
}

static inline void
extent_bits_set_(extent_t *e, uint64_t mask, unsigned shift, uint64_t v) {
	uint64_t b = extent_bits_get_(e);
	b = (b & ~(mask << shift)) | ((v & mask) << shift);
	__atomic_store_n(&e->e_bits, b, __ATOMIC_RELAXED);
}

static inline unsigned
extent_arena_ind_get(const extent_t *e) {
	return (unsigned)(extent_bits_get_(e) & EXTENT_BITS_ARENA_MASK);
}
static inline bool
extent_slab_get(const extent_t *e) {
	return (extent_bits_get_(e) >> EXTENT_BITS_SLAB_SHIFT) & 1;
}
static inline bool
extent_committed_get(const extent_t *e) {
	return (extent_bits_get_(e) >> EXTENT_BITS_COMMITTED_SHIFT) & 1;
}
static inline bool
extent_dumpable_get(const extent_t *e) {
	return (extent_bits_get_(e) >> EXTENT_BITS_DUMPABLE_SHIFT) & 1;
}
static inline bool
extent_zeroed_get(const extent_t *e) {
	return (extent_bits_get_(e) >> EXTENT_BITS_ZEROED_SHIFT) & 1;
}
static inline extent_state_t
extent_state_get(const extent_t *e) {
	return (extent_state_t)((extent_bits_get_(e) &
	    EXTENT_BITS_STATE_MASK) >> EXTENT_BITS_STATE_SHIFT);
}
static inline unsigned
extent_szind_get_maybe_invalid(const extent_t *e) {
	return (unsigned)((extent_bits_get_(e) >> EXTENT_BITS_SZIND_SHIFT) &
	    EXTENT_BITS_SZIND_MASK);
}
static inline void *
extent_prof_tctx_get(const extent_t *e) {
	return e->e_prof_tctx;
}
static inline void
extent_prof_tctx_set(extent_t *e, void *tctx) {
	e->e_prof_tctx = tctx;
}
static inline unsigned
extent_nfree_get(const extent_t *e) {
	return (unsigned)((extent_bits_get_(e) >> EXTENT_BITS_NFREE_SHIFT) &
	    EXTENT_BITS_NFREE_MASK);
}
static inline uint64_t
extent_sn_get(const extent_t *e) {
	return extent_bits_get_(e) >> EXTENT_BITS_SN_SHIFT;
}
/*
 * Sanitizer fix (TSan): e_addr and e_size_esn are read racily by
 * extent_try_coalesce (a neighbour found through the rtree, owned by
 * another thread) just as e_bits is, so they are accessed with relaxed
 * atomics like e_bits (plain movs on x86).  TSan reported, e.g. in
 * integration/threads and stress:
 *   WARNING: ThreadSanitizer: data race
 *     Read of size 8 ... extent_base_get src/extent_struct.h:121
 *       extent_try_coalesce src/extent.c:715 ...
 *     Previous write of size 8 ... extent_addr_set extent_struct.h:197
 *       extent_addr_randomize src/extent.c:851 ...
 * and the same for extent_size_get / extent_size_set.
 */
static inline void *
extent_addr_get(const extent_t *e) {
	return __atomic_load_n(&e->e_addr, __ATOMIC_RELAXED);
}
/* The page-aligned start (the address may carry a cache-oblivious offset). */
static inline void *
extent_base_get(const extent_t *e) {
	return PAGE_ADDR2BASE(extent_addr_get(e));
}
static inline size_t
extent_size_esn_get_(const extent_t *e) {
	return __atomic_load_n(&e->e_size_esn, __ATOMIC_RELAXED);
}
static inline size_t
extent_size_get(const extent_t *e) {
	return extent_size_esn_get_(e) & EXTENT_SIZE_MASK;
}
static inline size_t
extent_esn_get(const extent_t *e) {
	return extent_size_esn_get_(e) & EXTENT_ESN_MASK;
}
static inline void *
extent_last_get(const extent_t *e) {
	return (void *)((uintptr_t)extent_base_get(e) + extent_size_get(e) - PAGE);
}
static inline void *
extent_past_get(const extent_t *e) {
	return (void *)((uintptr_t)extent_base_get(e) + extent_size_get(e));
}
static inline bitmap_t *
extent_slab_bitmap_get(extent_t *e) {
	return e->e_slab_bitmap;
}
static inline size_t
extent_bsize_get(const extent_t *e) {
	return e->e_bsize;
}

static inline void
extent_arena_ind_set(extent_t *e, unsigned ind) {
	extent_bits_set_(e, EXTENT_BITS_ARENA_MASK, EXTENT_BITS_ARENA_SHIFT, ind);
}
static inline void
extent_slab_set(extent_t *e, bool slab) {
	extent_bits_set_(e, 1, EXTENT_BITS_SLAB_SHIFT, slab);
}
static inline void
extent_committed_set(extent_t *e, bool committed) {
	extent_bits_set_(e, 1, EXTENT_BITS_COMMITTED_SHIFT, committed);
}
static inline void
extent_dumpable_set(extent_t *e, bool dumpable) {
	extent_bits_set_(e, 1, EXTENT_BITS_DUMPABLE_SHIFT, dumpable);
}
static inline void
extent_zeroed_set(extent_t *e, bool zeroed) {
	extent_bits_set_(e, 1, EXTENT_BITS_ZEROED_SHIFT, zeroed);
}
static inline void
extent_state_set(extent_t *e, extent_state_t state) {
	extent_bits_set_(e, 3, EXTENT_BITS_STATE_SHIFT, state);
}
static inline void
extent_szind_set(extent_t *e, unsigned szind) {
	extent_bits_set_(e, EXTENT_BITS_SZIND_MASK, EXTENT_BITS_SZIND_SHIFT,
	    szind);
}
static inline void
extent_nfree_set(extent_t *e, unsigned nfree) {
	extent_bits_set_(e, EXTENT_BITS_NFREE_MASK, EXTENT_BITS_NFREE_SHIFT,
	    nfree);
}
static inline void
extent_nfree_inc(extent_t *e) {
	extent_nfree_set(e, extent_nfree_get(e) + 1);
}
static inline void
extent_nfree_dec(extent_t *e) {
	extent_nfree_set(e, extent_nfree_get(e) - 1);
}
static inline void
extent_sn_set(extent_t *e, uint64_t sn) {
	extent_bits_set_(e, ~(uint64_t)0 >> EXTENT_BITS_SN_SHIFT,
	    EXTENT_BITS_SN_SHIFT, sn);
}
static inline void
extent_addr_set(extent_t *e, void *addr) {
	__atomic_store_n(&e->e_addr, addr, __ATOMIC_RELAXED);
}
static inline void
extent_size_set(extent_t *e, size_t size) {
	__atomic_store_n(&e->e_size_esn, (size & EXTENT_SIZE_MASK) |
	    (extent_size_esn_get_(e) & EXTENT_ESN_MASK), __ATOMIC_RELAXED);
}
static inline void
extent_esn_set(extent_t *e, size_t esn) {
	__atomic_store_n(&e->e_size_esn, (extent_size_esn_get_(e) &
	    EXTENT_SIZE_MASK) | (esn & EXTENT_ESN_MASK), __ATOMIC_RELAXED);
}
static inline void
extent_bsize_set(extent_t *e, size_t bsize) {
	e->e_bsize = bsize;
}

static inline void
extent_init(extent_t *e, unsigned arena_ind, void *addr, size_t size,
    bool slab, unsigned szind, uint64_t sn, extent_state_t state, bool zeroed,
    bool committed, bool dumpable) {
	/* Relaxed store: see extent_addr_get (TSan: extent_init vs the
	 * racy extent_can_coalesce read of e_bits). */
	__atomic_store_n(&e->e_bits, 0, __ATOMIC_RELAXED);
	extent_arena_ind_set(e, arena_ind);
	extent_addr_set(e, addr);
	extent_size_set(e, size);
	extent_slab_set(e, slab);
	extent_szind_set(e, szind);
	extent_sn_set(e, sn);
	extent_state_set(e, state);
	extent_zeroed_set(e, zeroed);
	extent_committed_set(e, committed);
	extent_dumpable_set(e, dumpable);
	ql_elm_new(e, ql_link);
}

/* Order: serial number (older first), then address. */
static inline int
extent_sn_comp(const extent_t *a, const extent_t *b) {
	uint64_t as = extent_sn_get(a), bs = extent_sn_get(b);
	return (as > bs) - (as < bs);
}
static inline int
extent_ad_comp(const extent_t *a, const extent_t *b) {
	uintptr_t aa = (uintptr_t)extent_addr_get(a);
	uintptr_t ba = (uintptr_t)extent_addr_get(b);
	return (aa > ba) - (aa < ba);
}
static inline int
extent_snad_comp(const extent_t *a, const extent_t *b) {
	int r = extent_sn_comp(a, b);
	return r != 0 ? r : extent_ad_comp(a, b);
}
static inline int
extent_esn_comp(const extent_t *a, const extent_t *b) {
	size_t as = extent_esn_get(a), bs = extent_esn_get(b);
	return (as > bs) - (as < bs);
}
static inline int
extent_esnead_comp(const extent_t *a, const extent_t *b) {
	int r = extent_esn_comp(a, b);
	return r != 0 ? r : extent_ad_comp(a, b);
}

ph_gen(static inline UNUSED, extent_heap, extent_heap_t, extent_t, ph_link,
    extent_snad_comp)
ph_gen(static inline UNUSED, extent_avail, extent_heap_t, extent_t, ph_link,
    extent_esnead_comp)

#endif
