/* TraceSetting and LogSettings (GRPC.md section 7): the same stored settings
 * and messages as the HTTP frontend's /v2/trace/setting and /v2/logging,
 * through the core's functions. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "frontend/grpc/grpc_internal.h"
#include "proto/v2_pb.h"

/* ---- trace -------------------------------------------------------------------------------- */

static bool parse_int(const char *s, int64_t min, int64_t *out)
{
    char *end = NULL;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || x < min)
        return false;
    *out = (int64_t)x;
    return true;
}

static bool trace_level(const Inference__TraceSettingRequest__SettingValue *v, tc__trace_update *u,
                        tc__grpc_status *st)
{
    bool off = false;
    u->level = 0;
    for (size_t i = 0; i < v->n_value; i++) {
        const char *s = v->value[i];
        if (strcmp(s, "OFF") == 0) {
            off = true;
        } else if (strcmp(s, "TIMESTAMPS") == 0) {
            u->level |= TC__TRACE_LEVEL_TIMESTAMPS;
        } else if (strcmp(s, "TENSORS") == 0) {
            u->level |= TC__TRACE_LEVEL_TENSORS;
        } else {
            tc__grpc_status_set(st, TC__GRPC_INVALID_ARGUMENT, "unknown trace level '%.100s'", s);
            return false;
        }
    }
    if (off && v->n_value > 1) {
        tc__grpc_status_set(st, TC__GRPC_INVALID_ARGUMENT,
                            "Expect only one trace level 'OFF' is specified");
        return false;
    }
    u->has_level = true;
    return true;
}

static bool trace_int(const char *key, const Inference__TraceSettingRequest__SettingValue *v,
                      bool per_model, tc__trace_update *u, tc__grpc_status *st)
{
    int which = strcmp(key, "trace_rate") == 0 ? 0 : strcmp(key, "trace_count") == 0 ? 1 : 2;
    bool *has = which == 0 ? &u->has_rate : which == 1 ? &u->has_count : &u->has_log_frequency;
    bool *clear = which == 0   ? &u->clear_rate
                  : which == 1 ? &u->clear_count
                               : &u->clear_log_frequency;
    int64_t *val = which == 0 ? &u->rate : which == 1 ? &u->count : &u->log_frequency;
    size_t n = v != NULL ? v->n_value : 0;
    if (n == 0) {
        *clear = per_model;
        return true;
    }
    if (n > 1) {
        tc__grpc_status_set(st, TC__GRPC_INVALID_ARGUMENT, "expect only 1 value for '%s'", key);
        return false;
    }
    if (!parse_int(v->value[0], which == 1 ? -1 : 0, val)) {
        tc__grpc_status_set(st, TC__GRPC_INVALID_ARGUMENT, "Unable to parse '%s', got: %.100s", key,
                            v->value[0]);
        return false;
    }
    *has = true;
    return true;
}

static bool trace_update(const Inference__TraceSettingRequest *req, bool per_model,
                         tc__trace_update *u, tc__grpc_status *st)
{
    for (size_t i = 0; i < req->n_settings; i++) {
        const char *key = req->settings[i]->key;
        const Inference__TraceSettingRequest__SettingValue *v = req->settings[i]->value;
        size_t n = v != NULL ? v->n_value : 0;
        if (strcmp(key, "trace_file") == 0 && n > 0) {
            tc__grpc_status_set(st, TC__GRPC_UNIMPLEMENTED,
                                "trace file location can not be updated through network "
                                "protocol");
            return false;
        }
        if (strcmp(key, "trace_level") == 0) {
            if (n == 0)
                u->clear_level = per_model;
            else if (!trace_level(v, u, st))
                return false;
        } else if (strcmp(key, "trace_rate") == 0 || strcmp(key, "trace_count") == 0 ||
                   strcmp(key, "log_frequency") == 0) {
            if (!trace_int(key, v, per_model, u, st))
                return false;
        }
    }
    return true;
}

typedef struct trace_reply {
    Inference__TraceSettingResponse__SettingsEntry entries[6];
    Inference__TraceSettingResponse__SettingsEntry *ptrs[6];
    Inference__TraceSettingResponse__SettingValue values[6];
    char *strs[6][2];
    char text[4][32];
} trace_reply;

static void trace_entry(trace_reply *r, size_t i, const char *key, char **strs, size_t n)
{
    Inference__TraceSettingResponse__SettingsEntry e =
        INFERENCE__TRACE_SETTING_RESPONSE__SETTINGS_ENTRY__INIT;
    Inference__TraceSettingResponse__SettingValue v =
        INFERENCE__TRACE_SETTING_RESPONSE__SETTING_VALUE__INIT;
    r->values[i] = v;
    r->values[i].n_value = n;
    r->values[i].value = strs;
    r->entries[i] = e;
    r->entries[i].key = (char *)(uintptr_t)key;
    r->entries[i].value = &r->values[i];
    r->ptrs[i] = &r->entries[i];
}

