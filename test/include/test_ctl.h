/*
 * Helpers of the tests that read mallctls and wait on time: whether
 * statistics are built in, the memory-limit footprint, a manual arena
 * with given decay times, a monotonic clock in milliseconds, a sleep.
 * No asserts: children of fork use them too.  Include after
 * <jemalloc/jemalloc.h> (with JEMALLOC_MANGLE), so that mallctl names
 * the library's under any prefix.
 */
#ifndef TEST_CTL_H
#define TEST_CTL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

/* config.stats (false when it cannot be read). */
static inline bool
config_stats_on(void) {
	bool v = false;
	size_t sz = sizeof(v);
	return mallctl("config.stats", &v, &sz, NULL, 0) == 0 && v;
}

/* mem_limit.footprint (0 when it cannot be read). */
static inline size_t
footprint(void) {
	size_t v = 0, sz = sizeof(v);
	if (mallctl("mem_limit.footprint", &v, &sz, NULL, 0) != 0)
		return 0;
	return v;
}

/* A manual arena with the given decay times, or UINT32_MAX. */
static inline unsigned
arena_make(ssize_t dirty_ms, ssize_t muzzy_ms) {
	unsigned ind;
	size_t sz = sizeof(ind);
	if (mallctl("arenas.create", &ind, &sz, NULL, 0) != 0)
		return UINT32_MAX;
	char name[64];
	snprintf(name, sizeof(name), "arena.%u.dirty_decay_ms", ind);
	if (mallctl(name, NULL, NULL, &dirty_ms, sizeof(dirty_ms)) != 0)
		return UINT32_MAX;
	snprintf(name, sizeof(name), "arena.%u.muzzy_decay_ms", ind);
	if (mallctl(name, NULL, NULL, &muzzy_ms, sizeof(muzzy_ms)) != 0)
		return UINT32_MAX;
	return ind;
}

static inline uint64_t
now_ms(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static inline void
sleep_ms(unsigned ms) {
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

#endif
