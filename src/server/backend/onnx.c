/* ONNX backend: config `platform: "onnxruntime_onnx"` or `backend:
 * "onnxruntime"` runs `<version dir>/model.onnx` (or default_model_filename)
 * on the CPU with the tc_onnx engine (src/onnx).
 *
 * Concurrency: the engine runs one inference at a time per loaded model, so
 * every instance gets its own engine model: instance 0's is loaded by init()
 * (so a bad model fails the load), the others on their first execute().
 * An instance index is never executed twice at once (backend.h), so each
 * slot is touched by one thread at a time without a lock.
 *
 * Batching: requests of one execute() are concatenated along the batch
 * dimension and run once when their other dimensions agree, then the
 * outputs are split back per request. Config parameter
 * `intra_op_thread_count` sets the engine's threads (0 = all cores). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "common/alloc.h"
#include "onnx_engine.h"

#define MAX_INSTANCES 64

typedef struct onnx_state {
    char *path;
    int threads;
    bool batching; /* max_batch_size > 0: dim 0 of every tensor is the batch */
    const Inference__ModelConfig *cfg;
    tc__onnx_model *models[MAX_INSTANCES];
} onnx_state;

static void onnx_fini(void *state)
{
    onnx_state *s = state;
    if (s == NULL)
        return;
    for (size_t i = 0; i < MAX_INSTANCES; i++)
        tc__onnx_model_free(s->models[i]);
    tc__free(s->path);
    tc__free(s);
}

/* Every config input and output must exist in the graph with its datatype. */
static tc_code check_io(const onnx_state *s, const char *model, tc__error *err)
{
    const tc__onnx_model *m = s->models[0];
    for (size_t i = 0; i < s->cfg->n_input + s->cfg->n_output; i++) {
        bool is_in = i < s->cfg->n_input;
        const char *name = is_in ? s->cfg->input[i]->name : s->cfg->output[i - s->cfg->n_input]->name;
        tc_dtype want = (tc_dtype)(is_in ? s->cfg->input[i]->data_type
                                         : s->cfg->output[i - s->cfg->n_input]->data_type);
        size_t n = is_in ? tc__onnx_model_input_count(m) : tc__onnx_model_output_count(m);
        bool found = false;
        for (size_t k = 0; k < n && !found; k++) {
            tc__onnx_io_info info;
            if ((is_in ? tc__onnx_model_input(m, k, &info) : tc__onnx_model_output(m, k, &info)) !=
                TC_OK)
                continue;
            if (strcmp(info.name, name) != 0)
                continue;
            found = true;
            if (info.dtype != want)
                return tc__error_set(err, TC_E_INVALID_ARG,
                                     "unexpected datatype %s for %s '%s' of model '%s': the ONNX "
                                     "graph has %s",
                                     tc_dtype_name(want), is_in ? "input" : "output", name, model,
                                     tc_dtype_name(info.dtype) ? tc_dtype_name(info.dtype) : "?");
        }
        if (!found)
            return tc__error_set(err, TC_E_INVALID_ARG,
                                 "unable to find %s '%s' of model '%s' in the ONNX graph",
                                 is_in ? "input" : "output", name, model);
    }
    return TC_OK;
}

static tc_code onnx_init(const tc__backend_model *model, void **state, tc__error *err)
{
    const Inference__ModelConfig *cfg = model->config;
    onnx_state *s = tc__calloc(1, sizeof *s);
    if (s == NULL)
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    s->cfg = cfg;
    s->batching = cfg->max_batch_size > 0;
    const char *threads = tc__backend_config_param(cfg, "intra_op_thread_count");
    s->threads = threads != NULL ? (int)strtol(threads, NULL, 10) : 0;
    const char *file = cfg->default_model_filename != NULL && cfg->default_model_filename[0] != '\0'
                           ? cfg->default_model_filename
                           : "model.onnx";
    int n = snprintf(NULL, 0, "%s/%" PRId64 "/%s", model->path, model->version, file);
    s->path = tc__malloc((size_t)n + 1);
    tc_code rc = TC_E_NOMEM;
    if (s->path == NULL)
        goto fail;
    (void)snprintf(s->path, (size_t)n + 1, "%s/%" PRId64 "/%s", model->path, model->version, file);
    rc = tc__onnx_model_new_from_file(&s->models[0], s->path, s->threads, err);
    if (rc != TC_OK)
        goto fail;
    rc = check_io(s, model->name, err);
    if (rc != TC_OK)
        goto fail;
    *state = s;
    return TC_OK;
fail:
    if (rc == TC_E_NOMEM)
        tc__error_set(err, TC_E_NOMEM, "out of memory");
    onnx_fini(s);
    return rc;
}

static tc__onnx_model *instance_model(onnx_state *s, uint32_t instance, tc__error *err)
{
    size_t slot = instance % MAX_INSTANCES;
    if (s->models[slot] == NULL &&
        tc__onnx_model_new_from_file(&s->models[slot], s->path, s->threads, err) != TC_OK)
        return NULL;
    return s->models[slot];
}

/* True when requests [0, count) can share one run: same non-batch dims. */
static bool batchable(const onnx_state *s, tc__backend_request *reqs, size_t count)
{
    if (!s->batching || count < 2)
        return false;
    for (size_t i = 0; i < s->cfg->n_input; i++) {
        const tc__tensor *a = tc__backend_input(reqs[0].request, s->cfg->input[i]->name);
        for (size_t r = 1; r < count; r++) {
            const tc__tensor *b = tc__backend_input(reqs[r].request, s->cfg->input[i]->name);
            if (a == NULL || b == NULL || a->ndim != b->ndim || a->ndim == 0 ||
                memcmp(a->shape + 1, b->shape + 1, (a->ndim - 1) * sizeof *a->shape) != 0)
                return false;
        }
    }
    return true;
}

