/*
 * Where memory comes from and how it goes back, by option (issue 5):
 *
 * - dss: with dss:primary a large allocation lies in the data segment
 *   (between the break seen at start and the break after it); with the
 *   default (secondary) it does not.
 * - retain: after a 64 MiB allocation is freed and its arena purged,
 *   retain:true keeps the range as retained (stats.retained grows,
 *   stats.mapped does not fall), retain:false unmaps it (nothing retained,
 *   stats.mapped falls back).
 * - thp: with thp:always the mapping holding a large allocation carries
 *   the kernel's "hg" flag (MADV_HUGEPAGE) in /proc/self/smaps, with
 *   thp:never the "nh" flag (MADV_NOHUGEPAGE); skipped when the kernel's
 *   mode makes the advice unnecessary or THP is absent.
 *
 * Every case runs this binary again with MALLOC_CONF (JE_MALLOC_CONF in a
 * prefixed build) and a mode argument; the child exits 0 when its checks
 * hold, 77 when it cannot check on this system.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define JEMALLOC_MANGLE
#include <jemalloc/jemalloc.h>

#include "test.h"
#include "test_ctl.h"

#define CHILD_SKIP 77

static void
expect_child(const char *mode, const char *conf) {
	int r = test_run_self("mem_sources", mode, conf);
	if (r == CHILD_SKIP)
		test_skip("%s with %s: not checkable on this system", mode, conf);
	expect_d_eq(r, 0, "child %s with %s", mode, conf);
}

static size_t
stat_zu(const char *name) {
	uint64_t epoch = 1;
	size_t v = 0, sz = sizeof(v);
	CCHECK(mallctl("epoch", NULL, NULL, &epoch, sizeof(epoch)) == 0);
	CCHECK(mallctl(name, &v, &sz, NULL, 0) == 0);
	return v;
}

static void
purge_all(void) {
	char name[64];
	snprintf(name, sizeof(name), "arena.%u.purge", MALLCTL_ARENAS_ALL);
	CCHECK(mallctl(name, NULL, NULL, NULL, 0) == 0);
}

/* --- children ------------------------------------------------------------- */

static int
child_dss(bool want_in_segment) {
	void *brk0 = sbrk(0);
	if (brk0 == (void *)-1)
		return CHILD_SKIP;
	/* A new arena, so that the allocation takes fresh memory. */
	unsigned ind;
	size_t sz = sizeof(ind);
	CCHECK(mallctl("arenas.create", &ind, &sz, NULL, 0) == 0);
	void *p = mallocx(1 << 20, MALLOCX_ARENA(ind) | MALLOCX_TCACHE_NONE);
	CCHECK(p != NULL);
	memset(p, 0x5c, 1 << 20);
	void *brk1 = sbrk(0);
	bool in = (uintptr_t)p >= (uintptr_t)brk0 &&
	    (uintptr_t)p + (1 << 20) <= (uintptr_t)brk1;
	if (want_in_segment && !in) {
		fprintf(stderr, "child: %p not in the data segment [%p, %p)\n",
		    p, brk0, brk1);
		return 1;
	}
	if (!want_in_segment && in) {
		fprintf(stderr, "child: %p in the data segment\n", p);
		return 1;
	}
	dallocx(p, MALLOCX_TCACHE_NONE);
	/* Data-segment memory is never unmapped; reuse still works. */
	p = mallocx(1 << 20, MALLOCX_ARENA(ind) | MALLOCX_TCACHE_NONE);
	CCHECK(p != NULL);
	memset(p, 0x3a, 1 << 20);
	dallocx(p, MALLOCX_TCACHE_NONE);
	return 0;
}

static int
child_retain(bool retain) {
	if (!config_stats_on())
		return CHILD_SKIP;
	bool opt = !retain;
	size_t sz = sizeof(opt);
	CCHECK(mallctl("opt.retain", &opt, &sz, NULL, 0) == 0);
	CCHECK(opt == retain);
	purge_all();
	size_t mapped0 = stat_zu("stats.mapped");
	size_t retained0 = stat_zu("stats.retained");
	size_t size = (size_t)64 << 20;
	void *p = mallocx(size, MALLOCX_TCACHE_NONE);
	CCHECK(p != NULL);
	memset(p, 1, size);
	CCHECK(stat_zu("stats.mapped") >= mapped0 + size);
	dallocx(p, MALLOCX_TCACHE_NONE);
	purge_all();
	size_t mapped1 = stat_zu("stats.mapped");
	size_t retained1 = stat_zu("stats.retained");
	if (retain) {
		CCHECK(retained1 >= retained0 + size);
	} else {
		CCHECK(retained1 == 0);
		CCHECK(mapped1 < mapped0 + size);
	}
	return 0;
}

