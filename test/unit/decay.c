/*
 * decay: the purge schedule of decay.c (facts §6.5), driven with a clock
 * the test supplies.
 *
 * - smootherstep_table: after decay_boot, h_steps is non-decreasing, ends
 *   at exactly 1 << 24, starts near 0, is symmetric (h(x) + h(1 - x) = 1)
 *   and matches 6x^5 - 15x^4 + 10x^3 within one unit; its discrete
 *   integral (sum / 200) is 1/2 within 1%.
 * - advance_deadline: no epoch advance before the deadline (which lies in
 *   [epoch + interval, epoch + 2 interval) because of the jitter), one at
 *   it.
 * - backlog_shift_and_limit: pages freed in one epoch enter backlog[199],
 *   move one slot per epoch, and the limit they allow follows the table
 *   (exactly (n * h[199 - k]) >> 24) down to 0 after 200 epochs; a second
 *   batch adds its own share; a jump of more than 200 epochs clears the
 *   backlog.
 * - clock_backwards: a clock earlier than the epoch restarts the epoch
 *   there without advancing or touching the backlog.
 * - ns_until_purge: UINT64_MAX for decay time -1 (and with nothing
 *   pending), 0 for decay time 0, finite and at most the decay time when
 *   pages are pending.
 */
#include "jemalloc_internal.h"
#include "decay.h"
#include "nstime.h"

#include "test.h"

#include <string.h>

#define H_ONE ((uint64_t)1 << SMOOTHSTEP_BFP)
#define NSTEPS SMOOTHSTEP_NSTEPS

static double
abs_d(double x) {
	return x < 0 ? -x : x;
}

/* Shared by the tests; only the fields decay.c reads are set up (no lock
 * is needed: the test is single-threaded and nothing here locks). */
static decay_t test_decay;

/* A fresh curve of decay_ms whose epoch starts at t0 on the test's clock.
 * decay_reinit takes the real clock; a t0 before it is a "clock went
 * backwards" event, which restarts the epoch at t0 (checked separately in
 * clock_backwards). */
static decay_t *
decay_at(ssize_t decay_ms, uint64_t t0) {
	decay_t *d = &test_decay;
	memset(d, 0, sizeof(*d));
	decay_reinit(d, decay_ms, 0);
	size_t limit = 12345;
	bool adv = decay_maybe_advance(d, t0, 0, &limit);
	CHECK(!adv, "an earlier clock must not advance the epoch");
	CHECK(d->epoch_ns == t0, "epoch %" PRIu64 " after reset to %" PRIu64,
	    d->epoch_ns, t0);
	return d;
}

/* Advances exactly one epoch (now = the deadline) with current_npages. */
static size_t
advance_one(decay_t *d, size_t current_npages) {
	uint64_t epoch = d->epoch_ns;
	size_t limit = (size_t)-1;
	bool adv = decay_maybe_advance(d, d->deadline_ns, current_npages,
	    &limit);
	CHECK(adv, "no advance at the deadline");
	CHECK(d->epoch_ns == epoch + d->interval_ns,
	    "epoch moved by %" PRIu64 ", not one interval (%" PRIu64 ")",
	    d->epoch_ns - epoch, d->interval_ns);
	return limit;
}

