/* gRPC management calls: health, metadata, model config, statistics,
 * trace and log settings (rendered as the HTTP JSON through the codec's
 * bridges), repository index, load and unload. Each is one sync unary call. */
#include "client/grpc_internal.h"

#include <string.h>

#include "client/metadata_internal.h"
#include "common/alloc.h"
#include "proto/v2_pb.h"

#define SVC "/inference.GRPCInferenceService/"

/* Pack `msg`, run the call, leave the response bytes in `resp`. Failures
 * are recorded as the client's last error. */
static tc_code call(tc_client *c, const char *path, const ProtobufCMessage *msg,
                    const tc__hlist *h, tc__buf *resp)
{
    tc__grpc_client *gc = (tc__grpc_client *)c;
    tc__error err;
    tc__error_clear(&err);
    tc__buf req = TC__BUF_INIT;
    tc_code rc = tc__pb_pack(msg, &req);
    if (rc != TC_OK)
        rc = tc__error_set(&err, rc, "out of memory");
    if (rc == TC_OK)
        rc = tc__grpc_unary(gc, path, &req, h, resp, &err);
    tc__buf_cleanup(&req);
    if (rc != TC_OK)
        tc__client_fail_err(c, &err);
    return rc;
}

static char *str(const char *s)
{
    return (char *)(uintptr_t)(s != NULL ? s : "");
}

/* Unpack `resp` as `desc`, recording a parse failure. */
static tc_code unpack(tc_client *c, const ProtobufCMessageDescriptor *desc, const tc__buf *resp,
                      ProtobufCMessage **out)
{
    tc__error err;
    tc__error_clear(&err);
    tc_code rc = tc__pb_unpack(desc, resp->data, resp->len, out, &err);
    if (rc != TC_OK)
        tc__client_fail_err(c, &err);
    return rc;
}

tc_code tc__grpc_health(tc_client *c, int which, const char *model, const char *version,
                        const tc__hlist *h, bool *ok)
{
    tc__buf resp = TC__BUF_INIT;
    ProtobufCMessage *m = NULL;
    tc_code rc;
    const ProtobufCMessageDescriptor *desc;
    if (which == TC__HEALTH_MODEL) {
        Inference__ModelReadyRequest r = INFERENCE__MODEL_READY_REQUEST__INIT;
        r.name = str(model);
        r.version = str(version);
        rc = call(c, SVC "ModelReady", &r.base, h, &resp);
        desc = &inference__model_ready_response__descriptor;
    } else if (which == TC__HEALTH_LIVE) {
        Inference__ServerLiveRequest r = INFERENCE__SERVER_LIVE_REQUEST__INIT;
        rc = call(c, SVC "ServerLive", &r.base, h, &resp);
        desc = &inference__server_live_response__descriptor;
    } else {
        Inference__ServerReadyRequest r = INFERENCE__SERVER_READY_REQUEST__INIT;
        rc = call(c, SVC "ServerReady", &r.base, h, &resp);
        desc = &inference__server_ready_response__descriptor;
    }
    if (rc == TC_OK)
        rc = unpack(c, desc, &resp, &m);
    if (rc == TC_OK) {
        /* All three responses are { bool = 1 }. */
        if (which == TC__HEALTH_MODEL)
            *ok = ((Inference__ModelReadyResponse *)m)->ready;
        else if (which == TC__HEALTH_LIVE)
            *ok = ((Inference__ServerLiveResponse *)m)->live;
        else
            *ok = ((Inference__ServerReadyResponse *)m)->ready;
    }
    tc__pb_backing_free(m);
    tc__buf_cleanup(&resp);
    return rc;
}

