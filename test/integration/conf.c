/*
 * MALLOC_CONF through the environment (facts §3): every option's default,
 * a valid non-default value of every option read back through opt.*,
 * out-of-range and invalid values, the syntax errors and their exact
 * messages, abort_conf, the key-prefix quirk (d:disabled sets dss), number
 * syntax, and that later pairs override earlier ones.
 *
 * Each case runs this binary again (/proc/self/exe --conf-child) with a
 * controlled environment: MALLOC_CONF, or JE_MALLOC_CONF in a build with
 * the je_ prefix (found at run time: dlsym(RTLD_DEFAULT, "je_malloc")).
 * The child prints "name=value" for the opt.* names and a few related
 * ones, and the parent checks its stdout, stderr and exit status.
 *
 * The other sources (the application's malloc_conf symbol and the
 * /etc/malloc.conf link) are checked by test/programs/conf_sources.sh,
 * because a binary that defines malloc_conf cannot observe the defaults.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define JEMALLOC_MANGLE
#include <jemalloc/jemalloc.h>

#include "test.h"

extern char **environ;

/* --- the child ------------------------------------------------------------ */

static const struct {
	const char *name;
	char type;	/* b bool, u unsigned, z size_t, d ssize_t, s string */
} reported[] = {
	{"opt.abort", 'b'},
	{"opt.abort_conf", 'b'},
	{"opt.metadata_thp", 's'},
	{"opt.retain", 'b'},
	{"opt.dss", 's'},
	{"opt.narenas", 'u'},
	{"opt.percpu_arena", 's'},
	{"opt.background_thread", 'b'},
	{"opt.max_background_threads", 'z'},
	{"opt.dirty_decay_ms", 'd'},
	{"opt.muzzy_decay_ms", 'd'},
	{"opt.lg_extent_max_active_fit", 'z'},
	{"opt.stats_print", 'b'},
	{"opt.stats_print_opts", 's'},
	{"opt.junk", 's'},
	{"opt.zero", 'b'},
	{"opt.utrace", 'b'},
	{"opt.xmalloc", 'b'},
	{"opt.tcache", 'b'},
	{"opt.lg_tcache_max", 'd'},
	{"opt.thp", 's'},
	{"opt.prof", 'b'},
	{"background_thread", 'b'},
	{"max_background_threads", 'z'},
	{"arenas.narenas", 'u'},
	{"arenas.dirty_decay_ms", 'd'},
	{"arenas.muzzy_decay_ms", 'd'},
	{"arenas.tcache_max", 'z'},
	{"thread.tcache.enabled", 'b'},
	{"config.malloc_conf", 's'},
};

static int
child_main(void) {
	for (unsigned i = 0; i < sizeof(reported) / sizeof(reported[0]); i++) {
		const char *name = reported[i].name;
		union {
			bool b;
			unsigned u;
			size_t z;
			ssize_t d;
			const char *s;
		} v;
		size_t sz;
		switch (reported[i].type) {
		case 'b': sz = sizeof(bool); break;
		case 'u': sz = sizeof(unsigned); break;
		case 'z': sz = sizeof(size_t); break;
		case 'd': sz = sizeof(ssize_t); break;
		default: sz = sizeof(const char *); break;
		}
		memset(&v, 0, sizeof(v));
		int err = mallctl(name, &v, &sz, NULL, 0);
		if (err == ENOENT) {
			printf("%s=<ENOENT>\n", name);
			continue;
		} else if (err != 0) {
			printf("%s=<error %d>\n", name, err);
			continue;
		}
		switch (reported[i].type) {
		case 'b': printf("%s=%s\n", name, v.b ? "true" : "false");
			break;
		case 'u': printf("%s=%u\n", name, v.u); break;
		case 'z': printf("%s=%zu\n", name, v.z); break;
		case 'd': printf("%s=%zd\n", name, v.d); break;
		default: printf("%s=%s\n", name, v.s != NULL ? v.s : "<NULL>");
			break;
		}
	}
	/*
	 * Fill probes: a 64-byte region is written, freed and (from the
	 * thread cache, LIFO) normally handed out again; its first byte
	 * shows junk-on-alloc (0xa5), junk-on-free (0x5a) or zeroing.
	 */
	unsigned char *volatile p = malloc(64);
	if (p == NULL)
		return 3;
	memset(p, 0x11, 64);
	uintptr_t addr = (uintptr_t)p;
	free(p);
	unsigned char *volatile q = malloc(64);
	if (q == NULL)
		return 3;
	printf("probe.same=%d\n", (uintptr_t)q == addr);
	printf("probe.byte=%02x\n", q[0]);
	free(q);
	/* Some work under the options. */
	for (unsigned i = 0; i < 200; i++) {
		void *r = malloc((size_t)i * 97 + 1);
		void *s = malloc((size_t)i * 4099 + 1);
		if (r == NULL || s == NULL)
			return 3;
		free(r);
		free(s);
	}
	printf("child-done\n");
	fflush(stdout);
	return 0;
}

/* --- running a child ------------------------------------------------------ */

typedef struct {
	int status;		/* from waitpid */
	char *out;		/* stdout, NUL-terminated */
	char *err;		/* stderr, NUL-terminated */
	char conf[512];		/* what it ran with, for messages */
} child_t;

static const char *
conf_var(void) {
	return dlsym(RTLD_DEFAULT, "je_malloc") != NULL ? "JE_MALLOC_CONF" :
	    "MALLOC_CONF";
}

