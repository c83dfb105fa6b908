/* HTTP management calls: health, metadata, config, statistics, repository,
 * trace and log settings (HTTP.md sections 2-5, 9, 10, 13, 14). Each is one
 * sync exchange on the client's keep-alive handle. */
#include "client/http_internal.h"

#include <string.h>

#include "client/metadata_internal.h"
#include "common/alloc.h"
#include "common/base64.h"
#include "proto/json_lite.h"
#include "proto/v2_json.h"

/* One management exchange: URL built by the caller, optional body. */
typedef struct call {
    tc__buf url;
    bool post;
    const char *body; /* NUL-terminated; NULL = empty */
    size_t body_len;
    long status;
    tc__buf resp; /* response body, taken from the transfer */
} call;

#define CALL_INIT                                                                                  \
    {                                                                                              \
        TC__BUF_INIT, false, NULL, 0, 0, TC__BUF_INIT                                              \
    }

static void call_cleanup(call *k)
{
    tc__buf_cleanup(&k->url);
    tc__buf_cleanup(&k->resp);
}

/* Perform `k`. TC_OK when any HTTP answer arrived; errors go to the client. */
static tc_code run(tc__http_client *hc, call *k, const tc__hlist *h)
{
    tc__error err;
    tc__error_clear(&err);
    tc__xfer *x = tc__calloc(1, sizeof *x);
    tc_code rc = x == NULL ? TC_E_NOMEM : TC_OK;
    if (rc == TC_OK)
        rc = tc__http_common_headers(hc, x, h);
    if (rc == TC_OK && k->post) {
        x->post = true;
        struct curl_slist *l = curl_slist_append(x->headers, "Content-Type: application/json");
        if (l == NULL)
            rc = TC_E_NOMEM;
        else
            x->headers = l;
        if (rc == TC_OK && k->body != NULL)
            rc = tc__buf_append(&x->body, k->body, k->body_len);
    }
    if (rc != TC_OK) {
        tc__error_set(&err, rc, "cannot build the request: %s", tc_code_str(rc));
        goto out;
    }
    x->url = (char *)k->url.data;
    x->timeout_us = hc->opts.network_timeout_us;
    rc = tc__http_perform(hc, x, &k->status, &err);
    x->url = NULL; /* still owned by k */
    if (rc == TC_OK) {
        k->resp = x->resp;
        memset(&x->resp, 0, sizeof x->resp);
    }
out:
    tc__xfer_free(hc, x);
    if (rc != TC_OK)
        tc__client_fail_err(&hc->base, &err);
    return rc;
}

/* Turn a non-2xx answer into the client's error (the server's text unchanged). */
static tc_code check(tc__http_client *hc, const call *k)
{
    if (k->status >= 200 && k->status < 300)
        return TC_OK;
    tc__error err;
    tc__error_clear(&err);
    tc_code code = tc__code_from_http_status(k->status);
    tc__v2_error_decode(k->resp.data, k->resp.len, code, &err);
    err.code = code;
    if (err.msg[0] == '\0')
        tc__error_set(&err, code, "HTTP status %ld", k->status);
    return tc__client_fail_err(&hc->base, &err);
}

static tc_code exchange(tc__http_client *hc, call *k, const tc__hlist *h)
{
    tc_code rc = run(hc, k, h);
    return rc == TC_OK ? check(hc, k) : rc;
}

static tc_code url_model(tc__http_client *hc, call *k, const char *model, const char *version,
                         const char *suffix)
{
    tc_code rc = tc__buf_printf(&k->url, "%s/v2/models/", hc->base_url);
    if (rc == TC_OK)
        rc = tc__http_append_escaped(&k->url, model);
    if (rc == TC_OK && version != NULL && version[0] != '\0') {
        rc = tc__buf_append_str(&k->url, "/versions/");
        if (rc == TC_OK)
            rc = tc__http_append_escaped(&k->url, version);
    }
    if (rc == TC_OK)
        rc = tc__buf_append_str(&k->url, suffix);
    if (rc != TC_OK)
        tc__client_fail(&hc->base, rc, "out of memory");
    return rc;
}

static tc_code url_path(tc__http_client *hc, call *k, const char *path)
{
    tc_code rc = tc__buf_printf(&k->url, "%s%s", hc->base_url, path);
    if (rc != TC_OK)
        tc__client_fail(&hc->base, rc, "out of memory");
    return rc;
}

