/* ModelInferRequest <-> tc__infer_request (GRPC.md section 5). */
#include <string.h>

#include "common/alloc.h"
#include "proto/v2_pb_int.h"

typedef Inference__InferParameter pb_param;
typedef Inference__ModelInferRequest pb_request;
typedef Inference__ModelInferRequest__InferInputTensor pb_input;
typedef Inference__ModelInferRequest__InferRequestedOutputTensor pb_output;

static tc_code nomem(tc__error *err)
{
    return tc__error_set(err, TC_E_NOMEM, "out of memory");
}

static bool key_is(const char *key, const char *name)
{
    return strcmp(key, name) == 0;
}

static bool is_member(const pb_param *v, Inference__InferParameter__ParameterChoiceCase c)
{
    return v != NULL && v->parameter_choice_case == c;
}

#define PB_BOOL   INFERENCE__INFER_PARAMETER__PARAMETER_CHOICE_BOOL_PARAM
#define PB_INT64  INFERENCE__INFER_PARAMETER__PARAMETER_CHOICE_INT64_PARAM
#define PB_STRING INFERENCE__INFER_PARAMETER__PARAMETER_CHOICE_STRING_PARAM
#define PB_DOUBLE INFERENCE__INFER_PARAMETER__PARAMETER_CHOICE_DOUBLE_PARAM
#define PB_UINT64 INFERENCE__INFER_PARAMETER__PARAMETER_CHOICE_UINT64_PARAM

static tc_code bad_type(tc__error *err, const char *key, const char *expected)
{
    return tc__error_set(err, TC_E_INVALID_ARG,
                         "invalid value type for '%s' parameter, expected %s.", key, expected);
}

/* ---- request parameters (section 5.3) ---------------------------------------- */

static tc_code decode_sequence_id(const pb_param *v, tc__infer_request *req, tc__error *err)
{
    if (is_member(v, PB_INT64)) {
        req->sequence_id = (uint64_t)v->int64_param;
        return TC_OK;
    }
    if (!is_member(v, PB_STRING))
        return bad_type(err, "sequence_id", "int64_param or string_param");
    size_t len = strlen(v->string_param);
    if (len > TC__PB_MAX_SEQUENCE_ID_STR)
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "sequence_id string is longer than %d characters",
                             TC__PB_MAX_SEQUENCE_ID_STR);
    tc__free(req->sequence_id_str);
    req->sequence_id_str = NULL;
    if (len == 0)
        return TC_OK;
    req->sequence_id_str = tc__strdup(v->string_param);
    return req->sequence_id_str != NULL ? TC_OK : nomem(err);
}

static tc_code decode_flag(const pb_param *v, const char *key, bool *out, tc__error *err)
{
    if (!is_member(v, PB_BOOL))
        return bad_type(err, key, "bool_param");
    *out = v->bool_param != 0;
    return TC_OK;
}

static tc_code decode_priority(const pb_param *v, tc__infer_request *req, tc__error *err)
{
    if (is_member(v, PB_UINT64)) {
        req->priority = v->uint64_param;
        return TC_OK;
    }
    if (!is_member(v, PB_INT64))
        return bad_type(err, "priority", "int64_param or uint64_param");
    if (v->int64_param < 0)
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "invalid value for 'priority' parameter, expected >= 0");
    req->priority = (uint64_t)v->int64_param;
    return TC_OK;
}

static tc_code decode_timeout(const pb_param *v, tc__infer_request *req, tc__error *err)
{
    if (!is_member(v, PB_INT64))
        return bad_type(err, "timeout", "int64_param");
    if (v->int64_param < 0)
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "invalid value for 'timeout' parameter, expected >= 0");
    req->timeout_us = (uint64_t)v->int64_param;
    return TC_OK;
}

static tc_code decode_custom(const char *key, const pb_param *v, tc__infer_request *req,
                             tc__error *err)
{
    if (strncmp(key, "triton_", 7) == 0)
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "parameter keys starting with 'triton_' are reserved for Triton "
                             "usage and should not be specified.");
    if (key_is(key, "headers") || key_is(key, "binary_data_output"))
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "parameter key '%s' is reserved for Triton usage and should not be "
                             "specified.",
                             key);
    if (!is_member(v, PB_BOOL) && !is_member(v, PB_INT64) && !is_member(v, PB_STRING) &&
        !is_member(v, PB_DOUBLE))
        return bad_type(err, key, "bool_param, int64_param, string_param or double_param");
    return tc__pb_param_add(&req->params, key, v) == TC_OK ? TC_OK : nomem(err);
}

