/* Every unary RPC except ModelInfer, mapped onto the core with the HTTP
 * frontend's semantics and messages (GRPC.md sections 4 and 7). Runs on the
 * I/O thread, except model load/unload (a worker thread). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "frontend/grpc/grpc_internal.h"
#include "health.pb-c.h"
#include "proto/v2_pb.h"

#define SHM_DISABLED                                                                               \
    "Client shared memory is disabled. Start the server with '--allow-client-shm=true' to "        \
    "enable."
#define REPO_NAME_UNSUPPORTED "'repository_name' specification is not supported"

void tc__grpc_status_set(tc__grpc_status *st, int code, const char *fmt, ...)
{
    st->code = code;
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(st->msg, sizeof st->msg, fmt, ap);
    va_end(ap);
}

void tc__grpc_status_from_error(tc__grpc_status *st, const tc__error *err)
{
    tc_code code = err != NULL ? err->code : TC_E_INTERNAL;
    st->code = code == TC_E_PROTOCOL ? TC__GRPC_INTERNAL
               : code == TC_OK       ? TC__GRPC_INTERNAL
                                     : tc__code_to_grpc_status(code);
    (void)snprintf(st->msg, sizeof st->msg, "%s",
                   err != NULL && err->msg[0] != '\0' ? err->msg : "internal error");
}

bool tc__grpc_unary_blocks(tc__grpc_method m)
{
    return m == TC__GRPC_M_REPO_LOAD || m == TC__GRPC_M_REPO_UNLOAD;
}

static void *unpack(const ProtobufCMessageDescriptor *d, const uint8_t *msg, size_t len,
                    tc__grpc_status *st)
{
    ProtobufCMessage *m = NULL;
    tc__error err;
    tc__error_clear(&err);
    if (tc__pb_unpack(d, msg, len, &m, &err) != TC_OK) {
        tc__grpc_status_from_error(st, &err);
        return NULL;
    }
    return m;
}

static void pack(const void *m, tc__buf *out, tc__grpc_status *st)
{
    if (tc__pb_pack(m, out) != TC_OK)
        tc__grpc_status_set(st, TC__GRPC_RESOURCE_EXHAUSTED, "out of memory");
}

static void nomem(tc__grpc_status *st)
{
    tc__grpc_status_set(st, TC__GRPC_RESOURCE_EXHAUSTED, "out of memory");
}

/* ---- health and metadata ---------------------------------------------------------------- */

static void server_live(tc__grpc_server *srv, const uint8_t *msg, size_t len, tc__buf *out,
                        tc__grpc_status *st)
{
    void *req = unpack(&inference__server_live_request__descriptor, msg, len, st);
    if (req == NULL)
        return;
    tc__pb_backing_free(req);
    Inference__ServerLiveResponse r = INFERENCE__SERVER_LIVE_RESPONSE__INIT;
    r.live = tc__core_is_live(srv->core);
    pack(&r, out, st);
}

static void server_ready(tc__grpc_server *srv, const uint8_t *msg, size_t len, tc__buf *out,
                         tc__grpc_status *st)
{
    void *req = unpack(&inference__server_ready_request__descriptor, msg, len, st);
    if (req == NULL)
        return;
    tc__pb_backing_free(req);
    Inference__ServerReadyResponse r = INFERENCE__SERVER_READY_RESPONSE__INIT;
    r.ready = tc__core_is_ready(srv->core);
    pack(&r, out, st);
}

static void health_check(tc__grpc_server *srv, const uint8_t *msg, size_t len, tc__buf *out,
                         tc__grpc_status *st)
{
    void *req = unpack(&grpc__health__v1__health_check_request__descriptor, msg, len, st);
    if (req == NULL)
        return;
    tc__pb_backing_free(req);
    Grpc__Health__V1__HealthCheckResponse r = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
    r.status = tc__core_is_ready(srv->core)
                   ? GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING
                   : GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING;
    pack(&r, out, st);
}

static const char *opt_version(const char *v)
{
    return v != NULL && v[0] != '\0' ? v : NULL;
}

