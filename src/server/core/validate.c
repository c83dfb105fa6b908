/* Request validation against the model configuration, worded as Triton
 * words it (HTTP.md sections 6-7). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "core/internal.h"
#include "proto/bytes.h"

static const char *type_name(Inference__DataType t)
{
    const char *n = tc_dtype_name((tc_dtype)t);
    return n != NULL ? n : "INVALID";
}

/* "[-1,16]" into buf. */
static void dims_text(const int64_t *d, size_t n, bool batch, char *buf, size_t size)
{
    size_t pos = 0;
    int k = snprintf(buf, size, "[");
    pos = k > 0 ? (size_t)k : 0;
    if (batch && pos < size) {
        k = snprintf(buf + pos, size - pos, "-1%s", n > 0 ? "," : "");
        pos += k > 0 ? (size_t)k : 0;
    }
    for (size_t i = 0; i < n && pos < size; i++) {
        k = snprintf(buf + pos, size - pos, "%" PRId64 "%s", d[i], i + 1 < n ? "," : "");
        pos += k > 0 ? (size_t)k : 0;
    }
    if (pos < size)
        (void)snprintf(buf + pos, size - pos, "]");
}

static const Inference__ModelInput *find_config_input(const Inference__ModelConfig *cfg,
                                                      const char *name)
{
    for (size_t i = 0; i < cfg->n_input; i++) {
        if (strcmp(cfg->input[i]->name, name) == 0)
            return cfg->input[i];
    }
    return NULL;
}

static bool has_output(const Inference__ModelConfig *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_output; i++) {
        if (strcmp(cfg->output[i]->name, name) == 0)
            return true;
    }
    return false;
}

static tc_code check_count(const Inference__ModelConfig *cfg, const char *model,
                           const tc__infer_request *req, tc__error *err)
{
    size_t required = 0;
    for (size_t i = 0; i < cfg->n_input; i++)
        required += cfg->input[i]->optional ? 0 : 1;
    if (req->input_count < required || req->input_count > cfg->n_input) {
        if (required == cfg->n_input)
            return tc__error_set(err, TC_E_INVALID_ARG,
                                 "expected %zu inputs but got %zu inputs for model '%s'",
                                 cfg->n_input, req->input_count, model);
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "expected number of inputs between %zu and %zu but got %zu inputs "
                             "for model '%s'",
                             required, cfg->n_input, req->input_count, model);
    }
    for (size_t i = 0; i < req->input_count; i++) {
        for (size_t j = 0; j < i; j++) {
            if (strcmp(req->inputs[i].name, req->inputs[j].name) == 0)
                return tc__error_set(err, TC_E_INVALID_ARG,
                                     "input '%s' is specified more than once for model '%s'",
                                     req->inputs[i].name, model);
        }
    }
    return TC_OK;
}

/* Shape of one input against dims (and the batch dimension). */
static tc_code check_shape(const Inference__ModelConfig *cfg, const char *model,
                           const Inference__ModelInput *ci, const tc__tensor *t, uint64_t *batch,
                           tc__error *err)
{
    bool batching = cfg->max_batch_size > 0;
    const int64_t *shape = t->shape;
    size_t ndim = t->ndim;
    if (batching) {
        if (ndim == 0)
            return tc__error_set(err, TC_E_INVALID_ARG,
                                 "input '%s' has no shape but model requires batch dimension "
                                 "for '%s'",
                                 t->name, model);
        uint64_t b = (uint64_t)shape[0];
        if (*batch == UINT64_MAX)
            *batch = b;
        else if (*batch != b)
            return tc__error_set(err, TC_E_INVALID_ARG,
                                 "input '%s' batch size does not match other inputs for '%s'",
                                 t->name, model);
        if (b > (uint64_t)cfg->max_batch_size)
            return tc__error_set(err, TC_E_INVALID_ARG,
                                 "inference request batch-size must be <= %d for '%s'",
                                 cfg->max_batch_size, model);
        shape++;
        ndim--;
    }
    bool ok = ndim == ci->n_dims;
    for (size_t i = 0; ok && i < ndim; i++)
        ok = ci->dims[i] == -1 || ci->dims[i] == shape[i];
    if (!ok) {
        char want[256];
        char got[256];
        dims_text(ci->dims, ci->n_dims, batching, want, sizeof want);
        dims_text(t->shape, t->ndim, false, got, sizeof got);
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "unexpected shape for input '%s' for model '%s'. Expected %s, got %s",
                             t->name, model, want, got);
    }
    return TC_OK;
}