static tc_code decode_request_param(const char *key, const pb_param *v, tc__infer_request *req,
                                    tc__error *err)
{
    if (key_is(key, "sequence_id"))
        return decode_sequence_id(v, req, err);
    if (key_is(key, "sequence_start"))
        return decode_flag(v, key, &req->sequence_start, err);
    if (key_is(key, "sequence_end"))
        return decode_flag(v, key, &req->sequence_end, err);
    if (key_is(key, "priority"))
        return decode_priority(v, req, err);
    if (key_is(key, "timeout"))
        return decode_timeout(v, req, err);
    if (key_is(key, "triton_enable_empty_final_response"))
        return decode_flag(v, key, &req->enable_empty_final_response, err);
    return decode_custom(key, v, req, err);
}

/* ---- tensor parameters (section 5.4) -------------------------------------------- */

typedef struct tensor_params {
    tc__shm_ref *shm;
    tc__params *params;
    uint32_t *class_count; /* NULL for inputs */
    bool has_byte_size;
} tensor_params;

static tc_code decode_i64_param(const pb_param *v, const char *key, uint64_t *out, tc__error *err)
{
    if (!is_member(v, PB_INT64))
        return bad_type(err, key, "int64_param");
    if (v->int64_param < 0)
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "invalid value for '%s' parameter, expected >= 0", key);
    *out = (uint64_t)v->int64_param;
    return TC_OK;
}

static tc_code decode_tensor_param(const char *key, const pb_param *v, tensor_params *tp,
                                   tc__error *err)
{
    if (key_is(key, "shared_memory_region")) {
        if (!is_member(v, PB_STRING))
            return bad_type(err, key, "string_param");
        tc__free(tp->shm->region);
        tp->shm->region = tc__strdup(v->string_param);
        return tp->shm->region != NULL ? TC_OK : nomem(err);
    }
    if (key_is(key, "shared_memory_byte_size")) {
        tp->has_byte_size = true;
        return decode_i64_param(v, key, &tp->shm->byte_size, err);
    }
    if (key_is(key, "shared_memory_offset"))
        return decode_i64_param(v, key, &tp->shm->offset, err);
    if (tp->class_count != NULL && key_is(key, "classification")) {
        if (!is_member(v, PB_INT64))
            return bad_type(err, key, "int64_param");
        if (v->int64_param <= 0 || v->int64_param > UINT32_MAX)
            return tc__error_set(err, TC_E_INVALID_ARG,
                                 "invalid value for 'classification' parameter, expected >= 0");
        *tp->class_count = (uint32_t)v->int64_param;
        return TC_OK;
    }
    tc_code rc = tc__pb_param_add(tp->params, key, v);
    if (rc == TC_E_NOMEM)
        return nomem(err);
    if (rc != TC_OK)
        return tc__error_set(err, rc, "invalid value type for '%s' parameter", key);
    return TC_OK;
}

static tc_code decode_tensor_params(tc__pb_param_entry *const *entries, size_t n, tensor_params *tp,
                                    const char *what, const char *name, tc__error *err)
{
    for (size_t i = 0; i < n; i++) {
        tc_code rc = decode_tensor_param(entries[i]->key, entries[i]->value, tp, err);
        if (rc != TC_OK)
            return rc;
    }
    if (tp->shm->region != NULL && !tp->has_byte_size)
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "%s '%s' sets 'shared_memory_region' without "
                             "'shared_memory_byte_size'",
                             what, name);
    if (tp->shm->region == NULL && (tp->has_byte_size || tp->shm->offset != 0))
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "%s '%s' sets shared memory parameters without "
                             "'shared_memory_region'",
                             what, name);
    return TC_OK;
}

/* ---- inputs and outputs ------------------------------------------------------------ */

