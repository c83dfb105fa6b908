/* Model configuration: text and JSON readers, Triton's normalisation, the
 * JSON form and model metadata (MODEL_CONFIG.md sections 3-5). Parsing and
 * printing are the generic descriptor-driven code in pbtxt*.c; this file
 * holds what is specific to ModelConfig. */
#include "proto/model_config.h"

#include <stdio.h>
#include <string.h>

#include <tritonc/tensor.h>

#include "common/alloc.h"
#include "pbtxt.h"

/* 64-bit fields Triton prints as JSON numbers (MODEL_CONFIG.md section 4);
 * every other int64/uint64 stays a JSON string. Map values add no path
 * component ("model_warmup.inputs.dims" is dims of each warmup input). */
static const char *const k_number_paths[] = {
    "input.dims",
    "input.reshape.shape",
    "output.dims",
    "output.reshape.shape",
    "version_policy.specific.versions",
    "dynamic_batching.max_queue_delay_microseconds",
    "dynamic_batching.priority_levels",
    "dynamic_batching.default_priority_level",
    "dynamic_batching.default_queue_policy.default_timeout_microseconds",
    "dynamic_batching.priority_queue_policy.default_timeout_microseconds",
    "sequence_batching.max_sequence_idle_microseconds",
    "sequence_batching.direct.max_queue_delay_microseconds",
    "sequence_batching.oldest.max_queue_delay_microseconds",
    "sequence_batching.state.dims",
    "ensemble_scheduling.step.model_version",
    "model_warmup.inputs.dims",
};

#define DEFAULT_SEQUENCE_IDLE_US 1000000u

void tc__model_config_free(Inference__ModelConfig *cfg)
{
    if (cfg != NULL)
        protobuf_c_message_free_unpacked(&cfg->base, tc__pb_allocator());
}

tc_code tc__model_config_from_pbtxt(const char *text, size_t len, Inference__ModelConfig **out,
                                    tc__error *err)
{
    ProtobufCMessage *msg = NULL;
    tc_code rc = tc__pbtxt_parse(&inference__model_config__descriptor, text, len, &msg, err);
    if (out != NULL)
        *out = (Inference__ModelConfig *)msg;
    return rc;
}

tc_code tc__model_config_from_json(const char *json, size_t len, Inference__ModelConfig **out,
                                   tc__error *err)
{
    ProtobufCMessage *msg = NULL;
    tc_code rc = tc__pb_from_json(&inference__model_config__descriptor, json, len, &msg, err);
    if (out != NULL)
        *out = (Inference__ModelConfig *)msg;
    return rc;
}

tc_code tc__model_config_to_json(const Inference__ModelConfig *cfg, tc__buf *out)
{
    if (cfg == NULL || out == NULL)
        return TC_E_INVALID_ARG;
    /* Nothing would be encoded: Triton answers with an empty body. */
    if (protobuf_c_message_get_packed_size(&cfg->base) == 0)
        return TC_OK;
    tc__pb_json_opts opts = {k_number_paths, sizeof k_number_paths / sizeof k_number_paths[0]};
    return tc__pb_to_json(&cfg->base, &opts, out);
}

/* ---- validation ------------------------------------------------------------ */

static bool dtype_valid(Inference__DataType t)
{
    return t >= INFERENCE__DATA_TYPE__TYPE_BOOL && t <= INFERENCE__DATA_TYPE__TYPE_BF16;
}

/* Shared checks for one input or output: `what` is "input" or "output". */
static tc_code check_tensor(const char *what, const char *name, Inference__DataType dtype,
                            const int64_t *dims, size_t ndims, tc__error *err)
{
    if (name == NULL || name[0] == '\0')
        return tc__error_set(err, TC_E_INVALID_ARG, "model %s must specify 'name'", what);
    if (!dtype_valid(dtype))
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "model %s '%s' must specify a valid 'data_type'", what, name);
    for (size_t i = 0; i < ndims; i++) {
        if (dims[i] < -1)
            return tc__error_set(err, TC_E_INVALID_ARG,
                                 "model %s '%s' dimension %zu must be >= -1, got %lld", what, name,
                                 i, (long long)dims[i]);
    }
    return TC_OK;
}

