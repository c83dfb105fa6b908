/* The oneDNN side of kernels.h. */
#include <pthread.h>
#include <string.h>

#include "common/alloc.h"
#include "kernels.h"

#define MAX_ARGS 8

struct tc__onnx_kernel {
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t prim;
    dnnl_stream_t stream;
    int n_args;
    dnnl_exec_arg_t args[MAX_ARGS];
};

static pthread_once_t g_engine_once = PTHREAD_ONCE_INIT;
static dnnl_engine_t g_engine;
static dnnl_status_t g_engine_status;

static void engine_init(void)
{
    g_engine_status = dnnl_engine_create(&g_engine, dnnl_cpu, 0);
}

tc_code tc__onnx_dnnl_engine(dnnl_engine_t *out, tc__error *err)
{
    (void)pthread_once(&g_engine_once, engine_init);
    if (g_engine_status != dnnl_success)
        return tc__error_set(err, TC_E_INTERNAL, "oneDNN CPU engine creation failed (%d)",
                             (int)g_engine_status);
    *out = g_engine;
    return TC_OK;
}

static tc_code dnnl_fail(tc__error *err, dnnl_status_t st, const char *what)
{
    tc_code code = st == dnnl_unimplemented ? TC_E_NOT_SUPPORTED
                   : st == dnnl_out_of_memory ? TC_E_NOMEM
                   : st == dnnl_invalid_arguments ? TC_E_INVALID_ARG
                                                  : TC_E_INTERNAL;
    return tc__error_set(err, code, "oneDNN %s failed (status %d)", what, (int)st);
}

tc_code tc__onnx_md_plain(dnnl_memory_desc_t *md, int ndims, const int64_t *dims, tc__error *err)
{
    dnnl_dims_t d;
    dnnl_dims_t strides;
    if (ndims < 1 || ndims > DNNL_MAX_NDIMS)
        return tc__error_set(err, TC_E_NOT_SUPPORTED, "rank %d is out of range for oneDNN", ndims);
    int64_t s = 1;
    for (int i = ndims; i-- > 0;) {
        d[i] = dims[i];
        strides[i] = s;
        s *= dims[i] > 0 ? dims[i] : 1;
    }
    dnnl_status_t st = dnnl_memory_desc_init_by_strides(md, ndims, d, dnnl_f32, strides);
    return st == dnnl_success ? TC_OK : dnnl_fail(err, st, "memory descriptor");
}

bool tc__onnx_md_equal(const dnnl_memory_desc_t *a, const dnnl_memory_desc_t *b)
{
    return dnnl_memory_desc_equal(a, b) != 0;
}

size_t tc__onnx_md_size(const dnnl_memory_desc_t *md)
{
    return dnnl_memory_desc_get_size(md);
}

bool tc__onnx_md_dense(const dnnl_memory_desc_t *md)
{
    for (int i = 0; i < md->ndims; i++) {
        if (md->padded_dims[i] != md->dims[i])
            return false;
    }
    return true;
}

static tc_code kernel_finish(tc__onnx_kernel **out, dnnl_primitive_desc_t pd, tc__error *err)
{
    tc__onnx_kernel *k = tc__calloc(1, sizeof *k);
    if (k == NULL) {
        dnnl_primitive_desc_destroy(pd);
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    }
    k->pd = pd;
    dnnl_engine_t eng = NULL;
    tc_code rc = tc__onnx_dnnl_engine(&eng, err);
    dnnl_status_t st = dnnl_success;
    if (rc == TC_OK)
        st = dnnl_primitive_create(&k->prim, pd);
    if (rc == TC_OK && st == dnnl_success)
        st = dnnl_stream_create(&k->stream, eng, dnnl_stream_default_flags);
    if (rc == TC_OK && st != dnnl_success)
        rc = dnnl_fail(err, st, "primitive creation");
    if (rc != TC_OK) {
        tc__onnx_kernel_free(k);
        return rc;
    }
    *out = k;
    return TC_OK;
}

static tc_code make_pd(tc__onnx_kernel **out, const void *desc, const_dnnl_primitive_attr_t attr,
                       const char *what, tc__error *err)
{
    dnnl_engine_t eng = NULL;
    tc_code rc = tc__onnx_dnnl_engine(&eng, err);
    if (rc != TC_OK)
        return rc;
    dnnl_primitive_desc_t pd;
    dnnl_status_t st = dnnl_primitive_desc_create(&pd, desc, attr, eng, NULL);
    if (st != dnnl_success)
        return dnnl_fail(err, st, what);
    return kernel_finish(out, pd, err);
}

