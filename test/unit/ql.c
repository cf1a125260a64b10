/*
 * ql.h: intrusive circular lists.  Every operation is checked against a
 * reference array, walking the list forwards (foreach, next) and
 * backwards (last, prev) and checking the ring links directly.
 */
#include "jemalloc_internal.h"
#include "ql.h"

#include "test.h"


typedef struct elm_s elm_t;
struct elm_s {
	int id;
	ql_elm(elm_t) link;
};
typedef ql_head(elm_t) list_t;

#define NELMS 64
static elm_t elms[NELMS];

/* The expected order, by element id. */
static int ref[NELMS];
static unsigned nref;

static void
elms_init(void) {
	for (int i = 0; i < NELMS; i++) {
		elms[i].id = i;
		ql_elm_new(&elms[i], link);
	}
	nref = 0;
}

static void
ref_push_head(int id) {
	memmove(&ref[1], &ref[0], nref * sizeof(int));
	ref[0] = id;
	nref++;
}

static void
ref_push_tail(int id) {
	ref[nref++] = id;
}

static void
ref_remove(int id) {
	for (unsigned i = 0; i < nref; i++) {
		if (ref[i] == id) {
			memmove(&ref[i], &ref[i + 1], (nref - i - 1) * sizeof(int));
			nref--;
			return;
		}
	}
	CHECK(false, "reference has no %d", id);
}

/* The list must hold exactly ref[0..nref) in order. */
static void
check_list(list_t *l) {
	CHECK(ql_empty(l) == (nref == 0), "empty() = %d with %u elements",
	    (int)ql_empty(l), nref);
	if (nref == 0) {
		CHECK(ql_first(l) == NULL, "first() of an empty list");
		CHECK(ql_last(l, link) == NULL, "last() of an empty list");
		elm_t *e;
		unsigned n = 0;
		ql_foreach(e, l, link)
			n++;
		CHECK(n == 0, "foreach visited %u elements of an empty list", n);
		return;
	}
	CHECK(ql_first(l) == &elms[ref[0]], "first() is %d, want %d",
	    ql_first(l) ? ql_first(l)->id : -1, ref[0]);
	CHECK(ql_last(l, link) == &elms[ref[nref - 1]], "last() is %d, want %d",
	    ql_last(l, link) ? ql_last(l, link)->id : -1, ref[nref - 1]);
	/* Forwards with foreach. */
	unsigned i = 0;
	elm_t *e;
	ql_foreach(e, l, link) {
		if (i >= nref) {
			CHECK(false, "foreach visits more than %u elements", nref);
			break;
		}
		CHECK(e == &elms[ref[i]], "foreach #%u is %d, want %d", i, e->id,
		    ref[i]);
		i++;
	}
	CHECK(i == nref, "foreach visited %u of %u", i, nref);
	/* Backwards with prev. */
	i = nref;
	for (e = ql_last(l, link); e != NULL; e = ql_prev(l, e, link)) {
		if (i == 0) {
			CHECK(false, "prev walk visits more than %u", nref);
			break;
		}
		i--;
		CHECK(e == &elms[ref[i]], "prev walk #%u is %d, want %d", i,
		    e->id, ref[i]);
	}
	CHECK(i == 0, "prev walk stopped at %u", i);
	/* The ring itself: next/prev neighbours wrap around. */
	for (i = 0; i < nref; i++) {
		elm_t *x = &elms[ref[i]];
		elm_t *nx = &elms[ref[(i + 1) % nref]];
		elm_t *pv = &elms[ref[(i + nref - 1) % nref]];
		CHECK(x->link.qre_next == nx, "ring next of %d", x->id);
		CHECK(x->link.qre_prev == pv, "ring prev of %d", x->id);
		CHECK(ql_next(l, x, link) == (i + 1 < nref ? nx : NULL),
		    "next() of %d", x->id);
		CHECK(ql_prev(l, x, link) == (i > 0 ? pv : NULL),
		    "prev() of %d", x->id);
	}
}

/* A removed element is a ring of one again. */
static void
check_detached(elm_t *e) {
	CHECK(e->link.qre_next == e && e->link.qre_prev == e,
	    "removed element %d still linked", e->id);
}

TEST(test_empty) {
	list_t l;
	ql_new(&l);
	elms_init();
	check_list(&l);
	expect_true(ql_empty(&l));
}

