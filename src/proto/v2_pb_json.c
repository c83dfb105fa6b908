/* JSON bridges of the gRPC codec: statistics, trace and log settings and
 * model config messages to and from the JSON shapes of the HTTP API
 * (HTTP.md sections 10, 13, 14), so one JSON-in/JSON-out client API serves
 * both transports. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "common/alloc.h"
#include "proto/model_config.h"
#include "proto/pbtxt.h"
#include "proto/v2_json_int.h"
#include "proto/v2_pb_int.h"

#define JSON_DEPTH 32

static tc_code nomem(tc__error *err)
{
    return tc__error_set(err, TC_E_NOMEM, "out of memory");
}

/* ---- statistics --------------------------------------------------------------------- */

static tc_code jw_key(tc__buf *b, const char *key, bool first)
{
    if (!first && TC__JW_LIT(b, ",") != TC_OK)
        return TC_E_NOMEM;
    if (tc__jw_cstr(b, key) != TC_OK || TC__JW_LIT(b, ":") != TC_OK)
        return TC_E_NOMEM;
    return TC_OK;
}

static tc_code jw_u64_member(tc__buf *b, const char *key, uint64_t v, bool first)
{
    tc_code rc = jw_key(b, key, first);
    return rc == TC_OK ? tc__jw_u64(b, v) : rc;
}

static tc_code jw_duration(tc__buf *b, const char *key, const Inference__StatisticDuration *d,
                           bool first)
{
    tc_code rc = jw_key(b, key, first);
    if (rc == TC_OK)
        rc = TC__JW_LIT(b, "{");
    if (rc == TC_OK)
        rc = jw_u64_member(b, "count", d != NULL ? d->count : 0, true);
    if (rc == TC_OK)
        rc = jw_u64_member(b, "ns", d != NULL ? d->ns : 0, false);
    return rc == TC_OK ? TC__JW_LIT(b, "}") : rc;
}

static tc_code jw_infer_stats(tc__buf *b, const Inference__InferStatistics *s)
{
    const Inference__StatisticDuration *d[8] = {NULL};
    if (s != NULL) {
        d[0] = s->success;
        d[1] = s->fail;
        d[2] = s->queue;
        d[3] = s->compute_input;
        d[4] = s->compute_infer;
        d[5] = s->compute_output;
        d[6] = s->cache_hit;
        d[7] = s->cache_miss;
    }
    static const char *const names[8] = {"success",       "fail",          "queue",
                                         "compute_input", "compute_infer", "compute_output",
                                         "cache_hit",     "cache_miss"};
    tc_code rc = jw_key(b, "inference_stats", false);
    if (rc == TC_OK)
        rc = TC__JW_LIT(b, "{");
    for (size_t i = 0; rc == TC_OK && i < 8; i++)
        rc = jw_duration(b, names[i], d[i], i == 0);
    return rc == TC_OK ? TC__JW_LIT(b, "}") : rc;
}

static tc_code jw_response_stats(tc__buf *b, const Inference__ModelStatistics *m)
{
    static const char *const names[6] = {"compute_infer", "compute_output", "success",
                                         "fail",          "empty_response", "cancel"};
    tc_code rc = jw_key(b, "response_stats", false);
    if (rc == TC_OK)
        rc = TC__JW_LIT(b, "{");
    for (size_t i = 0; rc == TC_OK && i < m->n_response_stats; i++) {
        const Inference__InferResponseStatistics *s = m->response_stats[i]->value;
        const Inference__StatisticDuration *d[6] = {NULL};
        if (s != NULL) {
            d[0] = s->compute_infer;
            d[1] = s->compute_output;
            d[2] = s->success;
            d[3] = s->fail;
            d[4] = s->empty_response;
            d[5] = s->cancel;
        }
        rc = jw_key(b, m->response_stats[i]->key, i == 0);
        if (rc == TC_OK)
            rc = TC__JW_LIT(b, "{");
        for (size_t k = 0; rc == TC_OK && k < 6; k++)
            rc = jw_duration(b, names[k], d[k], k == 0);
        if (rc == TC_OK)
            rc = TC__JW_LIT(b, "}");
    }
    return rc == TC_OK ? TC__JW_LIT(b, "}") : rc;
}

