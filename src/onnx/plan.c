/* Planning: specialise the graph for one set of input shapes. Walks the nodes
 * in order, infers shapes, evaluates constant subgraphs, fuses activations
 * and residual additions into convolutions, picks oneDNN layouts (blocked
 * inside the network, plain at its edges) and assigns buffers with reuse. */
#include <limits.h>
#include <string.h>

#include "common/alloc.h"
#include "plan.h"

#define ALIGN 64

int tc__onnx_plan_add_value(tc__onnx_plan *p)
{
    if (p->n_vals == p->cap_vals) {
        size_t cap = p->cap_vals ? 2 * p->cap_vals : 64;
        tc__onnx_pval *v = tc__reallocarray(p->vals, cap, sizeof *v);
        if (v == NULL)
            return -1;
        p->vals = v;
        p->cap_vals = cap;
    }
    tc__onnx_pval *v = &p->vals[p->n_vals];
    memset(v, 0, sizeof *v);
    v->alias = -1;
    v->def = -1;
    v->last = -1;
    v->slot = -1;
    return (int)p->n_vals++;
}

static int root_of(const tc__onnx_plan *p, int v)
{
    while (p->vals[v].alias >= 0)
        v = p->vals[v].alias;
    return v;
}

/* Give a float value of rank >= 1 its plain descriptor. */
static tc_code set_plain(tc__onnx_pval *v, tc__error *err)
{
    v->blocked = false;
    v->bytes = v->count * tc__onnx_elem_size(v->elem);
    if (v->elem != TC__ONNX_FLOAT || v->rank == 0)
        return TC_OK;
    return tc__onnx_md_plain(&v->md, (int)v->rank, v->dims, err);
}

/* Make input k of node i plain, inserting a reorder when it is blocked. */
static tc_code need_plain(tc__onnx_plan *p, size_t i, size_t k, tc__error *err)
{
    tc__onnx_pnode *pn = &p->nodes[i];
    if (k >= pn->n_in || pn->in[k] < 0 || !p->vals[pn->in[k]].blocked)
        return TC_OK;
    int t = tc__onnx_plan_add_value(p);
    tc__onnx_reorder *pre = tc__reallocarray(pn->pre, pn->n_pre + 1, sizeof *pre);
    if (t < 0 || pre == NULL) {
        if (pre != NULL)
            pn->pre = pre;
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    }
    pn->pre = pre;
    tc__onnx_pval *from = &p->vals[pn->in[k]];
    tc__onnx_pval *to = &p->vals[t];
    to->elem = from->elem;
    to->rank = from->rank;
    memcpy(to->dims, from->dims, sizeof to->dims);
    to->count = from->count;
    tc_code rc = set_plain(to, err);
    tc__onnx_reorder *r = &pn->pre[pn->n_pre];
    r->from = pn->in[k];
    r->to = t;
    r->k = NULL;
    if (rc == TC_OK)
        rc = tc__onnx_kernel_reorder_new(&r->k, &from->md, &to->md, err);
    if (rc != TC_OK)
        return rc;
    pn->n_pre++;
    pn->in[k] = t;
    return TC_OK;
}

/* Reorder input k of node i into layout `md` (when it differs). */
static tc_code need_md(tc__onnx_plan *p, size_t i, size_t k, const dnnl_memory_desc_t *md,
                       tc__error *err)
{
    tc__onnx_pnode *pn = &p->nodes[i];
    tc__onnx_pval *v = &p->vals[pn->in[k]];
    if (tc__onnx_md_equal(&v->md, md))
        return TC_OK;
    int t = tc__onnx_plan_add_value(p);
    tc__onnx_reorder *pre = tc__reallocarray(pn->pre, pn->n_pre + 1, sizeof *pre);
    if (pre != NULL)
        pn->pre = pre;
    if (t < 0 || pre == NULL)
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    tc__onnx_pval *from = &p->vals[pn->in[k]];
    tc__onnx_pval *to = &p->vals[t];
    *to = *from;
    to->is_const = false;
    to->owned = NULL;
    to->alias = -1;
    to->aliased = false;
    to->def = to->last = to->slot = -1;
    to->md = *md;
    to->blocked = true;
    to->bytes = tc__onnx_md_size(md);
    tc__onnx_reorder *r = &pn->pre[pn->n_pre];
    r->from = pn->in[k];
    r->to = t;
    r->k = NULL;
    tc_code rc = tc__onnx_kernel_reorder_new(&r->k, &from->md, md, err);
    if (rc != TC_OK)
        return rc;
    pn->n_pre++;
    pn->in[k] = t;
    return TC_OK;
}

/* Output of node i takes the layout `md` chosen by its kernel. */
static void set_out_md(tc__onnx_plan *p, size_t i, const dnnl_memory_desc_t *md)
{
    tc__onnx_pval *o = &p->vals[p->nodes[i].out];
    dnnl_memory_desc_t plain;
    o->md = *md;
    o->bytes = tc__onnx_md_size(md);
    o->blocked = tc__onnx_md_plain(&plain, (int)o->rank, o->dims, NULL) != TC_OK ||
                 !tc__onnx_md_equal(&plain, md);
}

