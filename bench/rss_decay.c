/*
 * rss_decay: how fast an allocator gives freed memory back to the system
 * (issue 5).  Builds a heap of objects of mixed sizes (16 B .. 1 MiB,
 * log-uniform, every byte written), frees 90% of them in random order and
 * then samples the resident set size (/proc/self/statm) every 100 ms for
 * twice the decay time, while either
 *
 *   light   running lightly: every millisecond a few small malloc/free
 *           pairs that the thread cache serves, or
 *   sleep   sleeping (an idle process: only background threads can purge).
 *
 * Output (stdout) is CSV, "t_ms,rss_mib,live_mib", one row per sample,
 * t_ms counted from the end of the frees; lines starting with '#' describe
 * the run (allocator library, sizes, decay time, RSS before the frees).
 *
 *   rss_decay [--size-mib N | --quick] [--mode light|sleep]
 *             [--decay-ms N] [--duration-ms N] [--sample-ms N]
 *             [--free-pct N] [--ops-per-ms N] [--seed N]
 *
 * --size-mib   heap size to build (default 1024; --quick = 64)
 * --decay-ms   decay time; the sampling lasts twice this long.  Default:
 *              the allocator's opt.dirty_decay_ms if it has a mallctl
 *              (looked up with dlsym, so it runs under any allocator with
 *              LD_PRELOAD), else 10000.
 * --duration-ms  sampling time instead of 2 x decay time
 * --free-pct   percentage of the objects freed (default 90)
 * --ops-per-ms malloc/free pairs per millisecond in light mode (default 8)
 *
 * It uses only malloc/free (plus mallctl, if present, to read the decay
 * time), so its behaviour is the same under every allocator.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define MIB ((size_t)1 << 20)
#define MIN_SIZE ((size_t)16)
#define MAX_SIZE ((size_t)1 << 20)

/* xorshift64* with a splitmix64 seed. */
static uint64_t rng_state;

static void
rng_seed(uint64_t seed) {
	uint64_t z = seed + 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	rng_state = (z ^ (z >> 31)) | 1;
}

static uint64_t
rng_next(void) {
	uint64_t x = rng_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* Uniform in [0, 1). */
static double
rng_unit(void) {
	return (double)(rng_next() >> 11) * (1.0 / 9007199254740992.0);
}

/* Log-uniform in [MIN_SIZE, MAX_SIZE]: 2^(4 + 16 u). */
static size_t
rng_size(void) {
	double lg = 4.0 + 16.0 * rng_unit();
	/* 2^lg without libm: integer part by shift, fraction by a short
	 * series (accurate to well under 0.1%). */
	int ip = (int)lg;
	double f = lg - ip, ln2 = 0.6931471805599453, x = f * ln2;
	double frac = 1 + x * (1 + x / 2 * (1 + x / 3 * (1 + x / 4 * (1 + x /
	    5 * (1 + x / 6)))));
	size_t s = (size_t)((double)((size_t)1 << ip) * frac);
	if (s < MIN_SIZE)
		s = MIN_SIZE;
	if (s > MAX_SIZE)
		s = MAX_SIZE;
	return s;
}

static uint64_t
now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void
sleep_until(uint64_t t_ns) {
	struct timespec ts = {(time_t)(t_ns / 1000000000ULL),
	    (long)(t_ns % 1000000000ULL)};
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	    EINTR)
		;
}

/* Resident bytes from /proc/self/statm, read without stdio (which would
 * allocate). */
static size_t page_size;

static size_t
rss_bytes(void) {
	char buf[256];
	int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	char *p = buf;
	strtoull(p, &p, 10);		/* size */
	unsigned long long res = strtoull(p, &p, 10);
	return (size_t)res * page_size;
}

static double
mib(size_t bytes) {
	return (double)bytes / (double)MIB;
}

typedef int (mallctl_t)(const char *, void *, size_t *, void *, size_t);

/* The allocator's dirty decay time, or -2 if it has no mallctl. */
static long
allocator_decay_ms(const char **which) {
	mallctl_t *ctl = (mallctl_t *)dlsym(RTLD_DEFAULT, "mallctl");
	*which = "none";
	if (ctl == NULL)
		return -2;
	ssize_t v = 0;
	size_t sz = sizeof(v);
	if (ctl("opt.dirty_decay_ms", &v, &sz, NULL, 0) != 0)
		return -2;
	*which = "opt.dirty_decay_ms";
	return (long)v;
}

