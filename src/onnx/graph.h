/* The engine's graph: values (tensors) and nodes in topological order, built
 * by the loader from the protobuf model and shared by planning and execution. */
#ifndef TC_SRC_ONNX_GRAPH_H
#define TC_SRC_ONNX_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "onnx.pb-c.h"
#include "onnx_engine.h"

/* ONNX TensorProto.DataType numbers the engine computes with. */
#define TC__ONNX_FLOAT 1
#define TC__ONNX_UINT8 2
#define TC__ONNX_INT8 3
#define TC__ONNX_INT32 6
#define TC__ONNX_INT64 7
#define TC__ONNX_BOOL 9

typedef enum tc__onnx_op {
    TC__OP_CONV,
    TC__OP_RELU,
    TC__OP_CLIP,
    TC__OP_MAXPOOL,
    TC__OP_AVGPOOL,
    TC__OP_GLOBALAVGPOOL,
    TC__OP_GLOBALMAXPOOL,
    TC__OP_BATCHNORM,
    TC__OP_ADD,
    TC__OP_SUB,
    TC__OP_MUL,
    TC__OP_DIV,
    TC__OP_CONCAT,
    TC__OP_FLATTEN,
    TC__OP_RESHAPE,
    TC__OP_GEMM,
    TC__OP_MATMUL,
    TC__OP_SOFTMAX,
    TC__OP_SIGMOID,
    TC__OP_HARDSIGMOID,
    TC__OP_HARDSWISH,
    TC__OP_IDENTITY,
    TC__OP_DROPOUT,
    TC__OP_CONSTANT,
    TC__OP_TRANSPOSE,
    TC__OP_SHAPE,
    TC__OP_GATHER,
    TC__OP_UNSQUEEZE,
    TC__OP_SQUEEZE,
    TC__OP_COUNT
} tc__onnx_op;

typedef struct tc__onnx_value {
    char *name;
    int elem; /* ONNX data type; 0 while unknown */
    size_t rank;
    int64_t dims[TC__ONNX_MAX_RANK]; /* graph inputs: -1 for dynamic */
    bool has_shape;
    bool is_const;
    bool is_input;
    bool is_output;
    void *data; /* constants: dense, plain layout, owned */
    size_t byte_size;
    int producer; /* node index, -1 for inputs and constants */
    int n_consumers;
} tc__onnx_value;

typedef struct tc__onnx_node {
    tc__onnx_op op;
    const Onnx__NodeProto *pb; /* attributes; owned by the graph's ModelProto */
    const char *name;          /* never NULL ("" when unnamed) */
    size_t n_in;
    int *in; /* value indices; -1 for an omitted optional input */
    size_t n_out;
    int *out;
    bool dead; /* removed by an optimisation */
} tc__onnx_node;

typedef struct tc__onnx_graph {
    Onnx__ModelProto *pb;
    int64_t opset;
    tc__onnx_value *vals;
    size_t n_vals;
    size_t cap_vals;
    tc__onnx_node *nodes; /* topological order */
    size_t n_nodes;
    int *inputs;
    size_t n_inputs;
    int *outputs;
    size_t n_outputs;
} tc__onnx_graph;

/* loader.c */
tc_code tc__onnx_graph_load(tc__onnx_graph *g, const void *bytes, size_t size, tc__error *err);
void tc__onnx_graph_cleanup(tc__onnx_graph *g);
/* Append a value named `name` (copied); returns its index or -1 on ENOMEM. */
int tc__onnx_graph_add_value(tc__onnx_graph *g, const char *name);
size_t tc__onnx_elem_size(int elem);
tc_dtype tc__onnx_elem_dtype(int elem);
int tc__onnx_elem_from_dtype(tc_dtype dtype);

/* tensor_pb.c: the protobuf-c allocator routed through tc__malloc. */
ProtobufCAllocator *tc__onnx_pb_allocator(void);
/* tensor_pb.c: decode a TensorProto into a value's elem/dims/data. */
tc_code tc__onnx_value_from_tensor(tc__onnx_value *v, const Onnx__TensorProto *t,
                                   tc__error *err);

/* attr.c: attribute lookups on a node (defaults when absent). */
const Onnx__AttributeProto *tc__onnx_attr(const tc__onnx_node *n, const char *name);
int64_t tc__onnx_attr_int(const tc__onnx_node *n, const char *name, int64_t def);
float tc__onnx_attr_float(const tc__onnx_node *n, const char *name, float def);
/* Integer list; `*count` 0 and NULL when absent. */
const int64_t *tc__onnx_attr_ints(const tc__onnx_node *n, const char *name, size_t *count);
/* String attribute as a NUL-terminated copy into `buf` (empty when absent). */
void tc__onnx_attr_string(const tc__onnx_node *n, const char *name, char *buf, size_t size);

/* optimize.c: graph rewrites done once at load. */
tc_code tc__onnx_graph_optimize(tc__onnx_graph *g, tc__error *err);

#endif /* TC_SRC_ONNX_GRAPH_H */
