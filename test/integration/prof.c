/*
 * The heap profiler (--enable-prof): every case runs this binary again
 * with a MALLOC_CONF of its own (test_run_self), and the child checks
 * what the profiler wrote by parsing its heap_v2 dumps:
 *   sites     lg_prof_sample:0 samples everything: each allocation site's
 *             record has exactly its objects and bytes, through malloc,
 *             calloc, aligned calls, realloc (the record moves to the
 *             realloc site) and partial frees; totals add up
 *   rate      at 2^16 the number of sampled 1 KiB objects is within 5
 *             standard deviations of N(1 - exp(-1024 / 2^16)), and the
 *             unsampled estimate (jeprof's formula) within 20%
 *   reset     prof.reset empties dumps, objects sampled before it are
 *             freed safely, the new rate reads back, errors
 *   active    prof.active, thread.prof.active, prof.thread_active_init
 *   names     thread.prof.name in dumps; read-xor-write, bad names
 *   interval  lg_prof_interval writes <prefix>.<pid>.<seq>.i<n>.heap
 *   gdump     prof_gdump writes .u<n>.heap files as the heap grows
 *   final     prof_final writes .f.heap at exit
 *   leak      prof_leak's report at exit (counts, contexts, file)
 *   fork      a child keeps its parent's samples and adds its own
 *   threads   objects freed by other threads (and after their own thread
 *             ended) while dumps run: counts end exact
 *   off       a profiling build with prof:false: prof.dump is EFAULT
 * The sampling interval's distribution is checked in test/unit/prof.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <alloca.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define JEMALLOC_MANGLE
#include <jemalloc/jemalloc.h>

#include "test.h"

/* --- the child's checks ----------------------------------------------------- */

static int child_failures;

__attribute__((format(printf, 2, 3)))
static void
check(bool ok, const char *fmt, ...) {
	if (ok)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "child check failed: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	child_failures++;
}

/* --- dump parsing ------------------------------------------------------------- */

#define MAX_RECORDS 512
#define MAX_THREADS 64

typedef struct {
	uint64_t objs, bytes, aobjs, abytes;
} cnt_t;

typedef struct {
	uintptr_t frames[8];
	unsigned nframes;	/* of frames[] */
	unsigned depth;		/* all frames of the record */
	cnt_t all;
} record_t;

typedef struct {
	uint64_t period;
	cnt_t all;
	unsigned nthreads;
	uint64_t thr_uid[MAX_THREADS];
	cnt_t thr[MAX_THREADS];
	char thr_name[MAX_THREADS][64];
	unsigned nrecords;
	record_t rec[MAX_RECORDS];
	bool maps;
	bool maps_has_self;
} dump_t;

static bool
parse_cnt(const char *s, cnt_t *c) {
	return sscanf(s, "%" SCNu64 ": %" SCNu64 " [%" SCNu64 ": %" SCNu64 "]",
	    &c->objs, &c->bytes, &c->aobjs, &c->abytes) == 4;
}

/* Parses path into *d; false (with a message) if it is not heap_v2. */
static bool
dump_parse(const char *path, dump_t *d) {
	memset(d, 0, sizeof(*d));
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		check(false, "cannot open dump %s", path);
		return false;
	}
	char line[4096];
	bool ok = true;
	if (fgets(line, sizeof(line), f) == NULL || sscanf(line,
	    "heap_v2/%" SCNu64, &d->period) != 1) {
		check(false, "%s: no heap_v2 header", path);
		ok = false;
	}
	record_t *cur = NULL;
	while (ok && fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "MAPPED_LIBRARIES:", 17) == 0) {
			d->maps = true;
			while (fgets(line, sizeof(line), f) != NULL) {
				if (strstr(line, "/prof") != NULL)
					d->maps_has_self = true;
			}
			break;
		}
		if (line[0] == '@') {
			if (d->nrecords == MAX_RECORDS) {
				check(false, "too many records");
				ok = false;
				break;
			}
			cur = &d->rec[d->nrecords++];
			char *p = line + 1;
			for (;;) {
				char *end;
				unsigned long long v = strtoull(p, &end, 16);
				if (end == p)
					break;
				if (cur->nframes < 8)
					cur->frames[cur->nframes++] =
					    (uintptr_t)v;
				cur->depth++;
				p = end;
			}
			check(cur->nframes > 0, "%s: record without frames",
			    path);
			continue;
		}
		char *p = line;
		while (*p == ' ')
			p++;
		if (*p == '\0' || *p == '\n')
			continue;
		if (strncmp(p, "t*: ", 4) == 0) {
			cnt_t c;
			if (!parse_cnt(p + 4, &c)) {
				check(false, "%s: bad line %s", path, line);
				ok = false;
			} else if (cur == NULL) {
				d->all = c;
			} else {
				cur->all = c;
			}
			continue;
		}
		uint64_t uid;
		int n;
		if (sscanf(p, "t%" SCNu64 ": %n", &uid, &n) == 1) {
			cnt_t c;
			if (!parse_cnt(p + n, &c)) {
				check(false, "%s: bad line %s", path, line);
				ok = false;
			} else if (cur == NULL && d->nthreads < MAX_THREADS) {
				unsigned i = d->nthreads++;
				d->thr_uid[i] = uid;
				d->thr[i] = c;
				char *name = strchr(p, ']');
				if (name != NULL && name[1] == ' ') {
					snprintf(d->thr_name[i],
					    sizeof(d->thr_name[i]), "%s",
					    name + 2);
					d->thr_name[i][strcspn(d->thr_name[i],
					    "\n")] = '\0';
				}
			}
			continue;
		}
		check(false, "%s: unexpected line %s", path, line);
		ok = false;
	}
	fclose(f);
	check(!ok || d->maps, "%s: no MAPPED_LIBRARIES section", path);
	if (ok) {
		/* The records add up to the totals. */
		cnt_t sum = {0, 0, 0, 0};
		for (unsigned i = 0; i < d->nrecords; i++) {
			sum.objs += d->rec[i].all.objs;
			sum.bytes += d->rec[i].all.bytes;
		}
		check(sum.objs == d->all.objs && sum.bytes == d->all.bytes,
		    "%s: records sum to %" PRIu64 "/%" PRIu64 ", header says %"
		    PRIu64 "/%" PRIu64, path, sum.objs, sum.bytes,
		    d->all.objs, d->all.bytes);
	}
	return ok;
}