static tc_code decode_input_header(const pb_input *in, tc__tensor *t, tc__error *err)
{
    t->name = tc__strdup(in->name);
    if (t->name == NULL)
        return nomem(err);
    t->dtype = tc_dtype_from_name(in->datatype);
    if (t->dtype == TC_DTYPE_INVALID)
        return tc__error_set(err, TC_E_INVALID_ARG, "invalid datatype '%s' for input '%s'",
                             in->datatype, in->name);
    if (tc__pb_shape_copy(in->shape, in->n_shape, &t->shape, &t->ndim) != TC_OK)
        return nomem(err);
    tensor_params tp = {&t->shm, &t->params, NULL, false};
    return decode_tensor_params((tc__pb_param_entry *const *)in->parameters, in->n_parameters, &tp,
                                "input", t->name, err);
}

/* Attach the data of input `in`: shm, typed contents or the next raw entry. */
static tc_code decode_input_data(const pb_request *m, const pb_input *in, tc__tensor *t,
                                 size_t *next_raw, tc__error *err)
{
    if (t->shm.region != NULL) {
        if (in->contents != NULL)
            return tc__error_set(err, TC_E_INVALID_ARG,
                                 "unexpected 'content' provided when using shared memory for "
                                 "input tensor '%s' for model '%s'",
                                 t->name, m->model_name);
        return TC_OK;
    }
    if (in->contents != NULL) {
        if (m->n_raw_input_contents > 0)
            return tc__error_set(err, TC_E_INVALID_ARG,
                                 "contents field must not be specified when using "
                                 "raw_input_contents for '%s' for model '%s'",
                                 t->name, m->model_name);
        return tc__pb_contents_to_raw(in->contents, t, "input", m->model_name, err);
    }
    if (*next_raw >= m->n_raw_input_contents)
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "unable to find data for input tensor '%s' for model '%s' in "
                             "request.",
                             t->name, m->model_name);
    const ProtobufCBinaryData *raw = &m->raw_input_contents[(*next_raw)++];
    t->data = raw->data != NULL ? raw->data : (const uint8_t *)"";
    t->byte_size = raw->len;
    return TC_OK;
}

static tc_code decode_inputs(const pb_request *m, tc__infer_request *req, tc__error *err)
{
    req->inputs = tc__calloc(m->n_inputs ? m->n_inputs : 1, sizeof *req->inputs);
    if (req->inputs == NULL)
        return nomem(err);
    size_t next_raw = 0;
    for (size_t i = 0; i < m->n_inputs; i++) {
        req->input_count = i + 1;
        tc_code rc = decode_input_header(m->inputs[i], &req->inputs[i], err);
        if (rc == TC_OK)
            rc = decode_input_data(m, m->inputs[i], &req->inputs[i], &next_raw, err);
        if (rc != TC_OK)
            return rc;
    }
    if (next_raw != m->n_raw_input_contents)
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "expected %zu inputs but got %zu inputs for model '%s'",
                             m->n_raw_input_contents, next_raw, m->model_name);
    return TC_OK;
}

static tc_code decode_output(const pb_output *o, tc__requested_output *out, tc__error *err)
{
    out->binary = -1;
    out->name = tc__strdup(o->name);
    if (out->name == NULL)
        return nomem(err);
    tensor_params tp = {&out->shm, &out->params, &out->class_count, false};
    tc_code rc = decode_tensor_params((tc__pb_param_entry *const *)o->parameters, o->n_parameters,
                                      &tp, "output", out->name, err);
    if (rc != TC_OK)
        return rc;
    if (out->shm.region != NULL && out->class_count > 0)
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "Output can't set both 'shared_memory_region' and 'classification'");
    return TC_OK;
}

static tc_code decode_outputs(const pb_request *m, tc__infer_request *req, tc__error *err)
{
    if (m->n_outputs == 0)
        return TC_OK;
    req->outputs = tc__calloc(m->n_outputs, sizeof *req->outputs);
    if (req->outputs == NULL)
        return nomem(err);
    for (size_t i = 0; i < m->n_outputs; i++) {
        req->output_count = i + 1;
        tc_code rc = decode_output(m->outputs[i], &req->outputs[i], err);
        if (rc != TC_OK)
            return rc;
    }
    return TC_OK;
}