TEST(smootherstep_table) {
	decay_boot();
	decay_boot();	/* idempotent */

	CHECK(h_steps[NSTEPS - 1] == H_ONE, "h[199] = %" PRIu64,
	    h_steps[NSTEPS - 1]);
	/* h(1/200) = 10/200^3 - ... ~ 1.25e-6, i.e. ~21 in 24-bit units. */
	CHECK(h_steps[0] > 0 && h_steps[0] < 64, "h[0] = %" PRIu64,
	    h_steps[0]);
	CHECK(h_steps[NSTEPS / 2 - 1] == H_ONE / 2,
	    "h(1/2) = %" PRIu64 ", expected exactly half", h_steps[NSTEPS / 2
	    - 1]);

	uint64_t sum = 0;
	for (unsigned i = 0; i < NSTEPS; i++) {
		sum += h_steps[i];
		if (i > 0) {
			CHECK(h_steps[i] >= h_steps[i - 1],
			    "h[%u] = %" PRIu64 " < h[%u] = %" PRIu64, i,
			    h_steps[i], i - 1, h_steps[i - 1]);
		}
		CHECK(h_steps[i] <= H_ONE, "h[%u] = %" PRIu64 " > 1", i,
		    h_steps[i]);
		/* Against the polynomial in floating point. */
		double x = (double)(i + 1) / NSTEPS;
		double h = x * x * x * (x * (x * 6.0 - 15.0) + 10.0);
		double want = h * (double)H_ONE;
		CHECK(abs_d((double)h_steps[i] - want) <= 1.0,
		    "h[%u] = %" PRIu64 ", polynomial %.2f", i, h_steps[i],
		    want);
		/* Smootherstep is point-symmetric about (1/2, 1/2). */
		if (i + 1 < NSTEPS) {
			uint64_t a = h_steps[i], b = h_steps[NSTEPS - 2 - i];
			CHECK(a + b >= H_ONE - 1 && a + b <= H_ONE + 1,
			    "h[%u] + h[%u] = %" PRIu64, i, NSTEPS - 2 - i,
			    a + b);
		}
	}
	/* The polynomial integrates to 1/2 over [0, 1]; the right Riemann
	 * sum over 200 steps is 1/2 + 1/400. */
	double integral = (double)sum / NSTEPS / (double)H_ONE;
	CHECK(abs_d(integral - 0.5) <= 0.005, "integral %.6f", integral);
}

TEST(advance_deadline) {
	decay_boot();
	/* 2000 ms: 10 ms epochs. */
	const uint64_t t0 = 1000;
	decay_t *d = decay_at(2000, t0);
	uint64_t iv = d->interval_ns;
	CHECK(iv == 10 * 1000 * 1000, "interval %" PRIu64, iv);
	CHECK(decay_ms_get(d) == 2000, "decay_ms %zd", decay_ms_get(d));
	CHECK(d->deadline_ns >= t0 + iv && d->deadline_ns < t0 + 2 * iv,
	    "deadline %" PRIu64 " outside [epoch + interval, epoch + 2 "
	    "interval)", d->deadline_ns - t0);

	size_t limit = 777;
	/* Before the deadline: nothing moves, however many pages. */
	const uint64_t before[] = {t0, t0 + 1, t0 + iv / 2, t0 + iv - 1,
	    d->deadline_ns - 1};
	for (unsigned i = 0; i < sizeof(before) / sizeof(before[0]); i++) {
		bool adv = decay_maybe_advance(d, before[i], 5000, &limit);
		CHECK(!adv, "advanced at %" PRIu64 " ns, deadline at %" PRIu64,
		    before[i] - t0, d->deadline_ns - t0);
		CHECK(d->epoch_ns == t0, "epoch moved without an advance");
	}
	CHECK(limit == 777, "npages_limit written without an advance");
	for (unsigned i = 0; i < NSTEPS; i++)
		CHECK(d->backlog[i] == 0, "backlog[%u] = %zu", i, d->backlog[i]);

	/* At the deadline: exactly one epoch (jitter < interval). */
	bool adv = decay_maybe_advance(d, d->deadline_ns, 5000, &limit);
	CHECK(adv, "no advance at the deadline");
	CHECK(d->epoch_ns == t0 + iv, "epoch at +%" PRIu64, d->epoch_ns - t0);
	CHECK(d->backlog[NSTEPS - 1] == 5000, "backlog[199] = %zu",
	    d->backlog[NSTEPS - 1]);
	CHECK(limit == 5000, "fresh pages may all stay: limit %zu", limit);
	/* The next deadline is again within [epoch + iv, epoch + 2 iv). */
	CHECK(d->deadline_ns >= d->epoch_ns + iv && d->deadline_ns <
	    d->epoch_ns + 2 * iv, "next deadline +%" PRIu64,
	    d->deadline_ns - d->epoch_ns);

	/* Several epochs at once: 2 intervals plus half of one. */
	decay_purged(d, limit, 5000);
	uint64_t e = d->epoch_ns;
	adv = decay_maybe_advance(d, e + 3 * iv + iv / 2, 5000, &limit);
	CHECK(adv, "no advance 3.5 intervals on");
	CHECK(d->epoch_ns == e + 3 * iv, "epoch moved by %" PRIu64 " ns",
	    d->epoch_ns - e);
	CHECK(d->backlog[NSTEPS - 1 - 3] == 5000 &&
	    d->backlog[NSTEPS - 1] == 0, "backlog not shifted by 3: "
	    "[196] = %zu, [199] = %zu", d->backlog[NSTEPS - 4],
	    d->backlog[NSTEPS - 1]);
	CHECK(limit == (size_t)((5000 * h_steps[NSTEPS - 1 - 3]) >>
	    SMOOTHSTEP_BFP), "limit %zu", limit);
}

