/*
 * Helpers shared by the API tests (malloc, mallocx, calloc, realloc,
 * aligned, usable_size, cpp_operators) and the threaded ones (threads,
 * churn, fork, mallctl_race, stress): values hidden from the optimizer,
 * the size classes of facts §5.1 computed independently of the library,
 * and a position-dependent byte pattern to fill blocks and check them
 * (byte i depends only on seed and i, so any prefix of a block can be
 * checked after it moved).  C and C++.
 */
#ifndef TEST_ALLOC_H
#define TEST_ALLOC_H

#include <dlfcn.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Hides a value from the optimizer so that calls are neither folded nor
 * elided. */
static inline size_t
opaque(size_t x) {
	__asm__ volatile("" : "+r"(x));
	return x;
}

static inline void *
escape(void *p) {
	__asm__ volatile("" : : "r"(p) : "memory");
	return p;
}

/* The size classes up to limit (at most max_n of them). */
static inline size_t
gen_classes(size_t *out, size_t max_n, size_t limit) {
	size_t n = 0;
	static const size_t first[] = {8, 16, 32, 48, 64};
	for (size_t i = 0; i < sizeof(first) / sizeof(first[0]); i++) {
		if (first[i] > limit || n == max_n)
			return n;
		out[n++] = first[i];
	}
	for (unsigned k = 6; k < 62; k++) {
		size_t d = (size_t)1 << (k - 2);
		for (size_t i = 1; i <= 4; i++) {
			size_t c = ((size_t)1 << k) + i * d;
			if (c > limit || n == max_n)
				return n;
			out[n++] = c;
		}
	}
	return n;
}

/* A small fast PRNG (xorshift64; *s must start non-zero). */
static inline uint64_t
xorshift(uint64_t *s) {
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static inline uint64_t
mix64(uint64_t x) {
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/* Byte i of the pattern: byte i % 8 of mix64(seed + i / 8). */
static inline void
fill(void *p, size_t n, uint64_t seed) {
	unsigned char *b = (unsigned char *)p;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w = mix64(seed + (i >> 3));
		memcpy(b + i, &w, 8);
	}
	for (; i < n; i++) {
		uint64_t w = mix64(seed + (i >> 3));
		b[i] = ((unsigned char *)&w)[i & 7];
	}
}

/* Offset of the first byte that differs from the pattern, or SIZE_MAX. */
static inline size_t
check(const void *p, size_t n, uint64_t seed) {
	const unsigned char *b = (const unsigned char *)p;
	for (size_t i = 0; i < n; i++) {
		if ((i & 7) == 0 && i + 8 <= n) {
			uint64_t w = mix64(seed + (i >> 3)), v;
			memcpy(&v, b + i, 8);
			if (v == w) {
				i += 7;
				continue;
			}
		}
		uint64_t w = mix64(seed + (i >> 3));
		if (b[i] != ((unsigned char *)&w)[i & 7])
			return i;
	}
	return SIZE_MAX;
}

/* Whether the library under test was built with a prefix (only an
 * unprefixed build exports plain "mallocx"). */
static inline bool
library_is_prefixed(void) {
	return dlsym(RTLD_DEFAULT, "mallocx") == NULL ||
	    dlsym(RTLD_DEFAULT, "je_malloc") != NULL;
}

/* True if fn lives in the library under test (not in libc). */
static inline bool
in_jemalloc(void *fn) {
	Dl_info info;
	if (fn == NULL || dladdr(fn, &info) == 0 || info.dli_fname == NULL)
		return false;
	return strstr(info.dli_fname, "libjemalloc") != NULL;
}

#endif
