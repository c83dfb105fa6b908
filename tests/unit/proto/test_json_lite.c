/* Unit tests for src/proto/json_lite.c: every JSON feature, every rejection,
 * exact integer limits, doubles that round-trip the v2 writer, strings with
 * NUL and surrogates, the depth rule, truncation at every byte, and
 * allocation failures. */
#include "tc_test.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "proto/json_lite.h"
#include "proto/v2_json_int.h"

/* Parse a NUL-terminated text (the NUL is not passed) with NaN allowed. */
static tc__jl_doc *parse_ok(const char *text)
{
    tc__jl_doc *doc = NULL;
    size_t at = 99;
    tc__jl_status st = tc__jl_parse(text, strlen(text), 64, TC__JL_NONFINITE, &doc, &at);
    if (st != TC__JL_OK)
        fail_msg("'%s' rejected: %s at %zu", text, tc__jl_status_str(st), at);
    assert_non_null(doc);
    return doc;
}

static void expect_fail(const char *text, tc__jl_status want, size_t want_at)
{
    tc__jl_doc *doc = (tc__jl_doc *)1;
    size_t at = 12345;
    tc__jl_status st = tc__jl_parse(text, strlen(text), 64, 0, &doc, &at);
    if (st != want || at != want_at)
        fail_msg("'%s': got '%s' at %zu, want '%s' at %zu", text, tc__jl_status_str(st), at,
                 tc__jl_status_str(want), want_at);
    assert_null(doc);
}

static void scalars(void **state)
{
    (void)state;
    tc__jl_doc *d = parse_ok(" \t\r\nnull \n");
    assert_int_equal(tc__jl_root(d)->type, TC__JL_NULL);
    tc__jl_free(d);
    d = parse_ok("true");
    assert_true(tc__jl_is(tc__jl_root(d), TC__JL_BOOL) && tc__jl_root(d)->v.b);
    tc__jl_free(d);
    d = parse_ok("false");
    assert_true(tc__jl_is(tc__jl_root(d), TC__JL_BOOL) && !tc__jl_root(d)->v.b);
    tc__jl_free(d);
    d = parse_ok("\"hi\"");
    assert_string_equal(tc__jl_root(d)->v.s, "hi");
    assert_int_equal(tc__jl_root(d)->len, 2);
    tc__jl_free(d);
    d = parse_ok("42");
    int64_t i = 0;
    assert_true(tc__jl_i64(tc__jl_root(d), &i));
    assert_int_equal(i, 42);
    tc__jl_free(d);
    tc__jl_free(NULL);
    assert_null(tc__jl_root(NULL));
}

/* Integer `text` must parse to exactly `want` (signed). */
static void int_is(const char *text, int64_t want)
{
    tc__jl_doc *d = parse_ok(text);
    int64_t i = 0;
    uint64_t u = 0;
    assert_true(tc__jl_i64(tc__jl_root(d), &i));
    assert_true(i == want);
    assert_int_equal(tc__jl_u64(tc__jl_root(d), &u), want >= 0);
    assert_int_equal(tc__jl_root(d)->flags & TC__JL_F_U64, 0);
    tc__jl_free(d);
}

static void u64_is(const char *text, uint64_t want)
{
    tc__jl_doc *d = parse_ok(text);
    int64_t i = 0;
    uint64_t u = 0;
    assert_false(tc__jl_i64(tc__jl_root(d), &i));
    assert_true(tc__jl_u64(tc__jl_root(d), &u));
    assert_true(u == want);
    double dv = 0;
    assert_true(tc__jl_double(tc__jl_root(d), &dv));
    assert_true(dv == (double)want);
    tc__jl_free(d);
}

