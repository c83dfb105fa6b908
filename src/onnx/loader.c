/* Model loading: protobuf decode, values, nodes, topological order. */
#include <string.h>

#include "common/alloc.h"
#include "graph.h"

typedef struct op_info {
    const char *name;
    tc__onnx_op op;
    unsigned char min_in, max_in, min_out, max_out;
} op_info;

#define MANY 255
static const op_info g_ops[] = {
    {"Conv", TC__OP_CONV, 2, 3, 1, 1},
    {"Relu", TC__OP_RELU, 1, 1, 1, 1},
    {"Clip", TC__OP_CLIP, 1, 3, 1, 1},
    {"MaxPool", TC__OP_MAXPOOL, 1, 1, 1, 2},
    {"AveragePool", TC__OP_AVGPOOL, 1, 1, 1, 1},
    {"GlobalAveragePool", TC__OP_GLOBALAVGPOOL, 1, 1, 1, 1},
    {"GlobalMaxPool", TC__OP_GLOBALMAXPOOL, 1, 1, 1, 1},
    {"BatchNormalization", TC__OP_BATCHNORM, 5, 5, 1, 5},
    {"Add", TC__OP_ADD, 2, 2, 1, 1},
    {"Sub", TC__OP_SUB, 2, 2, 1, 1},
    {"Mul", TC__OP_MUL, 2, 2, 1, 1},
    {"Div", TC__OP_DIV, 2, 2, 1, 1},
    {"Concat", TC__OP_CONCAT, 1, MANY, 1, 1},
    {"Flatten", TC__OP_FLATTEN, 1, 1, 1, 1},
    {"Reshape", TC__OP_RESHAPE, 1, 2, 1, 1},
    {"Gemm", TC__OP_GEMM, 2, 3, 1, 1},
    {"MatMul", TC__OP_MATMUL, 2, 2, 1, 1},
    {"Softmax", TC__OP_SOFTMAX, 1, 1, 1, 1},
    {"Sigmoid", TC__OP_SIGMOID, 1, 1, 1, 1},
    {"HardSigmoid", TC__OP_HARDSIGMOID, 1, 1, 1, 1},
    {"HardSwish", TC__OP_HARDSWISH, 1, 1, 1, 1},
    {"Identity", TC__OP_IDENTITY, 1, 1, 1, 1},
    {"Dropout", TC__OP_DROPOUT, 1, 3, 1, 2},
    {"Constant", TC__OP_CONSTANT, 0, 0, 1, 1},
    {"Transpose", TC__OP_TRANSPOSE, 1, 1, 1, 1},
    {"Shape", TC__OP_SHAPE, 1, 1, 1, 1},
    {"Gather", TC__OP_GATHER, 2, 2, 1, 1},
    {"Unsqueeze", TC__OP_UNSQUEEZE, 1, 2, 1, 1},
    {"Squeeze", TC__OP_SQUEEZE, 1, 2, 1, 1},
};

static const op_info *find_op(const char *op_type)
{
    for (size_t i = 0; i < sizeof g_ops / sizeof g_ops[0]; i++) {
        if (strcmp(g_ops[i].name, op_type) == 0)
            return &g_ops[i];
    }
    return NULL;
}

int tc__onnx_graph_add_value(tc__onnx_graph *g, const char *name)
{
    if (g->n_vals == g->cap_vals) {
        size_t cap = g->cap_vals ? 2 * g->cap_vals : 64;
        tc__onnx_value *v = tc__reallocarray(g->vals, cap, sizeof *v);
        if (v == NULL)
            return -1;
        g->vals = v;
        g->cap_vals = cap;
    }
    tc__onnx_value *v = &g->vals[g->n_vals];
    memset(v, 0, sizeof *v);
    v->name = tc__strdup(name);
    if (v->name == NULL)
        return -1;
    v->producer = -1;
    return (int)g->n_vals++;
}

static int find_value(const tc__onnx_graph *g, const char *name)
{
    for (size_t i = g->n_vals; i-- > 0;) {
        if (strcmp(g->vals[i].name, name) == 0)
            return (int)i;
    }
    return -1;
}