static void trace_pack(const tc__trace_settings *s, tc__buf *out, tc__grpc_status *st)
{
    trace_reply r;
    memset(&r, 0, sizeof r);
    size_t nl = 0;
    if (s->level == 0)
        r.strs[0][nl++] = "OFF";
    if (s->level & TC__TRACE_LEVEL_TIMESTAMPS)
        r.strs[0][nl++] = "TIMESTAMPS";
    if ((s->level & TC__TRACE_LEVEL_TENSORS) && nl < 2)
        r.strs[0][nl++] = "TENSORS";
    trace_entry(&r, 0, "trace_level", r.strs[0], nl);
    const int64_t ints[3] = {s->rate, s->count, s->log_frequency};
    static const char *const keys[3] = {"trace_rate", "trace_count", "log_frequency"};
    for (size_t i = 0; i < 3; i++) {
        (void)snprintf(r.text[i], sizeof r.text[i], "%" PRId64, ints[i]);
        r.strs[i + 1][0] = r.text[i];
        trace_entry(&r, i + 1, keys[i], r.strs[i + 1], 1);
    }
    r.strs[4][0] = (char *)(uintptr_t)s->file;
    trace_entry(&r, 4, "trace_file", r.strs[4], 1);
    r.strs[5][0] = (char *)(uintptr_t)s->mode;
    trace_entry(&r, 5, "trace_mode", r.strs[5], 1);
    Inference__TraceSettingResponse resp = INFERENCE__TRACE_SETTING_RESPONSE__INIT;
    resp.n_settings = 6;
    resp.settings = r.ptrs;
    if (tc__pb_pack(&resp.base, out) != TC_OK)
        tc__grpc_status_set(st, TC__GRPC_RESOURCE_EXHAUSTED, "out of memory");
}

void tc__grpc_trace_setting(tc__grpc_server *srv, const uint8_t *msg, size_t len, tc__buf *out,
                            tc__grpc_status *st)
{
    ProtobufCMessage *pm = NULL;
    tc__error err;
    tc__error_clear(&err);
    if (tc__pb_unpack(&inference__trace_setting_request__descriptor, msg, len, &pm, &err) !=
        TC_OK) {
        tc__grpc_status_from_error(st, &err);
        return;
    }
    const Inference__TraceSettingRequest *req = (const Inference__TraceSettingRequest *)pm;
    const char *model = req->model_name[0] != '\0' ? req->model_name : NULL;
    tc__trace_update u;
    memset(&u, 0, sizeof u);
    tc__trace_settings s;
    if (!trace_update(req, model != NULL, &u, st))
        goto out;
    if (req->n_settings > 0 && tc__core_trace_update(srv->core, model, &u, &err) != TC_OK) {
        tc__grpc_status_from_error(st, &err);
        goto out;
    }
    if (tc__core_trace_get(srv->core, model, &s, &err) != TC_OK) {
        tc__grpc_status_from_error(st, &err);
        goto out;
    }
    trace_pack(&s, out, st);
out:
    tc__pb_backing_free(pm);
}

/* ---- logging ------------------------------------------------------------------------------ */

static bool log_update(const Inference__LogSettingsRequest *req, tc__log_settings *s,
                       tc__grpc_status *st)
{
    for (size_t i = 0; i < req->n_settings; i++) {
        const char *key = req->settings[i]->key;
        const Inference__LogSettingsRequest__SettingValue *v = req->settings[i]->value;
        int kind = v != NULL ? (int)v->parameter_choice_case : 0;
        bool *flag = strcmp(key, "log_info") == 0      ? &s->info
                     : strcmp(key, "log_warning") == 0 ? &s->warning
                     : strcmp(key, "log_error") == 0   ? &s->error
                                                       : NULL;
        if (strcmp(key, "log_file") == 0) {
            tc__grpc_status_set(st, TC__GRPC_UNIMPLEMENTED,
                                "log file location can not be updated through network protocol");
            return false;
        }
        if (flag != NULL) {
            if (kind !=
                INFERENCE__LOG_SETTINGS_REQUEST__SETTING_VALUE__PARAMETER_CHOICE_BOOL_PARAM) {
                tc__grpc_status_set(st, TC__GRPC_INVALID_ARGUMENT, "expect boolean for '%s'", key);
                return false;
            }
            *flag = v->bool_param;
        } else if (strcmp(key, "log_verbose_level") == 0) {
            if (kind !=
                INFERENCE__LOG_SETTINGS_REQUEST__SETTING_VALUE__PARAMETER_CHOICE_UINT32_PARAM) {
                tc__grpc_status_set(st, TC__GRPC_INVALID_ARGUMENT, "expect int32 for '%s'", key);
                return false;
            }
            s->verbose_level = v->uint32_param;
        } else if (strcmp(key, "log_format") == 0) {
            if (kind !=
                INFERENCE__LOG_SETTINGS_REQUEST__SETTING_VALUE__PARAMETER_CHOICE_STRING_PARAM) {
                tc__grpc_status_set(st, TC__GRPC_INVALID_ARGUMENT, "expect string for '%s'", key);
                return false;
            }
            const char *f = v->string_param;
            if (strcmp(f, "default") != 0 && strcmp(f, "ISO8601") != 0) {
                tc__grpc_status_set(st, TC__GRPC_INVALID_ARGUMENT,
                                    "invalid argument for --log_format, got: %.100s", f);
                return false;
            }
            s->iso8601 = strcmp(f, "ISO8601") == 0;
        }
    }
    return true;
}