static const char *
other_conf_var(void) {
	return dlsym(RTLD_DEFAULT, "je_malloc") != NULL ? "MALLOC_CONF" :
	    "JE_MALLOC_CONF";
}

static char *
slurp(int fd) {
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	if (buf == NULL)
		return NULL;
	if (lseek(fd, 0, SEEK_SET) != 0) {
		buf[0] = '\0';
		return buf;
	}
	for (;;) {
		if (len + 1 >= cap) {
			char *nb = realloc(buf, cap * 2);
			if (nb == NULL)
				break;
			buf = nb;
			cap *= 2;
		}
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return buf;
}

static void
child_free(child_t *c) {
	free(c->out);
	free(c->err);
	c->out = c->err = NULL;
}

/*
 * Runs the child with var=conf (var NULL: conf_var(); conf NULL: no
 * variable at all).  Both conf variables are removed from the inherited
 * environment first.
 */
static void
run_child_var(const char *var, const char *conf, child_t *c) {
	memset(c, 0, sizeof(*c));
	snprintf(c->conf, sizeof(c->conf), "%s", conf != NULL ? conf :
	    "<unset>");
	if (var == NULL)
		var = conf_var();

	size_t n = 0;
	while (environ[n] != NULL)
		n++;
	char **envp = calloc(n + 2, sizeof(char *));
	assert_ptr_not_null(envp, "");
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (strncmp(environ[i], "MALLOC_CONF=", 12) == 0 ||
		    strncmp(environ[i], "JE_MALLOC_CONF=", 15) == 0)
			continue;
		envp[m++] = environ[i];
	}
	char *setting = NULL;
	if (conf != NULL) {
		size_t len = strlen(var) + strlen(conf) + 2;
		setting = malloc(len);
		assert_ptr_not_null(setting, "");
		snprintf(setting, len, "%s=%s", var, conf);
		envp[m++] = setting;
	}
	envp[m] = NULL;

	int ofd = memfd_create("conf-out", 0);
	int efd = memfd_create("conf-err", 0);
	assert_true(ofd >= 0 && efd >= 0, "memfd_create: errno %d", errno);
	char *const argv[] = {"conf", "--conf-child", NULL};

	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	assert_true(pid >= 0, "fork: errno %d", errno);
	if (pid == 0) {
		struct rlimit nocore = {0, 0};
		setrlimit(RLIMIT_CORE, &nocore);
		dup2(ofd, STDOUT_FILENO);
		dup2(efd, STDERR_FILENO);
		alarm(60);	/* never hang the suite */
		execve("/proc/self/exe", argv, envp);
		_exit(127);
	}
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	c->status = status;
	c->out = slurp(ofd);
	c->err = slurp(efd);
	close(ofd);
	close(efd);
	free(setting);
	free(envp);
	assert_ptr_not_null(c->out, "");
	assert_ptr_not_null(c->err, "");
}

static void
run_child(const char *conf, child_t *c) {
	run_child_var(NULL, conf, c);
}

/* The value the child printed for name, or NULL. */
static const char *
child_value(const child_t *c, const char *name) {
	static char val[256];
	size_t nlen = strlen(name);
	const char *p = c->out;
	while (p != NULL && *p != '\0') {
		const char *eol = strchr(p, '\n');
		size_t llen = eol != NULL ? (size_t)(eol - p) : strlen(p);
		if (llen > nlen && strncmp(p, name, nlen) == 0 &&
		    p[nlen] == '=') {
			size_t vlen = llen - nlen - 1;
			if (vlen >= sizeof(val))
				vlen = sizeof(val) - 1;
			memcpy(val, p + nlen + 1, vlen);
			val[vlen] = '\0';
			return val;
		}
		p = eol != NULL ? eol + 1 : NULL;
	}
	return NULL;
}

static bool
exited_ok(const child_t *c) {
	return WIFEXITED(c->status) && WEXITSTATUS(c->status) == 0 &&
	    strstr(c->out, "child-done\n") != NULL;
}

static unsigned
count_occurrences(const char *hay, const char *needle) {
	unsigned n = 0;
	size_t len = strlen(needle);
	for (const char *p = strstr(hay, needle); p != NULL;
	    p = strstr(p + len, needle))
		n++;
	return n;
}

/* The first line of stderr, for failure messages. */
static const char *
err_head(const child_t *c) {
	static char head[300];
	snprintf(head, sizeof(head), "%s", c->err);
	char *nl = strchr(head, '\n');
	if (nl != NULL && nl[1] != '\0')
		nl[1] = '\0';
	return head;
}

#define expect_ran(c) do {						\
	expect_true(exited_ok(c), "conf \"%s\": the child did not run to " \
	    "completion (status 0x%x); stderr: %s", (c)->conf,		\
	    (unsigned)(c)->status, err_head(c));			\
} while (0)

/* Ran to completion and said nothing on stderr. */
#define expect_silent(c) do {						\
	expect_ran(c);							\
	expect_true(strstr((c)->err, "<jemalloc>") == NULL,		\
	    "conf \"%s\": unexpected message: %s", (c)->conf,		\
	    err_head(c));						\
} while (0)

/* Ran to completion and printed exactly one message, msg. */
#define expect_one_message(c, msg) do {					\
	expect_ran(c);							\
	expect_true(strstr((c)->err, msg) != NULL,			\
	    "conf \"%s\": expected message \"%s\"; stderr: %s",	\
	    (c)->conf, msg, err_head(c));				\
	expect_u_eq(count_occurrences((c)->err, "<jemalloc>"), 1,	\
	    "conf \"%s\": one message expected; stderr: %s", (c)->conf, \
	    err_head(c));						\
} while (0)