static tc_code check_inputs(const Inference__ModelConfig *cfg, tc__error *err)
{
    for (size_t i = 0; i < cfg->n_input; i++) {
        const Inference__ModelInput *in = cfg->input[i];
        tc_code rc = check_tensor("input", in->name, in->data_type, in->dims, in->n_dims, err);
        if (rc != TC_OK)
            return rc;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(cfg->input[j]->name, in->name) == 0)
                return tc__error_set(err, TC_E_INVALID_ARG, "duplicate input name '%s'", in->name);
        }
    }
    return TC_OK;
}

static tc_code check_outputs(const Inference__ModelConfig *cfg, tc__error *err)
{
    for (size_t i = 0; i < cfg->n_output; i++) {
        const Inference__ModelOutput *o = cfg->output[i];
        tc_code rc = check_tensor("output", o->name, o->data_type, o->dims, o->n_dims, err);
        if (rc != TC_OK)
            return rc;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(cfg->output[j]->name, o->name) == 0)
                return tc__error_set(err, TC_E_INVALID_ARG, "duplicate output name '%s'", o->name);
        }
    }
    return TC_OK;
}

static tc_code validate(const Inference__ModelConfig *cfg, tc__error *err)
{
    if (cfg->max_batch_size < 0)
        return tc__error_set(err, TC_E_INVALID_ARG, "'max_batch_size' must be non-negative, got %d",
                             (int)cfg->max_batch_size);
    tc_code rc = check_inputs(cfg, err);
    return rc == TC_OK ? check_outputs(cfg, err) : rc;
}

/* ---- normalisation --------------------------------------------------------- */

/* Replace a message's string member with a copy of `v`. */
static tc_code set_string(char **member, const char *v)
{
    char *copy = tc__strdup(v);
    if (copy == NULL)
        return TC_E_NOMEM;
    if (*member != NULL && *member != protobuf_c_empty_string)
        tc__free(*member);
    *member = copy;
    return TC_OK;
}

/* Set an empty preferred_batch_size list to [max_batch_size]. */
static tc_code default_preferred(int32_t **sizes, size_t *n, int32_t max_batch_size)
{
    if (*n > 0 || max_batch_size <= 0)
        return TC_OK;
    int32_t *arr = tc__reallocarray(*sizes, 1, sizeof *arr);
    if (arr == NULL)
        return TC_E_NOMEM;
    arr[0] = max_batch_size;
    *sizes = arr;
    *n = 1;
    return TC_OK;
}

static tc_code normalize_version_policy(Inference__ModelConfig *cfg)
{
    if (cfg->version_policy != NULL)
        return TC_OK;
    Inference__ModelVersionPolicy *vp = tc__malloc(sizeof *vp);
    Inference__ModelVersionPolicy__Latest *latest = tc__malloc(sizeof *latest);
    if (vp == NULL || latest == NULL) {
        tc__free(vp);
        tc__free(latest);
        return TC_E_NOMEM;
    }
    inference__model_version_policy__init(vp);
    inference__model_version_policy__latest__init(latest);
    latest->num_versions = 1;
    vp->policy_choice_case = INFERENCE__MODEL_VERSION_POLICY__POLICY_CHOICE_LATEST;
    vp->latest = latest;
    cfg->version_policy = vp;
    return TC_OK;
}

static tc_code normalize_scheduling(Inference__ModelConfig *cfg)
{
    if (cfg->scheduling_choice_case ==
        INFERENCE__MODEL_CONFIG__SCHEDULING_CHOICE_DYNAMIC_BATCHING) {
        Inference__ModelDynamicBatching *db = cfg->dynamic_batching;
        return default_preferred(&db->preferred_batch_size, &db->n_preferred_batch_size,
                                 cfg->max_batch_size);
    }
    if (cfg->scheduling_choice_case != INFERENCE__MODEL_CONFIG__SCHEDULING_CHOICE_SEQUENCE_BATCHING)
        return TC_OK;
    Inference__ModelSequenceBatching *sb = cfg->sequence_batching;
    if (sb->max_sequence_idle_microseconds == 0)
        sb->max_sequence_idle_microseconds = DEFAULT_SEQUENCE_IDLE_US;
    if (sb->strategy_choice_case == INFERENCE__MODEL_SEQUENCE_BATCHING__STRATEGY_CHOICE_OLDEST) {
        Inference__ModelSequenceBatching__StrategyOldest *o = sb->oldest;
        return default_preferred(&o->preferred_batch_size, &o->n_preferred_batch_size,
                                 cfg->max_batch_size);
    }
    return TC_OK;
}

