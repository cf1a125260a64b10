/*
 * Misuse that the metadata reveals stops the process with a message naming
 * the fault and the pointer.  In every build (cheap checks on slow paths):
 * freeing an address the allocator never mapped, double frees of large
 * objects, and double frees and interior pointers of small objects once
 * the thread cache flushes them.  In the debug build the same, and wrong
 * sdallocx() sizes, are caught at the call itself.  Each case runs in a child.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define JEMALLOC_MANGLE
#include <jemalloc/jemalloc.h>

#include "test.h"

/* The faults below are deliberate. */
#pragma GCC diagnostic ignored "-Wfree-nonheap-object"
#pragma GCC diagnostic ignored "-Wuse-after-free"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

static bool
debug_build(void) {
	bool debug = false;
	size_t sz = sizeof(debug);
	if (mallctl("config.debug", &debug, &sz, NULL, 0) != 0)
		return false;
	return debug;
}

/* Runs fn in a child; expects SIGABRT and a message holding want and the
 * pointer fn reports through the pipe. */
static void
expect_abort(void (*fn)(int fd), const char *want) {
	int pipe_err[2], pipe_ptr[2];
	assert_d_eq(pipe(pipe_err), 0, "pipe");
	assert_d_eq(pipe(pipe_ptr), 0, "pipe");
	pid_t pid = fork();
	assert_d_ne(pid, -1, "fork");
	if (pid == 0) {
		dup2(pipe_err[1], STDERR_FILENO);
		close(pipe_err[0]);
		close(pipe_ptr[0]);
		fn(pipe_ptr[1]);
		_exit(0);	/* not reached if the fault was caught */
	}
	close(pipe_err[1]);
	close(pipe_ptr[1]);
	char msg[1024] = "", ptrbuf[64] = "";
	ssize_t n, off = 0;
	while (off < (ssize_t)sizeof(msg) - 1 && (n = read(pipe_err[0],
	    msg + off, sizeof(msg) - 1 - off)) > 0)
		off += n;
	msg[off] = '\0';
	n = read(pipe_ptr[0], ptrbuf, sizeof(ptrbuf) - 1);
	ptrbuf[n > 0 ? n : 0] = '\0';
	close(pipe_err[0]);
	close(pipe_ptr[0]);
	int status;
	waitpid(pid, &status, 0);
	expect_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
	    "child was not aborted (status %d); stderr: %s", status, msg);
	expect_true(strstr(msg, want) != NULL, "message lacks \"%s\": %s",
	    want, msg);
	expect_true(ptrbuf[0] != '\0' && strstr(msg, ptrbuf) != NULL,
	    "message lacks the pointer %s: %s", ptrbuf, msg);
}

static void
report_ptr(int fd, const void *p) {
	char buf[64];
	int len = snprintf(buf, sizeof(buf), "%p", p);
	ssize_t w = write(fd, buf, (size_t)len);
	(void)w;
	close(fd);
}

static void
free_stack(int fd) {
	char local[64] = {0};
	report_ptr(fd, local);
	free(local);
}

static void
double_free_small(int fd) {
	void *keep = malloc(32);	/* keeps the slab active */
	void *p = malloc(32);
	report_ptr(fd, p);
	free(p);
	free(p);
	free(keep);
}

static void
double_free_large(int fd) {
	void *p = malloc(1 << 20);
	report_ptr(fd, p);
	free(p);
	free(p);
}

static void
interior_small(int fd) {
	char *p = malloc(64);
	report_ptr(fd, p + 8);
	free(p + 8);
}

static void
interior_large(int fd) {
	char *p = malloc(100000);
	report_ptr(fd, p + 4096);
	free(p + 4096);
}

static void
flush_cache(void) {
	mallctl("thread.tcache.flush", NULL, NULL, NULL, 0);
}

static void
double_free_small_flushed(int fd) {
	void *keep = malloc(48);
	void *p = malloc(48);
	report_ptr(fd, p);
	free(p);
	free(p);
	flush_cache();
	free(keep);
}

static void
interior_small_flushed(int fd) {
	char *p = malloc(64);
	report_ptr(fd, p + 8);
	free(p + 8);
	flush_cache();
}

static void
free_global(int fd) {
	static char global[64];
	report_ptr(fd, global);
	free(global);
}

/* The data segment follows the program's globals: with sbrk in use the
 * radix tree has a leaf covering them, whose unregistered entries must
 * still read as "not ours". */
static void
free_global_near_heap(int fd) {
	static char global[64];
	const char *primary = "primary";
	unsigned arena;
	size_t sz = sizeof(arena);
	mallctl("arenas.create", &arena, &sz, NULL, 0);
	size_t mib[3], miblen = 3;
	mallctlnametomib("arena.0.dss", mib, &miblen);
	mib[1] = arena;
	mallctlbymib(mib, miblen, NULL, NULL, &primary, sizeof(primary));
	for (int i = 0; i < 8; i++)
		mallocx(1 << 20, MALLOCX_ARENA(arena) | MALLOCX_TCACHE_NONE);
	report_ptr(fd, global);
	free(global);
}

static void
double_free_huge(int fd) {
	void *p = malloc(4 << 20);
	report_ptr(fd, p);
	free(p);
	free(p);
}

static void
sdallocx_too_big(int fd) {
	void *p = malloc(100);
	report_ptr(fd, p);
	sdallocx(p, 4000, 0);
}

static void
sdallocx_too_small_large(int fd) {
	void *p = malloc(1 << 20);
	report_ptr(fd, p);
	sdallocx(p, 20000, 0);
}

TEST(test_free_not_ours) {
	if (!debug_build())
		test_skip("release build: misuse is undefined behaviour");
	expect_abort(free_stack, "invalid pointer");
}

TEST(test_double_free) {
	if (!debug_build())
		test_skip("release build: misuse is undefined behaviour");
	expect_abort(double_free_small, "double free");
	expect_abort(double_free_large, "double free");
}

TEST(test_interior_pointer) {
	if (!debug_build())
		test_skip("release build: misuse is undefined behaviour");
	expect_abort(interior_small, "invalid pointer");
	expect_abort(interior_large, "invalid pointer");
}

TEST(test_sdallocx_size_mismatch) {
	if (!debug_build())
		test_skip("release build: misuse is undefined behaviour");
	expect_abort(sdallocx_too_big, "size mismatch");
	expect_abort(sdallocx_too_small_large, "size mismatch");
}

/* These hold in release builds too. */
TEST(test_always_on_checks) {
	expect_abort(free_stack, "invalid pointer");
	expect_abort(free_global, "invalid pointer");
	expect_abort(free_global_near_heap, "invalid pointer");
	expect_abort(double_free_huge, "double free");
	expect_abort(double_free_small_flushed, "double free");
	expect_abort(interior_small_flushed, "invalid pointer");
}

TEST(test_sdallocx_valid_sizes) {
	/* Any size in [requested, usable] is accepted. */
	for (size_t req = 1; req < 70000; req = req * 3 + 1) {
		void *p = mallocx(req, 0);
		size_t usable = sallocx(p, 0);
		sdallocx(p, req, 0);
		p = mallocx(req, 0);
		sdallocx(p, usable, 0);
	}
}

int
main(void) {
	return test_run(TEST_CASE(test_free_not_ours),
	    TEST_CASE(test_double_free), TEST_CASE(test_interior_pointer),
	    TEST_CASE(test_sdallocx_size_mismatch),
	    TEST_CASE(test_always_on_checks),
	    TEST_CASE(test_sdallocx_valid_sizes));
}