static char dump_dir[256];

/* Dumps to a fresh file and parses it. */
static void
dump_now(dump_t *d) {
	static unsigned n;
	char path[512];
	snprintf(path, sizeof(path), "%s/d%u.heap", dump_dir, n++);
	const char *p = path;
	int err = mallctl("prof.dump", NULL, NULL, (void *)&p, sizeof(p));
	check(err == 0, "prof.dump(%s): %d", path, err);
	if (err == 0)
		dump_parse(path, d);
	else
		memset(d, 0, sizeof(*d));
}

/*
 * Allocation sites.  Each site calls probe() next to its allocations; the
 * probe's return address lies in the site, a few instructions from the
 * allocation call's return address, which a record's first frame must be.
 */
static uintptr_t site_pc[16];

static __attribute__((noinline)) void
probe(int site) {
	/* The first call: a later one may be a tail call from the site,
	 * whose return address is then its caller's. */
	if (site_pc[site] == 0)
		site_pc[site] = (uintptr_t)__builtin_return_address(0);
	__asm__ volatile("" ::: "memory");
}

static const record_t *
record_at(const dump_t *d, int site) {
	/* The allocation calls follow the probe closely. */
	const record_t *best = NULL;
	uintptr_t pc = site_pc[site], dist = 96;
	for (unsigned i = 0; i < d->nrecords && pc != 0; i++) {
		uintptr_t f = d->rec[i].frames[0];
		if (f > pc && f - pc < dist) {
			dist = f - pc;
			best = &d->rec[i];
		}
	}
	return best;
}

/* A site called from several places has a record per call chain: the
 * sum of those whose first frame is the site's allocation call. */
static cnt_t
site_cnt(const dump_t *d, int site) {
	cnt_t c = {0, 0, 0, 0};
	const record_t *r = record_at(d, site);
	for (unsigned i = 0; r != NULL && i < d->nrecords; i++) {
		if (d->rec[i].frames[0] == r->frames[0]) {
			c.objs += d->rec[i].all.objs;
			c.bytes += d->rec[i].all.bytes;
		}
	}
	return c;
}

static uint64_t
site_objs(const dump_t *d, int site) {
	return site_cnt(d, site).objs;
}

static uint64_t
site_bytes(const dump_t *d, int site) {
	return site_cnt(d, site).bytes;
}

enum { SITE_A, SITE_B, SITE_C, SITE_D, SITE_R, SITE_T, SITE_V, SITE_X, SITE_Y,
    SITE_W };

/* Aligned: a neighbour's calls are never within reach of the probe. */
static __attribute__((noinline, aligned(256))) void
site_a(void **v, int n) {
	probe(SITE_A);
	for (int i = 0; i < n; i++)
		v[i] = malloc(4096);
}

/* Aligned: a neighbour's calls are never within reach of the probe. */
static __attribute__((noinline, aligned(256))) void
site_b(void **v, int n) {
	probe(SITE_B);
	for (int i = 0; i < n; i++)
		v[i] = malloc(100);
}

/* Aligned: a neighbour's calls are never within reach of the probe. */
static __attribute__((noinline, aligned(256))) void
site_c(void **v, int n) {
	probe(SITE_C);
	for (int i = 0; i < n; i++)
		v[i] = calloc(1, 1000);
}

/* Aligned: a neighbour's calls are never within reach of the probe. */
static __attribute__((noinline, aligned(256))) void
site_d(void **v, int n) {
	probe(SITE_D);
	for (int i = 0; i < n; i++)
		v[i] = mallocx(200, MALLOCX_ALIGN(4096));
}

/* Aligned: a neighbour's calls are never within reach of the probe. */
static __attribute__((noinline, aligned(256))) void
site_r(void **v, int n) {
	probe(SITE_R);
	for (int i = 0; i < n; i++)
		v[i] = realloc(v[i], 5000);
}

