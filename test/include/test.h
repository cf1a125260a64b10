/*
 * A tiny, allocation-free test harness shared by unit, integration and
 * stress tests.  Each test binary defines TEST(name) functions and calls
 * test_run(name1, name2, ..., NULL) from main().  Every test prints one line
 *   "pass: <binary>/<name>", "fail: <binary>/<name>" or "skip: <binary>/<name>"
 * and test/run.sh counts those lines.
 *
 * expect_*() records a failure and carries on; assert_*() records it and
 * leaves the current test at once.
 *
 * C++ tests (test/integration/NAME.cpp) use the same header; the harness
 * stays C (linked as an object), and leaving a test is a longjmp, so a
 * test function should not hold objects with destructors when it calls
 * assert_*() or test_skip().
 */
#ifndef TEST_H
#define TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <inttypes.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef void (test_fn_t)(void);

typedef struct {
	const char *name;
	test_fn_t *fn;
} test_case_t;

#define TEST(name) static void name(void)
#define TEST_CASE(name) { #name, name }

/* Runs the cases (the array ends with {NULL, NULL}); returns the exit code. */
int test_run_cases(const char *binary, const test_case_t *cases);
#ifdef __cplusplus
/* No compound literals in C++: a static array in a lambda instead. */
#define test_run(...) ([]() {						\
	static const test_case_t test_cases_[] = {			\
		__VA_ARGS__, { NULL, NULL } };				\
	return test_run_cases(__FILE__, test_cases_);			\
}())
#else
#define test_run(...) test_run_cases(__FILE__, (const test_case_t[]){ \
	__VA_ARGS__, { NULL, NULL } })
#endif

void test_fail_at(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void test_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Leaves the current test (after a failed assert_* or test_skip). */
void test_leave(void) __attribute__((noreturn));
/* "short" (make check) or "long" (make stress), from $TEST_MODE. */
bool test_long_mode(void);
/*
 * A figure for CI's summary table: prints "figure: NAME VALUE" on stdout;
 * .ci/run adds up each name per configuration (stress operations, fork
 * iterations, threads, injected faults ...).
 */
void test_figure(const char *name, unsigned long long value);
/* Writes a message to stderr without allocating. */
void test_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The MALLOC_CONF variable this library reads: JE_MALLOC_CONF when the
 * build is prefixed (je_malloc exists), MALLOC_CONF otherwise. */
const char *test_conf_var(void);
/* Waits for child pid: its exit status, 128 + signal, or -1. */
int test_wait_child(int pid);
/* Runs this program again as "<name> arg" with conf (unless NULL) in
 * test_conf_var(); returns test_wait_child's answer. */
int test_run_self(const char *name, const char *arg, const char *conf);

/* Prints the caller's optional message (format and arguments). */
void test_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#ifdef __cplusplus
}
#endif

#define TEST_CMP_(kind, a, op, b, fmt, type, ...) do {			\
	type a_ = (a);							\
	type b_ = (b);							\
	if (!(a_ op b_)) {						\
		test_fail_at(__FILE__, __LINE__, "%s %s %s: " fmt " vs " \
		    fmt, #a, #op, #b, a_, b_);				\
		test_note(" " __VA_ARGS__);				\
		if (kind)						\
			test_leave();					\
	}								\
} while (0)

/*
 * CHECK(cond, fmt, ...): records a failure and goes on, but leaves the
 * test after 20 (check_nfail counts them; the harness resets it before
 * each test).  CCHECK(cond[, fmt, ...]): in a forked child, reports the
 * condition (and the message) without allocating and exits with 1.
 */
extern unsigned check_nfail;
#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		test_fail_at(__FILE__, __LINE__, __VA_ARGS__);		\
		if (++check_nfail >= 20) {				\
			test_msg("too many failures, leaving test\n");	\
			test_leave();					\
		}							\
	}								\
} while (0)
#define CCHECK(cond, ...) do {						\
	if (!(cond)) {							\
		test_msg("%s:%d: child: check failed: %s\n", __FILE__,	\
		    __LINE__, #cond);					\
		test_note(" " __VA_ARGS__);				\
		_exit(1);						\
	}								\
} while (0)

/* Checks with a formatted message of their own: expectf(cond, fmt, ...)
 * records a failure and goes on, assertf also leaves the test. */
#define TEST_CHECKF_(kind, cond, ...) do {				\
	if (!(cond)) {							\
		test_fail_at(__FILE__, __LINE__, __VA_ARGS__);		\
		if (kind)						\
			test_leave();					\
	}								\
} while (0)
#define expectf(cond, ...) TEST_CHECKF_(0, cond, __VA_ARGS__)
#define assertf(cond, ...) TEST_CHECKF_(1, cond, __VA_ARGS__)