static tc_code jw_batch_and_memory(tc__buf *b, const Inference__ModelStatistics *m)
{
    tc_code rc = jw_key(b, "batch_stats", false);
    if (rc == TC_OK)
        rc = TC__JW_LIT(b, "[");
    for (size_t i = 0; rc == TC_OK && i < m->n_batch_stats; i++) {
        const Inference__InferBatchStatistics *s = m->batch_stats[i];
        rc = (i == 0 ? TC__JW_LIT(b, "{") : TC__JW_LIT(b, ",{"));
        if (rc == TC_OK)
            rc = jw_u64_member(b, "batch_size", s->batch_size, true);
        if (rc == TC_OK)
            rc = jw_duration(b, "compute_input", s->compute_input, false);
        if (rc == TC_OK)
            rc = jw_duration(b, "compute_infer", s->compute_infer, false);
        if (rc == TC_OK)
            rc = jw_duration(b, "compute_output", s->compute_output, false);
        if (rc == TC_OK)
            rc = TC__JW_LIT(b, "}");
    }
    if (rc == TC_OK)
        rc = TC__JW_LIT(b, "]");
    if (rc == TC_OK)
        rc = jw_key(b, "memory_usage", false);
    if (rc == TC_OK)
        rc = TC__JW_LIT(b, "[");
    for (size_t i = 0; rc == TC_OK && i < m->n_memory_usage; i++) {
        const Inference__MemoryUsage *u = m->memory_usage[i];
        rc = (i == 0 ? TC__JW_LIT(b, "{") : TC__JW_LIT(b, ",{"));
        if (rc == TC_OK)
            rc = jw_key(b, "type", true);
        if (rc == TC_OK)
            rc = tc__jw_cstr(b, u->type);
        if (rc == TC_OK)
            rc = jw_key(b, "id", false);
        if (rc == TC_OK)
            rc = tc__jw_i64(b, u->id);
        if (rc == TC_OK)
            rc = jw_u64_member(b, "byte_size", u->byte_size, false);
        if (rc == TC_OK)
            rc = TC__JW_LIT(b, "}");
    }
    return rc == TC_OK ? TC__JW_LIT(b, "]") : rc;
}

static tc_code jw_model_stats(tc__buf *b, const Inference__ModelStatistics *m)
{
    tc_code rc = TC__JW_LIT(b, "{");
    if (rc == TC_OK)
        rc = jw_key(b, "name", true);
    if (rc == TC_OK)
        rc = tc__jw_cstr(b, m->name);
    if (rc == TC_OK)
        rc = jw_key(b, "version", false);
    if (rc == TC_OK)
        rc = tc__jw_cstr(b, m->version);
    if (rc == TC_OK)
        rc = jw_u64_member(b, "last_inference", m->last_inference, false);
    if (rc == TC_OK)
        rc = jw_u64_member(b, "inference_count", m->inference_count, false);
    if (rc == TC_OK)
        rc = jw_u64_member(b, "execution_count", m->execution_count, false);
    if (rc == TC_OK)
        rc = jw_infer_stats(b, m->inference_stats);
    if (rc == TC_OK)
        rc = jw_response_stats(b, m);
    if (rc == TC_OK)
        rc = jw_batch_and_memory(b, m);
    return rc == TC_OK ? TC__JW_LIT(b, "}") : rc;
}

