/* The engine's interface (onnx_engine.h): model lifetime, I/O descriptions
 * and runs with plan caching per input shape. */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "plan.h"

/* oneDNN in Debian runs on libgomp, whose thread count is a per-thread
 * setting of the calling thread; we link libgomp and call it directly
 * rather than depending on the compiler's omp.h. */
void omp_set_num_threads(int n);

struct tc__onnx_model {
    tc__onnx_graph g;
    tc__onnx_plan plan;
    bool planned;
    int threads;
};

static tc_code model_init(tc__onnx_model **out, const void *bytes, size_t size, int threads,
                          tc__error *err)
{
    tc__onnx_model *m = tc__calloc(1, sizeof *m);
    if (m == NULL)
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    m->threads = threads;
    tc_code rc = tc__onnx_graph_load(&m->g, bytes, size, err);
    if (rc != TC_OK) {
        tc__onnx_model_free(m);
        return rc;
    }
    *out = m;
    return TC_OK;
}

tc_code tc__onnx_model_new_from_bytes(tc__onnx_model **out, const void *bytes, size_t size,
                                      int intra_op_threads, tc__error *err)
{
    if (out == NULL || (bytes == NULL && size > 0))
        return tc__error_set(err, TC_E_INVALID_ARG, "NULL argument");
    *out = NULL;
    return model_init(out, bytes, size, intra_op_threads, err);
}

tc_code tc__onnx_model_new_from_file(tc__onnx_model **out, const char *path,
                                     int intra_op_threads, tc__error *err)
{
    if (out == NULL || path == NULL)
        return tc__error_set(err, TC_E_INVALID_ARG, "NULL argument");
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return tc__error_set(err, TC_E_NOT_FOUND, "cannot open model file '%s'", path);
    tc_code rc = TC_OK;
    char *buf = NULL;
    long len = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        len = ftell(f);
    if (len < 0 || fseek(f, 0, SEEK_SET) != 0) {
        rc = tc__error_set(err, TC_E_NOT_FOUND, "cannot read model file '%s'", path);
        goto out;
    }
    buf = tc__malloc((size_t)len + 1);
    if (buf == NULL) {
        rc = tc__error_set(err, TC_E_NOMEM, "out of memory reading '%s'", path);
        goto out;
    }
    if (fread(buf, 1, (size_t)len, f) != (size_t)len) {
        rc = tc__error_set(err, TC_E_NOT_FOUND, "short read on model file '%s'", path);
        goto out;
    }
    rc = model_init(out, buf, (size_t)len, intra_op_threads, err);
out:
    tc__free(buf);
    (void)fclose(f);
    return rc;
}

void tc__onnx_model_free(tc__onnx_model *model)
{
    if (model == NULL)
        return;
    if (model->planned)
        tc__onnx_plan_cleanup(&model->plan);
    tc__onnx_graph_cleanup(&model->g);
    tc__free(model);
}

void tc__onnx_model_set_threads(tc__onnx_model *model, int intra_op_threads)
{
    if (model != NULL)
        model->threads = intra_op_threads;
}

size_t tc__onnx_model_input_count(const tc__onnx_model *model)
{
    return model->g.n_inputs;
}

size_t tc__onnx_model_output_count(const tc__onnx_model *model)
{
    return model->g.n_outputs;
}

static void fill_info(const tc__onnx_value *v, tc__onnx_io_info *info)
{
    info->name = v->name;
    info->dtype = tc__onnx_elem_dtype(v->elem);
    info->rank = v->has_shape ? v->rank : 0;
    info->shape = v->dims;
}

tc_code tc__onnx_model_input(const tc__onnx_model *model, size_t index, tc__onnx_io_info *info)
{
    if (model == NULL || info == NULL || index >= model->g.n_inputs)
        return TC_E_INVALID_ARG;
    fill_info(&model->g.vals[model->g.inputs[index]], info);
    return TC_OK;
}

tc_code tc__onnx_model_output(const tc__onnx_model *model, size_t index, tc__onnx_io_info *info)
{
    if (model == NULL || info == NULL || index >= model->g.n_outputs)
        return TC_E_INVALID_ARG;
    const tc__onnx_value *v = &model->g.vals[model->g.outputs[index]];
    fill_info(v, info);
    /* Output shapes are only known per plan; describe the batch as dynamic
     * when the first input's batch is. */
    return TC_OK;
}

int64_t tc__onnx_model_opset(const tc__onnx_model *model)
{
    return model->g.opset;
}

