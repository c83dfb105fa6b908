/* Every endpoint except infer: health, metadata, config, statistics,
 * repository, trace and logging (shared memory: http_shm.c). */
#include <inttypes.h>
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/base64.h"
#include "frontend/http/http_internal.h"
#include "proto/model_config.h"
#include "proto/v2_json.h"

static tc__http_reply from_err(const tc__error *err)
{
    return tc__http_reply_error(err->code != TC_OK ? err->code : TC_E_INTERNAL, err->msg);
}

static tc__http_reply nomem(void)
{
    return tc__http_reply_status(500, "out of memory");
}

/* Parse an optional JSON object body; *out NULL for an empty body. */
static bool parse_body(const uint8_t *body, size_t len, json_object **out, tc__http_reply *reply)
{
    *out = NULL;
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t'))
        i++;
    if (i == len)
        return true;
    json_tokener *tok = json_tokener_new();
    if (tok == NULL || len > INT32_MAX) {
        json_tokener_free(tok);
        *reply = nomem();
        return false;
    }
    json_object *obj = json_tokener_parse_ex(tok, (const char *)body, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (obj == NULL || jerr != json_tokener_success || end != len ||
        !json_object_is_type(obj, json_type_object)) {
        char msg[256];
        (void)snprintf(msg, sizeof msg, "failed to parse the request JSON buffer: %s at %zu",
                       obj == NULL ? json_tokener_error_desc(jerr) : "expected a JSON object", end);
        json_object_put(obj);
        *reply = tc__http_reply_status(400, msg);
        return false;
    }
    *out = obj;
    return true;
}

/* ---- health and metadata ------------------------------------------------------------------ */

static tc__http_reply model_ready(tc__http_req *r)
{
    tc__error err;
    bool ready = false;
    if (!tc__core_is_ready(r->srv->core))
        return tc__http_reply_status(503, "Server not ready");
    if (tc__core_model_is_ready(r->srv->core, r->route.model, r->route.version, &ready, &err) !=
        TC_OK)
        return from_err(&err);
    return ready ? tc__http_reply_empty(200)
                 : tc__http_reply_status(400, "Model version not ready");
}

static tc__http_reply server_meta(tc__http_req *r)
{
    tc__server_metadata m;
    tc__buf json = TC__BUF_INIT;
    if (tc__core_server_metadata(r->srv->core, &m) != TC_OK)
        return nomem();
    tc_code rc = tc__v2_server_metadata_encode(&m, &json);
    tc__server_metadata_cleanup(&m);
    tc__http_reply reply = rc == TC_OK ? tc__http_reply_json(&json) : nomem();
    tc__buf_cleanup(&json);
    return reply;
}

static tc__http_reply model_meta(tc__http_req *r)
{
    tc__model_metadata m;
    tc__error err;
    tc__buf json = TC__BUF_INIT;
    if (tc__core_model_metadata(r->srv->core, r->route.model, r->route.version, &m, &err) != TC_OK)
        return from_err(&err);
    tc_code rc = tc__v2_model_metadata_encode(&m, &json);
    tc__model_metadata_cleanup(&m);
    tc__http_reply reply = rc == TC_OK ? tc__http_reply_json(&json) : nomem();
    tc__buf_cleanup(&json);
    return reply;
}

static tc__http_reply model_config(tc__http_req *r)
{
    tc__model_handle *h = NULL;
    tc__error err;
    if (tc__core_model_acquire(r->srv->core, r->route.model, r->route.version, &h, &err) != TC_OK)
        return from_err(&err);
    tc__buf json = TC__BUF_INIT;
    tc_code rc = tc__model_config_to_json(tc__model_handle_config(h), &json);
    tc__model_handle_release(h);
    tc__http_reply reply = rc == TC_OK ? tc__http_reply_json(&json) : nomem();
    tc__buf_cleanup(&json);
    return reply;
}

/* ---- statistics ---------------------------------------------------------------------------- */

static void put_d(tc__buf *b, const char *key, const tc__stat_duration *d, bool comma)
{
    (void)tc__buf_printf(b, "\"%s\":{\"count\":%" PRIu64 ",\"ns\":%" PRIu64 "}%s", key, d->count,
                         d->ns, comma ? "," : "");
}

static tc_code json_string(tc__buf *b, const char *s)
{
    json_object *o = json_object_new_string(s);
    if (o == NULL)
        return TC_E_NOMEM;
    tc_code rc = tc__buf_append_str(
        b,
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
    return rc;
}

static void put_model_stat(tc__buf *b, const tc__model_stats *s)
{
    (void)tc__buf_append_str(b, "{\"name\":");
    (void)json_string(b, s->name);
    (void)tc__buf_append_str(b, ",\"version\":");
    (void)json_string(b, s->version);
    (void)tc__buf_printf(b,
                         ",\"last_inference\":%" PRIu64 ",\"inference_count\":%" PRIu64
                         ",\"execution_count\":%" PRIu64 ",\"inference_stats\":{",
                         s->last_inference_ms, s->inference_count, s->execution_count);
    put_d(b, "success", &s->success, true);
    put_d(b, "fail", &s->fail, true);
    put_d(b, "queue", &s->queue, true);
    put_d(b, "compute_input", &s->compute_input, true);
    put_d(b, "compute_infer", &s->compute_infer, true);
    put_d(b, "compute_output", &s->compute_output, true);
    put_d(b, "cache_hit", &s->cache_hit, true);
    put_d(b, "cache_miss", &s->cache_miss, false);
    (void)tc__buf_append_str(b, "},\"response_stats\":{},\"batch_stats\":[");
    for (size_t i = 0; i < s->batch_count; i++) {
        const tc__batch_stat *bs = &s->batches[i];
        (void)tc__buf_printf(b, "%s{\"batch_size\":%" PRIu64 ",", i > 0 ? "," : "", bs->batch_size);
        put_d(b, "compute_input", &bs->compute_input, true);
        put_d(b, "compute_infer", &bs->compute_infer, true);
        put_d(b, "compute_output", &bs->compute_output, false);
        (void)tc__buf_append_str(b, "}");
    }
    (void)tc__buf_append_str(b, "],\"memory_usage\":[]}");
}

static tc__http_reply stats(tc__http_req *r)
{
    tc__model_stats *s = NULL;
    size_t n = 0;
    tc__error err;
    const char *model = r->route.kind == ROUTE_ALL_STATS ? NULL : r->route.model;
    if (tc__core_model_stats(r->srv->core, model, r->route.version, &s, &n, &err) != TC_OK)
        return from_err(&err);
    tc__buf json = TC__BUF_INIT;
    (void)tc__buf_append_str(&json, "{\"model_stats\":[");
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            (void)tc__buf_append_str(&json, ",");
        put_model_stat(&json, &s[i]);
    }
    tc_code rc = tc__buf_append_str(&json, "]}");
    tc__model_stats_free(s, n);
    tc__http_reply reply = rc == TC_OK ? tc__http_reply_json(&json) : nomem();
    tc__buf_cleanup(&json);
    return reply;
}

/* ---- repository ---------------------------------------------------------------------------- */

static tc__http_reply repo_index(tc__http_req *r, const uint8_t *body, size_t len)
{
    json_object *obj = NULL;
    tc__http_reply reply;
    if (!parse_body(body, len, &obj, &reply))
        return reply;
    bool ready = false;
    json_object *v = NULL;
    if (obj != NULL && json_object_object_get_ex(obj, "ready", &v)) {
        if (!json_object_is_type(v, json_type_boolean)) {
            json_object_put(obj);
            return tc__http_reply_status(400, "Unable to parse 'ready': expected a boolean");
        }
        ready = json_object_get_boolean(v);
    }
    json_object_put(obj);
    tc__repo_index idx;
    tc__error err;
    if (tc__core_repo_index(r->srv->core, ready, &idx, &err) != TC_OK)
        return from_err(&err);
    tc__buf json = TC__BUF_INIT;
    tc_code rc = tc__v2_repo_index_encode(&idx, &json);
    tc__repo_index_cleanup(&idx);
    reply = rc == TC_OK ? tc__http_reply_json(&json) : nomem();
    tc__buf_cleanup(&json);
    return reply;
}

typedef struct load_args {
    const char *config;
    size_t config_len;
    tc__load_file *files;
    tc__buf *decoded;
    size_t count;
} load_args;

static void load_args_cleanup(load_args *a)
{
    for (size_t i = 0; i < a->count; i++)
        tc__buf_cleanup(&a->decoded[i]);
    tc__free(a->files);
    tc__free(a->decoded);
}

static tc__http_reply collect_load_params(json_object *params, load_args *a)
{
    size_t n = (size_t)json_object_object_length(params);
    a->files = tc__calloc(n > 0 ? n : 1, sizeof *a->files);
    a->decoded = tc__calloc(n > 0 ? n : 1, sizeof *a->decoded);
    if (a->files == NULL || a->decoded == NULL)
        return nomem();
    char msg[300];
    json_object_object_foreach(params, key, val)
    {
        if (!json_object_is_type(val, json_type_string)) {
            (void)snprintf(msg, sizeof msg, "Unable to parse '%.200s': expected a string", key);
            return tc__http_reply_status(400, msg);
        }
        const char *s = json_object_get_string(val);
        size_t slen = (size_t)json_object_get_string_len(val);
        if (strcmp(key, "config") == 0) {
            a->config = s;
            a->config_len = slen;
        } else if (strncmp(key, "file:", 5) == 0) {
            tc__buf *d = &a->decoded[a->count];
            if (tc__base64_decode(s, slen, d) != TC_OK) {
                (void)snprintf(msg, sizeof msg, "failed to decode base64 content of '%.200s'", key);
                return tc__http_reply_status(400, msg);
            }
            a->files[a->count].path = key + 5;
            a->files[a->count].data = d->data;
            a->files[a->count].size = d->len;
            a->count++;
        } else {
            (void)snprintf(msg, sizeof msg,
                           "unexpected error on creating Triton parameter: unrecognized load "
                           "parameter '%.200s'",
                           key);
            return tc__http_reply_status(500, msg);
        }
    }
    tc__http_reply ok = {0, NULL};
    return ok;
}

static tc__http_reply repo_load(tc__http_req *r, const uint8_t *body, size_t len)
{
    json_object *obj = NULL;
    tc__http_reply reply;
    if (!parse_body(body, len, &obj, &reply))
        return reply;
    load_args a;
    memset(&a, 0, sizeof a);
    json_object *params = NULL;
    reply.response = NULL;
    reply.status = 0;
    if (obj != NULL && json_object_object_get_ex(obj, "parameters", &params) && params != NULL) {
        if (!json_object_is_type(params, json_type_object))
            reply = tc__http_reply_status(400, "Unable to parse 'parameters'");
        else
            reply = collect_load_params(params, &a);
    }
    if (reply.status == 0) {
        tc__error err;
        if (tc__core_model_load(r->srv->core, r->route.model, a.config, a.config_len, a.files,
                                a.count, &err) != TC_OK)
            reply = from_err(&err);
        else
            reply = tc__http_reply_empty(200);
    }
    load_args_cleanup(&a);
    json_object_put(obj);
    return reply;
}

static tc__http_reply repo_unload(tc__http_req *r, const uint8_t *body, size_t len)
{
    json_object *obj = NULL;
    tc__http_reply reply;
    if (!parse_body(body, len, &obj, &reply))
        return reply;
    bool dependents = false;
    json_object *params = NULL;
    json_object *v = NULL;
    if (obj != NULL && json_object_object_get_ex(obj, "parameters", &params) &&
        json_object_is_type(params, json_type_object) &&
        json_object_object_get_ex(params, "unload_dependents", &v)) {
        if (!json_object_is_type(v, json_type_boolean)) {
            json_object_put(obj);
            return tc__http_reply_status(400, "Unable to parse 'unload_dependents'");
        }
        dependents = json_object_get_boolean(v);
    }
    json_object_put(obj);
    tc__error err;
    if (tc__core_model_unload(r->srv->core, r->route.model, dependents, &err) != TC_OK)
        return from_err(&err);
    return tc__http_reply_empty(200);
}

tc__http_reply tc__http_handle(tc__http_req *r, const uint8_t *body, size_t len)
{
    tc__core *core = r->srv->core;
    switch (r->route.kind) {
    case ROUTE_HEALTH_LIVE:
        return tc__http_reply_empty(tc__core_is_live(core) ? 200 : 400);
    case ROUTE_HEALTH_READY:
        return tc__http_reply_empty(tc__core_is_ready(core) ? 200 : 400);
    case ROUTE_SERVER_META:
        return server_meta(r);
    case ROUTE_MODEL_META:
        return model_meta(r);
    case ROUTE_MODEL_READY:
        return model_ready(r);
    case ROUTE_MODEL_CONFIG:
        return model_config(r);
    case ROUTE_MODEL_STATS:
    case ROUTE_ALL_STATS:
        return stats(r);
    case ROUTE_REPO_INDEX:
        return repo_index(r, body, len);
    case ROUTE_REPO_LOAD:
        return repo_load(r, body, len);
    case ROUTE_REPO_UNLOAD:
        return repo_unload(r, body, len);
    case ROUTE_REPO_NAMED:
        return tc__http_reply_status(501, "'repository_name' specification is not supported");
    case ROUTE_SHM_STATUS:
    case ROUTE_SHM_REGISTER:
    case ROUTE_SHM_UNREGISTER:
        return tc__http_shm(r, body, len);
    case ROUTE_TRACE:
        return tc__http_trace(r, body, len);
    case ROUTE_LOGGING:
        return tc__http_logging(r, body, len);
    default:
        return tc__http_reply_status(404, "Not Found");
    }
}