tc_code tc__pb_model_stats_to_json(const uint8_t *msg, size_t len, tc__buf *json, tc__error *err)
{
    if (json == NULL)
        return tc__error_set(err, TC_E_INVALID_ARG, "invalid argument");
    ProtobufCMessage *pm = NULL;
    tc_code rc =
        tc__pb_unpack(&inference__model_statistics_response__descriptor, msg, len, &pm, err);
    if (rc != TC_OK)
        return rc;
    const Inference__ModelStatisticsResponse *r = (const Inference__ModelStatisticsResponse *)pm;
    size_t start = json->len;
    rc = TC__JW_LIT(json, "{\"model_stats\":[");
    for (size_t i = 0; rc == TC_OK && i < r->n_model_stats; i++) {
        if (i > 0)
            rc = TC__JW_LIT(json, ",");
        if (rc == TC_OK)
            rc = jw_model_stats(json, r->model_stats[i]);
    }
    if (rc == TC_OK)
        rc = TC__JW_LIT(json, "]}");
    tc__pb_backing_free(pm);
    if (rc != TC_OK) {
        json->len = start;
        return nomem(err);
    }
    return TC_OK;
}

/* Parse JSON into a message of `desc` with the descriptor-driven reader and
 * append its packed form. */
static tc_code json_to_message(const ProtobufCMessageDescriptor *desc, const char *json, size_t len,
                               tc__buf *out, tc__error *err)
{
    ProtobufCMessage *m = NULL;
    tc_code rc = tc__pb_from_json(desc, json, len, &m, err);
    if (rc != TC_OK)
        return rc;
    rc = tc__pb_pack(m, out);
    tc__pb_backing_free(m);
    return rc == TC_OK ? TC_OK : nomem(err);
}

tc_code tc__pb_model_stats_from_json(const char *json, size_t len, tc__buf *out, tc__error *err)
{
    if (out == NULL || (json == NULL && len > 0))
        return tc__error_set(err, TC_E_INVALID_ARG, "invalid argument");
    return json_to_message(&inference__model_statistics_response__descriptor, json, len, out, err);
}

/* ---- trace settings --------------------------------------------------------------------- */

/* The request and response trace maps share one layout (string -> list of
 * strings); these mirror it so one writer serves both. */
typedef struct trace_value {
    ProtobufCMessage base;
    size_t n_value;
    char **value;
} trace_value;

typedef struct trace_entry {
    ProtobufCMessage base;
    char *key;
    trace_value *value;
} trace_entry;

_Static_assert(sizeof(trace_value) == sizeof(Inference__TraceSettingRequest__SettingValue),
               "trace value layout");
_Static_assert(sizeof(trace_value) == sizeof(Inference__TraceSettingResponse__SettingValue),
               "trace value layout");
_Static_assert(sizeof(trace_entry) == sizeof(Inference__TraceSettingResponse__SettingsEntry),
               "trace entry layout");

/* `update` selects the update-body form: empty lists become null. */
static tc_code trace_map_to_json(trace_entry *const *entries, size_t n, bool update, tc__buf *b)
{
    tc_code rc = TC__JW_LIT(b, "{");
    for (size_t i = 0; rc == TC_OK && i < n; i++) {
        const trace_value *v = entries[i]->value;
        size_t count = v != NULL ? v->n_value : 0;
        bool list = strcmp(entries[i]->key, "trace_level") == 0 || count != 1;
        rc = jw_key(b, entries[i]->key, i == 0);
        if (rc != TC_OK)
            break;
        if (update && count == 0) {
            rc = TC__JW_LIT(b, "null");
            continue;
        }
        if (!list) {
            rc = tc__jw_cstr(b, v->value[0]);
            continue;
        }
        rc = TC__JW_LIT(b, "[");
        for (size_t k = 0; rc == TC_OK && k < count; k++) {
            if (k > 0)
                rc = TC__JW_LIT(b, ",");
            if (rc == TC_OK)
                rc = tc__jw_cstr(b, v->value[k]);
        }
        if (rc == TC_OK)
            rc = TC__JW_LIT(b, "]");
    }
    return rc == TC_OK ? TC__JW_LIT(b, "}") : rc;
}

