/*
 * stats: malloc_stats_print().  The report follows jemalloc 5.1.0's layout:
 * a header, build and run-time settings, the size-class geometry, the
 * global totals with the global mutex table, then one section per arena
 * view (merged, destroyed, each initialised arena) with its decay, request
 * and memory counters, its mutexes, bins and large classes.  With "J" the
 * same content is JSON whose keys are the mallctl names.
 *
 * Everything printed comes from ctl's snapshot, which printing refreshes
 * (like a write to "epoch").  Arena sections are copied out of the snapshot
 * one at a time into a scratch page run mapped straight from the OS, and
 * output goes through a buffer on the stack: printing neither allocates
 * through the allocator nor holds a lock while the caller's write callback
 * runs (the callback may itself call mallctl or malloc).
 */
#include "jemalloc_internal.h"
#include "stats.h"
#include "arena.h"
#include "background_thread.h"
#include "conf.h"
#include "ctl.h"
#include "extent.h"
#include "extent_mmap.h"
#include "pages.h"
#include "sz.h"
#include "tcache.h"
#include "tsd.h"

#include <inttypes.h>

/* --- output --------------------------------------------------------------- */

#define STATS_BUFSIZE 4096
#define STATS_JSON_MAXDEPTH 16

typedef struct {
	write_cb_t *cb;
	void *cbopaque;
	bool json;
	/* JSON nesting, and whether each open container has an item yet
	 * (the next item then needs a comma). */
	unsigned depth;
	bool has_item[STATS_JSON_MAXDEPTH];
	size_t len;
	char buf[STATS_BUFSIZE];
} emitter_t;

static void
emit_flush(emitter_t *e) {
	if (e->len == 0)
		return;
	e->buf[e->len] = '\0';
	e->cb(e->cbopaque, e->buf);
	e->len = 0;
}

static void
emit(emitter_t *e, const char *fmt, ...) JEMALLOC_FORMAT(2, 3);

/* Formats into the buffer's free tail; on overflow flushes and retries. */
static void
emit(emitter_t *e, const char *fmt, ...) {
	va_list ap;
	size_t room = sizeof(e->buf) - e->len;
	va_start(ap, fmt);
	size_t n = malloc_vsnprintf(e->buf + e->len, room, fmt, ap);
	va_end(ap);
	if (n >= room) {
		emit_flush(e);
		va_start(ap, fmt);
		n = malloc_vsnprintf(e->buf, sizeof(e->buf), fmt, ap);
		va_end(ap);
		if (n >= sizeof(e->buf))
			n = sizeof(e->buf) - 1;	/* truncated (never here) */
	}
	e->len += n;
}

static void
emit_char(emitter_t *e, char c) {
	if (e->len + 1 >= sizeof(e->buf))
		emit_flush(e);
	e->buf[e->len++] = c;
}

/* Strings of unbounded length (malloc_conf), with JSON escaping. */
static void
emit_str(emitter_t *e, const char *s, bool escape) {
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (!escape) {
			emit_char(e, (char)c);
		} else if (c == '"' || c == '\\') {
			emit_char(e, '\\');
			emit_char(e, (char)c);
		} else if (c < 0x20) {
			emit(e, "\\u%04x", (unsigned)c);
		} else {
			emit_char(e, (char)c);
		}
	}
}

static const char *
btos(bool b) {
	return b ? "true" : "false";
}

/* --- JSON ----------------------------------------------------------------- */

static void
json_indent(emitter_t *e) {
	for (unsigned i = 0; i < e->depth; i++)
		emit_char(e, '\t');
}

/* Starts an item of the current container: comma, newline, indent, key. */
static void
json_key(emitter_t *e, const char *key) {
	if (e->has_item[e->depth])
		emit_char(e, ',');
	e->has_item[e->depth] = true;
	emit_char(e, '\n');
	json_indent(e);
	if (key != NULL) {
		emit_char(e, '"');
		emit_str(e, key, true);
		emit(e, "\": ");
	}
}

static void
json_open(emitter_t *e, const char *key, char bracket) {
	json_key(e, key);
	emit_char(e, bracket);
	assert(e->depth + 1 < STATS_JSON_MAXDEPTH);
	e->depth++;
	e->has_item[e->depth] = false;
}

