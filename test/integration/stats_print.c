/*
 * malloc_stats_print() (facts §2.1): the text report's header and footer,
 * its sections and what each option letter of "gmdablx" removes, the
 * malloc_message fallback for a NULL callback, JSON output that parses for
 * every combination of options (a small validator below), and printing
 * that leaves the allocation statistics as they were.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JEMALLOC_MANGLE
#include <jemalloc/jemalloc.h>

#include "test.h"
#include "test_ctl.h"

/* Calls the compiler cannot pair up and delete. */
static void *(*volatile vmalloc)(size_t) = malloc;
static void (*volatile vfree)(void *) = free;

/* --- capturing the output without allocating ------------------------------ */

#define OUT_MAX (16u << 20)
static char out[OUT_MAX];
static size_t out_len;
static bool out_overflow;
static unsigned out_calls;

static void
out_cb(void *opaque, const char *s) {
	size_t n = strlen(s);
	out_calls++;
	if (opaque != (void *)&out_len)
		out_overflow = true;	/* wrong cbopaque: make it fail */
	if (out_len + n >= OUT_MAX) {
		out_overflow = true;
		return;
	}
	memcpy(out + out_len, s, n);
	out_len += n;
	out[out_len] = '\0';
}

static void
print(const char *opts) {
	out_len = 0;
	out[0] = '\0';
	out_overflow = false;
	out_calls = 0;
	malloc_stats_print(out_cb, &out_len, opts);
	if (out_overflow)
		test_fail_at(__FILE__, __LINE__, "output of \"%s\" lost",
		    opts != NULL ? opts : "(null)");
}

static bool
has(const char *s) {
	return strstr(out, s) != NULL;
}

/* --- a small JSON validator ----------------------------------------------- */

typedef struct {
	const char *p;
	unsigned depth;
	const char *err;
} json_t;

static void
json_ws(json_t *j) {
	while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' ||
	    *j->p == '\r')
		j->p++;
}

static bool json_value(json_t *j);

static bool
json_fail(json_t *j, const char *why) {
	if (j->err == NULL)
		j->err = why;
	return false;
}

static bool
json_string(json_t *j) {
	if (*j->p != '"')
		return json_fail(j, "string expected");
	j->p++;
	for (;;) {
		unsigned char c = (unsigned char)*j->p;
		if (c == '\0' || c < 0x20)
			return json_fail(j, "bad character in string");
		j->p++;
		if (c == '"')
			return true;
		if (c != '\\')
			continue;
		c = (unsigned char)*j->p++;
		if (c == 'u') {
			for (int i = 0; i < 4; i++, j->p++) {
				char h = *j->p;
				if (!((h >= '0' && h <= '9') || (h >= 'a' &&
				    h <= 'f') || (h >= 'A' && h <= 'F')))
					return json_fail(j, "bad \\u escape");
			}
		} else if (strchr("\"\\/bfnrt", c) == NULL || c == '\0') {
			return json_fail(j, "bad escape");
		}
	}
}

static bool
json_digits(json_t *j) {
	if (*j->p < '0' || *j->p > '9')
		return json_fail(j, "digit expected");
	while (*j->p >= '0' && *j->p <= '9')
		j->p++;
	return true;
}

static bool
json_number(json_t *j) {
	if (*j->p == '-')
		j->p++;
	if (*j->p == '0')
		j->p++;
	else if (!json_digits(j))
		return false;
	if (*j->p == '.') {
		j->p++;
		if (!json_digits(j))
			return false;
	}
	if (*j->p == 'e' || *j->p == 'E') {
		j->p++;
		if (*j->p == '+' || *j->p == '-')
			j->p++;
		if (!json_digits(j))
			return false;
	}
	return true;
}

static bool
json_container(json_t *j, char close) {
	j->p++;
	if (++j->depth > 64)
		return json_fail(j, "too deep");
	json_ws(j);
	if (*j->p == close) {
		j->p++;
		j->depth--;
		return true;
	}
	for (;;) {
		json_ws(j);
		if (close == '}') {
			if (!json_string(j))
				return false;
			json_ws(j);
			if (*j->p++ != ':')
				return json_fail(j, "':' expected");
		}
		if (!json_value(j))
			return false;
		json_ws(j);
		if (*j->p == ',') {
			j->p++;
			continue;
		}
		if (*j->p == close) {
			j->p++;
			j->depth--;
			return true;
		}
		return json_fail(j, "',' or close expected");
	}
}