static bool is_ensemble(const Inference__ModelConfig *cfg)
{
    return strcmp(cfg->platform, "ensemble") == 0 ||
           cfg->scheduling_choice_case ==
               INFERENCE__MODEL_CONFIG__SCHEDULING_CHOICE_ENSEMBLE_SCHEDULING;
}

/* A pinned-memory buffer with enable: true, unless the config has one. */
static tc_code default_pinned(Inference__ModelOptimizationPolicy__PinnedMemoryBuffer **slot)
{
    if (*slot != NULL)
        return TC_OK;
    Inference__ModelOptimizationPolicy__PinnedMemoryBuffer *p = tc__malloc(sizeof *p);
    if (p == NULL)
        return TC_E_NOMEM;
    inference__model_optimization_policy__pinned_memory_buffer__init(p);
    p->enable = 1;
    *slot = p;
    return TC_OK;
}

static tc_code normalize_optimization(Inference__ModelConfig *cfg)
{
    if (is_ensemble(cfg))
        return TC_OK;
    if (cfg->optimization == NULL) {
        cfg->optimization = tc__malloc(sizeof *cfg->optimization);
        if (cfg->optimization == NULL)
            return TC_E_NOMEM;
        inference__model_optimization_policy__init(cfg->optimization);
    }
    tc_code rc = default_pinned(&cfg->optimization->input_pinned_memory);
    return rc == TC_OK ? default_pinned(&cfg->optimization->output_pinned_memory) : rc;
}

/* A non-ensemble model without instance groups gets one, named after it. */
static tc_code add_default_group(Inference__ModelConfig *cfg)
{
    Inference__ModelInstanceGroup **arr =
        tc__reallocarray(cfg->instance_group, 1, sizeof *cfg->instance_group);
    if (arr == NULL)
        return TC_E_NOMEM;
    cfg->instance_group = arr;
    Inference__ModelInstanceGroup *g = tc__malloc(sizeof *g);
    if (g == NULL)
        return TC_E_NOMEM;
    inference__model_instance_group__init(g);
    arr[0] = g;
    cfg->n_instance_group = 1;
    return set_string(&g->name, cfg->name);
}

static tc_code normalize_instance_groups(Inference__ModelConfig *cfg)
{
    if (is_ensemble(cfg))
        return TC_OK;
    if (cfg->n_instance_group == 0) {
        tc_code rc = add_default_group(cfg);
        if (rc != TC_OK)
            return rc;
    }
    for (size_t i = 0; i < cfg->n_instance_group; i++) {
        Inference__ModelInstanceGroup *g = cfg->instance_group[i];
        if (g->name[0] == '\0') {
            char name[64];
            tc__buf b = TC__BUF_INIT;
            (void)snprintf(name, sizeof name, "_%zu", i);
            tc_code rc = tc__buf_append_str(&b, cfg->name);
            if (rc == TC_OK)
                rc = tc__buf_append_str(&b, name);
            if (rc == TC_OK)
                rc = set_string(&g->name, (const char *)b.data);
            tc__buf_cleanup(&b);
            if (rc != TC_OK)
                return rc;
        }
        if (g->count < 1)
            g->count = 1;
        /* This server has no GPUs, so KIND_AUTO always resolves to CPU. */
        if (g->kind == INFERENCE__MODEL_INSTANCE_GROUP__KIND__KIND_AUTO)
            g->kind = INFERENCE__MODEL_INSTANCE_GROUP__KIND__KIND_CPU;
    }
    return TC_OK;
}

