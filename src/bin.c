/* bin: the small-class table and bin_t set-up. */
#include "jemalloc_internal.h"
#include "bin.h"

bin_info_t bin_infos[NBINS];

void
bin_boot(void) {
	static const struct {
		size_t reg_size, slab_size, nregs;
	} tab[NBINS] = BIN_INFO_TAB;
	for (unsigned i = 0; i < NBINS; i++) {
		bin_info_t *bi = &bin_infos[i];
		bi->reg_size = tab[i].reg_size;
		bi->slab_size = tab[i].slab_size;
		bi->nregs = (uint32_t)tab[i].nregs;
		/* ceil(2^32 / d): exact for multiples of d below 2^32 / d * d. */
		bi->div_magic = (uint32_t)(((QU(1) << 32) + bi->reg_size - 1) /
		    bi->reg_size);
		bitmap_info_init(&bi->bitmap_info, bi->nregs);
	}
}

bool
bin_init(bin_t *bin) {
	if (malloc_mutex_init(&bin->lock, "bin", WITNESS_RANK_BIN))
		return true;
	bin->slabcur = NULL;
	extent_heap_new(&bin->slabs_nonfull);
	ql_new(&bin->slabs_full);
	memset(&bin->stats, 0, sizeof(bin->stats));
	return false;
}