static void
json_close(emitter_t *e, char bracket) {
	bool empty = !e->has_item[e->depth];
	e->depth--;
	if (!empty) {
		emit_char(e, '\n');
		json_indent(e);
	}
	emit_char(e, bracket);
}

/* key NULL: an element of an array. */
static void
json_obj_begin(emitter_t *e, const char *key) {
	json_open(e, key, '{');
}

static void
json_obj_end(emitter_t *e) {
	json_close(e, '}');
}

static void
json_arr_begin(emitter_t *e, const char *key) {
	json_open(e, key, '[');
}

static void
json_arr_end(emitter_t *e) {
	json_close(e, ']');
}

static void
json_kv_u64(emitter_t *e, const char *key, uint64_t v) {
	json_key(e, key);
	emit(e, "%" PRIu64, v);
}

static void
json_kv_zu(emitter_t *e, const char *key, size_t v) {
	json_key(e, key);
	emit(e, "%zu", v);
}

static void
json_kv_zd(emitter_t *e, const char *key, ssize_t v) {
	json_key(e, key);
	emit(e, "%zd", v);
}

static void
json_kv_bool(emitter_t *e, const char *key, bool v) {
	json_key(e, key);
	emit(e, "%s", btos(v));
}

static void
json_kv_str(emitter_t *e, const char *key, const char *v) {
	json_key(e, key);
	emit_char(e, '"');
	emit_str(e, v, true);
	emit_char(e, '"');
}

/* --- general information (omitted with "g") ------------------------------- */

static void
stats_general_text(emitter_t *e) {
	emit(e, "Version: \"%s\"\n", JEMALLOC_VERSION);

	emit(e, "Build-time option settings\n");
	emit(e, "  config.cache_oblivious: %s\n", btos(config_cache_oblivious));
	emit(e, "  config.debug: %s\n", btos(config_debug));
	emit(e, "  config.fill: %s\n", btos(config_fill));
	emit(e, "  config.lazy_lock: %s\n", btos(config_lazy_lock));
	emit(e, "  config.malloc_conf: \"");
	emit_str(e, config_malloc_conf, false);
	emit(e, "\"\n");
	emit(e, "  config.prof: %s\n", btos(config_prof));
	emit(e, "  config.prof_libgcc: false\n");
	emit(e, "  config.prof_libunwind: false\n");
	emit(e, "  config.stats: %s\n", btos(config_stats));
	emit(e, "  config.utrace: %s\n", btos(config_utrace));
	emit(e, "  config.xmalloc: %s\n", btos(config_xmalloc));

	/* The options in opt.* order; "(name: v)" shows the live value of
	 * an option that a mallctl can change. */
	emit(e, "Run-time option settings\n");
	emit(e, "  opt.abort: %s\n", btos(opt_abort));
	emit(e, "  opt.abort_conf: %s\n", btos(opt_abort_conf));
	emit(e, "  opt.retain: %s\n", btos(opt_retain));
	emit(e, "  opt.dss: \"%s\"\n", opt_dss);
	emit(e, "  opt.narenas: %u\n", opt_narenas);
	emit(e, "  opt.percpu_arena: \"%s\"\n",
	    percpu_arena_mode_names[opt_percpu_arena]);
	emit(e, "  opt.metadata_thp: \"%s\"\n",
	    metadata_thp_mode_names[opt_metadata_thp]);
	emit(e, "  opt.background_thread: %s (background_thread: %s)\n",
	    btos(opt_background_thread), btos(background_thread_enabled()));
	emit(e, "  opt.max_background_threads: %zu (max_background_threads: "
	    "%zu)\n", opt_max_background_threads, background_thread_max_get());
	emit(e, "  opt.dirty_decay_ms: %zd (arenas.dirty_decay_ms: %zd)\n",
	    opt_dirty_decay_ms, arena_dirty_decay_ms_default_get());
	emit(e, "  opt.muzzy_decay_ms: %zd (arenas.muzzy_decay_ms: %zd)\n",
	    opt_muzzy_decay_ms, arena_muzzy_decay_ms_default_get());
	emit(e, "  opt.lg_extent_max_active_fit: %zu\n",
	    opt_lg_extent_max_active_fit);
	if (config_fill) {
		emit(e, "  opt.junk: \"%s\"\n", opt_junk);
		emit(e, "  opt.zero: %s\n", btos(opt_zero));
	}
	if (config_xmalloc)
		emit(e, "  opt.xmalloc: %s\n", btos(opt_xmalloc));
	emit(e, "  opt.tcache: %s\n", btos(opt_tcache));
	emit(e, "  opt.lg_tcache_max: %zd\n", opt_lg_tcache_max);
	emit(e, "  opt.thp: \"%s\"\n", thp_mode_names[opt_thp]);
	emit(e, "  opt.stats_print: %s\n", btos(opt_stats_print));
	emit(e, "  opt.stats_print_opts: \"");
	emit_str(e, opt_stats_print_opts, false);
	emit(e, "\"\n");

	emit(e, "Arenas: %u\n", narenas_total_get());
	emit(e, "Quantum size: %zu\n", QUANTUM);
	emit(e, "Page size: %zu\n", PAGE);
	emit(e, "Maximum thread-cached size class: %zu\n", tcache_maxclass);
	emit(e, "Number of bin size classes: %u\n", (unsigned)NBINS);
	emit(e, "Number of thread-cache bin size classes: %u\n", nhbins);
	emit(e, "Number of large size classes: %u\n",
	    (unsigned)(NSIZES - NBINS));
}