tc_code tc__pb_infer_request_from_msg(const Inference__ModelInferRequest *m, tc__infer_request *req,
                                      tc__error *err)
{
    if (m == NULL || req == NULL)
        return tc__error_set(err, TC_E_INVALID_ARG, "invalid argument");
    memset(req, 0, sizeof *req);
    req->binary_data_output = -1;
    bool oom = false;
    tc_code rc = TC_OK;
    req->model_name = tc__strdup(m->model_name);
    req->model_version = tc__pb_strdup_nonempty(m->model_version, &oom);
    req->id = tc__pb_strdup_nonempty(m->id, &oom);
    if (oom || req->model_name == NULL) {
        rc = nomem(err);
        goto out;
    }
    for (size_t i = 0; i < m->n_parameters; i++) {
        rc = decode_request_param(m->parameters[i]->key, m->parameters[i]->value, req, err);
        if (rc != TC_OK)
            goto out;
    }
    rc = decode_inputs(m, req, err);
    if (rc == TC_OK)
        rc = decode_outputs(m, req, err);
out:
    if (rc != TC_OK)
        tc__infer_request_cleanup(req);
    return rc;
}

tc_code tc__pb_infer_request_decode(const uint8_t *msg, size_t len, tc__infer_request *req,
                                    void **backing, tc__error *err)
{
    if (backing == NULL || req == NULL)
        return tc__error_set(err, TC_E_INVALID_ARG, "invalid argument");
    *backing = NULL;
    memset(req, 0, sizeof *req);
    ProtobufCMessage *m = NULL;
    tc_code rc = tc__pb_unpack(&inference__model_infer_request__descriptor, msg, len, &m, err);
    if (rc != TC_OK)
        return rc;
    rc = tc__pb_infer_request_from_msg((const pb_request *)m, req, err);
    if (rc != TC_OK) {
        tc__pb_backing_free(m);
        return rc;
    }
    *backing = m;
    return TC_OK;
}

/* ---- encode (client side) ------------------------------------------------------------ */

/* Adds typed parameters to a temporary tc__params: the well-known ones are
 * rendered through the same map builder as custom ones. */
static tc_code request_params(const tc__infer_request *req, tc__params *p, tc__error *err)
{
    bool seq =
        req->sequence_id != 0 || (req->sequence_id_str != NULL && req->sequence_id_str[0] != '\0');
    tc_code rc = TC_OK;
    if (req->sequence_id_str != NULL && req->sequence_id_str[0] != '\0')
        rc = tc__params_add_string(p, "sequence_id", req->sequence_id_str);
    else if (req->sequence_id != 0)
        rc = tc__params_add_int64(p, "sequence_id", (int64_t)req->sequence_id);
    if (rc == TC_OK && seq)
        rc = tc__params_add_bool(p, "sequence_start", req->sequence_start);
    if (rc == TC_OK && seq)
        rc = tc__params_add_bool(p, "sequence_end", req->sequence_end);
    if (rc == TC_OK && req->priority != 0)
        rc = tc__params_add_uint64(p, "priority", req->priority);
    if (rc == TC_OK && req->timeout_us > INT64_MAX)
        return tc__error_set(err, TC_E_INVALID_ARG, "timeout %llu does not fit int64_param",
                             (unsigned long long)req->timeout_us);
    if (rc == TC_OK && req->timeout_us != 0)
        rc = tc__params_add_int64(p, "timeout", (int64_t)req->timeout_us);
    if (rc == TC_OK && req->enable_empty_final_response)
        rc = tc__params_add_bool(p, "triton_enable_empty_final_response", true);
    for (size_t i = 0; rc == TC_OK && i < req->params.count; i++) {
        const tc__param *q = &req->params.items[i];
        switch (q->type) {
        case TC__PARAM_BOOL:
            rc = tc__params_add_bool(p, q->key, q->v.b);
            break;
        case TC__PARAM_INT64:
            rc = tc__params_add_int64(p, q->key, q->v.i64);
            break;
        case TC__PARAM_UINT64:
            rc = tc__params_add_uint64(p, q->key, q->v.u64);
            break;
        case TC__PARAM_DOUBLE:
            rc = tc__params_add_double(p, q->key, q->v.d);
            break;
        case TC__PARAM_STRING:
            rc = tc__params_add_string(p, q->key, q->v.s);
            break;
        }
    }
    return rc == TC_OK ? TC_OK : nomem(err);
}

/* Tensor parameters: shm references first (region, byte size, offset when
 * non-zero), then classification, then the tensor's own. */