static const char *dtype_str(tc_dtype d)
{
    static const char *const names[] = {"INVALID", "BOOL",  "UINT8", "UINT16", "UINT32",
                                        "UINT64",  "INT8",  "INT16", "INT32",  "INT64",
                                        "FP16",    "FP32",  "FP64",  "BYTES",  "BF16"};
    return (d >= 0 && (size_t)d < sizeof names / sizeof names[0]) ? names[d] : "INVALID";
}

/* Check one caller input against graph input `v` and append its dims. */
static tc_code check_input(const tc__onnx_value *v, const tc__onnx_input *in, tc__error *err)
{
    if (tc__onnx_elem_from_dtype(in->dtype) != v->elem)
        return tc__error_set(err, TC_E_INVALID_ARG, "input '%s': datatype %s, model expects %s",
                             v->name, dtype_str(in->dtype), dtype_str(tc__onnx_elem_dtype(v->elem)));
    if (in->rank != v->rank || (in->rank > 0 && in->shape == NULL))
        return tc__error_set(err, TC_E_INVALID_ARG, "input '%s': rank %zu, model expects %zu",
                             v->name, in->rank, v->rank);
    size_t count = 1;
    for (size_t d = 0; d < in->rank; d++) {
        if (in->shape[d] < 0 || (v->dims[d] >= 0 && in->shape[d] != v->dims[d]))
            return tc__error_set(err, TC_E_INVALID_ARG,
                                 "input '%s': dimension %zu is %lld, model expects %lld", v->name,
                                 d, (long long)in->shape[d], (long long)v->dims[d]);
        if (in->shape[d] > 0 && count > (SIZE_MAX / 16) / (size_t)in->shape[d])
            return tc__error_set(err, TC_E_INVALID_ARG, "input '%s' is too large", v->name);
        count *= (size_t)in->shape[d];
    }
    if (in->byte_size != count * tc__onnx_elem_size(v->elem) ||
        (in->data == NULL && in->byte_size > 0))
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "input '%s': %zu bytes given, the shape needs %zu", v->name,
                             in->byte_size, count * tc__onnx_elem_size(v->elem));
    return TC_OK;
}

/* Match inputs to graph inputs; `order[k]` is the caller input for graph input k. */
static tc_code match_inputs(const tc__onnx_graph *g, const tc__onnx_input *inputs, size_t n,
                            size_t *order, int64_t *dims, size_t *n_key, tc__error *err)
{
    if (n != g->n_inputs)
        return tc__error_set(err, TC_E_INVALID_ARG, "%zu inputs given, the model has %zu", n,
                             g->n_inputs);
    size_t off = 0;
    for (size_t k = 0; k < g->n_inputs; k++) {
        const tc__onnx_value *v = &g->vals[g->inputs[k]];
        size_t found = SIZE_MAX;
        for (size_t j = 0; j < n; j++) {
            if (inputs[j].name != NULL && strcmp(inputs[j].name, v->name) == 0) {
                if (found != SIZE_MAX)
                    return tc__error_set(err, TC_E_INVALID_ARG, "input '%s' given twice",
                                         v->name);
                found = j;
            }
        }
        if (found == SIZE_MAX)
            return tc__error_set(err, TC_E_INVALID_ARG, "input '%s' is missing", v->name);
        tc_code rc = check_input(v, &inputs[found], err);
        if (rc != TC_OK)
            return rc;
        order[k] = found;
        memcpy(dims + off, inputs[found].shape, v->rank * sizeof(int64_t));
        off += v->rank;
    }
    /* values of small int64 inputs complete the plan key */
    for (size_t k = 0; k < g->n_inputs; k++) {
        const tc__onnx_input *in = &inputs[order[k]];
        size_t count = in->byte_size / sizeof(int64_t);
        if (g->vals[g->inputs[k]].elem != TC__ONNX_INT64 || count > TC__ONNX_SHAPE_INPUT_MAX)
            continue;
        if (count > 0)
            memcpy(dims + off, in->data, in->byte_size);
        off += count;
    }
    *n_key = off;
    return TC_OK;
}

static tc_code ensure_plan(tc__onnx_model *m, const int64_t *dims, size_t n_dims, tc__error *err)
{
    if (m->planned && m->plan.n_key == n_dims &&
        memcmp(m->plan.in_dims, dims, n_dims * sizeof(int64_t)) == 0)
        return TC_OK;
    if (m->planned)
        tc__onnx_plan_cleanup(&m->plan);
    m->planned = true;
    tc_code rc = tc__onnx_plan_build(&m->plan, &m->g, dims, n_dims, err);
    if (rc != TC_OK) {
        tc__onnx_plan_cleanup(&m->plan);
        m->planned = false;
    }
    return rc;
}