/* Aligned: a neighbour's calls are never within reach of the probe. */
static __attribute__((noinline, aligned(256))) void
site_w(void **v, int n) {
	probe(SITE_W);
	for (int i = 0; i < n; i++)
		v[i] = malloc(64 + (size_t)(i & 3) * 1000);
}

/* A frame whose size varies (alloca): the backtrace cache in front of
 * libgcc must not reuse one frame size for it. */
static void *v_objs[400];
static unsigned v_n;

static uintptr_t y_ret;	/* a real return address, into caller_y */

static __attribute__((noinline, aligned(256))) void
site_v(size_t scratch, bool from_y) {
	if (from_y)
		y_ret = (uintptr_t)__builtin_return_address(0);
	/* The scratch space holds copies of a real return address, as stale
	 * stack often does: a wrong frame size would read one of them and
	 * follow it into caller_y. */
	volatile uintptr_t *buf = alloca(scratch);
	for (size_t i = 0; i < scratch / sizeof(uintptr_t); i++)
		buf[i] = y_ret;
	probe(SITE_V);	/* right before the call: unoptimised code is long */
	v_objs[v_n++] = malloc(64);
	__asm__ volatile("" ::: "memory");
}

static __attribute__((noinline, aligned(256))) void
caller_x(size_t scratch) {
	probe(SITE_X);
	site_v(scratch, false);
	__asm__ volatile("" ::: "memory");
}

static __attribute__((noinline, aligned(256))) void
caller_y(size_t scratch) {
	probe(SITE_Y);
	site_v(scratch, true);
	__asm__ volatile("" ::: "memory");
}

static bool
near_site(uintptr_t f, int site) {
	return site_pc[site] != 0 && f > site_pc[site] && f - site_pc[site] <
	    96;
}

static size_t
get_zu(const char *name) {
	size_t v = 0, sz = sizeof(v);
	check(mallctl(name, &v, &sz, NULL, 0) == 0, "read %s", name);
	return v;
}

static bool
get_b(const char *name) {
	bool v = false;
	size_t sz = sizeof(v);
	check(mallctl(name, &v, &sz, NULL, 0) == 0, "read %s", name);
	return v;
}

static void
set_b(const char *name, bool v) {
	check(mallctl(name, NULL, NULL, &v, sizeof(v)) == 0, "write %s", name);
}

/* --- child scenarios --------------------------------------------------------------- */

static void
child_sites(void) {
	static void *a[100], *b[50], *c[10], *dd[8];
	site_a(a, 100);
	site_b(b, 50);
	site_c(c, 10);
	site_d(dd, 8);
	for (int i = 0; i < 10; i++)
		check(((char *)c[0])[i * 100] == 0, "calloc zeroed");
	for (int i = 0; i < 8; i++) {
		check(((uintptr_t)dd[i] & 4095) == 0, "mallocx aligned");
		check(sallocx(dd[i], 0) == nallocx(200, MALLOCX_ALIGN(4096)),
		    "sallocx of a sampled aligned object");
	}
	/* A sampled small object still reports its own class. */
	check(malloc_usable_size(b[0]) == 112, "usable size %zu",
	    malloc_usable_size(b[0]));
	memset(b[1], 0x5c, 100);

	dump_t *d = malloc(sizeof(dump_t));
	dump_now(d);
	check(d->period == 1, "lg_prof_sample:0 -> period 1, got %" PRIu64,
	    d->period);
	check(site_objs(d, SITE_A) == 100 && site_bytes(d, SITE_A) == 409600,
	    "site_a: %" PRIu64 " objects, %" PRIu64 " bytes",
	    site_objs(d, SITE_A), site_bytes(d, SITE_A));
	check(site_objs(d, SITE_B) == 50 && site_bytes(d, SITE_B) == 50 * 112,
	    "site_b: %" PRIu64 " objects, %" PRIu64 " bytes",
	    site_objs(d, SITE_B), site_bytes(d, SITE_B));
	check(site_objs(d, SITE_C) == 10 && site_bytes(d, SITE_C) == 10240,
	    "site_c: %" PRIu64 " objects, %" PRIu64 " bytes",
	    site_objs(d, SITE_C), site_bytes(d, SITE_C));
	size_t dsz = nallocx(200, MALLOCX_ALIGN(4096));
	check(site_objs(d, SITE_D) == 8 && site_bytes(d, SITE_D) == 8 * dsz,
	    "site_d: %" PRIu64 " objects", site_objs(d, SITE_D));
	check(d->maps && d->maps_has_self, "maps name the program");
	check(d->nthreads >= 1, "a thread line");

	/* Frees: plain, sized, dallocx; the records follow. */
	for (int i = 0; i < 50; i++)
		free(a[i]);
	for (int i = 40; i < 50; i++)
		sdallocx(b[i], 100, 0);
	for (int i = 0; i < 8; i++)
		dallocx(dd[i], 0);
	/* realloc: the objects move to site_r's record, contents kept. */
	site_r(b, 10);
	check(((unsigned char *)b[1])[99] == 0x5c, "realloc kept contents");
	dump_now(d);
	check(site_objs(d, SITE_A) == 50, "site_a after 50 frees: %" PRIu64,
	    site_objs(d, SITE_A));
	check(site_objs(d, SITE_B) == 30, "site_b after moves/frees: %"
	    PRIu64, site_objs(d, SITE_B));
	check(site_objs(d, SITE_D) == 0, "site_d freed: %" PRIu64,
	    site_objs(d, SITE_D));
	check(site_objs(d, SITE_R) == 10 && site_bytes(d, SITE_R) == 10 * 5120,
	    "site_r: %" PRIu64 " objects %" PRIu64 " bytes",
	    site_objs(d, SITE_R), site_bytes(d, SITE_R));
	/* xallocx cannot resize a sampled object; rallocx shrinks it. */
	check(xallocx(b[0], 9000, 0, 0) == 5120, "xallocx on sampled");
	b[0] = rallocx(b[0], 50, 0);
	check(b[0] != NULL && sallocx(b[0], 0) == 64, "rallocx shrink");
	for (int i = 0; i < 40; i++)
		free(b[i]);
	for (int i = 50; i < 100; i++)
		free(a[i]);
	for (int i = 0; i < 10; i++)
		free(c[i]);
	dump_now(d);
	check(site_objs(d, SITE_A) + site_objs(d, SITE_B) + site_objs(d,
	    SITE_C) + site_objs(d, SITE_R) == 0, "all freed");
	free(d);
}

