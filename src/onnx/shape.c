/* Shape inference at plan time: output type and dims of each node, and the
 * node parameters that depend on them. */
#include <string.h>

#include "plan.h"

size_t tc__onnx_count(const int64_t *dims, size_t rank)
{
    /* saturates, so that absurd shapes fail the size limit instead of wrapping */
    size_t c = 1;
    for (size_t i = 0; i < rank; i++) {
        if (dims[i] < 0)
            return SIZE_MAX;
        if (dims[i] > 0 && c > SIZE_MAX / (size_t)dims[i])
            return SIZE_MAX;
        c *= (size_t)dims[i];
    }
    return c;
}

static tc__onnx_pval *in_val(tc__onnx_plan *p, size_t i, size_t k)
{
    const tc__onnx_pnode *pn = &p->nodes[i];
    if (k >= pn->n_in || pn->in[k] < 0)
        return NULL;
    return &p->vals[pn->in[k]];
}

static tc_code fail(const tc__onnx_plan *p, size_t i, tc_code code, const char *why,
                    tc__error *err)
{
    const tc__onnx_node *n = &p->g->nodes[i];
    return tc__error_set(err, code, "node '%s' (%s): %s", n->name,
                         n->pb->op_type ? n->pb->op_type : "", why);
}

/* Normalise a possibly negative axis against `rank`; false when out of range. */
static bool norm_axis(int64_t axis, size_t rank, int64_t *out)
{
    int64_t r = (int64_t)rank;
    if (axis < -r || axis >= r)
        return false;
    *out = axis < 0 ? axis + r : axis;
    return true;
}

/* Read an int64 (or int32) constant input as a list; false when not constant. */
static bool const_ints(const tc__onnx_pval *v, int64_t *out, size_t max, size_t *count)
{
    if (v == NULL || !v->is_const || v->count > max ||
        (v->elem != TC__ONNX_INT64 && v->elem != TC__ONNX_INT32))
        return false;
    for (size_t k = 0; k < v->count; k++) {
        if (v->elem == TC__ONNX_INT64) {
            memcpy(&out[k], (const char *)v->data + 8 * k, 8);
        } else {
            int32_t t;
            memcpy(&t, (const char *)v->data + 4 * k, 4);
            out[k] = t;
        }
    }
    *count = v->count;
    return true;
}

static void set_out(tc__onnx_plan *p, size_t i, int elem, size_t rank, const int64_t *dims)
{
    tc__onnx_pval *o = &p->vals[p->nodes[i].out];
    o->elem = elem;
    o->rank = rank;
    if (dims != o->dims)
        memcpy(o->dims, dims, rank * sizeof(int64_t));
    o->count = tc__onnx_count(dims, rank);
    o->bytes = o->count > TC__ONNX_MAX_TENSOR_BYTES ? SIZE_MAX
                                                    : o->count * tc__onnx_elem_size(elem);
}