static void
describe_allocator(void) {
	Dl_info info;
	void *sym = dlsym(RTLD_DEFAULT, "malloc");
	if (sym != NULL && dladdr(sym, &info) != 0 && info.dli_fname != NULL)
		printf("# malloc from: %s\n", info.dli_fname);
	else
		printf("# malloc from: unknown\n");
	mallctl_t *ctl = (mallctl_t *)dlsym(RTLD_DEFAULT, "mallctl");
	if (ctl == NULL)
		return;
	const char *version = NULL;
	size_t sz = sizeof(version);
	if (ctl("version", &version, &sz, NULL, 0) == 0 && version != NULL)
		printf("# version: %s\n", version);
	ssize_t d = 0, m = 0;
	sz = sizeof(d);
	if (ctl("opt.dirty_decay_ms", &d, &sz, NULL, 0) == 0 &&
	    ctl("opt.muzzy_decay_ms", &m, &sz, NULL, 0) == 0)
		printf("# opt.dirty_decay_ms: %zd, opt.muzzy_decay_ms: %zd\n", d,
		    m);
	bool bg = false;
	sz = sizeof(bg);
	if (ctl("background_thread", &bg, &sz, NULL, 0) == 0)
		printf("# background_thread: %s\n", bg ? "true" : "false");
}

static void
usage(void) {
	fprintf(stderr, "usage: rss_decay [--size-mib N | --quick] "
	    "[--mode light|sleep] [--decay-ms N] [--duration-ms N] "
	    "[--sample-ms N] [--free-pct N] [--ops-per-ms N] [--seed N]\n");
	exit(2);
}

static long
num_arg(int argc, char **argv, int *i, long lo, long hi) {
	if (*i + 1 >= argc)
		usage();
	char *end;
	errno = 0;
	long v = strtol(argv[++*i], &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "bad value '%s' for %s\n", argv[*i],
		    argv[*i - 1]);
		exit(2);
	}
	return v;
}

