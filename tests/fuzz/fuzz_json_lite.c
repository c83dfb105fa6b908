/* libFuzzer target for src/proto/json_lite.c: parse arbitrary bytes and
 * walk the whole DOM; and, differentially, when json-c also accepts the
 * input as one document, the two must agree on every value. json-c is
 * laxer (comments, trailing commas, clamped integers...), so only inputs
 * both accept are compared. */
#include <json-c/json.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/json_lite.h"

#define DEPTH 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Touch every node through the public accessors. */
static size_t walk(const tc__jl_value *v)
{
    size_t n = 1;
    if (v->type == TC__JL_STRING && v->v.s[v->len] != '\0')
        abort();
    if (v->type == TC__JL_OBJECT) {
        size_t members = 0;
        for (const tc__jl_value *k = tc__jl_first(v); k != NULL; k = tc__jl_next(v, k)) {
            if (k->type != TC__JL_STRING || tc__jl_get(v, k->v.s) != tc__jl_member(k))
                abort();
            n += walk(tc__jl_member(k));
            members++;
        }
        if (members != v->len)
            abort();
    } else if (v->type == TC__JL_ARRAY) {
        size_t elems = 0;
        for (const tc__jl_value *e = tc__jl_first(v); e != NULL; e = tc__jl_next(v, e)) {
            n += walk(e);
            elems++;
        }
        if (elems != v->len)
            abort();
    }
    return n;
}

static bool same_double(double a, double b)
{
    return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0 || (a == 0 && b == 0);
}

static bool same(const tc__jl_value *v, json_object *o);

static bool same_object(const tc__jl_value *v, json_object *o)
{
    if (!json_object_is_type(o, json_type_object) || v->type != TC__JL_OBJECT)
        return false;
    if ((size_t)json_object_object_length(o) != v->len)
        return false;
    const tc__jl_value *k = tc__jl_first(v);
    json_object_object_foreach(o, key, val)
    {
        if (k == NULL || strcmp(k->v.s, key) != 0 || !same(tc__jl_member(k), val))
            return false;
        k = tc__jl_next(v, k);
    }
    return k == NULL;
}

static bool same_array(const tc__jl_value *v, json_object *o)
{
    if (!json_object_is_type(o, json_type_array) || v->type != TC__JL_ARRAY)
        return false;
    size_t n = json_object_array_length(o);
    if (n != v->len)
        return false;
    const tc__jl_value *e = tc__jl_first(v);
    for (size_t i = 0; i < n; i++, e = tc__jl_next(v, e)) {
        if (e == NULL || !same(e, json_object_array_get_idx(o, i)))
            return false;
    }
    return true;
}

static bool same(const tc__jl_value *v, json_object *o)
{
    int64_t i;
    uint64_t u;
    switch (v->type) {
    case TC__JL_NULL:
        return o == NULL;
    case TC__JL_BOOL:
        return json_object_is_type(o, json_type_boolean) && json_object_get_boolean(o) == v->v.b;
    case TC__JL_INT:
        if (!json_object_is_type(o, json_type_int))
            return false;
        if (tc__jl_i64(v, &i))
            return json_object_get_int64(o) == i;
        return tc__jl_u64(v, &u) && json_object_get_uint64(o) == u;
    case TC__JL_DOUBLE:
        return json_object_is_type(o, json_type_double) &&
               same_double(json_object_get_double(o), v->v.d);
    case TC__JL_STRING:
        return json_object_is_type(o, json_type_string) &&
               (size_t)json_object_get_string_len(o) == v->len &&
               memcmp(json_object_get_string(o), v->v.s, v->len) == 0;
    case TC__JL_ARRAY:
        return same_array(v, o);
    default:
        return same_object(v, o);
    }
}

/* json-c's verdict on the input as a whole document; *out NULL when it
 * rejects it. Returns false when json-c fails. */
static bool jsonc_parse(const uint8_t *data, size_t size, json_object **out)
{
    *out = NULL;
    if (size > INT32_MAX)
        return false;
    struct json_tokener *tok = json_tokener_new_ex(DEPTH);
    if (tok == NULL)
        return false;
    json_object *o = json_tokener_parse_ex(tok, (const char *)data, (int)size);
    bool ok = json_tokener_get_error(tok) == json_tokener_success;
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    while (ok && end < size && strchr(" \t\r\n", data[end]) != NULL && data[end] != '\0')
        end++;
    if (!ok || end != size) {
        json_object_put(o);
        return false;
    }
    *out = o;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tc__jl_doc *doc = NULL;
    size_t at = 0;
    tc__jl_status st = tc__jl_parse((const char *)data, size, DEPTH, TC__JL_NONFINITE, &doc, &at);
    if (st != TC__JL_OK) {
        if (doc != NULL || at > size)
            abort();
        return 0;
    }
    const tc__jl_value *root = tc__jl_root(doc);
    /* Hidden duplicates are skipped, so the walk sees at most every node. */
    if (walk(root) > (size_t)(tc__jl_skip(root) - root))
        abort();
    json_object *o = NULL;
    if (jsonc_parse(data, size, &o) && !same(root, o))
        abort();
    json_object_put(o);
    tc__jl_free(doc);
    return 0;
}
