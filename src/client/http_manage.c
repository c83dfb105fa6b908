/* HTTP management calls: health, metadata, config, statistics, repository,
 * trace and log settings (HTTP.md sections 2-5, 9, 10, 13, 14). Each is one
 * sync exchange on the client's keep-alive handle. */
#include "client/http_internal.h"

#include <string.h>

#include "client/metadata_internal.h"
#include "common/alloc.h"
#include "common/base64.h"
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