/* The only live consumer of value v after node i, or -1. */
static int sole_consumer(const tc__onnx_plan *p, size_t i, int v)
{
    const tc__onnx_graph *g = p->g;
    if (v >= (int)g->n_vals || g->vals[v].n_consumers != 1 || g->vals[v].is_output)
        return -1;
    for (size_t j = i + 1; j < g->n_nodes; j++) {
        if (g->nodes[j].dead)
            continue;
        for (size_t k = 0; k < g->nodes[j].n_in; k++) {
            if (g->nodes[j].in[k] == v)
                return p->nodes[j].skip ? -1 : (int)j;
        }
    }
    return -1;
}

/* True when residual r may be overwritten by a conv at step i whose sum
 * post-op replaces the Add at step j. */
static bool can_sum_into(const tc__onnx_plan *p, size_t i, size_t j, int r)
{
    const tc__onnx_graph *g = p->g;
    if (r < 0 || r >= (int)g->n_vals)
        return false;
    const tc__onnx_pval *rv = &p->vals[r];
    const tc__onnx_value *gv = &g->vals[r];
    if (rv->is_const || gv->is_input || gv->is_output || rv->alias >= 0 || rv->aliased ||
        rv->def < 0 || rv->elem != TC__ONNX_FLOAT || g->vals[g->nodes[j].out[0]].is_output)
        return false;
    for (size_t n = 0; n < g->n_nodes; n++) {
        if (g->nodes[n].dead || n == j)
            continue;
        for (size_t k = 0; k < g->nodes[n].n_in; k++) {
            if (g->nodes[n].in[k] == r && n >= i)
                return false;
        }
    }
    return true;
}

/* Absorb Relu/Clip/Add nodes that follow conv i into its post-ops. */
static tc_code fuse_posts(tc__onnx_plan *p, size_t i, tc__onnx_conv_params *cp, tc__error *err)
{
    tc__onnx_pnode *pn = &p->nodes[i];
    pn->sum_in = -1;
    while (cp->n_post < TC__ONNX_MAX_POST) {
        int j = sole_consumer(p, i, pn->out);
        if (j < 0)
            break;
        const tc__onnx_node *c = &p->g->nodes[j];
        tc__onnx_post post = {TC__POST_RELU, 0.0f, 0.0f};
        if (c->op == TC__OP_ADD && cp->n_post == 0 && c->in[0] != c->in[1]) {
            int r = c->in[0] == pn->out ? c->in[1] : c->in[0];
            const tc__onnx_pval *o = &p->vals[pn->out];
            if (!can_sum_into(p, i, (size_t)j, r) || p->vals[r].rank != o->rank ||
                memcmp(p->vals[r].dims, o->dims, o->rank * sizeof(int64_t)) != 0)
                break;
            post.kind = TC__POST_SUM;
            pn->sum_in = r;
        } else if (c->op == TC__OP_RELU || c->op == TC__OP_CLIP || c->op == TC__OP_SIGMOID ||
                   c->op == TC__OP_HARDSWISH) {
            tc_code rc = tc__onnx_infer(p, (size_t)j, err);
            if (rc != TC_OK)
                return rc;
            post.kind = c->op == TC__OP_RELU      ? TC__POST_RELU
                        : c->op == TC__OP_CLIP    ? TC__POST_CLIP
                        : c->op == TC__OP_SIGMOID ? TC__POST_SIGMOID
                                                  : TC__POST_HARDSWISH;
            post.alpha = p->nodes[j].fa;
            post.beta = p->nodes[j].fb;
        } else {
            break;
        }
        cp->post[cp->n_post++] = post;
        tc__onnx_pval *from = &p->vals[pn->out];
        tc__onnx_pval *to = &p->vals[c->out[0]];
        to->elem = from->elem;
        to->rank = from->rank;
        memcpy(to->dims, from->dims, sizeof to->dims);
        to->count = from->count;
        p->nodes[j].skip = true;
        pn->out = c->out[0];
    }
    return TC_OK;
}

/* Weights computed by the graph (rare; node tests do it): reorder them into
 * the kernel's layout at every run instead of once. */
static tc_code runtime_weights(tc__onnx_plan *p, size_t i, const dnnl_memory_desc_t *wplain,
                               const dnnl_memory_desc_t *wmd, tc__error *err)
{
    tc__onnx_pnode *pn = &p->nodes[i];
    int t = tc__onnx_plan_add_value(p);
    tc__onnx_reorder *pre = tc__reallocarray(pn->pre, pn->n_pre + 1, sizeof *pre);
    if (pre != NULL)
        pn->pre = pre;
    if (t < 0 || pre == NULL)
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    tc__onnx_pval *to = &p->vals[t];
    to->elem = TC__ONNX_FLOAT;
    to->md = *wmd;
    to->blocked = true;
    to->bytes = tc__onnx_md_size(wmd);
    tc__onnx_reorder *r = &pn->pre[pn->n_pre];
    r->from = pn->in[1];
    r->to = t;
    r->k = NULL;
    tc_code rc = tc__onnx_kernel_reorder_new(&r->k, wplain, wmd, err);
    if (rc != TC_OK)
        return rc;
    pn->n_pre++;
    pn->in[1] = t;
    return TC_OK;
}

