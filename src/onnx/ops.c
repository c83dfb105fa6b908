/* Hand-written kernels: elementwise math with numpy broadcasting and the
 * data-movement operators. They work on plain row-major buffers, except the
 * elementwise ones, which also accept any dense layout shared by all operands. */
#include <math.h>
#include <string.h>

#include "plan.h"

static const tc__onnx_pval *in_of(const tc__onnx_plan *p, size_t i, size_t k)
{
    const tc__onnx_pnode *pn = &p->nodes[i];
    return (k < pn->n_in && pn->in[k] >= 0) ? &p->vals[pn->in[k]] : NULL;
}

static tc__onnx_pval *out_of(tc__onnx_plan *p, size_t i)
{
    return &p->vals[p->nodes[i].out];
}

static void unary(tc__onnx_plan *p, size_t i)
{
    const tc__onnx_pnode *pn = &p->nodes[i];
    const tc__onnx_pval *x = in_of(p, i, 0);
    const float *src = x->data;
    float *dst = out_of(p, i)->data;
    size_t n = x->bytes / sizeof(float);
    float a = pn->fa;
    float b = pn->fb;
    switch (p->g->nodes[i].op) {
    case TC__OP_RELU:
        for (size_t k = 0; k < n; k++)
            dst[k] = src[k] > 0.0f ? src[k] : 0.0f;
        break;
    case TC__OP_CLIP:
        for (size_t k = 0; k < n; k++) {
            float v = src[k] < a ? a : src[k];
            dst[k] = v > b ? b : v;
        }
        break;
    case TC__OP_SIGMOID:
        for (size_t k = 0; k < n; k++)
            dst[k] = 1.0f / (1.0f + expf(-src[k]));
        break;
    case TC__OP_HARDSIGMOID:
        for (size_t k = 0; k < n; k++) {
            float v = a * src[k] + b;
            dst[k] = v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
        }
        break;
    default: /* HardSwish */
        for (size_t k = 0; k < n; k++) {
            float v = src[k] / 6.0f + 0.5f;
            v = v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
            dst[k] = src[k] * v;
        }
        break;
    }
}

static void batchnorm(tc__onnx_plan *p, size_t i)
{
    const tc__onnx_pval *x = in_of(p, i, 0);
    const float *scale = in_of(p, i, 1)->data;
    const float *shift = in_of(p, i, 2)->data;
    const float *mean = in_of(p, i, 3)->data;
    const float *var = in_of(p, i, 4)->data;
    size_t c = (size_t)x->dims[1];
    size_t inner = x->count / ((size_t)x->dims[0] * c);
    const float *src = x->data;
    float *dst = out_of(p, i)->data;
    for (size_t k = 0; k < x->count; k++) {
        size_t ch = (k / inner) % c;
        float s = scale[ch] / sqrtf(var[ch] + p->nodes[i].fa);
        dst[k] = (src[k] - mean[ch]) * s + shift[ch];
    }
}

#define BIN_LOOP(T, EXPR)                                                                          \
    do {                                                                                           \
        const T *A = a->data;                                                                      \
        const T *B = b->data;                                                                      \
        T *D = o->data;                                                                            \
        if (flat) {                                                                                \
            for (size_t k = 0; k < n; k++) {                                                       \
                T x = A[k];                                                                        \
                T y = B[k];                                                                        \
                D[k] = (EXPR);                                                                     \
            }                                                                                      \
            break;                                                                                 \
        }                                                                                          \
        for (size_t k = 0; k < n; k++) {                                                           \
            T x = A[ia];                                                                           \
            T y = B[ib];                                                                           \
            D[k] = (EXPR);                                                                         \
            ADVANCE();                                                                             \
        }                                                                                          \
    } while (0)

/* Odometer over the output index keeping the broadcast offsets of a and b. */
#define ADVANCE()                                                                                  \
    do {                                                                                           \
        for (size_t d = r; d-- > 0;) {                                                             \
            ia += sa[d];                                                                           \
            ib += sb[d];                                                                           \
            if (++idx[d] < (size_t)o->dims[d])                                                     \
                break;                                                                             \
            ia -= sa[d] * (size_t)o->dims[d];                                                      \
            ib -= sb[d] * (size_t)o->dims[d];                                                      \
            idx[d] = 0;                                                                            \
        }                                                                                          \
    } while (0)

static int32_t div_i32(int32_t x, int32_t y)
{
    return (y == 0 || (x == INT32_MIN && y == -1)) ? 0 : x / y;
}

static int64_t div_i64(int64_t x, int64_t y)
{
    return (y == 0 || (x == INT64_MIN && y == -1)) ? 0 : x / y;
}