static void integer_limits(void **state)
{
    (void)state;
    int_is("0", 0);
    int_is("-0", 0);
    int_is("-1", -1);
    int_is("9223372036854775807", INT64_MAX);
    int_is("-9223372036854775808", INT64_MIN);
    int_is("-9223372036854775807", -INT64_MAX);
    u64_is("9223372036854775808", (uint64_t)INT64_MAX + 1);
    u64_is("18446744073709551615", UINT64_MAX);
    u64_is("18446744073709551614", UINT64_MAX - 1);
    expect_fail("18446744073709551616", TC__JL_E_RANGE, 0);
    expect_fail("-9223372036854775809", TC__JL_E_RANGE, 0);
    expect_fail("[1, 99999999999999999999]", TC__JL_E_RANGE, 4);
    expect_fail("[-18446744073709551615]", TC__JL_E_RANGE, 1);
    expect_fail("1000000000000000000000000000000000000000000000000000000000000000000000000",
                TC__JL_E_RANGE, 0);
    /* An integer-looking literal with a fraction or exponent is a double. */
    tc__jl_doc *d = parse_ok("[18446744073709551616.0, 1e2, 99999999999999999999e0]");
    const tc__jl_value *a = tc__jl_root(d);
    assert_int_equal(a->len, 3);
    assert_int_equal(a[1].type, TC__JL_DOUBLE);
    assert_true(a[1].v.d == 18446744073709551616.0);
    assert_true(a[2].v.d == 100.0);
    assert_true(a[3].v.d == 1e20);
    int64_t i;
    assert_false(tc__jl_i64(&a[2], &i));
    tc__jl_free(d);
}

static void double_is(const char *text, double want)
{
    tc__jl_doc *d = parse_ok(text);
    const tc__jl_value *v = tc__jl_root(d);
    assert_int_equal(v->type, TC__JL_DOUBLE);
    if (memcmp(&v->v.d, &want, sizeof want) != 0)
        fail_msg("'%s' gave %.17g, want %.17g", text, v->v.d, want);
    tc__jl_free(d);
}

static void doubles(void **state)
{
    (void)state;
    double_is("-0.0", -0.0);
    double_is("0.0", 0.0);
    double_is("-0e0", -0.0);
    double_is("1.5", 1.5);
    double_is("1e2", 100.0);
    double_is("1E2", 100.0);
    double_is("1e+2", 100.0);
    double_is("1e-2", 0.01);
    double_is("2.5E-3", 0.0025);
    double_is("0.1", 0.1);
    double_is("3.299999952316284", 3.299999952316284);
    double_is("123456789012345680000.0", 123456789012345680000.0);
    double_is("1.7976931348623157e308", 1.7976931348623157e308);
    double_is("5e-324", 5e-324);
    double_is("2.2250738585072014e-308", 2.2250738585072014e-308);
    double_is("1e-400", 0.0);
    double_is("0.30000000000000004", 0.30000000000000004);
    double_is("9007199254740993.0", 9007199254740993.0);
    double_is("1.00000000000000000000000000000000000000001", 1.0);
    double_is("1e0000000000000000000000000001", 10.0);
    expect_fail("1e400", TC__JL_E_DOUBLE, 0);
    expect_fail("[0, -1.8e308]", TC__JL_E_DOUBLE, 4);
    tc__jl_doc *d = parse_ok("[NaN, Infinity, -Infinity]");
    const tc__jl_value *a = tc__jl_root(d);
    assert_true(isnan(a[1].v.d));
    assert_true(isinf(a[2].v.d) && a[2].v.d > 0);
    assert_true(isinf(a[3].v.d) && a[3].v.d < 0);
    tc__jl_free(d);
    expect_fail("NaN", TC__JL_E_CHAR, 0);
    expect_fail("[Infinity]", TC__JL_E_CHAR, 1);
    expect_fail("-Infinity", TC__JL_E_NUMBER, 1);
}

/* Splitmix64, for reproducible random doubles. */
static uint64_t next_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static void check_writer_double(double v)
{
    tc__buf b = TC__BUF_INIT;
    assert_int_equal(tc__jw_double(&b, v), TC_OK);
    tc__jl_doc *d = NULL;
    tc__jl_status st = tc__jl_parse((const char *)b.data, b.len, 4, TC__JL_NONFINITE, &d, NULL);
    if (st != TC__JL_OK)
        fail_msg("writer output '%s' rejected", (const char *)b.data);
    double got = 0;
    assert_true(tc__jl_double(tc__jl_root(d), &got));
    if (isnan(v))
        assert_true(isnan(got));
    else if (memcmp(&got, &v, sizeof v) != 0)
        fail_msg("'%s' read back as %.17g, want %.17g", (const char *)b.data, got, v);
    tc__jl_free(d);
    tc__buf_cleanup(&b);
}