static tc_code prep_conv(tc__onnx_plan *p, size_t i, tc__error *err)
{
    tc__onnx_pnode *pn = &p->nodes[i];
    const tc__onnx_node *n = &p->g->nodes[i];
    tc__onnx_pval *x = &p->vals[pn->in[0]];
    const tc__onnx_pval *w = &p->vals[pn->in[1]];
    tc__onnx_conv_params cp;
    memset(&cp, 0, sizeof cp);
    tc__onnx_geom geo;
    tc_code rc = tc__onnx_window_geom(p, i, w->dims + 2, &geo, err);
    if (rc != TC_OK)
        return rc;
    cp.nsp = geo.nsp;
    cp.groups = tc__onnx_attr_int(n, "group", 1);
    int nd = geo.nsp + 2;
    memcpy(cp.src, x->dims, (size_t)nd * sizeof(int64_t));
    memcpy(cp.dst, p->vals[pn->out].dims, (size_t)nd * sizeof(int64_t));
    if (cp.groups > 1) {
        cp.wei[0] = cp.groups;
        cp.wei[1] = w->dims[0] / cp.groups;
        memcpy(cp.wei + 2, w->dims + 1, (size_t)(nd - 1) * sizeof(int64_t));
    } else {
        memcpy(cp.wei, w->dims, (size_t)nd * sizeof(int64_t));
    }
    for (int d = 0; d < geo.nsp; d++) {
        cp.strides[d] = geo.strides[d];
        cp.dil[d] = geo.dil[d];
        cp.pad_l[d] = geo.pad_l[d];
        cp.pad_r[d] = geo.pad_r[d];
    }
    cp.has_bias = pn->n_in > 2 && pn->in[2] >= 0;
    rc = fuse_posts(p, i, &cp, err);
    if (rc != TC_OK)
        return rc;
    if (pn->sum_in >= 0)
        cp.dst_md = &p->vals[pn->sum_in].md;
    cp.src_md = x->blocked ? &x->md : NULL;
    rc = tc__onnx_kernel_conv_new(&pn->k, &cp, err);
    if (rc == TC_E_NOT_SUPPORTED && cp.src_md != NULL) {
        cp.src_md = NULL;
        rc = tc__onnx_kernel_conv_new(&pn->k, &cp, err);
    }
    if (rc != TC_OK)
        return rc;
    rc = need_md(p, i, 0, tc__onnx_kernel_md(pn->k, DNNL_ARG_SRC), err);
    if (rc != TC_OK)
        return rc;
    /* weights: reorder once into the kernel's layout */
    dnnl_memory_desc_t wplain;
    const dnnl_memory_desc_t *wmd = tc__onnx_kernel_md(pn->k, DNNL_ARG_WEIGHTS);
    rc = tc__onnx_md_plain(&wplain, cp.groups > 1 ? nd + 1 : nd, cp.wei, err);
    if (rc != TC_OK)
        return rc;
    if (!p->vals[pn->in[1]].is_const) {
        rc = runtime_weights(p, i, &wplain, wmd, err);
    } else {
        pn->wbuf = tc__malloc(tc__onnx_md_size(wmd) + ALIGN);
        if (pn->wbuf == NULL)
            return tc__error_set(err, TC_E_NOMEM, "out of memory");
        void *wal = (void *)(((uintptr_t)pn->wbuf + ALIGN - 1) & ~(uintptr_t)(ALIGN - 1));
        rc = tc__onnx_reorder_once(&wplain, p->vals[pn->in[1]].data, wmd, wal, err);
    }
    if (rc != TC_OK)
        return rc;
    set_out_md(p, i, tc__onnx_kernel_md(pn->k, DNNL_ARG_DST));
    if (pn->sum_in >= 0) {
        p->vals[pn->out].alias = root_of(p, pn->sum_in);
        p->vals[root_of(p, pn->sum_in)].aliased = true;
    }
    return TC_OK;
}

static tc_code prep_pool(tc__onnx_plan *p, size_t i, tc__error *err)
{
    tc__onnx_pnode *pn = &p->nodes[i];
    const tc__onnx_node *n = &p->g->nodes[i];
    const tc__onnx_pval *x = &p->vals[pn->in[0]];
    const tc__onnx_pval *o = &p->vals[pn->out];
    tc__onnx_pool_params pp;
    memset(&pp, 0, sizeof pp);
    pp.nsp = (int)x->rank - 2;
    pp.src_md = &x->md;
    memcpy(pp.dst, o->dims, o->rank * sizeof(int64_t));
    if (n->op == TC__OP_GLOBALAVGPOOL || n->op == TC__OP_GLOBALMAXPOOL) {
        for (int d = 0; d < pp.nsp; d++) {
            pp.kernel[d] = x->dims[2 + d];
            pp.strides[d] = 1;
            pp.dil[d] = 1;
        }
        pp.alg = n->op == TC__OP_GLOBALMAXPOOL ? dnnl_pooling_max : dnnl_pooling_avg_exclude_padding;
    } else {
        size_t nk;
        const int64_t *ks = tc__onnx_attr_ints(n, "kernel_shape", &nk);
        tc__onnx_geom geo;
        tc_code rc = tc__onnx_window_geom(p, i, ks, &geo, err);
        if (rc != TC_OK)
            return rc;
        for (int d = 0; d < pp.nsp; d++) {
            pp.kernel[d] = geo.kernel[d];
            pp.strides[d] = geo.strides[d];
            pp.dil[d] = geo.dil[d];
            pp.pad_l[d] = geo.pad_l[d];
            pp.pad_r[d] = geo.pad_r[d];
        }
        if (n->op == TC__OP_MAXPOOL)
            pp.alg = dnnl_pooling_max;
        else if (tc__onnx_attr_int(n, "count_include_pad", 0) != 0)
            pp.alg = dnnl_pooling_avg_include_padding;
        else
            pp.alg = dnnl_pooling_avg_exclude_padding;
    }
    tc_code rc = tc__onnx_kernel_pool_new(&pn->k, &pp, err);
    if (rc != TC_OK)
        return rc;
    set_out_md(p, i, tc__onnx_kernel_md(pn->k, DNNL_ARG_DST));
    return TC_OK;
}

