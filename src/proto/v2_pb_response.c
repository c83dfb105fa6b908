/* ModelInferResponse and ModelStreamInferResponse <-> tc__infer_response
 * (GRPC.md sections 5.2 and 6). */
#include <string.h>

#include "common/alloc.h"
#include "proto/v2_pb_int.h"

typedef Inference__ModelInferResponse pb_response;
typedef Inference__ModelInferResponse__InferOutputTensor pb_output;

#define FINAL_KEY "triton_final_response"

static tc_code nomem(tc__error *err)
{
    return tc__error_set(err, TC_E_NOMEM, "out of memory");
}

/* ---- encode (server side) ---------------------------------------------------- */

static tc_code build_output(tc__pb_scratch *s, const tc__tensor *t, pb_output *o,
                            ProtobufCBinaryData *raw)
{
    inference__model_infer_response__infer_output_tensor__init(o);
    const char *dt = tc_dtype_name(t->dtype);
    o->name = tc__pb_str(t->name);
    o->datatype = tc__pb_str(dt);
    o->n_shape = t->ndim;
    o->shape = (int64_t *)(uintptr_t)t->shape;
    tc_code rc = tc__pb_params_build(
        s, &t->params,
        &inference__model_infer_response__infer_output_tensor__parameters_entry__descriptor,
        (void ***)&o->parameters, &o->n_parameters);
    if (rc != TC_OK)
        return rc;
    /* Shared-memory outputs still get their (empty) entry: clients index
     * raw_output_contents by output position. */
    bool inline_data = t->shm.region == NULL && t->data != NULL;
    raw->data = (uint8_t *)(uintptr_t)(inline_data ? t->data : (const uint8_t *)"");
    raw->len = inline_data ? t->byte_size : 0;
    return TC_OK;
}

tc_code tc__pb_response_build(tc__pb_scratch *s, const tc__infer_response *resp,
                              Inference__ModelInferResponse *m)
{
    m->model_name = tc__pb_str(resp->model_name);
    m->model_version = tc__pb_str(resp->model_version);
    m->id = tc__pb_str(resp->id);
    tc_code rc = tc__pb_params_build(s, &resp->params,
                                     &inference__model_infer_response__parameters_entry__descriptor,
                                     (void ***)&m->parameters, &m->n_parameters);
    if (rc != TC_OK)
        return rc;
    size_t n = resp->output_count;
    pb_output *outs = tc__pb_scratch_alloc(s, n, sizeof *outs);
    pb_output **outp = tc__pb_scratch_alloc(s, n, sizeof *outp);
    ProtobufCBinaryData *raw = tc__pb_scratch_alloc(s, n, sizeof *raw);
    if (outs == NULL || outp == NULL || raw == NULL)
        return TC_E_NOMEM;
    for (size_t i = 0; i < n; i++) {
        rc = build_output(s, &resp->outputs[i], &outs[i], &raw[i]);
        if (rc != TC_OK)
            return rc;
        outp[i] = &outs[i];
    }
    m->n_outputs = n;
    m->outputs = outp;
    m->n_raw_output_contents = n;
    m->raw_output_contents = raw;
    return TC_OK;
}

static bool response_valid(const tc__infer_response *resp)
{
    if (resp->output_count > 0 && resp->outputs == NULL)
        return false;
    for (size_t i = 0; i < resp->output_count; i++) {
        if (resp->outputs[i].name == NULL || tc_dtype_name(resp->outputs[i].dtype) == NULL)
            return false;
    }
    return true;
}

tc_code tc__pb_infer_response_encode(const tc__infer_response *resp, tc__buf *out, tc__error *err)
{
    if (resp == NULL || out == NULL || !response_valid(resp))
        return tc__error_set(err, TC_E_INVALID_ARG, "invalid argument");
    tc__pb_scratch s = {NULL, 0};
    pb_response m = INFERENCE__MODEL_INFER_RESPONSE__INIT;
    tc_code rc = tc__pb_response_build(&s, resp, &m);
    if (rc == TC_OK)
        rc = tc__pb_pack(&m.base, out);
    tc__pb_scratch_free(&s);
    if (rc != TC_OK)
        return rc == TC_E_NOMEM ? nomem(err) : tc__error_set(err, rc, "cannot encode response");
    return TC_OK;
}

