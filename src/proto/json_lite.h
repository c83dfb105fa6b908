/* A small strict JSON reader: one call parses a buffer into a compact DOM,
 * one call frees it. Built for the v2 codec's hot path (a few hundred bytes
 * per request), where json-c's allocation per value dominated the cost.
 *
 * Layout: every value is one tc__jl_value in a single node array, in
 * document order (pre-order). A container is followed by its children; its
 * `span` counts the nodes of its subtree, itself included, so a sibling is
 * reached by skipping `span` nodes. An object's children alternate key
 * (a STRING node) and value. Strings are unescaped into one slab owned by
 * the document, each NUL-terminated (they may also contain NUL: use len).
 *
 * Grammar: RFC 8259, strictly: no comments, trailing commas, single quotes,
 * leading zeros or raw control characters in strings. Integers that fit
 * [INT64_MIN, UINT64_MAX] become INT nodes, other integer literals are an
 * error (never clamped); anything with a fraction or exponent is a DOUBLE
 * (an overflow to infinity is an error). With TC__JL_NONFINITE, the
 * literals NaN, Infinity and -Infinity are read as doubles too (the v2
 * writer emits them, as Python and json-c read them). Bytes >= 0x80 in
 * strings are copied unchecked (as json-c does); \u escapes become UTF-8,
 * surrogate pairs combined, lone surrogates rejected. Duplicate keys: the
 * last value wins and the member keeps the first key's position, as in
 * json-c; keys compare as C strings (up to a NUL), also as in json-c. */
#ifndef TC_SRC_PROTO_JSON_LITE_H
#define TC_SRC_PROTO_JSON_LITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum tc__jl_type {
    TC__JL_NULL,
    TC__JL_BOOL,
    TC__JL_INT,
    TC__JL_DOUBLE,
    TC__JL_STRING,
    TC__JL_ARRAY,
    TC__JL_OBJECT
} tc__jl_type;

/* Node flags. */
#define TC__JL_F_U64    0x1u /* INT above INT64_MAX: read v.u, not v.i */
#define TC__JL_F_HIDDEN 0x2u /* key overridden by a later duplicate */
#define TC__JL_F_NESTED 0x4u /* container with an array or object child */

typedef struct tc__jl_value {
    union {
        bool b;
        int64_t i;
        uint64_t u;
        double d;
        const char *s; /* STRING: NUL-terminated, in the document's slab */
        size_t span;   /* ARRAY, OBJECT: nodes in the subtree, itself included */
    } v;
    size_t len;        /* STRING: bytes; ARRAY: elements; OBJECT: visible members */
    uint32_t redirect; /* key: distance to the value that replaced its own, or 0 */
    uint8_t type;      /* tc__jl_type */
    uint8_t flags;     /* TC__JL_F_* */
} tc__jl_value;

typedef struct tc__jl_doc tc__jl_doc;

/* Parse results. */
typedef enum tc__jl_status {
    TC__JL_OK,
    TC__JL_E_NOMEM,
    TC__JL_E_TOO_LARGE,  /* input over 2 GiB */
    TC__JL_E_EOF,        /* input ends inside a value */
    TC__JL_E_DEPTH,      /* nesting deeper than the limit */
    TC__JL_E_CHAR,       /* unexpected character */
    TC__JL_E_LITERAL,    /* bad true/false/null/NaN/Infinity */
    TC__JL_E_NUMBER,     /* malformed number */
    TC__JL_E_RANGE,      /* integer out of int64/uint64 range */
    TC__JL_E_DOUBLE,     /* number too large for a double */
    TC__JL_E_STRING,     /* bad escape, control character or surrogate */
    TC__JL_E_ARRAY_SEP,  /* ',' or ']' expected */
    TC__JL_E_KEY,        /* quoted key expected */
    TC__JL_E_COLON,      /* ':' expected */
    TC__JL_E_OBJECT_SEP, /* ',' or '}' expected */
    TC__JL_E_TRAILING    /* something other than whitespace after the value */
} tc__jl_status;

/* Parse flags. */
#define TC__JL_NONFINITE 0x1u /* accept NaN, Infinity, -Infinity */

/* Parse `len` bytes of `text` (not NUL-terminated). A value's depth is the
 * number of arrays and objects around it (the root's is 0); a value at
 * depth >= max_depth fails with TC__JL_E_DEPTH (json-c's rule for its
 * depth argument). On success *out owns the document; on failure *out is
 * NULL and *err_offset (if not NULL) is the byte offset of the problem. */
tc__jl_status tc__jl_parse(const char *text, size_t len, size_t max_depth, unsigned flags,
                           tc__jl_doc **out, size_t *err_offset);
/* Free a document and every value in it. NULL does nothing. */
void tc__jl_free(tc__jl_doc *doc);
/* The root value; valid until tc__jl_free(). */
const tc__jl_value *tc__jl_root(const tc__jl_doc *doc);
/* A short English description ("unexpected character"). */
const char *tc__jl_status_str(tc__jl_status st);

/* True when `v` is not NULL and has type `t`. */
static inline bool tc__jl_is(const tc__jl_value *v, tc__jl_type t)
{
    return v != NULL && v->type == t;
}

/* Value of an object member, NULL when absent (or `o` is not an object). */
const tc__jl_value *tc__jl_get(const tc__jl_value *o, const char *key);

/* The node after `v`'s subtree. */
static inline const tc__jl_value *tc__jl_skip(const tc__jl_value *v)
{
    return v->type >= TC__JL_ARRAY ? v + v->v.span : v + 1;
}

/* Array iteration: for (e = tc__jl_first(a); e; e = tc__jl_next(a, e)).
 * Object iteration walks the keys the same way (hidden duplicates skipped);
 * tc__jl_member(k) is a key's value. */
const tc__jl_value *tc__jl_first(const tc__jl_value *c);
const tc__jl_value *tc__jl_next(const tc__jl_value *c, const tc__jl_value *cur);
static inline const tc__jl_value *tc__jl_member(const tc__jl_value *key)
{
    return key + (key->redirect ? key->redirect : 1);
}

/* Exact integer reads: false unless `v` is an INT in the target range. */
bool tc__jl_i64(const tc__jl_value *v, int64_t *out);
bool tc__jl_u64(const tc__jl_value *v, uint64_t *out);
/* INT or DOUBLE as a double; false for other types. */
bool tc__jl_double(const tc__jl_value *v, double *out);

#endif /* TC_SRC_PROTO_JSON_LITE_H */
