/* System and CUDA shared-memory endpoints (HTTP.md sections 11 and 12):
 * status, register, unregister, over the core's region registry. */
#include <errno.h>
#include <inttypes.h>
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/base64.h"
#include "frontend/http/http_internal.h"

#define SHM_DISABLED                                                                               \
    "Client shared memory is disabled. Start the server with '--allow-client-shm=true' to "        \
    "enable."

static tc__http_reply from_err(const tc__error *err)
{
    return tc__http_reply_error(err->code != TC_OK ? err->code : TC_E_INTERNAL, err->msg);
}

static tc__http_reply nomem(void)
{
    return tc__http_reply_status(500, "out of memory");
}

static void put_string(tc__buf *b, const char *s)
{
    json_object *o = json_object_new_string(s);
    if (o == NULL) {
        (void)tc__buf_append_str(b, "\"\"");
        return;
    }
    (void)tc__buf_append_str(b, json_object_to_json_string_ext(
                                    o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
}

static tc__http_reply status(tc__http_req *r, tc__shm_kind kind)
{
    tc__shm_status *s = NULL;
    size_t n = 0;
    tc__error err;
    tc__error_clear(&err);
    if (tc__core_shm_status(r->srv->core, kind, r->route.region, &s, &n, &err) != TC_OK)
        return from_err(&err);
    tc__buf json = TC__BUF_INIT;
    (void)tc__buf_append_str(&json, "[");
    for (size_t i = 0; i < n; i++) {
        (void)tc__buf_append_str(&json, i > 0 ? ",{\"name\":" : "{\"name\":");
        put_string(&json, s[i].name);
        if (kind == TC__SHM_SYSTEM) {
            (void)tc__buf_append_str(&json, ",\"key\":");
            put_string(&json, s[i].key);
            (void)tc__buf_printf(&json, ",\"offset\":%" PRIu64, s[i].offset);
        } else {
            (void)tc__buf_printf(&json, ",\"device_id\":%" PRId64, s[i].device_id);
        }
        (void)tc__buf_printf(&json, ",\"byte_size\":%" PRIu64 "}", s[i].byte_size);
    }
    tc_code rc = tc__buf_append_str(&json, "]");
    tc__shm_status_free(s, n);
    tc__http_reply reply = rc == TC_OK ? tc__http_reply_json(&json) : nomem();
    tc__buf_cleanup(&json);
    return reply;
}

/* The JSON object body; an error reply otherwise (an empty body is a parse error). */
static bool parse_object(const uint8_t *body, size_t len, json_object **out, tc__http_reply *reply)
{
    *out = NULL;
    if (len > INT32_MAX) {
        *reply = tc__http_reply_status(400, "failed to parse the request JSON buffer: too large");
        return false;
    }
    json_tokener *tok = json_tokener_new();
    if (tok == NULL) {
        *reply = nomem();
        return false;
    }
    json_object *obj = len > 0 ? json_tokener_parse_ex(tok, (const char *)body, (int)len) : NULL;
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = len > 0 ? json_tokener_get_parse_end(tok) : 0;
    json_tokener_free(tok);
    /* Trailing whitespace is fine, anything else after the value is not. */
    while (obj != NULL && end < len &&
           (body[end] == ' ' || body[end] == '\n' || body[end] == '\r' || body[end] == '\t'))
        end++;
    if (obj == NULL || jerr != json_tokener_success || end != len ||
        !json_object_is_type(obj, json_type_object)) {
        char msg[256];
        (void)snprintf(msg, sizeof msg, "failed to parse the request JSON buffer: %s at %zu",
                       len == 0      ? "The document is empty."
                       : obj == NULL ? json_tokener_error_desc(jerr)
                       : end != len  ? "The document root must not be followed by other values."
                                     : "expected a JSON object",
                       end);
        json_object_put(obj);
        *reply = tc__http_reply_status(400, msg);
        return false;
    }
    *out = obj;
    return true;
}

/* A JSON unsigned integer; anything else (negative, fractional, string,
 * beyond 64 bits) is a JSON-level error: 500 as upstream reports it. */
static bool get_u64(json_object *v, const char *key, uint64_t *out, tc__http_reply *reply)
{
    const char *text = json_object_is_type(v, json_type_int) ? json_object_to_json_string(v) : NULL;
    char *end = NULL;
    errno = 0;
    unsigned long long n = text != NULL && text[0] != '-' ? strtoull(text, &end, 10) : 0;
    if (text == NULL || text[0] == '-' || end == text || *end != '\0' || errno != 0) {
        char msg[160];
        (void)snprintf(msg, sizeof msg, "Unable to parse '%s': expected an unsigned integer", key);
        *reply = tc__http_reply_status(500, msg);
        return false;
    }
    *out = n;
    return true;
}

static tc__http_reply register_system(tc__http_req *r, json_object *obj)
{
    json_object *key = NULL;
    json_object *v = NULL;
    uint64_t offset = 0;
    uint64_t byte_size = 0;
    tc__http_reply reply;
    if (!json_object_object_get_ex(obj, "key", &key))
        return tc__http_reply_status(400, "Shared memory register request has no 'key' field");
    if (!json_object_is_type(key, json_type_string))
        return tc__http_reply_status(500, "Unable to parse 'key': expected a string");
    if (json_object_object_get_ex(obj, "offset", &v) && !get_u64(v, "offset", &offset, &reply))
        return reply;
    if (!json_object_object_get_ex(obj, "byte_size", &v))
        return tc__http_reply_status(400,
                                     "Shared memory register request has no 'byte_size' field");
    if (!get_u64(v, "byte_size", &byte_size, &reply))
        return reply;
    /* A key with an embedded NUL would be cut short by shm_open. */
    if (strlen(json_object_get_string(key)) != (size_t)json_object_get_string_len(key))
        return tc__http_reply_status(400, "Unable to parse 'key': embedded NUL");
    tc__error err;
    tc__error_clear(&err);
    if (tc__core_shm_register_system(r->srv->core, r->route.region, json_object_get_string(key),
                                     offset, byte_size, &err) != TC_OK)
        return from_err(&err);
    return tc__http_reply_empty(200);
}

static tc__http_reply register_cuda(tc__http_req *r, json_object *obj)
{
    json_object *handle = NULL;
    json_object *b64 = NULL;
    json_object *v = NULL;
    uint64_t device_id = 0;
    uint64_t byte_size = 0;
    tc__http_reply reply;
    if (!json_object_object_get_ex(obj, "raw_handle", &handle))
        return tc__http_reply_status(400,
                                     "Shared memory register request has no 'raw_handle' field");
    if (!json_object_is_type(handle, json_type_object) ||
        !json_object_object_get_ex(handle, "b64", &b64) ||
        !json_object_is_type(b64, json_type_string))
        return tc__http_reply_status(500, "Unable to parse 'b64': expected a string");
    if (!json_object_object_get_ex(obj, "device_id", &v))
        return tc__http_reply_status(500, "Unable to parse 'device_id': missing");
    if (!get_u64(v, "device_id", &device_id, &reply))
        return reply;
    if (!json_object_object_get_ex(obj, "byte_size", &v))
        return tc__http_reply_status(500, "Unable to parse 'byte_size': missing");
    if (!get_u64(v, "byte_size", &byte_size, &reply))
        return reply;
    if (device_id > (uint64_t)INT64_MAX)
        return tc__http_reply_status(500, "Unable to parse 'device_id': out of range");
    tc__buf raw = TC__BUF_INIT;
    if (tc__base64_decode(json_object_get_string(b64), (size_t)json_object_get_string_len(b64),
                          &raw) != TC_OK ||
        raw.len != 64) {
        tc__buf_cleanup(&raw);
        return tc__http_reply_status(
            400, "'raw_handle' must be a valid base64 encoded cudaIpcMemHandle_t");
    }
    tc__error err;
    tc__error_clear(&err);
    tc_code rc = tc__core_shm_register_cuda(r->srv->core, r->route.region, raw.data, raw.len,
                                            (int64_t)device_id, byte_size, &err);
    tc__buf_cleanup(&raw);
    return rc == TC_OK ? tc__http_reply_empty(200) : from_err(&err);
}

static tc__http_reply do_register(tc__http_req *r, const uint8_t *body, size_t len)
{
    if (r->route.region == NULL || r->route.region[0] == '\0') {
        char msg[128];
        (void)snprintf(msg, sizeof msg,
                       "'region name' is necessary to register %s shared memory region",
                       r->route.cuda ? "cuda" : "system");
        return tc__http_reply_status(400, msg);
    }
    json_object *obj = NULL;
    tc__http_reply reply;
    if (!parse_object(body, len, &obj, &reply))
        return reply;
    reply = r->route.cuda ? register_cuda(r, obj) : register_system(r, obj);
    json_object_put(obj);
    return reply;
}

tc__http_reply tc__http_shm(tc__http_req *r, const uint8_t *body, size_t len)
{
    tc__shm_kind kind = r->route.cuda ? TC__SHM_CUDA : TC__SHM_SYSTEM;
    if (r->route.kind == ROUTE_SHM_STATUS)
        return status(r, kind);
    if (!r->srv->allow_client_shm)
        return tc__http_reply_status(501, SHM_DISABLED);
    if (r->route.kind == ROUTE_SHM_REGISTER)
        return do_register(r, body, len);
    tc__error err;
    tc__error_clear(&err);
    if (tc__core_shm_unregister(r->srv->core, kind, r->route.region, &err) != TC_OK)
        return from_err(&err);
    return tc__http_reply_empty(200);
}