tc_code tc__onnx_window_geom(const tc__onnx_plan *p, size_t i, const int64_t *kernel,
                             tc__onnx_geom *geo, tc__error *err)
{
    const tc__onnx_node *n = &p->g->nodes[i];
    const tc__onnx_pval *x = &p->vals[p->nodes[i].in[0]];
    memset(geo, 0, sizeof *geo);
    if (x->rank < 3 || x->rank > 5)
        return fail(p, i, TC_E_NOT_SUPPORTED, "input must have 1 to 3 spatial dimensions", err);
    int nsp = (int)x->rank - 2;
    geo->nsp = nsp;
    size_t ns, nd, np;
    const int64_t *st = tc__onnx_attr_ints(n, "strides", &ns);
    const int64_t *dl = tc__onnx_attr_ints(n, "dilations", &nd);
    const int64_t *pd = tc__onnx_attr_ints(n, "pads", &np);
    if ((ns && ns != (size_t)nsp) || (nd && nd != (size_t)nsp) || (np && np != 2 * (size_t)nsp))
        return fail(p, i, TC_E_INVALID_ARG, "strides, dilations or pads do not match the rank",
                    err);
    char ap[32];
    tc__onnx_attr_string(n, "auto_pad", ap, sizeof ap);
    bool ceil_mode = tc__onnx_attr_int(n, "ceil_mode", 0) != 0;
    for (int d = 0; d < nsp; d++) {
        int64_t in = x->dims[2 + d];
        int64_t k = kernel[d];
        int64_t s = ns ? st[d] : 1;
        int64_t dil = nd ? dl[d] : 1;
        if (k < 1 || s < 1 || dil < 1 || k > (int64_t)1 << 20 || s > (int64_t)1 << 20 ||
            dil > (int64_t)1 << 20)
            return fail(p, i, TC_E_INVALID_ARG, "invalid kernel, stride or dilation", err);
        int64_t ext = (k - 1) * dil + 1;
        int64_t pl = np ? pd[d] : 0;
        int64_t pr = np ? pd[d + nsp] : 0;
        int64_t out;
        if (strcmp(ap, "SAME_UPPER") == 0 || strcmp(ap, "SAME_LOWER") == 0) {
            out = (in + s - 1) / s;
            int64_t total = (out - 1) * s + ext - in;
            total = total < 0 ? 0 : total;
            pl = ap[5] == 'U' ? total / 2 : total - total / 2;
            pr = total - pl;
        } else if (strcmp(ap, "VALID") == 0) {
            pl = pr = 0;
            out = in >= ext ? (in - ext) / s + 1 : 0;
        } else if (ap[0] == '\0' || strcmp(ap, "NOTSET") == 0) {
            if (pl < 0 || pr < 0 || pl > (int64_t)1 << 20 || pr > (int64_t)1 << 20)
                return fail(p, i, TC_E_INVALID_ARG, "invalid pads", err);
            int64_t span = in + pl + pr - ext;
            if (span < 0)
                return fail(p, i, TC_E_INVALID_ARG, "window larger than the padded input", err);
            out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
            if (ceil_mode && (out - 1) * s >= in + pl)
                out--;
        } else {
            return fail(p, i, TC_E_NOT_SUPPORTED, "unknown auto_pad", err);
        }
        if (out < 1)
            return fail(p, i, TC_E_INVALID_ARG, "empty output", err);
        /* oneDNN derives the output with floor division: widen the right
         * padding so that it yields `out` (ceil_mode). */
        int64_t need = (out - 1) * s + ext - in - pl;
        geo->pad_r[d] = need > pr ? need : pr;
        geo->pad_l[d] = pl;
        geo->kernel[d] = k;
        geo->strides[d] = s;
        geo->dil[d] = dil;
        geo->out[d] = out;
    }
    return TC_OK;
}

