/* Server metadata, model metadata and repository index over gRPC
 * (GRPC.md sections 2.1 and 2.5). */
#include <string.h>

#include "common/alloc.h"
#include "proto/v2_pb_int.h"

typedef Inference__ModelMetadataResponse__TensorMetadata pb_tmeta;
typedef Inference__RepositoryIndexResponse__ModelIndex pb_index;

static tc_code parse_failed(tc__error *err, tc_code rc)
{
    if (rc == TC_E_NOMEM)
        return tc__error_set(err, rc, "out of memory");
    return rc;
}

/* Copy `n` protobuf strings into a new array. */
static tc_code strv_copy(char *const *src, size_t n, char ***dst, size_t *count)
{
    *dst = tc__calloc(n ? n : 1, sizeof **dst);
    if (*dst == NULL)
        return TC_E_NOMEM;
    for (size_t i = 0; i < n; i++) {
        (*dst)[i] = tc__strdup(src[i]);
        if ((*dst)[i] == NULL)
            return TC_E_NOMEM;
        *count = i + 1;
    }
    return TC_OK;
}

/* ---- server metadata ------------------------------------------------------------ */

tc_code tc__pb_server_metadata_encode(const tc__server_metadata *m, tc__buf *out)
{
    if (m == NULL || out == NULL)
        return TC_E_INVALID_ARG;
    Inference__ServerMetadataResponse r = INFERENCE__SERVER_METADATA_RESPONSE__INIT;
    r.name = tc__pb_str(m->name);
    r.version = tc__pb_str(m->version);
    r.n_extensions = m->extension_count;
    r.extensions = m->extensions;
    return tc__pb_pack(&r.base, out);
}

tc_code tc__pb_server_metadata_decode(const uint8_t *msg, size_t len, tc__server_metadata *m,
                                      tc__error *err)
{
    if (m == NULL)
        return tc__error_set(err, TC_E_INVALID_ARG, "invalid argument");
    memset(m, 0, sizeof *m);
    ProtobufCMessage *pm = NULL;
    tc_code rc =
        tc__pb_unpack(&inference__server_metadata_response__descriptor, msg, len, &pm, err);
    if (rc != TC_OK)
        return rc;
    const Inference__ServerMetadataResponse *r = (const Inference__ServerMetadataResponse *)pm;
    m->name = tc__strdup(r->name);
    m->version = tc__strdup(r->version);
    rc = (m->name == NULL || m->version == NULL) ? TC_E_NOMEM : TC_OK;
    if (rc == TC_OK)
        rc = strv_copy(r->extensions, r->n_extensions, &m->extensions, &m->extension_count);
    tc__pb_backing_free(pm);
    if (rc != TC_OK)
        tc__server_metadata_cleanup(m);
    return parse_failed(err, rc);
}

/* ---- model metadata ---------------------------------------------------------------- */

static tc_code tmeta_build(tc__pb_scratch *s, const tc__tensor_meta *src, size_t n, pb_tmeta ***dst)
{
    pb_tmeta *arr = tc__pb_scratch_alloc(s, n, sizeof *arr);
    pb_tmeta **ptrs = tc__pb_scratch_alloc(s, n, sizeof *ptrs);
    if (arr == NULL || ptrs == NULL)
        return TC_E_NOMEM;
    for (size_t i = 0; i < n; i++) {
        inference__model_metadata_response__tensor_metadata__init(&arr[i]);
        arr[i].name = tc__pb_str(src[i].name);
        arr[i].datatype = tc__pb_str(tc_dtype_name(src[i].dtype));
        arr[i].n_shape = src[i].ndim;
        arr[i].shape = src[i].shape;
        ptrs[i] = &arr[i];
    }
    *dst = ptrs;
    return TC_OK;
}

tc_code tc__pb_model_metadata_encode(const tc__model_metadata *m, tc__buf *out)
{
    if (m == NULL || out == NULL)
        return TC_E_INVALID_ARG;
    tc__pb_scratch s = {NULL, 0};
    Inference__ModelMetadataResponse r = INFERENCE__MODEL_METADATA_RESPONSE__INIT;
    r.name = tc__pb_str(m->name);
    r.platform = tc__pb_str(m->platform);
    r.n_versions = m->version_count;
    r.versions = m->versions;
    tc_code rc = tmeta_build(&s, m->inputs, m->input_count, &r.inputs);
    if (rc == TC_OK)
        rc = tmeta_build(&s, m->outputs, m->output_count, &r.outputs);
    if (rc == TC_OK) {
        r.n_inputs = m->input_count;
        r.n_outputs = m->output_count;
        rc = tc__pb_pack(&r.base, out);
    }
    tc__pb_scratch_free(&s);
    return rc;
}

