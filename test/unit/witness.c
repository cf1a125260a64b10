/*
 * Witness: in debug builds, taking a lock whose rank is not above every
 * held lock's stops the process with a message naming both locks.
 * In order, and after release, nothing happens.
 */
#include "jemalloc_internal.h"
#include "mutex.h"

#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

static malloc_mutex_t low, high, leaf1, leaf2;

static void
init_locks(void) {
	malloc_mutex_init(&low, "test_low", WITNESS_RANK_EXTENT_GROW);
	malloc_mutex_init(&high, "test_high", WITNESS_RANK_EXTENTS);
	malloc_mutex_init(&leaf1, "test_leaf1", WITNESS_RANK_LEAF);
	malloc_mutex_init(&leaf2, "test_leaf2", WITNESS_RANK_LEAF);
}

static void
fini_locks(void) {
	malloc_mutex_unregister(&low);
	malloc_mutex_unregister(&high);
	malloc_mutex_unregister(&leaf1);
	malloc_mutex_unregister(&leaf2);
}

/* Runs fn in a child; returns its stderr and whether SIGABRT killed it. */
static bool
child_aborts(void (*fn)(void), char *msg, size_t msglen) {
	int fds[2];
	if (pipe(fds) != 0)
		return false;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fds[1], STDERR_FILENO);
		close(fds[0]);
		fn();
		_exit(0);
	}
	close(fds[1]);
	ssize_t off = 0, n;
	while (off < (ssize_t)msglen - 1 && (n = read(fds[0], msg + off,
	    msglen - 1 - off)) > 0)
		off += n;
	msg[off] = '\0';
	close(fds[0]);
	int status;
	waitpid(pid, &status, 0);
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

static void
reversed(void) {
	malloc_mutex_lock(&high);
	malloc_mutex_lock(&low);
}

static void
two_leaves(void) {
	malloc_mutex_lock(&leaf1);
	malloc_mutex_lock(&leaf2);
}

TEST(test_in_order_is_fine) {
	init_locks();
	malloc_mutex_lock(&low);
	malloc_mutex_lock(&high);
	malloc_mutex_lock(&leaf1);
	malloc_mutex_unlock(&leaf1);
	malloc_mutex_unlock(&high);
	malloc_mutex_unlock(&low);
	/* Released locks do not constrain later ones. */
	malloc_mutex_lock(&high);
	malloc_mutex_unlock(&high);
	malloc_mutex_lock(&low);
	malloc_mutex_unlock(&low);
	fini_locks();
}

TEST(test_reversal_aborts) {
	if (!config_debug)
		test_skip("witness checks only in debug builds");
	init_locks();
	char msg[512];
	expect_true(child_aborts(reversed, msg, sizeof(msg)),
	    "reversed order did not abort: %s", msg);
	expect_true(strstr(msg, "test_low") != NULL && strstr(msg, "test_high")
	    != NULL, "message does not name both locks: %s", msg);
	expect_true(child_aborts(two_leaves, msg, sizeof(msg)),
	    "two leaf locks did not abort: %s", msg);
	fini_locks();
}

int
main(void) {
	return test_run(TEST_CASE(test_in_order_is_fine),
	    TEST_CASE(test_reversal_aborts));
}
