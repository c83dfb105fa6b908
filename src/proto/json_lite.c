/* Strict JSON reader into a compact DOM (see json_lite.h). The parser is
 * iterative: an open container keeps its parent's index in v.span until it
 * closes, so nesting costs no C stack and no separate stack allocation. */
#include "proto/json_lite.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"

#define NO_NODE         SIZE_MAX
#define MAX_INPUT       ((size_t)INT32_MAX)
#define FIRST_NODES_MAX 4096
#define SMALL_OBJECT    16
#define NUMBER_BUF      64

struct tc__jl_doc {
    tc__jl_value *nodes; /* nodes[0] is the root */
    size_t count;
    size_t cap;
    size_t slab_len; /* bytes of slab in use */
    char slab[];     /* unescaped strings, len + 1 bytes */
};

typedef struct parser {
    const char *s;
    size_t len;
    size_t pos;
    size_t max_depth;
    size_t depth; /* containers open around the next value */
    size_t cur;   /* innermost open container, or NO_NODE */
    unsigned flags;
    tc__jl_doc *doc;
} parser;

const char *tc__jl_status_str(tc__jl_status st)
{
    static const char *const text[] = {
        "success",
        "out of memory",
        "input too large",
        "unexpected end of input",
        "nesting too deep",
        "unexpected character",
        "invalid literal",
        "invalid number",
        "integer out of range",
        "number out of range",
        "invalid string sequence",
        "array value separator ',' expected",
        "quoted object property name expected",
        "object property name separator ':' expected",
        "object value separator ',' expected",
        "the document root must not be followed by other values",
    };
    size_t i = (size_t)st;
    return i < sizeof text / sizeof text[0] ? text[i] : "unknown error";
}

/* ---- nodes ----------------------------------------------------------------- */