static void writer_doubles_round_trip(void **state)
{
    (void)state;
    const double fixed[] = {0.0,    -0.0,     1.0,       0.1,
                            1e30,   1.5e-7,   1e21,      1e20,
                            5e-324, 1e-6,     123.456,   1.7976931348623157e308,
                            NAN,    HUGE_VAL, -HUGE_VAL, 3.4028234663852886e38};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        check_writer_double(fixed[i]);
    uint64_t seed = 42;
    for (int i = 0; i < 20000; i++) {
        uint64_t bits = next_rand(&seed);
        double v;
        memcpy(&v, &bits, sizeof v);
        check_writer_double(v);
        float f;
        uint32_t b32 = (uint32_t)bits;
        memcpy(&f, &b32, sizeof f);
        check_writer_double((double)f);
        check_writer_double((double)(int64_t)(bits >> (bits & 63)) / 1000.0);
    }
}

static void string_is(const char *text, const char *want, size_t want_len)
{
    tc__jl_doc *d = parse_ok(text);
    const tc__jl_value *v = tc__jl_root(d);
    assert_int_equal(v->type, TC__JL_STRING);
    assert_int_equal(v->len, want_len);
    assert_memory_equal(v->v.s, want, want_len);
    assert_int_equal(v->v.s[want_len], '\0');
    tc__jl_free(d);
}

static void strings(void **state)
{
    (void)state;
    string_is("\"\"", "", 0);
    string_is("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t", 8);
    string_is("\"a\\u0000b\"", "a\0b", 3);
    string_is("\"\\u0041\\u00e9\\u20AC\"", "A\xc3\xa9\xe2\x82\xac", 6);
    string_is("\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80", 4);
    string_is("\"\\uDBFF\\uDFFF\"", "\xf4\x8f\xbf\xbf", 4);
    string_is("\"\\u07ff\\u0800\\uffff\"", "\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf", 8);
    /* Raw bytes >= 0x80 (even invalid UTF-8) and DEL pass through. */
    string_is("\"\xc3\xa9\xff\x7f\"", "\xc3\xa9\xff\x7f", 4);
    expect_fail("\"\\x\"", TC__JL_E_STRING, 2);
    expect_fail("\"\\u12G4\"", TC__JL_E_STRING, 2);
    expect_fail("\"\\ud83d\"", TC__JL_E_STRING, 7);
    expect_fail("\"\\ud83dx\"", TC__JL_E_STRING, 7);
    expect_fail("\"\\ud83d\\u0041\"", TC__JL_E_STRING, 7);
    expect_fail("\"\\ude00\"", TC__JL_E_STRING, 7);
    expect_fail("\"a\x01\"", TC__JL_E_STRING, 2);
    expect_fail("\"a\tb\"", TC__JL_E_STRING, 2);
    expect_fail("\"a\nb\"", TC__JL_E_STRING, 2);
    expect_fail("'a'", TC__JL_E_CHAR, 0);
    /* A raw NUL byte inside a string is a control character. */
    tc__jl_doc *d = NULL;
    size_t at = 0;
    assert_int_equal(tc__jl_parse("\"a\0b\"", 5, 8, 0, &d, &at), TC__JL_E_STRING);
    assert_int_equal(at, 2);
}

/* Every byte value through the writer (RAW and ASCII modes) and back. */
static void writer_strings_round_trip(void **state)
{
    (void)state;
    char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (char)i;
    tc__buf b = TC__BUF_INIT;
    assert_int_equal(tc__jw_string(&b, all, sizeof all, TC__JW_RAW), TC_OK);
    tc__jl_doc *d = NULL;
    assert_int_equal(tc__jl_parse((const char *)b.data, b.len, 4, 0, &d, NULL), TC__JL_OK);
    assert_int_equal(tc__jl_root(d)->len, 256);
    assert_memory_equal(tc__jl_root(d)->v.s, all, 256);
    tc__jl_free(d);
    tc__buf_cleanup(&b);
    const char *utf8 = "a\0\x1f\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\x7f";
    size_t n = 13;
    assert_int_equal(tc__jw_string(&b, utf8, n, TC__JW_ASCII), TC_OK);
    assert_int_equal(tc__jl_parse((const char *)b.data, b.len, 4, 0, &d, NULL), TC__JL_OK);
    assert_int_equal(tc__jl_root(d)->len, n);
    assert_memory_equal(tc__jl_root(d)->v.s, utf8, n);
    tc__jl_free(d);
    tc__buf_cleanup(&b);
}

