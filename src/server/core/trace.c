/* Request tracing: the per-request trace object and the trace file writer.
 *
 * Sampling (settings.c) decides which requests get a trace; the frontends
 * and the core stamp Triton's timestamp names into it (monotonic ns); at
 * the end the trace becomes two objects of Triton's "triton" trace mode:
 *   {"id":7,"model_name":"simple","model_version":1},
 *   {"id":7,"timestamps":[{"name":"HTTP_RECV_START","ns":...},...]}
 * Files, as upstream: with log_frequency N > 0 every N collected traces go
 * to a new file "<trace_file>.<k>" (k = 0, 1, ...; each a complete JSON
 * array, rewritten if it exists); traces still pending at shutdown, and
 * all of them when log_frequency is 0, go to "<trace_file>" itself (one
 * JSON array, rewritten). TENSORS level is accepted; traces carry
 * timestamps only. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "core/internal.h"

#define MAX_STAMPS 24

typedef struct stamp {
    const char *name; /* a string literal */
    uint64_t ns;
} stamp;

struct tc__trace {
    tc__core *core;
    uint64_t id;
    int64_t log_frequency;
    bool has_version;
    int64_t version;
    char *model;
    stamp stamps[MAX_STAMPS];
    size_t stamp_count;
};

struct tc__trace_log {
    pthread_mutex_t lock; /* guards pending, pending_count, index */
    tc__buf pending;      /* trace objects, comma separated, no brackets */
    size_t pending_count;
    uint64_t index; /* next "<file>.<k>" */
    char file[256]; /* fixed at start: the endpoints cannot change it */
};

tc__trace_log *tc__trace_log_new(const char *file)
{
    tc__trace_log *log = tc__calloc(1, sizeof *log);
    if (log == NULL)
        return NULL;
    pthread_mutex_init(&log->lock, NULL);
    (void)snprintf(log->file, sizeof log->file, "%s", file != NULL ? file : "");
    return log;
}

static void write_array(const char *path, const uint8_t *data, size_t len)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        tc__log(TC_LOG_ERROR, "unable to write trace file '%s'", path);
        return;
    }
    bool ok = fputc('[', f) != EOF;
    ok = ok && (len == 0 || fwrite(data, 1, len, f) == len);
    ok = ok && fputs("]\n", f) != EOF;
    if (fclose(f) != 0 || !ok)
        tc__log(TC_LOG_ERROR, "unable to write trace file '%s'", path);
}

void tc__trace_log_free(tc__trace_log *log)
{
    if (log == NULL)
        return;
    if (log->pending_count > 0 && log->file[0] != '\0')
        write_array(log->file, log->pending.data, log->pending.len);
    tc__buf_cleanup(&log->pending);
    pthread_mutex_destroy(&log->lock);
    tc__free(log);
}

/* Queue one trace's objects; every `frequency` traces they go to a new
 * indexed file (written outside the lock). */
static void log_add(tc__trace_log *log, const tc__buf *json, int64_t frequency)
{
    tc__buf full = TC__BUF_INIT;
    uint64_t index = 0;
    pthread_mutex_lock(&log->lock);
    bool ok = log->pending_count == 0 || tc__buf_append(&log->pending, ",", 1) == TC_OK;
    ok = ok && tc__buf_append(&log->pending, json->data, json->len) == TC_OK;
    if (ok)
        log->pending_count++;
    if (ok && frequency > 0 && log->pending_count >= (uint64_t)frequency) {
        full = log->pending;
        memset(&log->pending, 0, sizeof log->pending);
        log->pending_count = 0;
        index = log->index++;
    }
    pthread_mutex_unlock(&log->lock);
    if (!ok)
        tc__log(TC_LOG_ERROR, "trace dropped: out of memory");
    if (full.len > 0) {
        char path[300];
        (void)snprintf(path, sizeof path, "%s.%" PRIu64, log->file, index);
        write_array(path, full.data, full.len);
    }
    tc__buf_cleanup(&full);
}

/* ---- traces --------------------------------------------------------------------------- */

bool tc__core_trace_enabled(tc__core *core)
{
    return atomic_load_explicit(&core->trace_on, memory_order_relaxed);
}

tc__trace *tc__core_trace_begin(tc__core *core, const char *model)
{
    if (!atomic_load_explicit(&core->trace_on, memory_order_relaxed) || model == NULL)
        return NULL;
    tc__trace_settings eff;
    if (!tc__trace_sample(core, model, &eff))
        return NULL;
    tc__trace *t = tc__calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->model = tc__strdup(model);
    if (t->model == NULL) {
        tc__free(t);
        return NULL;
    }
    t->core = core;
    t->id = atomic_fetch_add(&core->trace_next_id, 1u) + 1u;
    t->log_frequency = eff.log_frequency;
    return t;
}

void tc__trace_stamp_at(tc__trace *t, const char *name, uint64_t ns)
{
    if (t == NULL || t->stamp_count == MAX_STAMPS)
        return;
    t->stamps[t->stamp_count].name = name;
    t->stamps[t->stamp_count].ns = ns;
    t->stamp_count++;
}

void tc__trace_stamp(tc__trace *t, const char *name)
{
    if (t != NULL)
        tc__trace_stamp_at(t, name, tc__now_ns());
}

void tc__trace_set_version(tc__trace *t, int64_t version)
{
    if (t == NULL)
        return;
    t->has_version = true;
    t->version = version;
}

/* A JSON string of a model name (names are directory names; escape anyway). */
static tc_code json_string(tc__buf *b, const char *s)
{
    tc_code rc = tc__buf_append(b, "\"", 1);
    for (const char *p = s; rc == TC_OK && *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\')
            rc = tc__buf_printf(b, "\\%c", (char)c);
        else if (c < 0x20)
            rc = tc__buf_printf(b, "\\u%04x", (unsigned)c);
        else
            rc = tc__buf_append(b, p, 1);
    }
    return rc == TC_OK ? tc__buf_append(b, "\"", 1) : rc;
}

static tc_code render(const tc__trace *t, tc__buf *b)
{
    tc_code rc = tc__buf_printf(b, "{\"id\":%" PRIu64 ",\"model_name\":", t->id);
    if (rc == TC_OK)
        rc = json_string(b, t->model);
    if (rc == TC_OK)
        rc = tc__buf_printf(b,
                            ",\"model_version\":%" PRId64 "},{\"id\":%" PRIu64 ",\"timestamps\":[",
                            t->version, t->id);
    for (size_t i = 0; rc == TC_OK && i < t->stamp_count; i++)
        rc = tc__buf_printf(b, "%s{\"name\":\"%s\",\"ns\":%" PRIu64 "}", i > 0 ? "," : "",
                            t->stamps[i].name, t->stamps[i].ns);
    if (rc == TC_OK)
        rc = tc__buf_append(b, "]}", 2);
    return rc;
}

void tc__trace_end(tc__trace *t)
{
    if (t == NULL)
        return;
    if (t->has_version && t->core->trace_log != NULL) {
        tc__buf json = TC__BUF_INIT;
        if (render(t, &json) == TC_OK)
            log_add(t->core->trace_log, &json, t->log_frequency);
        else
            tc__log(TC_LOG_ERROR, "trace dropped: out of memory");
        tc__buf_cleanup(&json);
    }
    tc__free(t->model);
    tc__free(t);
}
