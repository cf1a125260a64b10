/* sz: the generated size-class tables (see tools/gen_size_classes.c). */
#include "jemalloc_internal.h"
#include "sz.h"

const size_t sz_index2size_tab[NSIZES] = SZ_INDEX2SIZE_TAB;
const size_t sz_pind2sz_tab[NPSIZES + 1] = SZ_PIND2SZ_TAB;
const uint8_t sz_size2index_tab[(LOOKUP_MAXCLASS >> LG_TINY_MIN) + 1] =
    SZ_SIZE2INDEX_TAB;
size_t sz_large_pad;

void
sz_boot(void) {
	sz_large_pad = config_cache_oblivious ? PAGE : 0;
}