static void model_ready(tc__grpc_server *srv, const uint8_t *msg, size_t len, tc__buf *out,
                        tc__grpc_status *st)
{
    Inference__ModelReadyRequest *req =
        unpack(&inference__model_ready_request__descriptor, msg, len, st);
    if (req == NULL)
        return;
    bool ready = false;
    tc__error err;
    tc__error_clear(&err);
    if (tc__core_model_is_ready(srv->core, req->name, opt_version(req->version), &ready, &err) !=
        TC_OK) {
        tc__grpc_status_from_error(st, &err);
    } else {
        Inference__ModelReadyResponse r = INFERENCE__MODEL_READY_RESPONSE__INIT;
        r.ready = ready;
        pack(&r, out, st);
    }
    tc__pb_backing_free(req);
}

static void server_metadata(tc__grpc_server *srv, const uint8_t *msg, size_t len, tc__buf *out,
                            tc__grpc_status *st)
{
    void *req = unpack(&inference__server_metadata_request__descriptor, msg, len, st);
    if (req == NULL)
        return;
    tc__pb_backing_free(req);
    tc__server_metadata m;
    if (tc__core_server_metadata(srv->core, &m) != TC_OK) {
        nomem(st);
        return;
    }
    if (tc__pb_server_metadata_encode(&m, out) != TC_OK)
        nomem(st);
    tc__server_metadata_cleanup(&m);
}

static void model_metadata(tc__grpc_server *srv, const uint8_t *msg, size_t len, tc__buf *out,
                           tc__grpc_status *st)
{
    Inference__ModelMetadataRequest *req =
        unpack(&inference__model_metadata_request__descriptor, msg, len, st);
    if (req == NULL)
        return;
    tc__model_metadata m;
    tc__error err;
    tc__error_clear(&err);
    if (tc__core_model_metadata(srv->core, req->name, opt_version(req->version), &m, &err) !=
        TC_OK) {
        tc__grpc_status_from_error(st, &err);
    } else {
        if (tc__pb_model_metadata_encode(&m, out) != TC_OK)
            nomem(st);
        tc__model_metadata_cleanup(&m);
    }
    tc__pb_backing_free(req);
}

static void model_config(tc__grpc_server *srv, const uint8_t *msg, size_t len, tc__buf *out,
                         tc__grpc_status *st)
{
    Inference__ModelConfigRequest *req =
        unpack(&inference__model_config_request__descriptor, msg, len, st);
    if (req == NULL)
        return;
    tc__model_handle *h = NULL;
    tc__error err;
    tc__error_clear(&err);
    if (tc__core_model_acquire(srv->core, req->name, opt_version(req->version), &h, &err) !=
        TC_OK) {
        tc__grpc_status_from_error(st, &err);
    } else {
        if (tc__pb_model_config_encode(tc__model_handle_config(h), out) != TC_OK)
            nomem(st);
        tc__model_handle_release(h);
    }
    tc__pb_backing_free(req);
}

/* ---- statistics ------------------------------------------------------------------------- */

typedef struct stat_block {
    Inference__ModelStatistics ms;
    Inference__InferStatistics is;
    Inference__StatisticDuration d[8];
    Inference__InferBatchStatistics *batches;
    Inference__InferBatchStatistics **batch_ptrs;
    Inference__StatisticDuration *bd;
} stat_block;

static void dur(Inference__StatisticDuration *d, const tc__stat_duration *s)
{
    Inference__StatisticDuration init = INFERENCE__STATISTIC_DURATION__INIT;
    *d = init;
    d->count = s->count;
    d->ns = s->ns;
}