static tc_code prep_softmax(tc__onnx_plan *p, size_t i, tc__error *err)
{
    tc__onnx_pnode *pn = &p->nodes[i];
    tc_code rc = need_plain(p, i, 0, err);
    if (rc != TC_OK)
        return rc;
    const tc__onnx_pval *x = &p->vals[pn->in[0]];
    size_t axis = (size_t)pn->ia;
    int64_t dims[3];
    dims[0] = (int64_t)tc__onnx_count(x->dims, axis);
    if (p->g->opset < 13) {
        dims[1] = (int64_t)tc__onnx_count(x->dims + axis, x->rank - axis);
        dims[2] = 1;
    } else {
        dims[1] = x->dims[axis];
        dims[2] = (int64_t)tc__onnx_count(x->dims + axis + 1, x->rank - axis - 1);
    }
    dnnl_memory_desc_t md;
    rc = tc__onnx_md_plain(&md, 3, dims, err);
    if (rc == TC_OK)
        rc = tc__onnx_kernel_softmax_new(&pn->k, &md, 1, err);
    if (rc == TC_OK)
        rc = set_plain(&p->vals[pn->out], err);
    return rc;
}

static tc_code strided_md(dnnl_memory_desc_t *md, int nd, const int64_t *dims,
                          const int64_t *strides, tc__error *err)
{
    dnnl_dims_t d, s;
    memcpy(d, dims, (size_t)nd * sizeof(int64_t));
    memcpy(s, strides, (size_t)nd * sizeof(int64_t));
    dnnl_status_t st = dnnl_memory_desc_init_by_strides(md, nd, d, dnnl_f32, s);
    return st == dnnl_success ? TC_OK
                              : tc__error_set(err, TC_E_INTERNAL, "oneDNN descriptor failed");
}

static tc_code prep_gemm(tc__onnx_plan *p, size_t i, tc__error *err)
{
    tc__onnx_pnode *pn = &p->nodes[i];
    const tc__onnx_node *n = &p->g->nodes[i];
    tc_code rc = TC_OK;
    for (size_t k = 0; k < pn->n_in && rc == TC_OK; k++)
        rc = need_plain(p, i, k, err);
    if (rc != TC_OK)
        return rc;
    const tc__onnx_pval *a = &p->vals[pn->in[0]];
    tc__onnx_pval *o = &p->vals[pn->out];
    bool ta = tc__onnx_attr_int(n, "transA", 0) != 0;
    bool tb = tc__onnx_attr_int(n, "transB", 0) != 0;
    int64_t m = o->dims[0], nn = o->dims[1];
    int64_t k = ta ? a->dims[0] : a->dims[1];
    int64_t ad[2] = {m, k}, as[2] = {ta ? 1 : k, ta ? m : 1};
    int64_t bd[2] = {k, nn}, bs[2] = {tb ? 1 : nn, tb ? k : 1};
    dnnl_memory_desc_t amd, bmd, omd;
    rc = strided_md(&amd, 2, ad, as, err);
    if (rc == TC_OK)
        rc = strided_md(&bmd, 2, bd, bs, err);
    if (rc == TC_OK)
        rc = set_plain(o, err);
    omd = o->md;
    if (rc == TC_OK)
        rc = tc__onnx_kernel_matmul_new(&pn->k, &amd, &bmd, &omd, pn->fa, err);
    return rc;
}

static tc_code prep_matmul(tc__onnx_plan *p, size_t i, tc__error *err)
{
    tc__onnx_pnode *pn = &p->nodes[i];
    tc_code rc = need_plain(p, i, 0, err);
    if (rc == TC_OK)
        rc = need_plain(p, i, 1, err);
    if (rc != TC_OK)
        return rc;
    const tc__onnx_pval *a = &p->vals[pn->in[0]];
    const tc__onnx_pval *b = &p->vals[pn->in[1]];
    tc__onnx_pval *o = &p->vals[pn->out];
    /* Promote 1-D operands and pad batch dims to one common rank. */
    size_t r = a->rank > b->rank ? a->rank : b->rank;
    r = r < 2 ? 2 : r;
    int64_t ad[TC__ONNX_MAX_RANK], bd[TC__ONNX_MAX_RANK], od[TC__ONNX_MAX_RANK];
    for (size_t d = 0; d < r; d++)
        ad[d] = bd[d] = 1;
    if (a->rank == 1) {
        ad[r - 1] = a->dims[0];
    } else {
        memcpy(ad + r - a->rank, a->dims, a->rank * sizeof(int64_t));
    }
    if (b->rank == 1) {
        bd[r - 2] = b->dims[0];
    } else {
        memcpy(bd + r - b->rank, b->dims, b->rank * sizeof(int64_t));
    }
    for (size_t d = 0; d + 2 < r; d++)
        od[d] = ad[d] == 1 ? bd[d] : ad[d];
    od[r - 2] = ad[r - 2];
    od[r - 1] = bd[r - 1];
    dnnl_memory_desc_t amd, bmd, omd;
    rc = tc__onnx_md_plain(&amd, (int)r, ad, err);
    if (rc == TC_OK)
        rc = tc__onnx_md_plain(&bmd, (int)r, bd, err);
    if (rc == TC_OK)
        rc = tc__onnx_md_plain(&omd, (int)r, od, err);
    if (rc == TC_OK)
        rc = set_plain(o, err);
    if (rc == TC_OK)
        rc = tc__onnx_kernel_matmul_new(&pn->k, &amd, &bmd, &omd, 1.0f, err);
    return rc;
}

