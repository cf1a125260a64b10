/*
 * libFuzzer target over the public API of a --with-jemalloc-prefix=je_
 * build (built and run by test/fuzz/run.sh, `make fuzz`).
 *
 * The input is read as a sequence of operations.  Each operation is one
 * opcode byte followed by its argument bytes; a short input simply reads
 * zeros past its end.  A shadow model holds every live block: pointer,
 * requested size, usable size, alignment and the byte its whole usable
 * size was filled with.  Checked after every operation that allocates:
 *   - usable size (sallocx == malloc_usable_size) >= requested size,
 *     and == nallocx(size, flags) for the mallocx family;
 *   - alignment;
 *   - [ptr, ptr + usable) does not overlap any other live block;
 *   - calloc and MALLOCX_ZERO memory reads as zero;
 *   - realloc/rallocx/xallocx keep min(old, new) bytes of the contents,
 *     and MALLOCX_ZERO growth zeroes from the old usable size on;
 *   - a block's whole usable size still holds its fill byte when it is
 *     freed (catches writes through another, overlapping block);
 *   - impossible requests fail cleanly (NULL / EINVAL / ENOMEM).
 * Every block is freed at the end of each input.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jemalloc/jemalloc.h>

#define MAX_LIVE 256
#define MAX_LIVE_BYTES ((size_t)64 << 20)

typedef struct {
	unsigned char *p;
	size_t req;	/* requested size */
	size_t usable;	/* sallocx() at the last check */
	int lg_align;	/* alignment asked for (0: none) */
	unsigned char fill;
} block_t;

static block_t live[MAX_LIVE];
static unsigned nlive;
static size_t live_bytes;

/* --- input reader ------------------------------------------------------- */
static const uint8_t *in_data;
static size_t in_len, in_pos;

static unsigned
rd8(void) {
	return in_pos < in_len ? in_data[in_pos++] : 0;
}

static unsigned
rd16(void) {
	unsigned lo = rd8();
	return lo | (rd8() << 8);
}

/*
 * A size drawn from the ranges that matter: tiny and small classes, the
 * small/large boundary (14 KiB / 16 KiB), large, and a few MiB.
 */
static size_t
rd_size(void) {
	unsigned sel = rd8();
	unsigned v = rd16();
	switch (sel & 7) {
	case 0: case 1: case 2:
		return v & 0xff;			/* 0..255 */
	case 3:
		return v & 0xfff;			/* ..4 KiB */
	case 4:
		return 14336 - 64 + (v & 0x7f);	/* small/large edge */
	case 5:
		return v;				/* ..64 KiB */
	case 6:
		return (size_t)v << 3;			/* ..512 KiB */
	default:
		/* ..4 MiB, one time in four; else ..1 MiB. */
		return ((size_t)(v & ((sel & 0x18) ? 0xff : 0x3ff)) << 12) +
		    (sel >> 5);
	}
}

static int
rd_lg_align(void) {
	unsigned v = rd8();
	/* Mostly small alignments; up to 2^21 (2 MiB) now and then. */
	return (v & 0x80) ? (int)(v % 22) : (int)(v % 13);
}

/* --- checks ------------------------------------------------------------- */
#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz_api: check failed: %s: ", #cond);	\
		fprintf(stderr, __VA_ARGS__);				\
		fprintf(stderr, "\n");					\
		abort();						\
	}								\
} while (0)

static void
check_bytes(const unsigned char *p, size_t from, size_t to, unsigned char c,
    const char *what) {
	/* Fast: memcmp against a filled buffer; the loop below only names
	 * the first bad byte. */
	static unsigned char pattern[4096];
	static int pattern_byte = -1;
	if (pattern_byte != c) {
		memset(pattern, c, sizeof(pattern));
		pattern_byte = c;
	}
	size_t i = from;
	while (i < to) {
		size_t n = to - i < sizeof(pattern) ? to - i : sizeof(pattern);
		if (memcmp(p + i, pattern, n) != 0) {
			break;
		}
		i += n;
	}
	for (; i < to; i++) {
		CHECK(p[i] == c, "%s: %p[%zu] = 0x%02x, want 0x%02x (range "
		    "%zu..%zu)", what, (void *)p, i, p[i], c, from, to);
	}
}