static tc_code load_initializers(tc__onnx_graph *g, const Onnx__GraphProto *gp, tc__error *err)
{
    for (size_t i = 0; i < gp->n_initializer; i++) {
        const Onnx__TensorProto *t = gp->initializer[i];
        const char *name = t->name ? t->name : "";
        if (name[0] == '\0' || find_value(g, name) >= 0)
            return tc__error_set(err, TC_E_INVALID_ARG, "initializer '%s' is unnamed or repeated",
                                 name);
        int v = tc__onnx_graph_add_value(g, name);
        if (v < 0)
            return tc__error_set(err, TC_E_NOMEM, "out of memory");
        tc_code rc = tc__onnx_value_from_tensor(&g->vals[v], t, err);
        if (rc != TC_OK)
            return rc;
    }
    return TC_OK;
}

/* Element type and dims of a ValueInfoProto; FALSE when it has no tensor type. */
static tc_code read_value_info(tc__onnx_value *v, const Onnx__ValueInfoProto *vi, bool need,
                               tc__error *err)
{
    const Onnx__TypeProto *tp = vi->type;
    if (tp == NULL || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE) {
        if (!need)
            return TC_OK;
        return tc__error_set(err, TC_E_NOT_SUPPORTED, "graph input '%s' is not a tensor",
                             v->name);
    }
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    if (tt->has_elem_type)
        v->elem = tt->elem_type;
    if (need && tc__onnx_elem_size(v->elem) == 0)
        return tc__error_set(err, TC_E_NOT_SUPPORTED, "graph input '%s' has unsupported type %d",
                             v->name, v->elem);
    if (tt->shape == NULL)
        return need ? tc__error_set(err, TC_E_NOT_SUPPORTED,
                                    "graph input '%s' has no shape (rank needed)", v->name)
                    : TC_OK;
    if (tt->shape->n_dim > TC__ONNX_MAX_RANK)
        return tc__error_set(err, TC_E_NOT_SUPPORTED, "value '%s' has rank %zu (max %d)",
                             v->name, tt->shape->n_dim, TC__ONNX_MAX_RANK);
    v->rank = tt->shape->n_dim;
    for (size_t d = 0; d < v->rank; d++) {
        const Onnx__TensorShapeProto__Dimension *dim = tt->shape->dim[d];
        bool fixed = dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE &&
                     dim->dim_value >= 0;
        v->dims[d] = fixed ? dim->dim_value : -1;
    }
    v->has_shape = true;
    return TC_OK;
}

static tc_code load_io(tc__onnx_graph *g, const Onnx__GraphProto *gp, tc__error *err)
{
    g->inputs = tc__calloc(gp->n_input + 1, sizeof(int));
    g->outputs = tc__calloc(gp->n_output + 1, sizeof(int));
    if (g->inputs == NULL || g->outputs == NULL)
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    for (size_t i = 0; i < gp->n_input; i++) {
        const char *name = gp->input[i]->name ? gp->input[i]->name : "";
        int v = find_value(g, name);
        if (v >= 0 && g->vals[v].is_const)
            continue; /* an initializer's default: we treat it as a constant */
        if (name[0] == '\0' || v >= 0)
            return tc__error_set(err, TC_E_INVALID_ARG, "graph input '%s' is unnamed or repeated",
                                 name);
        v = tc__onnx_graph_add_value(g, name);
        if (v < 0)
            return tc__error_set(err, TC_E_NOMEM, "out of memory");
        g->vals[v].is_input = true;
        tc_code rc = read_value_info(&g->vals[v], gp->input[i], true, err);
        if (rc != TC_OK)
            return rc;
        g->inputs[g->n_inputs++] = v;
    }
    return TC_OK;
}

static tc_code node_value(tc__onnx_graph *g, const char *name, int *out, tc__error *err)
{
    if (name == NULL || name[0] == '\0') {
        *out = -1;
        return TC_OK;
    }
    int v = find_value(g, name);
    if (v < 0)
        v = tc__onnx_graph_add_value(g, name);
    if (v < 0)
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    *out = v;
    return TC_OK;
}

