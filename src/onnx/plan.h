/* An execution plan: the graph specialised for one set of input shapes, with
 * layouts, fused oneDNN primitives and a memory plan. Built by plan.c,
 * executed by exec.c; hand-written kernels live in ops.c. */
#ifndef TC_SRC_ONNX_PLAN_H
#define TC_SRC_ONNX_PLAN_H

#include "graph.h"
#include "kernels.h"

typedef struct tc__onnx_pval {
    int elem;
    size_t rank;
    int64_t dims[TC__ONNX_MAX_RANK];
    size_t count; /* logical elements */
    bool blocked; /* md is a oneDNN layout other than plain row-major */
    dnnl_memory_desc_t md; /* valid when blocked, or plain f32 of rank >= 1 */
    size_t bytes; /* physical size */
    void *data;
    bool is_const;
    void *owned; /* plan-owned constant data */
    int alias;   /* value whose buffer this one shares, or -1 */
    bool aliased; /* another value shares this buffer */
    int def;     /* producing step, -1 for inputs and constants */
    int last;    /* last reading step; INT32_MAX for graph outputs */
    int slot;
} tc__onnx_pval;

typedef struct tc__onnx_reorder {
    int from, to;
    tc__onnx_kernel *k;
} tc__onnx_reorder;

typedef struct tc__onnx_pnode {
    int node;
    bool skip; /* fused into another step or evaluated at plan time */
    size_t n_in;
    int *in; /* plan values, after layout reorders */
    int out;
    size_t n_pre;
    tc__onnx_reorder *pre;
    tc__onnx_kernel *k;
    void *wbuf; /* weights in the kernel's layout */
    int sum_in; /* value accumulated by a fused sum post-op, or -1 */
    /* op parameters resolved at plan time */
    float fa, fb;
    int64_t ia, ib;
    int64_t perm[TC__ONNX_MAX_RANK];
} tc__onnx_pnode;

typedef struct tc__onnx_plan {
    const tc__onnx_graph *g;
    tc__onnx_pval *vals;
    size_t n_vals, cap_vals;
    tc__onnx_pnode *nodes; /* one per graph node */
    size_t n_slots;
    void **slot_mem;
    size_t *slot_size;
    int64_t *in_dims; /* signature: dims of every graph input, in order, then
                       * the values of small int64 inputs (see TC__ONNX_SHAPE_INPUT_MAX) */
    size_t n_key;
    tc__onnx_kernel **out_k; /* per graph output: reorder to plain, or NULL */
    void **out_buf;           /* per graph output: plain copy when blocked */
} tc__onnx_plan;

/* Window geometry of a Conv or pooling node for its input dims. */
typedef struct tc__onnx_geom {
    int nsp;
    int64_t kernel[3], strides[3], dil[3], pad_l[3], pad_r[3], out[3];
} tc__onnx_geom;
tc_code tc__onnx_window_geom(const tc__onnx_plan *p, size_t i, const int64_t *kernel,
                             tc__onnx_geom *geo, tc__error *err);

/* Small int64 graph inputs (shapes, axes) are planned as constants: their
 * values belong to the plan key, so new values re-plan. */
#define TC__ONNX_SHAPE_INPUT_MAX 16
/* Largest tensor a plan accepts (one activation or constant). */
#define TC__ONNX_MAX_TENSOR_BYTES ((size_t)1 << 30)
tc_code tc__onnx_plan_build(tc__onnx_plan *p, const tc__onnx_graph *g, const int64_t *key,
                            size_t n_key, tc__error *err);
void tc__onnx_plan_cleanup(tc__onnx_plan *p);
/* Execute every step (inputs already copied into their buffers). */
tc_code tc__onnx_plan_exec(tc__onnx_plan *p, tc__error *err);

/* shape.c: output elem/dims of node `i` from its inputs; resolves pnode params. */
tc_code tc__onnx_infer(tc__onnx_plan *p, size_t i, tc__error *err);
/* ops.c: run node `i` with the hand-written kernel on plain (or dense
 * identical-layout) buffers. */
tc_code tc__onnx_op_run(tc__onnx_plan *p, size_t i, tc__error *err);
/* Gemm: add beta * C (broadcast) to the product already in the output. */
void tc__onnx_gemm_bias(tc__onnx_plan *p, size_t i);
/* True when the op has a hand-written kernel (and so may run at plan time). */
bool tc__onnx_op_is_manual(tc__onnx_op op);

/* Append a plan value; returns its index or -1 on ENOMEM. */
int tc__onnx_plan_add_value(tc__onnx_plan *p);
size_t tc__onnx_count(const int64_t *dims, size_t rank);

#endif /* TC_SRC_ONNX_PLAN_H */
