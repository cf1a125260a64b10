/*
 * stats: malloc_stats_print().  The layout follows jemalloc's report: a
 * header, build and run-time settings, global totals, then per-class
 * tables of the merged arenas.  "J" gives the same content as JSON.
 * The detailed per-arena sections and mutex tables come with the
 * introspection work (see doc/).
 */
#include "jemalloc_internal.h"
#include "stats.h"
#include "arena.h"
#include "conf.h"
#include "tcache.h"
#include "ctl.h"
#include "extent_mmap.h"
#include "pages.h"
#include "sz.h"
#include "tsd.h"

#include <inttypes.h>

typedef struct {
	write_cb_t *cb;
	void *cbopaque;
	bool json;
} emitter_t;

static void
emit(emitter_t *e, const char *fmt, ...) JEMALLOC_FORMAT(2, 3);

static void
emit(emitter_t *e, const char *fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	malloc_vcprintf(e->cb, e->cbopaque, fmt, ap);
	va_end(ap);
}

static const char *
btos(bool b) {
	return b ? "true" : "false";
}

static void
stats_print_settings(emitter_t *e) {
	if (e->json) {
		emit(e, "\t\t\"version\": \"%s\",\n", JEMALLOC_VERSION);
		emit(e, "\t\t\"config\": {\n");
		emit(e, "\t\t\t\"cache_oblivious\": %s,\n",
		    btos(config_cache_oblivious));
		emit(e, "\t\t\t\"debug\": %s,\n", btos(config_debug));
		emit(e, "\t\t\t\"fill\": %s,\n", btos(config_fill));
		emit(e, "\t\t\t\"lazy_lock\": %s,\n", btos(config_lazy_lock));
		emit(e, "\t\t\t\"malloc_conf\": \"%s\",\n", config_malloc_conf);
		emit(e, "\t\t\t\"prof\": %s,\n", btos(config_prof));
		emit(e, "\t\t\t\"prof_libgcc\": false,\n");
		emit(e, "\t\t\t\"prof_libunwind\": false,\n");
		emit(e, "\t\t\t\"stats\": %s,\n", btos(config_stats));
		emit(e, "\t\t\t\"utrace\": %s,\n", btos(config_utrace));
		emit(e, "\t\t\t\"xmalloc\": %s\n", btos(config_xmalloc));
		emit(e, "\t\t},\n");
		emit(e, "\t\t\"opt\": {\n");
		emit(e, "\t\t\t\"abort\": %s,\n", btos(opt_abort));
		emit(e, "\t\t\t\"abort_conf\": %s,\n", btos(opt_abort_conf));
		emit(e, "\t\t\t\"retain\": %s,\n", btos(opt_retain));
		emit(e, "\t\t\t\"dss\": \"%s\",\n", opt_dss);
		emit(e, "\t\t\t\"narenas\": %u,\n", opt_narenas);
		emit(e, "\t\t\t\"dirty_decay_ms\": %zd,\n", opt_dirty_decay_ms);
		emit(e, "\t\t\t\"muzzy_decay_ms\": %zd,\n", opt_muzzy_decay_ms);
		emit(e, "\t\t\t\"junk\": \"%s\",\n", opt_junk);
		emit(e, "\t\t\t\"zero\": %s,\n", btos(opt_zero));
		emit(e, "\t\t\t\"tcache\": %s,\n", btos(opt_tcache));
		emit(e, "\t\t\t\"thp\": \"%s\"\n", thp_mode_names[opt_thp]);
		emit(e, "\t\t},\n");
		return;
	}
	emit(e, "Version: \"%s\"\n", JEMALLOC_VERSION);
	emit(e, "Build-time option settings\n");
	emit(e, "  config.cache_oblivious: %s\n", btos(config_cache_oblivious));
	emit(e, "  config.debug: %s\n", btos(config_debug));
	emit(e, "  config.fill: %s\n", btos(config_fill));
	emit(e, "  config.lazy_lock: %s\n", btos(config_lazy_lock));
	emit(e, "  config.malloc_conf: \"%s\"\n", config_malloc_conf);
	emit(e, "  config.prof: %s\n", btos(config_prof));
	emit(e, "  config.stats: %s\n", btos(config_stats));
	emit(e, "  config.utrace: %s\n", btos(config_utrace));
	emit(e, "  config.xmalloc: %s\n", btos(config_xmalloc));
	emit(e, "Run-time option settings\n");
	emit(e, "  opt.abort: %s\n", btos(opt_abort));
	emit(e, "  opt.abort_conf: %s\n", btos(opt_abort_conf));
	emit(e, "  opt.retain: %s\n", btos(opt_retain));
	emit(e, "  opt.dss: \"%s\"\n", opt_dss);
	emit(e, "  opt.narenas: %u\n", opt_narenas);
	emit(e, "  opt.dirty_decay_ms: %zd\n", opt_dirty_decay_ms);
	emit(e, "  opt.muzzy_decay_ms: %zd\n", opt_muzzy_decay_ms);
	emit(e, "  opt.junk: \"%s\"\n", opt_junk);
	emit(e, "  opt.zero: %s\n", btos(opt_zero));
	emit(e, "  opt.tcache: %s\n", btos(opt_tcache));
	emit(e, "  opt.thp: \"%s\"\n", thp_mode_names[opt_thp]);
}