#define expect_value(c, name, want) do {				\
	const char *got_ = child_value(c, name);			\
	expect_true(got_ != NULL && strcmp(got_, want) == 0,		\
	    "conf \"%s\": %s is \"%s\", expected \"%s\"", (c)->conf,	\
	    name, got_ != NULL ? got_ : "<missing>", want);		\
} while (0)

/* --- facts about this build and machine ----------------------------------- */

static bool
ctl_bool(const char *name) {
	bool v = false;
	size_t sz = sizeof(v);
	if (mallctl(name, &v, &sz, NULL, 0) != 0)
		return false;
	return v;
}

static bool
is_debug(void) {
	return ctl_bool("config.debug");
}

static unsigned
ncpus(void) {
	cpu_set_t set;
	CPU_ZERO(&set);
	if (sched_getaffinity(0, sizeof(set), &set) == 0 &&
	    CPU_COUNT(&set) > 0)
		return (unsigned)CPU_COUNT(&set);
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

static unsigned
default_narenas(void) {
	unsigned n = ncpus() > 1 ? ncpus() * 4 : 1;
	return n > 4094 ? 4094 : n;
}

/* Whether the kernel reports THP modes (else opt.thp is "not supported"). */
static bool
thp_supported(void) {
	int fd = open("/sys/kernel/mm/transparent_hugepage/enabled",
	    O_RDONLY);
	if (fd < 0)
		return false;
	char buf[128];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return strstr(buf, "[always]") != NULL ||
	    strstr(buf, "[madvise]") != NULL || strstr(buf, "[never]") != NULL;
}

/* Another conf source is present: the defaults cannot be observed. */
static const char *
foreign_source(void) {
	static char why[600];
	const char *link = dlsym(RTLD_DEFAULT, "je_malloc") != NULL ?
	    "/etc/je_malloc.conf" : "/etc/malloc.conf";
	char target[512];
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	if (n >= 0) {
		target[n] = '\0';
		snprintf(why, sizeof(why), "%s exists (-> \"%s\")", link,
		    target);
		return why;
	}
	const char *mc = NULL;
	size_t sz = sizeof(mc);
	if (mallctl("config.malloc_conf", &mc, &sz, NULL, 0) == 0 &&
	    mc != NULL && mc[0] != '\0') {
		snprintf(why, sizeof(why), "built with --with-malloc-conf=%s",
		    mc);
		return why;
	}
	return NULL;
}

static void
skip_if_foreign_source(void) {
	const char *why = foreign_source();
	if (why != NULL)
		test_skip("%s", why);
}

/* --- defaults ------------------------------------------------------------- */

TEST(test_defaults) {
	skip_if_foreign_source();
	bool debug = is_debug();
	char buf[64];
	child_t c;
	run_child(NULL, &c);
	expect_silent(&c);
	expect_value(&c, "opt.abort", debug ? "true" : "false");
	expect_value(&c, "opt.abort_conf", debug ? "true" : "false");
	expect_value(&c, "opt.metadata_thp", "disabled");
	expect_value(&c, "opt.retain", "true");
	expect_value(&c, "opt.dss", "secondary");
	snprintf(buf, sizeof(buf), "%u", default_narenas());
	expect_value(&c, "opt.narenas", buf);
	expect_value(&c, "arenas.narenas", buf);
	expect_value(&c, "opt.percpu_arena", "disabled");
	expect_value(&c, "opt.background_thread", "false");
	expect_value(&c, "background_thread", "false");
	snprintf(buf, sizeof(buf), "%u", ncpus() < 4095 ? ncpus() : 4095);
	expect_value(&c, "opt.max_background_threads", buf);
	expect_value(&c, "opt.dirty_decay_ms", "10000");
	expect_value(&c, "opt.muzzy_decay_ms", "10000");
	expect_value(&c, "arenas.dirty_decay_ms", "10000");
	expect_value(&c, "arenas.muzzy_decay_ms", "10000");
	expect_value(&c, "opt.lg_extent_max_active_fit", "6");
	expect_value(&c, "opt.stats_print", "false");
	expect_value(&c, "opt.stats_print_opts", "");
	if (ctl_bool("config.fill")) {
		expect_value(&c, "opt.junk", debug ? "true" : "false");
		expect_value(&c, "opt.zero", "false");
	} else {
		expect_value(&c, "opt.junk", "<ENOENT>");
		expect_value(&c, "opt.zero", "<ENOENT>");
	}
	expect_value(&c, "opt.utrace", ctl_bool("config.utrace") ? "false" :
	    "<ENOENT>");
	expect_value(&c, "opt.xmalloc", ctl_bool("config.xmalloc") ? "false" :
	    "<ENOENT>");
	expect_value(&c, "opt.prof", ctl_bool("config.prof") ? "false" :
	    "<ENOENT>");
	expect_value(&c, "opt.tcache", "true");
	expect_value(&c, "thread.tcache.enabled", "true");
	expect_value(&c, "opt.lg_tcache_max", "15");
	expect_value(&c, "arenas.tcache_max", "32768");
	expect_value(&c, "opt.thp", thp_supported() ? "default" :
	    "not supported");
	expect_value(&c, "config.malloc_conf", "");
	child_free(&c);

	/* An empty string is no conf at all. */
	run_child("", &c);
	expect_silent(&c);
	snprintf(buf, sizeof(buf), "%u", default_narenas());
	expect_value(&c, "opt.narenas", buf);
	child_free(&c);
}

/* --- valid values --------------------------------------------------------- */

typedef struct {
	const char *conf;
	const char *name;
	const char *want;
} conf_case_t;

static void
run_value_cases(const conf_case_t *cases, size_t ncases) {
	for (size_t i = 0; i < ncases; i++) {
		child_t c;
		run_child(cases[i].conf, &c);
		expect_silent(&c);
		expect_value(&c, cases[i].name, cases[i].want);
		child_free(&c);
	}
}

TEST(test_valid_values) {
	bool debug = is_debug();
	static const conf_case_t cases[] = {
		{"metadata_thp:auto", "opt.metadata_thp", "auto"},
		{"metadata_thp:always", "opt.metadata_thp", "always"},
		{"metadata_thp:disabled", "opt.metadata_thp", "disabled"},
		{"retain:false", "opt.retain", "false"},
		{"retain:true", "opt.retain", "true"},
		{"dss:disabled", "opt.dss", "disabled"},
		{"dss:primary", "opt.dss", "primary"},
		{"dss:secondary", "opt.dss", "secondary"},
		{"narenas:3", "opt.narenas", "3"},
		{"narenas:3", "arenas.narenas", "3"},
		{"narenas:1", "opt.narenas", "1"},
		{"narenas:4094", "opt.narenas", "4094"},
		{"narenas:5000", "opt.narenas", "4094"},	/* capped */
		{"narenas:4294967295", "opt.narenas", "4094"},
		{"percpu_arena:disabled", "opt.percpu_arena", "disabled"},
		{"percpu_arena:percpu", "opt.percpu_arena", "percpu"},
		{"background_thread:true", "opt.background_thread", "true"},
		{"background_thread:true", "background_thread", "true"},
		{"background_thread:false", "opt.background_thread", "false"},
		{"max_background_threads:1", "opt.max_background_threads",
		    "1"},
		{"max_background_threads:1", "max_background_threads", "1"},
		{"max_background_threads:0", "opt.max_background_threads",
		    "1"},	/* clipped, silently */
		{"dirty_decay_ms:-1", "opt.dirty_decay_ms", "-1"},
		{"dirty_decay_ms:-1", "arenas.dirty_decay_ms", "-1"},
		{"dirty_decay_ms:0", "opt.dirty_decay_ms", "0"},
		{"dirty_decay_ms:0", "arenas.dirty_decay_ms", "0"},
		{"dirty_decay_ms:5000", "opt.dirty_decay_ms", "5000"},
		{"dirty_decay_ms:5000", "arenas.dirty_decay_ms", "5000"},
		{"dirty_decay_ms:18446744072000", "opt.dirty_decay_ms",
		    "18446744072000"},	/* NSTIME_SEC_MAX * 1000 */
		{"muzzy_decay_ms:-1", "opt.muzzy_decay_ms", "-1"},
		{"muzzy_decay_ms:-1", "arenas.muzzy_decay_ms", "-1"},
		{"muzzy_decay_ms:0", "opt.muzzy_decay_ms", "0"},
		{"muzzy_decay_ms:5000", "opt.muzzy_decay_ms", "5000"},
		{"muzzy_decay_ms:5000", "arenas.muzzy_decay_ms", "5000"},
		{"muzzy_decay_ms:18446744072000", "opt.muzzy_decay_ms",
		    "18446744072000"},
		{"lg_extent_max_active_fit:10", "opt.lg_extent_max_active_fit",
		    "10"},
		{"lg_extent_max_active_fit:0", "opt.lg_extent_max_active_fit",
		    "0"},
		{"lg_extent_max_active_fit:64", "opt.lg_extent_max_active_fit",
		    "64"},
		{"stats_print_opts:Jgm", "opt.stats_print_opts", "Jgm"},
		{"stats_print_opts:JJxz", "opt.stats_print_opts", "Jx"},
		{"stats_print_opts:Jgmdablx", "opt.stats_print_opts",
		    "Jgmdablx"},
		{"stats_print_opts:xxJJggmmddaabbllxx", "opt.stats_print_opts",
		    "xJgmdabl"},
		{"stats_print_opts:qrz", "opt.stats_print_opts", ""},
		{"stats_print:false", "opt.stats_print", "false"},
		{"tcache:false", "opt.tcache", "false"},
		{"tcache:false", "thread.tcache.enabled", "false"},
		{"tcache:true", "opt.tcache", "true"},
		{"lg_tcache_max:10", "opt.lg_tcache_max", "10"},
		{"lg_tcache_max:10", "arenas.tcache_max", "14336"},
		{"lg_tcache_max:16", "opt.lg_tcache_max", "16"},
		{"lg_tcache_max:16", "arenas.tcache_max", "65536"},
		{"lg_tcache_max:-1", "opt.lg_tcache_max", "-1"},
		{"lg_tcache_max:-1", "arenas.tcache_max", "14336"},
		{"lg_tcache_max:63", "opt.lg_tcache_max", "63"},
	};
	run_value_cases(cases, sizeof(cases) / sizeof(cases[0]));

	/* abort / abort_conf: the non-default value of this build. */
	const conf_case_t flips[] = {
		{debug ? "abort:false" : "abort:true", "opt.abort",
		    debug ? "false" : "true"},
		{debug ? "abort_conf:false" : "abort_conf:true",
		    "opt.abort_conf", debug ? "false" : "true"},
		{debug ? "abort:true" : "abort:false", "opt.abort",
		    debug ? "true" : "false"},
	};
	run_value_cases(flips, sizeof(flips) / sizeof(flips[0]));

	/* junk / zero, with --enable-fill. */
	if (ctl_bool("config.fill")) {
		static const conf_case_t fill[] = {
			{"junk:alloc", "opt.junk", "alloc"},
			{"junk:free", "opt.junk", "free"},
			{"junk:true", "opt.junk", "true"},
			{"junk:false", "opt.junk", "false"},
			{"zero:true", "opt.zero", "true"},
			{"zero:false", "opt.zero", "false"},
		};
		run_value_cases(fill, sizeof(fill) / sizeof(fill[0]));
	}

	/* thp: its modes where the kernel has THP. */
	if (thp_supported()) {
		static const conf_case_t thp[] = {
			{"thp:never", "opt.thp", "never"},
			{"thp:always", "opt.thp", "always"},
			{"thp:default", "opt.thp", "default"},
		};
		run_value_cases(thp, sizeof(thp) / sizeof(thp[0]));
	} else {
		test_msg("conf: no THP on this kernel; thp:never not tried\n");
	}

	/* Several options at once. */
	child_t c;
	run_child("narenas:3,dirty_decay_ms:5000,muzzy_decay_ms:0,tcache:false,"
	    "lg_tcache_max:12,retain:false,dss:primary,metadata_thp:auto",
	    &c);
	expect_silent(&c);
	expect_value(&c, "opt.narenas", "3");
	expect_value(&c, "opt.dirty_decay_ms", "5000");
	expect_value(&c, "opt.muzzy_decay_ms", "0");
	expect_value(&c, "opt.tcache", "false");
	expect_value(&c, "opt.lg_tcache_max", "12");
	expect_value(&c, "opt.retain", "false");
	expect_value(&c, "opt.dss", "primary");
	expect_value(&c, "opt.metadata_thp", "auto");
	child_free(&c);
}

/* max_background_threads above the limit is clipped (facts §3.2). */
TEST(test_clipping) {
	skip_if_foreign_source();
	char buf[32];
	child_t c;
	run_child("max_background_threads:99999", &c);
	expect_silent(&c);
	snprintf(buf, sizeof(buf), "%u", ncpus() < 4095 ? ncpus() : 4095);
	expect_value(&c, "opt.max_background_threads", buf);
	child_free(&c);
}

/* percpu_arena raises narenas to the CPU count (facts §3.2). */
TEST(test_percpu) {
	char buf[32];
	unsigned n = ncpus();
	child_t c;
	run_child("percpu_arena:percpu", &c);
	expect_silent(&c);
	expect_value(&c, "opt.percpu_arena", "percpu");
	snprintf(buf, sizeof(buf), "%u", n);
	expect_value(&c, "opt.narenas", buf);
	child_free(&c);

	run_child("percpu_arena:percpu,narenas:1", &c);
	expect_silent(&c);
	expect_value(&c, "opt.narenas", buf);
	child_free(&c);

	snprintf(buf, sizeof(buf), "%u", n + 7);
	char conf[64];
	snprintf(conf, sizeof(conf), "percpu_arena:percpu,narenas:%u", n + 7);
	run_child(conf, &c);
	expect_silent(&c);
	expect_value(&c, "opt.narenas", buf);
	child_free(&c);

	/* phycpu: half the CPUs (checked for an even count only). */
	if (n % 2 == 0) {
		run_child("percpu_arena:phycpu", &c);
		expect_silent(&c);
		expect_value(&c, "opt.percpu_arena", "phycpu");
		snprintf(buf, sizeof(buf), "%u", n / 2);
		expect_value(&c, "opt.narenas", buf);
		child_free(&c);
	}
}

/* background_thread:true starts the threads at the end of init. */
TEST(test_background_thread) {
	child_t c;
	run_child("background_thread:true,max_background_threads:1", &c);
	expect_silent(&c);
	expect_value(&c, "opt.background_thread", "true");
	expect_value(&c, "background_thread", "true");
	expect_value(&c, "opt.max_background_threads", "1");
	expect_value(&c, "max_background_threads", "1");
	child_free(&c);
}

/* stats_print:true prints the statistics at exit, to stderr. */
TEST(test_stats_print) {
	child_t c;
	run_child("stats_print:true", &c);
	expect_ran(&c);
	expect_value(&c, "opt.stats_print", "true");
	expect_true(strstr(c.err, "jemalloc statistics") != NULL,
	    "stats_print:true: no statistics on stderr: %s", err_head(&c));
	child_free(&c);

	run_child("stats_print:true,stats_print_opts:J", &c);
	expect_ran(&c);
	expect_value(&c, "opt.stats_print_opts", "J");
	expect_true(strstr(c.err, "\"jemalloc\"") != NULL,
	    "stats_print_opts:J: no JSON on stderr: %s", err_head(&c));
	child_free(&c);
}

/* junk fills with 0xa5 on allocation and 0x5a on free; zero zeroes. */
TEST(test_fill_effects) {
	if (!ctl_bool("config.fill"))
		test_skip("built with --disable-fill");
	child_t c;
	run_child("junk:alloc", &c);
	expect_silent(&c);
	expect_value(&c, "probe.byte", "a5");
	child_free(&c);

	run_child("junk:false,zero:true", &c);
	expect_silent(&c);
	expect_value(&c, "probe.byte", "00");
	child_free(&c);

	run_child("junk:free", &c);
	expect_silent(&c);
	const char *same = child_value(&c, "probe.same");
	if (same != NULL && strcmp(same, "1") == 0)
		expect_value(&c, "probe.byte", "5a");
	child_free(&c);

	run_child("junk:false", &c);
	expect_silent(&c);
	same = child_value(&c, "probe.same");
	if (same != NULL && strcmp(same, "1") == 0)
		expect_value(&c, "probe.byte", "11");
	child_free(&c);
}

/* --- numbers and repeated keys -------------------------------------------- */

TEST(test_number_syntax) {
	static const conf_case_t cases[] = {
		{"narenas:0x5", "opt.narenas", "5"},	/* hex */
		{"narenas:010", "opt.narenas", "8"},	/* octal */
		{"lg_tcache_max:0xc", "opt.lg_tcache_max", "12"},
		{"dirty_decay_ms:0x10", "opt.dirty_decay_ms", "16"},
		{"muzzy_decay_ms:017", "opt.muzzy_decay_ms", "15"},
		{"lg_extent_max_active_fit:0x8",
		    "opt.lg_extent_max_active_fit", "8"},
		/* A later pair overrides an earlier one. */
		{"narenas:3,narenas:7", "opt.narenas", "7"},
		{"dss:primary,dss:disabled", "opt.dss", "disabled"},
		{"tcache:false,tcache:true", "opt.tcache", "true"},
	};
	run_value_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

/* --- the key-prefix quirk ------------------------------------------------- */

TEST(test_prefix_quirk) {
	static const conf_case_t cases[] = {
		{"d:disabled", "opt.dss", "disabled"},
		{"ds:primary", "opt.dss", "primary"},
		{"percpu:percpu", "opt.percpu_arena", "percpu"},
		{"metadata:auto", "opt.metadata_thp", "auto"},
		{"metadata_t:always", "opt.metadata_thp", "always"},
	};
	run_value_cases(cases, sizeof(cases) / sizeof(cases[0]));

	/* Only a prefix: a longer key, or another option's prefix, is not. */
	static const struct {
		const char *conf;
		const char *msg;
	} bad[] = {
		{"abort_conf:false,dssx:disabled",
		    "<jemalloc>: Invalid conf pair: dssx:disabled\n"},
		{"abort_conf:false,narena:3",
		    "<jemalloc>: Invalid conf pair: narena:3\n"},
		{"abort_conf:false,tcach:false",
		    "<jemalloc>: Invalid conf pair: tcach:false\n"},
		{"abort_conf:false,percpu_arenas:percpu",
		    "<jemalloc>: Invalid conf pair: percpu_arenas:percpu\n"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		child_t c;
		run_child(bad[i].conf, &c);
		expect_one_message(&c, bad[i].msg);
		child_free(&c);
	}
}

/* --- errors --------------------------------------------------------------- */

typedef struct {
	const char *conf;
	const char *msg;	/* the exact line on stderr */
	const char *name;	/* an option the bad pair must not change */
} bad_case_t;

/* A child run with "abort_conf:false" only, run once. */
static const child_t *
reference_child(void) {
	static child_t ref;
	static bool done;
	if (!done) {
		run_child("abort_conf:false", &ref);
		expect_silent(&ref);
		done = true;
	}
	return &ref;
}

/*
 * Each conf has abort_conf:false first, so that a debug build does not
 * abort, and valid pairs (narenas:3 before, lg_tcache_max:10 after) that
 * must still apply.
 */
static void
run_bad_cases(const bad_case_t *cases, size_t ncases, bool after_applies) {
	for (size_t i = 0; i < ncases; i++) {
		child_t c;
		char conf[256];
		snprintf(conf, sizeof(conf), "abort_conf:false,narenas:3,%s%s",
		    cases[i].conf, after_applies ? ",lg_tcache_max:10" : "");
		run_child(conf, &c);
		expect_one_message(&c, cases[i].msg);
		expect_value(&c, "opt.narenas", "3");
		if (after_applies)
			expect_value(&c, "opt.lg_tcache_max", "10");
		if (cases[i].name != NULL) {
			/* Unchanged: the value of a run without the pair. */
			const char *want = child_value(reference_child(),
			    cases[i].name);
			char wbuf[256];
			snprintf(wbuf, sizeof(wbuf), "%s", want != NULL ? want :
			    "<missing>");
			expect_value(&c, cases[i].name, wbuf);
		}
		child_free(&c);
	}
}

TEST(test_out_of_range) {
	static const bad_case_t cases[] = {
		{"narenas:0", "<jemalloc>: Out-of-range conf value: "
		    "narenas:0\n", NULL},
		{"narenas:4294967296", "<jemalloc>: Out-of-range conf value: "
		    "narenas:4294967296\n", NULL},
		{"dirty_decay_ms:-2", "<jemalloc>: Out-of-range conf value: "
		    "dirty_decay_ms:-2\n", "opt.dirty_decay_ms"},
		{"dirty_decay_ms:18446744072001", "<jemalloc>: Out-of-range "
		    "conf value: dirty_decay_ms:18446744072001\n",
		    "opt.dirty_decay_ms"},
		{"muzzy_decay_ms:-2", "<jemalloc>: Out-of-range conf value: "
		    "muzzy_decay_ms:-2\n", "opt.muzzy_decay_ms"},
		{"lg_extent_max_active_fit:65", "<jemalloc>: Out-of-range conf "
		    "value: lg_extent_max_active_fit:65\n",
		    "opt.lg_extent_max_active_fit"},
	};
	run_bad_cases(cases, sizeof(cases) / sizeof(cases[0]), true);
	/* lg_tcache_max itself (so no lg_tcache_max:10 after it). */
	static const bad_case_t tc[] = {
		{"lg_tcache_max:64", "<jemalloc>: Out-of-range conf value: "
		    "lg_tcache_max:64\n", "opt.lg_tcache_max"},
		{"lg_tcache_max:-2", "<jemalloc>: Out-of-range conf value: "
		    "lg_tcache_max:-2\n", "opt.lg_tcache_max"},
	};
	run_bad_cases(tc, sizeof(tc) / sizeof(tc[0]), false);
}

TEST(test_invalid_values) {
	static const bad_case_t cases[] = {
		{"tcache:maybe", "<jemalloc>: Invalid conf value: "
		    "tcache:maybe\n", "opt.tcache"},
		{"tcache:TRUE", "<jemalloc>: Invalid conf value: tcache:TRUE\n",
		    "opt.tcache"},
		{"retain:1", "<jemalloc>: Invalid conf value: retain:1\n",
		    "opt.retain"},
		{"abort:yes", "<jemalloc>: Invalid conf value: abort:yes\n",
		    "opt.abort"},
		{"stats_print:on", "<jemalloc>: Invalid conf value: "
		    "stats_print:on\n", "opt.stats_print"},
		{"background_thread:True", "<jemalloc>: Invalid conf value: "
		    "background_thread:True\n", "opt.background_thread"},
		{"dirty_decay_ms:1.5", "<jemalloc>: Invalid conf value: "
		    "dirty_decay_ms:1.5\n", "opt.dirty_decay_ms"},
		{"muzzy_decay_ms:ten", "<jemalloc>: Invalid conf value: "
		    "muzzy_decay_ms:ten\n", "opt.muzzy_decay_ms"},
		{"lg_extent_max_active_fit:6k", "<jemalloc>: Invalid conf "
		    "value: lg_extent_max_active_fit:6k\n",
		    "opt.lg_extent_max_active_fit"},
		{"max_background_threads:two", "<jemalloc>: Invalid conf "
		    "value: max_background_threads:two\n",
		    "opt.max_background_threads"},
		{"dss:foo", "<jemalloc>: Invalid conf value: dss:foo\n",
		    "opt.dss"},
		{"percpu_arena:foo", "<jemalloc>: Invalid conf value: "
		    "percpu_arena:foo\n", "opt.percpu_arena"},
		{"metadata_thp:foo", "<jemalloc>: Invalid conf value: "
		    "metadata_thp:foo\n", "opt.metadata_thp"},
		{"thp:sometimes", "<jemalloc>: Invalid conf value: "
		    "thp:sometimes\n", "opt.thp"},
	};
	run_bad_cases(cases, sizeof(cases) / sizeof(cases[0]), true);
	static const bad_case_t narenas[] = {
		{"narenas:abc", "<jemalloc>: Invalid conf value: narenas:abc\n",
		    NULL},
		{"narenas:3x", "<jemalloc>: Invalid conf value: narenas:3x\n",
		    NULL},
	};
	run_bad_cases(narenas, sizeof(narenas) / sizeof(narenas[0]), true);
	static const bad_case_t tc[] = {
		{"lg_tcache_max:big", "<jemalloc>: Invalid conf value: "
		    "lg_tcache_max:big\n", "opt.lg_tcache_max"},
	};
	run_bad_cases(tc, sizeof(tc) / sizeof(tc[0]), false);
	if (ctl_bool("config.fill")) {
		static const bad_case_t fill[] = {
			{"junk:maybe", "<jemalloc>: Invalid conf value: "
			    "junk:maybe\n", "opt.junk"},
			{"zero:1", "<jemalloc>: Invalid conf value: zero:1\n",
			    "opt.zero"},
		};
		run_bad_cases(fill, sizeof(fill) / sizeof(fill[0]), true);
	}
}

TEST(test_invalid_pairs) {
	static const bad_case_t cases[] = {
		{"bogus:1", "<jemalloc>: Invalid conf pair: bogus:1\n", NULL},
		{"Narenas:4", "<jemalloc>: Invalid conf pair: Narenas:4\n",
		    NULL},
		{"log:foo", "<jemalloc>: Invalid conf pair: log:foo\n", NULL},
	};
	run_bad_cases(cases, sizeof(cases) / sizeof(cases[0]), true);
}

/* Keys of features this build lacks are unknown (facts §3.2). */
TEST(test_feature_gated_keys) {
	static const struct {
		const char *config;
		const char *pair;
	} gated[] = {
		{"config.prof", "prof:true"},
		{"config.prof", "prof_prefix:foo"},
		{"config.prof", "prof_active:false"},
		{"config.prof", "prof_thread_active_init:false"},
		{"config.prof", "lg_prof_sample:10"},
		{"config.prof", "prof_accum:true"},
		{"config.prof", "lg_prof_interval:20"},
		{"config.prof", "prof_gdump:true"},
		{"config.prof", "prof_final:true"},
		{"config.prof", "prof_leak:true"},
		{"config.utrace", "utrace:true"},
		{"config.xmalloc", "xmalloc:true"},
		{"config.fill", "junk:true"},
		{"config.fill", "zero:true"},
	};
	for (size_t i = 0; i < sizeof(gated) / sizeof(gated[0]); i++) {
		if (ctl_bool(gated[i].config))
			continue;
		char msg[128];
		snprintf(msg, sizeof(msg), "<jemalloc>: Invalid conf pair: "
		    "%s\n", gated[i].pair);
		bad_case_t bc = {gated[i].pair, msg, NULL};
		run_bad_cases(&bc, 1, true);
	}
}

TEST(test_malformed) {
	/* Parsing of the source stops at a syntax error. */
	static const bad_case_t stop[] = {
		{"na-me:1", "<jemalloc>: Malformed conf string\n", NULL},
		{"a b:1", "<jemalloc>: Malformed conf string\n", NULL},
		{",lg_tcache_max:12", "<jemalloc>: Malformed conf string\n",
		    NULL},
		{"lg_tcache_max", "<jemalloc>: Conf string ends with key\n",
		    NULL},
	};
	run_bad_cases(stop, sizeof(stop) / sizeof(stop[0]), false);
	static const bad_case_t comma[] = {
		/* "narenas:3," itself: the pair before the comma applies. */
		{"lg_tcache_max:11,", "<jemalloc>: Conf string ends with "
		    "comma\n", NULL},
	};
	run_bad_cases(comma, 1, false);
	child_t c;
	run_child("abort_conf:false,narenas:3,lg_tcache_max:11,", &c);
	expect_value(&c, "opt.lg_tcache_max", "11");
	child_free(&c);

	/* A string that is only a key, or only a comma. */
	run_child("abort_conf:false,narenas", &c);
	expect_one_message(&c, "<jemalloc>: Conf string ends with key\n");
	child_free(&c);
	run_child("narenas:3,", &c);
	if (!is_debug()) {
		expect_one_message(&c, "<jemalloc>: Conf string ends with "
		    "comma\n");
		expect_value(&c, "opt.narenas", "3");
	}
	child_free(&c);
}

/* --- abort_conf ------------------------------------------------------------ */

static bool
died_by_sigabrt(const child_t *c) {
	return WIFSIGNALED(c->status) && WTERMSIG(c->status) == SIGABRT;
}

TEST(test_abort_conf) {
	static const struct {
		const char *conf;
		const char *msg;
	} cases[] = {
		{"abort_conf:true,bogus:1",
		    "<jemalloc>: Invalid conf pair: bogus:1\n"},
		{"abort_conf:true,narenas:0",
		    "<jemalloc>: Out-of-range conf value: narenas:0\n"},
		{"abort_conf:true,tcache:maybe",
		    "<jemalloc>: Invalid conf value: tcache:maybe\n"},
		/* The abort comes after the whole source is parsed. */
		{"bogus:1,abort_conf:true",
		    "<jemalloc>: Invalid conf pair: bogus:1\n"},
		{"abort_conf:true,bogus:1,other:2",
		    "<jemalloc>: Invalid conf pair: other:2\n"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		child_t c;
		run_child(cases[i].conf, &c);
		expect_true(died_by_sigabrt(&c),
		    "conf \"%s\": expected SIGABRT, status 0x%x", c.conf,
		    (unsigned)c.status);
		expect_true(strstr(c.out, "child-done") == NULL,
		    "conf \"%s\": the child ran on", c.conf);
		expect_true(strstr(c.err, cases[i].msg) != NULL,
		    "conf \"%s\": expected \"%s\" before the abort; stderr: %s",
		    c.conf, cases[i].msg, err_head(&c));
		child_free(&c);
	}

	/* No error, no abort. */
	child_t c;
	run_child("abort_conf:true,narenas:3", &c);
	expect_silent(&c);
	expect_value(&c, "opt.abort_conf", "true");
	expect_value(&c, "opt.narenas", "3");
	child_free(&c);

	/* The build's default: debug aborts, release warns and runs on. */
	run_child("narenas:3,bogus:1,lg_tcache_max:10", &c);
	if (is_debug()) {
		expect_true(died_by_sigabrt(&c), "debug build: abort_conf "
		    "defaults to true, status 0x%x", (unsigned)c.status);
	} else {
		expect_one_message(&c,
		    "<jemalloc>: Invalid conf pair: bogus:1\n");
		expect_value(&c, "opt.narenas", "3");
		expect_value(&c, "opt.lg_tcache_max", "10");
	}
	child_free(&c);
}

/* --- the variable's name --------------------------------------------------- */

TEST(test_other_variable_ignored) {
	skip_if_foreign_source();
	child_t c;
	char buf[32];
	run_child_var(other_conf_var(), "narenas:3,bogus:1", &c);
	expect_silent(&c);
	snprintf(buf, sizeof(buf), "%u", default_narenas());
	expect_value(&c, "opt.narenas", buf);
	child_free(&c);
	test_msg("conf: the library reads %s and ignores %s\n", conf_var(),
	    other_conf_var());
}

int
main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "--conf-child") == 0)
		return child_main();
	return test_run(
	    TEST_CASE(test_defaults),
	    TEST_CASE(test_valid_values),
	    TEST_CASE(test_clipping),
	    TEST_CASE(test_percpu),
	    TEST_CASE(test_background_thread),
	    TEST_CASE(test_stats_print),
	    TEST_CASE(test_fill_effects),
	    TEST_CASE(test_number_syntax),
	    TEST_CASE(test_prefix_quirk),
	    TEST_CASE(test_out_of_range),
	    TEST_CASE(test_invalid_values),
	    TEST_CASE(test_invalid_pairs),
	    TEST_CASE(test_feature_gated_keys),
	    TEST_CASE(test_malformed),
	    TEST_CASE(test_abort_conf),
	    TEST_CASE(test_other_variable_ignored));
}
