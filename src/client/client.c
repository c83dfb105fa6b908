/* The transport-neutral client: argument checks, last error, and dispatch
 * through the transport's vtable. Also header lists and load options. */
#include "client/client_internal.h"
#include "client/request_internal.h"
#include "client/result_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <tritonc/version.h>

#include "common/alloc.h"

const char *tc_library_version(void)
{
    return TC_VERSION_STRING;
}

tc_code tc__client_fail(tc_client *c, tc_code code, const char *fmt, ...)
{
    c->last.code = code;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(c->last.msg, sizeof c->last.msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        c->last.msg[0] = '\0';
    return code;
}

tc_code tc__client_fail_err(tc_client *c, const tc__error *err)
{
    c->last = *err;
    return err->code;
}

const char *tc_client_last_error(const tc_client *client)
{
    if (client == NULL)
        return "NULL client";
    return client->last.msg;
}

tc_code tc_client_free(tc_client *client)
{
    if (client == NULL)
        return TC_OK;
    if (client->vt->on_io_thread(client))
        return tc__client_fail(client, TC_E_BUSY,
                               "tc_client_free called from the client's own callback");
    client->vt->destroy(client);
    return TC_OK;
}

/* ---- header lists ---------------------------------------------------------- */

static bool has_crlf(const char *s)
{
    return strpbrk(s, "\r\n") != NULL;
}

tc_code tc__hlist_add(tc__hlist *l, const char *name, const char *value)
{
    if (l == NULL || name == NULL || value == NULL || name[0] == '\0' || has_crlf(name) ||
        has_crlf(value) || strchr(name, ':') != NULL)
        return TC_E_INVALID_ARG;
    tc__header h = {tc__strdup(name), tc__strdup(value)};
    tc__header *items = NULL;
    if (h.name != NULL && h.value != NULL)
        items = tc__reallocarray(l->items, l->count + 1, sizeof *items);
    if (items == NULL) {
        tc__free(h.name);
        tc__free(h.value);
        return TC_E_NOMEM;
    }
    items[l->count++] = h;
    l->items = items;
    return TC_OK;
}

tc_code tc__hlist_copy(tc__hlist *dst, const tc__hlist *src)
{
    for (size_t i = 0; src != NULL && i < src->count; i++) {
        tc_code rc = tc__hlist_add(dst, src->items[i].name, src->items[i].value);
        if (rc != TC_OK)
            return rc;
    }
    return TC_OK;
}

void tc__hlist_cleanup(tc__hlist *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->count; i++) {
        tc__free(l->items[i].name);
        tc__free(l->items[i].value);
    }
    tc__free(l->items);
    l->items = NULL;
    l->count = 0;
}

tc_code tc_headers_new(tc_headers **out)
{
    if (out == NULL)
        return TC_E_INVALID_ARG;
    *out = tc__calloc(1, sizeof **out);
    return *out == NULL ? TC_E_NOMEM : TC_OK;
}

void tc_headers_free(tc_headers *headers)
{
    if (headers == NULL)
        return;
    tc__hlist_cleanup(&headers->list);
    tc__free(headers);
}

tc_code tc_headers_add(tc_headers *headers, const char *name, const char *value)
{
    if (headers == NULL)
        return TC_E_INVALID_ARG;
    return tc__hlist_add(&headers->list, name, value);
}

static const tc__hlist *hl(const tc_headers *h)
{
    return h == NULL ? NULL : &h->list;
}

void tc_string_free(char *str)
{
    tc__free(str);
}

/* ---- load options ---------------------------------------------------------- */

tc_code tc_load_options_new(tc_load_options **out)
{
    if (out == NULL)
        return TC_E_INVALID_ARG;
    *out = tc__calloc(1, sizeof **out);
    return *out == NULL ? TC_E_NOMEM : TC_OK;
}

void tc_load_options_free(tc_load_options *opts)
{
    if (opts == NULL)
        return;
    for (size_t i = 0; i < opts->files.count; i++)
        tc__free(opts->blobs[i].data);
    tc__free(opts->blobs);
    tc__hlist_cleanup(&opts->files);
    tc__free(opts->config_json);
    tc__free(opts);
}

tc_code tc_load_options_set_config(tc_load_options *opts, const char *config_json)
{
    if (opts == NULL)
        return TC_E_INVALID_ARG;
    char *copy = NULL;
    if (config_json != NULL) {
        copy = tc__strdup(config_json);
        if (copy == NULL)
            return TC_E_NOMEM;
    }
    tc__free(opts->config_json);
    opts->config_json = copy;
    return TC_OK;
}