/* usable size of p, checked against malloc_usable_size and the request. */
static size_t
usable_of(void *p, size_t req) {
	size_t u = je_sallocx(p, 0);
	size_t mu = je_malloc_usable_size(p);
	CHECK(u == mu, "sallocx %zu != malloc_usable_size %zu", u, mu);
	CHECK(u >= req, "usable %zu < requested %zu", u, req);
	return u;
}

static void
check_no_overlap(const unsigned char *p, size_t usable, unsigned skip) {
	for (unsigned i = 0; i < nlive; i++) {
		if (i == skip) {
			continue;
		}
		const unsigned char *q = live[i].p;
		CHECK(p + usable <= q || q + live[i].usable <= p,
		    "new block %p+%zu overlaps live block %p+%zu", (void *)p,
		    usable, (void *)q, live[i].usable);
	}
}

static void
check_align(const void *p, int lg_align) {
	CHECK(((uintptr_t)p & (((uintptr_t)1 << lg_align) - 1)) == 0,
	    "%p not aligned to 2^%d", p, lg_align);
	/* Everything is at least 8-aligned; >= 16 B requests 16-aligned. */
	CHECK(((uintptr_t)p & 7) == 0, "%p not 8-aligned", p);
}

/* sdallocx relies on sallocx == nallocx(request, alignment flags). */
static void
check_nallocx(void *p, size_t req, int lg_align) {
	int flags = lg_align ? MALLOCX_LG_ALIGN(lg_align) : 0;
	size_t n = je_nallocx(req ? req : 1, flags);
	CHECK(je_sallocx(p, 0) == n, "sallocx %zu != nallocx(%zu, 0x%x) %zu",
	    je_sallocx(p, 0), req, flags, n);
}

static unsigned char fill_counter;

static unsigned char
next_fill(void) {
	fill_counter = (unsigned char)(fill_counter * 37 + 11);
	return fill_counter == 0 ? 0xa5 : fill_counter;
}

/* Records a new block and fills its whole usable size. */
static void
add_block(void *p, size_t req, int lg_align) {
	size_t u = usable_of(p, req);
	check_align(p, lg_align);
	check_no_overlap(p, u, MAX_LIVE);
	block_t *b = &live[nlive++];
	b->p = p;
	b->req = req;
	b->usable = u;
	b->lg_align = lg_align;
	b->fill = next_fill();
	memset(p, b->fill, u);
	live_bytes += u;
}

static void
verify_block(const block_t *b) {
	CHECK(je_sallocx(b->p, 0) == b->usable, "usable size of %p changed "
	    "from %zu to %zu", (void *)b->p, b->usable, je_sallocx(b->p, 0));
	check_bytes(b->p, 0, b->usable, b->fill, "contents");
}

static void
remove_block(unsigned i) {
	live_bytes -= live[i].usable;
	live[i] = live[--nlive];
}

static int
can_alloc(size_t size) {
	return nlive < MAX_LIVE && live_bytes + size <= MAX_LIVE_BYTES;
}

static unsigned
pick(void) {
	return rd8() % nlive;
}

static void
free_block(unsigned i, unsigned how) {
	block_t *b = &live[i];
	verify_block(b);
	int aflags = b->lg_align ? MALLOCX_LG_ALIGN(b->lg_align) : 0;
	switch (how % 4) {
	case 0:
		je_free(b->p);
		break;
	case 1:
		je_dallocx(b->p, (how & 4) ? MALLOCX_TCACHE_NONE : 0);
		break;
	case 2:
		je_sdallocx(b->p, b->req ? b->req : 1, aflags);
		break;
	default:
		je_sdallocx(b->p, b->usable, aflags);
		break;
	}
	remove_block(i);
}