/* Broadcast strides of `v` against the output rank `r` (0 where broadcast). */
static void bstrides(const tc__onnx_pval *v, size_t r, const tc__onnx_pval *o, size_t *s)
{
    size_t acc = 1;
    for (size_t d = r; d-- > 0;) {
        size_t vd = d + v->rank >= r ? d + v->rank - r : SIZE_MAX;
        int64_t dim = vd == SIZE_MAX ? 1 : v->dims[vd];
        s[d] = (dim == 1 && o->dims[d] != 1) ? 0 : acc;
        acc *= (size_t)dim;
    }
}

static void binary(tc__onnx_plan *p, size_t i)
{
    const tc__onnx_pval *a = in_of(p, i, 0);
    const tc__onnx_pval *b = in_of(p, i, 1);
    tc__onnx_pval *o = out_of(p, i);
    size_t r = o->rank;
    size_t sa[TC__ONNX_MAX_RANK], sb[TC__ONNX_MAX_RANK], idx[TC__ONNX_MAX_RANK] = {0};
    size_t n = o->count;
    /* Same shapes (or one shared dense blocked layout): a flat loop. */
    bool flat = a->blocked || (a->count == n && b->count == n && a->rank == b->rank);
    if (a->blocked)
        n = o->bytes / tc__onnx_elem_size(o->elem);
    if (!flat) {
        bstrides(a, r, o, sa);
        bstrides(b, r, o, sb);
    }
    size_t ia = 0;
    size_t ib = 0;
    tc__onnx_op op = p->g->nodes[i].op;
    if (o->elem == TC__ONNX_FLOAT) {
        if (op == TC__OP_ADD)
            BIN_LOOP(float, x + y);
        else if (op == TC__OP_SUB)
            BIN_LOOP(float, x - y);
        else if (op == TC__OP_MUL)
            BIN_LOOP(float, x *y);
        else
            BIN_LOOP(float, x / y);
    } else if (o->elem == TC__ONNX_INT32) {
        /* wrap-around arithmetic, computed unsigned to stay defined */
        if (op == TC__OP_ADD)
            BIN_LOOP(int32_t, (int32_t)((uint32_t)x + (uint32_t)y));
        else if (op == TC__OP_SUB)
            BIN_LOOP(int32_t, (int32_t)((uint32_t)x - (uint32_t)y));
        else if (op == TC__OP_MUL)
            BIN_LOOP(int32_t, (int32_t)((uint32_t)x * (uint32_t)y));
        else
            BIN_LOOP(int32_t, div_i32(x, y));
    } else {
        if (op == TC__OP_ADD)
            BIN_LOOP(int64_t, (int64_t)((uint64_t)x + (uint64_t)y));
        else if (op == TC__OP_SUB)
            BIN_LOOP(int64_t, (int64_t)((uint64_t)x - (uint64_t)y));
        else if (op == TC__OP_MUL)
            BIN_LOOP(int64_t, (int64_t)((uint64_t)x * (uint64_t)y));
        else
            BIN_LOOP(int64_t, div_i64(x, y));
    }
}

static void concat(tc__onnx_plan *p, size_t i)
{
    tc__onnx_pval *o = out_of(p, i);
    size_t axis = (size_t)p->nodes[i].ia;
    size_t es = tc__onnx_elem_size(o->elem);
    size_t outer = tc__onnx_count(o->dims, axis);
    size_t inner = tc__onnx_count(o->dims + axis + 1, o->rank - axis - 1) * es;
    size_t orow = (size_t)o->dims[axis] * inner;
    size_t off = 0;
    for (size_t k = 0; k < p->nodes[i].n_in; k++) {
        const tc__onnx_pval *v = in_of(p, i, k);
        size_t row = (size_t)v->dims[axis] * inner;
        for (size_t m = 0; m < outer && row > 0; m++)
            memcpy((char *)o->data + m * orow + off, (const char *)v->data + m * row, row);
        off += row;
    }
}

static void transpose(tc__onnx_plan *p, size_t i)
{
    const tc__onnx_pval *x = in_of(p, i, 0);
    tc__onnx_pval *o = out_of(p, i);
    size_t r = x->rank;
    size_t es = tc__onnx_elem_size(x->elem);
    size_t xs[TC__ONNX_MAX_RANK], s[TC__ONNX_MAX_RANK], idx[TC__ONNX_MAX_RANK] = {0};
    size_t acc = 1;
    for (size_t d = r; d-- > 0;) {
        xs[d] = acc;
        acc *= (size_t)x->dims[d];
    }
    for (size_t d = 0; d < r; d++)
        s[d] = xs[p->nodes[i].perm[d]];
    size_t src = 0;
    for (size_t k = 0; k < o->count; k++) {
        memcpy((char *)o->data + k * es, (const char *)x->data + src * es, es);
        for (size_t d = r; d-- > 0;) {
            src += s[d];
            if (++idx[d] < (size_t)o->dims[d])
                break;
            src -= s[d] * (size_t)o->dims[d];
            idx[d] = 0;
        }
    }
}