static tc_code fetch_output(tc__onnx_model *m, size_t k, tc__onnx_output *o, tc__error *err)
{
    const tc__onnx_pval *v = &m->plan.vals[m->g.outputs[k]];
    const void *src = m->plan.out_k[k] != NULL ? m->plan.out_buf[k] : v->data;
    size_t bytes = v->count * tc__onnx_elem_size(v->elem);
    o->dtype = tc__onnx_elem_dtype(v->elem);
    o->rank = v->rank;
    memcpy(o->shape, v->dims, sizeof o->shape);
    o->byte_size = bytes;
    if (o->buffer == NULL) {
        o->data = src;
        return TC_OK;
    }
    if (o->buffer_size < bytes)
        return tc__error_set(err, TC_E_INVALID_ARG, "output '%s' needs %zu bytes, buffer has %zu",
                             m->g.vals[m->g.outputs[k]].name, bytes, o->buffer_size);
    if (bytes > 0)
        memcpy(o->buffer, src, bytes);
    o->data = o->buffer;
    return TC_OK;
}

static tc_code find_output(const tc__onnx_graph *g, const tc__onnx_output *o, size_t index,
                           size_t *out, tc__error *err)
{
    if (o->name == NULL) {
        if (index >= g->n_outputs)
            return tc__error_set(err, TC_E_NOT_FOUND, "the model has only %zu outputs",
                                 g->n_outputs);
        *out = index;
        return TC_OK;
    }
    for (size_t k = 0; k < g->n_outputs; k++) {
        if (strcmp(g->vals[g->outputs[k]].name, o->name) == 0) {
            *out = k;
            return TC_OK;
        }
    }
    return tc__error_set(err, TC_E_NOT_FOUND, "the model has no output '%s'", o->name);
}

tc_code tc__onnx_model_run(tc__onnx_model *model, const tc__onnx_input *inputs, size_t n_inputs,
                           tc__onnx_output *outputs, size_t n_outputs, tc__error *err)
{
    if (model == NULL || (inputs == NULL && n_inputs > 0) || (outputs == NULL && n_outputs > 0))
        return tc__error_set(err, TC_E_INVALID_ARG, "NULL argument");
    const tc__onnx_graph *g = &model->g;
    size_t total = 0;
    for (size_t k = 0; k < g->n_inputs; k++)
        total += g->vals[g->inputs[k]].rank;
    size_t *order = tc__calloc(g->n_inputs + 1, sizeof(size_t));
    size_t n_key = 0;
    int64_t *dims = tc__calloc(total + TC__ONNX_SHAPE_INPUT_MAX * g->n_inputs + 1, sizeof(int64_t));
    tc_code rc = TC_OK;
    if (order == NULL || dims == NULL) {
        rc = tc__error_set(err, TC_E_NOMEM, "out of memory");
        goto out;
    }
    rc = match_inputs(g, inputs, n_inputs, order, dims, &n_key, err);
    for (size_t k = 0; k < n_outputs && rc == TC_OK; k++) {
        size_t idx;
        rc = find_output(g, &outputs[k], k, &idx, err);
    }
    /* before planning too: oneDNN sizes its blocking for the thread count */
    if (rc == TC_OK && model->threads > 0)
        omp_set_num_threads(model->threads);
    if (rc == TC_OK)
        rc = ensure_plan(model, dims, n_key, err);
    if (rc != TC_OK)
        goto out;
    for (size_t k = 0; k < g->n_inputs; k++) {
        const tc__onnx_input *in = &inputs[order[k]];
        if (in->byte_size > 0 && !model->plan.vals[g->inputs[k]].is_const)
            memcpy(model->plan.vals[g->inputs[k]].data, in->data, in->byte_size);
    }
    rc = tc__onnx_plan_exec(&model->plan, err);
    for (size_t k = 0; k < n_outputs && rc == TC_OK; k++) {
        size_t idx = 0;
        rc = find_output(g, &outputs[k], k, &idx, err);
        if (rc == TC_OK)
            rc = fetch_output(model, idx, &outputs[k], err);
    }
out:
    tc__free(order);
    tc__free(dims);
    return rc;
}
