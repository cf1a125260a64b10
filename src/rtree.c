/* rtree: node and leaf creation, and the cache-miss lookup. */
#include "jemalloc_internal.h"
#include "rtree.h"
#include "base.h"

rtree_t extents_rtree;

/* zeroed: the root is known to be zero already, as the global tree's is
 * (2 MiB of BSS whose untouched pages cost nothing, so leave them alone). */
bool
rtree_new(rtree_t *rtree, bool zeroed) {
	if (!zeroed)
		memset(rtree->root, 0, sizeof(rtree->root));
	return malloc_mutex_init(&rtree->init_lock, "rtree", WITNESS_RANK_RTREE);
}

void
rtree_ctx_data_init(rtree_ctx_t *ctx) {
	for (unsigned i = 0; i < RTREE_CTX_NCACHE; i++) {
		ctx->cache[i].leafkey = RTREE_LEAFKEY_INVALID;
		ctx->cache[i].leaf = NULL;
	}
	for (unsigned i = 0; i < RTREE_CTX_NCACHE_L2; i++) {
		ctx->l2_cache[i].leafkey = RTREE_LEAFKEY_INVALID;
		ctx->l2_cache[i].leaf = NULL;
	}
}

/* Leaves and interior nodes come from b0 and are never freed; base memory
 * is zeroed, which reads as "no extent". */
static void *
rtree_leaf_alloc_impl(size_t nelms) {
	return base_alloc(NULL, b0get(), nelms * sizeof(rtree_leaf_elm_t),
	    CACHELINE);
}

static void *
rtree_node_alloc(size_t nelms) {
	return base_alloc(NULL, b0get(), nelms * sizeof(atomic_p_t), CACHELINE);
}

/* Creates the leaf at slot under init_lock unless another thread did. */
static rtree_leaf_elm_t *
rtree_leaf_init(rtree_t *rtree, atomic_p_t *slot) {
	malloc_mutex_lock(&rtree->init_lock);
	rtree_leaf_elm_t *leaf = atomic_load_p(slot, ATOMIC_RELAXED);
	if (leaf == NULL) {
		leaf = rtree_leaf_alloc_impl(ZU(1) << RTREE_LEAF_BITS);
		if (leaf != NULL)
			atomic_store_p(slot, leaf, ATOMIC_RELEASE);
	}
	malloc_mutex_unlock(&rtree->init_lock);
	return leaf;
}

static atomic_p_t *
rtree_node_init(rtree_t *rtree, atomic_p_t *slot) {
	malloc_mutex_lock(&rtree->init_lock);
	atomic_p_t *node = atomic_load_p(slot, ATOMIC_RELAXED);
	if (node == NULL) {
		node = rtree_node_alloc(ZU(1) << RTREE_MID_BITS);
		if (node != NULL)
			atomic_store_p(slot, node, ATOMIC_RELEASE);
	}
	malloc_mutex_unlock(&rtree->init_lock);
	return node;
}

static rtree_leaf_elm_t *
rtree_child_leaf_read(rtree_t *rtree, atomic_p_t *slot, bool dependent,
    bool init_missing) {
	rtree_leaf_elm_t *leaf = atomic_load_p(slot, dependent ?
	    ATOMIC_RELAXED : ATOMIC_ACQUIRE);
	if (!dependent && init_missing && leaf == NULL)
		leaf = rtree_leaf_init(rtree, slot);
	return leaf;
}

static atomic_p_t *
rtree_child_node_read(rtree_t *rtree, atomic_p_t *slot, bool dependent,
    bool init_missing) {
	atomic_p_t *node = atomic_load_p(slot, dependent ? ATOMIC_RELAXED :
	    ATOMIC_ACQUIRE);
	if (!dependent && init_missing && node == NULL)
		node = rtree_node_init(rtree, slot);
	return node;
}

rtree_leaf_elm_t *
rtree_leaf_elm_lookup_hard(rtree_t *rtree, rtree_ctx_t *ctx, uintptr_t key,
    bool dependent, bool init_missing) {
	if (LG_VADDR < 64 && unlikely((key >> LG_VADDR) != 0))
		return NULL;
	size_t root_sub = (key >> (LG_PAGE + RTREE_LEAF_BITS + RTREE_MID_BITS)) &
	    ((ZU(1) << RTREE_ROOT_BITS) - 1);
	atomic_p_t *slot = &rtree->root[root_sub];
#if RTREE_HEIGHT == 3
	atomic_p_t *node = rtree_child_node_read(rtree, slot, dependent,
	    init_missing);
	if (node == NULL)
		return NULL;
	slot = &node[(key >> (LG_PAGE + RTREE_LEAF_BITS)) &
	    ((ZU(1) << RTREE_MID_BITS) - 1)];
#else
	(void)rtree_child_node_read;
#endif
	rtree_leaf_elm_t *leaf = rtree_child_leaf_read(rtree, slot, dependent,
	    init_missing);
	if (leaf == NULL)
		return NULL;

	/* Fill the cache: the old L1 entry goes to the front of L2. */
	size_t cslot = rtree_cache_slot(key);
	if (ctx->cache[cslot].leafkey != RTREE_LEAFKEY_INVALID) {
		memmove(&ctx->l2_cache[1], &ctx->l2_cache[0],
		    sizeof(rtree_ctx_cache_elm_t) * (RTREE_CTX_NCACHE_L2 - 1));
		ctx->l2_cache[0] = ctx->cache[cslot];
	}
	ctx->cache[cslot].leafkey = rtree_leafkey(key);
	ctx->cache[cslot].leaf = leaf;
	return &leaf[rtree_leaf_subkey(key)];
}