static tc_code gather(tc__onnx_plan *p, size_t i, tc__error *err)
{
    const tc__onnx_pval *x = in_of(p, i, 0);
    const tc__onnx_pval *ix = in_of(p, i, 1);
    tc__onnx_pval *o = out_of(p, i);
    size_t axis = (size_t)p->nodes[i].ia;
    size_t es = tc__onnx_elem_size(x->elem);
    size_t outer = tc__onnx_count(x->dims, axis);
    int64_t n = x->dims[axis];
    size_t inner = tc__onnx_count(x->dims + axis + 1, x->rank - axis - 1) * es;
    char *dst = o->data;
    for (size_t m = 0; m < outer; m++) {
        for (size_t k = 0; k < ix->count; k++) {
            int64_t j;
            if (ix->elem == TC__ONNX_INT64) {
                memcpy(&j, (const char *)ix->data + 8 * k, 8);
            } else {
                int32_t t;
                memcpy(&t, (const char *)ix->data + 4 * k, 4);
                j = t;
            }
            j = j < 0 ? j + n : j;
            if (j < 0 || j >= n)
                return tc__error_set(err, TC_E_INVALID_ARG, "node '%s' (Gather): index out of "
                                     "range", p->g->nodes[i].name);
            memcpy(dst, (const char *)x->data + (m * (size_t)n + (size_t)j) * inner, inner);
            dst += inner;
        }
    }
    return TC_OK;
}

bool tc__onnx_op_is_manual(tc__onnx_op op)
{
    switch (op) {
    case TC__OP_CONV:
    case TC__OP_MAXPOOL:
    case TC__OP_AVGPOOL:
    case TC__OP_GLOBALAVGPOOL:
    case TC__OP_GLOBALMAXPOOL:
    case TC__OP_GEMM:
    case TC__OP_MATMUL:
    case TC__OP_SOFTMAX:
        return false;
    default:
        return true;
    }
}

tc_code tc__onnx_op_run(tc__onnx_plan *p, size_t i, tc__error *err)
{
    tc__onnx_pval *o = out_of(p, i);
    switch (p->g->nodes[i].op) {
    case TC__OP_RELU:
    case TC__OP_CLIP:
    case TC__OP_SIGMOID:
    case TC__OP_HARDSIGMOID:
    case TC__OP_HARDSWISH:
        unary(p, i);
        return TC_OK;
    case TC__OP_BATCHNORM:
        batchnorm(p, i);
        return TC_OK;
    case TC__OP_ADD:
    case TC__OP_SUB:
    case TC__OP_MUL:
    case TC__OP_DIV:
        binary(p, i);
        return TC_OK;
    case TC__OP_CONCAT:
        concat(p, i);
        return TC_OK;
    case TC__OP_TRANSPOSE:
        transpose(p, i);
        return TC_OK;
    case TC__OP_GATHER:
        return gather(p, i, err);
    case TC__OP_SHAPE: {
        const tc__onnx_pval *x = in_of(p, i, 0);
        memcpy(o->data, x->dims + p->nodes[i].ia, o->count * sizeof(int64_t));
        return TC_OK;
    }
    default: {
        /* Identity, Dropout, Flatten, Reshape, (Un)Squeeze: the same bytes,
         * usually aliased so that nothing moves. */
        const tc__onnx_pval *x = in_of(p, i, 0);
        if (o->data != x->data && x->bytes > 0)
            memcpy(o->data, x->data, x->bytes);
        return TC_OK;
    }
    }
}

void tc__onnx_gemm_bias(tc__onnx_plan *p, size_t i)
{
    const tc__onnx_pval *c = in_of(p, i, 2);
    tc__onnx_pval *o = out_of(p, i);
    float beta = p->nodes[i].fb;
    if (c == NULL || beta == 0.0f)
        return;
    size_t m = (size_t)o->dims[0];
    size_t n = (size_t)o->dims[1];
    size_t cm = c->rank == 2 ? (size_t)c->dims[0] : 1;
    size_t cn = c->rank >= 1 ? (size_t)c->dims[c->rank - 1] : 1;
    const float *cd = c->data;
    float *od = o->data;
    for (size_t r = 0; r < m; r++) {
        for (size_t k = 0; k < n; k++)
            od[r * n + k] += beta * cd[(cm == 1 ? 0 : r) * cn + (cn == 1 ? 0 : k)];
    }
}