/* ---- decode (client side) -------------------------------------------------------- */

static tc_code decode_output(const pb_response *m, size_t i, tc__tensor *t, tc__error *err)
{
    const pb_output *o = m->outputs[i];
    t->name = tc__strdup(o->name);
    if (t->name == NULL)
        return nomem(err);
    t->dtype = tc_dtype_from_name(o->datatype);
    if (t->dtype == TC_DTYPE_INVALID)
        return tc__error_set(err, TC_E_PROTOCOL, "invalid datatype '%s' for output '%s'",
                             o->datatype, o->name);
    if (tc__pb_shape_copy(o->shape, o->n_shape, &t->shape, &t->ndim) != TC_OK)
        return nomem(err);
    for (size_t k = 0; k < o->n_parameters; k++) {
        tc_code rc = tc__pb_param_add(&t->params, o->parameters[k]->key, o->parameters[k]->value);
        if (rc == TC_E_NOMEM)
            return nomem(err);
        if (rc != TC_OK)
            return tc__error_set(err, TC_E_PROTOCOL, "output '%s' parameter '%s' has no value",
                                 t->name, o->parameters[k]->key);
    }
    if (i < m->n_raw_output_contents) {
        const ProtobufCBinaryData *raw = &m->raw_output_contents[i];
        t->data = raw->data != NULL ? raw->data : (const uint8_t *)"";
        t->byte_size = raw->len;
        if (raw->len > 0 || o->contents == NULL)
            return TC_OK;
        t->data = NULL;
    }
    if (o->contents != NULL) {
        tc_code rc = tc__pb_contents_to_raw(o->contents, t, "output", m->model_name, err);
        if (rc != TC_OK && err != NULL && rc != TC_E_NOMEM)
            err->code = rc = TC_E_PROTOCOL;
        return rc;
    }
    return TC_OK;
}

static tc_code decode_response_params(const pb_response *m, tc__params *p, tc__error *err)
{
    for (size_t k = 0; k < m->n_parameters; k++) {
        tc_code rc = tc__pb_param_add(p, m->parameters[k]->key, m->parameters[k]->value);
        if (rc == TC_E_NOMEM)
            return nomem(err);
        if (rc != TC_OK)
            return tc__error_set(err, TC_E_PROTOCOL, "response parameter '%s' has no value",
                                 m->parameters[k]->key);
    }
    return TC_OK;
}

tc_code tc__pb_infer_response_from_msg(const Inference__ModelInferResponse *m,
                                       tc__infer_response *resp, tc__error *err)
{
    if (m == NULL || resp == NULL)
        return tc__error_set(err, TC_E_INVALID_ARG, "invalid argument");
    memset(resp, 0, sizeof *resp);
    tc_code rc = TC_OK;
    if (m->n_raw_output_contents > m->n_outputs) {
        rc = tc__error_set(err, TC_E_PROTOCOL,
                           "response has %zu raw_output_contents entries for %zu outputs",
                           m->n_raw_output_contents, m->n_outputs);
        goto out;
    }
    resp->model_name = tc__strdup(m->model_name);
    resp->model_version = tc__strdup(m->model_version);
    resp->id = tc__strdup(m->id);
    resp->outputs = tc__calloc(m->n_outputs ? m->n_outputs : 1, sizeof *resp->outputs);
    if (resp->model_name == NULL || resp->model_version == NULL || resp->id == NULL ||
        resp->outputs == NULL) {
        rc = nomem(err);
        goto out;
    }
    rc = decode_response_params(m, &resp->params, err);
    for (size_t i = 0; rc == TC_OK && i < m->n_outputs; i++) {
        resp->output_count = i + 1;
        rc = decode_output(m, i, &resp->outputs[i], err);
    }
out:
    if (rc != TC_OK)
        tc__infer_response_cleanup(resp);
    return rc;
}