static void arrays_and_objects(void **state)
{
    (void)state;
    tc__jl_doc *d =
        parse_ok(" { \"a\" : [ 1 , [ ] , { } , [ true , null ] ] , \"b\" : { \"c\" : \"d\" } } ");
    const tc__jl_value *o = tc__jl_root(d);
    assert_int_equal(o->type, TC__JL_OBJECT);
    assert_int_equal(o->len, 2);
    const tc__jl_value *k = tc__jl_first(o);
    assert_string_equal(k->v.s, "a");
    const tc__jl_value *a = tc__jl_member(k);
    assert_int_equal(a->type, TC__JL_ARRAY);
    assert_int_equal(a->len, 4);
    assert_true(a->flags & TC__JL_F_NESTED);
    const tc__jl_value *e = tc__jl_first(a);
    assert_int_equal(e->v.i, 1);
    e = tc__jl_next(a, e);
    assert_true(tc__jl_is(e, TC__JL_ARRAY) && e->len == 0 && tc__jl_first(e) == NULL);
    e = tc__jl_next(a, e);
    assert_true(tc__jl_is(e, TC__JL_OBJECT) && e->len == 0 && tc__jl_first(e) == NULL);
    e = tc__jl_next(a, e);
    assert_true(tc__jl_is(e, TC__JL_ARRAY) && e->len == 2);
    assert_false(e->flags & TC__JL_F_NESTED);
    assert_int_equal(tc__jl_next(e, tc__jl_first(e))->type, TC__JL_NULL);
    assert_null(tc__jl_next(a, e));
    k = tc__jl_next(o, k);
    assert_string_equal(k->v.s, "b");
    assert_null(tc__jl_next(o, k));
    assert_string_equal(tc__jl_get(tc__jl_get(o, "b"), "c")->v.s, "d");
    assert_null(tc__jl_get(o, "c"));
    assert_null(tc__jl_get(o, ""));
    assert_null(tc__jl_get(a, "a"));
    assert_null(tc__jl_get(NULL, "a"));
    assert_null(tc__jl_first(NULL));
    assert_null(tc__jl_first(tc__jl_get(tc__jl_get(o, "b"), "c")));
    tc__jl_free(d);
    d = parse_ok("{\"\":1,\"k\\u0000x\":2}");
    o = tc__jl_root(d);
    assert_int_equal(tc__jl_get(o, "")->v.i, 1);
    /* Keys compare as C strings, as in json-c. */
    assert_int_equal(tc__jl_get(o, "k")->v.i, 2);
    assert_int_equal(tc__jl_next(o, tc__jl_first(o))->len, 3);
    tc__jl_free(d);
}

static void duplicate_keys(void **state)
{
    (void)state;
    tc__jl_doc *d = parse_ok("{\"a\":1,\"b\":[3],\"a\":{\"x\":2},\"c\":4,\"a\":5}");
    const tc__jl_value *o = tc__jl_root(d);
    assert_int_equal(o->len, 3);
    assert_int_equal(tc__jl_get(o, "a")->v.i, 5);
    const char *order[] = {"a", "b", "c"};
    const int64_t vals[] = {5, -1, 4};
    size_t i = 0;
    for (const tc__jl_value *k = tc__jl_first(o); k != NULL; k = tc__jl_next(o, k), i++) {
        assert_string_equal(k->v.s, order[i]);
        if (vals[i] >= 0)
            assert_int_equal(tc__jl_member(k)->v.i, vals[i]);
    }
    assert_int_equal(i, 3);
    tc__jl_free(d);
    /* Large objects take the sorting path. */
    tc__buf b = TC__BUF_INIT;
    assert_int_equal(tc__buf_append_str(&b, "{"), TC_OK);
    for (int r = 0; r < 3; r++) {
        for (int j = 0; j < 40; j++) {
            char m[64];
            snprintf(m, sizeof m, "%s\"k%d\":%d", r == 0 && j == 0 ? "" : ",", j, r * 100 + j);
            assert_int_equal(tc__buf_append_str(&b, m), TC_OK);
        }
    }
    assert_int_equal(tc__buf_append_str(&b, "}"), TC_OK);
    d = NULL;
    assert_int_equal(tc__jl_parse((const char *)b.data, b.len, 4, 0, &d, NULL), TC__JL_OK);
    o = tc__jl_root(d);
    assert_int_equal(o->len, 40);
    int j = 0;
    for (const tc__jl_value *k = tc__jl_first(o); k != NULL; k = tc__jl_next(o, k), j++) {
        char want[16];
        snprintf(want, sizeof want, "k%d", j);
        assert_string_equal(k->v.s, want);
        assert_int_equal(tc__jl_member(k)->v.i, 200 + j);
    }
    assert_int_equal(j, 40);
    tc__jl_free(d);
    tc__buf_cleanup(&b);
}