tc_code tc__grpc_server_metadata(tc_client *c, const tc__hlist *h, tc_server_metadata **out)
{
    Inference__ServerMetadataRequest r = INFERENCE__SERVER_METADATA_REQUEST__INIT;
    tc__buf resp = TC__BUF_INIT;
    tc_server_metadata *m = NULL;
    tc_code rc = call(c, SVC "ServerMetadata", &r.base, h, &resp);
    if (rc == TC_OK) {
        m = tc__calloc(1, sizeof *m);
        tc__error err;
        tc__error_clear(&err);
        rc = m == NULL ? tc__error_set(&err, TC_E_NOMEM, "out of memory")
                       : tc__pb_server_metadata_decode(resp.data, resp.len, &m->m, &err);
        if (rc != TC_OK)
            tc__client_fail_err(c, &err);
    }
    if (rc == TC_OK) {
        *out = m;
        m = NULL;
    }
    tc_server_metadata_free(m);
    tc__buf_cleanup(&resp);
    return rc;
}

tc_code tc__grpc_model_metadata(tc_client *c, const char *model, const char *version,
                                const tc__hlist *h, tc_model_metadata **out)
{
    Inference__ModelMetadataRequest r = INFERENCE__MODEL_METADATA_REQUEST__INIT;
    r.name = str(model);
    r.version = str(version);
    tc__buf resp = TC__BUF_INIT;
    tc_model_metadata *m = NULL;
    tc_code rc = call(c, SVC "ModelMetadata", &r.base, h, &resp);
    if (rc == TC_OK) {
        m = tc__calloc(1, sizeof *m);
        tc__error err;
        tc__error_clear(&err);
        rc = m == NULL ? tc__error_set(&err, TC_E_NOMEM, "out of memory")
                       : tc__pb_model_metadata_decode(resp.data, resp.len, &m->m, &err);
        if (rc != TC_OK)
            tc__client_fail_err(c, &err);
    }
    if (rc == TC_OK) {
        *out = m;
        m = NULL;
    }
    tc_model_metadata_free(m);
    tc__buf_cleanup(&resp);
    return rc;
}

/* Build the request of a JSON document call; `path` gets the method. */
static tc_code doc_request(int which, const char *model, const char *version, const char *body,
                           tc__buf *req, const char **path, tc__error *err)
{
    switch (which) {
    case TC__DOC_MODEL_CONFIG: {
        Inference__ModelConfigRequest r = INFERENCE__MODEL_CONFIG_REQUEST__INIT;
        r.name = str(model);
        r.version = str(version);
        *path = SVC "ModelConfig";
        return tc__pb_pack(&r.base, req);
    }
    case TC__DOC_STATISTICS: {
        Inference__ModelStatisticsRequest r = INFERENCE__MODEL_STATISTICS_REQUEST__INIT;
        r.name = str(model);
        r.version = str(version);
        *path = SVC "ModelStatistics";
        return tc__pb_pack(&r.base, req);
    }
    case TC__DOC_TRACE_GET:
    case TC__DOC_TRACE_UPDATE: {
        const char *json = which == TC__DOC_TRACE_GET ? "{}" : body;
        *path = SVC "TraceSetting";
        return tc__pb_trace_update_from_json(json, strlen(json), model, req, err);
    }
    case TC__DOC_LOG_GET:
    case TC__DOC_LOG_UPDATE: {
        const char *json = which == TC__DOC_LOG_GET ? "{}" : body;
        *path = SVC "LogSettings";
        return tc__pb_log_update_from_json(json, strlen(json), req, err);
    }
    default:
        return tc__error_set(err, TC_E_INVALID_ARG, "unknown document");
    }
}

static tc_code doc_to_json(int which, const tc__buf *resp, tc__buf *json, tc__error *err)
{
    switch (which) {
    case TC__DOC_MODEL_CONFIG:
        return tc__pb_model_config_to_json(resp->data, resp->len, json, err);
    case TC__DOC_STATISTICS:
        return tc__pb_model_stats_to_json(resp->data, resp->len, json, err);
    case TC__DOC_TRACE_GET:
    case TC__DOC_TRACE_UPDATE:
        return tc__pb_trace_settings_to_json(resp->data, resp->len, json, err);
    default:
        return tc__pb_log_settings_to_json(resp->data, resp->len, json, err);
    }
}