static void
stats_general_json(emitter_t *e) {
	json_kv_str(e, "version", JEMALLOC_VERSION);

	json_obj_begin(e, "config");
	json_kv_bool(e, "cache_oblivious", config_cache_oblivious);
	json_kv_bool(e, "debug", config_debug);
	json_kv_bool(e, "fill", config_fill);
	json_kv_bool(e, "lazy_lock", config_lazy_lock);
	json_kv_str(e, "malloc_conf", config_malloc_conf);
	json_kv_bool(e, "prof", config_prof);
	json_kv_bool(e, "prof_libgcc", false);
	json_kv_bool(e, "prof_libunwind", false);
	json_kv_bool(e, "stats", config_stats);
	json_kv_bool(e, "utrace", config_utrace);
	json_kv_bool(e, "xmalloc", config_xmalloc);
	json_obj_end(e);

	json_obj_begin(e, "opt");
	json_kv_bool(e, "abort", opt_abort);
	json_kv_bool(e, "abort_conf", opt_abort_conf);
	json_kv_bool(e, "retain", opt_retain);
	json_kv_str(e, "dss", opt_dss);
	json_kv_u64(e, "narenas", opt_narenas);
	json_kv_str(e, "percpu_arena",
	    percpu_arena_mode_names[opt_percpu_arena]);
	json_kv_str(e, "metadata_thp",
	    metadata_thp_mode_names[opt_metadata_thp]);
	json_kv_bool(e, "background_thread", opt_background_thread);
	json_kv_zu(e, "max_background_threads", opt_max_background_threads);
	json_kv_zd(e, "dirty_decay_ms", opt_dirty_decay_ms);
	json_kv_zd(e, "muzzy_decay_ms", opt_muzzy_decay_ms);
	json_kv_zu(e, "lg_extent_max_active_fit",
	    opt_lg_extent_max_active_fit);
	if (config_fill) {
		json_kv_str(e, "junk", opt_junk);
		json_kv_bool(e, "zero", opt_zero);
	}
	if (config_xmalloc)
		json_kv_bool(e, "xmalloc", opt_xmalloc);
	json_kv_bool(e, "tcache", opt_tcache);
	json_kv_zd(e, "lg_tcache_max", opt_lg_tcache_max);
	json_kv_str(e, "thp", thp_mode_names[opt_thp]);
	json_kv_bool(e, "stats_print", opt_stats_print);
	json_kv_str(e, "stats_print_opts", opt_stats_print_opts);
	json_obj_end(e);

	json_obj_begin(e, "arenas");
	json_kv_u64(e, "narenas", narenas_total_get());
	json_kv_zd(e, "dirty_decay_ms", arena_dirty_decay_ms_default_get());
	json_kv_zd(e, "muzzy_decay_ms", arena_muzzy_decay_ms_default_get());
	json_kv_zu(e, "quantum", QUANTUM);
	json_kv_zu(e, "page", PAGE);
	json_kv_zu(e, "tcache_max", tcache_maxclass);
	json_kv_u64(e, "nbins", NBINS);
	json_kv_u64(e, "nhbins", nhbins);
	json_arr_begin(e, "bin");
	for (unsigned j = 0; j < NBINS; j++) {
		json_obj_begin(e, NULL);
		json_kv_zu(e, "size", bin_infos[j].reg_size);
		json_kv_u64(e, "nregs", bin_infos[j].nregs);
		json_kv_zu(e, "slab_size", bin_infos[j].slab_size);
		json_obj_end(e);
	}
	json_arr_end(e);
	json_kv_u64(e, "nlextents", NSIZES - NBINS);
	json_arr_begin(e, "lextent");
	for (unsigned j = 0; j < NSIZES - NBINS; j++) {
		json_obj_begin(e, NULL);
		json_kv_zu(e, "size", sz_index2size(NBINS + j));
		json_obj_end(e);
	}
	json_arr_end(e);
	json_obj_end(e);
}