typedef struct log_reply {
    Inference__LogSettingsResponse__SettingsEntry entries[6];
    Inference__LogSettingsResponse__SettingsEntry *ptrs[6];
    Inference__LogSettingsResponse__SettingValue values[6];
} log_reply;

static Inference__LogSettingsResponse__SettingValue *log_entry(log_reply *r, size_t i,
                                                               const char *key)
{
    Inference__LogSettingsResponse__SettingsEntry e =
        INFERENCE__LOG_SETTINGS_RESPONSE__SETTINGS_ENTRY__INIT;
    Inference__LogSettingsResponse__SettingValue v =
        INFERENCE__LOG_SETTINGS_RESPONSE__SETTING_VALUE__INIT;
    r->values[i] = v;
    r->entries[i] = e;
    r->entries[i].key = (char *)(uintptr_t)key;
    r->entries[i].value = &r->values[i];
    r->ptrs[i] = &r->entries[i];
    return &r->values[i];
}

static void log_pack(const tc__log_settings *s, tc__buf *out, tc__grpc_status *st)
{
    log_reply r;
    memset(&r, 0, sizeof r);
    Inference__LogSettingsResponse__SettingValue *v = log_entry(&r, 0, "log_file");
    v->parameter_choice_case =
        INFERENCE__LOG_SETTINGS_RESPONSE__SETTING_VALUE__PARAMETER_CHOICE_STRING_PARAM;
    v->string_param = (char *)(uintptr_t)s->file;
    static const char *const flags[3] = {"log_info", "log_warning", "log_error"};
    const bool vals[3] = {s->info, s->warning, s->error};
    for (size_t i = 0; i < 3; i++) {
        v = log_entry(&r, i + 1, flags[i]);
        v->parameter_choice_case =
            INFERENCE__LOG_SETTINGS_RESPONSE__SETTING_VALUE__PARAMETER_CHOICE_BOOL_PARAM;
        v->bool_param = vals[i];
    }
    v = log_entry(&r, 4, "log_verbose_level");
    v->parameter_choice_case =
        INFERENCE__LOG_SETTINGS_RESPONSE__SETTING_VALUE__PARAMETER_CHOICE_UINT32_PARAM;
    v->uint32_param = s->verbose_level;
    v = log_entry(&r, 5, "log_format");
    v->parameter_choice_case =
        INFERENCE__LOG_SETTINGS_RESPONSE__SETTING_VALUE__PARAMETER_CHOICE_STRING_PARAM;
    v->string_param = (char *)(uintptr_t)(s->iso8601 ? "ISO8601" : "default");
    Inference__LogSettingsResponse resp = INFERENCE__LOG_SETTINGS_RESPONSE__INIT;
    resp.n_settings = 6;
    resp.settings = r.ptrs;
    if (tc__pb_pack(&resp.base, out) != TC_OK)
        tc__grpc_status_set(st, TC__GRPC_RESOURCE_EXHAUSTED, "out of memory");
}

void tc__grpc_log_settings(tc__grpc_server *srv, const uint8_t *msg, size_t len, tc__buf *out,
                           tc__grpc_status *st)
{
    (void)srv;
    ProtobufCMessage *pm = NULL;
    tc__error err;
    tc__error_clear(&err);
    if (tc__pb_unpack(&inference__log_settings_request__descriptor, msg, len, &pm, &err) != TC_OK) {
        tc__grpc_status_from_error(st, &err);
        return;
    }
    const Inference__LogSettingsRequest *req = (const Inference__LogSettingsRequest *)pm;
    tc__log_settings s;
    tc__server_log_get(&s);
    if (log_update(req, &s, st)) {
        if (req->n_settings > 0)
            (void)tc__server_log_set(&s); /* same file: cannot fail */
        log_pack(&s, out, st);
    }
    tc__pb_backing_free(pm);
}