tc_code tc__pb_trace_settings_to_json(const uint8_t *msg, size_t len, tc__buf *json, tc__error *err)
{
    if (json == NULL)
        return tc__error_set(err, TC_E_INVALID_ARG, "invalid argument");
    ProtobufCMessage *pm = NULL;
    tc_code rc = tc__pb_unpack(&inference__trace_setting_response__descriptor, msg, len, &pm, err);
    if (rc != TC_OK)
        return rc;
    const Inference__TraceSettingResponse *r = (const Inference__TraceSettingResponse *)pm;
    rc = trace_map_to_json((trace_entry *const *)r->settings, r->n_settings, false, json);
    tc__pb_backing_free(pm);
    return rc == TC_OK ? TC_OK : nomem(err);
}

tc_code tc__pb_trace_update_to_json(const uint8_t *msg, size_t len, char **model_name,
                                    tc__buf *json, tc__error *err)
{
    if (json == NULL || model_name == NULL)
        return tc__error_set(err, TC_E_INVALID_ARG, "invalid argument");
    *model_name = NULL;
    ProtobufCMessage *pm = NULL;
    tc_code rc = tc__pb_unpack(&inference__trace_setting_request__descriptor, msg, len, &pm, err);
    if (rc != TC_OK)
        return rc;
    const Inference__TraceSettingRequest *r = (const Inference__TraceSettingRequest *)pm;
    bool oom = false;
    *model_name = tc__pb_strdup_nonempty(r->model_name, &oom);
    rc = oom ? TC_E_NOMEM
             : trace_map_to_json((trace_entry *const *)r->settings, r->n_settings, true, json);
    tc__pb_backing_free(pm);
    if (rc != TC_OK) {
        tc__free(*model_name);
        *model_name = NULL;
        return nomem(err);
    }
    return TC_OK;
}

/* One JSON value as a list of strings in `s`: string -> [s], array of strings
 * -> list, integer or double -> its text, null -> empty list. */
static tc_code trace_value_from_json(tc__pb_scratch *s, const char *key, json_object *v,
                                     trace_value *out, tc__error *err)
{
    size_t n = 0;
    if (json_object_is_type(v, json_type_array))
        n = json_object_array_length(v);
    else if (v != NULL)
        n = 1;
    out->value = tc__pb_scratch_alloc(s, n, sizeof *out->value);
    if (out->value == NULL)
        return nomem(err);
    for (size_t i = 0; i < n; i++) {
        json_object *e =
            json_object_is_type(v, json_type_array) ? json_object_array_get_idx(v, i) : v;
        if (json_object_is_type(e, json_type_string) || json_object_is_type(e, json_type_int) ||
            json_object_is_type(e, json_type_double)) {
            const char *text = json_object_get_string(e);
            out->value[i] = tc__pb_scratch_alloc(s, strlen(text) + 1, 1);
            if (out->value[i] == NULL)
                return nomem(err);
            memcpy(out->value[i], text, strlen(text));
            continue;
        }
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "trace setting '%s' must be a string, a number or a list of "
                             "strings",
                             key);
    }
    out->n_value = n;
    return TC_OK;
}

/* Build the settings map of a trace request or response (`entry_desc`,
 * `value_desc` pick which) from a JSON object. */