/* Sums the bin counters of every arena into out[NBINS]. */
static void
stats_bins_merge(bin_stats_t *out) {
	memset(out, 0, sizeof(bin_stats_t) * NBINS);
	unsigned n = narenas_total_get();
	for (unsigned i = 0; i < n; i++) {
		arena_t *arena = arena_get_from_ind(i);
		if (arena == NULL)
			continue;
		for (unsigned b = 0; b < NBINS; b++) {
			bin_t *bin = &arena->bins[b];
			malloc_mutex_lock(&bin->lock);
			out[b].nmalloc += bin->stats.nmalloc;
			out[b].ndalloc += bin->stats.ndalloc;
			out[b].nrequests += bin->stats.nrequests;
			out[b].curregs += bin->stats.curregs;
			out[b].nslabs += bin->stats.nslabs;
			out[b].reslabs += bin->stats.reslabs;
			out[b].curslabs += bin->stats.curslabs;
			malloc_mutex_unlock(&bin->lock);
		}
	}
}

void
stats_print(tsd_t *tsd, write_cb_t *write_cb, void *cbopaque,
    const char *opts) {
	emitter_t e = {write_cb, cbopaque, false};
	bool general = true, bins = true;
	if (opts != NULL) {
		for (const char *p = opts; *p != '\0'; p++) {
			switch (*p) {
			case 'J': e.json = true; break;
			case 'g': general = false; break;
			case 'b': bins = false; break;
			default: break;
			}
		}
	}
	ctl_stats_t st;
	ctl_stats_compute(tsd_tsdn(tsd), &st);
	bin_stats_t merged[NBINS];	/* about 3 KiB of stack */
	stats_bins_merge(merged);

	if (e.json) {
		emit(&e, "{\n\t\"jemalloc\": {\n");
		if (general)
			stats_print_settings(&e);
		emit(&e, "\t\t\"arenas\": {\n");
		emit(&e, "\t\t\t\"narenas\": %u,\n", narenas_total_get());
		emit(&e, "\t\t\t\"quantum\": %zu,\n", QUANTUM);
		emit(&e, "\t\t\t\"page\": %zu,\n", PAGE);
		emit(&e, "\t\t\t\"nbins\": %u,\n", (unsigned)NBINS);
		emit(&e, "\t\t\t\"nlextents\": %u\n", (unsigned)(NSIZES -
		    NBINS));
		emit(&e, "\t\t},\n");
		emit(&e, "\t\t\"stats\": {\n");
		emit(&e, "\t\t\t\"allocated\": %zu,\n", st.allocated);
		emit(&e, "\t\t\t\"active\": %zu,\n", st.active);
		emit(&e, "\t\t\t\"metadata\": %zu,\n", st.metadata);
		emit(&e, "\t\t\t\"metadata_thp\": 0,\n");
		emit(&e, "\t\t\t\"resident\": %zu,\n", st.resident);
		emit(&e, "\t\t\t\"mapped\": %zu,\n", st.mapped);
		emit(&e, "\t\t\t\"retained\": %zu\n", st.retained);
		emit(&e, "\t\t}");
		if (bins) {
			emit(&e, ",\n\t\t\"stats.arenas\": {\n\t\t\t\"merged\": "
			    "{\n\t\t\t\t\"bins\": [\n");
			for (unsigned b = 0; b < NBINS; b++) {
				emit(&e, "\t\t\t\t\t{\"size\": %zu, \"nmalloc\": "
				    "%" PRIu64 ", \"ndalloc\": %" PRIu64 ", "
				    "\"nrequests\": %" PRIu64 ", \"curregs\": "
				    "%zu, \"nslabs\": %" PRIu64 ", \"nreslabs\": "
				    "%" PRIu64 ", \"curslabs\": %zu}%s\n",
				    bin_infos[b].reg_size, merged[b].nmalloc,
				    merged[b].ndalloc, merged[b].nrequests,
				    merged[b].curregs, merged[b].nslabs,
				    merged[b].reslabs, merged[b].curslabs,
				    b + 1 < NBINS ? "," : "");
			}
			emit(&e, "\t\t\t\t]\n\t\t\t}\n\t\t}");
		}
		emit(&e, "\n\t}\n}\n");
		return;
	}

	emit(&e, "___ Begin jemalloc statistics ___\n");
	if (general) {
		stats_print_settings(&e);
		emit(&e, "Arenas: %u\n", narenas_total_get());
		emit(&e, "Quantum size: %zu\n", QUANTUM);
		emit(&e, "Page size: %zu\n", PAGE);
	}
	emit(&e, "Allocated: %zu, active: %zu, metadata: %zu, resident: %zu, "
	    "mapped: %zu, retained: %zu\n", st.allocated, st.active,
	    st.metadata, st.resident, st.mapped, st.retained);
	if (bins) {
		emit(&e, "Merged arenas stats:\n");
		emit(&e, "bins:           size ind    allocated      nmalloc "
		    "     ndalloc    nrequests      curregs     curslabs regs "
		    "pgs  nreslabs\n");
		for (unsigned b = 0; b < NBINS; b++) {
			if (merged[b].nmalloc == 0)
				continue;
			emit(&e, "         %10zu %3u %12zu %12" PRIu64 " %12"
			    PRIu64 " %12" PRIu64 " %12zu %12zu %4u %3zu %9"
			    PRIu64 "\n", bin_infos[b].reg_size, b,
			    merged[b].curregs * bin_infos[b].reg_size,
			    merged[b].nmalloc, merged[b].ndalloc,
			    merged[b].nrequests, merged[b].curregs,
			    merged[b].curslabs, bin_infos[b].nregs,
			    bin_infos[b].slab_size >> LG_PAGE,
			    merged[b].reslabs);
		}
	}
	emit(&e, "--- End jemalloc statistics ---\n");
}