/* Gather input `name` of requests [0, count) into one batch tensor. */
static tc_code gather_input(const char *name, tc__backend_request *reqs, size_t count,
                            tc__onnx_input *in, int64_t *shape, uint8_t **owned)
{
    const tc__tensor *first = tc__backend_input(reqs[0].request, name);
    size_t total = 0;
    int64_t batch = 0;
    for (size_t r = 0; r < count; r++) {
        const tc__tensor *t = tc__backend_input(reqs[r].request, name);
        total += t->byte_size;
        batch += t->shape[0];
    }
    *owned = NULL;
    if (count > 1) {
        *owned = tc__malloc(total);
        if (*owned == NULL)
            return TC_E_NOMEM;
        size_t off = 0;
        for (size_t r = 0; r < count; r++) {
            const tc__tensor *t = tc__backend_input(reqs[r].request, name);
            if (t->byte_size > 0)
                memcpy(*owned + off, t->data, t->byte_size);
            off += t->byte_size;
        }
    }
    memcpy(shape, first->shape, first->ndim * sizeof *shape);
    shape[0] = count > 1 ? batch : first->shape[0];
    *in = (tc__onnx_input){name, first->dtype, first->ndim, shape,
                           count > 1 ? (const void *)*owned : (const void *)first->data, total};
    return TC_OK;
}

/* Split output `o` of a batched run back into the requests' responses. */
static tc_code scatter_output(const tc__onnx_output *o, tc__backend_request *reqs, size_t count,
                              const char *first_input)
{
    size_t row = 0;
    int64_t rows_total = o->rank > 0 ? o->shape[0] : 1;
    size_t row_bytes = rows_total > 0 ? o->byte_size / (size_t)rows_total : 0;
    for (size_t r = 0; r < count; r++) {
        if (reqs[r].error.code != TC_OK)
            continue;
        int64_t rows = count > 1 ? tc__backend_input(reqs[r].request, first_input)->shape[0]
                                 : rows_total;
        size_t bytes = count > 1 ? (size_t)rows * row_bytes : o->byte_size;
        uint8_t *copy = tc__malloc(bytes);
        if (copy == NULL)
            return TC_E_NOMEM;
        if (bytes > 0)
            memcpy(copy, (const uint8_t *)o->data + row * row_bytes, bytes);
        int64_t shape[TC__ONNX_MAX_RANK];
        memcpy(shape, o->shape, o->rank * sizeof *shape);
        if (o->rank > 0 && count > 1)
            shape[0] = rows;
        tc_code rc = tc__backend_output_add(reqs[r].response, o->name, o->dtype, shape, o->rank,
                                            copy, bytes);
        if (rc != TC_OK)
            return rc;
        row += (size_t)rows;
    }
    return TC_OK;
}

/* One engine run over requests [0, count). Errors go to every request. */
static void run_group(onnx_state *s, tc__onnx_model *m, tc__backend_request *reqs, size_t count)
{
    size_t n_in = s->cfg->n_input;
    size_t n_out = s->cfg->n_output;
    tc__onnx_input in[16];
    tc__onnx_output out[16];
    int64_t shapes[16][TC__ONNX_MAX_RANK];
    uint8_t *owned[16] = {NULL};
    tc__error err;
    tc__error_clear(&err);
    tc_code rc = TC_OK;
    if (n_in > 16 || n_out > 16) {
        rc = tc__error_set(&err, TC_E_NOT_SUPPORTED, "the ONNX backend takes at most 16 inputs and outputs");
        goto out;
    }
    for (size_t i = 0; i < n_in && rc == TC_OK; i++) {
        const tc__tensor *t = tc__backend_input(reqs[0].request, s->cfg->input[i]->name);
        if (t == NULL || t->ndim > TC__ONNX_MAX_RANK)
            rc = tc__error_set(&err, TC_E_INVALID_ARG, "input '%s' is missing or has too many dimensions",
                               s->cfg->input[i]->name);
        else
            rc = gather_input(s->cfg->input[i]->name, reqs, count, &in[i], shapes[i], &owned[i]);
    }
    if (rc == TC_E_NOMEM)
        tc__error_set(&err, TC_E_NOMEM, "out of memory");
    if (rc != TC_OK)
        goto out;
    memset(out, 0, sizeof out);
    for (size_t o = 0; o < n_out; o++)
        out[o].name = s->cfg->output[o]->name;
    rc = tc__onnx_model_run(m, in, n_in, out, n_out, &err);
    for (size_t o = 0; o < n_out && rc == TC_OK; o++) {
        rc = scatter_output(&out[o], reqs, count, s->cfg->input[0]->name);
        if (rc != TC_OK)
            tc__error_set(&err, rc, "out of memory");
    }
out:
    for (size_t i = 0; i < 16; i++)
        tc__free(owned[i]);
    if (rc != TC_OK) {
        for (size_t r = 0; r < count; r++)
            reqs[r].error = err;
    }
}

static void onnx_execute(void *state, uint32_t instance, tc__backend_request *reqs, size_t count)
{
    onnx_state *s = state;
    tc__error err;
    tc__error_clear(&err);
    tc__onnx_model *m = instance_model(s, instance, &err);
    if (m == NULL) {
        for (size_t r = 0; r < count; r++)
            reqs[r].error = err;
        return;
    }
    if (batchable(s, reqs, count)) {
        run_group(s, m, reqs, count);
        return;
    }
    for (size_t r = 0; r < count; r++)
        run_group(s, m, &reqs[r], 1);
}

const tc__backend tc__backend_onnx = {
    .name = "onnxruntime",
    .init = onnx_init,
    .execute = onnx_execute,
    .fini = onnx_fini,
};