/* Rewrites block i after a resize to q, with the new request and usable. */
static void
resized(unsigned i, void *q, size_t new_req, size_t keep, size_t zero_to) {
	block_t *b = &live[i];
	size_t old_usable = b->usable;
	size_t u = usable_of(q, new_req);
	check_align(q, b->lg_align);
	check_no_overlap(q, u, i);
	check_bytes(q, 0, keep, b->fill, "preserved contents");
	if (zero_to > old_usable) {
		check_bytes(q, old_usable, zero_to, 0, "zeroed growth");
	}
	live_bytes = live_bytes - old_usable + u;
	b->p = q;
	b->req = new_req;
	b->usable = u;
	b->fill = next_fill();
	memset(q, b->fill, u);
}

static size_t
min_sz(size_t a, size_t b) {
	return a < b ? a : b;
}

/* --- operations --------------------------------------------------------- */
static void
op_malloc(void) {
	size_t size = rd_size();
	if (!can_alloc(size)) {
		return;
	}
	void *p = je_malloc(size);
	CHECK(p != NULL, "malloc(%zu) failed", size);
	add_block(p, size, 0);
}

static void
op_calloc(void) {
	size_t size = rd_size();
	size_t n = 1 + (rd8() & 7);
	size_t each = size / n;
	if (!can_alloc(each * n)) {
		return;
	}
	unsigned char *p = je_calloc(n, each);
	CHECK(p != NULL, "calloc(%zu, %zu) failed", n, each);
	check_bytes(p, 0, n * each, 0, "calloc");
	add_block(p, n * each, 0);
}

static void
op_posix_memalign(void) {
	int lg = rd_lg_align();
	size_t size = rd_size();
	if (lg < 3) {
		lg = 3;
	}
	if (!can_alloc(size + ((size_t)1 << lg))) {
		return;
	}
	void *p = (void *)1;
	int err = je_posix_memalign(&p, (size_t)1 << lg, size);
	CHECK(err == 0, "posix_memalign(2^%d, %zu) = %d", lg, size, err);
	check_nallocx(p, size, lg);
	add_block(p, size, lg);
}

static void
op_aligned_alloc(void) {
	int lg = rd_lg_align();
	size_t size = rd_size();
	if (size == 0) {
		size = 1;
	}
	if (!can_alloc(size + ((size_t)1 << lg))) {
		return;
	}
	void *p = je_aligned_alloc((size_t)1 << lg, size);
	CHECK(p != NULL, "aligned_alloc(2^%d, %zu) failed", lg, size);
	check_nallocx(p, size, lg);
	add_block(p, size, lg);
}

static int
rd_mallocx_flags(int *lg_out, int *zero_out) {
	unsigned f = rd8();
	int flags = 0;
	*lg_out = 0;
	*zero_out = 0;
	if (f & 1) {
		*zero_out = 1;
		flags |= MALLOCX_ZERO;
	}
	if (f & 2) {
		*lg_out = rd_lg_align();
		flags |= MALLOCX_LG_ALIGN(*lg_out);
	}
	if ((f & 0x1c) == 0x1c) {
		flags |= MALLOCX_TCACHE_NONE;
	}
	return flags;
}

static void
op_mallocx(void) {
	int lg, zero;
	int flags = rd_mallocx_flags(&lg, &zero);
	size_t size = rd_size();
	if (size == 0) {
		size = 1;	/* mallocx(0) is undefined */
	}
	if (!can_alloc(size + ((size_t)1 << lg))) {
		return;
	}
	size_t n = je_nallocx(size, flags);
	unsigned char *p = je_mallocx(size, flags);
	CHECK(p != NULL, "mallocx(%zu, 0x%x) failed", size, flags);
	if (zero) {
		check_bytes(p, 0, size, 0, "MALLOCX_ZERO");
	}
	CHECK(je_sallocx(p, 0) == n, "mallocx(%zu, 0x%x): sallocx %zu != "
	    "nallocx %zu", size, flags, je_sallocx(p, 0), n);
	add_block(p, size, lg);
}