TEST(backlog_shift_and_limit) {
	decay_boot();
	decay_t *d = decay_at(10000, 5000);	/* 50 ms epochs */
	const size_t n = 100000;

	/* Epoch 1: n pages became unused. */
	size_t limit = advance_one(d, n);
	CHECK(d->backlog[NSTEPS - 1] == n, "backlog[199] = %zu",
	    d->backlog[NSTEPS - 1]);
	CHECK(limit == n, "limit %zu right after the free", limit);
	decay_purged(d, limit, n);
	CHECK(d->nunpurged == n, "nunpurged %zu", d->nunpurged);

	size_t prev = limit, current = n;
	for (unsigned k = 1; k <= NSTEPS; k++) {
		/* The caller purges down to the limit each time. */
		limit = advance_one(d, current);
		size_t want = k < NSTEPS ? (size_t)((n * h_steps[NSTEPS - 1 -
		    k]) >> SMOOTHSTEP_BFP) : 0;
		CHECK(limit == want, "epoch %u: limit %zu, expected %zu", k,
		    limit, want);
		CHECK(limit <= prev, "epoch %u: limit grew %zu -> %zu", k, prev,
		    limit);
		if (k < NSTEPS) {
			CHECK(d->backlog[NSTEPS - 1 - k] == n,
			    "epoch %u: batch not at backlog[%u]", k,
			    NSTEPS - 1 - k);
		}
		CHECK(d->backlog[NSTEPS - 1] == 0,
		    "epoch %u: no new pages, backlog[199] = %zu", k,
		    d->backlog[NSTEPS - 1]);
		/* Halfway the limit is about half (smootherstep(1/2)). */
		if (k == NSTEPS / 2) {
			CHECK(limit >= n / 2 - 1 && limit <= n / 2 + 1,
			    "limit %zu at half time", limit);
		}
		current = limit;
		decay_purged(d, limit, current);
		prev = limit;
	}
	CHECK(limit == 0, "after 200 epochs the limit is %zu", limit);
	for (unsigned i = 0; i < NSTEPS; i++)
		CHECK(d->backlog[i] == 0, "backlog[%u] = %zu left", i,
		    d->backlog[i]);

	/* Two batches: the limit is the sum of both shares. */
	const size_t a = 40000, b = 8000;
	limit = advance_one(d, a);
	decay_purged(d, limit, a);
	for (unsigned k = 0; k < 50; k++) {
		limit = advance_one(d, a);
		decay_purged(d, limit, a);
	}
	/* Nothing purged (current stays a): pages above the limit are not
	 * counted as new again. */
	CHECK(d->nunpurged == a, "nunpurged %zu", d->nunpurged);
	limit = advance_one(d, a + b);
	CHECK(d->backlog[NSTEPS - 1] == b, "second batch: backlog[199] = %zu",
	    d->backlog[NSTEPS - 1]);
	size_t want = (size_t)((a * h_steps[NSTEPS - 1 - 51] +
	    b * h_steps[NSTEPS - 1]) >> SMOOTHSTEP_BFP);
	CHECK(limit == want, "two batches: limit %zu, expected %zu", limit,
	    want);

	/* A jump past the whole curve: only the newest pages remain. */
	decay_purged(d, limit, a + b);
	size_t dummy;
	bool adv = decay_maybe_advance(d, d->epoch_ns + 300 * d->interval_ns,
	    a + b + 10, &dummy);
	CHECK(adv, "no advance after 300 epochs");
	CHECK(dummy == 10, "after a long pause the limit is %zu, expected "
	    "the 10 new pages", dummy);
	for (unsigned i = 0; i + 1 < NSTEPS; i++)
		CHECK(d->backlog[i] == 0, "backlog[%u] = %zu after the jump", i,
		    d->backlog[i]);
}