static bool fill_stat(stat_block *b, const tc__model_stats *s)
{
    Inference__ModelStatistics ms = INFERENCE__MODEL_STATISTICS__INIT;
    Inference__InferStatistics is = INFERENCE__INFER_STATISTICS__INIT;
    b->ms = ms;
    b->is = is;
    b->ms.name = s->name;
    b->ms.version = s->version;
    b->ms.last_inference = s->last_inference_ms;
    b->ms.inference_count = s->inference_count;
    b->ms.execution_count = s->execution_count;
    const tc__stat_duration *src[8] = {&s->success,       &s->fail,          &s->queue,
                                       &s->compute_input, &s->compute_infer, &s->compute_output,
                                       &s->cache_hit,     &s->cache_miss};
    Inference__StatisticDuration **dst[8] = {
        &b->is.success,       &b->is.fail,           &b->is.queue,     &b->is.compute_input,
        &b->is.compute_infer, &b->is.compute_output, &b->is.cache_hit, &b->is.cache_miss};
    for (size_t i = 0; i < 8; i++) {
        dur(&b->d[i], src[i]);
        *dst[i] = &b->d[i];
    }
    b->ms.inference_stats = &b->is;
    if (s->batch_count == 0)
        return true;
    b->batches = tc__calloc(s->batch_count, sizeof *b->batches);
    b->batch_ptrs = tc__calloc(s->batch_count, sizeof *b->batch_ptrs);
    b->bd = tc__calloc(s->batch_count * 3, sizeof *b->bd);
    if (b->batches == NULL || b->batch_ptrs == NULL || b->bd == NULL)
        return false;
    for (size_t i = 0; i < s->batch_count; i++) {
        Inference__InferBatchStatistics init = INFERENCE__INFER_BATCH_STATISTICS__INIT;
        Inference__InferBatchStatistics *bs = &b->batches[i];
        *bs = init;
        bs->batch_size = s->batches[i].batch_size;
        dur(&b->bd[3 * i], &s->batches[i].compute_input);
        dur(&b->bd[3 * i + 1], &s->batches[i].compute_infer);
        dur(&b->bd[3 * i + 2], &s->batches[i].compute_output);
        bs->compute_input = &b->bd[3 * i];
        bs->compute_infer = &b->bd[3 * i + 1];
        bs->compute_output = &b->bd[3 * i + 2];
        b->batch_ptrs[i] = bs;
    }
    b->ms.n_batch_stats = s->batch_count;
    b->ms.batch_stats = b->batch_ptrs;
    return true;
}

static void statistics(tc__grpc_server *srv, const uint8_t *msg, size_t len, tc__buf *out,
                       tc__grpc_status *st)
{
    Inference__ModelStatisticsRequest *req =
        unpack(&inference__model_statistics_request__descriptor, msg, len, st);
    if (req == NULL)
        return;
    tc__model_stats *s = NULL;
    size_t n = 0;
    tc__error err;
    tc__error_clear(&err);
    const char *name = req->name[0] != '\0' ? req->name : NULL;
    if (tc__core_model_stats(srv->core, name, opt_version(req->version), &s, &n, &err) != TC_OK) {
        tc__grpc_status_from_error(st, &err);
        tc__pb_backing_free(req);
        return;
    }
    stat_block *blocks = tc__calloc(n > 0 ? n : 1, sizeof *blocks);
    Inference__ModelStatistics **ptrs = tc__calloc(n > 0 ? n : 1, sizeof *ptrs);
    bool ok = blocks != NULL && ptrs != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        ok = fill_stat(&blocks[i], &s[i]);
        ptrs[i] = &blocks[i].ms;
    }
    if (ok) {
        Inference__ModelStatisticsResponse r = INFERENCE__MODEL_STATISTICS_RESPONSE__INIT;
        r.n_model_stats = n;
        r.model_stats = ptrs;
        pack(&r, out, st);
    } else {
        nomem(st);
    }
    for (size_t i = 0; blocks != NULL && i < n; i++) {
        tc__free(blocks[i].batches);
        tc__free(blocks[i].batch_ptrs);
        tc__free(blocks[i].bd);
    }
    tc__free(blocks);
    tc__free(ptrs);
    tc__model_stats_free(s, n);
    tc__pb_backing_free(req);
}

/* ---- repository ------------------------------------------------------------------------- */

static void repo_index(tc__grpc_server *srv, const uint8_t *msg, size_t len, tc__buf *out,
                       tc__grpc_status *st)
{
    Inference__RepositoryIndexRequest *req =
        unpack(&inference__repository_index_request__descriptor, msg, len, st);
    if (req == NULL)
        return;
    tc__repo_index idx;
    tc__error err;
    tc__error_clear(&err);
    if (req->repository_name[0] != '\0') {
        tc__grpc_status_set(st, TC__GRPC_UNIMPLEMENTED, REPO_NAME_UNSUPPORTED);
    } else if (tc__core_repo_index(srv->core, req->ready, &idx, &err) != TC_OK) {
        tc__grpc_status_from_error(st, &err);
    } else {
        if (tc__pb_repo_index_encode(&idx, out) != TC_OK)
            nomem(st);
        tc__repo_index_cleanup(&idx);
    }
    tc__pb_backing_free(req);
}