static tc_code tmeta_copy(pb_tmeta *const *src, size_t n, tc__tensor_meta **dst, size_t *count)
{
    *dst = tc__calloc(n ? n : 1, sizeof **dst);
    if (*dst == NULL)
        return TC_E_NOMEM;
    for (size_t i = 0; i < n; i++) {
        tc__tensor_meta *t = &(*dst)[i];
        *count = i + 1;
        t->name = tc__strdup(src[i]->name);
        t->dtype = tc_dtype_from_name(src[i]->datatype);
        if (t->name == NULL ||
            tc__pb_shape_copy(src[i]->shape, src[i]->n_shape, &t->shape, &t->ndim) != TC_OK)
            return TC_E_NOMEM;
    }
    return TC_OK;
}

tc_code tc__pb_model_metadata_decode(const uint8_t *msg, size_t len, tc__model_metadata *m,
                                     tc__error *err)
{
    if (m == NULL)
        return tc__error_set(err, TC_E_INVALID_ARG, "invalid argument");
    memset(m, 0, sizeof *m);
    ProtobufCMessage *pm = NULL;
    tc_code rc = tc__pb_unpack(&inference__model_metadata_response__descriptor, msg, len, &pm, err);
    if (rc != TC_OK)
        return rc;
    const Inference__ModelMetadataResponse *r = (const Inference__ModelMetadataResponse *)pm;
    m->name = tc__strdup(r->name);
    m->platform = tc__strdup(r->platform);
    rc = (m->name == NULL || m->platform == NULL) ? TC_E_NOMEM : TC_OK;
    if (rc == TC_OK)
        rc = strv_copy(r->versions, r->n_versions, &m->versions, &m->version_count);
    if (rc == TC_OK)
        rc = tmeta_copy(r->inputs, r->n_inputs, &m->inputs, &m->input_count);
    if (rc == TC_OK)
        rc = tmeta_copy(r->outputs, r->n_outputs, &m->outputs, &m->output_count);
    tc__pb_backing_free(pm);
    if (rc != TC_OK)
        tc__model_metadata_cleanup(m);
    return parse_failed(err, rc);
}

/* ---- repository index ---------------------------------------------------------------- */

tc_code tc__pb_repo_index_encode(const tc__repo_index *idx, tc__buf *out)
{
    if (idx == NULL || out == NULL)
        return TC_E_INVALID_ARG;
    tc__pb_scratch s = {NULL, 0};
    Inference__RepositoryIndexResponse r = INFERENCE__REPOSITORY_INDEX_RESPONSE__INIT;
    pb_index *arr = tc__pb_scratch_alloc(&s, idx->count, sizeof *arr);
    pb_index **ptrs = tc__pb_scratch_alloc(&s, idx->count, sizeof *ptrs);
    tc_code rc = (arr == NULL || ptrs == NULL) ? TC_E_NOMEM : TC_OK;
    for (size_t i = 0; rc == TC_OK && i < idx->count; i++) {
        inference__repository_index_response__model_index__init(&arr[i]);
        arr[i].name = tc__pb_str(idx->entries[i].name);
        arr[i].version = tc__pb_str(idx->entries[i].version);
        arr[i].state = tc__pb_str(idx->entries[i].state);
        arr[i].reason = tc__pb_str(idx->entries[i].reason);
        ptrs[i] = &arr[i];
    }
    if (rc == TC_OK) {
        r.n_models = idx->count;
        r.models = ptrs;
        rc = tc__pb_pack(&r.base, out);
    }
    tc__pb_scratch_free(&s);
    return rc;
}

tc_code tc__pb_repo_index_decode(const uint8_t *msg, size_t len, tc__repo_index *idx,
                                 tc__error *err)
{
    if (idx == NULL)
        return tc__error_set(err, TC_E_INVALID_ARG, "invalid argument");
    memset(idx, 0, sizeof *idx);
    ProtobufCMessage *pm = NULL;
    tc_code rc =
        tc__pb_unpack(&inference__repository_index_response__descriptor, msg, len, &pm, err);
    if (rc != TC_OK)
        return rc;
    const Inference__RepositoryIndexResponse *r = (const Inference__RepositoryIndexResponse *)pm;
    idx->entries = tc__calloc(r->n_models ? r->n_models : 1, sizeof *idx->entries);
    rc = idx->entries == NULL ? TC_E_NOMEM : TC_OK;
    bool oom = false;
    for (size_t i = 0; rc == TC_OK && i < r->n_models; i++) {
        tc__repo_entry *e = &idx->entries[i];
        idx->count = i + 1;
        e->name = tc__strdup(r->models[i]->name);
        e->version = tc__pb_strdup_nonempty(r->models[i]->version, &oom);
        e->state = tc__pb_strdup_nonempty(r->models[i]->state, &oom);
        e->reason = tc__pb_strdup_nonempty(r->models[i]->reason, &oom);
        if (oom || e->name == NULL)
            rc = TC_E_NOMEM;
    }
    tc__pb_backing_free(pm);
    if (rc != TC_OK)
        tc__repo_index_cleanup(idx);
    return parse_failed(err, rc);
}