static tc_code make_attr(dnnl_primitive_attr_t *attr, const tc__onnx_post *post, int n_post,
                         float scale, tc__error *err)
{
    dnnl_post_ops_t ops = NULL;
    dnnl_status_t st = dnnl_primitive_attr_create(attr);
    if (st == dnnl_success && scale != 1.0f)
        st = dnnl_primitive_attr_set_output_scales(*attr, 1, 0, &scale);
    if (st == dnnl_success && n_post > 0)
        st = dnnl_post_ops_create(&ops);
    for (int i = 0; st == dnnl_success && i < n_post; i++) {
        const tc__onnx_post *p = &post[i];
        switch (p->kind) {
        case TC__POST_SUM:
            st = dnnl_post_ops_append_sum(ops, 1.0f);
            break;
        case TC__POST_RELU:
            st = dnnl_post_ops_append_eltwise(ops, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f);
            break;
        case TC__POST_CLIP:
            st = dnnl_post_ops_append_eltwise(ops, 1.0f, dnnl_eltwise_clip_v2, p->alpha, p->beta);
            break;
        case TC__POST_SIGMOID:
            st = dnnl_post_ops_append_eltwise(ops, 1.0f, dnnl_eltwise_logistic, 0.0f, 0.0f);
            break;
        case TC__POST_HARDSWISH:
            st = dnnl_post_ops_append_eltwise(ops, 1.0f, dnnl_eltwise_hardswish, 0.0f, 0.0f);
            break;
        }
    }
    if (st == dnnl_success && ops != NULL)
        st = dnnl_primitive_attr_set_post_ops(*attr, ops);
    if (ops != NULL)
        dnnl_post_ops_destroy(ops);
    return st == dnnl_success ? TC_OK : dnnl_fail(err, st, "attributes");
}

tc_code tc__onnx_kernel_conv_new(tc__onnx_kernel **out, const tc__onnx_conv_params *p,
                                 tc__error *err)
{
    int nd = p->nsp + 2;
    int wd = p->groups > 1 ? nd + 1 : nd;
    dnnl_memory_desc_t src, wei, bias, dst;
    dnnl_status_t st = dnnl_success;
    if (p->src_md != NULL)
        src = *p->src_md;
    else
        st = dnnl_memory_desc_init_by_tag(&src, nd, p->src, dnnl_f32, dnnl_format_tag_any);
    if (st == dnnl_success)
        st = dnnl_memory_desc_init_by_tag(&wei, wd, p->wei, dnnl_f32, dnnl_format_tag_any);
    dnnl_dims_t bdims = {p->dst[1]};
    if (st == dnnl_success)
        st = dnnl_memory_desc_init_by_tag(&bias, 1, bdims, dnnl_f32, dnnl_a);
    if (st == dnnl_success && p->dst_md != NULL)
        dst = *p->dst_md;
    else if (st == dnnl_success)
        st = dnnl_memory_desc_init_by_tag(&dst, nd, p->dst, dnnl_f32, dnnl_format_tag_any);
    dnnl_dims_t dil;
    for (int i = 0; i < p->nsp; i++)
        dil[i] = p->dil[i] - 1;
    dnnl_convolution_desc_t cd;
    if (st == dnnl_success)
        st = dnnl_dilated_convolution_forward_desc_init(
            &cd, dnnl_forward_inference, dnnl_convolution_direct, &src, &wei,
            p->has_bias ? &bias : NULL, &dst, p->strides, dil, p->pad_l, p->pad_r);
    if (st != dnnl_success)
        return dnnl_fail(err, st, "convolution descriptor");
    dnnl_primitive_attr_t attr = NULL;
    tc_code rc = make_attr(&attr, p->post, p->n_post, 1.0f, err);
    if (rc == TC_OK)
        rc = make_pd(out, &cd, attr, "convolution", err);
    if (attr != NULL)
        dnnl_primitive_attr_destroy(attr);
    return rc;
}

tc_code tc__onnx_kernel_pool_new(tc__onnx_kernel **out, const tc__onnx_pool_params *p,
                                 tc__error *err)
{
    dnnl_memory_desc_t dst;
    dnnl_status_t st =
        dnnl_memory_desc_init_by_tag(&dst, p->nsp + 2, p->dst, dnnl_f32, dnnl_format_tag_any);
    dnnl_dims_t dil;
    for (int i = 0; i < p->nsp; i++)
        dil[i] = p->dil[i] - 1;
    dnnl_pooling_v2_desc_t pd;
    if (st == dnnl_success)
        st = dnnl_pooling_v2_forward_desc_init(&pd, dnnl_forward_inference, p->alg, p->src_md,
                                               &dst, p->strides, p->kernel, dil, p->pad_l,
                                               p->pad_r);
    if (st != dnnl_success)
        return dnnl_fail(err, st, "pooling descriptor");
    return make_pd(out, &pd, NULL, "pooling", err);
}

tc_code tc__onnx_kernel_reorder_new(tc__onnx_kernel **out, const dnnl_memory_desc_t *src,
                                    const dnnl_memory_desc_t *dst, tc__error *err)
{
    dnnl_engine_t eng = NULL;
    tc_code rc = tc__onnx_dnnl_engine(&eng, err);
    if (rc != TC_OK)
        return rc;
    dnnl_primitive_desc_t pd;
    dnnl_status_t st = dnnl_reorder_primitive_desc_create(&pd, src, eng, dst, eng, NULL);
    if (st != dnnl_success)
        return dnnl_fail(err, st, "reorder");
    return kernel_finish(out, pd, err);
}