static tc_code trace_map_from_json(tc__pb_scratch *s, const char *json, size_t len,
                                   const ProtobufCMessageDescriptor *entry_desc,
                                   const ProtobufCMessageDescriptor *value_desc,
                                   trace_entry ***entries, size_t *n, json_object **root_out,
                                   tc__error *err)
{
    *root_out = NULL;
    json_object *root = tc__jr_parse(json, len, JSON_DEPTH, "trace settings", err);
    if (root == NULL)
        return err != NULL ? err->code : TC_E_INVALID_ARG;
    tc_code rc = TC_OK;
    if (!json_object_is_type(root, json_type_object)) {
        rc = tc__error_set(err, TC_E_INVALID_ARG, "trace settings must be a JSON object");
        goto out;
    }
    size_t count = (size_t)json_object_object_length(root);
    trace_entry **arr = tc__pb_scratch_alloc(s, count, sizeof *arr);
    trace_entry *ents = tc__pb_scratch_alloc(s, count, sizeof *ents);
    trace_value *vals = tc__pb_scratch_alloc(s, count, sizeof *vals);
    if (arr == NULL || ents == NULL || vals == NULL) {
        rc = nomem(err);
        goto out;
    }
    size_t i = 0;
    json_object_object_foreach(root, key, val)
    {
        entry_desc->message_init(&ents[i].base);
        value_desc->message_init(&vals[i].base);
        ents[i].key = key;
        ents[i].value = &vals[i];
        arr[i] = &ents[i];
        rc = trace_value_from_json(s, key, val, &vals[i], err);
        if (rc != TC_OK)
            goto out;
        i++;
    }
    *entries = arr;
    *n = i;
out:
    /* Keys are borrowed from `root`: the caller releases it after packing. */
    if (rc != TC_OK) {
        json_object_put(root);
        return rc;
    }
    *root_out = root;
    return TC_OK;
}

tc_code tc__pb_trace_settings_from_json(const char *json, size_t len, tc__buf *out, tc__error *err)
{
    if (out == NULL || json == NULL)
        return tc__error_set(err, TC_E_INVALID_ARG, "invalid argument");
    tc__pb_scratch s = {NULL, 0};
    Inference__TraceSettingResponse m = INFERENCE__TRACE_SETTING_RESPONSE__INIT;
    trace_entry **entries = NULL;
    json_object *root = NULL;
    size_t n = 0;
    tc_code rc = trace_map_from_json(
        &s, json, len, &inference__trace_setting_response__settings_entry__descriptor,
        &inference__trace_setting_response__setting_value__descriptor, &entries, &n, &root, err);
    if (rc == TC_OK) {
        m.settings = (Inference__TraceSettingResponse__SettingsEntry **)entries;
        m.n_settings = n;
        rc = tc__pb_pack(&m.base, out);
        if (rc != TC_OK)
            rc = nomem(err);
    }
    json_object_put(root);
    tc__pb_scratch_free(&s);
    return rc;
}

tc_code tc__pb_trace_update_from_json(const char *json, size_t len, const char *model_name,
                                      tc__buf *out, tc__error *err)
{
    if (out == NULL || json == NULL)
        return tc__error_set(err, TC_E_INVALID_ARG, "invalid argument");
    tc__pb_scratch s = {NULL, 0};
    Inference__TraceSettingRequest m = INFERENCE__TRACE_SETTING_REQUEST__INIT;
    m.model_name = tc__pb_str(model_name);
    trace_entry **entries = NULL;
    json_object *root = NULL;
    size_t n = 0;
    tc_code rc = trace_map_from_json(
        &s, json, len, &inference__trace_setting_request__settings_entry__descriptor,
        &inference__trace_setting_request__setting_value__descriptor, &entries, &n, &root, err);
    if (rc == TC_OK) {
        m.settings = (Inference__TraceSettingRequest__SettingsEntry **)entries;
        m.n_settings = n;
        rc = tc__pb_pack(&m.base, out);
        if (rc != TC_OK)
            rc = nomem(err);
    }
    json_object_put(root);
    tc__pb_scratch_free(&s);
    return rc;
}

/* ---- log settings ------------------------------------------------------------------------- */

typedef Inference__LogSettingsResponse__SettingValue log_value;
typedef Inference__LogSettingsResponse__SettingsEntry log_entry;

_Static_assert(sizeof(log_value) == sizeof(Inference__LogSettingsRequest__SettingValue),
               "log value layout");
_Static_assert(sizeof(log_entry) == sizeof(Inference__LogSettingsRequest__SettingsEntry),
               "log entry layout");

