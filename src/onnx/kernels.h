/* oneDNN behind a small interface: a kernel is one primitive with its memory
 * arguments. Create it at plan time, bind buffers once the memory plan is
 * known, then run it any number of times. Not thread-safe per kernel. */
#ifndef TC_SRC_ONNX_KERNELS_H
#define TC_SRC_ONNX_KERNELS_H

#include <stdbool.h>
#include <stdint.h>

#include <oneapi/dnnl/dnnl.h>

#include "common/error.h"

typedef struct tc__onnx_kernel tc__onnx_kernel;

typedef enum tc__onnx_post_kind {
    TC__POST_SUM,
    TC__POST_RELU,
    TC__POST_CLIP,
    TC__POST_SIGMOID,
    TC__POST_HARDSWISH
} tc__onnx_post_kind;

typedef struct tc__onnx_post {
    tc__onnx_post_kind kind;
    float alpha; /* Clip: min */
    float beta;  /* Clip: max */
} tc__onnx_post;

#define TC__ONNX_MAX_POST 4

typedef struct tc__onnx_conv_params {
    int nsp; /* spatial dimensions, 1..3 */
    dnnl_dims_t src, wei, dst; /* logical dims; wei is goi... when groups > 1 */
    int64_t groups;
    dnnl_dims_t strides, dil, pad_l, pad_r; /* dil: ONNX dilation (1 = none) */
    bool has_bias;
    const dnnl_memory_desc_t *src_md; /* NULL: let oneDNN choose */
    const dnnl_memory_desc_t *dst_md; /* NULL: let oneDNN choose */
    int n_post;
    tc__onnx_post post[TC__ONNX_MAX_POST];
} tc__onnx_conv_params;

typedef struct tc__onnx_pool_params {
    int nsp;
    dnnl_alg_kind_t alg;
    const dnnl_memory_desc_t *src_md;
    dnnl_dims_t dst; /* logical dst dims */
    dnnl_dims_t kernel, strides, dil, pad_l, pad_r; /* dil: ONNX dilation */
} tc__onnx_pool_params;

/* The process-wide CPU engine; created once, thread-safe. */
tc_code tc__onnx_dnnl_engine(dnnl_engine_t *out, tc__error *err);

/* Plain row-major f32 descriptor of `dims`. */
tc_code tc__onnx_md_plain(dnnl_memory_desc_t *md, int ndims, const int64_t *dims, tc__error *err);
bool tc__onnx_md_equal(const dnnl_memory_desc_t *a, const dnnl_memory_desc_t *b);
size_t tc__onnx_md_size(const dnnl_memory_desc_t *md);
/* True when the layout has no padding and so holds exactly the logical elements. */
bool tc__onnx_md_dense(const dnnl_memory_desc_t *md);

tc_code tc__onnx_kernel_conv_new(tc__onnx_kernel **out, const tc__onnx_conv_params *p,
                                 tc__error *err);
tc_code tc__onnx_kernel_pool_new(tc__onnx_kernel **out, const tc__onnx_pool_params *p,
                                 tc__error *err);
tc_code tc__onnx_kernel_reorder_new(tc__onnx_kernel **out, const dnnl_memory_desc_t *src,
                                    const dnnl_memory_desc_t *dst, tc__error *err);
/* dst = alpha * src x wei (batched, broadcasting batch dims). */
tc_code tc__onnx_kernel_matmul_new(tc__onnx_kernel **out, const dnnl_memory_desc_t *src,
                                   const dnnl_memory_desc_t *wei, const dnnl_memory_desc_t *dst,
                                   float alpha, tc__error *err);
tc_code tc__onnx_kernel_softmax_new(tc__onnx_kernel **out, const dnnl_memory_desc_t *md, int axis,
                                    tc__error *err);

/* The layout the primitive uses for `arg` (DNNL_ARG_SRC, ...). */
const dnnl_memory_desc_t *tc__onnx_kernel_md(const tc__onnx_kernel *k, int arg);
/* Attach `ptr` as argument `arg` (layout from tc__onnx_kernel_md). */
tc_code tc__onnx_kernel_bind(tc__onnx_kernel *k, int arg, void *ptr, tc__error *err);
tc_code tc__onnx_kernel_run(tc__onnx_kernel *k, tc__error *err);
/* Name of the implementation oneDNN picked (for diagnostics). */
const char *tc__onnx_kernel_impl(const tc__onnx_kernel *k);
void tc__onnx_kernel_free(tc__onnx_kernel *k);

/* Reorder `src` data in layout `src_md` into `dst` in layout `dst_md` once. */
tc_code tc__onnx_reorder_once(const dnnl_memory_desc_t *src_md, const void *src,
                              const dnnl_memory_desc_t *dst_md, void *dst, tc__error *err);

#endif /* TC_SRC_ONNX_KERNELS_H */
