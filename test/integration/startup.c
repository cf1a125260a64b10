/*
 * Start-up must map what the seed's traces show, in order (issue 2, §6):
 *   1. one page: the MADV_FREE probe of pages_boot;
 *   2. a 2 MiB base block (over-mapped by 2 MiB - 4 KiB and trimmed if the
 *      kernel's answer was not 2 MiB-aligned);
 *   3. 2 MiB of arena 0's retained memory for the first allocation;
 *   4. a 4 MiB base block holding the first rtree leaf (2 MiB does not fit
 *      the first block).
 * The test replaces mmap() for the whole process (the library calls it
 * through the PLT) and records every anonymous mapping from the start.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define JEMALLOC_MANGLE
#include <jemalloc/jemalloc.h>

#include "test.h"

#define MAXREC 256
static size_t rec_size[MAXREC];
static unsigned nrec;

void *
mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
	long r = syscall(SYS_mmap, addr, len, prot, flags, fd, off);
	if (r < 0 && r > -4096) {
		errno = (int)-r;
		return MAP_FAILED;
	}
	if ((flags & MAP_ANONYMOUS) && nrec < MAXREC)
		rec_size[nrec++] = len;
	return (void *)r;
}

/* Folds "map S, unmap, map S + align - page" (pages_map_slow) into one. */
static unsigned
logical_maps(size_t *out, unsigned max) {
	unsigned n = 0;
	for (unsigned i = 0; i < nrec && n < max; i++) {
		size_t s = rec_size[i];
		if (n > 0 && out[n - 1] % (2 << 20) == 0 &&
		    s == out[n - 1] + (2 << 20) - 4096)
			continue;	/* the aligned retry of the previous map */
		out[n++] = s;
	}
	return n;
}

TEST(test_startup_sequence) {
	void *p = malloc(24);
	assert_ptr_not_null(p, "malloc(24)");
	size_t maps[8];
	unsigned n = logical_maps(maps, 8);
	for (unsigned i = 0; i < nrec; i++)
		test_msg("raw map %u: %zu\n", i, rec_size[i]);
	assert_u_eq(n >= 4, 1, "too few mappings");
	expect_zu_eq(maps[0], 4096, "MADV_FREE probe page");
	expect_zu_eq(maps[1], 2 << 20, "first base block");
	expect_zu_eq(maps[2], 2 << 20, "arena 0 retained growth");
	expect_zu_eq(maps[3], 4 << 20, "base block for the rtree leaf");
	free(p);
}

TEST(test_no_more_maps_for_small) {
	/* Once warm, small allocations come from the mapped memory. */
	void *p = malloc(24);
	free(p);
	unsigned before = nrec;
	for (int i = 0; i < 1000; i++) {
		void *q = malloc(16 + (i % 100));
		free(q);
	}
	expect_u_eq(nrec, before, "small allocations mapped memory");
}

int
main(void) {
	return test_run(TEST_CASE(test_startup_sequence),
	    TEST_CASE(test_no_more_maps_for_small));
}
