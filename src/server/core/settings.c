/* Trace settings (stored, reported and applied by sampling) and the
 * process-wide log settings behind the server's log hook. */
#define _GNU_SOURCE /* syscall(SYS_gettid) for the log line thread id */
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "core/internal.h"

/* ---- trace ------------------------------------------------------------------------- */

static bool model_ready(tc__core *core, const char *model)
{
    bool ready = false;
    tc__error ignored;
    return tc__core_model_is_ready(core, model, NULL, &ready, &ignored) == TC_OK && ready;
}

/* core->trace_lock held. */
static tc__trace_override *find_override(tc__core *core, const char *model)
{
    for (size_t i = 0; i < core->trace_model_count; i++) {
        if (strcmp(core->trace_models[i].model, model) == 0)
            return &core->trace_models[i];
    }
    return NULL;
}

static void effective(const tc__trace_settings *g, const tc__trace_override *o,
                      tc__trace_settings *out)
{
    *out = *g;
    if (o == NULL)
        return;
    if (o->has_level)
        out->level = o->s.level;
    if (o->has_rate)
        out->rate = o->s.rate;
    if (o->has_count)
        out->count = o->s.count;
    if (o->has_log_frequency)
        out->log_frequency = o->s.log_frequency;
}

/* The settings may sample a request. */
static bool eligible(const tc__trace_settings *s)
{
    return s->level != 0 && s->rate > 0 && s->count != 0;
}

void tc__trace_refresh(tc__core *core)
{
    bool on = false;
    if (core->trace_global.file[0] != '\0') {
        on = eligible(&core->trace_global);
        for (size_t i = 0; !on && i < core->trace_model_count; i++) {
            tc__trace_settings eff;
            effective(&core->trace_global, &core->trace_models[i], &eff);
            on = eligible(&eff);
        }
    }
    atomic_store_explicit(&core->trace_on, on, memory_order_relaxed);
}

bool tc__trace_sample(tc__core *core, const char *model, tc__trace_settings *eff)
{
    bool hit = false;
    pthread_mutex_lock(&core->trace_lock);
    tc__trace_override *o = find_override(core, model);
    effective(&core->trace_global, o, eff);
    if (eligible(eff) && eff->file[0] != '\0') {
        /* As upstream: the rate-th, 2*rate-th... request is traced. */
        uint64_t *seen = o != NULL && o->has_rate ? &o->seen : &core->trace_seen;
        hit = ++*seen % (uint64_t)eff->rate == 0;
        if (hit && eff->count > 0) {
            /* The count is what is left to trace, as upstream reports it. */
            int64_t *left = o != NULL && o->has_count ? &o->s.count : &core->trace_global.count;
            (*left)--;
            if (*left == 0)
                tc__trace_refresh(core);
        }
    }
    pthread_mutex_unlock(&core->trace_lock);
    return hit;
}

tc_code tc__core_trace_get(tc__core *core, const char *model, tc__trace_settings *out,
                           tc__error *err)
{
    if (model != NULL && !model_ready(core, model))
        return tc__error_set(err, TC_E_INVALID_ARG, "Request for unknown model : %s", model);
    pthread_mutex_lock(&core->trace_lock);
    effective(&core->trace_global, model != NULL ? find_override(core, model) : NULL, out);
    pthread_mutex_unlock(&core->trace_lock);
    return TC_OK;
}

static void apply_global(tc__trace_settings *g, const tc__trace_update *u)
{
    if (u->has_level)
        g->level = u->level;
    if (u->has_rate)
        g->rate = u->rate;
    if (u->has_count)
        g->count = u->count;
    if (u->has_log_frequency)
        g->log_frequency = u->log_frequency;
}

static void apply_model(const tc__trace_settings *g, tc__trace_override *o,
                        const tc__trace_update *u)
{
    bool first = !o->has_level && !o->has_rate && !o->has_count && !o->has_log_frequency;
    if (first) {
        /* The first per-model update copies the global settings. */
        o->s = *g;
        o->has_level = o->has_rate = o->has_count = o->has_log_frequency = true;
    }
    if (u->has_level)
        o->s.level = u->level;
    if (u->has_rate)
        o->s.rate = u->rate;
    if (u->has_count)
        o->s.count = u->count;
    if (u->has_log_frequency)
        o->s.log_frequency = u->log_frequency;
    o->has_level = u->clear_level ? false : o->has_level;
    o->has_rate = u->clear_rate ? false : o->has_rate;
    o->has_count = u->clear_count ? false : o->has_count;
    o->has_log_frequency = u->clear_log_frequency ? false : o->has_log_frequency;
}

