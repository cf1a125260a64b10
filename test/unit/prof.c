/*
 * The heap profiler's sampling interval (--enable-prof builds; skipped
 * otherwise): the bytes between samples are geometric with p =
 * 2^-lg_prof_sample, so over many draws
 *   mean      = 2^lg                      (within 1.5%)
 *   stddev    = sqrt(1 - p) / p ~ 2^lg    (within 3%)
 *   P(X <= mean) = 1 - (1 - p)^mean ~ 1 - 1/e   (within 0.01)
 *   min >= 1, and every value is 1 at lg_prof_sample 0.
 * The draws use the calling thread's PRNG, which the profiler sets up when
 * the thread first asks for its profiling state (thread.prof.active).
 */
#include "jemalloc_internal.h"
#include "prof.h"
#include "tsd.h"

#include "test.h"

#include <math.h>

static void
check_lg(tsd_t *tsd, size_t lg) {
	enum { N = 200000 };
	size_t saved = lg_prof_sample;
	lg_prof_sample = lg;
	double mean_expected = (double)((uint64_t)1 << lg);
	double p = 1.0 / mean_expected;
	double sd_expected = sqrt(1.0 - p) / p;
	double sum = 0, sumsq = 0;
	uint64_t min = UINT64_MAX;
	unsigned below = 0;
	for (unsigned i = 0; i < N; i++) {
		uint64_t v = prof_sample_interval_draw(tsd);
		sum += (double)v;
		sumsq += (double)v * (double)v;
		if (v < min)
			min = v;
		if ((double)v <= mean_expected)
			below++;
	}
	lg_prof_sample = saved;
	double mean = sum / N;
	double sd = sqrt(sumsq / N - mean * mean);
	double frac = (double)below / N;
	double frac_expected = 1.0 - pow(1.0 - p, floor(mean_expected));
	test_note("lg %zu: mean %.1f (expected %.1f), sd %.1f (%.1f), "
	    "P(<= mean) %.4f (%.4f), min %" PRIu64, lg, mean, mean_expected,
	    sd, sd_expected, frac, frac_expected, min);
	expect_true(fabs(mean / mean_expected - 1.0) < 0.015,
	    "lg %zu: mean %.1f vs %.1f", lg, mean, mean_expected);
	expect_true(fabs(sd / sd_expected - 1.0) < 0.03,
	    "lg %zu: sd %.1f vs %.1f", lg, sd, sd_expected);
	expect_true(fabs(frac - frac_expected) < 0.01,
	    "lg %zu: P(<= mean) %.4f vs %.4f", lg, frac, frac_expected);
	expect_true(min >= 1, "intervals are at least one byte");
}

TEST(test_interval_distribution) {
	if (!config_prof)
		test_skip("built without --enable-prof");
	/* Creates the thread's profiling state (and its PRNG). */
	bool active;
	size_t sz = sizeof(active);
	expect_d_eq(je_mallctl("thread.prof.active", &active, &sz, NULL, 0), 0,
	    "thread.prof.active");
	tsd_t *tsd = tsd_fetch();
	check_lg(tsd, 4);
	check_lg(tsd, 10);
	check_lg(tsd, 19);
	size_t saved = lg_prof_sample;
	lg_prof_sample = 0;
	bool all_one = true;
	for (unsigned i = 0; i < 1000; i++)
		all_one &= prof_sample_interval_draw(tsd) == 1;
	lg_prof_sample = saved;
	expect_true(all_one, "lg_prof_sample 0 samples every byte");
}

int
main(void) {
	return test_run(TEST_CASE(test_interval_distribution));
}