static void rejections(void **state)
{
    (void)state;
    expect_fail("", TC__JL_E_EOF, 0);
    expect_fail("  \n", TC__JL_E_EOF, 3);
    expect_fail("[1,]", TC__JL_E_CHAR, 3);
    expect_fail("[,1]", TC__JL_E_CHAR, 1);
    expect_fail("{\"a\":1,}", TC__JL_E_KEY, 7);
    expect_fail("{,}", TC__JL_E_KEY, 1);
    expect_fail("{a:1}", TC__JL_E_KEY, 1);
    expect_fail("{1:1}", TC__JL_E_KEY, 1);
    expect_fail("{\"a\" 1}", TC__JL_E_COLON, 5);
    expect_fail("{\"a\":1 \"b\":2}", TC__JL_E_OBJECT_SEP, 7);
    expect_fail("{\"a\":1]", TC__JL_E_OBJECT_SEP, 6);
    expect_fail("[1 2]", TC__JL_E_ARRAY_SEP, 3);
    expect_fail("[1}", TC__JL_E_ARRAY_SEP, 2);
    expect_fail("01", TC__JL_E_TRAILING, 1);
    expect_fail("[01]", TC__JL_E_ARRAY_SEP, 2);
    expect_fail("-01", TC__JL_E_TRAILING, 2);
    expect_fail("1.", TC__JL_E_EOF, 2);
    expect_fail("1.e5", TC__JL_E_NUMBER, 2);
    expect_fail(".5", TC__JL_E_CHAR, 0);
    expect_fail("+1", TC__JL_E_CHAR, 0);
    expect_fail("-", TC__JL_E_EOF, 1);
    expect_fail("-a", TC__JL_E_NUMBER, 1);
    expect_fail("1e", TC__JL_E_EOF, 2);
    expect_fail("1e+", TC__JL_E_EOF, 3);
    expect_fail("1ex", TC__JL_E_NUMBER, 2);
    expect_fail("0x10", TC__JL_E_TRAILING, 1);
    expect_fail("tru", TC__JL_E_EOF, 3);
    expect_fail("trUe", TC__JL_E_LITERAL, 0);
    expect_fail("nul", TC__JL_E_EOF, 3);
    expect_fail("nulL", TC__JL_E_LITERAL, 0);
    expect_fail("falsey", TC__JL_E_TRAILING, 5);
    expect_fail("[true false]", TC__JL_E_ARRAY_SEP, 6);
    expect_fail("/* c */ 1", TC__JL_E_CHAR, 0);
    expect_fail("1 // c", TC__JL_E_TRAILING, 2);
    expect_fail("{} {}", TC__JL_E_TRAILING, 3);
    expect_fail("[] x", TC__JL_E_TRAILING, 3);
    expect_fail("\"abc", TC__JL_E_EOF, 4);
    expect_fail("\"\\", TC__JL_E_EOF, 2);
    expect_fail("\"\\u12", TC__JL_E_EOF, 2);
    expect_fail("\"\\ud83d\\u", TC__JL_E_EOF, 7);
    expect_fail("[", TC__JL_E_EOF, 1);
    expect_fail("{\"a\"", TC__JL_E_EOF, 4);
    expect_fail("{\"a\":", TC__JL_E_EOF, 5);
    expect_fail("\xef\xbb\xbf{}", TC__JL_E_CHAR, 0);
    expect_fail("\x0b[]", TC__JL_E_CHAR, 0);
    tc__jl_doc *d = NULL;
    assert_int_equal(tc__jl_parse(NULL, 1, 4, 0, &d, NULL), TC__JL_E_TOO_LARGE);
    assert_int_equal(tc__jl_parse("1", (size_t)1 << 32, 4, 0, &d, NULL), TC__JL_E_TOO_LARGE);
    assert_string_equal(tc__jl_status_str(TC__JL_E_RANGE), "integer out of range");
    assert_string_equal(tc__jl_status_str((tc__jl_status)999), "unknown error");
}

