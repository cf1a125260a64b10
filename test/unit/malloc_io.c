/*
 * malloc_io: malloc_snprintf/malloc_vsnprintf against the C library's
 * snprintf for a table of conversions, flags, widths and precisions, at
 * every buffer size (truncation); malloc_strtoumax against strtoumax and
 * its error cases.
 */
#include "jemalloc_internal.h"
#include "malloc_io.h"

#include "test.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>


#define BUFSZ 512
#define CANARY 0x7e

/*
 * Formats with both implementations at every size from 0 to the full
 * length + 2: same return value, same bytes, nothing written at or past
 * str[size].
 */
static void check_fmt(int line, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void
check_fmt(int line, const char *fmt, ...) {
	char want[BUFSZ], got[BUFSZ];
	va_list ap, aq;
	va_start(ap, fmt);
	va_copy(aq, ap);
	int n = vsnprintf(want, sizeof(want), fmt, aq);
	va_end(aq);
	if (n < 0 || n >= BUFSZ - 4) {
		test_fail_at(__FILE__, line, "bad reference for \"%s\"", fmt);
		va_end(ap);
		return;
	}
	for (size_t size = 0; size <= (size_t)n + 2; size++) {
		memset(got, CANARY, sizeof(got));
		va_copy(aq, ap);
		size_t r = malloc_vsnprintf(got, size, fmt, aq);
		va_end(aq);
		bool ok = r == (size_t)n;
		if (size > 0) {
			size_t len = (size_t)n < size - 1 ? (size_t)n : size - 1;
			ok = ok && memcmp(got, want, len) == 0 && got[len] == '\0';
		}
		for (size_t i = size; i < sizeof(got); i++)
			ok = ok && (unsigned char)got[i] == CANARY;
		if (!ok) {
			test_fail_at(__FILE__, line, "format \"%s\" size %zu: got "
			    "\"%.*s\" (returned %zu), libc \"%s\" (%d)", fmt, size,
			    (int)(size > 0 ? size - 1 : 0), got, r, want, n);
			if (++check_nfail >= 20)
				test_leave();
			break;
		}
	}
	va_end(ap);
}
#define FMT(...) check_fmt(__LINE__, __VA_ARGS__)

TEST(test_snprintf_conversions) {
	int var;
	FMT("plain text, no conversions");
	FMT("%%");
	FMT("100%% sure %%%%");
	FMT("%d", 0);
	FMT("%d", 1);
	FMT("%d", -1);
	FMT("%d", 42);
	FMT("%d", INT_MAX);
	FMT("%d", INT_MIN);
	FMT("%i", -123);
	FMT("%i", INT_MIN);
	FMT("%u", 0U);
	FMT("%u", 4000000000U);
	FMT("%u", UINT_MAX);
	FMT("%x", 0U);
	FMT("%x", 0xdeadbeefU);
	FMT("%X", 0xdeadbeefU);
	FMT("%x", UINT_MAX);
	FMT("%o", 0U);
	FMT("%o", 8U);
	FMT("%o", 0777U);
	FMT("%o", UINT_MAX);
	FMT("%p", (void *)&var);
	FMT("%p", (void *)(uintptr_t)0x1000);
	FMT("%s", "hello");
	FMT("%s", "");
	FMT("[%s][%s]", "a", "bc");
	FMT("%c", 'A');
	FMT("%c%c%c", 'x', 'y', 'z');
	FMT("%zu", (size_t)0);
	FMT("%zu", SIZE_MAX);
	FMT("%zx", SIZE_MAX);
	FMT("%zd", (ssize_t)-5);
	FMT("%zd", (ssize_t)SSIZE_MAX);
	FMT("%zd", (ssize_t)(-SSIZE_MAX - 1));
	FMT("%lu", ULONG_MAX);
	FMT("%lx", ULONG_MAX);
	FMT("%ld", LONG_MIN);
	FMT("%ld", LONG_MAX);
	FMT("%llu", ULLONG_MAX);
	FMT("%llu", (unsigned long long)UINT64_MAX);
	FMT("%llx", 0x0123456789abcdefULL);
	FMT("%llX", 0xfedcba9876543210ULL);
	FMT("%lld", LLONG_MIN);
	FMT("%lld", -1LL);
	FMT("%" PRIu64, UINT64_MAX);
	FMT("%" PRIx64, UINT64_MAX);
	FMT("%" PRId64, INT64_MIN);
	FMT("%jd", INTMAX_MIN);
	FMT("%ju", UINTMAX_MAX);
	FMT("%td", (ptrdiff_t)-7);
	FMT("%hhd", 127);
	FMT("%hhd", 300);
	FMT("%hhd", 200);
	FMT("%hhd", -1);
	FMT("%hhd", -129);
	FMT("%hhu", 300U);
	FMT("%hhx", 0x1234U);
	FMT("%hd", 70000);
	FMT("%hd", -32768);
	FMT("%hd", 40000);
	FMT("%hu", 70000U);
	FMT("a%db%sc%xd%ce%%f%u", 1, "two", 3U, '4', 5U);
}

TEST(test_snprintf_flags_width_precision) {
	int var;
	/* Width. */
	FMT("%5d", 42);
	FMT("%5d", -42);
	FMT("%1d", 12345);
	FMT("%-5d|", 42);
	FMT("%-5d|", -42);
	FMT("%10u", 7U);
	FMT("%-10u|", 7U);
	FMT("%10lu", ULONG_MAX);
	FMT("%30lu", ULONG_MAX);
	FMT("%25lld", LLONG_MIN);
	FMT("%-25lld|", LLONG_MIN);
	/* Zero padding, with signs. */
	FMT("%05d", 42);
	FMT("%05d", -42);
	FMT("%05d", 0);
	FMT("%010u", 7U);
	FMT("%08x", 0xbeefU);
	FMT("%8X", 0xbeefU);
	FMT("%020llu", ULLONG_MAX);
	FMT("%012d", INT_MIN);
	/* '+' and ' '. */
	FMT("%+d", 42);
	FMT("%+d", -42);
	FMT("%+d", 0);
	FMT("% d", 42);
	FMT("% d", -42);
	FMT("%+5d", 42);
	FMT("%-+5d|", 42);
	FMT("% 5d", 42);
	FMT("%- 5d|", 42);
	FMT("% 05d", 42);
	FMT("%+05d", 42);
	FMT("%+05d", -42);
	FMT("%+ld", LONG_MAX);
	FMT("%+lld", LLONG_MIN);
	FMT("% zd", (ssize_t)12);
	/* '#'. */
	FMT("%#x", 255U);
	FMT("%#X", 255U);
	FMT("%#x", 0U);
	FMT("%#o", 8U);
	FMT("%#o", 0U);
	FMT("%#10x", 255U);
	FMT("%#010x", 255U);
	FMT("%-#10x|", 255U);
	FMT("%#llx", ULLONG_MAX);
	FMT("%#5o", 8U);
	/* Pointers with width. */
	FMT("%20p|", (void *)&var);
	FMT("%-20p|", (void *)&var);
	/* Strings: width and precision. */
	FMT("%10s|", "abc");
	FMT("%-10s|", "abc");
	FMT("%2s|", "abcdef");
	FMT("%.2s|", "abcdef");
	FMT("%.0s|", "abc");
	FMT("%.10s|", "abc");
	FMT("%5.2s|", "abcdef");
	FMT("%-5.2s|", "abcdef");
	FMT("%.*s|", 3, "abcdef");
	FMT("%.*s|", 0, "abcdef");
	FMT("%.*s|", -1, "abcdef");
	FMT("%8.*s|", 3, "abcdef");
	/* Characters with width. */
	FMT("%3c|", 'x');
	FMT("%-3c|", 'x');
	/* '*' width, negative means left-justified. */
	FMT("%*d|", 6, 42);
	FMT("%*d|", -6, 42);
	FMT("%-*d|", 6, 42);
	FMT("%*s|", 7, "ab");
	FMT("%*s|", -7, "ab");
	FMT("%*u|", 0, 5U);
	/* Long output. */
	FMT("%200s|%-100d|", "x", 1);
}

TEST(test_snprintf_truncation) {
	char buf[32];
	memset(buf, CANARY, sizeof(buf));
	size_t r = malloc_snprintf(buf, 5, "%s", "hello world");
	expect_zu_eq(r, 11, "returns the full length");
	expect_d_eq(strcmp(buf, "hell"), 0, "keeps size - 1 characters");
	expect_d_eq((unsigned char)buf[5], CANARY, "wrote past size");

	memset(buf, CANARY, sizeof(buf));
	r = malloc_snprintf(buf, 1, "%d", 12345);
	expect_zu_eq(r, 5);
	expect_d_eq(buf[0], '\0', "size 1 writes only the NUL");
	expect_d_eq((unsigned char)buf[1], CANARY);

	memset(buf, CANARY, sizeof(buf));
	r = malloc_snprintf(buf, 0, "%d-%s", 12345, "abc");
	expect_zu_eq(r, 9);
	for (size_t i = 0; i < sizeof(buf); i++)
		CHECK((unsigned char)buf[i] == CANARY, "size 0 wrote byte %zu", i);
	/* size 0 with no buffer at all. */
	r = malloc_snprintf(NULL, 0, "%s%s", "abc", "defg");
	expect_zu_eq(r, 7);

	/* Exactly fitting. */
	memset(buf, CANARY, sizeof(buf));
	r = malloc_snprintf(buf, 6, "%05d", 42);
	expect_zu_eq(r, 5);
	expect_d_eq(strcmp(buf, "00042"), 0);
	expect_d_eq((unsigned char)buf[6], CANARY);

	/* A padded number cut in its padding. */
	memset(buf, CANARY, sizeof(buf));
	r = malloc_snprintf(buf, 4, "%08x", 0xbeefU);
	expect_zu_eq(r, 8);
	expect_d_eq(strcmp(buf, "000"), 0);

	/* Output longer than MALLOC_PRINTF_BUFSIZE is still counted. */
	char big[64];
	r = malloc_snprintf(big, sizeof(big), "%5000d", 1);
	expect_zu_eq(r, 5000);
	expect_zu_eq(strlen(big), sizeof(big) - 1);
}

/* --- malloc_strtoumax ------------------------------------------------------ */

/* Checks value, endptr and errno against strtoumax. */
static void
check_strtoumax_libc(int line, const char *s, int base) {
	char *end_want, *end_got;
	errno = 0;
	uintmax_t want = strtoumax(s, &end_want, base);
	int errno_want = errno;
	errno = 0;
	uintmax_t got = malloc_strtoumax(s, &end_got, base);
	int errno_got = errno;
	if (got != want || end_got != end_want || errno_got != errno_want) {
		test_fail_at(__FILE__, line, "strtoumax(\"%s\", %d): got %ju "
		    "end +%td errno %d; libc %ju end +%td errno %d", s, base,
		    got, end_got - s, errno_got, want, end_want - s, errno_want);
		if (++check_nfail >= 20)
			test_leave();
	}
}
#define STRTOUMAX(s, base) check_strtoumax_libc(__LINE__, s, base)

TEST(test_strtoumax_valid) {
	/* Decimal. */
	STRTOUMAX("0", 10);
	STRTOUMAX("12345", 10);
	STRTOUMAX("00012", 10);
	STRTOUMAX("18446744073709551615", 10);
	STRTOUMAX("42abc", 10);
	STRTOUMAX("42 7", 10);
	/* Leading white space and signs. */
	STRTOUMAX("  42", 10);
	STRTOUMAX("\t\n\v\f\r 7x", 10);
	STRTOUMAX("+17", 10);
	STRTOUMAX("-17", 10);
	STRTOUMAX("-1", 10);
	STRTOUMAX("  -0x10", 0);
	STRTOUMAX("+0x10", 16);
	/* Hex. */
	STRTOUMAX("0x1f", 16);
	STRTOUMAX("0X1F", 16);
	STRTOUMAX("1f", 16);
	STRTOUMAX("ffffffffffffffff", 16);
	STRTOUMAX("0xDeadBeefg", 16);
	/* Octal. */
	STRTOUMAX("777", 8);
	STRTOUMAX("0777", 8);
	STRTOUMAX("789", 8);
	STRTOUMAX("1777777777777777777777", 8);
	/* Base 0: 0x is hex, a leading 0 octal, else decimal. */
	STRTOUMAX("0x1f", 0);
	STRTOUMAX("0XaB", 0);
	STRTOUMAX("017", 0);
	STRTOUMAX("08", 0);
	STRTOUMAX("0", 0);
	STRTOUMAX("123abc", 0);
	STRTOUMAX("0x", 0);
	STRTOUMAX("0xg", 0);
	STRTOUMAX("4096k", 0);
	/* Other bases. */
	STRTOUMAX("101", 2);
	STRTOUMAX("12", 2);
	STRTOUMAX("z", 36);
	STRTOUMAX("Zz", 36);
	STRTOUMAX("3w5e11264sgsf", 36);
}

TEST(test_strtoumax_hex_prefix_without_digits) {
	/* The subject sequence is "0": value 0, end after the '0'. */
	STRTOUMAX("0x", 16);
	STRTOUMAX("0xg", 16);
	STRTOUMAX("0X", 16);
}

TEST(test_strtoumax_endptr_null) {
	errno = 0;
	expect_u64_eq(malloc_strtoumax("123", NULL, 10), 123);
	expect_u64_eq(malloc_strtoumax("0x10", NULL, 0), 16);
	expect_d_eq(errno, 0, "errno set on success");
}

TEST(test_strtoumax_errors) {
	/* No digits: EINVAL, endptr == nptr. */
	const char *nodigits[] = {"", "   ", "abc", "+", "-", " + 1", "-x",
	    "\t"};
	for (unsigned i = 0; i < sizeof(nodigits) / sizeof(nodigits[0]); i++) {
		char *end = (char *)1;
		errno = 0;
		malloc_strtoumax(nodigits[i], &end, 10);
		CHECK(errno == EINVAL, "\"%s\": errno %d, want EINVAL",
		    nodigits[i], errno);
		CHECK(end == nodigits[i], "\"%s\": endptr moved by %td",
		    nodigits[i], end - nodigits[i]);
		errno = 0;
		end = (char *)1;
		malloc_strtoumax(nodigits[i], &end, 0);
		CHECK(errno == EINVAL, "\"%s\" base 0: errno %d", nodigits[i],
		    errno);
		CHECK(end == nodigits[i], "\"%s\" base 0: endptr", nodigits[i]);
	}
	{
		/* A digit that is invalid for the base is no digit. */
		const char *s = "9";
		char *end;
		errno = 0;
		malloc_strtoumax(s, &end, 8);
		CHECK(errno == EINVAL && end == s, "\"9\" base 8");
	}
	/* Overflow: ERANGE and UINTMAX_MAX. */
	const struct {
		const char *s;
		int base;
	} over[] = {
		{"18446744073709551616", 10},
		{"99999999999999999999999", 10},
		{"36893488147419103232", 10},	/* 2^65 */
		{"10000000000000000", 16},
		{"0x10000000000000000", 0},
		{"fffffffffffffffff", 16},
		{"2000000000000000000000", 8},
		{"-18446744073709551616", 10},
		{"340282366920938463463374607431768211456", 10},
	};
	for (unsigned i = 0; i < sizeof(over) / sizeof(over[0]); i++) {
		char *end;
		errno = 0;
		uintmax_t v = malloc_strtoumax(over[i].s, &end, over[i].base);
		CHECK(errno == ERANGE, "\"%s\": errno %d, want ERANGE",
		    over[i].s, errno);
		CHECK(v == UINTMAX_MAX, "\"%s\": value %ju", over[i].s, v);
		CHECK(end > over[i].s, "\"%s\": endptr not advanced", over[i].s);
	}
	/* The largest value is not an overflow. */
	errno = 0;
	expect_u64_eq(malloc_strtoumax("18446744073709551615", NULL, 10),
	    UINT64_MAX);
	expect_d_eq(errno, 0);
	/* Invalid bases. */
	const int bad_bases[] = {-1, 1, 37, 100};
	for (unsigned i = 0; i < sizeof(bad_bases) / sizeof(bad_bases[0]); i++) {
		const char *s = "10";
		char *end = (char *)1;
		errno = 0;
		malloc_strtoumax(s, &end, bad_bases[i]);
		CHECK(errno == EINVAL, "base %d: errno %d", bad_bases[i], errno);
		CHECK(end == s, "base %d: endptr", bad_bases[i]);
	}
}

int
main(void) {
	return test_run(
	    TEST_CASE(test_snprintf_conversions),
	    TEST_CASE(test_snprintf_flags_width_precision),
	    TEST_CASE(test_snprintf_truncation),
	    TEST_CASE(test_strtoumax_valid),
	    TEST_CASE(test_strtoumax_hex_prefix_without_digits),
	    TEST_CASE(test_strtoumax_endptr_null),
	    TEST_CASE(test_strtoumax_errors));
}