static tc_code load_node(tc__onnx_graph *g, const Onnx__NodeProto *np, tc__error *err)
{
    tc__onnx_node *n = &g->nodes[g->n_nodes];
    memset(n, 0, sizeof *n);
    n->pb = np;
    n->name = np->name ? np->name : "";
    const char *op_type = np->op_type ? np->op_type : "";
    const char *domain = np->domain ? np->domain : "";
    const op_info *oi = NULL;
    if (domain[0] == '\0' || strcmp(domain, "ai.onnx") == 0)
        oi = find_op(op_type);
    if (oi == NULL)
        return tc__error_set(err, TC_E_NOT_SUPPORTED,
                             "unsupported operator '%s%s%s' in node '%s'", domain,
                             domain[0] ? "." : "", op_type, n->name);
    if (np->n_input < oi->min_in || np->n_input > oi->max_in || np->n_output < oi->min_out ||
        np->n_output > oi->max_out)
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "node '%s' (%s) has %zu inputs and %zu outputs", n->name, op_type,
                             np->n_input, np->n_output);
    n->op = oi->op;
    n->in = tc__calloc(np->n_input + 1, sizeof(int));
    n->out = tc__calloc(np->n_output + 1, sizeof(int));
    g->n_nodes++; /* owns in/out from here for cleanup */
    if (n->in == NULL || n->out == NULL)
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    n->n_in = np->n_input;
    n->n_out = np->n_output;
    for (size_t i = 0; i < np->n_input; i++) {
        tc_code rc = node_value(g, np->input[i], &n->in[i], err);
        if (rc != TC_OK)
            return rc;
    }
    for (size_t i = 0; i < np->n_output; i++) {
        tc_code rc = node_value(g, np->output[i], &n->out[i], err);
        if (rc != TC_OK)
            return rc;
        int v = n->out[i];
        if (v < 0)
            continue;
        tc__onnx_value *val = &g->vals[v];
        if (val->producer >= 0 || val->is_const || val->is_input)
            return tc__error_set(err, TC_E_INVALID_ARG, "value '%s' is produced twice (node '%s')",
                                 val->name, n->name);
        val->producer = (int)(g->n_nodes - 1);
    }
    if (n->out[0] < 0)
        return tc__error_set(err, TC_E_INVALID_ARG, "node '%s' has no first output", n->name);
    return TC_OK;
}

/* Kahn's algorithm over the producer links; a cycle or a value that no node
 * produces is an error. Rewrites node order and producer indices. */
static tc_code sort_nodes(tc__onnx_graph *g, tc__error *err)
{
    size_t n = g->n_nodes;
    tc_code rc = TC_OK;
    int *pending = tc__calloc(n + 1, sizeof(int));
    int *order = tc__calloc(n + 1, sizeof(int));
    bool *ready = tc__calloc(g->n_vals + 1, sizeof(bool));
    tc__onnx_node *sorted = tc__calloc(n + 1, sizeof *sorted);
    if (pending == NULL || order == NULL || ready == NULL || sorted == NULL) {
        rc = tc__error_set(err, TC_E_NOMEM, "out of memory");
        goto out;
    }
    for (size_t v = 0; v < g->n_vals; v++)
        ready[v] = g->vals[v].is_const || g->vals[v].is_input;
    size_t done = 0;
    bool progress = true;
    /* Repeated sweeps keep the file's order where it is already valid. */
    while (done < n && progress) {
        progress = false;
        for (size_t i = 0; i < n; i++) {
            if (pending[i])
                continue;
            bool ok = true;
            for (size_t k = 0; k < g->nodes[i].n_in && ok; k++)
                ok = g->nodes[i].in[k] < 0 || ready[g->nodes[i].in[k]];
            if (!ok)
                continue;
            pending[i] = 1;
            order[done++] = (int)i;
            for (size_t k = 0; k < g->nodes[i].n_out; k++) {
                if (g->nodes[i].out[k] >= 0)
                    ready[g->nodes[i].out[k]] = true;
            }
            progress = true;
        }
    }
    if (done < n) {
        for (size_t i = 0; i < n; i++) {
            for (size_t k = 0; !pending[i] && k < g->nodes[i].n_in; k++) {
                int v = g->nodes[i].in[k];
                if (v >= 0 && !ready[v] && g->vals[v].producer < 0) {
                    rc = tc__error_set(err, TC_E_INVALID_ARG,
                                       "input '%s' of node '%s' is never produced",
                                       g->vals[v].name, g->nodes[i].name);
                    goto out;
                }
            }
        }
        rc = tc__error_set(err, TC_E_INVALID_ARG, "the graph has a cycle");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        sorted[i] = g->nodes[order[i]];
    memcpy(g->nodes, sorted, n * sizeof *sorted);
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < g->nodes[i].n_out; k++) {
            if (g->nodes[i].out[k] >= 0)
                g->vals[g->nodes[i].out[k]].producer = (int)i;
        }
    }
