/* stats: malloc_stats_print(), as text or JSON (opts "J g m d a b l x"). */
#ifndef JEMALLOC_STATS_H
#define JEMALLOC_STATS_H

#include "malloc_io.h"

void stats_print(tsd_t *tsd, write_cb_t *write_cb, void *cbopaque,
    const char *opts);

#endif