static tc_code infer_window(tc__onnx_plan *p, size_t i, tc__error *err)
{
    const tc__onnx_node *n = &p->g->nodes[i];
    const tc__onnx_pval *x = in_val(p, i, 0);
    if (x->elem != TC__ONNX_FLOAT)
        return fail(p, i, TC_E_NOT_SUPPORTED, "only float tensors are supported", err);
    if (x->rank < 3 || x->rank > 5)
        return fail(p, i, TC_E_NOT_SUPPORTED, "input must have 1 to 3 spatial dimensions", err);
    int64_t dims[TC__ONNX_MAX_RANK];
    memcpy(dims, x->dims, sizeof dims);
    if (n->op == TC__OP_GLOBALAVGPOOL || n->op == TC__OP_GLOBALMAXPOOL) {
        for (size_t d = 2; d < x->rank; d++)
            dims[d] = 1;
        set_out(p, i, x->elem, x->rank, dims);
        return TC_OK;
    }
    int64_t kernel[3];
    size_t nsp = x->rank - 2;
    size_t nk;
    const int64_t *ks = tc__onnx_attr_ints(n, "kernel_shape", &nk);
    if (n->op == TC__OP_CONV) {
        const tc__onnx_pval *w = in_val(p, i, 1);
        int64_t group = tc__onnx_attr_int(n, "group", 1);
        if (w == NULL || w->rank != x->rank || group < 1 || x->dims[1] % group != 0 ||
            w->dims[0] % group != 0 || w->dims[1] * group != x->dims[1])
            return fail(p, i, TC_E_INVALID_ARG, "weights do not match the input and group", err);
        const tc__onnx_pval *b = in_val(p, i, 2);
        if (b != NULL && (b->count != (size_t)w->dims[0] || b->elem != TC__ONNX_FLOAT))
            return fail(p, i, TC_E_INVALID_ARG, "bias does not match the weights", err);
        for (size_t d = 0; d < nsp; d++)
            kernel[d] = w->dims[2 + d];
        if (nk && nk != nsp)
            return fail(p, i, TC_E_INVALID_ARG, "kernel_shape does not match the rank", err);
        for (size_t d = 0; d < nk; d++) {
            if (ks[d] != kernel[d])
                return fail(p, i, TC_E_INVALID_ARG, "kernel_shape contradicts the weights", err);
        }
        dims[1] = w->dims[0];
    } else {
        if (nk != nsp)
            return fail(p, i, TC_E_INVALID_ARG, "kernel_shape missing or of wrong rank", err);
        memcpy(kernel, ks, nsp * sizeof(int64_t));
        if (n->op == TC__OP_MAXPOOL && n->n_out > 1 && n->out[1] >= 0)
            return fail(p, i, TC_E_NOT_SUPPORTED, "the Indices output is not supported", err);
        if (tc__onnx_attr_int(n, "storage_order", 0) != 0)
            return fail(p, i, TC_E_NOT_SUPPORTED, "storage_order 1 is not supported", err);
    }
    tc__onnx_geom geo;
    tc_code rc = tc__onnx_window_geom(p, i, kernel, &geo, err);
    if (rc != TC_OK)
        return rc;
    for (size_t d = 0; d < nsp; d++)
        dims[2 + d] = geo.out[d];
    set_out(p, i, x->elem, x->rank, dims);
    return TC_OK;
}

static tc_code infer_broadcast(tc__onnx_plan *p, size_t i, tc__error *err)
{
    const tc__onnx_pval *a = in_val(p, i, 0);
    const tc__onnx_pval *b = in_val(p, i, 1);
    if (a == NULL || b == NULL || a->elem != b->elem)
        return fail(p, i, TC_E_INVALID_ARG, "inputs differ in type", err);
    if (a->elem != TC__ONNX_FLOAT && a->elem != TC__ONNX_INT32 && a->elem != TC__ONNX_INT64)
        return fail(p, i, TC_E_NOT_SUPPORTED, "only float, int32 and int64 are supported", err);
    size_t r = a->rank > b->rank ? a->rank : b->rank;
    int64_t dims[TC__ONNX_MAX_RANK];
    for (size_t d = 0; d < r; d++) {
        int64_t da = d + a->rank >= r ? a->dims[d + a->rank - r] : 1;
        int64_t db = d + b->rank >= r ? b->dims[d + b->rank - r] : 1;
        if (da != db && da != 1 && db != 1)
            return fail(p, i, TC_E_INVALID_ARG, "shapes do not broadcast", err);
        dims[d] = da == 1 ? db : da;
    }
    set_out(p, i, a->elem, r, dims);
    return TC_OK;
}