int
main(int argc, char **argv) {
	size_t size_mib = 1024;
	int sleep_mode = 0;
	long decay_ms = -1, duration_ms = -1, sample_ms = 100, free_pct = 90;
	long ops_per_ms = 8, seed = 1;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			size_mib = 64;
		} else if (strcmp(argv[i], "--size-mib") == 0) {
			size_mib = (size_t)num_arg(argc, argv, &i, 1, 1 << 20);
		} else if (strcmp(argv[i], "--mode") == 0) {
			if (i + 1 >= argc)
				usage();
			i++;
			if (strcmp(argv[i], "sleep") == 0)
				sleep_mode = 1;
			else if (strcmp(argv[i], "light") == 0)
				sleep_mode = 0;
			else
				usage();
		} else if (strcmp(argv[i], "--decay-ms") == 0) {
			decay_ms = num_arg(argc, argv, &i, 1, 3600 * 1000);
		} else if (strcmp(argv[i], "--duration-ms") == 0) {
			duration_ms = num_arg(argc, argv, &i, 0, 3600 * 1000);
		} else if (strcmp(argv[i], "--sample-ms") == 0) {
			sample_ms = num_arg(argc, argv, &i, 1, 60000);
		} else if (strcmp(argv[i], "--free-pct") == 0) {
			free_pct = num_arg(argc, argv, &i, 0, 100);
		} else if (strcmp(argv[i], "--ops-per-ms") == 0) {
			ops_per_ms = num_arg(argc, argv, &i, 0, 100000);
		} else if (strcmp(argv[i], "--seed") == 0) {
			seed = num_arg(argc, argv, &i, 0, 1L << 62);
		} else {
			usage();
		}
	}
	page_size = (size_t)sysconf(_SC_PAGESIZE);
	const char *decay_src = "--decay-ms";
	if (decay_ms < 0) {
		decay_ms = allocator_decay_ms(&decay_src);
		if (decay_ms <= 0) {
			/* No mallctl, or decay off/immediate: 10 s window. */
			decay_src = "default";
			decay_ms = 10000;
		}
	}
	if (duration_ms < 0)
		duration_ms = 2 * decay_ms;

	describe_allocator();
	size_t rss0 = rss_bytes();

	/* Build the heap. */
	rng_seed((uint64_t)seed);
	size_t target = size_mib * MIB, total = 0, cap = 1024, n = 0;
	void **ptrs = malloc(cap * sizeof(void *));
	size_t *sizes = malloc(cap * sizeof(size_t));
	if (ptrs == NULL || sizes == NULL) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	uint64_t t_build = now_ns();
	while (total < target) {
		if (n == cap) {
			cap *= 2;
			ptrs = realloc(ptrs, cap * sizeof(void *));
			sizes = realloc(sizes, cap * sizeof(size_t));
			if (ptrs == NULL || sizes == NULL) {
				fprintf(stderr, "out of memory\n");
				return 1;
			}
		}
		size_t s = rng_size();
		void *p = malloc(s);
		if (p == NULL) {
			fprintf(stderr, "malloc(%zu) failed after %zu MiB\n", s,
			    total / MIB);
			return 1;
		}
		memset(p, (int)(n & 0xff) | 1, s);
		ptrs[n] = p;
		sizes[n] = s;
		n++;
		total += s;
	}
	size_t rss_full = rss_bytes();

	/* Free free_pct% of the objects in random order: shuffle the
	 * indices (Fisher-Yates) and free the first part. */
	size_t *order = malloc(n * sizeof(size_t));
	if (order == NULL) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = (size_t)(rng_next() % (i + 1));
		size_t t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	size_t nfree = (size_t)((double)n * (double)free_pct / 100.0);
	size_t live = total;
	for (size_t i = 0; i < nfree; i++) {
		size_t k = order[i];
		/* Check a byte so that the heap is known to be intact. */
		if (((unsigned char *)ptrs[k])[sizes[k] - 1] != ((k & 0xff) |
		    1)) {
			fprintf(stderr, "object %zu damaged\n", k);
			return 1;
		}
		free(ptrs[k]);
		ptrs[k] = NULL;
		live -= sizes[k];
	}
	uint64_t t0 = now_ns();

	printf("# mode: %s, heap: %zu objects, %.1f MiB requested "
	    "(16 B .. 1 MiB log-uniform), freed %zu objects (%ld%%) in random "
	    "order, live %.1f MiB\n", sleep_mode ? "sleep" : "light", n,
	    mib(total), nfree, free_pct, mib(live));
	printf("# decay_ms: %ld (%s), sampling every %ld ms for %ld ms, "
	    "%ld malloc/free pairs per ms in light mode\n", decay_ms,
	    decay_src, sample_ms, duration_ms, sleep_mode ? 0L : ops_per_ms);
	printf("# rss: %.1f MiB at start, %.1f MiB with the full heap (built "
	    "in %.2f s)\n", mib(rss0), mib(rss_full),
	    (double)(t0 - t_build) / 1e9);
	printf("t_ms,rss_mib,live_mib\n");
	fflush(stdout);

	/* Small objects for the light activity: a ring of 64 slots. */
	void *ring[64] = {NULL};
	unsigned ring_pos = 0;
	uint64_t next_sample = t0, end = t0 + (uint64_t)duration_ms * 1000000ULL;
	uint64_t ops = 0;
	for (;;) {
		uint64_t now = now_ns();
		if (now >= next_sample) {
			printf("%.0f,%.2f,%.2f\n", (double)(now - t0) / 1e6,
			    mib(rss_bytes()), mib(live));
			fflush(stdout);
			if (next_sample >= end)
				break;
			next_sample += (uint64_t)sample_ms * 1000000ULL;
			if (next_sample > end)
				next_sample = end;
		}
		if (sleep_mode) {
			sleep_until(next_sample);
			continue;
		}
		/* One millisecond of light work. */
		for (long k = 0; k < ops_per_ms; k++) {
			unsigned slot = ring_pos++ & 63;
			free(ring[slot]);
			size_t s = 16 + (size_t)(rng_next() % 241);
			ring[slot] = malloc(s);
			if (ring[slot] == NULL) {
				fprintf(stderr, "malloc(%zu) failed\n", s);
				return 1;
			}
			((char *)ring[slot])[0] = (char)k;
			ops++;
		}
		uint64_t next_ms = now + 1000000ULL;
		sleep_until(next_ms < next_sample ? next_ms : next_sample);
	}
	printf("# light-mode malloc/free pairs: %llu\n",
	    (unsigned long long)ops);

	for (unsigned i = 0; i < 64; i++)
		free(ring[i]);
	for (size_t i = 0; i < n; i++)
		free(ptrs[i]);
	free(order);
	free(sizes);
	free(ptrs);
	printf("# done OK\n");
	return 0;
}