tc_code tc__core_trace_update(tc__core *core, const char *model, const tc__trace_update *u,
                              tc__error *err)
{
    if (model != NULL && !model_ready(core, model))
        return tc__error_set(err, TC_E_INVALID_ARG, "Request for unknown model : %s", model);
    tc_code rc = TC_OK;
    pthread_mutex_lock(&core->trace_lock);
    if (model == NULL) {
        apply_global(&core->trace_global, u);
        core->trace_seen = 0; /* new settings count afresh, as upstream */
        goto out;
    }
    tc__trace_override *o = find_override(core, model);
    if (o == NULL) {
        tc__trace_override *grown =
            tc__reallocarray(core->trace_models, core->trace_model_count + 1, sizeof *grown);
        char *name = tc__strdup(model);
        if (grown != NULL)
            core->trace_models = grown;
        if (grown == NULL || name == NULL) {
            tc__free(name);
            rc = tc__error_set(err, TC_E_NOMEM, "out of memory");
            goto out;
        }
        o = &grown[core->trace_model_count++];
        memset(o, 0, sizeof *o);
        o->model = name;
    }
    apply_model(&core->trace_global, o, u);
    o->seen = 0;
out:
    tc__trace_refresh(core);
    pthread_mutex_unlock(&core->trace_lock);
    return rc;
}

/* ---- logging ------------------------------------------------------------------------- */

static pthread_mutex_t g_log_lock = PTHREAD_MUTEX_INITIALIZER; /* guards g_log, g_log_file */
static tc__log_settings g_log = {"", true, true, true, 0, false};
static FILE *g_log_file; /* --log-file, or NULL for stderr */

void tc__server_log_get(tc__log_settings *out)
{
    pthread_mutex_lock(&g_log_lock);
    *out = g_log;
    pthread_mutex_unlock(&g_log_lock);
}

bool tc__server_log_set(const tc__log_settings *in)
{
    FILE *opened = NULL;
    FILE *old = NULL;
    pthread_mutex_lock(&g_log_lock);
    bool same_file = strcmp(in->file, g_log.file) == 0;
    pthread_mutex_unlock(&g_log_lock);
    if (!same_file && in->file[0] != '\0') {
        opened = fopen(in->file, "a");
        if (opened == NULL)
            return false;
        setvbuf(opened, NULL, _IOLBF, 0);
    }
    pthread_mutex_lock(&g_log_lock);
    if (!same_file) {
        old = g_log_file;
        g_log_file = opened;
    }
    g_log = *in;
    pthread_mutex_unlock(&g_log_lock);
    if (old != NULL)
        (void)fclose(old);
    return true;
}

void tc__server_log_close(void)
{
    pthread_mutex_lock(&g_log_lock);
    FILE *old = g_log_file;
    g_log_file = NULL;
    g_log.file[0] = '\0';
    pthread_mutex_unlock(&g_log_lock);
    if (old != NULL)
        (void)fclose(old);
}

static bool level_on(const tc__log_settings *s, tc_log_level level)
{
    return (level == TC_LOG_ERROR && s->error) || (level == TC_LOG_WARNING && s->warning) ||
           (level == TC_LOG_INFO && s->info) || (level == TC_LOG_VERBOSE && s->verbose_level > 0);
}

/* Upstream's prefixes: "I1127 04:41:08.123456 1234 tritonc] " (glog-like,
 * local time) or, for ISO8601, "2026-11-27T04:41:08Z I 1234 tritonc] "
 * (UTC); 1234 is the thread id. */
void tc__server_log_cb(tc_log_level level, const char *message, void *user_data)
{
    (void)user_data;
    static const char k_letters[] = "EWIV";
    char letter = k_letters[(unsigned)level < 4u ? (unsigned)level : 3u];
    long tid = (long)syscall(SYS_gettid);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    char line[160];
    pthread_mutex_lock(&g_log_lock);
    bool on = level_on(&g_log, level);
    bool iso = g_log.iso8601;
    if (on && iso) {
        gmtime_r(&tv.tv_sec, &tm);
        (void)snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02dZ %c %ld tritonc] ",
                       tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                       tm.tm_sec, letter, tid);
    } else if (on) {
        localtime_r(&tv.tv_sec, &tm);
        (void)snprintf(line, sizeof line, "%c%02d%02d %02d:%02d:%02d.%06ld %ld tritonc] ", letter,
                       tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                       (long)tv.tv_usec, tid);
    }
    /* Under the lock so that lines never interleave and the file stays open. */
    if (on)
        (void)fprintf(g_log_file != NULL ? g_log_file : stderr, "%s%s\n", line, message);
    pthread_mutex_unlock(&g_log_lock);
}