static void repo_load(tc__grpc_server *srv, const uint8_t *msg, size_t len, tc__buf *out,
                      tc__grpc_status *st)
{
    Inference__RepositoryModelLoadRequest *req =
        unpack(&inference__repository_model_load_request__descriptor, msg, len, st);
    if (req == NULL)
        return;
    tc__load_file *files = tc__calloc(req->n_parameters + 1, sizeof *files);
    size_t count = 0;
    const char *config = NULL;
    size_t config_len = 0;
    if (files == NULL)
        nomem(st);
    else if (req->repository_name[0] != '\0')
        tc__grpc_status_set(st, TC__GRPC_UNIMPLEMENTED, REPO_NAME_UNSUPPORTED);
    for (size_t i = 0; st->code == 0 && i < req->n_parameters; i++) {
        const char *key = req->parameters[i]->key;
        const Inference__ModelRepositoryParameter *v = req->parameters[i]->value;
        int kind = v != NULL ? (int)v->parameter_choice_case : 0;
        if (strcmp(key, "config") == 0) {
            if (kind != INFERENCE__MODEL_REPOSITORY_PARAMETER__PARAMETER_CHOICE_STRING_PARAM) {
                tc__grpc_status_set(st, TC__GRPC_INVALID_ARGUMENT,
                                    "invalid value type for load parameter '%.200s', expected "
                                    "string_param.",
                                    key);
                break;
            }
            config = v->string_param;
            config_len = strlen(config);
        } else if (strncmp(key, "file:", 5) == 0) {
            if (kind != INFERENCE__MODEL_REPOSITORY_PARAMETER__PARAMETER_CHOICE_BYTES_PARAM) {
                tc__grpc_status_set(st, TC__GRPC_INVALID_ARGUMENT,
                                    "invalid value type for load parameter '%.200s', expected "
                                    "bytes_param.",
                                    key);
                break;
            }
            files[count].path = key + 5;
            files[count].data = v->bytes_param.data;
            files[count].size = v->bytes_param.len;
            count++;
        } else {
            tc__grpc_status_set(st, TC__GRPC_INVALID_ARGUMENT,
                                "unrecognized load parameter '%.200s'.", key);
        }
    }
    tc__error err;
    tc__error_clear(&err);
    if (st->code == 0) {
        if (tc__core_model_load(srv->core, req->model_name, config, config_len, files, count,
                                &err) != TC_OK) {
            tc__grpc_status_from_error(st, &err);
        } else {
            Inference__RepositoryModelLoadResponse r =
                INFERENCE__REPOSITORY_MODEL_LOAD_RESPONSE__INIT;
            pack(&r, out, st);
        }
    }
    tc__free(files);
    tc__pb_backing_free(req);
}

static void repo_unload(tc__grpc_server *srv, const uint8_t *msg, size_t len, tc__buf *out,
                        tc__grpc_status *st)
{
    Inference__RepositoryModelUnloadRequest *req =
        unpack(&inference__repository_model_unload_request__descriptor, msg, len, st);
    if (req == NULL)
        return;
    bool dependents = false;
    if (req->repository_name[0] != '\0')
        tc__grpc_status_set(st, TC__GRPC_UNIMPLEMENTED, REPO_NAME_UNSUPPORTED);
    for (size_t i = 0; st->code == 0 && i < req->n_parameters; i++) {
        const char *key = req->parameters[i]->key;
        const Inference__ModelRepositoryParameter *v = req->parameters[i]->value;
        if (strcmp(key, "unload_dependents") != 0)
            continue;
        if (v == NULL || v->parameter_choice_case !=
                             INFERENCE__MODEL_REPOSITORY_PARAMETER__PARAMETER_CHOICE_BOOL_PARAM) {
            tc__grpc_status_set(st, TC__GRPC_INVALID_ARGUMENT,
                                "invalid value type for 'unload_dependents' parameter, expected "
                                "bool_param.");
            break;
        }
        dependents = v->bool_param;
    }
    tc__error err;
    tc__error_clear(&err);
    if (st->code == 0) {
        if (tc__core_model_unload(srv->core, req->model_name, dependents, &err) != TC_OK) {
            tc__grpc_status_from_error(st, &err);
        } else {
            Inference__RepositoryModelUnloadResponse r =
                INFERENCE__REPOSITORY_MODEL_UNLOAD_RESPONSE__INIT;
            pack(&r, out, st);
        }
    }
    tc__pb_backing_free(req);
}

/* ---- shared memory (GRPC.md 2.6 and 7) ------------------------------------------------------ */