/* Elementwise and data-movement ops run by ops.c. */
static tc_code prep_manual(tc__onnx_plan *p, size_t i, tc__error *err)
{
    tc__onnx_pnode *pn = &p->nodes[i];
    tc__onnx_op op = p->g->nodes[i].op;
    tc__onnx_pval *o = &p->vals[pn->out];
    const tc__onnx_pval *x = &p->vals[pn->in[0]];
    bool unary = op == TC__OP_RELU || op == TC__OP_CLIP || op == TC__OP_SIGMOID ||
                 op == TC__OP_HARDSIGMOID || op == TC__OP_HARDSWISH;
    bool binary = op == TC__OP_ADD || op == TC__OP_SUB || op == TC__OP_MUL || op == TC__OP_DIV;
    bool passthru = op == TC__OP_IDENTITY || op == TC__OP_DROPOUT;
    if (x->blocked && (passthru || (unary && tc__onnx_md_dense(&x->md)))) {
        set_out_md(p, i, &x->md);
    } else if (binary && x->blocked && tc__onnx_md_dense(&x->md) &&
               p->vals[pn->in[1]].blocked &&
               tc__onnx_md_equal(&x->md, &p->vals[pn->in[1]].md) && o->rank == x->rank &&
               memcmp(o->dims, x->dims, o->rank * sizeof(int64_t)) == 0) {
        set_out_md(p, i, &x->md);
    } else {
        for (size_t k = 0; k < pn->n_in; k++) {
            tc_code rc = need_plain(p, i, k, err);
            if (rc != TC_OK)
                return rc;
        }
        o = &p->vals[pn->out]; /* need_plain may have moved the value array */
        tc_code rc = set_plain(o, err);
        if (rc != TC_OK)
            return rc;
    }
    bool view = passthru || op == TC__OP_FLATTEN || op == TC__OP_RESHAPE ||
                op == TC__OP_SQUEEZE || op == TC__OP_UNSQUEEZE;
    if (view) {
        int r = root_of(p, pn->in[0]);
        o->alias = r;
        p->vals[r].aliased = true;
    }
    return TC_OK;
}

/* oneDNN divides by dimensions: keep empty tensors away from it. */
static bool has_empty(const tc__onnx_plan *p, size_t i)
{
    const tc__onnx_pnode *pn = &p->nodes[i];
    for (size_t k = 0; k < pn->n_in; k++) {
        if (pn->in[k] >= 0 && p->vals[pn->in[k]].count == 0)
            return true;
    }
    return p->vals[pn->out].count == 0;
}

static tc_code prepare(tc__onnx_plan *p, size_t i, tc__error *err)
{
    if (!tc__onnx_op_is_manual(p->g->nodes[i].op) && has_empty(p, i))
        return tc__error_set(err, TC_E_NOT_SUPPORTED, "node '%s': empty tensors are not supported",
                             p->g->nodes[i].name);
    switch (p->g->nodes[i].op) {
    case TC__OP_CONV:
        return prep_conv(p, i, err);
    case TC__OP_MAXPOOL:
    case TC__OP_AVGPOOL:
    case TC__OP_GLOBALAVGPOOL:
    case TC__OP_GLOBALMAXPOOL:
        return prep_pool(p, i, err);
    case TC__OP_SOFTMAX:
        return prep_softmax(p, i, err);
    case TC__OP_GEMM:
        return prep_gemm(p, i, err);
    case TC__OP_MATMUL:
        return prep_matmul(p, i, err);
    default:
        return prep_manual(p, i, err);
    }
}

/* Evaluate node i now: all its inputs are constants. */
static tc_code eval_const(tc__onnx_plan *p, size_t i, tc__error *err)
{
    tc__onnx_pval *o = &p->vals[p->nodes[i].out];
    tc_code rc = set_plain(o, err);
    if (rc != TC_OK)
        return rc;
    o->owned = tc__malloc(o->bytes);
    if (o->owned == NULL)
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    o->data = o->owned;
    o->is_const = true;
    rc = tc__onnx_op_run(p, i, err);
    p->nodes[i].skip = true;
    return rc;
}

static bool all_const(const tc__onnx_plan *p, size_t i)
{
    const tc__onnx_pnode *pn = &p->nodes[i];
    for (size_t k = 0; k < pn->n_in; k++) {
        if (pn->in[k] >= 0 && !p->vals[pn->in[k]].is_const)
            return false;
    }
    return true;
}