#define expect_zu_eq(a, b, ...) TEST_CMP_(0, a, ==, b, "%zu", size_t, __VA_ARGS__)
#define expect_zu_ne(a, b, ...) TEST_CMP_(0, a, !=, b, "%zu", size_t, __VA_ARGS__)
#define expect_zu_le(a, b, ...) TEST_CMP_(0, a, <=, b, "%zu", size_t, __VA_ARGS__)
#define expect_zu_lt(a, b, ...) TEST_CMP_(0, a, <, b, "%zu", size_t, __VA_ARGS__)
#define expect_zu_ge(a, b, ...) TEST_CMP_(0, a, >=, b, "%zu", size_t, __VA_ARGS__)
#define expect_zu_gt(a, b, ...) TEST_CMP_(0, a, >, b, "%zu", size_t, __VA_ARGS__)
#define expect_u64_eq(a, b, ...) TEST_CMP_(0, a, ==, b, "%" PRIu64, uint64_t, __VA_ARGS__)
#define expect_d_eq(a, b, ...) TEST_CMP_(0, a, ==, b, "%d", int, __VA_ARGS__)
#define expect_d_ne(a, b, ...) TEST_CMP_(0, a, !=, b, "%d", int, __VA_ARGS__)
#define expect_u_ne(a, b, ...) TEST_CMP_(0, a, !=, b, "%u", unsigned, __VA_ARGS__)
#define expect_u64_ne(a, b, ...) TEST_CMP_(0, a, !=, b, "%" PRIu64, uint64_t, __VA_ARGS__)
#define expect_d_lt(a, b, ...) TEST_CMP_(0, a, <, b, "%d", int, __VA_ARGS__)
#define expect_u_eq(a, b, ...) TEST_CMP_(0, a, ==, b, "%u", unsigned, __VA_ARGS__)
#define expect_ptr_eq(a, b, ...) TEST_CMP_(0, a, ==, b, "%p", const void *, __VA_ARGS__)
#define expect_ptr_ne(a, b, ...) TEST_CMP_(0, a, !=, b, "%p", const void *, __VA_ARGS__)
#define expect_ptr_null(a, ...) expect_ptr_eq(a, NULL, __VA_ARGS__)
#define expect_ptr_not_null(a, ...) expect_ptr_ne(a, NULL, __VA_ARGS__)
#define expect_true(a, ...) TEST_CMP_(0, (bool)(a), ==, true, "%d", int, __VA_ARGS__)
#define expect_false(a, ...) TEST_CMP_(0, (bool)(a), ==, false, "%d", int, __VA_ARGS__)

#define assert_zu_eq(a, b, ...) TEST_CMP_(1, a, ==, b, "%zu", size_t, __VA_ARGS__)
#define assert_zu_ne(a, b, ...) TEST_CMP_(1, a, !=, b, "%zu", size_t, __VA_ARGS__)
#define assert_zu_le(a, b, ...) TEST_CMP_(1, a, <=, b, "%zu", size_t, __VA_ARGS__)
#define assert_zu_ge(a, b, ...) TEST_CMP_(1, a, >=, b, "%zu", size_t, __VA_ARGS__)
#define assert_d_eq(a, b, ...) TEST_CMP_(1, a, ==, b, "%d", int, __VA_ARGS__)
#define assert_d_ne(a, b, ...) TEST_CMP_(1, a, !=, b, "%d", int, __VA_ARGS__)
#define assert_u_eq(a, b, ...) TEST_CMP_(1, a, ==, b, "%u", unsigned, __VA_ARGS__)
#define assert_ptr_eq(a, b, ...) TEST_CMP_(1, a, ==, b, "%p", const void *, __VA_ARGS__)
#define assert_ptr_ne(a, b, ...) TEST_CMP_(1, a, !=, b, "%p", const void *, __VA_ARGS__)
#define assert_ptr_null(a, ...) assert_ptr_eq(a, NULL, __VA_ARGS__)
#define assert_ptr_not_null(a, ...) assert_ptr_ne(a, NULL, __VA_ARGS__)
#define assert_true(a, ...) TEST_CMP_(1, (bool)(a), ==, true, "%d", int, __VA_ARGS__)
#define assert_false(a, ...) TEST_CMP_(1, (bool)(a), ==, false, "%d", int, __VA_ARGS__)

#endif /* TEST_H */