/* The length is explicit: bytes after it are never read. */
static void explicit_length(void **state)
{
    (void)state;
    tc__jl_doc *d = NULL;
    assert_int_equal(tc__jl_parse("12345", 2, 4, 0, &d, NULL), TC__JL_OK);
    assert_int_equal(tc__jl_root(d)->v.i, 12);
    tc__jl_free(d);
    assert_int_equal(tc__jl_parse("[1]]", 3, 4, 0, &d, NULL), TC__JL_OK);
    tc__jl_free(d);
    assert_int_equal(tc__jl_parse("truex", 4, 4, 0, &d, NULL), TC__JL_OK);
    tc__jl_free(d);
    assert_int_equal(tc__jl_parse("\"ab\"", 3, 4, 0, &d, NULL), TC__JL_E_EOF);
}

static char *nested(size_t levels, const char *inner)
{
    size_t n = strlen(inner);
    char *s = tc__malloc(2 * levels + n + 1);
    assert_non_null(s);
    memset(s, '[', levels);
    memcpy(s + levels, inner, n);
    memset(s + levels + n, ']', levels);
    s[2 * levels + n] = '\0';
    return s;
}

static tc__jl_status parse_depth(const char *s, size_t max_depth)
{
    tc__jl_doc *d = NULL;
    tc__jl_status st = tc__jl_parse(s, strlen(s), max_depth, 0, &d, NULL);
    tc__jl_free(d);
    return st;
}

static void depth_limit(void **state)
{
    (void)state;
    /* json-c's rule: a value at depth >= the limit fails. */
    assert_int_equal(parse_depth("[[1]]", 3), TC__JL_OK);
    assert_int_equal(parse_depth("[[[1]]]", 3), TC__JL_E_DEPTH);
    assert_int_equal(parse_depth("[[[]]]", 3), TC__JL_OK);
    assert_int_equal(parse_depth("{\"a\":{\"b\":1}}", 3), TC__JL_OK);
    assert_int_equal(parse_depth("{\"a\":{\"b\":{\"c\":1}}}", 3), TC__JL_E_DEPTH);
    assert_int_equal(parse_depth("1", 0), TC__JL_E_DEPTH);
    assert_int_equal(parse_depth("1", 1), TC__JL_OK);
    tc__jl_doc *d = NULL;
    size_t at = 0;
    assert_int_equal(tc__jl_parse("[[ [1]]]", 8, 3, 0, &d, &at), TC__JL_E_DEPTH);
    assert_int_equal(at, 4);
    /* Deep nesting costs no C stack. */
    char *deep = nested(200000, "7");
    assert_int_equal(parse_depth(deep, 200001), TC__JL_OK);
    assert_int_equal(parse_depth(deep, 200000), TC__JL_E_DEPTH);
    assert_int_equal(parse_depth(deep, 100), TC__JL_E_DEPTH);
    tc__free(deep);
}

static const char k_sample[] =
    "{\"id\":\"7\",\"model_name\":\"simple\",\"parameters\":{\"seq\":18446744073709551615,"
    "\"neg\":-9223372036854775808,\"d\":-1.5e-7,\"t\":true,\"f\":false,\"n\":null,"
    "\"s\":\"a\\u0000\\ud83d\\ude00\\\"\\n\"},\"outputs\":[{\"name\":\"OUTPUT0\","
    "\"datatype\":\"FP32\",\"shape\":[1,3],\"data\":[NaN,-Infinity,0.25]},[[],{}]]}  ";