/* --- mutex tables --------------------------------------------------------- */

static void
stats_mutex_json(emitter_t *e, const char *name,
    const mutex_prof_data_t *data) {
	json_obj_begin(e, name);
	for (unsigned c = 0; c < mutex_prof_num_counters; c++) {
		json_kv_u64(e, mutex_prof_counter_names[c],
		    mutex_prof_counter_get(data, (mutex_prof_counter_ind_t)c));
	}
	json_obj_end(e);
}

static void
stats_mutex_table_header(emitter_t *e) {
	emit(e, "%21s%16s%16s%16s%16s%16s%16s%12s\n", "", "n_lock_ops",
	    "n_waiting", "n_spin_acq", "n_owner_switch", "total_wait_ns",
	    "max_wait_ns", "max_n_thds");
}

static void
stats_mutex_table_row(emitter_t *e, const char *name,
    const mutex_prof_data_t *d) {
	emit(e, "%-21s%16" PRIu64 "%16" PRIu64 "%16" PRIu64 "%16" PRIu64 "%16"
	    PRIu64 "%16" PRIu64 "%12" PRIu32 "\n", name, d->n_lock_ops,
	    d->n_wait, d->n_spin_acquired, d->n_owner_switches, d->tot_wait_ns,
	    d->max_wait_ns, d->max_n_thds);
}

/* --- global statistics ---------------------------------------------------- */

static void
stats_global_print(emitter_t *e, const ctl_stats_t *st, bool mutex) {
	if (e->json) {
		json_obj_begin(e, "stats");
		json_kv_zu(e, "allocated", st->allocated);
		json_kv_zu(e, "active", st->active);
		json_kv_zu(e, "metadata", st->metadata);
		json_kv_zu(e, "metadata_thp", st->metadata_thp);
		json_kv_zu(e, "resident", st->resident);
		json_kv_zu(e, "mapped", st->mapped);
		json_kv_zu(e, "retained", st->retained);
		json_obj_begin(e, "background_thread");
		json_kv_zu(e, "num_threads", st->background_thread_num_threads);
		json_kv_u64(e, "num_runs", st->background_thread_num_runs);
		json_kv_u64(e, "run_interval",
		    st->background_thread_run_interval);
		json_obj_end(e);
		if (mutex) {
			json_obj_begin(e, "mutexes");
			for (unsigned m = 0; m < global_prof_num_mutexes; m++) {
				stats_mutex_json(e, global_prof_mutex_names[m],
				    &st->mutexes[m]);
			}
			json_obj_end(e);
		}
		json_obj_end(e);
		return;
	}
	emit(e, "Allocated: %zu, active: %zu, metadata: %zu (n_thp %zu), "
	    "resident: %zu, mapped: %zu, retained: %zu\n", st->allocated,
	    st->active, st->metadata, st->metadata_thp, st->resident,
	    st->mapped, st->retained);
	emit(e, "Background threads: %zu, num_runs: %" PRIu64 ", "
	    "run_interval: %" PRIu64 " ns\n", st->background_thread_num_threads,
	    st->background_thread_num_runs, st->background_thread_run_interval);
	if (mutex) {
		stats_mutex_table_header(e);
		for (unsigned m = 0; m < global_prof_num_mutexes; m++) {
			stats_mutex_table_row(e, global_prof_mutex_names[m],
			    &st->mutexes[m]);
		}
	}
}