static tc_code infer_reshape(tc__onnx_plan *p, size_t i, tc__error *err)
{
    const tc__onnx_node *n = &p->g->nodes[i];
    const tc__onnx_pval *x = in_val(p, i, 0);
    int64_t shape[TC__ONNX_MAX_RANK];
    size_t r = 0;
    if (p->nodes[i].n_in > 1) {
        if (!const_ints(in_val(p, i, 1), shape, TC__ONNX_MAX_RANK, &r))
            return fail(p, i, TC_E_NOT_SUPPORTED, "the shape input must be a constant", err);
    } else {
        const int64_t *s = tc__onnx_attr_ints(n, "shape", &r);
        if (r > TC__ONNX_MAX_RANK)
            return fail(p, i, TC_E_NOT_SUPPORTED, "rank too large", err);
        if (r > 0)
            memcpy(shape, s, r * sizeof(int64_t));
    }
    bool allowzero = tc__onnx_attr_int(n, "allowzero", 0) != 0;
    int infer = -1;
    size_t known = 1;
    for (size_t d = 0; d < r; d++) {
        if (shape[d] == 0 && !allowzero) {
            if (d >= x->rank)
                return fail(p, i, TC_E_INVALID_ARG, "0 refers to a missing dimension", err);
            shape[d] = x->dims[d];
        }
        if (shape[d] == -1 && infer < 0) {
            infer = (int)d;
            continue;
        }
        if (shape[d] < 0 || (shape[d] > 0 && known > (SIZE_MAX / 16) / (size_t)shape[d]))
            return fail(p, i, TC_E_INVALID_ARG, "invalid target shape", err);
        known *= (size_t)shape[d];
    }
    if (infer >= 0) {
        if (known == 0 || x->count % known != 0)
            return fail(p, i, TC_E_INVALID_ARG, "cannot infer the -1 dimension", err);
        shape[infer] = (int64_t)(x->count / known);
        known *= (size_t)shape[infer];
    }
    if (known != x->count)
        return fail(p, i, TC_E_INVALID_ARG, "element count changes", err);
    set_out(p, i, x->elem, r, shape);
    return TC_OK;
}

/* Axes of Squeeze/Unsqueeze from the attribute (opset < 13) or input 1. */
static tc_code read_axes(tc__onnx_plan *p, size_t i, int64_t *axes, size_t *n, tc__error *err)
{
    if (p->nodes[i].n_in > 1 && p->nodes[i].in[1] >= 0) {
        if (!const_ints(in_val(p, i, 1), axes, TC__ONNX_MAX_RANK, n))
            return fail(p, i, TC_E_NOT_SUPPORTED, "axes must be a constant", err);
        return TC_OK;
    }
    const int64_t *a = tc__onnx_attr_ints(&p->g->nodes[i], "axes", n);
    if (*n > TC__ONNX_MAX_RANK)
        return fail(p, i, TC_E_INVALID_ARG, "too many axes", err);
    if (*n > 0)
        memcpy(axes, a, *n * sizeof(int64_t));
    return TC_OK;
}

static tc_code infer_squeeze(tc__onnx_plan *p, size_t i, bool unsqueeze, tc__error *err)
{
    const tc__onnx_pval *x = in_val(p, i, 0);
    int64_t axes[TC__ONNX_MAX_RANK];
    size_t na = 0;
    tc_code rc = read_axes(p, i, axes, &na, err);
    if (rc != TC_OK)
        return rc;
    size_t r = unsqueeze ? x->rank + na : x->rank;
    if (r > TC__ONNX_MAX_RANK)
        return fail(p, i, TC_E_NOT_SUPPORTED, "rank too large", err);
    bool mark[TC__ONNX_MAX_RANK] = {false};
    for (size_t k = 0; k < na; k++) {
        int64_t a;
        if (!norm_axis(axes[k], r, &a) || mark[a])
            return fail(p, i, TC_E_INVALID_ARG, "invalid axes", err);
        mark[a] = true;
    }
    int64_t dims[TC__ONNX_MAX_RANK];
    size_t o = 0;
    for (size_t d = 0, s = 0; d < r; d++) {
        if (unsqueeze) {
            dims[o++] = mark[d] ? 1 : x->dims[s++];
        } else if ((na == 0 && x->dims[d] != 1) || (na > 0 && !mark[d])) {
            dims[o++] = x->dims[d];
        } else if (x->dims[d] != 1) {
            return fail(p, i, TC_E_INVALID_ARG, "squeezed dimension is not 1", err);
        }
    }
    set_out(p, i, x->elem, o, dims);
    return TC_OK;
}