/* Every proper prefix of a document fails cleanly; the whole one parses. */
static void truncated_everywhere(void **state)
{
    (void)state;
    size_t n = sizeof k_sample - 1;
    for (size_t len = 0; len < n; len++) {
        char *copy = tc__memdup(k_sample, len); /* exact size: ASan sees overreads */
        tc__jl_doc *d = NULL;
        size_t at = 0;
        tc__jl_status st = tc__jl_parse(copy, len, 16, TC__JL_NONFINITE, &d, &at);
        tc__free(copy);
        /* Prefixes ending after a complete root are complete documents. */
        if (len >= n - 2) {
            assert_int_equal(st, TC__JL_OK);
            tc__jl_free(d);
            continue;
        }
        if (st == TC__JL_OK)
            fail_msg("prefix of %zu bytes accepted", len);
        assert_null(d);
        assert_true(at <= len);
    }
    tc__jl_doc *d = parse_ok(k_sample);
    const tc__jl_value *p = tc__jl_get(tc__jl_root(d), "parameters");
    uint64_t u = 0;
    assert_true(tc__jl_u64(tc__jl_get(p, "seq"), &u) && u == UINT64_MAX);
    assert_int_equal(tc__jl_get(p, "s")->len, 8);
    tc__jl_free(d);
}

static void fail_each_allocation(void **state)
{
    (void)state;
    /* A large object (sorting path) and a long number (heap copy) too. */
    char text[4096];
    size_t n = (size_t)snprintf(text, sizeof text, "[%s,{", k_sample);
    for (int j = 0; j < 20; j++)
        n += (size_t)snprintf(text + n, sizeof text - n, "%s\"%d\":%d", j ? "," : "", j % 15, j);
    n += (size_t)snprintf(text + n, sizeof text - n, ",\"x\":1.%0100d}]", 1);
    assert_true(n < sizeof text);
    bool ok = false;
    for (unsigned long i = 1; i < 50 && !ok; i++) {
        tc__alloc_fail_after(i);
        tc__jl_doc *d = NULL;
        tc__jl_status st = tc__jl_parse(text, n, 16, TC__JL_NONFINITE, &d, NULL);
        tc__alloc_fail_after(0);
        if (st == TC__JL_OK) {
            ok = true;
            tc__jl_free(d);
        } else if (st != TC__JL_E_NOMEM) {
            fail_msg("allocation %lu: %s", i, tc__jl_status_str(st));
        }
    }
    assert_true(ok);
}

/* Many values force the node array to grow. */
static void node_array_grows(void **state)
{
    (void)state;
    tc__buf b = TC__BUF_INIT;
    assert_int_equal(tc__buf_append_str(&b, "["), TC_OK);
    for (int i = 0; i < 50000; i++)
        assert_int_equal(tc__buf_append_str(&b, i ? ",[0]" : "[0]"), TC_OK);
    assert_int_equal(tc__buf_append_str(&b, "]"), TC_OK);
    tc__jl_doc *d = NULL;
    assert_int_equal(tc__jl_parse((const char *)b.data, b.len, 4, 0, &d, NULL), TC__JL_OK);
    const tc__jl_value *a = tc__jl_root(d);
    assert_int_equal(a->len, 50000);
    assert_int_equal(a->v.span, 100001);
    size_t count = 0;
    for (const tc__jl_value *e = tc__jl_first(a); e != NULL; e = tc__jl_next(a, e))
        count += tc__jl_first(e)->v.i == 0;
    assert_int_equal(count, 50000);
    tc__jl_free(d);
    tc__buf_cleanup(&b);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(scalars),
    cmocka_unit_test(integer_limits),
    cmocka_unit_test(doubles),
    cmocka_unit_test(writer_doubles_round_trip),
    cmocka_unit_test(strings),
    cmocka_unit_test(writer_strings_round_trip),
    cmocka_unit_test(arrays_and_objects),
    cmocka_unit_test(duplicate_keys),
    cmocka_unit_test(rejections),
    cmocka_unit_test(explicit_length),
    cmocka_unit_test(depth_limit),
    cmocka_unit_test(truncated_everywhere),
    cmocka_unit_test(fail_each_allocation),
    cmocka_unit_test(node_array_grows),
};

TC_TEST_MAIN(tests)
