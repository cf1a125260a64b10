/*
 * ph.h: a pairing heap generated on a small test struct, checked against a
 * reference (sorted arrays and linear scans) and by walking its links.
 */
#include "jemalloc_internal.h"
#include "ph.h"

#include "test.h"

#include <stdlib.h>


typedef struct node_s node_t;
struct node_s {
	int key;
	bool in_heap;
	unsigned visit;		/* walk generation stamp */
	phn(node_t) link;
};
typedef ph(node_t) heap_t;

static int
node_cmp(const node_t *a, const node_t *b) {
	return (a->key > b->key) - (a->key < b->key);
}

ph_gen(static inline UNUSED, heap, heap_t, node_t, link, node_cmp)

#define NNODES 1024
static node_t nodes[NNODES];
static node_t *walk_stack[NNODES];
static unsigned walk_gen;

static uint64_t prng_state;
static uint64_t
prng_next(void) {
	uint64_t x = prng_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	prng_state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

static void
nodes_reset(uint64_t seed, int key_range) {
	prng_state = seed;
	for (unsigned i = 0; i < NNODES; i++) {
		memset(&nodes[i], 0, sizeof(nodes[i]));
		nodes[i].key = (int)(prng_next() % (uint64_t)key_range) -
		    key_range / 2;
	}
}

/*
 * Walks every link: the root has no prev/next, a first child points back
 * at its parent, a later sibling at its left sibling, and no child orders
 * before its parent.  Every node reached must be marked in_heap and each
 * in_heap node must be reached exactly once.  Returns the node count.
 */
static unsigned
heap_validate(heap_t *h) {
	unsigned count = 0, sp = 0;
	walk_gen++;
	node_t *root = heap_first(h);
	if (root == NULL)
		goto label_count;
	CHECK(root->link.phn_prev == NULL, "root has a prev link");
	CHECK(root->link.phn_next == NULL, "root has a next link");
	walk_stack[sp++] = root;
	root->visit = walk_gen;
	while (sp > 0) {
		node_t *n = walk_stack[--sp];
		count++;
		CHECK(n->in_heap, "reached node %d not in the heap",
		    (int)(n - nodes));
		node_t *prev = n;
		for (node_t *c = n->link.phn_lchild; c != NULL;
		    c = c->link.phn_next) {
			CHECK(c->visit != walk_gen, "node %d reached twice",
			    (int)(c - nodes));
			if (c->visit == walk_gen)
				return count;	/* a cycle: stop walking */
			c->visit = walk_gen;
			CHECK(c->link.phn_prev == prev, "node %d: bad prev link",
			    (int)(c - nodes));
			CHECK(node_cmp(c, n) >= 0, "child key %d < parent key %d",
			    c->key, n->key);
			if (sp >= NNODES) {
				CHECK(false, "walk stack overflow");
				return count;
			}
			walk_stack[sp++] = c;
			prev = c;
		}
	}
label_count:;
	unsigned nin = 0;
	for (unsigned i = 0; i < NNODES; i++) {
		if (nodes[i].in_heap) {
			nin++;
			CHECK(nodes[i].visit == walk_gen, "node %u in the heap "
			    "but unreachable", i);
		}
	}
	CHECK(nin == count, "reached %u nodes, %u in the heap", count, nin);
	return count;
}

/* Minimum key among in_heap nodes; INT_MAX when empty. */
static int
ref_min(void) {
	int m = INT_MAX;
	for (unsigned i = 0; i < NNODES; i++) {
		if (nodes[i].in_heap && nodes[i].key < m)
			m = nodes[i].key;
	}
	return m;
}

static int
int_cmp(const void *a, const void *b) {
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

static void
ins(heap_t *h, unsigned i) {
	heap_insert(h, &nodes[i]);
	nodes[i].in_heap = true;
}

static node_t *
pop(heap_t *h) {
	node_t *n = heap_remove_first(h);
	if (n != NULL) {
		CHECK(n->in_heap, "remove_first returned a node not in the heap");
		n->in_heap = false;
	}
	return n;
}

/* Drains h with remove_first; the keys must equal the sorted expectation. */
static void
drain_sorted(heap_t *h, int *expect, unsigned n) {
	qsort(expect, n, sizeof(int), int_cmp);
	for (unsigned i = 0; i < n; i++) {
		node_t *f = heap_first(h);
		node_t *p = pop(h);
		CHECK(p != NULL, "heap empty after %u of %u", i, n);
		if (p == NULL)
			return;
		CHECK(f == p, "first() and remove_first() disagree");
		CHECK(p->key == expect[i], "pop #%u key %d, want %d", i, p->key,
		    expect[i]);
	}
	CHECK(heap_empty(h), "heap not empty after draining");
	CHECK(heap_first(h) == NULL, "first() of drained heap");
	CHECK(heap_remove_first(h) == NULL, "remove_first() of drained heap");
}

static int expect_keys[NNODES];

TEST(test_empty) {
	heap_t h;
	heap_new(&h);
	expect_true(heap_empty(&h));
	expect_ptr_null(heap_first(&h));
	expect_ptr_null(heap_remove_first(&h));
	nodes_reset(1, 10);
	ins(&h, 0);
	expect_false(heap_empty(&h));
	expect_ptr_eq(heap_first(&h), &nodes[0]);
	heap_remove(&h, &nodes[0]);
	nodes[0].in_heap = false;
	expect_true(heap_empty(&h));
	expect_ptr_null(heap_first(&h));
}

TEST(test_insert_remove_first_sorted) {
	static const int ranges[] = {1, 5, 100, 1000000};
	for (unsigned r = 0; r < sizeof(ranges) / sizeof(ranges[0]); r++) {
		for (unsigned n = 1; n <= NNODES; n = n * 3 + 1) {
			nodes_reset(0x1234 + n + r, ranges[r]);
			heap_t h;
			heap_new(&h);
			for (unsigned i = 0; i < n; i++) {
				ins(&h, i);
				expect_keys[i] = nodes[i].key;
				CHECK(heap_first(&h)->key == ref_min(),
				    "first() not the minimum after insert %u", i);
			}
			CHECK(heap_validate(&h) == n, "count after inserts");
			drain_sorted(&h, expect_keys, n);
		}
	}
}

TEST(test_monotone_inserts) {
	heap_t h;
	/* Ascending: every insert becomes a child of the root. */
	nodes_reset(7, 10);
	heap_new(&h);
	for (unsigned i = 0; i < NNODES; i++) {
		nodes[i].key = (int)i;
		ins(&h, i);
		expect_keys[i] = (int)i;
	}
	heap_validate(&h);
	drain_sorted(&h, expect_keys, NNODES);
	/* Descending: every insert becomes the new root. */
	nodes_reset(8, 10);
	heap_new(&h);
	for (unsigned i = 0; i < NNODES; i++) {
		nodes[i].key = NNODES - (int)i;
		ins(&h, i);
		expect_keys[i] = nodes[i].key;
		CHECK(heap_first(&h) == &nodes[i], "descending insert %u not "
		    "root", i);
	}
	heap_validate(&h);
	drain_sorted(&h, expect_keys, NNODES);
}

TEST(test_arbitrary_remove) {
	for (unsigned round = 0; round < 8; round++) {
		nodes_reset(0xabcdef + round, round % 2 ? 50 : 100000);
		heap_t h;
		heap_new(&h);
		unsigned n = 300 + round * 50;
		for (unsigned i = 0; i < n; i++)
			ins(&h, i);
		/* Pop a few first so the heap has a multi-level shape. */
		for (unsigned i = 0; i < 10; i++)
			pop(&h);
		/* Remove random nodes, sometimes the root itself. */
		for (unsigned k = 0; k < n / 2; k++) {
			node_t *victim;
			if (k % 17 == 0) {
				victim = heap_first(&h);
			} else {
				do {
					victim = &nodes[prng_next() % n];
				} while (!victim->in_heap);
			}
			heap_remove(&h, victim);
			victim->in_heap = false;
			CHECK(victim->link.phn_prev == NULL &&
			    victim->link.phn_next == NULL &&
			    victim->link.phn_lchild == NULL,
			    "removed node keeps links");
			node_t *f = heap_first(&h);
			CHECK(f != NULL && f->key == ref_min(),
			    "first() key %d, reference min %d",
			    f ? f->key : -1, ref_min());
			if (k % 16 == 0)
				heap_validate(&h);
		}
		unsigned m = 0;
		for (unsigned i = 0; i < n; i++) {
			if (nodes[i].in_heap)
				expect_keys[m++] = nodes[i].key;
		}
		CHECK(heap_validate(&h) == m, "count after removals");
		drain_sorted(&h, expect_keys, m);
	}
}

/* Many operations of every kind with a fixed seed. */
static void
random_ops(uint64_t seed, unsigned nops, int key_range) {
	nodes_reset(seed, key_range);
	heap_t h;
	heap_new(&h);
	unsigned count = 0;
	for (unsigned op = 0; op < nops; op++) {
		unsigned what = (unsigned)(prng_next() % 10);
		if (count == 0 || (what < 5 && count < NNODES)) {
			unsigned i;
			do {
				i = (unsigned)(prng_next() % NNODES);
			} while (nodes[i].in_heap);
			nodes[i].key = (int)(prng_next() % (uint64_t)key_range);
			ins(&h, i);
			count++;
		} else if (what < 7) {
			int m = ref_min();
			node_t *p = pop(&h);
			CHECK(p != NULL && p->key == m, "op %u: popped %d, min %d",
			    op, p ? p->key : -1, m);
			count--;
		} else if (what < 9) {
			unsigned i;
			do {
				i = (unsigned)(prng_next() % NNODES);
			} while (!nodes[i].in_heap);
			heap_remove(&h, &nodes[i]);
			nodes[i].in_heap = false;
			count--;
		} else {
			node_t *f = heap_first(&h);
			CHECK(f != NULL && f->key == ref_min(), "op %u: first() "
			    "key %d, min %d", op, f ? f->key : -1, ref_min());
		}
		CHECK(heap_empty(&h) == (count == 0), "op %u: empty() wrong", op);
		if (count > 0) {
			CHECK(heap_first(&h)->key == ref_min(), "op %u: first() "
			    "not the minimum", op);
		}
		if (op % 97 == 0)
			CHECK(heap_validate(&h) == count, "op %u: count", op);
	}
	unsigned m = 0;
	for (unsigned i = 0; i < NNODES; i++) {
		if (nodes[i].in_heap)
			expect_keys[m++] = nodes[i].key;
	}
	CHECK(m == count, "count %u vs reference %u", count, m);
	drain_sorted(&h, expect_keys, m);
}

TEST(test_interleaved) {
	random_ops(42, 2000, 64);
	random_ops(43, 2000, 1 << 30);
}

TEST(test_10k_ops_fixed_seed) {
	random_ops(0x5eed5eed5eedULL, 10000, 1000);
}

int
main(void) {
	return test_run(
	    TEST_CASE(test_empty),
	    TEST_CASE(test_insert_remove_first_sorted),
	    TEST_CASE(test_monotone_inserts),
	    TEST_CASE(test_arbitrary_remove),
	    TEST_CASE(test_interleaved),
	    TEST_CASE(test_10k_ops_fixed_seed));
}