static tc_code log_map_to_json(log_entry *const *entries, size_t n, tc__buf *b)
{
    tc_code rc = TC__JW_LIT(b, "{");
    for (size_t i = 0; rc == TC_OK && i < n; i++) {
        const log_value *v = entries[i]->value;
        rc = jw_key(b, entries[i]->key, i == 0);
        if (rc != TC_OK)
            break;
        switch (v != NULL ? (int)v->parameter_choice_case : 0) {
        case INFERENCE__LOG_SETTINGS_RESPONSE__SETTING_VALUE__PARAMETER_CHOICE_BOOL_PARAM:
            rc = v->bool_param ? TC__JW_LIT(b, "true") : TC__JW_LIT(b, "false");
            break;
        case INFERENCE__LOG_SETTINGS_RESPONSE__SETTING_VALUE__PARAMETER_CHOICE_UINT32_PARAM:
            rc = tc__jw_u64(b, v->uint32_param);
            break;
        case INFERENCE__LOG_SETTINGS_RESPONSE__SETTING_VALUE__PARAMETER_CHOICE_STRING_PARAM:
            rc = tc__jw_cstr(b, v->string_param);
            break;
        default:
            rc = TC__JW_LIT(b, "null");
            break;
        }
    }
    return rc == TC_OK ? TC__JW_LIT(b, "}") : rc;
}

static tc_code log_to_json(const ProtobufCMessageDescriptor *desc, const uint8_t *msg, size_t len,
                           tc__buf *json, tc__error *err)
{
    if (json == NULL)
        return tc__error_set(err, TC_E_INVALID_ARG, "invalid argument");
    ProtobufCMessage *pm = NULL;
    tc_code rc = tc__pb_unpack(desc, msg, len, &pm, err);
    if (rc != TC_OK)
        return rc;
    /* Request and response share the layout (asserted above). */
    const Inference__LogSettingsResponse *r = (const Inference__LogSettingsResponse *)pm;
    rc = log_map_to_json(r->settings, r->n_settings, json);
    tc__pb_backing_free(pm);
    return rc == TC_OK ? TC_OK : nomem(err);
}

tc_code tc__pb_log_settings_to_json(const uint8_t *msg, size_t len, tc__buf *json, tc__error *err)
{
    return log_to_json(&inference__log_settings_response__descriptor, msg, len, json, err);
}

tc_code tc__pb_log_update_to_json(const uint8_t *msg, size_t len, tc__buf *json, tc__error *err)
{
    return log_to_json(&inference__log_settings_request__descriptor, msg, len, json, err);
}

static tc_code log_value_from_json(const char *key, json_object *v, log_value *out, tc__error *err)
{
    if (json_object_is_type(v, json_type_boolean)) {
        out->parameter_choice_case =
            INFERENCE__LOG_SETTINGS_RESPONSE__SETTING_VALUE__PARAMETER_CHOICE_BOOL_PARAM;
        out->bool_param = json_object_get_boolean(v);
        return TC_OK;
    }
    uint64_t u = 0;
    if (json_object_is_type(v, json_type_int)) {
        if (!tc__jr_u64(v, &u) || u > UINT32_MAX)
            return tc__error_set(err, TC_E_INVALID_ARG, "expect int32 for '%s'", key);
        out->parameter_choice_case =
            INFERENCE__LOG_SETTINGS_RESPONSE__SETTING_VALUE__PARAMETER_CHOICE_UINT32_PARAM;
        out->uint32_param = (uint32_t)u;
        return TC_OK;
    }
    if (json_object_is_type(v, json_type_string)) {
        out->parameter_choice_case =
            INFERENCE__LOG_SETTINGS_RESPONSE__SETTING_VALUE__PARAMETER_CHOICE_STRING_PARAM;
        out->string_param = (char *)(uintptr_t)json_object_get_string(v);
        return TC_OK;
    }
    return tc__error_set(err, TC_E_INVALID_ARG,
                         "log setting '%s' must be a boolean, an unsigned integer or a string",
                         key);
}