static tc_code decode_failed(tc__http_client *hc, tc_code rc, const tc__error *err)
{
    tc__error e = *err;
    e.code = rc == TC_E_NOMEM ? TC_E_NOMEM : TC_E_PROTOCOL;
    if (e.msg[0] == '\0')
        tc__error_set(&e, e.code, "unparsable answer from the server");
    return tc__client_fail_err(&hc->base, &e);
}

tc_code tc__http_health(tc_client *c, int which, const char *model, const char *version,
                        const tc__hlist *h, bool *ok)
{
    tc__http_client *hc = (tc__http_client *)c;
    call k = CALL_INIT;
    tc_code rc;
    if (which == TC__HEALTH_MODEL)
        rc = url_model(hc, &k, model, version, "/ready");
    else
        rc = url_path(hc, &k, which == TC__HEALTH_LIVE ? "/v2/health/live" : "/v2/health/ready");
    if (rc == TC_OK)
        rc = run(hc, &k, h);
    if (rc == TC_OK) {
        /* 400 and 503 are the protocol's "no"; anything else unexpected is an error. */
        *ok = k.status == 200;
        if (k.status != 200 && k.status != 400 && k.status != 503)
            rc = check(hc, &k);
    }
    call_cleanup(&k);
    return rc;
}

tc_code tc__http_server_metadata(tc_client *c, const tc__hlist *h, tc_server_metadata **out)
{
    tc__http_client *hc = (tc__http_client *)c;
    call k = CALL_INIT;
    tc_server_metadata *m = NULL;
    tc__error err;
    tc__error_clear(&err);
    tc_code rc = url_path(hc, &k, "/v2");
    if (rc == TC_OK)
        rc = exchange(hc, &k, h);
    if (rc != TC_OK)
        goto out;
    m = tc__calloc(1, sizeof *m);
    if (m == NULL) {
        rc = tc__client_fail(c, TC_E_NOMEM, "out of memory");
        goto out;
    }
    rc = tc__v2_server_metadata_decode(k.resp.data, k.resp.len, &m->m, &err);
    if (rc != TC_OK) {
        rc = decode_failed(hc, rc, &err);
        goto out;
    }
    *out = m;
    m = NULL;
out:
    tc__free(m);
    call_cleanup(&k);
    return rc;
}

tc_code tc__http_model_metadata(tc_client *c, const char *model, const char *version,
                                const tc__hlist *h, tc_model_metadata **out)
{
    tc__http_client *hc = (tc__http_client *)c;
    call k = CALL_INIT;
    tc_model_metadata *m = NULL;
    tc__error err;
    tc__error_clear(&err);
    tc_code rc = url_model(hc, &k, model, version, "");
    if (rc == TC_OK)
        rc = exchange(hc, &k, h);
    if (rc != TC_OK)
        goto out;
    m = tc__calloc(1, sizeof *m);
    if (m == NULL) {
        rc = tc__client_fail(c, TC_E_NOMEM, "out of memory");
        goto out;
    }
    rc = tc__v2_model_metadata_decode(k.resp.data, k.resp.len, &m->m, &err);
    if (rc != TC_OK) {
        rc = decode_failed(hc, rc, &err);
        goto out;
    }
    *out = m;
    m = NULL;
out:
    tc__free(m);
    call_cleanup(&k);
    return rc;
}

static tc_code document_url(tc__http_client *hc, call *k, int which, const char *model,
                            const char *version)
{
    bool has_model = model != NULL && model[0] != '\0';
    switch (which) {
    case TC__DOC_MODEL_CONFIG:
        return url_model(hc, k, model, version, "/config");
    case TC__DOC_STATISTICS:
        return has_model ? url_model(hc, k, model, version, "/stats")
                         : url_path(hc, k, "/v2/models/stats");
    case TC__DOC_TRACE_GET:
    case TC__DOC_TRACE_UPDATE:
        return has_model ? url_model(hc, k, model, NULL, "/trace/setting")
                         : url_path(hc, k, "/v2/trace/setting");
    default:
        return url_path(hc, k, "/v2/logging");
    }
}