static void shm_status_system(tc__grpc_server *srv, const uint8_t *msg, size_t len, tc__buf *out,
                              tc__grpc_status *st)
{
    Inference__SystemSharedMemoryStatusRequest *req =
        unpack(&inference__system_shared_memory_status_request__descriptor, msg, len, st);
    if (req == NULL)
        return;
    tc__shm_status *s = NULL;
    size_t n = 0;
    tc__error err;
    tc__error_clear(&err);
    if (tc__core_shm_status(srv->core, TC__SHM_SYSTEM, req->name, &s, &n, &err) != TC_OK) {
        tc__grpc_status_from_error(st, &err);
        tc__pb_backing_free(req);
        return;
    }
    Inference__SystemSharedMemoryStatusResponse__RegionStatus *rs = tc__calloc(n + 1, sizeof *rs);
    Inference__SystemSharedMemoryStatusResponse__RegionsEntry *es = tc__calloc(n + 1, sizeof *es);
    Inference__SystemSharedMemoryStatusResponse__RegionsEntry **ep = tc__calloc(n + 1, sizeof *ep);
    if (rs == NULL || es == NULL || ep == NULL) {
        nomem(st);
    } else {
        for (size_t i = 0; i < n; i++) {
            inference__system_shared_memory_status_response__region_status__init(&rs[i]);
            rs[i].name = s[i].name;
            rs[i].key = s[i].key;
            rs[i].offset = s[i].offset;
            rs[i].byte_size = s[i].byte_size;
            inference__system_shared_memory_status_response__regions_entry__init(&es[i]);
            es[i].key = s[i].name;
            es[i].value = &rs[i];
            ep[i] = &es[i];
        }
        Inference__SystemSharedMemoryStatusResponse r =
            INFERENCE__SYSTEM_SHARED_MEMORY_STATUS_RESPONSE__INIT;
        r.n_regions = n;
        r.regions = ep;
        pack(&r, out, st);
    }
    tc__free(rs);
    tc__free(es);
    tc__free(ep);
    tc__shm_status_free(s, n);
    tc__pb_backing_free(req);
}

static void shm_status_cuda(tc__grpc_server *srv, const uint8_t *msg, size_t len, tc__buf *out,
                            tc__grpc_status *st)
{
    Inference__CudaSharedMemoryStatusRequest *req =
        unpack(&inference__cuda_shared_memory_status_request__descriptor, msg, len, st);
    if (req == NULL)
        return;
    tc__shm_status *s = NULL;
    size_t n = 0;
    tc__error err;
    tc__error_clear(&err);
    if (tc__core_shm_status(srv->core, TC__SHM_CUDA, req->name, &s, &n, &err) != TC_OK) {
        tc__grpc_status_from_error(st, &err);
        tc__pb_backing_free(req);
        return;
    }
    Inference__CudaSharedMemoryStatusResponse__RegionStatus *rs = tc__calloc(n + 1, sizeof *rs);
    Inference__CudaSharedMemoryStatusResponse__RegionsEntry *es = tc__calloc(n + 1, sizeof *es);
    Inference__CudaSharedMemoryStatusResponse__RegionsEntry **ep = tc__calloc(n + 1, sizeof *ep);
    if (rs == NULL || es == NULL || ep == NULL) {
        nomem(st);
    } else {
        for (size_t i = 0; i < n; i++) {
            inference__cuda_shared_memory_status_response__region_status__init(&rs[i]);
            rs[i].name = s[i].name;
            rs[i].device_id = s[i].device_id >= 0 ? (uint64_t)s[i].device_id : 0;
            rs[i].byte_size = s[i].byte_size;
            inference__cuda_shared_memory_status_response__regions_entry__init(&es[i]);
            es[i].key = s[i].name;
            es[i].value = &rs[i];
            ep[i] = &es[i];
        }
        Inference__CudaSharedMemoryStatusResponse r =
            INFERENCE__CUDA_SHARED_MEMORY_STATUS_RESPONSE__INIT;
        r.n_regions = n;
        r.regions = ep;
        pack(&r, out, st);
    }
    tc__free(rs);
    tc__free(es);
    tc__free(ep);
    tc__shm_status_free(s, n);
    tc__pb_backing_free(req);
}

