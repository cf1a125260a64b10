/*
 * Intrusive circular doubly-linked lists.  A list head points at its first
 * element; each element embeds a ql_elm(type) link.
 */
#ifndef JEMALLOC_QL_H
#define JEMALLOC_QL_H

#define ql_head(type) struct { type *qlh_first; }
#define ql_elm(type) struct { type *qre_next; type *qre_prev; }

#define ql_new(head) ((head)->qlh_first = NULL)
#define ql_empty(head) ((head)->qlh_first == NULL)
#define ql_elm_new(elm, field) do {					\
	(elm)->field.qre_next = (elm);					\
	(elm)->field.qre_prev = (elm);					\
} while (0)

#define ql_first(head) ((head)->qlh_first)
#define ql_last(head, field)						\
	(ql_first(head) != NULL ? ql_first(head)->field.qre_prev : NULL)
#define ql_next(head, elm, field)					\
	((ql_last(head, field) != (elm)) ? (elm)->field.qre_next : NULL)
#define ql_prev(head, elm, field)					\
	((ql_first(head) != (elm)) ? (elm)->field.qre_prev : NULL)

/* Links elm before the ring member at. */
#define ql_ring_insert_before_(at, elm, field) do {			\
	(elm)->field.qre_prev = (at)->field.qre_prev;			\
	(elm)->field.qre_next = (at);					\
	(elm)->field.qre_prev->field.qre_next = (elm);			\
	(at)->field.qre_prev = (elm);					\
} while (0)

#define ql_tail_insert(head, elm, field) do {				\
	if (ql_first(head) != NULL)					\
		ql_ring_insert_before_(ql_first(head), (elm), field);	\
	ql_first(head) = (elm);						\
	ql_first(head) = (elm)->field.qre_next;				\
} while (0)

#define ql_head_insert(head, elm, field) do {				\
	if (ql_first(head) != NULL)					\
		ql_ring_insert_before_(ql_first(head), (elm), field);	\
	ql_first(head) = (elm);						\
} while (0)

#define ql_remove(head, elm, field) do {				\
	if (ql_first(head) == (elm))					\
		ql_first(head) = (elm)->field.qre_next;			\
	if (ql_first(head) == (elm)) {					\
		ql_first(head) = NULL;					\
	} else {							\
		(elm)->field.qre_prev->field.qre_next =			\
		    (elm)->field.qre_next;				\
		(elm)->field.qre_next->field.qre_prev =			\
		    (elm)->field.qre_prev;				\
	}								\
	ql_elm_new((elm), field);					\
} while (0)

#define ql_foreach(var, head, field)					\
	for ((var) = ql_first(head); (var) != NULL;			\
	    (var) = ql_next((head), (var), field))

#endif