tc_code tc__pb_infer_response_decode(const uint8_t *msg, size_t len, tc__infer_response *resp,
                                     void **backing, tc__error *err)
{
    if (backing == NULL || resp == NULL)
        return tc__error_set(err, TC_E_INVALID_ARG, "invalid argument");
    *backing = NULL;
    memset(resp, 0, sizeof *resp);
    ProtobufCMessage *m = NULL;
    tc_code rc = tc__pb_unpack(&inference__model_infer_response__descriptor, msg, len, &m, err);
    if (rc != TC_OK)
        return rc;
    rc = tc__pb_infer_response_from_msg((const pb_response *)m, resp, err);
    if (rc != TC_OK) {
        tc__pb_backing_free(m);
        return rc;
    }
    *backing = m;
    return TC_OK;
}

/* ---- stream responses --------------------------------------------------------------- */

tc_code tc__pb_stream_response_encode(const char *error_message, const tc__infer_response *resp,
                                      tc__buf *out, tc__error *err)
{
    if (out == NULL || (resp != NULL && !response_valid(resp)))
        return tc__error_set(err, TC_E_INVALID_ARG, "invalid argument");
    tc__pb_scratch s = {NULL, 0};
    Inference__ModelStreamInferResponse sm = INFERENCE__MODEL_STREAM_INFER_RESPONSE__INIT;
    pb_response m = INFERENCE__MODEL_INFER_RESPONSE__INIT;
    sm.error_message = tc__pb_str(error_message);
    tc_code rc = TC_OK;
    if (resp != NULL) {
        rc = tc__pb_response_build(&s, resp, &m);
        sm.infer_response = &m;
    }
    if (rc == TC_OK)
        rc = tc__pb_pack(&sm.base, out);
    tc__pb_scratch_free(&s);
    if (rc != TC_OK)
        return rc == TC_E_NOMEM ? nomem(err) : tc__error_set(err, rc, "cannot encode response");
    return TC_OK;
}

tc_code tc__pb_stream_response_decode(const uint8_t *msg, size_t len, char **error_message,
                                      tc__infer_response *resp, bool *has_response, void **backing,
                                      tc__error *err)
{
    if (error_message == NULL || resp == NULL || has_response == NULL || backing == NULL)
        return tc__error_set(err, TC_E_INVALID_ARG, "invalid argument");
    *error_message = NULL;
    *has_response = false;
    *backing = NULL;
    memset(resp, 0, sizeof *resp);
    ProtobufCMessage *pm = NULL;
    tc_code rc =
        tc__pb_unpack(&inference__model_stream_infer_response__descriptor, msg, len, &pm, err);
    if (rc != TC_OK)
        return rc;
    const Inference__ModelStreamInferResponse *sm = (const Inference__ModelStreamInferResponse *)pm;
    if (sm->error_message[0] != '\0') {
        *error_message = tc__strdup(sm->error_message);
        if (*error_message == NULL) {
            rc = nomem(err);
            goto out;
        }
    }
    if (sm->infer_response != NULL) {
        rc = tc__pb_infer_response_from_msg(sm->infer_response, resp, err);
        if (rc != TC_OK)
            goto out;
        *has_response = true;
    }
out:
    if (rc != TC_OK) {
        tc__free(*error_message);
        *error_message = NULL;
        tc__pb_backing_free(pm);
        return rc;
    }
    *backing = pm;
    return TC_OK;
}

bool tc__pb_response_is_final(const tc__infer_response *resp)
{
    const tc__param *p = resp != NULL ? tc__params_find(&resp->params, FINAL_KEY) : NULL;
    if (p == NULL || p->type != TC__PARAM_BOOL)
        return true;
    return p->v.b;
}

tc_code tc__pb_response_set_final(tc__infer_response *resp, bool final)
{
    if (resp == NULL)
        return TC_E_INVALID_ARG;
    for (size_t i = 0; i < resp->params.count; i++) {
        tc__param *p = &resp->params.items[i];
        if (strcmp(p->key, FINAL_KEY) != 0)
            continue;
        if (p->type == TC__PARAM_STRING)
            tc__free(p->v.s);
        p->type = TC__PARAM_BOOL;
        p->v.b = final;
        return TC_OK;
    }
    return tc__params_add_bool(&resp->params, FINAL_KEY, final);
}