static tc_code init_values(tc__onnx_plan *p, const int64_t *in_dims, tc__error *err)
{
    const tc__onnx_graph *g = p->g;
    for (size_t v = 0; v < g->n_vals; v++) {
        if (tc__onnx_plan_add_value(p) < 0)
            return tc__error_set(err, TC_E_NOMEM, "out of memory");
        tc__onnx_pval *pv = &p->vals[v];
        const tc__onnx_value *gv = &g->vals[v];
        if (!gv->is_const)
            continue;
        pv->elem = gv->elem;
        pv->rank = gv->rank;
        memcpy(pv->dims, gv->dims, sizeof pv->dims);
        pv->count = tc__onnx_count(pv->dims, pv->rank);
        pv->data = gv->data;
        pv->is_const = true;
        tc_code rc = set_plain(pv, err);
        if (rc != TC_OK)
            return rc;
    }
    size_t off = 0;
    for (size_t k = 0; k < g->n_inputs; k++)
        off += g->vals[g->inputs[k]].rank;
    size_t voff = off;
    off = 0;
    for (size_t k = 0; k < g->n_inputs; k++) {
        tc__onnx_pval *pv = &p->vals[g->inputs[k]];
        const tc__onnx_value *gv = &g->vals[g->inputs[k]];
        pv->elem = gv->elem;
        pv->rank = gv->rank;
        memcpy(pv->dims, in_dims + off, gv->rank * sizeof(int64_t));
        off += gv->rank;
        pv->count = tc__onnx_count(pv->dims, pv->rank);
        tc_code rc = set_plain(pv, err);
        if (rc != TC_OK)
            return rc;
        if (pv->elem != TC__ONNX_INT64 || pv->count > TC__ONNX_SHAPE_INPUT_MAX)
            continue;
        pv->owned = tc__memdup(in_dims + voff, pv->count * sizeof(int64_t));
        if (pv->owned == NULL)
            return tc__error_set(err, TC_E_NOMEM, "out of memory");
        pv->data = pv->owned;
        pv->is_const = true;
        voff += pv->count;
    }
    return TC_OK;
}

static tc_code walk_nodes(tc__onnx_plan *p, tc__error *err)
{
    const tc__onnx_graph *g = p->g;
    for (size_t i = 0; i < g->n_nodes; i++) {
        tc__onnx_pnode *pn = &p->nodes[i];
        pn->node = (int)i;
        pn->sum_in = -1;
        pn->n_in = g->nodes[i].n_in;
        pn->out = g->nodes[i].out[0];
        pn->in = tc__calloc(pn->n_in + 1, sizeof(int));
        if (pn->in == NULL)
            return tc__error_set(err, TC_E_NOMEM, "out of memory");
        memcpy(pn->in, g->nodes[i].in, pn->n_in * sizeof(int));
        if (g->nodes[i].dead)
            pn->skip = true;
    }
    for (size_t i = 0; i < g->n_nodes; i++) {
        tc__onnx_pnode *pn = &p->nodes[i];
        if (pn->skip)
            continue;
        tc_code rc = tc__onnx_infer(p, i, err);
        if (rc != TC_OK)
            return rc;
        if (p->vals[pn->out].bytes > TC__ONNX_MAX_TENSOR_BYTES)
            return tc__error_set(err, TC_E_NOT_SUPPORTED,
                                 "node '%s': output tensor larger than %zu bytes", g->nodes[i].name,
                                 TC__ONNX_MAX_TENSOR_BYTES);
        tc__onnx_op op = g->nodes[i].op;
        if (op == TC__OP_SHAPE || (tc__onnx_op_is_manual(op) && all_const(p, i)))
            rc = eval_const(p, i, err);
        else
            rc = prepare(p, i, err);
        if (rc != TC_OK)
            return rc;
        p->vals[pn->out].def = (int)i;
    }
    return TC_OK;
}

static void mark_uses(tc__onnx_plan *p)
{
    for (size_t i = 0; i < p->g->n_nodes; i++) {
        const tc__onnx_pnode *pn = &p->nodes[i];
        if (pn->skip)
            continue;
        for (size_t k = 0; k < pn->n_pre; k++) {
            tc__onnx_pval *f = &p->vals[pn->pre[k].from];
            f->last = f->last > (int)i ? f->last : (int)i;
            p->vals[pn->pre[k].to].def = (int)i;
        }
        for (size_t k = 0; k < pn->n_in; k++) {
            if (pn->in[k] >= 0 && p->vals[pn->in[k]].last < (int)i)
                p->vals[pn->in[k]].last = (int)i;
        }
        if (pn->sum_in >= 0 && p->vals[pn->sum_in].last < (int)i)
            p->vals[pn->sum_in].last = (int)i;
    }
    for (size_t k = 0; k < p->g->n_outputs; k++)
        p->vals[p->g->outputs[k]].last = INT_MAX;
    /* a buffer lives until the last use of any value sharing it */
    for (size_t v = 0; v < p->n_vals; v++) {
        tc__onnx_pval *pv = &p->vals[v];
        if (pv->alias < 0)
            continue;
        tc__onnx_pval *r = &p->vals[root_of(p, (int)v)];
        r->last = r->last > pv->last ? r->last : pv->last;
    }
}