/* --- one arena view ------------------------------------------------------- */

/* Region utilisation of a bin's slabs as "0.ddd", "1", or " race". */
static void
stats_util_str(char *buf, size_t n, size_t curregs, size_t availregs) {
	if (availregs == 0 || curregs == availregs) {
		malloc_snprintf(buf, n, "1");
	} else if (curregs > availregs) {
		/* Counters read at different moments of a busy arena. */
		malloc_snprintf(buf, n, " race");
	} else {
		malloc_snprintf(buf, n, "0.%03u", (unsigned)(curregs * 1000 /
		    availregs));
	}
}

static void
stats_arena_bins_text(emitter_t *e, const ctl_arena_stats_t *as,
    bool mutex) {
	emit(e, "bins:           size ind    allocated      nmalloc"
	    "      ndalloc    nrequests      curregs     curslabs regs pgs"
	    "  util       nfills     nflushes     newslabs      reslabs%s\n",
	    mutex ?
	    "   n_lock_ops    n_waiting   n_spin_acq n_owner_switch  "
	    "total_wait_ns  max_wait_ns max_n_thds" : "");
	/* Classes that never had a slab are left out; "---" marks a gap. */
	bool in_gap = false;
	for (unsigned j = 0; j < NBINS; j++) {
		const bin_stats_t *bs = &as->bstats[j];
		const bin_info_t *bi = &bin_infos[j];
		bool gap = bs->nslabs == 0;
		if (gap) {
			in_gap = true;
			continue;
		}
		if (in_gap) {
			emit(e, "                     ---\n");
			in_gap = false;
		}
		char util[8];
		stats_util_str(util, sizeof(util), bs->curregs,
		    bs->curslabs * bi->nregs);
		emit(e, "%20zu %3u %12zu %12" PRIu64 " %12" PRIu64 " %12" PRIu64
		    " %12zu %12zu %4u %3zu %-5s %12" PRIu64 " %12" PRIu64 " %12"
		    PRIu64 " %12" PRIu64, bi->reg_size, j,
		    bs->curregs * bi->reg_size, bs->nmalloc, bs->ndalloc,
		    bs->nrequests, bs->curregs, bs->curslabs, bi->nregs,
		    bi->slab_size >> LG_PAGE, util, bs->nfills, bs->nflushes,
		    bs->nslabs, bs->reslabs);
		if (mutex) {
			const mutex_prof_data_t *d = &as->bmutexes[j];
			emit(e, " %12" PRIu64 " %12" PRIu64 " %12" PRIu64 " %14"
			    PRIu64 " %14" PRIu64 " %12" PRIu64 " %10" PRIu32,
			    d->n_lock_ops, d->n_wait, d->n_spin_acquired,
			    d->n_owner_switches, d->tot_wait_ns, d->max_wait_ns,
			    d->max_n_thds);
		}
		emit(e, "\n");
	}
	if (in_gap)
		emit(e, "                     ---\n");
}

static void
stats_arena_lextents_text(emitter_t *e, const ctl_arena_stats_t *as) {
	emit(e, "large:          size ind    allocated      nmalloc"
	    "      ndalloc    nrequests  curlextents\n");
	bool in_gap = false;
	for (unsigned j = 0; j < NSIZES - NBINS; j++) {
		const ctl_lextent_stats_t *ls = &as->lstats[j];
		if (ls->nrequests == 0) {
			in_gap = true;
			continue;
		}
		if (in_gap) {
			emit(e, "                     ---\n");
			in_gap = false;
		}
		size_t size = sz_index2size(NBINS + j);
		emit(e, "%20zu %3u %12zu %12" PRIu64 " %12" PRIu64 " %12" PRIu64
		    " %12zu\n", size, NBINS + j, ls->curlextents * size,
		    ls->nmalloc, ls->ndalloc, ls->nrequests, ls->curlextents);
	}
	if (in_gap)
		emit(e, "                     ---\n");
}