static void
child_rate(void) {
	enum { N = 40000, SZ = 1024 };
	void **v = malloc(N * sizeof(void *));
	site_a(v, 0);	/* sets site_pc[SITE_A] */
	probe(SITE_T);
	for (int i = 0; i < N; i++)
		v[i] = malloc(SZ);
	dump_t *d = malloc(sizeof(dump_t));
	dump_now(d);
	double P = 65536.0;
	check(d->period == 65536, "period %" PRIu64, d->period);
	double p = 1.0 - exp(-(double)SZ / P);
	double mean = N * p, sd = sqrt(N * p * (1 - p));
	uint64_t got = site_objs(d, SITE_T);
	check(fabs((double)got - mean) < 5 * sd, "sampled %" PRIu64
	    " objects, expected %.0f +- %.0f", got, mean, sd);
	if (got > 0) {
		double est = (double)site_bytes(d, SITE_T) / (1.0 - exp(
		    -((double)site_bytes(d, SITE_T) / got) / P));
		check(fabs(est - (double)N * SZ) < 0.2 * N * SZ,
		    "unsampled estimate %.0f vs %d", est, N * SZ);
	}
	test_note("rate: %" PRIu64 " of %d objects sampled (expected %.0f)",
	    got, N, mean);
	for (int i = 0; i < N; i++)
		free(v[i]);
	free(v);
	free(d);
}

static void
child_reset(void) {
	void *v[10], *w[5];
	dump_t *d = malloc(sizeof(dump_t));
	site_a(v, 10);
	dump_now(d);
	check(site_objs(d, SITE_A) == 10, "before reset: %" PRIu64,
	    site_objs(d, SITE_A));
	check(mallctl("prof.reset", NULL, NULL, NULL, 0) == 0, "prof.reset");
	dump_now(d);
	check(d->all.objs == 0 && d->nrecords == 0, "after reset: %" PRIu64
	    " objects in %u records", d->all.objs, d->nrecords);
	site_b(w, 5);
	dump_now(d);
	check(site_objs(d, SITE_B) == 5 && site_objs(d, SITE_A) == 0,
	    "new samples only");
	for (int i = 0; i < 10; i++)
		free(v[i]);
	dump_now(d);
	check(site_objs(d, SITE_B) == 5, "old frees leave new records");
	for (int i = 0; i < 5; i++)
		free(w[i]);
	size_t lg = 5;
	check(mallctl("prof.reset", NULL, NULL, &lg, sizeof(lg)) == 0,
	    "prof.reset(5)");
	check(get_zu("prof.lg_sample") == 5, "prof.lg_sample 5");
	lg = 70;
	check(mallctl("prof.reset", NULL, NULL, &lg, sizeof(lg)) == 0,
	    "prof.reset(70)");
	check(get_zu("prof.lg_sample") == 63, "clipped to 63");
	check(get_zu("opt.lg_prof_sample") == 0, "opt unchanged");
	size_t old, sz = sizeof(old);
	check(mallctl("prof.reset", &old, &sz, NULL, 0) == EPERM,
	    "prof.reset is write-only");
	check(mallctl("prof.reset", NULL, NULL, &lg, 4) == EINVAL,
	    "prof.reset: wrong newlen");
	free(d);
}

static void *
inactive_thread(void *arg) {
	check(!get_b("thread.prof.active"), "new thread inherits false");
	void *v[4];
	site_c(v, 4);
	for (int i = 0; i < 4; i++)
		free(v[i]);
	return arg;
}