/* Best-fit slot reuse; a slot grows when no free one is large enough. */
static tc_code assign_slot(tc__onnx_plan *p, bool *busy, size_t *cap, int v, tc__error *err)
{
    tc__onnx_pval *pv = &p->vals[v];
    size_t need = pv->bytes > 0 ? pv->bytes : 1;
    int best = -1;
    for (size_t s = 0; s < p->n_slots; s++) {
        if (busy[s])
            continue;
        if (best < 0 || (p->slot_size[s] >= need &&
                         (p->slot_size[best] < need || p->slot_size[s] < p->slot_size[best])) ||
            (p->slot_size[best] < need && p->slot_size[s] > p->slot_size[best]))
            best = (int)s;
    }
    if (best < 0) {
        if (p->n_slots == *cap)
            return tc__error_set(err, TC_E_INTERNAL, "slot table full");
        best = (int)p->n_slots++;
        p->slot_size[best] = 0;
    }
    if (p->slot_size[best] < need)
        p->slot_size[best] = need;
    busy[best] = true;
    pv->slot = best;
    return TC_OK;
}

static bool needs_buffer(const tc__onnx_plan *p, int v)
{
    return v >= 0 && !p->vals[v].is_const && p->vals[v].alias < 0 && p->vals[v].slot < 0;
}

static tc_code plan_memory(tc__onnx_plan *p, tc__error *err)
{
    size_t cap = p->n_vals + 1;
    bool *busy = tc__calloc(cap, sizeof(bool));
    p->slot_size = tc__calloc(cap, sizeof(size_t));
    p->slot_mem = tc__calloc(cap, sizeof(void *));
    tc_code rc = TC_OK;
    if (busy == NULL || p->slot_size == NULL || p->slot_mem == NULL) {
        rc = tc__error_set(err, TC_E_NOMEM, "out of memory");
        goto out;
    }
    for (size_t k = 0; k < p->g->n_inputs && rc == TC_OK; k++) {
        if (!p->vals[p->g->inputs[k]].is_const)
            rc = assign_slot(p, busy, &cap, p->g->inputs[k], err);
    }
    for (size_t i = 0; i < p->g->n_nodes && rc == TC_OK; i++) {
        const tc__onnx_pnode *pn = &p->nodes[i];
        if (pn->skip)
            continue;
        for (size_t k = 0; k < pn->n_pre && rc == TC_OK; k++)
            rc = assign_slot(p, busy, &cap, pn->pre[k].to, err);
        if (rc == TC_OK && needs_buffer(p, pn->out))
            rc = assign_slot(p, busy, &cap, pn->out, err);
        /* release buffers whose last reader is this step */
        for (size_t v = 0; v < p->n_vals; v++) {
            const tc__onnx_pval *pv = &p->vals[v];
            /* exactly once, at the buffer's last step (a slot given back
             * earlier may belong to another value by now) */
            int end = pv->last > pv->def ? pv->last : pv->def;
            end = end < 0 ? 0 : end;
            if (pv->slot >= 0 && pv->alias < 0 && end == (int)i)
                busy[pv->slot] = false;
        }
    }
    for (size_t s = 0; s < p->n_slots && rc == TC_OK; s++) {
        p->slot_mem[s] = tc__malloc(p->slot_size[s] + ALIGN);
        if (p->slot_mem[s] == NULL)
            rc = tc__error_set(err, TC_E_NOMEM, "out of memory for activations");
    }
    for (size_t v = 0; v < p->n_vals && rc == TC_OK; v++) {
        tc__onnx_pval *pv = &p->vals[v];
        if (pv->slot >= 0)
            pv->data = (void *)(((uintptr_t)p->slot_mem[pv->slot] + ALIGN - 1) &
                                ~(uintptr_t)(ALIGN - 1));
    }
    for (size_t v = 0; v < p->n_vals && rc == TC_OK; v++) {
        if (p->vals[v].alias >= 0)
            p->vals[v].data = p->vals[root_of(p, (int)v)].data;
    }
out:
    tc__free(busy);
    return rc;
}

static tc_code bind_kernels(tc__onnx_plan *p, tc__error *err)
{
    tc_code rc = TC_OK;
    for (size_t i = 0; i < p->g->n_nodes && rc == TC_OK; i++) {
        tc__onnx_pnode *pn = &p->nodes[i];
        if (pn->skip)
            continue;
        for (size_t k = 0; k < pn->n_pre && rc == TC_OK; k++) {
            rc = tc__onnx_kernel_bind(pn->pre[k].k, DNNL_ARG_FROM, p->vals[pn->pre[k].from].data,
                                      err);
            if (rc == TC_OK)
                rc = tc__onnx_kernel_bind(pn->pre[k].k, DNNL_ARG_TO, p->vals[pn->pre[k].to].data,
                                          err);
        }
        if (pn->k == NULL || rc != TC_OK)
            continue;
        rc = tc__onnx_kernel_bind(pn->k, DNNL_ARG_SRC, p->vals[pn->in[0]].data, err);
        if (rc == TC_OK)
            rc = tc__onnx_kernel_bind(pn->k, DNNL_ARG_DST, p->vals[pn->out].data, err);
        tc__onnx_op op = p->g->nodes[i].op;
        if (rc == TC_OK && op == TC__OP_CONV) {
            void *wal = (void *)(((uintptr_t)pn->wbuf + ALIGN - 1) & ~(uintptr_t)(ALIGN - 1));
            if (pn->wbuf == NULL)
                wal = p->vals[pn->in[1]].data;
            rc = tc__onnx_kernel_bind(pn->k, DNNL_ARG_WEIGHTS, wal, err);
            if (rc == TC_OK && pn->n_in > 2 && pn->in[2] >= 0)
                rc = tc__onnx_kernel_bind(pn->k, DNNL_ARG_BIAS, p->vals[pn->in[2]].data, err);
        } else if (rc == TC_OK && (op == TC__OP_GEMM || op == TC__OP_MATMUL)) {
            rc = tc__onnx_kernel_bind(pn->k, DNNL_ARG_WEIGHTS, p->vals[pn->in[1]].data, err);
        }
    }
    return rc;
}