/* Register and unregister share the gate and the empty response. */
static void shm_change(tc__grpc_server *srv, tc__grpc_method m, const uint8_t *msg, size_t len,
                       tc__buf *out, tc__grpc_status *st)
{
    const ProtobufCMessageDescriptor *d =
        m == TC__GRPC_M_SYS_SHM_REGISTER
            ? &inference__system_shared_memory_register_request__descriptor
        : m == TC__GRPC_M_SYS_SHM_UNREGISTER
            ? &inference__system_shared_memory_unregister_request__descriptor
        : m == TC__GRPC_M_CUDA_SHM_REGISTER
            ? &inference__cuda_shared_memory_register_request__descriptor
            : &inference__cuda_shared_memory_unregister_request__descriptor;
    void *req = unpack(d, msg, len, st);
    if (req == NULL)
        return;
    tc__error err;
    tc__error_clear(&err);
    tc_code rc = TC_OK;
    if (!srv->opts.allow_client_shm) {
        tc__grpc_status_set(st, TC__GRPC_UNIMPLEMENTED, SHM_DISABLED);
        tc__pb_backing_free(req);
        return;
    }
    if (m == TC__GRPC_M_SYS_SHM_REGISTER) {
        const Inference__SystemSharedMemoryRegisterRequest *r = req;
        rc =
            tc__core_shm_register_system(srv->core, r->name, r->key, r->offset, r->byte_size, &err);
    } else if (m == TC__GRPC_M_CUDA_SHM_REGISTER) {
        const Inference__CudaSharedMemoryRegisterRequest *r = req;
        rc = tc__core_shm_register_cuda(srv->core, r->name, r->raw_handle.data, r->raw_handle.len,
                                        r->device_id, r->byte_size, &err);
    } else {
        /* Both unregister requests are {string name = 1}. */
        const Inference__SystemSharedMemoryUnregisterRequest *r = req;
        rc = tc__core_shm_unregister(
            srv->core, m == TC__GRPC_M_SYS_SHM_UNREGISTER ? TC__SHM_SYSTEM : TC__SHM_CUDA, r->name,
            &err);
    }
    tc__pb_backing_free(req);
    if (rc != TC_OK)
        tc__grpc_status_from_error(st, &err);
    else
        (void)tc__buf_reserve(out, 0); /* every response here is an empty message */
}

void tc__grpc_unary_run(tc__grpc_server *srv, tc__grpc_method m, const uint8_t *msg, size_t len,
                        tc__buf *out, tc__grpc_status *st)
{
    st->code = 0;
    st->msg[0] = '\0';
    switch (m) {
    case TC__GRPC_M_SERVER_LIVE:
        server_live(srv, msg, len, out, st);
        break;
    case TC__GRPC_M_SERVER_READY:
        server_ready(srv, msg, len, out, st);
        break;
    case TC__GRPC_M_HEALTH_CHECK:
        health_check(srv, msg, len, out, st);
        break;
    case TC__GRPC_M_MODEL_READY:
        model_ready(srv, msg, len, out, st);
        break;
    case TC__GRPC_M_SERVER_METADATA:
        server_metadata(srv, msg, len, out, st);
        break;
    case TC__GRPC_M_MODEL_METADATA:
        model_metadata(srv, msg, len, out, st);
        break;
    case TC__GRPC_M_MODEL_CONFIG:
        model_config(srv, msg, len, out, st);
        break;
    case TC__GRPC_M_MODEL_STATISTICS:
        statistics(srv, msg, len, out, st);
        break;
    case TC__GRPC_M_REPO_INDEX:
        repo_index(srv, msg, len, out, st);
        break;
    case TC__GRPC_M_REPO_LOAD:
        repo_load(srv, msg, len, out, st);
        break;
    case TC__GRPC_M_REPO_UNLOAD:
        repo_unload(srv, msg, len, out, st);
        break;
    case TC__GRPC_M_SYS_SHM_STATUS:
        shm_status_system(srv, msg, len, out, st);
        break;
    case TC__GRPC_M_CUDA_SHM_STATUS:
        shm_status_cuda(srv, msg, len, out, st);
        break;
    case TC__GRPC_M_SYS_SHM_REGISTER:
    case TC__GRPC_M_SYS_SHM_UNREGISTER:
    case TC__GRPC_M_CUDA_SHM_REGISTER:
    case TC__GRPC_M_CUDA_SHM_UNREGISTER:
        shm_change(srv, m, msg, len, out, st);
        break;
    case TC__GRPC_M_TRACE_SETTING:
        tc__grpc_trace_setting(srv, msg, len, out, st);
        break;
    case TC__GRPC_M_LOG_SETTINGS:
        tc__grpc_log_settings(srv, msg, len, out, st);
        break;
    default:
        tc__grpc_status_set(st, TC__GRPC_UNIMPLEMENTED, "unknown method");
        break;
    }
}
