/*
 * Size classes (facts §5): size <-> class index in O(1).  Sizes up to
 * LOOKUP_MAXCLASS (4096) use an 8-byte-granular table; larger ones are
 * computed from the class rule (four classes per doubling) with one
 * count-leading-zeros and no division.
 *
 * "szind" indexes all NSIZES classes; "pind" indexes the NPSIZES classes
 * that are page multiples (used for extents).
 */
#ifndef JEMALLOC_SZ_H
#define JEMALLOC_SZ_H

#define LG_TINY_MIN 3

extern const size_t sz_index2size_tab[NSIZES];
extern const size_t sz_pind2sz_tab[NPSIZES + 1];
extern const uint8_t sz_size2index_tab[(LOOKUP_MAXCLASS >> LG_TINY_MIN) + 1];
/* Extra bytes per large extent: one page with cache-oblivious offsets. */
extern size_t sz_large_pad;

/* Index of the first class of the doubling that starts at 2^6 = 64 + 16. */
#define SZ_FIRST_GROUP_IND 5
#define SZ_FIRST_GROUP_LG 6

void sz_boot(void);

/* Class index of size (> LOOKUP_MAXCLASS, or any) by the rule. */
JEMALLOC_ALWAYS_INLINE unsigned
sz_size2index_compute(size_t size) {
	if (unlikely(size > LARGE_MAXCLASS))
		return NSIZES;
	if (size <= 8)
		return 0;
	if (size <= 64)
		return (unsigned)((size + 15) >> 4);
	/* 2^(x-1) < size <= 2^x: the doubling with base 2^(x-1), step 2^(x-3). */
	unsigned x = lg_floor((size << 1) - 1);
	unsigned lg_delta = x - 3;
	size_t base = ZU(1) << (x - 1);
	unsigned i = (unsigned)((size - base + (ZU(1) << lg_delta) - 1) >> lg_delta);
	return SZ_FIRST_GROUP_IND + ((x - 1 - SZ_FIRST_GROUP_LG) << 2) + i - 1;
}

JEMALLOC_ALWAYS_INLINE unsigned
sz_size2index_lookup(size_t size) {
	return sz_size2index_tab[(size + 7) >> LG_TINY_MIN];
}

JEMALLOC_ALWAYS_INLINE unsigned
sz_size2index(size_t size) {
	if (likely(size <= LOOKUP_MAXCLASS))
		return sz_size2index_lookup(size);
	return sz_size2index_compute(size);
}

JEMALLOC_ALWAYS_INLINE size_t
sz_index2size(unsigned ind) {
	return sz_index2size_tab[ind];
}

/* Usable size for size, or 0 if it is above the largest class. */
JEMALLOC_ALWAYS_INLINE size_t
sz_s2u_compute(size_t size) {
	if (unlikely(size > LARGE_MAXCLASS))
		return 0;
	if (size <= 8)
		return 8;
	if (size <= 64)
		return (size + 15) & ~(size_t)15;
	unsigned x = lg_floor((size << 1) - 1);
	size_t delta_mask = (ZU(1) << (x - 3)) - 1;
	return (size + delta_mask) & ~delta_mask;
}

JEMALLOC_ALWAYS_INLINE size_t
sz_s2u(size_t size) {
	if (likely(size <= LOOKUP_MAXCLASS))
		return sz_index2size(sz_size2index_lookup(size));
	return sz_s2u_compute(size);
}

/* Page-size class index of psz (a page multiple), NPSIZES if too large. */
JEMALLOC_ALWAYS_INLINE unsigned
sz_psz2ind(size_t psz) {
	if (unlikely(psz > LARGE_MAXCLASS))
		return NPSIZES;
	size_t pages = (psz + PAGE_MASK) >> LG_PAGE;
	if (pages <= 4)
		return pages == 0 ? 0 : (unsigned)pages - 1;
	unsigned x = lg_floor((psz << 1) - 1);
	unsigned lg_delta = x - 3;
	size_t base = ZU(1) << (x - 1);
	unsigned i = (unsigned)((psz - base + (ZU(1) << lg_delta) - 1) >> lg_delta);
	return 4 + ((x - 1 - (LG_PAGE + 2)) << 2) + i - 1;
}

JEMALLOC_ALWAYS_INLINE size_t
sz_pind2sz(unsigned pind) {
	return sz_pind2sz_tab[pind];
}

/* Smallest page-size class >= psz. */
JEMALLOC_ALWAYS_INLINE size_t
sz_psz2u(size_t psz) {
	if (unlikely(psz > LARGE_MAXCLASS))
		return LARGE_MAXCLASS + PAGE;
	return sz_pind2sz(sz_psz2ind(psz));
}

/*
 * Usable size of an allocation of size with alignment, or 0 on overflow.
 * Small classes are naturally aligned to their lowest set bit, so a small
 * class can serve alignments below a page.
 */
JEMALLOC_ALWAYS_INLINE size_t
sz_sa2u(size_t size, size_t alignment) {
	if (size <= SMALL_MAXCLASS && alignment < PAGE) {
		size_t usize = sz_s2u(ALIGNMENT_CEILING(size, alignment));
		if (usize < LARGE_MINCLASS)
			return usize;
	}
	if (unlikely(alignment > LARGE_MAXCLASS))
		return 0;
	size_t usize;
	if (size <= LARGE_MINCLASS) {
		usize = LARGE_MINCLASS;
	} else {
		usize = sz_s2u(size);
		if (usize < size)	/* overflow */
			return 0;
		if (usize == 0)
			return 0;
	}
	/* The extent needs room for usize plus alignment padding. */
	if (usize + sz_large_pad + PAGE_CEILING(alignment) - PAGE < usize)
		return 0;
	return usize;
}

#endif