static tc_code infer_concat(tc__onnx_plan *p, size_t i, tc__error *err)
{
    const tc__onnx_pval *x = in_val(p, i, 0);
    int64_t axis;
    if (x == NULL || !norm_axis(tc__onnx_attr_int(&p->g->nodes[i], "axis", 0), x->rank, &axis))
        return fail(p, i, TC_E_INVALID_ARG, "invalid axis", err);
    int64_t dims[TC__ONNX_MAX_RANK];
    memcpy(dims, x->dims, sizeof dims);
    dims[axis] = 0;
    for (size_t k = 0; k < p->nodes[i].n_in; k++) {
        const tc__onnx_pval *v = in_val(p, i, k);
        if (v == NULL || v->rank != x->rank || v->elem != x->elem)
            return fail(p, i, TC_E_INVALID_ARG, "inputs differ in rank or type", err);
        for (size_t d = 0; d < x->rank; d++) {
            if ((int64_t)d != axis && v->dims[d] != x->dims[d])
                return fail(p, i, TC_E_INVALID_ARG, "inputs differ in shape", err);
        }
        dims[axis] += v->dims[axis];
    }
    p->nodes[i].ia = axis;
    set_out(p, i, x->elem, x->rank, dims);
    return TC_OK;
}

static tc_code infer_gemm(tc__onnx_plan *p, size_t i, tc__error *err)
{
    const tc__onnx_node *n = &p->g->nodes[i];
    const tc__onnx_pval *a = in_val(p, i, 0);
    const tc__onnx_pval *b = in_val(p, i, 1);
    const tc__onnx_pval *c = in_val(p, i, 2);
    if (a->elem != TC__ONNX_FLOAT || b->elem != TC__ONNX_FLOAT || a->rank != 2 || b->rank != 2)
        return fail(p, i, TC_E_NOT_SUPPORTED, "A and B must be 2-D float", err);
    bool ta = tc__onnx_attr_int(n, "transA", 0) != 0;
    bool tb = tc__onnx_attr_int(n, "transB", 0) != 0;
    int64_t m = ta ? a->dims[1] : a->dims[0];
    int64_t k = ta ? a->dims[0] : a->dims[1];
    int64_t k2 = tb ? b->dims[1] : b->dims[0];
    int64_t nn = tb ? b->dims[0] : b->dims[1];
    if (k != k2)
        return fail(p, i, TC_E_INVALID_ARG, "inner dimensions differ", err);
    if (c != NULL) {
        bool ok = c->elem == TC__ONNX_FLOAT && c->rank <= 2;
        int64_t cm = c->rank == 2 ? c->dims[0] : 1;
        int64_t cn = c->rank >= 1 ? c->dims[c->rank - 1] : 1;
        if (!ok || (cm != 1 && cm != m) || (cn != 1 && cn != nn))
            return fail(p, i, TC_E_INVALID_ARG, "C does not broadcast to (M, N)", err);
    }
    p->nodes[i].fa = tc__onnx_attr_float(n, "alpha", 1.0f);
    p->nodes[i].fb = tc__onnx_attr_float(n, "beta", 1.0f);
    int64_t dims[2] = {m, nn};
    set_out(p, i, TC__ONNX_FLOAT, 2, dims);
    return TC_OK;
}