tc_code tc__grpc_document(tc_client *c, int which, const char *model, const char *version,
                          const char *body, const tc__hlist *h, char **json)
{
    tc__grpc_client *gc = (tc__grpc_client *)c;
    tc__error err;
    tc__error_clear(&err);
    tc__buf req = TC__BUF_INIT;
    tc__buf resp = TC__BUF_INIT;
    tc__buf out = TC__BUF_INIT;
    const char *path = NULL;
    tc_code rc = doc_request(which, model, version, body, &req, &path, &err);
    if (rc == TC_OK)
        rc = tc__grpc_unary(gc, path, &req, h, &resp, &err);
    if (rc == TC_OK)
        rc = doc_to_json(which, &resp, &out, &err);
    /* An all-default model config renders as nothing: say {} as HTTP does. */
    if (rc == TC_OK && out.len == 0)
        rc = tc__buf_append_str(&out, "{}");
    if (rc == TC_OK && json != NULL)
        *json = (char *)tc__buf_steal(&out, NULL);
    if (rc != TC_OK) {
        if (err.code == TC_OK)
            tc__error_set(&err, rc, "%s", tc_code_str(rc));
        tc__client_fail_err(c, &err);
    }
    tc__buf_cleanup(&req);
    tc__buf_cleanup(&resp);
    tc__buf_cleanup(&out);
    return rc;
}

tc_code tc__grpc_repository_index(tc_client *c, bool ready_only, const tc__hlist *h,
                                  tc_repository_index **out)
{
    Inference__RepositoryIndexRequest r = INFERENCE__REPOSITORY_INDEX_REQUEST__INIT;
    r.ready = ready_only;
    tc__buf resp = TC__BUF_INIT;
    tc_repository_index *idx = NULL;
    tc_code rc = call(c, SVC "RepositoryIndex", &r.base, h, &resp);
    if (rc == TC_OK) {
        idx = tc__calloc(1, sizeof *idx);
        tc__error err;
        tc__error_clear(&err);
        rc = idx == NULL ? tc__error_set(&err, TC_E_NOMEM, "out of memory")
                         : tc__pb_repo_index_decode(resp.data, resp.len, &idx->idx, &err);
        if (rc != TC_OK)
            tc__client_fail_err(c, &err);
    }
    if (rc == TC_OK) {
        *out = idx;
        idx = NULL;
    }
    tc_repository_index_free(idx);
    tc__buf_cleanup(&resp);
    return rc;
}

typedef Inference__RepositoryModelLoadRequest__ParametersEntry load_entry;

tc_code tc__grpc_load(tc_client *c, const char *model, const tc_load_options *o,
                      const tc__hlist *h)
{
    Inference__RepositoryModelLoadRequest r = INFERENCE__REPOSITORY_MODEL_LOAD_REQUEST__INIT;
    r.model_name = str(model);
    size_t nfiles = o != NULL ? o->files.count : 0;
    size_t n = nfiles + (o != NULL && o->config_json != NULL ? 1 : 0);
    load_entry *entries = tc__calloc(n + 1, sizeof *entries);
    load_entry **eptr = tc__calloc(n + 1, sizeof *eptr);
    Inference__ModelRepositoryParameter *vals = tc__calloc(n + 1, sizeof *vals);
    char **keys = tc__calloc(n + 1, sizeof *keys);
    tc__buf resp = TC__BUF_INIT;
    tc_code rc = TC_OK;
    if (entries == NULL || eptr == NULL || vals == NULL || keys == NULL) {
        rc = tc__client_fail(c, TC_E_NOMEM, "out of memory");
        goto out;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        load_entry e = INFERENCE__REPOSITORY_MODEL_LOAD_REQUEST__PARAMETERS_ENTRY__INIT;
        Inference__ModelRepositoryParameter v = INFERENCE__MODEL_REPOSITORY_PARAMETER__INIT;
        entries[i] = e;
        vals[i] = v;
        entries[i].value = &vals[i];
        eptr[i] = &entries[i];
    }
    if (o != NULL && o->config_json != NULL) {
        entries[k].key = "config";
        vals[k].parameter_choice_case = INFERENCE__MODEL_REPOSITORY_PARAMETER__PARAMETER_CHOICE_STRING_PARAM;
        vals[k].string_param = o->config_json;
        k++;
    }
    for (size_t i = 0; i < nfiles; i++, k++) {
        tc__buf key = TC__BUF_INIT;
        if (tc__buf_printf(&key, "file:%s", o->files.items[i].name) != TC_OK) {
            tc__buf_cleanup(&key);
            rc = tc__client_fail(c, TC_E_NOMEM, "out of memory");
            goto out;
        }
        keys[i] = (char *)tc__buf_steal(&key, NULL);
        entries[k].key = keys[i];
        vals[k].parameter_choice_case = INFERENCE__MODEL_REPOSITORY_PARAMETER__PARAMETER_CHOICE_BYTES_PARAM;
        vals[k].bytes_param.data = o->blobs[i].data;
        vals[k].bytes_param.len = o->blobs[i].size;
    }
    r.n_parameters = n;
    r.parameters = n > 0 ? eptr : NULL;
    rc = call(c, SVC "RepositoryModelLoad", &r.base, h, &resp);
out:
    for (size_t i = 0; keys != NULL && i < n; i++)
        tc__free(keys[i]);
    tc__free(keys);
    tc__free(vals);
    tc__free(eptr);
    tc__free(entries);
    tc__buf_cleanup(&resp);
    return rc;
}

