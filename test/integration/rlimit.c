/*
 * Under a small RLIMIT_AS, allocations fail cleanly with NULL and ENOMEM,
 * nothing allocated earlier is damaged, and after freeing, allocation
 * works again.  Runs in a child so the limit does not affect other tests.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define JEMALLOC_MANGLE
#include <jemalloc/jemalloc.h>

#include "test.h"

#define NBLOCKS 4096

/* Virtual memory in use now, from /proc/self/statm (pages). */
static size_t
vm_bytes(void) {
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long pages = 0;
	if (f != NULL) {
		if (fscanf(f, "%lu", &pages) != 1)
			pages = 0;
		fclose(f);
	}
	return (size_t)pages * (size_t)sysconf(_SC_PAGESIZE);
}

static int
child(void) {
	static void *blocks[NBLOCKS];
	struct rlimit rl;
	rl.rlim_cur = rl.rlim_max = vm_bytes() + ((size_t)96 << 20);
	if (setrlimit(RLIMIT_AS, &rl) != 0)
		return 10;
	size_t sizes[] = {100, 3000, 20000, 1 << 20};
	unsigned n = 0;
	int err = 0;
	for (; n < NBLOCKS; n++) {
		size_t sz = sizes[n % 4];
		errno = 0;
		blocks[n] = malloc(sz);
		if (blocks[n] == NULL) {
			err = errno;
			break;
		}
		memset(blocks[n], (int)(n & 0xff), sz);
	}
	if (n == NBLOCKS)
		return 11;	/* the limit never bit */
	if (err != ENOMEM)
		return 12;
	/* Other entry points fail cleanly too. */
	void *p;
	if (posix_memalign(&p, 4096, (size_t)512 << 20) != ENOMEM)
		return 13;
	errno = 0;
	if (calloc(1, (size_t)512 << 20) != NULL || errno != ENOMEM)
		return 14;
	if (mallocx((size_t)512 << 20, 0) != NULL)
		return 15;
	/* Earlier blocks are intact. */
	for (unsigned i = 0; i < n; i++) {
		unsigned char *b = blocks[i];
		size_t sz = sizes[i % 4];
		if (b[0] != (unsigned char)(i & 0xff) || b[sz - 1] !=
		    (unsigned char)(i & 0xff))
			return 16;
	}
	/* Freeing makes room again. */
	for (unsigned i = 0; i < n; i++)
		free(blocks[i]);
	for (unsigned i = 0; i < n / 2; i++) {
		blocks[i] = malloc(sizes[i % 4]);
		if (blocks[i] == NULL)
			return 17;
		memset(blocks[i], 1, sizes[i % 4]);
	}
	for (unsigned i = 0; i < n / 2; i++)
		free(blocks[i]);
	return 0;
}

TEST(test_rlimit_as) {
	pid_t pid = fork();
	assert_d_ne(pid, -1, "fork");
	if (pid == 0)
		_exit(child());
	int status;
	waitpid(pid, &status, 0);
	expect_true(WIFEXITED(status), "child died (status %#x)", status);
	expect_d_eq(WEXITSTATUS(status), 0, "child step that failed");
}

int
main(void) {
	return test_run(TEST_CASE(test_rlimit_as));
}