static tc_code infer_matmul(tc__onnx_plan *p, size_t i, tc__error *err)
{
    const tc__onnx_pval *a = in_val(p, i, 0);
    const tc__onnx_pval *b = in_val(p, i, 1);
    if (a->elem != TC__ONNX_FLOAT || b->elem != TC__ONNX_FLOAT || a->rank < 1 || b->rank < 1)
        return fail(p, i, TC_E_NOT_SUPPORTED, "inputs must be float of rank >= 1", err);
    int64_t k = a->dims[a->rank - 1];
    int64_t kb = b->rank == 1 ? b->dims[0] : b->dims[b->rank - 2];
    if (k != kb)
        return fail(p, i, TC_E_INVALID_ARG, "inner dimensions differ", err);
    size_t ba = a->rank > 2 ? a->rank - 2 : 0;
    size_t bb = b->rank > 2 ? b->rank - 2 : 0;
    size_t nb = ba > bb ? ba : bb;
    int64_t dims[TC__ONNX_MAX_RANK];
    size_t r = 0;
    for (size_t d = 0; d < nb; d++) {
        int64_t da = d + ba >= nb ? a->dims[d + ba - nb] : 1;
        int64_t db = d + bb >= nb ? b->dims[d + bb - nb] : 1;
        if (da != db && da != 1 && db != 1)
            return fail(p, i, TC_E_INVALID_ARG, "batch dimensions do not broadcast", err);
        dims[r++] = da == 1 ? db : da;
    }
    if (a->rank > 1)
        dims[r++] = a->dims[a->rank - 2];
    if (b->rank > 1)
        dims[r++] = b->dims[b->rank - 1];
    set_out(p, i, TC__ONNX_FLOAT, r, dims);
    return TC_OK;
}

static tc_code infer_transpose(tc__onnx_plan *p, size_t i, tc__error *err)
{
    const tc__onnx_pval *x = in_val(p, i, 0);
    size_t np;
    const int64_t *perm = tc__onnx_attr_ints(&p->g->nodes[i], "perm", &np);
    if (np != 0 && np != x->rank)
        return fail(p, i, TC_E_INVALID_ARG, "perm does not match the rank", err);
    bool seen[TC__ONNX_MAX_RANK] = {false};
    int64_t dims[TC__ONNX_MAX_RANK];
    for (size_t d = 0; d < x->rank; d++) {
        int64_t s = np ? perm[d] : (int64_t)(x->rank - 1 - d);
        if (s < 0 || s >= (int64_t)x->rank || seen[s])
            return fail(p, i, TC_E_INVALID_ARG, "invalid perm", err);
        seen[s] = true;
        p->nodes[i].perm[d] = s;
        dims[d] = x->dims[s];
    }
    set_out(p, i, x->elem, x->rank, dims);
    return TC_OK;
}

static tc_code infer_gather(tc__onnx_plan *p, size_t i, tc__error *err)
{
    const tc__onnx_pval *x = in_val(p, i, 0);
    const tc__onnx_pval *idx = in_val(p, i, 1);
    int64_t axis;
    if (!norm_axis(tc__onnx_attr_int(&p->g->nodes[i], "axis", 0), x->rank, &axis))
        return fail(p, i, TC_E_INVALID_ARG, "invalid axis", err);
    if (idx->elem != TC__ONNX_INT64 && idx->elem != TC__ONNX_INT32)
        return fail(p, i, TC_E_INVALID_ARG, "indices must be int32 or int64", err);
    if (x->rank + idx->rank - 1 > TC__ONNX_MAX_RANK)
        return fail(p, i, TC_E_NOT_SUPPORTED, "rank too large", err);
    int64_t dims[TC__ONNX_MAX_RANK];
    size_t r = 0;
    for (size_t d = 0; d < (size_t)axis; d++)
        dims[r++] = x->dims[d];
    for (size_t d = 0; d < idx->rank; d++)
        dims[r++] = idx->dims[d];
    for (size_t d = (size_t)axis + 1; d < x->rank; d++)
        dims[r++] = x->dims[d];
    p->nodes[i].ia = axis;
    set_out(p, i, x->elem, r, dims);
    return TC_OK;
}

