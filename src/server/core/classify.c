/* Classification extension (HTTP.md 6.7): top-k of an output per batch item
 * as BYTES "<value>:<index>[:<label>]". Values print as C++ std::to_string
 * prints them, as Triton does: floating types with "%f", integers in
 * decimal. Ties keep the lower index first. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "core/internal.h"
#include "proto/bytes.h"

typedef enum kind { KIND_FLOAT, KIND_SIGNED, KIND_UNSIGNED } kind;

typedef struct scored {
    size_t index;
    union {
        double d;
        int64_t i;
        uint64_t u;
    } v;
} scored;

static int cmp_float(const void *a, const void *b)
{
    const scored *x = a;
    const scored *y = b;
    if (x->v.d != y->v.d)
        return x->v.d < y->v.d ? 1 : -1;
    return (x->index > y->index) - (x->index < y->index);
}

static int cmp_signed(const void *a, const void *b)
{
    const scored *x = a;
    const scored *y = b;
    if (x->v.i != y->v.i)
        return x->v.i < y->v.i ? 1 : -1;
    return (x->index > y->index) - (x->index < y->index);
}

static int cmp_unsigned(const void *a, const void *b)
{
    const scored *x = a;
    const scored *y = b;
    if (x->v.u != y->v.u)
        return x->v.u < y->v.u ? 1 : -1;
    return (x->index > y->index) - (x->index < y->index);
}

static bool kind_of(tc_dtype t, kind *k)
{
    switch (t) {
    case TC_DTYPE_FP32:
    case TC_DTYPE_FP64:
        *k = KIND_FLOAT;
        return true;
    case TC_DTYPE_INT8:
    case TC_DTYPE_INT16:
    case TC_DTYPE_INT32:
    case TC_DTYPE_INT64:
        *k = KIND_SIGNED;
        return true;
    case TC_DTYPE_UINT8:
    case TC_DTYPE_UINT16:
    case TC_DTYPE_UINT32:
    case TC_DTYPE_UINT64:
        *k = KIND_UNSIGNED;
        return true;
    default:
        return false;
    }
}

static void load(tc_dtype t, const uint8_t *p, scored *s)
{
    switch (t) {
    case TC_DTYPE_FP32: {
        float f;
        memcpy(&f, p, 4);
        s->v.d = (double)f;
        break;
    }
    case TC_DTYPE_FP64:
        memcpy(&s->v.d, p, 8);
        break;
    case TC_DTYPE_INT8: {
        int8_t x;
        memcpy(&x, p, 1);
        s->v.i = x;
        break;
    }
    case TC_DTYPE_INT16: {
        int16_t x;
        memcpy(&x, p, 2);
        s->v.i = x;
        break;
    }
    case TC_DTYPE_INT32: {
        int32_t x;
        memcpy(&x, p, 4);
        s->v.i = x;
        break;
    }
    case TC_DTYPE_INT64:
        memcpy(&s->v.i, p, 8);
        break;
    default: {
        uint64_t u = 0;
        memcpy(&u, p, tc_dtype_size(t)); /* little-endian host */
        s->v.u = u;
        break;
    }
    }
}

static tc_code format_entry(kind k, const scored *s, const tc__labels *labels, tc__buf *out)
{
    char text[512];
    int n;
    if (k == KIND_FLOAT)
        n = snprintf(text, sizeof text, "%f:%zu", s->v.d, s->index);
    else if (k == KIND_SIGNED)
        n = snprintf(text, sizeof text, "%" PRId64 ":%zu", s->v.i, s->index);
    else
        n = snprintf(text, sizeof text, "%" PRIu64 ":%zu", s->v.u, s->index);
    if (n < 0)
        return TC_E_INTERNAL;
    tc__buf entry = TC__BUF_INIT;
    tc_code rc = tc__buf_append(&entry, text, (size_t)n);
    if (rc == TC_OK && labels != NULL && s->index < labels->count &&
        labels->lines[s->index][0] != '\0') {
        rc = tc__buf_append_str(&entry, ":");
        if (rc == TC_OK)
            rc = tc__buf_append_str(&entry, labels->lines[s->index]);
    }
    if (rc == TC_OK)
        rc = tc__bytes_append(out, entry.data, entry.len);
    tc__buf_cleanup(&entry);
    return rc;
}

tc_code tc__classify(tc__tensor *t, uint32_t k, bool batched, const tc__labels *labels,
                     tc__error *err)
{
    kind kd;
    if (!kind_of(t->dtype, &kd))
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "class result not available for output due to unsupported type '%s'",
                             tc_dtype_name(t->dtype) ? tc_dtype_name(t->dtype) : "INVALID");
    size_t es = tc_dtype_size(t->dtype);
    size_t total = t->byte_size / es;
    size_t batch = batched && t->ndim > 0 ? (size_t)t->shape[0] : 1;
    size_t per = batch > 0 ? total / batch : 0;
    size_t kk = per < k ? per : k;
    scored *items = tc__calloc(per > 0 ? per : 1, sizeof *items);
    int64_t *shape = tc__calloc(2, sizeof *shape);
    tc__buf out = TC__BUF_INIT;
    tc_code rc = items != NULL && shape != NULL ? tc__buf_reserve(&out, 0) : TC_E_NOMEM;
    for (size_t b = 0; rc == TC_OK && b < batch; b++) {
        for (size_t i = 0; i < per; i++) {
            items[i].index = i;
            load(t->dtype, t->data + (b * per + i) * es, &items[i]);
        }
        qsort(items, per, sizeof *items,
              kd == KIND_FLOAT    ? cmp_float
              : kd == KIND_SIGNED ? cmp_signed
                                  : cmp_unsigned);
        for (size_t i = 0; rc == TC_OK && i < kk; i++)
            rc = format_entry(kd, &items[i], labels, &out);
    }
    if (rc != TC_OK) {
        tc__buf_cleanup(&out);
        tc__free(shape);
        tc__free(items);
        return tc__error_set(err, rc, "out of memory");
    }
    size_t ndim = 0;
    if (batched)
        shape[ndim++] = (int64_t)batch;
    shape[ndim++] = (int64_t)kk;
    tc__free(t->owned);
    tc__free(t->shape);
    t->shape = shape;
    t->ndim = ndim;
    t->dtype = TC_DTYPE_BYTES;
    t->owned = tc__buf_steal(&out, &t->byte_size);
    t->data = t->owned;
    tc__free(items);
    return TC_OK;
}