tc_code tc__http_document(tc_client *c, int which, const char *model, const char *version,
                          const char *body, const tc__hlist *h, char **json)
{
    tc__http_client *hc = (tc__http_client *)c;
    call k = CALL_INIT;
    tc_code rc = document_url(hc, &k, which, model, version);
    if (body != NULL) {
        k.post = true;
        k.body = body;
        k.body_len = strlen(body);
    }
    if (rc == TC_OK)
        rc = exchange(hc, &k, h);
    if (rc == TC_OK && json != NULL) {
        /* An all-default model config is served as an empty body: say {}. */
        if (k.resp.len == 0)
            rc = tc__buf_append_str(&k.resp, which == TC__DOC_MODEL_CONFIG ? "{}" : "");
        if (rc == TC_OK)
            *json = (char *)tc__buf_steal(&k.resp, NULL);
        else
            tc__client_fail(c, rc, "out of memory");
    }
    call_cleanup(&k);
    return rc;
}

tc_code tc__http_repository_index(tc_client *c, bool ready_only, const tc__hlist *h,
                                  tc_repository_index **out)
{
    tc__http_client *hc = (tc__http_client *)c;
    call k = CALL_INIT;
    tc_repository_index *idx = NULL;
    tc__error err;
    tc__error_clear(&err);
    tc_code rc = url_path(hc, &k, "/v2/repository/index");
    k.post = true;
    if (ready_only) {
        k.body = "{\"ready\":true}";
        k.body_len = strlen(k.body);
    }
    if (rc == TC_OK)
        rc = exchange(hc, &k, h);
    if (rc != TC_OK)
        goto out;
    idx = tc__calloc(1, sizeof *idx);
    if (idx == NULL) {
        rc = tc__client_fail(c, TC_E_NOMEM, "out of memory");
        goto out;
    }
    rc = tc__v2_repo_index_decode(k.resp.data, k.resp.len, &idx->idx, &err);
    if (rc != TC_OK) {
        rc = decode_failed(hc, rc, &err);
        goto out;
    }
    *out = idx;
    idx = NULL;
out:
    tc__free(idx);
    call_cleanup(&k);
    return rc;
}

/* Append `s` as a JSON string literal. */
static tc_code json_string(tc__buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    tc_code rc = tc__buf_append(b, "\"", 1);
    for (size_t i = 0; rc == TC_OK && i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\') {
            char esc[2] = {'\\', (char)ch};
            rc = tc__buf_append(b, esc, 2);
        } else if (ch < 0x20) {
            char esc[6] = {'\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15]};
            rc = tc__buf_append(b, esc, 6);
        } else {
            rc = tc__buf_append(b, &s[i], 1);
        }
    }
    if (rc == TC_OK)
        rc = tc__buf_append(b, "\"", 1);
    return rc;
}

/* {"parameters":{"config":"...","file:<path>":"<base64>",...}} */
static tc_code load_body(const tc_load_options *o, tc__buf *b)
{
    tc_code rc = tc__buf_append_str(b, "{\"parameters\":{");
    bool first = true;
    if (rc == TC_OK && o->config_json != NULL) {
        rc = tc__buf_append_str(b, "\"config\":");
        if (rc == TC_OK)
            rc = json_string(b, o->config_json, strlen(o->config_json));
        first = false;
    }
    for (size_t i = 0; rc == TC_OK && i < o->files.count; i++) {
        tc__buf key = TC__BUF_INIT;
        tc__buf b64 = TC__BUF_INIT;
        rc = tc__buf_printf(&key, "file:%s", o->files.items[i].name);
        if (rc == TC_OK)
            rc = tc__base64_encode(o->blobs[i].data, o->blobs[i].size, &b64);
        if (rc == TC_OK)
            rc = tc__buf_append_str(b, first ? "" : ",");
        if (rc == TC_OK)
            rc = json_string(b, (const char *)key.data, key.len);
        if (rc == TC_OK)
            rc = tc__buf_append_str(b, ":");
        if (rc == TC_OK)
            rc = json_string(b, b64.data != NULL ? (const char *)b64.data : "", b64.len);
        first = false;
        tc__buf_cleanup(&key);
        tc__buf_cleanup(&b64);
    }
    if (rc == TC_OK)
        rc = tc__buf_append_str(b, "}}");
    return rc;
}

