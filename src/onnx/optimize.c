/* Load-time graph rewrites: Constant folding and BatchNormalization folded
 * into the convolution that feeds it. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "graph.h"

/* Turn a Constant node's attribute into a constant value. */
static tc_code fold_constant(tc__onnx_graph *g, tc__onnx_node *n, tc__error *err)
{
    tc__onnx_value *v = &g->vals[n->out[0]];
    const Onnx__AttributeProto *a;
    if ((a = tc__onnx_attr(n, "value")) != NULL && a->t != NULL)
        return tc__onnx_value_from_tensor(v, a->t, err);
    size_t count = 0;
    const void *src = NULL;
    bool scalar = false;
    if ((a = tc__onnx_attr(n, "value_float")) != NULL && a->has_f) {
        v->elem = TC__ONNX_FLOAT;
        count = 1;
        src = &a->f;
        scalar = true;
    } else if ((a = tc__onnx_attr(n, "value_floats")) != NULL) {
        v->elem = TC__ONNX_FLOAT;
        count = a->n_floats;
        src = a->floats;
    } else if ((a = tc__onnx_attr(n, "value_int")) != NULL && a->has_i) {
        v->elem = TC__ONNX_INT64;
        count = 1;
        src = &a->i;
        scalar = true;
    } else if ((a = tc__onnx_attr(n, "value_ints")) != NULL) {
        v->elem = TC__ONNX_INT64;
        count = a->n_ints;
        src = a->ints;
    } else {
        return tc__error_set(err, TC_E_NOT_SUPPORTED,
                             "Constant node '%s' has no supported value attribute", n->name);
    }
    size_t bytes = count * tc__onnx_elem_size(v->elem);
    v->data = tc__memdup(src, bytes);
    if (v->data == NULL)
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    v->byte_size = bytes;
    v->rank = scalar ? 0 : 1;
    v->dims[0] = (int64_t)count;
    v->has_shape = true;
    v->is_const = true;
    return TC_OK;
}

static bool is_f32_const(const tc__onnx_graph *g, int v, size_t count)
{
    if (v < 0)
        return false;
    const tc__onnx_value *val = &g->vals[v];
    return val->is_const && val->elem == TC__ONNX_FLOAT && val->byte_size == count * sizeof(float);
}

/* A new constant value holding `bytes` (ownership taken); -1 on ENOMEM. */
static int add_const(tc__onnx_graph *g, const char *base, const char *suffix, void *data,
                     size_t bytes)
{
    char name[512];
    (void)snprintf(name, sizeof name, "%s%s", base, suffix);
    int v = tc__onnx_graph_add_value(g, name);
    if (v < 0) {
        tc__free(data);
        return -1;
    }
    g->vals[v].data = data;
    g->vals[v].byte_size = bytes;
    g->vals[v].elem = TC__ONNX_FLOAT;
    g->vals[v].is_const = true;
    g->vals[v].has_shape = true;
    return v;
}

/* Fold BN node `bn` into Conv node `ci` when all parameters are constants.
 * Returns TC_OK without change when the pattern does not apply. */
static tc_code fold_bn(tc__onnx_graph *g, size_t ci, tc__onnx_node *bn, tc__error *err)
{
    tc__onnx_node *conv = &g->nodes[ci];
    const tc__onnx_value *w = &g->vals[conv->in[1]];
    if (!w->is_const || w->elem != TC__ONNX_FLOAT || w->rank < 3 || w->dims[0] <= 0)
        return TC_OK;
    size_t oc = (size_t)w->dims[0];
    size_t per = w->byte_size / sizeof(float) / oc;
    bool has_b = conv->n_in > 2 && conv->in[2] >= 0;
    if ((has_b && !is_f32_const(g, conv->in[2], oc)) || bn->n_out != 1)
        return TC_OK;
    for (size_t k = 1; k < 5; k++) {
        if (!is_f32_const(g, bn->in[k], oc))
            return TC_OK;
    }
    float eps = tc__onnx_attr_float(bn, "epsilon", 1e-5f);
    float *nw = tc__malloc(w->byte_size);
    float *nb = tc__malloc(oc * sizeof(float));
    if (nw == NULL || nb == NULL) {
        tc__free(nw);
        tc__free(nb);
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    }
    const float *scale = g->vals[bn->in[1]].data;
    const float *shift = g->vals[bn->in[2]].data;
    const float *mean = g->vals[bn->in[3]].data;
    const float *var = g->vals[bn->in[4]].data;
    const float *ow = w->data;
    const float *ob = has_b ? g->vals[conv->in[2]].data : NULL;
    for (size_t o = 0; o < oc; o++) {
        float s = scale[o] / sqrtf(var[o] + eps);
        for (size_t k = 0; k < per; k++)
            nw[o * per + k] = ow[o * per + k] * s;
        nb[o] = ((ob ? ob[o] : 0.0f) - mean[o]) * s + shift[o];
    }
    int64_t wdims[TC__ONNX_MAX_RANK];
    size_t wrank = w->rank;
    memcpy(wdims, w->dims, sizeof wdims);
    const char *base = g->vals[bn->out[0]].name;
    int vw = add_const(g, base, "::folded_w", nw, oc * per * sizeof(float));
    int vb = vw < 0 ? -1 : add_const(g, base, "::folded_b", nb, oc * sizeof(float));
    if (vw < 0 || vb < 0) {
        if (vw < 0)
            tc__free(nb);
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    }
    conv = &g->nodes[ci]; /* the value array may have moved, nodes did not */
    g->vals[vw].rank = wrank;
    memcpy(g->vals[vw].dims, wdims, sizeof wdims);
    g->vals[vb].rank = 1;
    g->vals[vb].dims[0] = (int64_t)oc;
    conv->in[1] = vw;
    conv->in[2] = vb;
    conv->n_in = 3;
    g->vals[conv->out[0]].producer = -1;
    conv->out[0] = bn->out[0];
    g->vals[bn->out[0]].producer = (int)ci;
    bn->dead = true;
    return TC_OK;
}

static void count_consumers(tc__onnx_graph *g)
{
    for (size_t v = 0; v < g->n_vals; v++)
        g->vals[v].n_consumers = 0;
    for (size_t i = 0; i < g->n_nodes; i++) {
        if (g->nodes[i].dead)
            continue;
        for (size_t k = 0; k < g->nodes[i].n_in; k++) {
            if (g->nodes[i].in[k] >= 0)
                g->vals[g->nodes[i].in[k]].n_consumers++;
        }
    }
}

tc_code tc__onnx_graph_optimize(tc__onnx_graph *g, tc__error *err)
{
    for (size_t i = 0; i < g->n_nodes; i++) {
        tc__onnx_node *n = &g->nodes[i];
        if (n->op != TC__OP_CONSTANT)
            continue;
        tc_code rc = fold_constant(g, n, err);
        if (rc != TC_OK)
            return rc;
        g->vals[n->out[0]].producer = -1;
        n->dead = true;
    }
    count_consumers(g);
    for (size_t i = 0; i < g->n_nodes; i++) {
        tc__onnx_node *n = &g->nodes[i];
        if (n->dead || n->op != TC__OP_BATCHNORM || g->vals[n->in[0]].producer < 0)
            continue;
        size_t ci = (size_t)g->vals[n->in[0]].producer;
        const tc__onnx_value *mid = &g->vals[n->in[0]];
        if (g->nodes[ci].op != TC__OP_CONV || mid->n_consumers != 1 || mid->is_output)
            continue;
        tc_code rc = fold_bn(g, ci, n, err);
        if (rc != TC_OK)
            return rc;
    }
    count_consumers(g);
    return TC_OK;
}
