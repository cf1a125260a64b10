/* The test harness: see test/include/test.h. */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

static __thread jmp_buf *test_jmp;
static int test_status;		/* 0 pass, 1 skip, 2 fail */
static const char *test_current;

void
test_msg(const char *fmt, ...) {
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	ssize_t w = write(STDERR_FILENO, buf, (size_t)n);
	(void)w;
}

void
test_fail_at(const char *file, int line, const char *fmt, ...) {
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	test_msg("%s:%d: %s: %s\n", file, line,
	    test_current ? test_current : "?", buf);
	test_status = 2;
}

void
test_note(const char *fmt, ...) {
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* The macros prefix a space so that an empty message is legal. */
	const char *m = buf[0] == ' ' ? buf + 1 : buf;
	if (m[0] != '\0')
		test_msg("    %s\n", m);
}

unsigned check_nfail;

void
test_figure(const char *name, unsigned long long value) {
	fflush(stdout);
	printf("figure: %s %llu\n", name, value);
	fflush(stdout);
}

void
test_skip(const char *fmt, ...) {
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	test_msg("skip %s: %s\n", test_current ? test_current : "?", buf);
	if (test_status == 0)
		test_status = 1;
	test_leave();
}

void
test_leave(void) {
	if (test_jmp != NULL)
		longjmp(*test_jmp, 1);
	_exit(2);
}

bool
test_long_mode(void) {
	const char *m = getenv("TEST_MODE");
	return m != NULL && strcmp(m, "long") == 0;
}

int
test_run_cases(const char *binary, const test_case_t *cases) {
	const char *base = strrchr(binary, '/');
	base = base ? base + 1 : binary;
	char name[256];
	snprintf(name, sizeof(name), "%s", base);
	char *dot = strrchr(name, '.');
	if (dot != NULL)
		*dot = '\0';

	volatile int failed = 0;
	for (const test_case_t *volatile c = cases; c->name != NULL; c++) {
		jmp_buf jb;
		test_status = 0;
		check_nfail = 0;
		test_current = c->name;
		test_jmp = &jb;
		if (setjmp(jb) == 0)
			c->fn();
		test_jmp = NULL;
		static const char *const words[] = {"pass", "skip", "fail"};
		printf("%s: %s/%s\n", words[test_status], name, c->name);
		fflush(stdout);
		if (test_status == 2)
			failed = 1;
	}
	test_current = NULL;
	return failed ? 1 : 0;
}

const char *
test_conf_var(void) {
	return dlsym(RTLD_DEFAULT, "je_malloc") != NULL ? "JE_MALLOC_CONF" :
	    "MALLOC_CONF";
}

int
test_wait_child(int pid) {
	int st;
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
}

int
test_run_self(const char *name, const char *arg, const char *conf) {
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (conf != NULL)
			setenv(test_conf_var(), conf, 1);
		execl("/proc/self/exe", name, arg, (char *)NULL);
		_exit(126);
	}
	return test_wait_child(pid);
}