static bool
json_value(json_t *j) {
	json_ws(j);
	switch (*j->p) {
	case '{': return json_container(j, '}');
	case '[': return json_container(j, ']');
	case '"': return json_string(j);
	case 't':
		if (strncmp(j->p, "true", 4) != 0)
			return json_fail(j, "bad literal");
		j->p += 4;
		return true;
	case 'f':
		if (strncmp(j->p, "false", 5) != 0)
			return json_fail(j, "bad literal");
		j->p += 5;
		return true;
	case 'n':
		if (strncmp(j->p, "null", 4) != 0)
			return json_fail(j, "bad literal");
		j->p += 4;
		return true;
	default:
		return json_number(j);
	}
}

/* The whole text is one JSON object (and trailing white space). */
static const char *
json_check(const char *s, size_t *at) {
	json_t j = {s, 0, NULL};
	json_ws(&j);
	if (*j.p != '{') {
		j.err = "not an object";
	} else if (json_value(&j)) {
		json_ws(&j);
		if (*j.p != '\0')
			j.err = "trailing text";
	}
	*at = (size_t)(j.p - s);
	return j.err;
}

TEST(test_json_validator) {
	size_t at;
	expect_ptr_null(json_check("{\"a\": [1, -2.5e3, true, null, "
	    "{\"b\\n\": \"\\u00e9\"}], \"c\": {}}\n", &at), "valid");
	expect_ptr_not_null(json_check("{\"a\": 1,}", &at), "trailing comma");
	expect_ptr_not_null(json_check("{\"a\": 1 \"b\": 2}", &at), "comma");
	expect_ptr_not_null(json_check("{\"a\": [1, 2}", &at), "bracket");
	expect_ptr_not_null(json_check("{\"a\": 01}", &at), "leading zero");
	expect_ptr_not_null(json_check("{\"a\": \"x}", &at), "open string");
	expect_ptr_not_null(json_check("{} {}", &at), "two values");
}

/* --- a second arena, so the merged view is printed ------------------------ */

static void *
arena1_thread(void *arg) {
	unsigned ind = 1;
	int *err = arg;
	*err = mallctl("thread.arena", NULL, NULL, &ind, sizeof(ind));
	void *p = vmalloc(100);
	void *q = vmalloc(50000);
	vfree(p);
	vfree(q);
	return NULL;
}

/* Returns the number of initialised arenas after trying for two. */
static unsigned
two_arenas(void) {
	unsigned narenas = 0;
	size_t sz = sizeof(narenas);
	if (mallctl("arenas.narenas", &narenas, &sz, NULL, 0) != 0)
		return 0;
	if (narenas >= 2) {
		pthread_t t;
		int err = 0;
		if (pthread_create(&t, NULL, arena1_thread, &err) == 0)
			pthread_join(t, NULL);
	}
	vfree(vmalloc(10));
	unsigned n = 0;
	for (unsigned i = 0; i < narenas; i++) {
		bool init = false;
		char name[64];
		snprintf(name, sizeof(name), "arena.%u.initialized", i);
		sz = sizeof(init);
		if (mallctl(name, &init, &sz, NULL, 0) == 0 && init)
			n++;
	}
	return n;
}

/* --- text ----------------------------------------------------------------- */

TEST(test_header_footer) {
	print(NULL);
	const char *begin = "___ Begin jemalloc statistics ___\n";
	const char *end = "--- End jemalloc statistics ---\n";
	expect_d_eq(strncmp(out, begin, strlen(begin)), 0, "header first");
	expect_true(out_len >= strlen(end) && strcmp(out + out_len -
	    strlen(end), end) == 0, "footer last");
	expect_true(out_calls >= 1, "the callback was called");
	print("");
	expect_d_eq(strncmp(out, begin, strlen(begin)), 0, "empty opts");
}