TEST(test_head_insert_order) {
	list_t l;
	ql_new(&l);
	elms_init();
	for (int i = 0; i < 10; i++) {
		ql_head_insert(&l, &elms[i], link);
		ref_push_head(i);
		check_list(&l);
	}
	/* 9, 8, ..., 0 */
	expect_d_eq(ql_first(&l)->id, 9);
	expect_d_eq(ql_last(&l, link)->id, 0);
}

TEST(test_tail_insert_order) {
	list_t l;
	ql_new(&l);
	elms_init();
	for (int i = 0; i < 10; i++) {
		ql_tail_insert(&l, &elms[i], link);
		ref_push_tail(i);
		check_list(&l);
	}
	expect_d_eq(ql_first(&l)->id, 0);
	expect_d_eq(ql_last(&l, link)->id, 9);
}

TEST(test_mixed_insert) {
	list_t l;
	ql_new(&l);
	elms_init();
	for (int i = 0; i < 20; i++) {
		if (i % 3 == 0) {
			ql_head_insert(&l, &elms[i], link);
			ref_push_head(i);
		} else {
			ql_tail_insert(&l, &elms[i], link);
			ref_push_tail(i);
		}
		check_list(&l);
	}
}

TEST(test_remove_head_middle_tail) {
	list_t l;
	ql_new(&l);
	elms_init();
	for (int i = 0; i < 8; i++) {
		ql_tail_insert(&l, &elms[i], link);
		ref_push_tail(i);
	}
	check_list(&l);
	/* Head. */
	ql_remove(&l, &elms[0], link);
	ref_remove(0);
	check_detached(&elms[0]);
	check_list(&l);
	/* Tail. */
	ql_remove(&l, &elms[7], link);
	ref_remove(7);
	check_detached(&elms[7]);
	check_list(&l);
	/* Middle. */
	ql_remove(&l, &elms[4], link);
	ref_remove(4);
	check_detached(&elms[4]);
	check_list(&l);
	/* Removed elements can be inserted again. */
	ql_head_insert(&l, &elms[7], link);
	ref_push_head(7);
	ql_tail_insert(&l, &elms[0], link);
	ref_push_tail(0);
	check_list(&l);
	/* Down to one element, then empty. */
	while (nref > 1) {
		int id = ref[nref / 2];
		ql_remove(&l, &elms[id], link);
		ref_remove(id);
		check_detached(&elms[id]);
		check_list(&l);
	}
	int last = ref[0];
	ql_remove(&l, &elms[last], link);
	ref_remove(last);
	check_detached(&elms[last]);
	check_list(&l);
	expect_true(ql_empty(&l));
	expect_ptr_null(ql_first(&l));
}

TEST(test_foreach_remove_first_until_empty) {
	list_t l;
	ql_new(&l);
	elms_init();
	for (int i = 0; i < NELMS; i++) {
		ql_tail_insert(&l, &elms[i], link);
		ref_push_tail(i);
	}
	check_list(&l);
	/* Drain from the head, as the arenas drain their LRU lists. */
	int expect_id = 0;
	while (!ql_empty(&l)) {
		elm_t *e = ql_first(&l);
		CHECK(e->id == expect_id, "drained %d, want %d", e->id,
		    expect_id);
		ql_remove(&l, e, link);
		ref_remove(e->id);
		expect_id++;
	}
	expect_d_eq(expect_id, NELMS);
	check_list(&l);
}

TEST(test_random_ops) {
	list_t l;
	ql_new(&l);
	elms_init();
	bool in[NELMS];
	memset(in, 0, sizeof(in));
	uint64_t x = 0x0123456789abcdefULL;
	for (unsigned op = 0; op < 5000; op++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		int id = (int)(x % NELMS);
		unsigned what = (unsigned)((x >> 32) % 3);
		if (in[id]) {
			ql_remove(&l, &elms[id], link);
			ref_remove(id);
			in[id] = false;
			check_detached(&elms[id]);
		} else if (what == 0) {
			ql_head_insert(&l, &elms[id], link);
			ref_push_head(id);
			in[id] = true;
		} else {
			ql_tail_insert(&l, &elms[id], link);
			ref_push_tail(id);
			in[id] = true;
		}
		if (op % 7 == 0)
			check_list(&l);
	}
	check_list(&l);
}

int
main(void) {
	return test_run(
	    TEST_CASE(test_empty),
	    TEST_CASE(test_head_insert_order),
	    TEST_CASE(test_tail_insert_order),
	    TEST_CASE(test_mixed_insert),
	    TEST_CASE(test_remove_head_middle_tail),
	    TEST_CASE(test_foreach_remove_first_until_empty),
	    TEST_CASE(test_random_ops));
}