tc_code tc_load_options_add_file(tc_load_options *opts, const char *path, const void *data,
                                 size_t size)
{
    if (opts == NULL || path == NULL || path[0] == '\0' || (data == NULL && size > 0))
        return TC_E_INVALID_ARG;
    size_t n = opts->files.count + 1;
    struct tc__load_file *blobs = tc__reallocarray(opts->blobs, n, sizeof *blobs);
    if (blobs == NULL)
        return TC_E_NOMEM;
    opts->blobs = blobs;
    uint8_t *copy = tc__memdup(data, size);
    if (copy == NULL)
        return TC_E_NOMEM;
    tc_code rc = tc__hlist_add(&opts->files, path, "");
    if (rc != TC_OK) {
        tc__free(copy);
        return rc;
    }
    blobs[n - 1].data = copy;
    blobs[n - 1].size = size;
    return TC_OK;
}

/* ---- dispatch ---------------------------------------------------------------- */

/* Common entry: reject NULL client, reset the last error. */
#define ENTER(c)                                                                                   \
    do {                                                                                           \
        if ((c) == NULL)                                                                           \
            return TC_E_INVALID_ARG;                                                               \
        tc__error_clear(&(c)->last);                                                               \
    } while (0)

static tc_code bad_arg(tc_client *c, const char *what)
{
    return tc__client_fail(c, TC_E_INVALID_ARG, "invalid argument: %s", what);
}

static bool empty(const char *s)
{
    return s == NULL || s[0] == '\0';
}

tc_code tc_client_is_server_live(tc_client *client, const tc_headers *headers, bool *live)
{
    ENTER(client);
    if (live == NULL)
        return bad_arg(client, "live is NULL");
    return client->vt->health(client, TC__HEALTH_LIVE, NULL, NULL, hl(headers), live);
}

tc_code tc_client_is_server_ready(tc_client *client, const tc_headers *headers, bool *ready)
{
    ENTER(client);
    if (ready == NULL)
        return bad_arg(client, "ready is NULL");
    return client->vt->health(client, TC__HEALTH_READY, NULL, NULL, hl(headers), ready);
}

tc_code tc_client_is_model_ready(tc_client *client, const char *model, const char *version,
                                 const tc_headers *headers, bool *ready)
{
    ENTER(client);
    if (ready == NULL || empty(model))
        return bad_arg(client, "model is empty or ready is NULL");
    return client->vt->health(client, TC__HEALTH_MODEL, model, version, hl(headers), ready);
}

tc_code tc_client_server_metadata(tc_client *client, const tc_headers *headers,
                                  tc_server_metadata **out)
{
    ENTER(client);
    if (out == NULL)
        return bad_arg(client, "out is NULL");
    *out = NULL;
    return client->vt->server_metadata(client, hl(headers), out);
}

tc_code tc_client_model_metadata(tc_client *client, const char *model, const char *version,
                                 const tc_headers *headers, tc_model_metadata **out)
{
    ENTER(client);
    if (out == NULL || empty(model))
        return bad_arg(client, "model is empty or out is NULL");
    *out = NULL;
    return client->vt->model_metadata(client, model, version, hl(headers), out);
}

static tc_code document(tc_client *c, int which, const char *model, const char *version,
                        const char *body, const tc_headers *h, char **json)
{
    if (json != NULL)
        *json = NULL;
    return c->vt->document(c, which, model, version, body, hl(h), json);
}

tc_code tc_client_model_config(tc_client *client, const char *model, const char *version,
                               const tc_headers *headers, char **json)
{
    ENTER(client);
    if (json == NULL || empty(model))
        return bad_arg(client, "model is empty or json is NULL");
    return document(client, TC__DOC_MODEL_CONFIG, model, version, NULL, headers, json);
}

tc_code tc_client_model_statistics(tc_client *client, const char *model, const char *version,
                                   const tc_headers *headers, char **json)
{
    ENTER(client);
    if (json == NULL || (empty(model) && !empty(version)))
        return bad_arg(client, "json is NULL or version without model");
    return document(client, TC__DOC_STATISTICS, model, version, NULL, headers, json);
}

tc_code tc_client_get_trace_settings(tc_client *client, const char *model,
                                     const tc_headers *headers, char **json)
{
    ENTER(client);
    if (json == NULL)
        return bad_arg(client, "json is NULL");
    return document(client, TC__DOC_TRACE_GET, model, NULL, NULL, headers, json);
}

tc_code tc_client_update_trace_settings(tc_client *client, const char *model,
                                        const char *settings_json, const tc_headers *headers,
                                        char **json)
{
    ENTER(client);
    if (settings_json == NULL)
        return bad_arg(client, "settings_json is NULL");
    return document(client, TC__DOC_TRACE_UPDATE, model, NULL, settings_json, headers, json);
}