static void
stats_arena_decay_row(emitter_t *e, const char *name, ssize_t decay_ms,
    size_t npages, uint64_t npurge, uint64_t nmadvise, uint64_t purged) {
	if (decay_ms >= 0)
		emit(e, "   %s: %5zd", name, decay_ms);
	else
		emit(e, "   %s:   N/A", name);
	emit(e, " %12zu %12" PRIu64 " %12" PRIu64 " %12" PRIu64 "\n", npages,
	    npurge, nmadvise, purged);
}

static void
stats_arena_text(emitter_t *e, const ctl_arena_stats_t *as, bool bins,
    bool large, bool mutex) {
	emit(e, "assigned threads: %u\n", as->nthreads);
	emit(e, "uptime: %" PRIu64 "\n", as->uptime_ns);
	emit(e, "dss allocation precedence: \"%s\"\n", as->dss);
	emit(e, "decaying:  time       npages       sweeps     madvises"
	    "       purged\n");
	stats_arena_decay_row(e, "dirty", as->dirty_decay_ms, as->pdirty,
	    as->dirty_npurge, as->dirty_nmadvise, as->dirty_purged);
	stats_arena_decay_row(e, "muzzy", as->muzzy_decay_ms, as->pmuzzy,
	    as->muzzy_npurge, as->muzzy_nmadvise, as->muzzy_purged);

	emit(e, "                            allocated      nmalloc"
	    "      ndalloc    nrequests\n");
	emit(e, "small:                   %12zu %12" PRIu64 " %12" PRIu64 " %12"
	    PRIu64 "\n", as->small_allocated, as->small_nmalloc,
	    as->small_ndalloc, as->small_nrequests);
	emit(e, "large:                   %12zu %12" PRIu64 " %12" PRIu64 " %12"
	    PRIu64 "\n", as->large_allocated, as->large_nmalloc,
	    as->large_ndalloc, as->large_nrequests);
	emit(e, "total:                   %12zu %12" PRIu64 " %12" PRIu64 " %12"
	    PRIu64 "\n", as->small_allocated + as->large_allocated,
	    as->small_nmalloc + as->large_nmalloc, as->small_ndalloc +
	    as->large_ndalloc, as->small_nrequests + as->large_nrequests);
	emit(e, "active:                  %12zu\n", as->pactive << LG_PAGE);
	emit(e, "mapped:                  %12zu\n", as->mapped);
	emit(e, "retained:                %12zu\n", as->retained);
	emit(e, "base:                    %12zu\n", as->base);
	emit(e, "internal:                %12zu\n", as->internal);
	emit(e, "metadata_thp:            %12zu\n", as->metadata_thp);
	emit(e, "tcache_bytes:            %12zu\n", as->tcache_bytes);
	emit(e, "resident:                %12zu\n", as->resident);

	if (mutex) {
		stats_mutex_table_header(e);
		for (unsigned m = 0; m < arena_prof_num_mutexes; m++) {
			stats_mutex_table_row(e, arena_prof_mutex_names[m],
			    &as->mutexes[m]);
		}
	}
	if (bins)
		stats_arena_bins_text(e, as, mutex);
	if (large)
		stats_arena_lextents_text(e, as);
}