static void
child_active(void) {
	void *v[10];
	dump_t *d = malloc(sizeof(dump_t));
	check(get_b("prof.active") && get_b("opt.prof_active"), "active");
	set_b("prof.active", false);
	site_a(v, 10);
	dump_now(d);
	check(site_objs(d, SITE_A) == 0, "prof.active false: none sampled");
	for (int i = 0; i < 10; i++)
		free(v[i]);
	set_b("prof.active", true);
	set_b("thread.prof.active", false);
	check(!get_b("thread.prof.active"), "thread.prof.active reads false");
	site_a(v, 10);
	dump_now(d);
	check(site_objs(d, SITE_A) == 0, "thread inactive: none sampled");
	for (int i = 0; i < 10; i++)
		free(v[i]);
	set_b("thread.prof.active", true);
	site_a(v, 10);
	dump_now(d);
	check(site_objs(d, SITE_A) == 10, "active again: %" PRIu64,
	    site_objs(d, SITE_A));
	for (int i = 0; i < 10; i++)
		free(v[i]);
	bool old = true;
	size_t sz = sizeof(old);
	bool f = false;
	check(mallctl("prof.thread_active_init", &old, &sz, &f, sizeof(f)) ==
	    0 && old, "prof.thread_active_init old value");
	pthread_t t;
	pthread_create(&t, NULL, inactive_thread, NULL);
	pthread_join(t, NULL);
	site_c(v, 0);
	dump_now(d);
	check(site_objs(d, SITE_C) == 0, "inactive thread sampled nothing");
	check(mallctl("prof.active", NULL, NULL, &f, 2) == EINVAL,
	    "prof.active wrong newlen");
	free(d);
}

static void *v_named[3];

static void *
named_thread(void *arg) {
	const char *name = "worker one";
	check(mallctl("thread.prof.name", NULL, NULL, &name, sizeof(name)) ==
	    0, "set thread.prof.name");
	const char *got = NULL;
	size_t sz = sizeof(got);
	check(mallctl("thread.prof.name", &got, &sz, NULL, 0) == 0 && got !=
	    NULL && strcmp(got, "worker one") == 0, "read the name back");
	check(mallctl("thread.prof.name", &got, &sz, &name, sizeof(name)) ==
	    EPERM, "read and write in one call");
	const char *bad = "two\nlines";
	check(mallctl("thread.prof.name", NULL, NULL, &bad, sizeof(bad)) ==
	    EFAULT, "a newline is refused");
	const char *null = NULL;
	check(mallctl("thread.prof.name", NULL, NULL, &null, sizeof(null)) ==
	    EFAULT, "NULL is refused");
	site_b(v_named, 3);
	return arg;
}

static void
child_names(void) {
	const char *got = NULL;
	size_t sz = sizeof(got);
	check(mallctl("thread.prof.name", &got, &sz, NULL, 0) == 0 && got !=
	    NULL && got[0] == '\0', "no name yet");
	pthread_t t;
	pthread_create(&t, NULL, named_thread, NULL);
	pthread_join(t, NULL);
	dump_t *d = malloc(sizeof(dump_t));
	dump_now(d);
	bool found = false;
	for (unsigned i = 0; i < d->nthreads; i++) {
		if (strcmp(d->thr_name[i], "worker one") == 0) {
			found = true;
			check(d->thr[i].objs == 3, "the named thread's 3 "
			    "objects: %" PRIu64, d->thr[i].objs);
		}
	}
	check(found, "the thread's name is in the dump");
	for (int i = 0; i < 3; i++)
		free(v_named[i]);
	free(d);
}

static int
count_files(const char *suffix_kind) {
	DIR *dir = opendir(dump_dir);
	int n = 0;
	if (dir == NULL)
		return 0;
	struct dirent *e;
	while ((e = readdir(dir)) != NULL) {
		if (strstr(e->d_name, suffix_kind) != NULL)
			n++;
	}
	closedir(dir);
	return n;
}

static void
child_interval(void) {
	/* 2^20-byte interval: 16 MiB of allocation, several dumps. */
	check(get_zu("prof.interval") == (1u << 20), "prof.interval");
	for (int i = 0; i < 4096; i++) {
		void *volatile p = malloc(4096);	/* not elided */
		free(p);
	}
	check(count_files(".i0.heap") == 1, "the first interval dump (i0)");
	check(count_files(".i") >= 8, "interval dumps: %d",
	    count_files(".i"));
}

static void
child_gdump(void) {
	check(get_b("prof.gdump"), "prof.gdump from opt");
	void *v[64];
	for (int i = 0; i < 64; i++)
		v[i] = malloc(1 << 20);
	int n = count_files(".u");
	check(n >= 4, "growth dumps: %d", n);
	set_b("prof.gdump", false);
	for (int i = 0; i < 64; i++)
		free(v[i]);
	for (int i = 0; i < 64; i++)
		v[i] = malloc(2 << 20);
	check(count_files(".u") == n, "no growth dumps once off");
	for (int i = 0; i < 64; i++)
		free(v[i]);
}

static void
child_leak(void) {
	char path[512];
	snprintf(path, sizeof(path), "%s/stderr", dump_dir);
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	dup2(fd, 2);
	close(fd);
	static void *leaked[7];
	site_c(leaked, 7);
	void *tmp[20];
	site_a(tmp, 20);
	for (int i = 0; i < 20; i++)
		free(tmp[i]);
}

static void
child_final(void) {
	static void *kept[3];
	site_a(kept, 3);
}

