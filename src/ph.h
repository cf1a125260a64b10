/*
 * Pairing heaps, generated per element type by ph_gen().  Insert and
 * meld are O(1); removing the minimum uses the two-pass pairing merge.
 *
 * Link layout: a node's first child is phn_lchild; siblings chain through
 * phn_next; phn_prev points at the left sibling, or at the parent for a
 * first child, and is NULL for the root.
 */
#ifndef JEMALLOC_PH_H
#define JEMALLOC_PH_H

#define phn(a_type) struct {						\
	a_type *phn_prev;						\
	a_type *phn_next;						\
	a_type *phn_lchild;						\
}
#define ph(a_type) struct { a_type *ph_root; }

#define ph_gen(a_attr, a_prefix, a_ph_type, a_type, a_field, a_cmp)	\
static inline a_type *							\
a_prefix##_meld_(a_type *a, a_type *b) {				\
	if (a == NULL)							\
		return b;						\
	if (b == NULL)							\
		return a;						\
	if (a_cmp(b, a) < 0) {						\
		a_type *t = a;						\
		a = b;							\
		b = t;							\
	}								\
	/* b becomes a's first child. */				\
	b->a_field.phn_prev = a;					\
	b->a_field.phn_next = a->a_field.phn_lchild;			\
	if (a->a_field.phn_lchild != NULL)				\
		a->a_field.phn_lchild->a_field.phn_prev = b;		\
	a->a_field.phn_lchild = b;					\
	return a;							\
}									\
static inline a_type *							\
a_prefix##_merge_pairs_(a_type *first) {				\
	a_type *pairs = NULL, *cur = first;				\
	while (cur != NULL) {						\
		a_type *a = cur, *b = a->a_field.phn_next, *m;		\
		a->a_field.phn_prev = a->a_field.phn_next = NULL;	\
		if (b != NULL) {					\
			cur = b->a_field.phn_next;			\
			b->a_field.phn_prev = b->a_field.phn_next = NULL; \
			m = a_prefix##_meld_(a, b);			\
		} else {						\
			cur = NULL;					\
			m = a;						\
		}							\
		m->a_field.phn_next = pairs;	/* temporary chain */	\
		pairs = m;						\
	}								\
	if (pairs == NULL)						\
		return NULL;						\
	a_type *root = pairs;						\
	pairs = root->a_field.phn_next;					\
	root->a_field.phn_next = NULL;					\
	while (pairs != NULL) {						\
		a_type *n = pairs->a_field.phn_next;			\
		pairs->a_field.phn_next = NULL;				\
		root = a_prefix##_meld_(root, pairs);			\
		pairs = n;						\
	}								\
	return root;							\
}									\
a_attr void								\
a_prefix##_new(a_ph_type *ph) {						\
	ph->ph_root = NULL;						\
}									\
a_attr bool								\
a_prefix##_empty(const a_ph_type *ph) {					\
	return ph->ph_root == NULL;					\
}									\
a_attr a_type *								\
a_prefix##_first(const a_ph_type *ph) {					\
	return ph->ph_root;						\
}									\
a_attr void								\
a_prefix##_insert(a_ph_type *ph, a_type *n) {				\
	n->a_field.phn_prev = n->a_field.phn_next = NULL;		\
	n->a_field.phn_lchild = NULL;					\
	ph->ph_root = a_prefix##_meld_(ph->ph_root, n);			\
}									\
a_attr a_type *								\
a_prefix##_remove_first(a_ph_type *ph) {				\
	a_type *r = ph->ph_root;					\
	if (r == NULL)							\
		return NULL;						\
	ph->ph_root = a_prefix##_merge_pairs_(r->a_field.phn_lchild);	\
	r->a_field.phn_lchild = NULL;					\
	return r;							\
}									\
a_attr void								\
a_prefix##_remove(a_ph_type *ph, a_type *n) {				\
	if (ph->ph_root == n) {						\
		a_prefix##_remove_first(ph);				\
		return;							\
	}								\
	a_type *prev = n->a_field.phn_prev;				\
	if (prev->a_field.phn_lchild == n)				\
		prev->a_field.phn_lchild = n->a_field.phn_next;		\
	else								\
		prev->a_field.phn_next = n->a_field.phn_next;		\
	if (n->a_field.phn_next != NULL)				\
		n->a_field.phn_next->a_field.phn_prev = prev;		\
	a_type *sub = a_prefix##_merge_pairs_(n->a_field.phn_lchild);	\
	ph->ph_root = a_prefix##_meld_(ph->ph_root, sub);		\
	n->a_field.phn_prev = n->a_field.phn_next = NULL;		\
	n->a_field.phn_lchild = NULL;					\
}

#endif