static tc_code log_from_json(const ProtobufCMessageDescriptor *desc,
                             const ProtobufCMessageDescriptor *entry_desc,
                             const ProtobufCMessageDescriptor *value_desc, const char *json,
                             size_t len, tc__buf *out, tc__error *err)
{
    if (out == NULL || json == NULL)
        return tc__error_set(err, TC_E_INVALID_ARG, "invalid argument");
    json_object *root = tc__jr_parse(json, len, JSON_DEPTH, "log settings", err);
    if (root == NULL)
        return err != NULL ? err->code : TC_E_INVALID_ARG;
    tc__pb_scratch s = {NULL, 0};
    tc_code rc = TC_OK;
    if (!json_object_is_type(root, json_type_object)) {
        rc = tc__error_set(err, TC_E_INVALID_ARG, "log settings must be a JSON object");
        goto out;
    }
    size_t count = (size_t)json_object_object_length(root);
    log_entry **arr = tc__pb_scratch_alloc(&s, count, sizeof *arr);
    log_entry *ents = tc__pb_scratch_alloc(&s, count, sizeof *ents);
    log_value *vals = tc__pb_scratch_alloc(&s, count, sizeof *vals);
    if (arr == NULL || ents == NULL || vals == NULL) {
        rc = nomem(err);
        goto out;
    }
    size_t n = 0;
    json_object_object_foreach(root, key, val)
    {
        if (val == NULL)
            continue; /* null = leave unchanged */
        entry_desc->message_init(&ents[n].base);
        value_desc->message_init(&vals[n].base);
        ents[n].key = key;
        ents[n].value = &vals[n];
        arr[n] = &ents[n];
        rc = log_value_from_json(key, val, &vals[n], err);
        if (rc != TC_OK)
            goto out;
        n++;
    }
    /* The request message has the same layout as the response one. */
    Inference__LogSettingsResponse m;
    desc->message_init(&m.base);
    m.settings = arr;
    m.n_settings = n;
    rc = tc__pb_pack(&m.base, out);
    if (rc != TC_OK)
        rc = nomem(err);
out:
    tc__pb_scratch_free(&s);
    json_object_put(root);
    return rc;
}

tc_code tc__pb_log_settings_from_json(const char *json, size_t len, tc__buf *out, tc__error *err)
{
    return log_from_json(&inference__log_settings_response__descriptor,
                         &inference__log_settings_response__settings_entry__descriptor,
                         &inference__log_settings_response__setting_value__descriptor, json, len,
                         out, err);
}

tc_code tc__pb_log_update_from_json(const char *json, size_t len, tc__buf *out, tc__error *err)
{
    return log_from_json(&inference__log_settings_request__descriptor,
                         &inference__log_settings_request__settings_entry__descriptor,
                         &inference__log_settings_request__setting_value__descriptor, json, len,
                         out, err);
}

/* ---- model config -------------------------------------------------------------------------- */

tc_code tc__pb_model_config_to_json(const uint8_t *msg, size_t len, tc__buf *json, tc__error *err)
{
    if (json == NULL)
        return tc__error_set(err, TC_E_INVALID_ARG, "invalid argument");
    ProtobufCMessage *pm = NULL;
    tc_code rc = tc__pb_unpack(&inference__model_config_response__descriptor, msg, len, &pm, err);
    if (rc != TC_OK)
        return rc;
    const Inference__ModelConfigResponse *r = (const Inference__ModelConfigResponse *)pm;
    if (r->config != NULL)
        rc = tc__model_config_to_json(r->config, json);
    tc__pb_backing_free(pm);
    return rc == TC_OK ? TC_OK : nomem(err);
}

tc_code tc__pb_model_config_encode(const Inference__ModelConfig *cfg, tc__buf *out)
{
    if (cfg == NULL || out == NULL)
        return TC_E_INVALID_ARG;
    Inference__ModelConfigResponse r = INFERENCE__MODEL_CONFIG_RESPONSE__INIT;
    r.config = (Inference__ModelConfig *)(uintptr_t)cfg;
    return tc__pb_pack(&r.base, out);
}