static void
stats_arena_json(emitter_t *e, const char *key, const ctl_arena_stats_t *as,
    bool bins, bool large, bool mutex) {
	json_obj_begin(e, key);
	json_kv_u64(e, "nthreads", as->nthreads);
	/* jemalloc 5.1 names the JSON key of stats.arenas.<i>.uptime so. */
	json_kv_u64(e, "uptime_ns", as->uptime_ns);
	json_kv_str(e, "dss", as->dss);
	json_kv_zd(e, "dirty_decay_ms", as->dirty_decay_ms);
	json_kv_zd(e, "muzzy_decay_ms", as->muzzy_decay_ms);
	json_kv_zu(e, "pactive", as->pactive);
	json_kv_zu(e, "pdirty", as->pdirty);
	json_kv_zu(e, "pmuzzy", as->pmuzzy);
	json_kv_u64(e, "dirty_npurge", as->dirty_npurge);
	json_kv_u64(e, "dirty_nmadvise", as->dirty_nmadvise);
	json_kv_u64(e, "dirty_purged", as->dirty_purged);
	json_kv_u64(e, "muzzy_npurge", as->muzzy_npurge);
	json_kv_u64(e, "muzzy_nmadvise", as->muzzy_nmadvise);
	json_kv_u64(e, "muzzy_purged", as->muzzy_purged);

	json_obj_begin(e, "small");
	json_kv_zu(e, "allocated", as->small_allocated);
	json_kv_u64(e, "nmalloc", as->small_nmalloc);
	json_kv_u64(e, "ndalloc", as->small_ndalloc);
	json_kv_u64(e, "nrequests", as->small_nrequests);
	json_obj_end(e);
	json_obj_begin(e, "large");
	json_kv_zu(e, "allocated", as->large_allocated);
	json_kv_u64(e, "nmalloc", as->large_nmalloc);
	json_kv_u64(e, "ndalloc", as->large_ndalloc);
	json_kv_u64(e, "nrequests", as->large_nrequests);
	json_obj_end(e);

	json_kv_zu(e, "mapped", as->mapped);
	json_kv_zu(e, "retained", as->retained);
	json_kv_zu(e, "base", as->base);
	json_kv_zu(e, "internal", as->internal);
	json_kv_zu(e, "metadata_thp", as->metadata_thp);
	json_kv_zu(e, "tcache_bytes", as->tcache_bytes);
	json_kv_zu(e, "resident", as->resident);

	if (mutex) {
		json_obj_begin(e, "mutexes");
		for (unsigned m = 0; m < arena_prof_num_mutexes; m++) {
			stats_mutex_json(e, arena_prof_mutex_names[m],
			    &as->mutexes[m]);
		}
		json_obj_end(e);
	}
	if (bins) {
		json_arr_begin(e, "bins");
		for (unsigned j = 0; j < NBINS; j++) {
			const bin_stats_t *bs = &as->bstats[j];
			json_obj_begin(e, NULL);
			json_kv_u64(e, "nmalloc", bs->nmalloc);
			json_kv_u64(e, "ndalloc", bs->ndalloc);
			json_kv_zu(e, "curregs", bs->curregs);
			json_kv_u64(e, "nrequests", bs->nrequests);
			json_kv_u64(e, "nfills", bs->nfills);
			json_kv_u64(e, "nflushes", bs->nflushes);
			json_kv_u64(e, "nslabs", bs->nslabs);
			json_kv_u64(e, "nreslabs", bs->reslabs);
			json_kv_zu(e, "curslabs", bs->curslabs);
			if (mutex)
				stats_mutex_json(e, "mutex", &as->bmutexes[j]);
			json_obj_end(e);
		}
		json_arr_end(e);
	}
	if (large) {
		json_arr_begin(e, "lextents");
		for (unsigned j = 0; j < NSIZES - NBINS; j++) {
			const ctl_lextent_stats_t *ls = &as->lstats[j];
			json_obj_begin(e, NULL);
			json_kv_u64(e, "nmalloc", ls->nmalloc);
			json_kv_u64(e, "ndalloc", ls->ndalloc);
			json_kv_u64(e, "nrequests", ls->nrequests);
			json_kv_zu(e, "curlextents", ls->curlextents);
			json_obj_end(e);
		}
		json_arr_end(e);
	}
	json_obj_end(e);
}

/*
 * Prints the arena views the options ask for.  As in jemalloc, the merged
 * view is left out when it would only repeat the single initialised arena
 * printed below it.
 */
