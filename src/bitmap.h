/*
 * Flat bitmaps of 64-bit groups.  A set bit means "in use"; sfu ("set
 * first unset") finds, sets and returns the lowest clear bit.  Sizes here
 * are at most a few hundred bits (512 regions per slab, NPSIZES+1 heaps),
 * so a linear scan over at most 8 groups beats a tree.
 */
#ifndef JEMALLOC_BITMAP_H
#define JEMALLOC_BITMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t bitmap_t;
#define LG_BITMAP_GROUP_NBITS 6
#define BITMAP_GROUP_NBITS (1U << LG_BITMAP_GROUP_NBITS)
#define BITMAP_GROUP_NBITS_MASK (BITMAP_GROUP_NBITS - 1)
#define BITMAP_BITS2GROUPS(nbits) (((nbits) + BITMAP_GROUP_NBITS_MASK) >> LG_BITMAP_GROUP_NBITS)
/* Enough groups for the largest bitmap in use (slab regions). */
#define BITMAP_GROUPS_MAX BITMAP_BITS2GROUPS(SLAB_MAXREGS)

typedef struct {
	size_t nbits;
	size_t ngroups;
} bitmap_info_t;

static inline void
bitmap_info_init(bitmap_info_t *binfo, size_t nbits) {
	binfo->nbits = nbits;
	binfo->ngroups = BITMAP_BITS2GROUPS(nbits);
}

static inline size_t
bitmap_size(const bitmap_info_t *binfo) {
	return binfo->ngroups * sizeof(bitmap_t);
}

/* Clears all bits (fill == false) or sets them (fill == true). */
static inline void
bitmap_init(bitmap_t *bitmap, const bitmap_info_t *binfo, bool fill) {
	for (size_t i = 0; i < binfo->ngroups; i++)
		bitmap[i] = fill ? ~(bitmap_t)0 : 0;
	if (!fill && (binfo->nbits & BITMAP_GROUP_NBITS_MASK) != 0) {
		/* Bits past nbits are permanently "in use". */
		bitmap[binfo->ngroups - 1] = ~(bitmap_t)0 <<
		    (binfo->nbits & BITMAP_GROUP_NBITS_MASK);
	}
}

static inline bool
bitmap_get(const bitmap_t *bitmap, const bitmap_info_t *binfo, size_t bit) {
	return (bitmap[bit >> LG_BITMAP_GROUP_NBITS] >>
	    (bit & BITMAP_GROUP_NBITS_MASK)) & 1;
}

static inline void
bitmap_set(bitmap_t *bitmap, const bitmap_info_t *binfo, size_t bit) {
	bitmap[bit >> LG_BITMAP_GROUP_NBITS] |= (bitmap_t)1 <<
	    (bit & BITMAP_GROUP_NBITS_MASK);
}

static inline void
bitmap_unset(bitmap_t *bitmap, const bitmap_info_t *binfo, size_t bit) {
	bitmap[bit >> LG_BITMAP_GROUP_NBITS] &= ~((bitmap_t)1 <<
	    (bit & BITMAP_GROUP_NBITS_MASK));
}

static inline bool
bitmap_full(const bitmap_t *bitmap, const bitmap_info_t *binfo) {
	for (size_t i = 0; i < binfo->ngroups; i++) {
		if (bitmap[i] != ~(bitmap_t)0)
			return false;
	}
	return true;
}

/* Lowest clear bit >= min_bit, or nbits when there is none. */
static inline size_t
bitmap_ffu(const bitmap_t *bitmap, const bitmap_info_t *binfo, size_t min_bit) {
	if (min_bit >= binfo->nbits)
		return binfo->nbits;
	size_t i = min_bit >> LG_BITMAP_GROUP_NBITS;
	bitmap_t g = ~bitmap[i] & (~(bitmap_t)0 << (min_bit & BITMAP_GROUP_NBITS_MASK));
	for (;;) {
		if (g != 0) {
			size_t bit = (i << LG_BITMAP_GROUP_NBITS) +
			    (size_t)__builtin_ctzll(g);
			return bit < binfo->nbits ? bit : binfo->nbits;
		}
		if (++i >= binfo->ngroups)
			return binfo->nbits;
		g = ~bitmap[i];
	}
}

/* Sets and returns the lowest clear bit; the bitmap must not be full. */
static inline size_t
bitmap_sfu(bitmap_t *bitmap, const bitmap_info_t *binfo) {
	size_t i = 0;
	while (bitmap[i] == ~(bitmap_t)0)
		i++;
	size_t b = (size_t)__builtin_ctzll(~bitmap[i]);
	bitmap[i] |= (bitmap_t)1 << b;
	return (i << LG_BITMAP_GROUP_NBITS) + b;
}

#endif