static tc_code plan_outputs(tc__onnx_plan *p, tc__error *err)
{
    size_t n = p->g->n_outputs;
    p->out_k = tc__calloc(n + 1, sizeof *p->out_k);
    p->out_buf = tc__calloc(n + 1, sizeof *p->out_buf);
    if (p->out_k == NULL || p->out_buf == NULL)
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    for (size_t k = 0; k < n; k++) {
        const tc__onnx_pval *v = &p->vals[p->g->outputs[k]];
        if (v->elem == 0)
            return tc__error_set(err, TC_E_INVALID_ARG, "graph output '%s' is never computed",
                                 p->g->vals[p->g->outputs[k]].name);
        if (!v->blocked)
            continue;
        dnnl_memory_desc_t plain;
        tc_code rc = tc__onnx_md_plain(&plain, (int)v->rank, v->dims, err);
        if (rc == TC_OK)
            rc = tc__onnx_kernel_reorder_new(&p->out_k[k], &v->md, &plain, err);
        if (rc != TC_OK)
            return rc;
        p->out_buf[k] = tc__malloc(v->count * sizeof(float) + 1);
        if (p->out_buf[k] == NULL)
            return tc__error_set(err, TC_E_NOMEM, "out of memory");
        rc = tc__onnx_kernel_bind(p->out_k[k], DNNL_ARG_FROM, v->data, err);
        if (rc == TC_OK)
            rc = tc__onnx_kernel_bind(p->out_k[k], DNNL_ARG_TO, p->out_buf[k], err);
        if (rc != TC_OK)
            return rc;
    }
    return TC_OK;
}

tc_code tc__onnx_plan_build(tc__onnx_plan *p, const tc__onnx_graph *g, const int64_t *in_dims,
                            size_t total, tc__error *err)
{
    memset(p, 0, sizeof *p);
    p->g = g;
    p->n_key = total;
    p->in_dims = tc__calloc(total + 1, sizeof(int64_t));
    p->nodes = tc__calloc(g->n_nodes + 1, sizeof *p->nodes);
    if (p->in_dims == NULL || p->nodes == NULL)
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    memcpy(p->in_dims, in_dims, total * sizeof(int64_t));
    tc_code rc = init_values(p, in_dims, err);
    if (rc == TC_OK)
        rc = walk_nodes(p, err);
    if (rc != TC_OK)
        return rc;
    mark_uses(p);
    rc = plan_memory(p, err);
    if (rc == TC_OK)
        rc = bind_kernels(p, err);
    if (rc == TC_OK)
        rc = plan_outputs(p, err);
    return rc;
}

void tc__onnx_plan_cleanup(tc__onnx_plan *p)
{
    for (size_t i = 0; p->nodes != NULL && i < p->g->n_nodes; i++) {
        tc__onnx_pnode *pn = &p->nodes[i];
        for (size_t k = 0; k < pn->n_pre; k++)
            tc__onnx_kernel_free(pn->pre[k].k);
        tc__free(pn->pre);
        tc__free(pn->in);
        tc__onnx_kernel_free(pn->k);
        tc__free(pn->wbuf);
    }
    for (size_t v = 0; v < p->n_vals; v++)
        tc__free(p->vals[v].owned);
    for (size_t s = 0; s < p->n_slots; s++)
        tc__free(p->slot_mem[s]);
    for (size_t k = 0; p->out_k != NULL && k < p->g->n_outputs; k++)
        tc__onnx_kernel_free(p->out_k[k]);
    for (size_t k = 0; p->out_buf != NULL && k < p->g->n_outputs; k++)
        tc__free(p->out_buf[k]);
    tc__free(p->out_k);
    tc__free(p->out_buf);
    tc__free(p->slot_mem);
    tc__free(p->slot_size);
    tc__free(p->vals);
    tc__free(p->nodes);
    tc__free(p->in_dims);
    memset(p, 0, sizeof *p);
}

tc_code tc__onnx_plan_exec(tc__onnx_plan *p, tc__error *err)
{
    for (size_t i = 0; i < p->g->n_nodes; i++) {
        tc__onnx_pnode *pn = &p->nodes[i];
        if (pn->skip)
            continue;
        for (size_t k = 0; k < pn->n_pre; k++) {
            tc_code rc = tc__onnx_kernel_run(pn->pre[k].k, err);
            if (rc != TC_OK)
                return rc;
        }
        tc_code rc = pn->k != NULL ? tc__onnx_kernel_run(pn->k, err) : tc__onnx_op_run(p, i, err);
        if (rc != TC_OK)
            return rc;
        if (p->g->nodes[i].op == TC__OP_GEMM)
            tc__onnx_gemm_bias(p, i);
    }
    for (size_t k = 0; k < p->g->n_outputs; k++) {
        if (p->out_k[k] != NULL) {
            tc_code rc = tc__onnx_kernel_run(p->out_k[k], err);
            if (rc != TC_OK)
                return rc;
        }
    }
    return TC_OK;
}