tc_code tc__grpc_unload(tc_client *c, const char *model, bool dependents, const tc__hlist *h)
{
    Inference__RepositoryModelUnloadRequest r = INFERENCE__REPOSITORY_MODEL_UNLOAD_REQUEST__INIT;
    r.model_name = str(model);
    Inference__RepositoryModelUnloadRequest__ParametersEntry e =
        INFERENCE__REPOSITORY_MODEL_UNLOAD_REQUEST__PARAMETERS_ENTRY__INIT;
    Inference__ModelRepositoryParameter v = INFERENCE__MODEL_REPOSITORY_PARAMETER__INIT;
    v.parameter_choice_case = INFERENCE__MODEL_REPOSITORY_PARAMETER__PARAMETER_CHOICE_BOOL_PARAM;
    v.bool_param = dependents;
    e.key = "unload_dependents";
    e.value = &v;
    Inference__RepositoryModelUnloadRequest__ParametersEntry *ep = &e;
    r.n_parameters = 1;
    r.parameters = &ep;
    tc__buf resp = TC__BUF_INIT;
    tc_code rc = call(c, SVC "RepositoryModelUnload", &r.base, h, &resp);
    tc__buf_cleanup(&resp);
    return rc;
}

/* ---- shared memory (GRPC.md section 2.6) ------------------------------------------ */

tc_code tc__grpc_shm_register(tc_client *c, int kind, const tc__shm_reg *reg, const tc__hlist *h)
{
    tc__buf resp = TC__BUF_INIT;
    tc_code rc;
    if (kind == TC__SHM_SYSTEM) {
        Inference__SystemSharedMemoryRegisterRequest r =
            INFERENCE__SYSTEM_SHARED_MEMORY_REGISTER_REQUEST__INIT;
        r.name = str(reg->name);
        r.key = str(reg->key);
        r.offset = reg->offset;
        r.byte_size = reg->byte_size;
        rc = call(c, SVC "SystemSharedMemoryRegister", &r.base, h, &resp);
    } else {
        Inference__CudaSharedMemoryRegisterRequest r =
            INFERENCE__CUDA_SHARED_MEMORY_REGISTER_REQUEST__INIT;
        r.name = str(reg->name);
        r.raw_handle.data = (uint8_t *)(uintptr_t)reg->raw_handle;
        r.raw_handle.len = TC_CUDA_IPC_HANDLE_SIZE;
        r.device_id = reg->device_id;
        r.byte_size = reg->byte_size;
        rc = call(c, SVC "CudaSharedMemoryRegister", &r.base, h, &resp);
    }
    tc__buf_cleanup(&resp);
    return rc;
}