static void
op_realloc(void) {
	if (nlive == 0) {
		return;
	}
	unsigned i = pick();
	size_t size = rd_size();
	if (size == 0) {
		size = 1;	/* realloc(p, 0) frees: not a resize */
	}
	block_t *b = &live[i];
	if (size > b->usable && !can_alloc(size)) {
		return;
	}
	verify_block(b);
	void *q = je_realloc(b->p, size);
	CHECK(q != NULL, "realloc(%p, %zu) failed", (void *)b->p, size);
	/* realloc's result need only have malloc's alignment. */
	b->lg_align = 0;
	resized(i, q, size, min_sz(b->req, size), 0);
}

static void
op_rallocx(void) {
	if (nlive == 0) {
		return;
	}
	unsigned i = pick();
	int lg, zero;
	int flags = rd_mallocx_flags(&lg, &zero);
	size_t size = rd_size();
	if (size == 0) {
		size = 1;
	}
	block_t *b = &live[i];
	if (size > b->usable && !can_alloc(size + ((size_t)1 << lg))) {
		return;
	}
	verify_block(b);
	size_t n = je_nallocx(size, flags);
	void *q = je_rallocx(b->p, size, flags);
	CHECK(q != NULL, "rallocx(%p, %zu, 0x%x) failed", (void *)b->p, size,
	    flags);
	CHECK(je_sallocx(q, 0) == n, "rallocx(%zu, 0x%x): sallocx %zu != "
	    "nallocx %zu", size, flags, je_sallocx(q, 0), n);
	b->lg_align = lg;
	resized(i, q, size, min_sz(b->req, size), zero ? size : 0);
}

static void
op_xallocx(void) {
	if (nlive == 0) {
		return;
	}
	unsigned i = pick();
	int lg, zero;
	int flags = rd_mallocx_flags(&lg, &zero);
	size_t size = rd_size();
	size_t extra = (rd8() & 1) ? rd_size() : 0;
	if (size == 0) {
		size = 1;
	}
	block_t *b = &live[i];
	if (size + extra > b->usable && !can_alloc(size + extra)) {
		return;
	}
	/* xallocx keeps the block's own alignment; pass it, not a new one. */
	flags &= ~0x3f;
	if (b->lg_align) {
		flags |= MALLOCX_LG_ALIGN(b->lg_align);
	}
	verify_block(b);
	size_t old_usable = b->usable;
	size_t r = je_xallocx(b->p, size, extra, flags);
	size_t u = usable_of(b->p, 0);
	CHECK(r == u, "xallocx returned %zu, sallocx says %zu", r, u);
	if (r < size) {
		/* Could not resize: the old size must stand. */
		CHECK(r == old_usable, "failed xallocx(%zu, %zu) changed size "
		    "%zu -> %zu", size, extra, old_usable, r);
	}
	/*
	 * The block's request is now its usable size when the resize
	 * happened (so sdallocx may pass it), else the old request.
	 */
	size_t new_req = r >= size ? r : b->req;
	resized(i, b->p, new_req, min_sz(old_usable, r),
	    (zero && r >= size) ? size : 0);
}

static void
op_free(void) {
	if (nlive == 0) {
		return;
	}
	unsigned i = pick();
	free_block(i, rd8());
}

static void
op_query(void) {
	if (nlive == 0) {
		return;
	}
	block_t *b = &live[pick()];
	size_t u = usable_of(b->p, b->req);
	CHECK(u == b->usable, "usable size changed %zu -> %zu", b->usable, u);
	if (b->req) {
		int flags = b->lg_align ? MALLOCX_LG_ALIGN(b->lg_align) : 0;
		size_t n = je_nallocx(b->req, flags);
		CHECK(n != 0 && n >= b->req, "nallocx(%zu, 0x%x) = %zu",
		    b->req, flags, n);
	}
}