tc_code tc__onnx_kernel_matmul_new(tc__onnx_kernel **out, const dnnl_memory_desc_t *src,
                                   const dnnl_memory_desc_t *wei, const dnnl_memory_desc_t *dst,
                                   float alpha, tc__error *err)
{
    dnnl_matmul_desc_t md;
    dnnl_status_t st = dnnl_matmul_desc_init(&md, src, wei, NULL, dst);
    if (st != dnnl_success)
        return dnnl_fail(err, st, "matmul descriptor");
    dnnl_primitive_attr_t attr = NULL;
    tc_code rc = make_attr(&attr, NULL, 0, alpha, err);
    if (rc == TC_OK)
        rc = make_pd(out, &md, attr, "matmul", err);
    if (attr != NULL)
        dnnl_primitive_attr_destroy(attr);
    return rc;
}

tc_code tc__onnx_kernel_softmax_new(tc__onnx_kernel **out, const dnnl_memory_desc_t *md, int axis,
                                    tc__error *err)
{
    dnnl_softmax_desc_t sd;
    dnnl_status_t st = dnnl_softmax_forward_desc_init(&sd, dnnl_forward_inference, md, axis);
    if (st != dnnl_success)
        return dnnl_fail(err, st, "softmax descriptor");
    return make_pd(out, &sd, NULL, "softmax", err);
}

const dnnl_memory_desc_t *tc__onnx_kernel_md(const tc__onnx_kernel *k, int arg)
{
    return dnnl_primitive_desc_query_md(k->pd, dnnl_query_exec_arg_md, arg);
}

tc_code tc__onnx_kernel_bind(tc__onnx_kernel *k, int arg, void *ptr, tc__error *err)
{
    for (int i = 0; i < k->n_args; i++) {
        if (k->args[i].arg == arg) {
            dnnl_status_t st = dnnl_memory_set_data_handle(k->args[i].memory, ptr);
            return st == dnnl_success ? TC_OK : dnnl_fail(err, st, "memory binding");
        }
    }
    if (k->n_args == MAX_ARGS)
        return tc__error_set(err, TC_E_INTERNAL, "too many kernel arguments");
    dnnl_engine_t eng = NULL;
    tc_code rc = tc__onnx_dnnl_engine(&eng, err);
    if (rc != TC_OK)
        return rc;
    dnnl_memory_t mem;
    dnnl_status_t st = dnnl_memory_create(&mem, tc__onnx_kernel_md(k, arg), eng, ptr);
    if (st != dnnl_success)
        return dnnl_fail(err, st, "memory creation");
    k->args[k->n_args].arg = arg;
    k->args[k->n_args].memory = mem;
    k->n_args++;
    return TC_OK;
}

tc_code tc__onnx_kernel_run(tc__onnx_kernel *k, tc__error *err)
{
    dnnl_status_t st = dnnl_primitive_execute(k->prim, k->stream, k->n_args, k->args);
    if (st == dnnl_success)
        st = dnnl_stream_wait(k->stream);
    return st == dnnl_success ? TC_OK : dnnl_fail(err, st, "execution");
}

const char *tc__onnx_kernel_impl(const tc__onnx_kernel *k)
{
    const char *name = NULL;
    if (dnnl_primitive_desc_query(k->pd, dnnl_query_impl_info_str, 0, &name) != dnnl_success ||
        name == NULL)
        return "?";
    return name;
}

void tc__onnx_kernel_free(tc__onnx_kernel *k)
{
    if (k == NULL)
        return;
    for (int i = 0; i < k->n_args; i++)
        dnnl_memory_destroy(k->args[i].memory);
    if (k->stream != NULL)
        dnnl_stream_destroy(k->stream);
    if (k->prim != NULL)
        dnnl_primitive_destroy(k->prim);
    if (k->pd != NULL)
        dnnl_primitive_desc_destroy(k->pd);
    tc__free(k);
}

tc_code tc__onnx_reorder_once(const dnnl_memory_desc_t *src_md, const void *src,
                              const dnnl_memory_desc_t *dst_md, void *dst, tc__error *err)
{
    tc__onnx_kernel *k = NULL;
    tc_code rc = tc__onnx_kernel_reorder_new(&k, src_md, dst_md, err);
    if (rc == TC_OK)
        rc = tc__onnx_kernel_bind(k, DNNL_ARG_FROM, (void *)(uintptr_t)src, err);
    if (rc == TC_OK)
        rc = tc__onnx_kernel_bind(k, DNNL_ARG_TO, dst, err);
    if (rc == TC_OK)
        rc = tc__onnx_kernel_run(k, err);
    tc__onnx_kernel_free(k);
    return rc;
}