static tc_code infer_shape_op(tc__onnx_plan *p, size_t i, tc__error *err)
{
    const tc__onnx_node *n = &p->g->nodes[i];
    const tc__onnx_pval *x = in_val(p, i, 0);
    int64_t r = (int64_t)x->rank;
    int64_t start = tc__onnx_attr_int(n, "start", 0);
    int64_t end = tc__onnx_attr_int(n, "end", r);
    start = start < 0 ? start + r : start;
    end = end < 0 ? end + r : end;
    start = start < 0 ? 0 : (start > r ? r : start);
    end = end < 0 ? 0 : (end > r ? r : end);
    p->nodes[i].ia = start;
    p->nodes[i].ib = end > start ? end : start;
    int64_t dims[1] = {p->nodes[i].ib - start};
    (void)err;
    set_out(p, i, TC__ONNX_INT64, 1, dims);
    return TC_OK;
}

static tc_code infer_clip(tc__onnx_plan *p, size_t i, tc__error *err)
{
    const tc__onnx_node *n = &p->g->nodes[i];
    tc__onnx_pnode *pn = &p->nodes[i];
    const tc__onnx_pval *x = in_val(p, i, 0);
    if (x->elem != TC__ONNX_FLOAT)
        return fail(p, i, TC_E_NOT_SUPPORTED, "only float tensors are supported", err);
    pn->fa = -3.402823466e+38f;
    pn->fb = 3.402823466e+38f;
    if (p->g->opset < 11) {
        pn->fa = tc__onnx_attr_float(n, "min", pn->fa);
        pn->fb = tc__onnx_attr_float(n, "max", pn->fb);
    }
    for (size_t k = 1; k < 3; k++) {
        const tc__onnx_pval *v = in_val(p, i, k);
        if (v == NULL)
            continue;
        if (!v->is_const || v->elem != TC__ONNX_FLOAT || v->count != 1)
            return fail(p, i, TC_E_NOT_SUPPORTED, "min and max must be float constants", err);
        memcpy(k == 1 ? &pn->fa : &pn->fb, v->data, sizeof(float));
    }
    set_out(p, i, x->elem, x->rank, x->dims);
    return TC_OK;
}

static tc_code infer_flatten(tc__onnx_plan *p, size_t i, tc__error *err)
{
    const tc__onnx_pval *x = in_val(p, i, 0);
    int64_t axis = tc__onnx_attr_int(&p->g->nodes[i], "axis", 1);
    int64_t r = (int64_t)x->rank;
    if (axis < -r || axis > r)
        return fail(p, i, TC_E_INVALID_ARG, "invalid axis", err);
    axis = axis < 0 ? axis + r : axis;
    int64_t dims[2] = {(int64_t)tc__onnx_count(x->dims, (size_t)axis),
                       (int64_t)tc__onnx_count(x->dims + axis, (size_t)(r - axis))};
    set_out(p, i, x->elem, 2, dims);
    return TC_OK;
}

