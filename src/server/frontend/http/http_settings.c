/* GET|POST /v2[/models/<m>]/trace/setting (HTTP.md 13) and /v2/logging (14). */
#include <errno.h>
#include <inttypes.h>
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "frontend/http/http_internal.h"

static tc__http_reply parse_object(const uint8_t *body, size_t len, json_object **out)
{
    tc__http_reply ok = {0, NULL};
    *out = NULL;
    json_tokener *tok = json_tokener_new();
    if (tok == NULL || len > INT32_MAX) {
        json_tokener_free(tok);
        return tc__http_reply_status(500, "out of memory");
    }
    json_object *obj = json_tokener_parse_ex(tok, len > 0 ? (const char *)body : "", (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (obj == NULL || jerr != json_tokener_success || end != len ||
        !json_object_is_type(obj, json_type_object)) {
        json_object_put(obj);
        char msg[200];
        (void)snprintf(msg, sizeof msg, "failed to parse the request JSON buffer: %s at %zu",
                       obj == NULL ? json_tokener_error_desc(jerr) : "expected a JSON object", end);
        return tc__http_reply_status(400, msg);
    }
    *out = obj;
    return ok;
}

static tc__http_reply to_reply(json_object *o)
{
    tc__buf json = TC__BUF_INIT;
    tc_code rc = tc__buf_append_str(
        &json,
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
    tc__http_reply reply =
        rc == TC_OK ? tc__http_reply_json(&json) : tc__http_reply_status(500, "out of memory");
    tc__buf_cleanup(&json);
    return reply;
}

/* ---- trace ------------------------------------------------------------------------------------
 */

static void add_str(json_object *o, const char *key, const char *v)
{
    json_object_object_add(o, key, json_object_new_string(v));
}

static void add_i64(json_object *o, const char *key, int64_t v)
{
    char text[32];
    (void)snprintf(text, sizeof text, "%" PRId64, v);
    add_str(o, key, text);
}

static tc__http_reply trace_reply(const tc__trace_settings *s)
{
    json_object *o = json_object_new_object();
    json_object *levels = json_object_new_array();
    if (s->level == 0)
        json_object_array_add(levels, json_object_new_string("OFF"));
    if (s->level & TC__TRACE_LEVEL_TIMESTAMPS)
        json_object_array_add(levels, json_object_new_string("TIMESTAMPS"));
    if (s->level & TC__TRACE_LEVEL_TENSORS)
        json_object_array_add(levels, json_object_new_string("TENSORS"));
    json_object_object_add(o, "trace_level", levels);
    add_i64(o, "trace_rate", s->rate);
    add_i64(o, "trace_count", s->count);
    add_i64(o, "log_frequency", s->log_frequency);
    add_str(o, "trace_file", s->file);
    add_str(o, "trace_mode", s->mode);
    return to_reply(o);
}

/* A JSON string holding an integer >= min. */
static bool int_setting(json_object *v, int64_t min, int64_t *out)
{
    if (!json_object_is_type(v, json_type_string))
        return false;
    const char *s = json_object_get_string(v);
    char *end = NULL;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || x < min)
        return false;
    *out = (int64_t)x;
    return true;
}

static tc__http_reply trace_level(json_object *v, tc__trace_update *u)
{
    tc__http_reply ok = {0, NULL};
    if (!json_object_is_type(v, json_type_array))
        return tc__http_reply_status(400, "trace_level must be an array of strings");
    size_t n = json_object_array_length(v);
    bool off = false;
    u->level = 0;
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(v, i);
        if (!json_object_is_type(e, json_type_string))
            return tc__http_reply_status(400, "trace_level must be an array of strings");
        const char *s = json_object_get_string(e);
        if (strcmp(s, "OFF") == 0)
            off = true;
        else if (strcmp(s, "TIMESTAMPS") == 0)
            u->level |= TC__TRACE_LEVEL_TIMESTAMPS;
        else if (strcmp(s, "TENSORS") == 0)
            u->level |= TC__TRACE_LEVEL_TENSORS;
    }
    if (off && n > 1)
        return tc__http_reply_status(400, "Expect only one trace level 'OFF' is specified");
    u->has_level = true;
    return ok;
}

static tc__http_reply trace_update(json_object *obj, bool per_model, tc__trace_update *u)
{
    tc__http_reply ok = {0, NULL};
    static const char *const ints[] = {"trace_rate", "trace_count", "log_frequency"};
    json_object *v = NULL;
    if (json_object_object_get_ex(obj, "trace_file", &v) && v != NULL)
        return tc__http_reply_status(501, "trace file location can not be updated through "
                                          "network protocol");
    if (json_object_object_get_ex(obj, "trace_level", &v)) {
        if (v == NULL) {
            u->clear_level = per_model;
        } else {
            tc__http_reply r = trace_level(v, u);
            if (r.response != NULL)
                return r;
        }
    }
    for (size_t i = 0; i < 3; i++) {
        if (!json_object_object_get_ex(obj, ints[i], &v))
            continue;
        bool *has = i == 0 ? &u->has_rate : i == 1 ? &u->has_count : &u->has_log_frequency;
        bool *clear = i == 0 ? &u->clear_rate : i == 1 ? &u->clear_count : &u->clear_log_frequency;
        int64_t *val = i == 0 ? &u->rate : i == 1 ? &u->count : &u->log_frequency;
        if (v == NULL) {
            *clear = per_model;
            continue;
        }
        if (!int_setting(v, i == 1 ? -1 : 0, val)) {
            char msg[200];
            (void)snprintf(msg, sizeof msg, "Unable to parse '%s', got: %.100s", ints[i],
                           json_object_to_json_string(v));
            return tc__http_reply_status(400, msg);
        }
        *has = true;
    }
    return ok;
}

tc__http_reply tc__http_trace(tc__http_req *r, const uint8_t *body, size_t len)
{
    tc__core *core = r->srv->core;
    const char *model = r->route.model;
    tc__error err;
    tc__trace_settings s;
    if (r->method == METHOD_POST) {
        json_object *obj = NULL;
        tc__http_reply reply = parse_object(body, len, &obj);
        if (reply.response != NULL)
            return reply;
        tc__trace_update u;
        memset(&u, 0, sizeof u);
        reply = trace_update(obj, model != NULL, &u);
        json_object_put(obj);
        if (reply.response != NULL)
            return reply;
        if (tc__core_trace_update(core, model, &u, &err) != TC_OK)
            return tc__http_reply_error(err.code, err.msg);
    }
    if (tc__core_trace_get(core, model, &s, &err) != TC_OK)
        return tc__http_reply_error(err.code, err.msg);
    return trace_reply(&s);
}

/* ---- logging ----------------------------------------------------------------------------------
 */

static tc__http_reply log_reply(void)
{
    tc__log_settings s;
    tc__server_log_get(&s);
    json_object *o = json_object_new_object();
    add_str(o, "log_file", s.file);
    json_object_object_add(o, "log_info", json_object_new_boolean(s.info));
    json_object_object_add(o, "log_warning", json_object_new_boolean(s.warning));
    json_object_object_add(o, "log_error", json_object_new_boolean(s.error));
    json_object_object_add(o, "log_verbose_level", json_object_new_int64(s.verbose_level));
    add_str(o, "log_format", s.iso8601 ? "ISO8601" : "default");
    return to_reply(o);
}

static tc__http_reply log_bool(json_object *obj, const char *key, bool *out)
{
    tc__http_reply ok = {0, NULL};
    json_object *v = NULL;
    if (!json_object_object_get_ex(obj, key, &v) || v == NULL)
        return ok;
    if (!json_object_is_type(v, json_type_boolean)) {
        char msg[100];
        (void)snprintf(msg, sizeof msg, "Unable to parse '%s': expected a boolean", key);
        return tc__http_reply_status(400, msg);
    }
    *out = json_object_get_boolean(v);
    return ok;
}

static tc__http_reply log_update(json_object *obj, tc__log_settings *s)
{
    json_object *v = NULL;
    if (json_object_object_get_ex(obj, "log_file", &v) && v != NULL)
        return tc__http_reply_status(501, "log file location can not be updated through network "
                                          "protocol");
    tc__http_reply r = log_bool(obj, "log_info", &s->info);
    if (r.response == NULL)
        r = log_bool(obj, "log_warning", &s->warning);
    if (r.response == NULL)
        r = log_bool(obj, "log_error", &s->error);
    if (r.response != NULL)
        return r;
    if (json_object_object_get_ex(obj, "log_verbose_level", &v) && v != NULL) {
        if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0 ||
            json_object_get_int64(v) > UINT32_MAX)
            return tc__http_reply_status(400, "Unable to parse 'log_verbose_level': expected an "
                                              "unsigned integer");
        s->verbose_level = (uint32_t)json_object_get_int64(v);
    }
    if (json_object_object_get_ex(obj, "log_format", &v) && v != NULL) {
        const char *f = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
        if (strcmp(f, "default") != 0 && strcmp(f, "ISO8601") != 0) {
            char msg[200];
            (void)snprintf(msg, sizeof msg, "invalid argument for --log_format, got: %.100s", f);
            return tc__http_reply_status(503, msg);
        }
        s->iso8601 = strcmp(f, "ISO8601") == 0;
    }
    return r;
}

tc__http_reply tc__http_logging(tc__http_req *r, const uint8_t *body, size_t len)
{
    if (r->method == METHOD_POST) {
        json_object *obj = NULL;
        tc__http_reply reply = parse_object(body, len, &obj);
        if (reply.response != NULL)
            return reply;
        tc__log_settings s;
        tc__server_log_get(&s);
        reply = log_update(obj, &s);
        json_object_put(obj);
        if (reply.response != NULL)
            return reply;
        (void)tc__server_log_set(&s); /* same file: cannot fail */
    }
    return log_reply();
}