static void
child_fork(void) {
	void *v[5];
	site_a(v, 5);
	pid_t pid = fork();
	if (pid == 0) {
		child_failures = 0;
		void *w[3];
		site_a(w, 3);
		dump_t *d = malloc(sizeof(dump_t));
		dump_now(d);
		check(site_objs(d, SITE_A) == 8, "forked child: %" PRIu64,
		    site_objs(d, SITE_A));
		free(d);
		_exit(child_failures == 0 ? 0 : 1);
	}
	check(test_wait_child(pid) == 0, "forked child's checks");
	dump_t *d = malloc(sizeof(dump_t));
	dump_now(d);
	check(site_objs(d, SITE_A) == 5, "parent after fork: %" PRIu64,
	    site_objs(d, SITE_A));
	for (int i = 0; i < 5; i++)
		free(v[i]);
	free(d);
}

static void
child_alloca(void) {
	/* Different scratch sizes through the same return addresses. */
	for (unsigned i = 0; i < 200; i++) {
		caller_y(4096 + (i % 5) * 1024);
		caller_x(16 + (i % 7) * 512);
	}
	dump_t *d = malloc(sizeof(dump_t));
	dump_now(d);
	uint64_t x = 0, y = 0, other = 0;
	unsigned depth = 0;
	for (unsigned i = 0; i < d->nrecords; i++) {
		const record_t *r = &d->rec[i];
		if (!near_site(r->frames[0], SITE_V))
			continue;
		/* Both callers are called from here: the same depth. */
		if (depth == 0)
			depth = r->depth;
		if (r->depth != depth) {
			other += r->all.objs;
			continue;
		}
		if (r->nframes > 1 && near_site(r->frames[1], SITE_X))
			x += r->all.objs;
		else if (r->nframes > 1 && near_site(r->frames[1], SITE_Y))
			y += r->all.objs;
		else
			other += r->all.objs;
	}
	check(x == 200 && y == 200 && other == 0, "alloca frames: %" PRIu64
	    " via caller_x, %" PRIu64 " via caller_y, %" PRIu64 " elsewhere",
	    x, y, other);
	for (unsigned i = 0; i < v_n; i++)
		free(v_objs[i]);
	free(d);
}

/*
 * Threads in waves share a pool of sampled objects: each frees objects
 * that other threads (often ended ones) allocated, while the main thread
 * dumps.  Contexts are counted without the lock by the thread that owns
 * them and by frees from any thread; after the waves every object is
 * gone, and the counts say so.
 */
enum { W_THREADS = 4, W_WAVES = 3, W_ITERS = 3000, W_POOL = 256 };
static void *w_pool[W_POOL];
static pthread_mutex_t w_mtx = PTHREAD_MUTEX_INITIALIZER;
static unsigned w_seed = 1;
static bool w_done;	/* atomic */

static void *
w_worker(void *arg) {
	(void)arg;
	for (int i = 0; i < W_ITERS; i++) {
		void *v[4];
		site_w(v, 4);
		for (int j = 0; j < 4; j++) {
			pthread_mutex_lock(&w_mtx);
			w_seed = w_seed * 1103515245u + 12345u;
			unsigned k = (w_seed >> 8) % W_POOL;
			void *old = w_pool[k];
			w_pool[k] = v[j];
			pthread_mutex_unlock(&w_mtx);
			free(old);
		}
	}
	return NULL;
}

static void *
w_dumper(void *arg) {
	(void)arg;
	dump_t *d = malloc(sizeof(dump_t));
	unsigned n = 0;
	while (!__atomic_load_n(&w_done, __ATOMIC_ACQUIRE) && n < 50) {
		dump_now(d);	/* its parser checks records against totals */
		n++;
	}
	free(d);
	return NULL;
}

static void
child_threads(void) {
	/* The site's first call (probe() notes its address) before the
	 * threads call it. */
	void *first[4];
	site_w(first, 4);
	for (int i = 0; i < 4; i++)
		free(first[i]);
	pthread_t dumper;
	pthread_create(&dumper, NULL, w_dumper, NULL);
	for (int w = 0; w < W_WAVES; w++) {
		pthread_t t[W_THREADS];
		for (int i = 0; i < W_THREADS; i++)
			pthread_create(&t[i], NULL, w_worker, NULL);
		for (int i = 0; i < W_THREADS; i++)
			pthread_join(t[i], NULL);
	}
	__atomic_store_n(&w_done, true, __ATOMIC_RELEASE);
	pthread_join(dumper, NULL);
	dump_t *d = malloc(sizeof(dump_t));
	dump_now(d);
	uint64_t live = 0;
	for (int k = 0; k < W_POOL; k++)
		live += w_pool[k] != NULL;
	check(site_objs(d, SITE_W) == live, "pooled objects: %" PRIu64
	    " in the dump, %" PRIu64 " live", site_objs(d, SITE_W), live);
	for (int k = 0; k < W_POOL; k++) {
		free(w_pool[k]);
		w_pool[k] = NULL;
	}
	dump_now(d);
	check(site_objs(d, SITE_W) == 0 && site_bytes(d, SITE_W) == 0,
	    "all freed: %" PRIu64 " objects, %" PRIu64 " bytes left",
	    site_objs(d, SITE_W), site_bytes(d, SITE_W));
	/* A reset with contexts in the ended threads' and this thread's
	 * caches, then new samples. */
	check(mallctl("prof.reset", NULL, NULL, NULL, 0) == 0, "prof.reset");
	void *v[4];
	site_w(v, 4);
	dump_now(d);
	check(site_objs(d, SITE_W) == 4, "after the reset: %" PRIu64,
	    site_objs(d, SITE_W));
	for (int i = 0; i < 4; i++)
		free(v[i]);
	free(d);
}