tc_code tc__model_config_normalize(Inference__ModelConfig *cfg, const char *model_name,
                                   tc__error *err)
{
    if (cfg == NULL)
        return tc__error_set(err, TC_E_INVALID_ARG, "no model configuration");
    tc_code rc = validate(cfg, err);
    if (rc != TC_OK)
        return rc;
    if (cfg->name[0] == '\0' && model_name != NULL && model_name[0] != '\0')
        rc = set_string(&cfg->name, model_name);
    if (rc == TC_OK)
        rc = normalize_version_policy(cfg);
    if (rc == TC_OK)
        rc = normalize_scheduling(cfg);
    if (rc == TC_OK)
        rc = normalize_optimization(cfg);
    if (rc == TC_OK)
        rc = normalize_instance_groups(cfg);
    if (rc != TC_OK)
        return tc__error_set(err, rc, "out of memory while normalising the model configuration");
    return TC_OK;
}

/* ---- metadata -------------------------------------------------------------- */

static tc_code tensor_meta_fill(tc__tensor_meta *m, const char *name, Inference__DataType dtype,
                                const int64_t *dims, size_t ndims, bool batched)
{
    m->name = tc__strdup(name);
    m->dtype = dtype_valid(dtype) ? (tc_dtype)dtype : TC_DTYPE_INVALID;
    m->ndim = ndims + (batched ? 1u : 0u);
    m->shape = tc__calloc(m->ndim, sizeof *m->shape);
    if (m->name == NULL || m->shape == NULL)
        return TC_E_NOMEM;
    size_t k = 0;
    if (batched)
        m->shape[k++] = -1;
    for (size_t i = 0; i < ndims; i++)
        m->shape[k++] = dims[i];
    return TC_OK;
}

static tc_code metadata_tensors(const Inference__ModelConfig *cfg, tc__model_metadata *out)
{
    bool batched = cfg->max_batch_size >= 1;
    out->inputs = tc__calloc(cfg->n_input, sizeof *out->inputs);
    if (out->inputs == NULL)
        return TC_E_NOMEM;
    out->input_count = cfg->n_input;
    for (size_t i = 0; i < cfg->n_input; i++) {
        const Inference__ModelInput *in = cfg->input[i];
        if (tensor_meta_fill(&out->inputs[i], in->name, in->data_type, in->dims, in->n_dims,
                             batched) != TC_OK)
            return TC_E_NOMEM;
    }
    out->outputs = tc__calloc(cfg->n_output, sizeof *out->outputs);
    if (out->outputs == NULL)
        return TC_E_NOMEM;
    out->output_count = cfg->n_output;
    for (size_t i = 0; i < cfg->n_output; i++) {
        const Inference__ModelOutput *o = cfg->output[i];
        if (tensor_meta_fill(&out->outputs[i], o->name, o->data_type, o->dims, o->n_dims,
                             batched) != TC_OK)
            return TC_E_NOMEM;
    }
    return TC_OK;
}

tc_code tc__model_config_metadata(const Inference__ModelConfig *cfg, const char *const *versions,
                                  size_t version_count, tc__model_metadata *out)
{
    if (cfg == NULL || out == NULL || (versions == NULL && version_count > 0))
        return TC_E_INVALID_ARG;
    memset(out, 0, sizeof *out);
    tc_code rc = TC_E_NOMEM;
    out->name = tc__strdup(cfg->name);
    out->platform = tc__strdup(cfg->platform[0] != '\0' ? cfg->platform : cfg->backend);
    out->versions = tc__calloc(version_count, sizeof *out->versions);
    if (out->name == NULL || out->platform == NULL || out->versions == NULL)
        goto out;
    for (size_t i = 0; i < version_count; i++) {
        out->versions[i] = tc__strdup(versions[i] != NULL ? versions[i] : "");
        if (out->versions[i] == NULL)
            goto out;
        out->version_count = i + 1;
    }
    rc = metadata_tensors(cfg, out);
out:
    if (rc != TC_OK)
        tc__model_metadata_cleanup(out);
    return rc;
}