tc_code tc__http_load(tc_client *c, const char *model, const tc_load_options *o, const tc__hlist *h)
{
    tc__http_client *hc = (tc__http_client *)c;
    call k = CALL_INIT;
    tc__buf body = TC__BUF_INIT;
    tc_code rc = tc__buf_printf(&k.url, "%s/v2/repository/models/", hc->base_url);
    if (rc == TC_OK)
        rc = tc__http_append_escaped(&k.url, model);
    if (rc == TC_OK)
        rc = tc__buf_append_str(&k.url, "/load");
    if (rc == TC_OK && o != NULL && (o->config_json != NULL || o->files.count > 0))
        rc = load_body(o, &body);
    if (rc != TC_OK) {
        tc__client_fail(c, rc, "cannot build the request: %s", tc_code_str(rc));
        goto out;
    }
    k.post = true;
    k.body = (const char *)body.data;
    k.body_len = body.len;
    rc = exchange(hc, &k, h);
out:
    tc__buf_cleanup(&body);
    call_cleanup(&k);
    return rc;
}

tc_code tc__http_unload(tc_client *c, const char *model, bool dependents, const tc__hlist *h)
{
    tc__http_client *hc = (tc__http_client *)c;
    call k = CALL_INIT;
    tc_code rc = tc__buf_printf(&k.url, "%s/v2/repository/models/", hc->base_url);
    if (rc == TC_OK)
        rc = tc__http_append_escaped(&k.url, model);
    if (rc == TC_OK)
        rc = tc__buf_append_str(&k.url, "/unload");
    if (rc != TC_OK) {
        call_cleanup(&k);
        return tc__client_fail(c, rc, "out of memory");
    }
    k.post = true;
    k.body = dependents ? "{\"parameters\":{\"unload_dependents\":true}}"
                        : "{\"parameters\":{\"unload_dependents\":false}}";
    k.body_len = strlen(k.body);
    rc = exchange(hc, &k, h);
    call_cleanup(&k);
    return rc;
}

/* ---- shared memory (HTTP.md sections 11 and 12) ----------------------------------- */

/* {base}/v2/{system|cuda}sharedmemory[/region/{name}]{suffix} */
static tc_code url_shm(tc__http_client *hc, call *k, int kind, const char *name, const char *suffix)
{
    tc_code rc = tc__buf_printf(&k->url, "%s/v2/%ssharedmemory", hc->base_url,
                                kind == TC__SHM_CUDA ? "cuda" : "system");
    if (rc == TC_OK && name != NULL) {
        rc = tc__buf_append_str(&k->url, "/region/");
        if (rc == TC_OK)
            rc = tc__http_append_escaped(&k->url, name);
    }
    if (rc == TC_OK)
        rc = tc__buf_append_str(&k->url, suffix);
    if (rc != TC_OK)
        tc__client_fail(&hc->base, rc, "out of memory");
    return rc;
}

/* The register body, member order as the upstream clients write it. */
static tc_code shm_register_body(int kind, const tc__shm_reg *reg, tc__buf *b)
{
    if (kind == TC__SHM_SYSTEM) {
        tc_code rc = tc__buf_append_str(b, "{\"key\":");
        if (rc == TC_OK)
            rc = json_string(b, reg->key, strlen(reg->key));
        if (rc == TC_OK)
            rc =
                tc__buf_printf(b, ",\"offset\":%llu,\"byte_size\":%llu}",
                               (unsigned long long)reg->offset, (unsigned long long)reg->byte_size);
        return rc;
    }
    tc__buf b64 = TC__BUF_INIT;
    tc_code rc = tc__base64_encode(reg->raw_handle, TC_CUDA_IPC_HANDLE_SIZE, &b64);
    if (rc == TC_OK)
        rc = tc__buf_append_str(b, "{\"raw_handle\":{\"b64\":");
    if (rc == TC_OK)
        rc = json_string(b, (const char *)b64.data, b64.len);
    if (rc == TC_OK)
        rc = tc__buf_printf(b, "},\"device_id\":%lld,\"byte_size\":%llu}",
                            (long long)reg->device_id, (unsigned long long)reg->byte_size);
    tc__buf_cleanup(&b64);
    return rc;
}