static void
op_mallctl(void) {
	static const char *const names[] = {
		"stats.allocated", "stats.active", "stats.resident",
		"stats.mapped", "thread.allocated", "thread.deallocated",
		"arenas.narenas", "arenas.nbins", "arenas.quantum",
		"arenas.page", "opt.narenas", "arenas.bin.0.size",
		"arenas.lextent.0.size", "version", "config.debug",
	};
	unsigned which = rd8() % (sizeof(names) / sizeof(names[0]) + 1);
	if (which == sizeof(names) / sizeof(names[0])) {
		uint64_t epoch = 1;
		size_t sz = sizeof(epoch);
		CHECK(je_mallctl("epoch", &epoch, &sz, &epoch, sz) == 0,
		    "mallctl(epoch)");
		return;
	}
	union {
		uint64_t u64;
		size_t z;
		unsigned u;
		const char *s;
		_Bool b;
		char buf[64];
	} v;
	size_t sz = sizeof(v);
	/* Ask with the size the name's type has; find it by trying. */
	static const size_t sizes[] = { sizeof(size_t), sizeof(unsigned),
	    sizeof(_Bool) };
	int ok = 0;
	for (unsigned k = 0; k < 3 && !ok; k++) {
		sz = sizes[k];
		int err = je_mallctl(names[which], &v, &sz, NULL, 0);
		CHECK(err == 0 || err == EINVAL, "mallctl(%s) = %d",
		    names[which], err);
		ok = err == 0;
	}
	CHECK(ok, "mallctl(%s) read failed for every size", names[which]);
}

/* Requests that cannot be met must fail without harm. */
static void
op_impossible(void) {
	unsigned w = rd8() % 6;
	errno = 0;
	switch (w) {
	case 0:
		CHECK(je_malloc(SIZE_MAX - (rd8() & 0xff)) == NULL, "malloc huge");
		CHECK(errno == ENOMEM, "malloc huge errno %d", errno);
		break;
	case 1:
		CHECK(je_calloc(SIZE_MAX / 2 + 2, 2 + (rd8() & 3)) == NULL,
		    "calloc overflow");
		CHECK(errno == ENOMEM, "calloc overflow errno %d", errno);
		break;
	case 2: {
		void *p = (void *)1;
		size_t al = (rd8() | 1) & 0xff;	/* odd: never valid if > 1 */
		int err = je_posix_memalign(&p, al == 1 ? 3 : al, 16);
		CHECK(err == EINVAL, "posix_memalign bad alignment = %d", err);
		CHECK(p == (void *)1, "posix_memalign wrote *memptr on error");
		break;
	}
	case 3:
		CHECK(je_mallocx((size_t)PTRDIFF_MAX + 1, 0) == NULL,
		    "mallocx(PTRDIFF_MAX+1)");
		break;
	case 4:
		CHECK(je_nallocx(SIZE_MAX, 0) == 0, "nallocx(SIZE_MAX)");
		break;
	default:
		if (nlive) {
			block_t *b = &live[pick()];
			verify_block(b);
			int flags = b->lg_align ?
			    MALLOCX_LG_ALIGN(b->lg_align) : 0;
			CHECK(je_rallocx(b->p, SIZE_MAX, flags) == NULL,
			    "rallocx(SIZE_MAX)");
			verify_block(b);
		}
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	in_data = data;
	in_len = size;
	in_pos = 0;
	fill_counter = 0;
	nlive = 0;
	live_bytes = 0;
	unsigned nops = 0;
	while (in_pos < in_len && nops++ < 4096) {
		switch (rd8() % 16) {
		case 0: case 1: case 2:
			op_malloc();
			break;
		case 3:
			op_calloc();
			break;
		case 4:
			op_posix_memalign();
			break;
		case 5:
			op_aligned_alloc();
			break;
		case 6: case 7:
			op_mallocx();
			break;
		case 8:
			op_realloc();
			break;
		case 9:
			op_rallocx();
			break;
		case 10:
			op_xallocx();
			break;
		case 11: case 12:
			op_free();
			break;
		case 13:
			op_query();
			break;
		case 14:
			op_mallctl();
			break;
		default:
			op_impossible();
			break;
		}
	}
	while (nlive > 0) {
		free_block(nlive - 1, nlive);
	}
	return 0;
}