TEST(test_sections) {
	unsigned ninit = two_arenas();
	print("");
	expect_true(has("Version: \""), "version");
	expect_true(has("Build-time option settings\n"), "config");
	expect_true(has("  config.stats: "), "config.stats");
	expect_true(has("Run-time option settings\n"), "opt");
	expect_true(has("  opt.narenas: "), "opt.narenas");
	expect_true(has("\nArenas: "), "arenas");
	expect_true(has("\nQuantum size: 16\n"), "quantum");
	expect_true(has("\nPage size: "), "page");
	unsigned narenas = 0;
	size_t sz = sizeof(narenas);
	assert_d_eq(mallctl("arenas.narenas", &narenas, &sz, NULL, 0), 0, "");
	char line[64];
	snprintf(line, sizeof(line), "\nArenas: %u\n", narenas);
	expect_true(has(line), "%s", line);
	if (!config_stats_on()) {
		expect_false(has("Allocated: "), "no statistics");
		return;
	}
	expect_true(has("\nAllocated: "), "global stats");
	expect_true(has(", active: ") && has(", metadata: ") &&
	    has(", resident: ") && has(", mapped: ") && has(", retained: "),
	    "global stats line");
	expect_true(has("\nBackground threads: "), "background threads");
	expect_true(has("n_lock_ops"), "mutex tables");
	expect_true(has("\nctl "), "ctl mutex row");
	expect_true(has("\narenas[0]:\n"), "arena 0");
	expect_true(has("\nassigned threads: "), "");
	expect_true(has("\nuptime: "), "");
	expect_true(has("\ndss allocation precedence: "), "");
	expect_true(has("\ndecaying:  time       npages       sweeps"), "");
	expect_true(has("\n   dirty: "), "");
	expect_true(has("\nsmall: ") && has("\nlarge: ") && has("\ntotal: "),
	    "request table");
	expect_true(has("\ntcache_bytes: "), "");
	expect_true(has("\nresident: "), "");
	expect_true(has("\nextents_dirty "), "arena mutex row");
	expect_true(has("\nbins:           size ind    allocated"), "bins");
	expect_true(has("\nlarge:          size ind    allocated"), "large");
	if (ninit >= 2)
		expect_true(has("\nMerged arenas stats:\n"), "merged");
	expect_false(has("Destroyed arenas stats:"), "nothing destroyed");
}

/* Each letter removes its own section and leaves the others. */
TEST(test_option_letters) {
	if (!config_stats_on())
		test_skip("built with --disable-stats");
	unsigned ninit = two_arenas();

	print("g");
	expect_false(has("Version:") || has("Build-time option settings") ||
	    has("Run-time option settings") || has("\nArenas: "), "g");
	expect_true(has("\nAllocated: ") && has("\narenas[0]:\n"), "g keeps");

	print("a");
	expect_false(has("\narenas["), "a: no per-arena sections");
	expect_true(has("\nMerged arenas stats:\n"),
	    "a: the merged view replaces them");
	expect_true(has("\nbins:") && has("\nlarge:  "), "a keeps the tables");

	print("m");
	expect_false(has("Merged arenas stats:"), "m");
	expect_true(has("\narenas[0]:\n"), "m keeps the arenas");

	print("ma");
	expect_false(has("Merged arenas stats:") || has("\narenas["), "ma");
	expect_true(has("\nAllocated: "), "ma keeps the globals");

	print("d");
	expect_false(has("Destroyed arenas stats:"), "d");

	print("b");
	expect_false(has("\nbins:"), "b");
	expect_true(has("\nlarge:          size"), "b keeps large");

	print("l");
	expect_false(has("\nlarge:          size"), "l");
	expect_true(has("\nbins:"), "l keeps bins");

	print("x");
	expect_false(has("n_lock_ops") || has("n_waiting"), "x");
	expect_true(has("\nbins:           size") && has("\nctl") == false,
	    "x: bins without mutex columns");

	print("gmdablx");
	expect_true(has("___ Begin jemalloc statistics ___\n") &&
	    has("--- End jemalloc statistics ---\n"), "frame stays");
	expect_true(has("\nAllocated: "), "globals stay");
	expect_false(has("\narenas[") || has("bins:") || has("n_lock_ops"),
	    "everything else goes");

	/* Unknown letters are ignored. */
	print("zq?");
	expect_true(has("\narenas[0]:\n"), "ignored letters");
	if (ninit >= 2) {
		print("");
		expect_true(has("\nMerged arenas stats:\n"), "merged shown");
	}
}

/* A NULL callback writes through malloc_message. */
TEST(test_null_callback) {
	void (*saved)(void *, const char *) = malloc_message;
	out_len = 0;
	out[0] = '\0';
	out_overflow = false;
	malloc_message = out_cb;
	malloc_stats_print(NULL, &out_len, "gx");
	malloc_message = saved;
	expect_false(out_overflow, "cbopaque passed on");
	expect_true(has("___ Begin jemalloc statistics ___\n") &&
	    has("--- End jemalloc statistics ---\n"), "via malloc_message");
}

/* Printing allocates nothing that stays (nor anything it counts). */
TEST(test_print_is_neutral) {
	if (!config_stats_on())
		test_skip("built with --disable-stats");
	uint64_t e = 1;
	size_t a0 = 0, a1 = 0, sz = sizeof(a0);
	print("");
	assert_d_eq(mallctl("epoch", NULL, NULL, &e, sizeof(e)), 0, "");
	assert_d_eq(mallctl("stats.allocated", &a0, &sz, NULL, 0), 0, "");
	print("J");
	print("");
	assert_d_eq(mallctl("epoch", NULL, NULL, &e, sizeof(e)), 0, "");
	assert_d_eq(mallctl("stats.allocated", &a1, &sz, NULL, 0), 0, "");
	expect_zu_eq(a0, a1, "stats.allocated unchanged by printing");
}

