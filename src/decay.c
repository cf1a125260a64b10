/* decay: the smootherstep purge schedule; see decay.h. */
#include "jemalloc_internal.h"
#include "decay.h"
#include "nstime.h"

uint64_t h_steps[SMOOTHSTEP_NSTEPS];

/* 6x^5 - 15x^4 + 10x^3 at x = i / 200, exactly in 64-bit integers. */
void
decay_boot(void) {
	const uint64_t n = SMOOTHSTEP_NSTEPS;
	for (uint64_t i = 1; i <= n; i++) {
		/* h = i^3 (6 i^2 - 15 i n + 10 n^2) / n^5, scaled by 2^BFP.
		 * Numerator over n^5 fits in 128 bits. */
		__int128 num = (__int128)(i * i * i) * (__int128)(6 * i * i - 15 *
		    i * n + 10 * n * n);
		__int128 den = (__int128)n * n * n * n * n;
		h_steps[i - 1] = (uint64_t)(((num << SMOOTHSTEP_BFP) + den / 2) /
		    den);
	}
}

ssize_t
decay_ms_get(const decay_t *decay) {
	return atomic_load_zd(&decay->time_ms, ATOMIC_RELAXED);
}

static uint64_t
decay_jitter(decay_t *decay) {
	/* 64-bit LCG (facts §6.13), high bits scaled to [0, interval). */
	decay->jitter_state = decay->jitter_state * 6364136223846793005ULL +
	    1442695040888963407ULL;
	return (uint64_t)(((unsigned __int128)decay->jitter_state *
	    decay->interval_ns) >> 64);
}

static void
decay_deadline_init(decay_t *decay) {
	decay->deadline_ns = decay->epoch_ns + decay->interval_ns;
	if (decay_ms_get(decay) > 0)
		decay->deadline_ns += decay_jitter(decay);
}

void
decay_reinit(decay_t *decay, ssize_t decay_ms, size_t npages) {
	atomic_store_zd(&decay->time_ms, decay_ms, ATOMIC_RELAXED);
	if (decay_ms > 0) {
		decay->interval_ns = (uint64_t)decay_ms * 1000000 /
		    SMOOTHSTEP_NSTEPS;
		if (decay->interval_ns == 0)
			decay->interval_ns = 1;
	} else {
		decay->interval_ns = 1;
	}
	decay->epoch_ns = nstime_now_ns();
	decay->jitter_state = (uint64_t)(uintptr_t)decay;
	decay_deadline_init(decay);
	decay->nunpurged = npages;
	memset(decay->backlog, 0, sizeof(decay->backlog));
}

bool
decay_init(decay_t *decay, ssize_t decay_ms, size_t npages) {
	if (malloc_mutex_init(&decay->mtx, "decay", WITNESS_RANK_DECAY))
		return true;
	decay->purging = false;
	decay_reinit(decay, decay_ms, npages);
	return false;
}

static size_t
decay_backlog_npages_limit(const decay_t *decay) {
	uint64_t sum = 0;
	for (unsigned i = 0; i < SMOOTHSTEP_NSTEPS; i++)
		sum += (uint64_t)decay->backlog[i] * h_steps[i];
	return (size_t)(sum >> SMOOTHSTEP_BFP);
}

bool
decay_maybe_advance(decay_t *decay, uint64_t now_ns, size_t current_npages,
    size_t *npages_limit) {
	if (now_ns < decay->epoch_ns) {
		/* The clock went backwards: restart the epoch from now. */
		decay->epoch_ns = now_ns;
		decay_deadline_init(decay);
		return false;
	}
	if (now_ns < decay->deadline_ns)
		return false;
	uint64_t nadvance = (now_ns - decay->epoch_ns) / decay->interval_ns;
	decay->epoch_ns += nadvance * decay->interval_ns;
	decay_deadline_init(decay);
	if (nadvance >= SMOOTHSTEP_NSTEPS) {
		memset(decay->backlog, 0, sizeof(decay->backlog));
	} else {
		memmove(decay->backlog, &decay->backlog[nadvance],
		    (SMOOTHSTEP_NSTEPS - nadvance) * sizeof(size_t));
		memset(&decay->backlog[SMOOTHSTEP_NSTEPS - nadvance], 0,
		    nadvance * sizeof(size_t));
	}
	decay->backlog[SMOOTHSTEP_NSTEPS - 1] = current_npages >
	    decay->nunpurged ? current_npages - decay->nunpurged : 0;
	*npages_limit = decay_backlog_npages_limit(decay);
	return true;
}

void
decay_purged(decay_t *decay, size_t npages_limit, size_t npages) {
	decay->nunpurged = npages_limit > npages ? npages_limit : npages;
}

uint64_t
decay_ns_until_purge(const decay_t *decay, size_t npages_current,
    size_t threshold) {
	ssize_t ms = decay_ms_get(decay);
	if (ms <= 0)
		return ms == 0 ? 0 : UINT64_MAX;
	if (npages_current == 0)
		return UINT64_MAX;
	/* Walk epochs forward: after k more epochs the allowed pages are the
	 * backlog shifted by k; stop when the excess passes threshold. */
	for (unsigned k = 1; k <= SMOOTHSTEP_NSTEPS; k++) {
		uint64_t sum = 0;
		for (unsigned i = k; i < SMOOTHSTEP_NSTEPS; i++)
			sum += (uint64_t)decay->backlog[i] * h_steps[i - k];
		size_t limit = (size_t)(sum >> SMOOTHSTEP_BFP);
		if (npages_current > limit && npages_current - limit >
		    threshold)
			return k * decay->interval_ns;
	}
	return SMOOTHSTEP_NSTEPS * decay->interval_ns;
}