out:
    tc__free(pending);
    tc__free(order);
    tc__free(ready);
    tc__free(sorted);
    return rc;
}

static tc_code load_outputs(tc__onnx_graph *g, const Onnx__GraphProto *gp, tc__error *err)
{
    for (size_t i = 0; i < gp->n_output; i++) {
        const char *name = gp->output[i]->name ? gp->output[i]->name : "";
        int v = find_value(g, name);
        if (v < 0)
            return tc__error_set(err, TC_E_INVALID_ARG, "graph output '%s' is never produced",
                                 name);
        if (g->vals[v].is_output)
            return tc__error_set(err, TC_E_INVALID_ARG, "graph output '%s' is repeated", name);
        g->vals[v].is_output = true;
        tc__onnx_value tmp = g->vals[v];
        tc_code rc = read_value_info(&tmp, gp->output[i], false, err);
        if (rc != TC_OK)
            return rc;
        if (g->vals[v].elem == 0)
            g->vals[v].elem = tmp.elem;
        g->outputs[g->n_outputs++] = v;
    }
    return TC_OK;
}

static tc_code read_opset(tc__onnx_graph *g, tc__error *err)
{
    const Onnx__ModelProto *m = g->pb;
    for (size_t i = 0; i < m->n_opset_import; i++) {
        const char *d = m->opset_import[i]->domain ? m->opset_import[i]->domain : "";
        if (d[0] == '\0' || strcmp(d, "ai.onnx") == 0)
            g->opset = m->opset_import[i]->version;
    }
    if (g->opset <= 0)
        return tc__error_set(err, TC_E_INVALID_ARG, "model imports no ONNX operator set");
    return TC_OK;
}

tc_code tc__onnx_graph_load(tc__onnx_graph *g, const void *bytes, size_t size, tc__error *err)
{
    memset(g, 0, sizeof *g);
    g->pb = onnx__model_proto__unpack(tc__onnx_pb_allocator(), size, bytes);
    if (g->pb == NULL)
        return tc__error_set(err, TC_E_INVALID_ARG, "not a valid ONNX model (protobuf decode "
                                                    "failed: truncated or corrupt bytes)");
    const Onnx__GraphProto *gp = g->pb->graph;
    if (gp == NULL)
        return tc__error_set(err, TC_E_INVALID_ARG, "ONNX model has no graph");
    tc_code rc = read_opset(g, err);
    if (rc == TC_OK)
        rc = load_initializers(g, gp, err);
    if (rc == TC_OK)
        rc = load_io(g, gp, err);
    if (rc != TC_OK)
        return rc;
    g->nodes = tc__calloc(gp->n_node + 1, sizeof *g->nodes);
    if (g->nodes == NULL)
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    for (size_t i = 0; i < gp->n_node; i++) {
        rc = load_node(g, gp->node[i], err);
        if (rc != TC_OK)
            return rc;
    }
    rc = sort_nodes(g, err);
    if (rc == TC_OK)
        rc = load_outputs(g, gp, err);
    if (rc != TC_OK)
        return rc;
    if (g->n_outputs == 0)
        return tc__error_set(err, TC_E_INVALID_ARG, "ONNX graph has no outputs");
    return tc__onnx_graph_optimize(g, err);
}

void tc__onnx_graph_cleanup(tc__onnx_graph *g)
{
    for (size_t i = 0; i < g->n_vals; i++) {
        tc__free(g->vals[i].name);
        tc__free(g->vals[i].data);
    }
    for (size_t i = 0; i < g->n_nodes; i++) {
        tc__free(g->nodes[i].in);
        tc__free(g->nodes[i].out);
    }
    tc__free(g->vals);
    tc__free(g->nodes);
    tc__free(g->inputs);
    tc__free(g->outputs);
    if (g->pb != NULL)
        onnx__model_proto__free_unpacked(g->pb, tc__onnx_pb_allocator());
    memset(g, 0, sizeof *g);
}