/* --- JSON ----------------------------------------------------------------- */

TEST(test_json_all_combinations) {
	two_arenas();
	const char letters[] = "gmdablx";
	for (unsigned mask = 0; mask < 128; mask++) {
		char opts[16] = "J";
		size_t n = 1;
		for (unsigned b = 0; b < 7; b++) {
			if (mask & (1u << b))
				opts[n++] = letters[b];
		}
		opts[n] = '\0';
		print(opts);
		size_t at = 0;
		const char *err = json_check(out, &at);
		if (err != NULL) {
			test_fail_at(__FILE__, __LINE__, "opts \"%s\": %s at "
			    "byte %zu: \"%.40s\"", opts, err, at, out + (at > 20
			    ? at - 20 : 0));
			return;
		}
		expect_false(has("Begin jemalloc"), "no text header in JSON");
		expect_true(has("\"jemalloc\": {"), "%s: top key", opts);
		bool g = mask & 1, b = mask & 16, l = mask & 32, x = mask & 64;
		expect_true(has("\"version\": ") == !g, "%s: version", opts);
		expect_true(has("\"config\": {") == !g, "%s: config", opts);
		if (!config_stats_on())
			continue;
		expect_true(has("\"stats\": {"), "%s: stats", opts);
		expect_true(has("\"mutexes\": {") == !x, "%s: mutexes", opts);
		bool arenas = has("\"0\": {") || has("\"merged\": {");
		if (arenas) {
			expect_true(has("\"bins\": [") == !b, "%s: bins", opts);
			expect_true(has("\"lextents\": [") == !l,
			    "%s: lextents", opts);
		}
	}
}

TEST(test_json_keys) {
	if (!config_stats_on())
		test_skip("built with --disable-stats");
	two_arenas();
	print("J");
	const char *keys[] = {
		"\"version\": \"", "\"config\": {", "\"malloc_conf\": ",
		"\"opt\": {", "\"narenas\": ", "\"arenas\": {",
		"\"quantum\": 16",
		"\"page\": ", "\"tcache_max\": ", "\"nbins\": ", "\"nhbins\": ",
		"\"bin\": [", "\"nregs\": ", "\"slab_size\": ",
		"\"nlextents\": ", "\"lextent\": [", "\"stats\": {",
		"\"allocated\": ", "\"active\": ", "\"metadata\": ",
		"\"metadata_thp\": ", "\"resident\": ", "\"mapped\": ",
		"\"retained\": ", "\"background_thread\": {",
		"\"num_threads\": ", "\"num_runs\": ", "\"run_interval\": ",
		"\"mutexes\": {", "\"ctl\": {", "\"prof\": {", "\"num_ops\": ",
		"\"num_wait\": ", "\"num_spin_acq\": ",
		"\"num_owner_switch\": ",
		"\"total_wait_time\": ", "\"max_wait_time\": ",
		"\"max_num_thds\": ", "\"stats.arenas\": {", "\"0\": {",
		"\"nthreads\": ", "\"uptime_ns\": ", "\"dss\": ",
		"\"dirty_decay_ms\": ", "\"muzzy_decay_ms\": ", "\"pactive\": ",
		"\"pdirty\": ", "\"pmuzzy\": ", "\"dirty_npurge\": ",
		"\"dirty_nmadvise\": ", "\"dirty_purged\": ",
		"\"muzzy_npurge\": ", "\"small\": {", "\"large\": {",
		"\"nmalloc\": ", "\"ndalloc\": ", "\"nrequests\": ",
		"\"base\": ",
		"\"internal\": ", "\"tcache_bytes\": ", "\"extent_avail\": {",
		"\"extents_retained\": {", "\"decay_muzzy\": {",
		"\"tcache_list\": {", "\"bins\": [", "\"curregs\": ",
		"\"nfills\": ", "\"nflushes\": ", "\"nslabs\": ",
		"\"nreslabs\": ", "\"curslabs\": ", "\"mutex\": {",
		"\"lextents\": [", "\"curlextents\": ",
	};
	for (unsigned i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		expect_true(has(keys[i]), "key %s", keys[i]);
}

int
main(void) {
	return test_run(
	    TEST_CASE(test_json_validator),
	    TEST_CASE(test_header_footer),
	    TEST_CASE(test_sections),
	    TEST_CASE(test_option_letters),
	    TEST_CASE(test_null_callback),
	    TEST_CASE(test_print_is_neutral),
	    TEST_CASE(test_json_all_combinations),
	    TEST_CASE(test_json_keys));
}