/* Append a node; returns its index or NO_NODE when out of memory. */
static size_t new_node(parser *p, tc__jl_type type)
{
    tc__jl_doc *d = p->doc;
    if (d->count == d->cap) {
        tc__jl_value *grown = tc__reallocarray(d->nodes, d->cap * 2, sizeof *grown);
        if (grown == NULL)
            return NO_NODE;
        d->nodes = grown;
        d->cap *= 2;
    }
    size_t i = d->count++;
    tc__jl_value *v = &d->nodes[i];
    v->v.u = 0;
    v->len = 0;
    v->redirect = 0;
    v->type = (uint8_t)type;
    v->flags = 0;
    return i;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static void skip_space(parser *p)
{
    while (p->pos < p->len && is_space(p->s[p->pos]))
        p->pos++;
}

/* ---- literals -------------------------------------------------------------- */

/* Match `lit` at the current position. */
static tc__jl_status expect_literal(parser *p, const char *lit, size_t n)
{
    size_t left = p->len - p->pos;
    size_t cmp = left < n ? left : n;
    if (memcmp(p->s + p->pos, lit, cmp) != 0)
        return TC__JL_E_LITERAL;
    if (left < n) {
        p->pos = p->len;
        return TC__JL_E_EOF;
    }
    p->pos += n;
    return TC__JL_OK;
}

static tc__jl_status parse_literal(parser *p, size_t idx)
{
    tc__jl_value *v = &p->doc->nodes[idx];
    switch (p->s[p->pos]) {
    case 't':
        v->type = TC__JL_BOOL;
        v->v.b = true;
        return expect_literal(p, "true", 4);
    case 'f':
        v->type = TC__JL_BOOL;
        return expect_literal(p, "false", 5);
    case 'n':
        return expect_literal(p, "null", 4);
    case 'N':
        v->type = TC__JL_DOUBLE;
        v->v.d = NAN;
        return expect_literal(p, "NaN", 3);
    default:
        v->type = TC__JL_DOUBLE;
        v->v.d = HUGE_VAL;
        return expect_literal(p, "Infinity", 8);
    }
}

/* ---- numbers --------------------------------------------------------------- */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Exact powers of ten representable as doubles. */
static const double k_pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Clinger's fast path: when the significant digits fit 2^53 and the
 * decimal exponent is within +-22, one IEEE multiply or divide of exact
 * operands rounds correctly. `s` is a validated JSON number without sign. */
static bool fast_double(const char *s, size_t n, double *out)
{
    uint64_t m = 0;
    int digits = 0;
    long exp10 = 0;
    size_t i = 0;
    bool frac = false;
    for (; i < n && s[i] != 'e' && s[i] != 'E'; i++) {
        if (s[i] == '.') {
            frac = true;
            continue;
        }
        if (m != 0 || s[i] != '0')
            digits++;
        if (digits > 19)
            return false;
        m = m * 10 + (uint64_t)(s[i] - '0');
        exp10 -= frac ? 1 : 0;
    }
    if (i < n) {
        bool neg = s[++i] == '-';
        if (s[i] == '-' || s[i] == '+')
            i++;
        long e = 0;
        for (; i < n && e < 100000; i++)
            e = e * 10 + (s[i] - '0');
        exp10 += neg ? -e : e;
    }
    if (m == 0) {
        *out = 0.0;
        return true;
    }
    if (m > ((uint64_t)1 << 53) || exp10 < -22 || exp10 > 22)
        return false;
    double d = (double)m;
    *out = exp10 < 0 ? d / k_pow10[-exp10] : d * k_pow10[exp10];
    return true;
}

/* strtod on a NUL-terminated copy of the number. */
static tc__jl_status slow_double(const char *s, size_t n, double *out)
{
    char local[NUMBER_BUF];
    char *buf = n < sizeof local ? local : tc__malloc(n + 1);
    if (buf == NULL)
        return TC__JL_E_NOMEM;
    memcpy(buf, s, n);
    buf[n] = '\0';
    *out = strtod(buf, NULL);
    if (buf != local)
        tc__free(buf);
    return TC__JL_OK;
}

/* Skip a run of digits; false when there is none. */
static bool digits(parser *p)
{
    size_t start = p->pos;
    while (p->pos < p->len && is_digit(p->s[p->pos]))
        p->pos++;
    return p->pos > start;
}

/* Error for a missing digit at the current position. */
static tc__jl_status no_digit(const parser *p)
{
    return p->pos >= p->len ? TC__JL_E_EOF : TC__JL_E_NUMBER;
}

static tc__jl_status store_int(parser *p, size_t idx, size_t start, bool neg, uint64_t u,
                               bool overflow)
{
    tc__jl_value *v = &p->doc->nodes[idx];
    if (overflow || (neg && u > (uint64_t)INT64_MAX + 1)) {
        p->pos = start;
        return TC__JL_E_RANGE;
    }
    v->type = TC__JL_INT;
    if (neg)
        v->v.i = u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u;
    else if (u > (uint64_t)INT64_MAX)
        v->flags = TC__JL_F_U64;
    if (!neg)
        v->v.u = u;
    return TC__JL_OK;
}

static tc__jl_status store_double(parser *p, size_t idx, size_t start, bool neg)
{
    const char *s = p->s + start + (neg ? 1 : 0);
    size_t n = p->pos - start - (neg ? 1 : 0);
    double d;
    if (!fast_double(s, n, &d)) {
        tc__jl_status st = slow_double(s, n, &d);
        if (st != TC__JL_OK)
            return st;
        if (isinf(d)) {
            p->pos = start;
            return TC__JL_E_DOUBLE;
        }
    }
    tc__jl_value *v = &p->doc->nodes[idx];
    v->type = TC__JL_DOUBLE;
    v->v.d = neg ? -d : d;
    return TC__JL_OK;
}

static tc__jl_status parse_number(parser *p, size_t idx)
{
    size_t start = p->pos;
    bool neg = p->s[p->pos] == '-';
    if (neg && ++p->pos < p->len && p->s[p->pos] == 'I' && (p->flags & TC__JL_NONFINITE)) {
        tc__jl_status st = parse_literal(p, idx);
        p->doc->nodes[idx].v.d = -HUGE_VAL;
        return st;
    }
    uint64_t u = 0;
    bool overflow = false;
    if (p->pos < p->len && p->s[p->pos] == '0') {
        p->pos++;
    } else {
        size_t d0 = p->pos;
        if (!digits(p))
            return no_digit(p);
        for (size_t i = d0; i < p->pos; i++) {
            uint64_t dg = (uint64_t)(p->s[i] - '0');
            overflow = overflow || u > (UINT64_MAX - dg) / 10;
            u = u * 10 + dg;
        }
    }
    bool is_int = true;
    if (p->pos < p->len && p->s[p->pos] == '.') {
        p->pos++;
        if (!digits(p))
            return no_digit(p);
        is_int = false;
    }
    if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
        p->pos++;
        if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
            p->pos++;
        if (!digits(p))
            return no_digit(p);
        is_int = false;
    }
    if (is_int)
        return store_int(p, idx, start, neg, u, overflow);
    return store_double(p, idx, start, neg);
}

