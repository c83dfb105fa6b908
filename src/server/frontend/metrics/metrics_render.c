/* Prometheus text rendering: one HELP and one TYPE line per family, then one
 * sample per model version, labels `model` and `version` (and `reason` for
 * failures) in upstream's order. */
#include "frontend/metrics/metrics_render.h"

#include <string.h>

typedef uint64_t (*stat_value_fn)(const tc__model_stats *s);

typedef struct model_family {
    const char *name;
    const char *type;
    const char *help;
    stat_value_fn value;
} model_family;

static uint64_t success_count(const tc__model_stats *s)
{
    return s->success.count;
}

static uint64_t inference_count(const tc__model_stats *s)
{
    return s->inference_count;
}

static uint64_t execution_count(const tc__model_stats *s)
{
    return s->execution_count;
}

/* Upstream reports the request duration of successful requests only. */
static uint64_t request_us(const tc__model_stats *s)
{
    return s->success.ns / 1000u;
}

static uint64_t queue_us(const tc__model_stats *s)
{
    return s->queue.ns / 1000u;
}

static uint64_t compute_input_us(const tc__model_stats *s)
{
    return s->compute_input.ns / 1000u;
}

static uint64_t compute_infer_us(const tc__model_stats *s)
{
    return s->compute_infer.ns / 1000u;
}

static uint64_t compute_output_us(const tc__model_stats *s)
{
    return s->compute_output.ns / 1000u;
}

#define FAILURE_NAME "nv_inference_request_failure"
#define FAILURE_HELP "Number of failed inference requests, all batch sizes"

/* Families printed before and after the failure counter, in upstream's order. */
static const model_family k_success = {"nv_inference_request_success", "counter",
                                       "Number of successful inference requests, all batch sizes",
                                       success_count};

static uint64_t pending_count(const tc__model_stats *s)
{
    return s->pending_count;
}

static const model_family k_after_failure[] = {
    {"nv_inference_count", "counter",
     "Number of inferences performed (does not include cached requests)", inference_count},
    {"nv_inference_exec_count", "counter",
     "Number of model executions performed (does not include cached requests)", execution_count},
    {"nv_inference_request_duration_us", "counter",
     "Cumulative inference request duration in microseconds (includes cached requests)",
     request_us},
    {"nv_inference_queue_duration_us", "counter",
     "Cumulative inference queuing duration in microseconds (includes cached requests)", queue_us},
    {"nv_inference_compute_input_duration_us", "counter",
     "Cumulative compute input duration in microseconds (does not include cached requests)",
     compute_input_us},
    {"nv_inference_compute_infer_duration_us", "counter",
     "Cumulative compute inference duration in microseconds (does not include cached requests)",
     compute_infer_us},
    {"nv_inference_compute_output_duration_us", "counter",
     "Cumulative inference compute output duration in microseconds (does not include cached "
     "requests)",
     compute_output_us},
    {"nv_inference_pending_request_count", "gauge",
     "Instantaneous number of pending requests awaiting execution per-model.", pending_count},
};

/* Upstream's failure reasons, indexed by tc__fail_reason. */
static const char *const k_reasons[TC__FAIL_REASON_COUNT] = {
    [TC__FAIL_REJECTED] = "REJECTED",
    [TC__FAIL_CANCELED] = "CANCELED",
    [TC__FAIL_BACKEND] = "BACKEND",
    [TC__FAIL_OTHER] = "OTHER",
};

/* A label value with `\`, `"` and newlines escaped as the format requires. */
static tc_code append_label_value(tc__buf *out, const char *v)
{
    tc_code rc = TC_OK;
    for (const char *p = v; *p != '\0' && rc == TC_OK; p++) {
        if (*p == '\\')
            rc = tc__buf_append_str(out, "\\\\");
        else if (*p == '"')
            rc = tc__buf_append_str(out, "\\\"");
        else if (*p == '\n')
            rc = tc__buf_append_str(out, "\\n");
        else
            rc = tc__buf_append(out, p, 1);
    }
    return rc;
}