static tc_code check_data(const char *model, const tc__tensor *t, tc__error *err)
{
    uint64_t elems = 1;
    for (size_t i = 0; i < t->ndim; i++) {
        if (t->shape[i] < 0)
            return tc__error_set(err, TC_E_INVALID_ARG,
                                 "unexpected negative dimension in shape of input '%s' for "
                                 "model '%s'",
                                 t->name, model);
        uint64_t d = (uint64_t)t->shape[i];
        if (d != 0 && elems > UINT64_MAX / d)
            return tc__error_set(err, TC_E_INVALID_ARG, "shape of input '%s' is too large",
                                 t->name);
        elems *= d;
    }
    /* Shared-memory inputs arrive resolved (tc__shm_bind): one left here
     * was never looked up. */
    if (t->shm.region != NULL)
        return tc__error_set(err, TC_E_NOT_FOUND, "Unable to find shared memory region: '%s'",
                             t->shm.region);
    if (t->dtype == TC_DTYPE_BYTES) {
        size_t count = 0;
        if (tc__bytes_count(t->data, t->byte_size, &count) != TC_OK)
            return tc__error_set(err, TC_E_INVALID_ARG,
                                 "incomplete string length indicator for inference input '%s' "
                                 "for model '%s'",
                                 t->name, model);
        if ((uint64_t)count != elems)
            return tc__error_set(err, TC_E_INVALID_ARG,
                                 "expected %" PRIu64 " string elements for inference input '%s' "
                                 "for model '%s', got %zu",
                                 elems, t->name, model, count);
        return TC_OK;
    }
    uint64_t es = tc_dtype_size(t->dtype);
    if (elems > UINT64_MAX / (es > 0 ? es : 1) || elems * es != (uint64_t)t->byte_size)
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "input byte size mismatch for input '%s' for model '%s'. Expected "
                             "%" PRIu64 ", got %zu",
                             t->name, model, elems * es, t->byte_size);
    return TC_OK;
}

static tc_code check_outputs(const Inference__ModelConfig *cfg, const char *model,
                             const tc__infer_request *req, tc__error *err)
{
    for (size_t i = 0; i < req->output_count; i++) {
        const tc__requested_output *o = &req->outputs[i];
        if (!has_output(cfg, o->name))
            return tc__error_set(err, TC_E_INVALID_ARG,
                                 "unexpected inference output '%s' for model '%s'", o->name, model);
        if (o->shm.region != NULL && o->class_count > 0)
            return tc__error_set(err, TC_E_INVALID_ARG,
                                 "Output can't set both 'shared_memory_region' and "
                                 "'classification'");
        for (size_t j = 0; j < i; j++) {
            if (strcmp(req->outputs[j].name, o->name) == 0)
                return tc__error_set(err, TC_E_INVALID_ARG,
                                     "output '%s' is requested more than once for model '%s'",
                                     o->name, model);
        }
    }
    return TC_OK;
}

tc_code tc__validate_request(const Inference__ModelConfig *cfg, const char *model,
                             const tc__infer_request *req, uint64_t *batch_size, tc__error *err)
{
    tc_code rc = check_count(cfg, model, req, err);
    uint64_t batch = UINT64_MAX;
    for (size_t i = 0; rc == TC_OK && i < req->input_count; i++) {
        const tc__tensor *t = &req->inputs[i];
        const Inference__ModelInput *ci = find_config_input(cfg, t->name);
        if (ci == NULL)
            return tc__error_set(err, TC_E_INVALID_ARG,
                                 "unexpected inference input '%s' for model '%s'", t->name, model);
        if ((int)t->dtype != (int)ci->data_type)
            return tc__error_set(err, TC_E_INVALID_ARG,
                                 "inference input '%s' data-type is '%s', but model '%s' expects "
                                 "'%s'",
                                 t->name,
                                 tc_dtype_name(t->dtype) ? tc_dtype_name(t->dtype) : "INVALID",
                                 model, type_name(ci->data_type));
        rc = check_shape(cfg, model, ci, t, &batch, err);
        if (rc == TC_OK)
            rc = check_data(model, t, err);
    }
    if (rc == TC_OK)
        rc = check_outputs(cfg, model, req, err);
    if (rc == TC_OK)
        *batch_size = batch == UINT64_MAX || cfg->max_batch_size <= 0 ? 1 : batch;
    return rc;
}