tc_code tc__http_shm_register(tc_client *c, int kind, const tc__shm_reg *reg, const tc__hlist *h)
{
    tc__http_client *hc = (tc__http_client *)c;
    call k = CALL_INIT;
    tc__buf body = TC__BUF_INIT;
    tc_code rc = url_shm(hc, &k, kind, reg->name, "/register");
    if (rc == TC_OK) {
        rc = shm_register_body(kind, reg, &body);
        if (rc != TC_OK)
            tc__client_fail(c, rc, "out of memory");
    }
    if (rc == TC_OK) {
        k.post = true;
        k.body = (const char *)body.data;
        k.body_len = body.len;
        rc = exchange(hc, &k, h);
    }
    tc__buf_cleanup(&body);
    call_cleanup(&k);
    return rc;
}

tc_code tc__http_shm_unregister(tc_client *c, int kind, const char *name, const tc__hlist *h)
{
    tc__http_client *hc = (tc__http_client *)c;
    call k = CALL_INIT;
    tc_code rc = url_shm(hc, &k, kind, name, "/unregister");
    k.post = true;
    if (rc == TC_OK)
        rc = exchange(hc, &k, h);
    call_cleanup(&k);
    return rc;
}

/* One status entry: {"name","key","offset","byte_size"} or {"name","device_id","byte_size"}. */
static bool shm_entry(const tc__jl_value *e, int kind, tc_shm_status *st, tc_code *rc)
{
    const tc__jl_value *name = tc__jl_get(e, "name");
    const tc__jl_value *key = tc__jl_get(e, "key");
    uint64_t offset = 0;
    uint64_t size = 0;
    int64_t device = -1;
    if (!tc__jl_is(name, TC__JL_STRING) || !tc__jl_u64(tc__jl_get(e, "byte_size"), &size))
        return false;
    if (kind == TC__SHM_SYSTEM) {
        if (!tc__jl_is(key, TC__JL_STRING))
            return false;
        const tc__jl_value *off = tc__jl_get(e, "offset");
        if (off != NULL && !tc__jl_u64(off, &offset))
            return false;
    } else if (!tc__jl_i64(tc__jl_get(e, "device_id"), &device)) {
        return false;
    }
    *rc = tc__shm_status_add(st, name->v.s, kind == TC__SHM_SYSTEM ? key->v.s : "", offset, size,
                             device);
    return true;
}

static tc_code shm_status_decode(const tc__buf *body, int kind, tc_shm_status *st, tc__error *err)
{
    tc__jl_doc *doc = NULL;
    const char *text = body->data != NULL ? (const char *)body->data : "";
    tc__jl_status js = tc__jl_parse(text, body->len, 8, 0, &doc, NULL);
    if (js != TC__JL_OK)
        return tc__error_set(err, js == TC__JL_E_NOMEM ? TC_E_NOMEM : TC_E_PROTOCOL,
                             "invalid shared memory status: %s", tc__jl_status_str(js));
    tc_code rc = TC_OK;
    const tc__jl_value *root = tc__jl_root(doc);
    if (!tc__jl_is(root, TC__JL_ARRAY))
        rc = tc__error_set(err, TC_E_PROTOCOL, "invalid shared memory status: not an array");
    for (const tc__jl_value *e = rc == TC_OK ? tc__jl_first(root) : NULL; e != NULL && rc == TC_OK;
         e = tc__jl_next(root, e)) {
        if (!shm_entry(e, kind, st, &rc))
            rc = tc__error_set(err, TC_E_PROTOCOL, "invalid shared memory status entry");
        else if (rc != TC_OK)
            rc = tc__error_set(err, rc, "out of memory");
    }
    tc__jl_free(doc);
    return rc;
}

tc_code tc__http_shm_status(tc_client *c, int kind, const char *name, const tc__hlist *h,
                            tc_shm_status **out)
{
    tc__http_client *hc = (tc__http_client *)c;
    call k = CALL_INIT;
    tc_shm_status *st = NULL;
    tc__error err;
    tc__error_clear(&err);
    tc_code rc = url_shm(hc, &k, kind, name, "/status");
    if (rc == TC_OK)
        rc = exchange(hc, &k, h);
    if (rc != TC_OK)
        goto out;
    st = tc__calloc(1, sizeof *st);
    if (st == NULL) {
        rc = tc__client_fail(c, TC_E_NOMEM, "out of memory");
        goto out;
    }
    rc = shm_status_decode(&k.resp, kind, st, &err);
    if (rc != TC_OK) {
        rc = decode_failed(hc, rc, &err);
        goto out;
    }
    *out = st;
    st = NULL;
out:
    tc_shm_status_free(st);
    call_cleanup(&k);
    return rc;
}