/* ---- strings --------------------------------------------------------------- */

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Read the 4 hex digits of a \u escape at s[pos]; -1 on a bad digit, -2
 * when the input ends first. */
static long hex4(const parser *p, size_t pos)
{
    long v = 0;
    for (size_t i = 0; i < 4; i++) {
        if (pos + i >= p->len)
            return -2;
        int h = hex_value(p->s[pos + i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

static char *put_utf8(char *d, unsigned long cp)
{
    if (cp < 0x80) {
        *d++ = (char)cp;
    } else if (cp < 0x800) {
        *d++ = (char)(0xC0 | (cp >> 6));
        *d++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *d++ = (char)(0xE0 | (cp >> 12));
        *d++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *d++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *d++ = (char)(0xF0 | (cp >> 18));
        *d++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *d++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *d++ = (char)(0x80 | (cp & 0x3F));
    }
    return d;
}

/* A \uXXXX escape (p->pos at the 'u'), with a following low surrogate when
 * it is a high one. */
static tc__jl_status unicode_escape(parser *p, char **d)
{
    long hi = hex4(p, p->pos + 1);
    if (hi < 0)
        return hi == -2 ? TC__JL_E_EOF : TC__JL_E_STRING;
    unsigned long cp = (unsigned long)hi;
    p->pos += 5;
    if (cp >= 0xDC00 && cp <= 0xDFFF)
        return TC__JL_E_STRING;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (p->pos < p->len && p->s[p->pos] != '\\')
            return TC__JL_E_STRING;
        if (p->pos + 1 >= p->len)
            return TC__JL_E_EOF;
        if (p->s[p->pos + 1] != 'u')
            return TC__JL_E_STRING;
        long lo = hex4(p, p->pos + 2);
        if (lo < 0)
            return lo == -2 ? TC__JL_E_EOF : TC__JL_E_STRING;
        if (lo < 0xDC00 || lo > 0xDFFF)
            return TC__JL_E_STRING;
        cp = 0x10000 + ((cp - 0xD800) << 10) + ((unsigned long)lo - 0xDC00);
        p->pos += 6;
    }
    *d = put_utf8(*d, cp);
    return TC__JL_OK;
}

/* One escape sequence; p->pos at the backslash. */
static tc__jl_status escape(parser *p, char **d)
{
    if (++p->pos >= p->len)
        return TC__JL_E_EOF;
    char c = p->s[p->pos];
    static const char from[] = "\"\\/bfnrt";
    static const char to[] = "\"\\/\b\f\n\r\t";
    const char *hit = c != '\0' ? strchr(from, c) : NULL;
    if (hit != NULL) {
        *(*d)++ = to[hit - from];
        p->pos++;
        return TC__JL_OK;
    }
    if (c != 'u')
        return TC__JL_E_STRING;
    return unicode_escape(p, d);
}

/* A string at p->pos (the opening quote) into node `idx`. */
static tc__jl_status parse_string(parser *p, size_t idx)
{
    tc__jl_doc *doc = p->doc;
    char *start = doc->slab + doc->slab_len;
    char *d = start;
    const char *s = p->s;
    p->pos++;
    for (;;) {
        size_t i = p->pos;
        while (i < p->len && s[i] != '"' && s[i] != '\\' && (unsigned char)s[i] >= 0x20)
            *d++ = s[i++];
        p->pos = i;
        if (i >= p->len)
            return TC__JL_E_EOF;
        if (s[i] == '"')
            break;
        if (s[i] != '\\')
            return TC__JL_E_STRING;
        tc__jl_status st = escape(p, &d);
        if (st != TC__JL_OK)
            return st;
    }
    p->pos++;
    *d = '\0';
    tc__jl_value *v = &doc->nodes[idx];
    v->type = TC__JL_STRING;
    v->v.s = start;
    v->len = (size_t)(d - start);
    doc->slab_len += v->len + 1;
    return TC__JL_OK;
}

/* ---- duplicate keys -------------------------------------------------------- */

typedef struct key_ref {
    const char *key;
    size_t idx;
} key_ref;

static int key_ref_cmp(const void *a, const void *b)
{
    const key_ref *x = a;
    const key_ref *y = b;
    int c = strcmp(x->key, y->key);
    if (c != 0)
        return c;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Make `first` show the value of the later duplicate `dup` and hide `dup`. */
static void override_key(tc__jl_value *nodes, size_t obj, size_t first, size_t dup)
{
    nodes[first].redirect = (uint32_t)(dup + 1 - first);
    nodes[dup].flags |= TC__JL_F_HIDDEN;
    nodes[obj].len--;
}

static void collect_keys(const tc__jl_value *nodes, size_t obj, key_ref *keys, size_t n)
{
    size_t k = obj + 1;
    for (size_t i = 0; i < n; i++) {
        keys[i].key = nodes[k].v.s;
        keys[i].idx = k;
        k = (size_t)(tc__jl_skip(&nodes[k + 1]) - nodes);
    }
}

/* Resolve duplicate keys of the object at `obj` (just closed). Small
 * objects compare every pair; large ones sort, so hostile input with many
 * keys stays O(n log n). */
static tc__jl_status dedup(parser *p, size_t obj)
{
    tc__jl_value *nodes = p->doc->nodes;
    size_t n = nodes[obj].len;
    key_ref small[SMALL_OBJECT];
    key_ref *keys = n <= SMALL_OBJECT ? small : tc__calloc(n, sizeof *keys);
    if (keys == NULL)
        return TC__JL_E_NOMEM;
    collect_keys(nodes, obj, keys, n);
    if (keys == small) {
        for (size_t i = 1; i < n; i++) {
            for (size_t j = 0; j < i; j++) {
                if (keys[j].key[0] == keys[i].key[0] &&
                    !(nodes[keys[j].idx].flags & TC__JL_F_HIDDEN) &&
                    strcmp(keys[j].key, keys[i].key) == 0) {
                    override_key(nodes, obj, keys[j].idx, keys[i].idx);
                    break;
                }
            }
        }
        return TC__JL_OK;
    }
    qsort(keys, n, sizeof *keys, key_ref_cmp);
    for (size_t g = 0; g < n;) {
        size_t e = g + 1;
        while (e < n && strcmp(keys[e].key, keys[g].key) == 0)
            e++;
        /* Sorted by position within a group: the last override wins. */
        for (size_t i = g + 1; i < e; i++)
            override_key(nodes, obj, keys[g].idx, keys[i].idx);
        g = e;
    }
    tc__free(keys);
    return TC__JL_OK;
}

/* ---- structure ------------------------------------------------------------- */

/* Parse the value at the current position. Containers are only opened
 * (*opened set); scalars are complete on return. */
static tc__jl_status parse_value(parser *p, bool *opened)
{
    skip_space(p);
    if (p->pos >= p->len)
        return TC__JL_E_EOF;
    if (p->depth >= p->max_depth)
        return TC__JL_E_DEPTH;
    char c = p->s[p->pos];
    size_t idx = new_node(p, TC__JL_NULL);
    if (idx == NO_NODE)
        return TC__JL_E_NOMEM;
    if (p->cur != NO_NODE && p->doc->nodes[p->cur].type == TC__JL_ARRAY)
        p->doc->nodes[p->cur].len++;
    *opened = false;
    if (c == '{' || c == '[') {
        if (p->cur != NO_NODE)
            p->doc->nodes[p->cur].flags |= TC__JL_F_NESTED;
        tc__jl_value *v = &p->doc->nodes[idx];
        v->type = c == '{' ? TC__JL_OBJECT : TC__JL_ARRAY;
        v->v.span = p->cur;
        p->cur = idx;
        p->depth++;
        p->pos++;
        *opened = true;
        return TC__JL_OK;
    }
    if (c == '"')
        return parse_string(p, idx);
    if (c == '-' || is_digit(c))
        return parse_number(p, idx);
    if (c == 't' || c == 'f' || c == 'n' ||
        ((c == 'N' || c == 'I') && (p->flags & TC__JL_NONFINITE)))
        return parse_literal(p, idx);
    return TC__JL_E_CHAR;
}

/* A key and its colon, inside the open object. */
static tc__jl_status parse_key(parser *p)
{
    skip_space(p);
    if (p->pos >= p->len)
        return TC__JL_E_EOF;
    if (p->s[p->pos] != '"')
        return TC__JL_E_KEY;
    size_t idx = new_node(p, TC__JL_STRING);
    if (idx == NO_NODE)
        return TC__JL_E_NOMEM;
    p->doc->nodes[p->cur].len++;
    tc__jl_status st = parse_string(p, idx);
    if (st != TC__JL_OK)
        return st;
    skip_space(p);
    if (p->pos >= p->len)
        return TC__JL_E_EOF;
    if (p->s[p->pos] != ':')
        return TC__JL_E_COLON;
    p->pos++;
    return TC__JL_OK;
}

static tc__jl_status close_container(parser *p)
{
    tc__jl_value *v = &p->doc->nodes[p->cur];
    size_t idx = p->cur;
    p->cur = v->v.span;
    v->v.span = p->doc->count - idx;
    p->depth--;
    p->pos++;
    if (v->type == TC__JL_OBJECT && v->len > 1)
        return dedup(p, idx);
    return TC__JL_OK;
}

/* After a value (or an opened container when `opened`): close containers
 * and read separators until the next value is due (*more) or the root is
 * complete. */
static tc__jl_status after_value(parser *p, bool opened, bool *more)
{
    *more = false;
    while (p->cur != NO_NODE) {
        bool object = p->doc->nodes[p->cur].type == TC__JL_OBJECT;
        skip_space(p);
        if (p->pos >= p->len)
            return TC__JL_E_EOF;
        char c = p->s[p->pos];
        if (c == (object ? '}' : ']')) {
            tc__jl_status st = close_container(p);
            if (st != TC__JL_OK)
                return st;
            opened = false;
            continue;
        }
        if (!opened) {
            if (c != ',')
                return object ? TC__JL_E_OBJECT_SEP : TC__JL_E_ARRAY_SEP;
            p->pos++;
        }
        *more = true;
        return object ? parse_key(p) : TC__JL_OK;
    }
    return TC__JL_OK;
}

static tc__jl_status parse_root(parser *p)
{
    bool more = true;
    while (more) {
        bool opened = false;
        tc__jl_status st = parse_value(p, &opened);
        if (st == TC__JL_OK)
            st = after_value(p, opened, &more);
        if (st != TC__JL_OK)
            return st;
    }
    skip_space(p);
    return p->pos < p->len ? TC__JL_E_TRAILING : TC__JL_OK;
}

static tc__jl_doc *new_doc(size_t len)
{
    tc__jl_doc *doc = tc__malloc(sizeof *doc + len + 1);
    if (doc == NULL)
        return NULL;
    doc->count = 0;
    doc->slab_len = 0;
    doc->cap = len / 4 + 16;
    if (doc->cap > FIRST_NODES_MAX)
        doc->cap = FIRST_NODES_MAX;
    doc->nodes = tc__reallocarray(NULL, doc->cap, sizeof *doc->nodes);
    if (doc->nodes == NULL) {
        tc__free(doc);
        return NULL;
    }
    return doc;
}

tc__jl_status tc__jl_parse(const char *text, size_t len, size_t max_depth, unsigned flags,
                           tc__jl_doc **out, size_t *err_offset)
{
    *out = NULL;
    if (err_offset != NULL)
        *err_offset = 0;
    if (len > MAX_INPUT || (text == NULL && len > 0))
        return TC__JL_E_TOO_LARGE;
    parser p = {text, len, 0, max_depth, 0, NO_NODE, flags, new_doc(len)};
    if (p.doc == NULL)
        return TC__JL_E_NOMEM;
    tc__jl_status st = parse_root(&p);
    if (st != TC__JL_OK) {
        if (err_offset != NULL)
            *err_offset = p.pos;
        tc__jl_free(p.doc);
        return st;
    }
    *out = p.doc;
    return TC__JL_OK;
}

void tc__jl_free(tc__jl_doc *doc)
{
    if (doc == NULL)
        return;
    tc__free(doc->nodes);
    tc__free(doc);
}

const tc__jl_value *tc__jl_root(const tc__jl_doc *doc)
{
    return doc != NULL ? &doc->nodes[0] : NULL;
}

/* ---- access ---------------------------------------------------------------- */

/* Next visible child of `c` at or after `v`; keys only for objects. */
static const tc__jl_value *visible(const tc__jl_value *c, const tc__jl_value *v)
{
    const tc__jl_value *end = c + c->v.span;
    while (v < end && (v->flags & TC__JL_F_HIDDEN))
        v = tc__jl_skip(v + 1);
    return v < end ? v : NULL;
}

const tc__jl_value *tc__jl_first(const tc__jl_value *c)
{
    if (c == NULL || c->type < TC__JL_ARRAY || c->len == 0)
        return NULL;
    return visible(c, c + 1);
}

const tc__jl_value *tc__jl_next(const tc__jl_value *c, const tc__jl_value *cur)
{
    if (c->type == TC__JL_OBJECT)
        return visible(c, tc__jl_skip(cur + 1));
    const tc__jl_value *n = tc__jl_skip(cur);
    return n < c + c->v.span ? n : NULL;
}

const tc__jl_value *tc__jl_get(const tc__jl_value *o, const char *key)
{
    if (!tc__jl_is(o, TC__JL_OBJECT))
        return NULL;
    for (const tc__jl_value *k = tc__jl_first(o); k != NULL; k = tc__jl_next(o, k)) {
        if (k->v.s[0] == key[0] && strcmp(k->v.s, key) == 0)
            return tc__jl_member(k);
    }
    return NULL;
}

bool tc__jl_i64(const tc__jl_value *v, int64_t *out)
{
    if (!tc__jl_is(v, TC__JL_INT) || (v->flags & TC__JL_F_U64))
        return false;
    *out = v->v.i;
    return true;
}

bool tc__jl_u64(const tc__jl_value *v, uint64_t *out)
{
    if (!tc__jl_is(v, TC__JL_INT) || (!(v->flags & TC__JL_F_U64) && v->v.i < 0))
        return false;
    *out = v->v.u;
    return true;
}

bool tc__jl_double(const tc__jl_value *v, double *out)
{
    if (tc__jl_is(v, TC__JL_DOUBLE))
        *out = v->v.d;
    else if (tc__jl_is(v, TC__JL_INT))
        *out = (v->flags & TC__JL_F_U64) ? (double)v->v.u : (double)v->v.i;
    else
        return false;
    return true;
}