static void
child_off(void) {
	check(!get_b("opt.prof"), "opt.prof false");
	check(mallctl("prof.dump", NULL, NULL, NULL, 0) == EFAULT,
	    "prof.dump without prof:true is EFAULT");
	const char *name = "x";
	check(mallctl("thread.prof.name", NULL, NULL, &name, sizeof(name)) ==
	    0, "thread names work anyway");
	void *p = malloc(100);
	check(malloc_usable_size(p) == 112, "no promotion");
	free(p);
}

static void
child_dump_errors(void) {
	const char *bad = "/nonexistent-dir/x.heap";
	check(mallctl("prof.dump", NULL, NULL, &bad, sizeof(bad)) == EFAULT,
	    "prof.dump to a missing directory is EFAULT");
	const char *name = NULL;
	size_t sz = sizeof(name);
	check(mallctl("prof.dump", &name, &sz, NULL, 0) == EPERM,
	    "prof.dump is write-only");
	/* NULL: <prefix>.<pid>.<seq>.m<mseq>.heap, the default prefix in the
	 * current directory. */
	check(chdir(dump_dir) == 0, "chdir");
	check(mallctl("prof.dump", NULL, NULL, NULL, 0) == 0, "prof.dump()");
	check(mallctl("prof.dump", NULL, NULL, NULL, 0) == 0, "prof.dump()");
	char want[64];
	snprintf(want, sizeof(want), "jeprof.%d.0.m0.heap", (int)getpid());
	check(access(want, F_OK) == 0, "%s written", want);
	snprintf(want, sizeof(want), "jeprof.%d.1.m1.heap", (int)getpid());
	check(access(want, F_OK) == 0, "%s written", want);
	const char *prefix = NULL;
	sz = sizeof(prefix);
	check(mallctl("opt.prof_prefix", &prefix, &sz, NULL, 0) == 0 &&
	    strcmp(prefix, "jeprof") == 0, "default prefix");
}

static const struct {
	const char *name;
	void (*fn)(void);
} scenarios[] = {
	{"sites", child_sites}, {"rate", child_rate}, {"reset", child_reset},
	{"active", child_active}, {"names", child_names},
	{"interval", child_interval}, {"gdump", child_gdump},
	{"leak", child_leak}, {"final", child_final}, {"fork", child_fork},
	{"off", child_off}, {"dump_errors", child_dump_errors},
	{"alloca", child_alloca}, {"threads", child_threads},
};

static int
child_main(const char *scenario) {
	const char *dir = getenv("PROF_TEST_DIR");
	snprintf(dump_dir, sizeof(dump_dir), "%s", dir != NULL ? dir : "/tmp");
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		if (strcmp(scenarios[i].name, scenario) == 0) {
			scenarios[i].fn();
			return child_failures == 0 ? 0 : 1;
		}
	}
	fprintf(stderr, "unknown scenario %s\n", scenario);
	return 2;
}

/* --- the parent ------------------------------------------------------------------- */

static char case_dir[256];

static bool
prof_built(void) {
	bool v = false;
	size_t sz = sizeof(v);
	return mallctl("config.prof", &v, &sz, NULL, 0) == 0 && v;
}

/* Runs a scenario in a fresh directory; conf may name it as %s. */
static int
run_scenario(const char *scenario, const char *conf_fmt) {
	snprintf(case_dir, sizeof(case_dir), "/tmp/prof_test.XXXXXX");
	if (mkdtemp(case_dir) == NULL)
		return -1;
	char conf[1024];
	snprintf(conf, sizeof(conf), conf_fmt, case_dir);
	setenv("PROF_TEST_DIR", case_dir, 1);
	return test_run_self("prof", scenario, conf);
}

static void
cleanup_dir(void) {
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", case_dir);
	if (system(cmd) != 0)
		test_note("could not remove %s", case_dir);
}

#define PROF_CASE(fn, scenario, conf)					\
TEST(fn) {								\
	if (!prof_built())						\
		test_skip("built without --enable-prof");		\
	expect_d_eq(run_scenario(scenario, conf), 0, "scenario %s",	\
	    scenario);							\
	cleanup_dir();							\
}

PROF_CASE(test_sites, "sites", "prof:true,lg_prof_sample:0%.0s")
PROF_CASE(test_rate, "rate", "prof:true,lg_prof_sample:16%.0s")
PROF_CASE(test_reset, "reset", "prof:true,lg_prof_sample:0%.0s")
PROF_CASE(test_active, "active", "prof:true,lg_prof_sample:0%.0s")
PROF_CASE(test_names, "names", "prof:true,lg_prof_sample:0%.0s")
PROF_CASE(test_interval, "interval",
    "prof:true,lg_prof_sample:12,lg_prof_interval:20,prof_prefix:%s/p")