/* The kernel's THP mode: "always", "madvise", "never" or NULL. */
static const char *
kernel_thp_mode(char *buf, size_t len) {
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	if (f == NULL)
		return NULL;
	char *line = fgets(buf, (int)len, f);
	fclose(f);
	if (line == NULL)
		return NULL;
	static const char *const modes[] = {"always", "madvise", "never"};
	for (unsigned i = 0; i < 3; i++) {
		char want[16];
		snprintf(want, sizeof(want), "[%s]", modes[i]);
		if (strstr(buf, want) != NULL)
			return modes[i];
	}
	return NULL;
}

/* Whether the VmFlags line of the smaps entry holding addr has flag.
 * Entry headers start with the range in lower-case hex; the attribute
 * lines ("Rss:", "VmFlags:", ...) with a capital letter. */
static int
vma_has_flag(const void *addr, const char *flag) {
	FILE *f = fopen("/proc/self/smaps", "r");
	if (f == NULL)
		return -1;
	char line[512];
	bool inside = false;
	int found = -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned long lo, hi;
		if (((line[0] >= '0' && line[0] <= '9') ||
		    (line[0] >= 'a' && line[0] <= 'f')) &&
		    sscanf(line, "%lx-%lx", &lo, &hi) == 2) {
			inside = (uintptr_t)addr >= lo && (uintptr_t)addr < hi;
			continue;
		}
		if (inside && strncmp(line, "VmFlags:", 8) == 0) {
			char want[8];
			snprintf(want, sizeof(want), " %s", flag);
			found = strstr(line, want) != NULL;
			break;
		}
	}
	fclose(f);
	return found;
}

static int
child_thp(const char *mode) {
	char buf[128];
	const char *kernel = kernel_thp_mode(buf, sizeof(buf));
	if (kernel == NULL)
		return CHILD_SKIP;
	/* The advice is given only where it changes something. */
	bool always = strcmp(mode, "always") == 0;
	if ((always && strcmp(kernel, "madvise") != 0) ||
	    (!always && strcmp(kernel, "never") == 0))
		return CHILD_SKIP;
	unsigned ind;
	size_t sz = sizeof(ind);
	CCHECK(mallctl("arenas.create", &ind, &sz, NULL, 0) == 0);
	size_t size = (size_t)8 << 20;
	void *p = mallocx(size, MALLOCX_ARENA(ind) | MALLOCX_TCACHE_NONE);
	CCHECK(p != NULL);
	memset(p, 7, size);
	int has = vma_has_flag(p, always ? "hg" : "nh");
	if (has != 1) {
		fprintf(stderr, "child: thp:%s: mapping of %p lacks the %s "
		    "flag (%d)\n", mode, p, always ? "hg" : "nh", has);
		return 1;
	}
	dallocx(p, MALLOCX_TCACHE_NONE);
	return 0;
}

/* --- tests ---------------------------------------------------------------- */

TEST(test_dss_primary) {
	expect_child("dss_in", "dss:primary");
}

TEST(test_dss_secondary) {
	expect_child("dss_out", "dss:secondary");
}

TEST(test_dss_disabled) {
	expect_child("dss_out", "dss:disabled");
}

TEST(test_retain_true) {
	expect_child("retain_true", "retain:true");
}

TEST(test_retain_false) {
	expect_child("retain_false", "retain:false");
}

TEST(test_thp_always) {
	expect_child("thp_always", "thp:always");
}

TEST(test_thp_never) {
	expect_child("thp_never", "thp:never");
}

int
main(int argc, char **argv) {
	if (argc > 1) {
		alarm(60);
		if (strcmp(argv[1], "dss_in") == 0)
			return child_dss(true);
		if (strcmp(argv[1], "dss_out") == 0)
			return child_dss(false);
		if (strcmp(argv[1], "retain_true") == 0)
			return child_retain(true);
		if (strcmp(argv[1], "retain_false") == 0)
			return child_retain(false);
		if (strcmp(argv[1], "thp_always") == 0)
			return child_thp("always");
		if (strcmp(argv[1], "thp_never") == 0)
			return child_thp("never");
		return 2;
	}
	return test_run(TEST_CASE(test_dss_primary),
	    TEST_CASE(test_dss_secondary), TEST_CASE(test_dss_disabled),
	    TEST_CASE(test_retain_true), TEST_CASE(test_retain_false),
	    TEST_CASE(test_thp_always), TEST_CASE(test_thp_never));
}