tc_code tc__grpc_shm_unregister(tc_client *c, int kind, const char *name, const tc__hlist *h)
{
    tc__buf resp = TC__BUF_INIT;
    tc_code rc;
    if (kind == TC__SHM_SYSTEM) {
        Inference__SystemSharedMemoryUnregisterRequest r =
            INFERENCE__SYSTEM_SHARED_MEMORY_UNREGISTER_REQUEST__INIT;
        r.name = str(name);
        rc = call(c, SVC "SystemSharedMemoryUnregister", &r.base, h, &resp);
    } else {
        Inference__CudaSharedMemoryUnregisterRequest r =
            INFERENCE__CUDA_SHARED_MEMORY_UNREGISTER_REQUEST__INIT;
        r.name = str(name);
        rc = call(c, SVC "CudaSharedMemoryUnregister", &r.base, h, &resp);
    }
    tc__buf_cleanup(&resp);
    return rc;
}

/* Fill `st` from an unpacked status response (map entries: key = region name). */
static tc_code shm_status_fill(int kind, const ProtobufCMessage *m, tc_shm_status *st)
{
    tc_code rc = TC_OK;
    if (kind == TC__SHM_SYSTEM) {
        const Inference__SystemSharedMemoryStatusResponse *s = (const void *)m;
        for (size_t i = 0; rc == TC_OK && i < s->n_regions; i++) {
            const Inference__SystemSharedMemoryStatusResponse__RegionStatus *v =
                s->regions[i]->value;
            if (v == NULL)
                continue;
            const char *name = v->name[0] != '\0' ? v->name : s->regions[i]->key;
            rc = tc__shm_status_add(st, name, v->key, v->offset, v->byte_size, -1);
        }
        return rc;
    }
    const Inference__CudaSharedMemoryStatusResponse *s = (const void *)m;
    for (size_t i = 0; rc == TC_OK && i < s->n_regions; i++) {
        const Inference__CudaSharedMemoryStatusResponse__RegionStatus *v = s->regions[i]->value;
        if (v == NULL)
            continue;
        const char *name = v->name[0] != '\0' ? v->name : s->regions[i]->key;
        int64_t device = v->device_id > INT64_MAX ? -1 : (int64_t)v->device_id;
        rc = tc__shm_status_add(st, name, "", 0, v->byte_size, device);
    }
    return rc;
}

tc_code tc__grpc_shm_status(tc_client *c, int kind, const char *name, const tc__hlist *h,
                            tc_shm_status **out)
{
    tc__buf resp = TC__BUF_INIT;
    ProtobufCMessage *m = NULL;
    tc_shm_status *st = NULL;
    tc_code rc;
    const ProtobufCMessageDescriptor *desc;
    if (kind == TC__SHM_SYSTEM) {
        Inference__SystemSharedMemoryStatusRequest r =
            INFERENCE__SYSTEM_SHARED_MEMORY_STATUS_REQUEST__INIT;
        r.name = str(name);
        rc = call(c, SVC "SystemSharedMemoryStatus", &r.base, h, &resp);
        desc = &inference__system_shared_memory_status_response__descriptor;
    } else {
        Inference__CudaSharedMemoryStatusRequest r =
            INFERENCE__CUDA_SHARED_MEMORY_STATUS_REQUEST__INIT;
        r.name = str(name);
        rc = call(c, SVC "CudaSharedMemoryStatus", &r.base, h, &resp);
        desc = &inference__cuda_shared_memory_status_response__descriptor;
    }
    if (rc == TC_OK)
        rc = unpack(c, desc, &resp, &m);
    if (rc == TC_OK) {
        st = tc__calloc(1, sizeof *st);
        rc = st == NULL ? TC_E_NOMEM : shm_status_fill(kind, m, st);
        if (rc != TC_OK)
            tc__client_fail(c, rc, "out of memory");
    }
    if (rc == TC_OK) {
        *out = st;
        st = NULL;
    }
    tc_shm_status_free(st);
    tc__pb_backing_free(m);
    tc__buf_cleanup(&resp);
    return rc;
}