PROF_CASE(test_gdump, "gdump", "prof:true,prof_gdump:true,prof_prefix:%s/p")
PROF_CASE(test_fork, "fork", "prof:true,lg_prof_sample:0%.0s")
PROF_CASE(test_off, "off", "prof:false%.0s")
PROF_CASE(test_alloca, "alloca", "prof:true,lg_prof_sample:0%.0s")
PROF_CASE(test_threads, "threads", "prof:true,lg_prof_sample:0%.0s")
/* abort:false: debug builds abort on a failed dump otherwise (5.1.0). */
PROF_CASE(test_dump_errors, "dump_errors", "prof:true,abort:false%.0s")

static bool
dir_has(const char *dir, const char *suffix) {
	DIR *d = opendir(dir);
	bool found = false;
	struct dirent *e;
	while (d != NULL && (e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name), m = strlen(suffix);
		if (n >= m && strcmp(e->d_name + n - m, suffix) == 0)
			found = true;
	}
	if (d != NULL)
		closedir(d);
	return found;
}

TEST(test_final) {
	if (!prof_built())
		test_skip("built without --enable-prof");
	expect_d_eq(run_scenario("final",
	    "prof:true,prof_final:true,prof_prefix:%s/p"), 0, "final");
	expect_true(dir_has(case_dir, ".0.f.heap"), "a .f.heap at exit in %s",
	    case_dir);
	cleanup_dir();
	/* An empty prefix turns the file off. */
	expect_d_eq(run_scenario("final", "prof:true,prof_final:true,"
	    "prof_prefix:%.0s"), 0, "final, empty prefix");
	cleanup_dir();
}

TEST(test_leak) {
	if (!prof_built())
		test_skip("built without --enable-prof");
	expect_d_eq(run_scenario("leak", "prof:true,prof_leak:true,"
	    "prof_final:true,lg_prof_sample:0,prof_prefix:%s/p"), 0, "leak");
	char path[512], text[4096] = "";
	snprintf(path, sizeof(path), "%s/stderr", case_dir);
	FILE *f = fopen(path, "r");
	if (f != NULL) {
		size_t n = fread(text, 1, sizeof(text) - 1, f);
		text[n] = '\0';
		fclose(f);
	}
	unsigned long long bytes = 0, objs = 0;
	size_t ctx = 0;
	const char *s = strstr(text, "<jemalloc>: Leak approximation summary: ~");
	expect_ptr_not_null(s, "leak summary in: %s", text);
	if (s != NULL) {
		expect_d_eq(sscanf(s, "<jemalloc>: Leak approximation summary: ~%llu"
		    " bytes, ~%llu objects, >= %zu context", &bytes, &objs,
		    &ctx), 3, "summary format: %s", s);
		/* The 7 objects of 1 KiB leaked by site_c, and whatever the
		 * C library kept. */
		expect_true(bytes >= 7 * 1024 && objs >= 7 && ctx >= 1,
		    "summary counts: %s", s);
	}
	expect_ptr_not_null(strstr(text, "<jemalloc>: Run jeprof on \""),
	    "how to see the leaks: %s", text);
	expect_ptr_not_null(strstr(text, ".f.heap\" for leak detail"),
	    "names the final dump: %s", text);
	expect_true(dir_has(case_dir, ".f.heap"), "the final dump exists");
	cleanup_dir();

	/* prof_leak alone (it turns profiling on): the summary, and how to
	 * get a dump, since none is written. */
	expect_d_eq(run_scenario("leak", "prof_leak:true,lg_prof_sample:0,"
	    "prof_prefix:%s/p"), 0, "leak without prof_final");
	text[0] = '\0';
	snprintf(path, sizeof(path), "%s/stderr", case_dir);
	f = fopen(path, "r");
	if (f != NULL) {
		size_t n = fread(text, 1, sizeof(text) - 1, f);
		text[n] = '\0';
		fclose(f);
	}
	expect_ptr_not_null(strstr(text,
	    "<jemalloc>: Leak approximation summary: ~"), "summary: %s", text);
	expect_ptr_not_null(strstr(text, "Set prof_final:true"),
	    "how to get the details: %s", text);
	expect_false(dir_has(case_dir, ".heap"), "no dump without prof_final");
	cleanup_dir();
}

int
main(int argc, char **argv) {
	if (argc > 1)
		return child_main(argv[1]);
	return test_run(
	    TEST_CASE(test_sites),
	    TEST_CASE(test_rate),
	    TEST_CASE(test_reset),
	    TEST_CASE(test_active),
	    TEST_CASE(test_names),
	    TEST_CASE(test_interval),
	    TEST_CASE(test_gdump),
	    TEST_CASE(test_final),
	    TEST_CASE(test_leak),
	    TEST_CASE(test_fork),
	    TEST_CASE(test_off),
	    TEST_CASE(test_alloca),
	    TEST_CASE(test_threads),
	    TEST_CASE(test_dump_errors));
}