tc_code tc_client_get_log_settings(tc_client *client, const tc_headers *headers, char **json)
{
    ENTER(client);
    if (json == NULL)
        return bad_arg(client, "json is NULL");
    return document(client, TC__DOC_LOG_GET, NULL, NULL, NULL, headers, json);
}

tc_code tc_client_update_log_settings(tc_client *client, const char *settings_json,
                                      const tc_headers *headers, char **json)
{
    ENTER(client);
    if (settings_json == NULL)
        return bad_arg(client, "settings_json is NULL");
    return document(client, TC__DOC_LOG_UPDATE, NULL, NULL, settings_json, headers, json);
}

tc_code tc_client_repository_index(tc_client *client, bool ready_only, const tc_headers *headers,
                                   tc_repository_index **out)
{
    ENTER(client);
    if (out == NULL)
        return bad_arg(client, "out is NULL");
    *out = NULL;
    return client->vt->repository_index(client, ready_only, hl(headers), out);
}

tc_code tc_client_load_model(tc_client *client, const char *model, const tc_load_options *opts,
                             const tc_headers *headers)
{
    ENTER(client);
    if (empty(model))
        return bad_arg(client, "model is empty");
    if (opts != NULL && opts->files.count > 0 && opts->config_json == NULL)
        return bad_arg(client, "file overrides need a config override");
    return client->vt->load(client, model, opts, hl(headers));
}

tc_code tc_client_unload_model(tc_client *client, const char *model, bool unload_dependents,
                               const tc_headers *headers)
{
    ENTER(client);
    if (empty(model))
        return bad_arg(client, "model is empty");
    return client->vt->unload(client, model, unload_dependents, hl(headers));
}

tc_code tc_client_infer(tc_client *client, const tc_request *req, tc_result **result)
{
    if (result != NULL)
        *result = NULL;
    ENTER(client);
    if (req == NULL || result == NULL)
        return bad_arg(client, "req or result is NULL");
    tc_code rc = client->vt->infer(client, req, result);
    tc__result_note_shm(*result, &req->base);
    return rc;
}

tc_code tc_client_infer_async(tc_client *client, const tc_request *req, tc_infer_cb cb,
                              void *user_data)
{
    ENTER(client);
    if (req == NULL || cb == NULL)
        return bad_arg(client, "req or cb is NULL");
    void *wrap;
    if (tc__shm_async_wrap(req, &cb, &user_data, &wrap) != TC_OK)
        return tc__client_fail(client, TC_E_NOMEM, "out of memory");
    tc_code rc = client->vt->infer_async(client, req, cb, user_data);
    if (rc != TC_OK)
        tc__shm_async_unwrap(wrap);
    return rc;
}

tc_code tc_client_infer_async_id(tc_client *client, const tc_request *req, tc_infer_cb cb,
                                 void *user_data, uint64_t *call_id)
{
    ENTER(client);
    if (req == NULL || cb == NULL)
        return bad_arg(client, "req or cb is NULL");
    void *wrap;
    if (tc__shm_async_wrap(req, &cb, &user_data, &wrap) != TC_OK)
        return tc__client_fail(client, TC_E_NOMEM, "out of memory");
    tc_code rc;
    if (client->vt->infer_async_id != NULL) {
        rc = client->vt->infer_async_id(client, req, cb, user_data, call_id);
    } else {
        rc = client->vt->infer_async(client, req, cb, user_data);
        if (rc == TC_OK && call_id != NULL)
            *call_id = ++client->next_call_id;
    }
    if (rc != TC_OK)
        tc__shm_async_unwrap(wrap);
    return rc;
}

tc_code tc_client_cancel(tc_client *client, uint64_t call_id)
{
    /* Thread-safe: does not touch the last error. */
    if (client == NULL || call_id == 0)
        return TC_E_INVALID_ARG;
    if (client->vt->cancel == NULL)
        return TC_E_NOT_SUPPORTED;
    return client->vt->cancel(client, call_id);
}

tc_code tc_client_stream_start(tc_client *client, tc_stream_cb cb, void *user_data,
                               const tc_headers *headers, tc_stream **out)
{
    if (out != NULL)
        *out = NULL;
    ENTER(client);
    if (cb == NULL || out == NULL)
        return bad_arg(client, "cb or out is NULL");
    if (client->vt->stream_start == NULL)
        return tc__client_fail(client, TC_E_NOT_SUPPORTED,
                               "streams need a gRPC client");
    return client->vt->stream_start(client, cb, user_data, hl(headers), out);
}