static tc_code tensor_params_collect(const tc__shm_ref *shm, uint32_t class_count,
                                     const tc__params *own, tc__params *p)
{
    tc_code rc = TC_OK;
    if (shm->region != NULL) {
        if (shm->byte_size > INT64_MAX || shm->offset > INT64_MAX)
            return TC_E_INVALID_ARG;
        rc = tc__params_add_string(p, "shared_memory_region", shm->region);
        if (rc == TC_OK)
            rc = tc__params_add_int64(p, "shared_memory_byte_size", (int64_t)shm->byte_size);
        if (rc == TC_OK && shm->offset != 0)
            rc = tc__params_add_int64(p, "shared_memory_offset", (int64_t)shm->offset);
    }
    if (rc == TC_OK && class_count > 0)
        rc = tc__params_add_int64(p, "classification", (int64_t)class_count);
    for (size_t i = 0; rc == TC_OK && own != NULL && i < own->count; i++) {
        const tc__param *q = &own->items[i];
        switch (q->type) {
        case TC__PARAM_BOOL:
            rc = tc__params_add_bool(p, q->key, q->v.b);
            break;
        case TC__PARAM_INT64:
            rc = tc__params_add_int64(p, q->key, q->v.i64);
            break;
        case TC__PARAM_UINT64:
            rc = tc__params_add_uint64(p, q->key, q->v.u64);
            break;
        case TC__PARAM_DOUBLE:
            rc = tc__params_add_double(p, q->key, q->v.d);
            break;
        case TC__PARAM_STRING:
            rc = tc__params_add_string(p, q->key, q->v.s);
            break;
        }
    }
    return rc;
}

/* Every temporary tc__params of one encode, released together. */
typedef struct encode_ctx {
    tc__pb_scratch s;
    tc__params *lists;
    size_t list_count;
} encode_ctx;

static tc__params *ctx_params(encode_ctx *c)
{
    tc__params *lists = tc__reallocarray(c->lists, c->list_count + 1, sizeof *lists);
    if (lists == NULL)
        return NULL;
    c->lists = lists;
    tc__params *p = &c->lists[c->list_count];
    p->items = NULL;
    p->count = 0;
    /* Index, not pointer: the array may move when it grows. */
    c->list_count++;
    return p;
}

static tc_code build_input(encode_ctx *c, const tc__tensor *t, pb_input *in,
                           ProtobufCBinaryData *raw, size_t *raw_count, tc__error *err)
{
    inference__model_infer_request__infer_input_tensor__init(in);
    const char *dt = tc_dtype_name(t->dtype);
    if (t->name == NULL || dt == NULL)
        return tc__error_set(err, TC_E_INVALID_ARG, "input '%s' has no name or datatype",
                             t->name != NULL ? t->name : "");
    in->name = tc__pb_str(t->name);
    in->datatype = tc__pb_str(dt);
    in->n_shape = t->ndim;
    in->shape = (int64_t *)(uintptr_t)t->shape;
    tc__params *p = ctx_params(c);
    if (p == NULL)
        return nomem(err);
    tc_code rc = tensor_params_collect(&t->shm, 0, &t->params, p);
    if (rc == TC_OK)
        rc = tc__pb_params_build(
            &c->s, p,
            &inference__model_infer_request__infer_input_tensor__parameters_entry__descriptor,
            (void ***)&in->parameters, &in->n_parameters);
    if (rc != TC_OK)
        return rc == TC_E_NOMEM ? nomem(err)
                                : tc__error_set(err, rc,
                                                "invalid shared memory parameters "
                                                "for input '%s'",
                                                t->name);
    if (t->shm.region == NULL) {
        raw[*raw_count].data =
            (uint8_t *)(uintptr_t)(t->data != NULL ? t->data : (const uint8_t *)"");
        raw[*raw_count].len = t->byte_size;
        (*raw_count)++;
    }
    return TC_OK;
}