TEST(clock_backwards) {
	decay_boot();
	const uint64_t t0 = 1000000;
	decay_t *d = decay_at(1000, t0);	/* 5 ms epochs */
	uint64_t iv = d->interval_ns;
	size_t limit = advance_one(d, 3000);
	decay_purged(d, limit, 3000);
	limit = advance_one(d, 3000);
	decay_purged(d, limit, 3000);

	size_t saved[NSTEPS];
	memcpy(saved, d->backlog, sizeof(saved));
	size_t saved_nunpurged = d->nunpurged;
	/* Earlier than the current epoch, later than t0. */
	uint64_t back = d->epoch_ns - iv - iv / 2;

	size_t out = 4242;
	bool adv = decay_maybe_advance(d, back, 9000, &out);
	CHECK(!adv, "advanced although the clock went backwards");
	CHECK(out == 4242, "npages_limit written");
	CHECK(d->epoch_ns == back, "epoch %" PRIu64 ", expected the new "
	    "clock %" PRIu64, d->epoch_ns, back);
	CHECK(d->deadline_ns >= back + iv && d->deadline_ns < back + 2 * iv,
	    "deadline not recomputed from the new epoch");
	CHECK(memcmp(saved, d->backlog, sizeof(saved)) == 0,
	    "the backlog changed");
	CHECK(d->nunpurged == saved_nunpurged, "nunpurged changed");

	/* Time then runs forward from there as usual. */
	adv = decay_maybe_advance(d, back + iv - 1, 9000, &out);
	CHECK(!adv, "advanced before the new deadline");
	limit = advance_one(d, 3000);
	/* The batch of the first epoch is three epochs old now. */
	CHECK(d->backlog[NSTEPS - 1] == 0 && d->backlog[NSTEPS - 3] == 3000,
	    "backlog after resuming: [199] = %zu, [197] = %zu",
	    d->backlog[NSTEPS - 1], d->backlog[NSTEPS - 3]);
}

TEST(ns_until_purge) {
	decay_boot();
	decay_t *d = &test_decay;
	memset(d, 0, sizeof(*d));

	/* -1: never, whatever is pending. */
	decay_reinit(d, -1, 0);
	CHECK(decay_ms_get(d) == -1, "decay_ms %zd", decay_ms_get(d));
	CHECK(decay_ns_until_purge(d, 0, 1024) == UINT64_MAX, "-1, 0 pages");
	CHECK(decay_ns_until_purge(d, 1000000, 1024) == UINT64_MAX,
	    "-1, many pages");

	/* 0: at once. */
	decay_reinit(d, 0, 0);
	CHECK(decay_ns_until_purge(d, 5000, 1024) == 0, "0 ms: %" PRIu64,
	    decay_ns_until_purge(d, 5000, 1024));

	/* 2000 ms with pages pending: finite, at most the decay time. */
	d = decay_at(2000, 1000);
	uint64_t full = (uint64_t)NSTEPS * d->interval_ns;
	CHECK(full == 2000ULL * 1000 * 1000, "200 epochs = %" PRIu64, full);
	CHECK(decay_ns_until_purge(d, 0, 1024) == UINT64_MAX,
	    "nothing pending: %" PRIu64, decay_ns_until_purge(d, 0, 1024));

	size_t limit = advance_one(d, 50000);
	decay_purged(d, limit, 50000);
	uint64_t ns = decay_ns_until_purge(d, 50000, 1024);
	CHECK(ns > 0 && ns <= full, "50000 pages pending: %" PRIu64 " ns", ns);
	/* More than 1024 of 50000 pages are purgeable once h drops below
	 * 1 - 1024/50000, i.e. after a few percent of the curve. */
	CHECK(ns < full / 2, "50000 pages: first purge only after %" PRIu64
	    " ns", ns);
	/* Below the threshold: the whole decay time. */
	uint64_t small = decay_ns_until_purge(d, 500, 1024);
	CHECK(small > 0 && small <= full, "500 pages: %" PRIu64, small);
	/* A lower threshold can only bring the time forward. */
	uint64_t ns0 = decay_ns_until_purge(d, 50000, 0);
	CHECK(ns0 <= ns, "threshold 0: %" PRIu64 " > %" PRIu64, ns0, ns);
}

int
main(void) {
	return test_run(
	    TEST_CASE(smootherstep_table),
	    TEST_CASE(advance_deadline),
	    TEST_CASE(backlog_shift_and_limit),
	    TEST_CASE(clock_backwards),
	    TEST_CASE(ns_until_purge));
}