static tc_code infer_unary(tc__onnx_plan *p, size_t i, bool float_only, tc__error *err)
{
    const tc__onnx_node *n = &p->g->nodes[i];
    const tc__onnx_pval *x = in_val(p, i, 0);
    if (float_only && x->elem != TC__ONNX_FLOAT)
        return fail(p, i, TC_E_NOT_SUPPORTED, "only float tensors are supported", err);
    tc__onnx_pnode *pn = &p->nodes[i];
    switch (n->op) {
    case TC__OP_HARDSIGMOID:
        pn->fa = tc__onnx_attr_float(n, "alpha", 0.2f);
        pn->fb = tc__onnx_attr_float(n, "beta", 0.5f);
        break;
    case TC__OP_BATCHNORM:
        pn->fa = tc__onnx_attr_float(n, "epsilon", 1e-5f);
        if (n->n_out > 1 || tc__onnx_attr_int(n, "training_mode", 0) != 0)
            return fail(p, i, TC_E_NOT_SUPPORTED, "training mode is not supported", err);
        for (size_t k = 1; k < 5; k++) {
            const tc__onnx_pval *v = in_val(p, i, k);
            if (x->rank < 2 || v->elem != TC__ONNX_FLOAT || v->count != (size_t)x->dims[1])
                return fail(p, i, TC_E_INVALID_ARG, "parameters do not match channels", err);
        }
        break;
    case TC__OP_SOFTMAX: {
        bool v13 = p->g->opset >= 13;
        if (!norm_axis(tc__onnx_attr_int(n, "axis", v13 ? -1 : 1), x->rank, &pn->ia))
            return fail(p, i, TC_E_INVALID_ARG, "invalid axis", err);
        break;
    }
    case TC__OP_DROPOUT:
        if (n->n_out > 1 && n->out[1] >= 0 &&
            (p->g->vals[n->out[1]].n_consumers > 0 || p->g->vals[n->out[1]].is_output))
            return fail(p, i, TC_E_NOT_SUPPORTED, "the mask output is not supported", err);
        break;
    default:
        break;
    }
    set_out(p, i, x->elem, x->rank, x->dims);
    return TC_OK;
}

/* Inputs that must be present (not omitted with an empty name). */
static size_t required_inputs(tc__onnx_op op)
{
    switch (op) {
    case TC__OP_BATCHNORM:
        return 5;
    case TC__OP_CONV:
    case TC__OP_ADD:
    case TC__OP_SUB:
    case TC__OP_MUL:
    case TC__OP_DIV:
    case TC__OP_GEMM:
    case TC__OP_MATMUL:
    case TC__OP_GATHER:
        return 2;
    default:
        return 1;
    }
}

tc_code tc__onnx_infer(tc__onnx_plan *p, size_t i, tc__error *err)
{
    size_t req = required_inputs(p->g->nodes[i].op);
    for (size_t k = 0; k < req; k++) {
        if (in_val(p, i, k) == NULL)
            return fail(p, i, TC_E_INVALID_ARG, "a required input is missing", err);
    }
    if (p->g->nodes[i].op == TC__OP_CONCAT) {
        for (size_t k = 0; k < p->nodes[i].n_in; k++) {
            if (in_val(p, i, k) == NULL)
                return fail(p, i, TC_E_INVALID_ARG, "a required input is missing", err);
        }
    }
    switch (p->g->nodes[i].op) {
    case TC__OP_CONV:
    case TC__OP_MAXPOOL:
    case TC__OP_AVGPOOL:
    case TC__OP_GLOBALAVGPOOL:
    case TC__OP_GLOBALMAXPOOL:
        return infer_window(p, i, err);
    case TC__OP_ADD:
    case TC__OP_SUB:
    case TC__OP_MUL:
    case TC__OP_DIV:
        return infer_broadcast(p, i, err);
    case TC__OP_CLIP:
        return infer_clip(p, i, err);
    case TC__OP_CONCAT:
        return infer_concat(p, i, err);
    case TC__OP_FLATTEN:
        return infer_flatten(p, i, err);
    case TC__OP_RESHAPE:
        return infer_reshape(p, i, err);
    case TC__OP_GEMM:
        return infer_gemm(p, i, err);
    case TC__OP_MATMUL:
        return infer_matmul(p, i, err);
    case TC__OP_TRANSPOSE:
        return infer_transpose(p, i, err);
    case TC__OP_SHAPE:
        return infer_shape_op(p, i, err);
    case TC__OP_GATHER:
        return infer_gather(p, i, err);
    case TC__OP_UNSQUEEZE:
        return infer_squeeze(p, i, true, err);
    case TC__OP_SQUEEZE:
        return infer_squeeze(p, i, false, err);
    case TC__OP_IDENTITY:
    case TC__OP_DROPOUT:
        return infer_unary(p, i, false, err);
    default:
        return infer_unary(p, i, true, err);
    }
}