static tc_code build_output(encode_ctx *c, const tc__requested_output *o, pb_output *out,
                            tc__error *err)
{
    inference__model_infer_request__infer_requested_output_tensor__init(out);
    if (o->name == NULL)
        return tc__error_set(err, TC_E_INVALID_ARG, "requested output has no name");
    out->name = tc__pb_str(o->name);
    tc__params *p = ctx_params(c);
    if (p == NULL)
        return nomem(err);
    tc_code rc = tensor_params_collect(&o->shm, o->class_count, &o->params, p);
    if (rc == TC_OK)
        rc = tc__pb_params_build(
            &c->s, p,
            &inference__model_infer_request__infer_requested_output_tensor__parameters_entry__descriptor,
            (void ***)&out->parameters, &out->n_parameters);
    if (rc != TC_OK)
        return rc == TC_E_NOMEM ? nomem(err)
                                : tc__error_set(err, rc,
                                                "invalid shared memory parameters "
                                                "for output '%s'",
                                                o->name);
    return TC_OK;
}

static tc_code build_tensors(encode_ctx *c, const tc__infer_request *req, pb_request *m,
                             tc__error *err)
{
    pb_input *ins = tc__pb_scratch_alloc(&c->s, req->input_count, sizeof *ins);
    pb_input **inp = tc__pb_scratch_alloc(&c->s, req->input_count, sizeof *inp);
    ProtobufCBinaryData *raw = tc__pb_scratch_alloc(&c->s, req->input_count, sizeof *raw);
    pb_output *outs = tc__pb_scratch_alloc(&c->s, req->output_count, sizeof *outs);
    pb_output **outp = tc__pb_scratch_alloc(&c->s, req->output_count, sizeof *outp);
    if (ins == NULL || inp == NULL || raw == NULL || outs == NULL || outp == NULL)
        return nomem(err);
    size_t raw_count = 0;
    for (size_t i = 0; i < req->input_count; i++) {
        tc_code rc = build_input(c, &req->inputs[i], &ins[i], raw, &raw_count, err);
        if (rc != TC_OK)
            return rc;
        inp[i] = &ins[i];
    }
    for (size_t i = 0; i < req->output_count; i++) {
        tc_code rc = build_output(c, &req->outputs[i], &outs[i], err);
        if (rc != TC_OK)
            return rc;
        outp[i] = &outs[i];
    }
    m->n_inputs = req->input_count;
    m->inputs = inp;
    m->n_outputs = req->output_count;
    m->outputs = outp;
    m->n_raw_input_contents = raw_count;
    m->raw_input_contents = raw;
    return TC_OK;
}

static void ctx_cleanup(encode_ctx *c)
{
    for (size_t i = 0; i < c->list_count; i++)
        tc__params_cleanup(&c->lists[i]);
    tc__free(c->lists);
    tc__pb_scratch_free(&c->s);
}

tc_code tc__pb_infer_request_encode(const tc__infer_request *req, tc__buf *out, tc__error *err)
{
    if (req == NULL || out == NULL || req->model_name == NULL ||
        (req->input_count > 0 && req->inputs == NULL) ||
        (req->output_count > 0 && req->outputs == NULL))
        return tc__error_set(err, TC_E_INVALID_ARG, "invalid argument");
    if (req->sequence_id_str != NULL && strlen(req->sequence_id_str) > TC__PB_MAX_SEQUENCE_ID_STR)
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "sequence_id string is longer than %d characters",
                             TC__PB_MAX_SEQUENCE_ID_STR);
    encode_ctx c = {{NULL, 0}, NULL, 0};
    tc__params top = {NULL, 0};
    pb_request m = INFERENCE__MODEL_INFER_REQUEST__INIT;
    m.model_name = tc__pb_str(req->model_name);
    m.model_version = tc__pb_str(req->model_version);
    m.id = tc__pb_str(req->id);
    tc_code rc = request_params(req, &top, err);
    if (rc != TC_OK)
        goto out;
    rc = tc__pb_params_build(&c.s, &top,
                             &inference__model_infer_request__parameters_entry__descriptor,
                             (void ***)&m.parameters, &m.n_parameters);
    if (rc != TC_OK) {
        rc = nomem(err);
        goto out;
    }
    rc = build_tensors(&c, req, &m, err);
    if (rc != TC_OK)
        goto out;
    rc = tc__pb_pack(&m.base, out);
    if (rc != TC_OK)
        rc = tc__error_set(err, rc, "cannot encode the request");
out:
    tc__params_cleanup(&top);
    ctx_cleanup(&c);
    return rc;
}