/* `name{model="m",[reason="r",]version="v"} value` */
static tc_code append_sample(tc__buf *out, const char *name, const tc__model_stats *s,
                             const char *reason, uint64_t value)
{
    tc_code rc = tc__buf_printf(out, "%s{model=\"", name);
    if (rc == TC_OK)
        rc = append_label_value(out, s->name);
    if (rc == TC_OK && reason != NULL)
        rc = tc__buf_printf(out, "\",reason=\"%s", reason);
    if (rc == TC_OK)
        rc = tc__buf_append_str(out, "\",version=\"");
    if (rc == TC_OK)
        rc = append_label_value(out, s->version);
    if (rc == TC_OK)
        rc = tc__buf_printf(out, "\"} %llu\n", (unsigned long long)value);
    return rc;
}

static tc_code append_header(tc__buf *out, const char *name, const char *type, const char *help)
{
    return tc__buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static tc_code append_family(tc__buf *out, const model_family *f, const tc__model_stats *stats,
                             size_t count)
{
    tc_code rc = append_header(out, f->name, f->type, f->help);
    for (size_t i = 0; i < count && rc == TC_OK; i++)
        rc = append_sample(out, f->name, &stats[i], NULL, f->value(&stats[i]));
    return rc;
}

static tc_code append_failures(tc__buf *out, const tc__model_stats *stats, size_t count)
{
    tc_code rc = append_header(out, FAILURE_NAME, "counter", FAILURE_HELP);
    for (size_t i = 0; i < count && rc == TC_OK; i++) {
        for (size_t r = 0; r < TC__FAIL_REASON_COUNT && rc == TC_OK; r++)
            rc = append_sample(out, FAILURE_NAME, &stats[i], k_reasons[r],
                               stats[i].fail_by_reason[r]);
    }
    return rc;
}

static tc_code append_system(tc__buf *out, const tc__metrics_system *sys)
{
    tc_code rc = TC_OK;
    if (sys->has_cpu_utilization) {
        rc = append_header(out, "nv_cpu_utilization", "gauge", "CPU utilization rate [0.0 - 1.0]");
        if (rc == TC_OK)
            rc = tc__buf_printf(out, "nv_cpu_utilization %.17g\n", sys->cpu_utilization);
    }
    if (rc == TC_OK && sys->has_memory) {
        rc = append_header(out, "nv_cpu_memory_total_bytes", "gauge",
                           "CPU total memory (RAM), in bytes");
        if (rc == TC_OK)
            rc = tc__buf_printf(out, "nv_cpu_memory_total_bytes %llu\n",
                                (unsigned long long)sys->memory_total_bytes);
        if (rc == TC_OK)
            rc = append_header(out, "nv_cpu_memory_used_bytes", "gauge",
                               "CPU used memory (RAM), in bytes");
        if (rc == TC_OK)
            rc = tc__buf_printf(out, "nv_cpu_memory_used_bytes %llu\n",
                                (unsigned long long)sys->memory_used_bytes);
    }
    return rc;
}

tc_code tc__metrics_render(tc__buf *out, const tc__model_stats *stats, size_t count,
                           const tc__metrics_system *sys)
{
    tc_code rc = TC_OK;
    /* A family without samples says nothing; leave it out until a model loads. */
    if (count > 0) {
        rc = append_family(out, &k_success, stats, count);
        if (rc == TC_OK)
            rc = append_failures(out, stats, count);
        size_t n = sizeof k_after_failure / sizeof k_after_failure[0];
        for (size_t i = 0; i < n && rc == TC_OK; i++)
            rc = append_family(out, &k_after_failure[i], stats, count);
    }
    if (rc == TC_OK && sys != NULL)
        rc = append_system(out, sys);
    return rc;
}