static void
stats_arenas_print(emitter_t *e, tsdn_t *tsdn, const ctl_stats_t *st,
    ctl_arena_stats_t *scratch, bool merged, bool destroyed, bool unmerged,
    bool bins, bool large, bool mutex) {
	unsigned ninitialized = 0;
	for (unsigned i = 0; i < st->narenas; i++) {
		if (ctl_arena_initialized(tsdn, i))
			ninitialized++;
	}
	if (e->json)
		json_obj_begin(e, "stats.arenas");
	if (merged && (ninitialized > 1 || !unmerged) &&
	    ctl_arena_stats_copy(tsdn, MALLCTL_ARENAS_ALL, scratch)) {
		if (e->json) {
			stats_arena_json(e, "merged", scratch, bins, large,
			    mutex);
		} else {
			emit(e, "Merged arenas stats:\n");
			stats_arena_text(e, scratch, bins, large, mutex);
		}
	}
	if (destroyed && ctl_arena_stats_copy(tsdn, MALLCTL_ARENAS_DESTROYED,
	    scratch)) {
		if (e->json) {
			stats_arena_json(e, "destroyed", scratch, bins, large,
			    mutex);
		} else {
			emit(e, "Destroyed arenas stats:\n");
			stats_arena_text(e, scratch, bins, large, mutex);
		}
	}
	if (unmerged) {
		for (unsigned i = 0; i < st->narenas; i++) {
			if (!ctl_arena_stats_copy(tsdn, i, scratch))
				continue;
			if (e->json) {
				char key[16];
				malloc_snprintf(key, sizeof(key), "%u", i);
				stats_arena_json(e, key, scratch, bins, large,
				    mutex);
			} else {
				emit(e, "arenas[%u]:\n", i);
				stats_arena_text(e, scratch, bins, large,
				    mutex);
			}
		}
	}
	if (e->json)
		json_obj_end(e);
}

/* --- entry point ---------------------------------------------------------- */

void
stats_print(tsd_t *tsd, write_cb_t *write_cb, void *cbopaque,
    const char *opts) {
	bool json = false, general = true, merged = true, destroyed = true,
	    unmerged = true, bins = true, large = true, mutex = true;
	if (opts != NULL) {
		for (const char *p = opts; *p != '\0'; p++) {
			switch (*p) {
			case 'J': json = true; break;
			case 'g': general = false; break;
			case 'm': merged = false; break;
			case 'd': destroyed = false; break;
			case 'a': unmerged = false; break;
			case 'b': bins = false; break;
			case 'l': large = false; break;
			case 'x': mutex = false; break;
			default: break;
			}
		}
	}
	if (write_cb == NULL) {
		write_cb = je_malloc_message != NULL ? je_malloc_message :
		    wrtmessage;
	}
	tsdn_t *tsdn = tsd_tsdn(tsd);
	emitter_t e;	/* about 4 KiB of stack */
	e.cb = write_cb;
	e.cbopaque = cbopaque;
	e.json = json;
	e.depth = 0;
	e.has_item[0] = false;
	e.len = 0;

	/*
	 * Like jemalloc, printing refreshes the statistics first.  One arena
	 * view (about 11 KiB) is copied at a time into pages mapped for the
	 * purpose, so that the allocator's own counters are not disturbed.
	 */
	ctl_stats_t st;
	ctl_stats_refresh(tsdn, &st);
	size_t scratch_size = PAGE_CEILING(sizeof(ctl_arena_stats_t));
	bool commit = true;
	ctl_arena_stats_t *scratch = pages_map(NULL, scratch_size, PAGE,
	    &commit);

	if (json) {
		emit_char(&e, '{');
		e.depth = 1;
		e.has_item[1] = false;
		json_obj_begin(&e, "jemalloc");
		if (general)
			stats_general_json(&e);
	} else {
		emit(&e, "___ Begin jemalloc statistics ___\n");
		if (general)
			stats_general_text(&e);
	}
	if (config_stats) {
		stats_global_print(&e, &st, mutex);
		if (scratch != NULL && (merged || destroyed || unmerged)) {
			stats_arenas_print(&e, tsdn, &st, scratch, merged,
			    destroyed, unmerged, bins, large, mutex);
		}
	}
	if (json) {
		json_obj_end(&e);
		emit(&e, "\n}\n");
	} else {
		emit(&e, "--- End jemalloc statistics ---\n");
	}
	emit_flush(&e);
	if (scratch != NULL)
		pages_unmap(scratch, scratch_size);
}
