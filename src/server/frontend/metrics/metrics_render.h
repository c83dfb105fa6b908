/* Prometheus text exposition (format 0.0.4) of the core's statistics, with
 * upstream Triton's metric names, types, HELP texts and labels so existing
 * dashboards, alerts and autoscaling rules keep working. No I/O: the caller
 * gathers the figures, this only formats them. */
#ifndef TC_SRC_SERVER_FRONTEND_METRICS_METRICS_RENDER_H
#define TC_SRC_SERVER_FRONTEND_METRICS_METRICS_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "core/core.h"

/* The Content-Type of a scrape answer. */
#define TC__METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Host figures (CPU metrics); `has_*` false leaves a family out. */
typedef struct tc__metrics_system {
    bool has_cpu_utilization;
    double cpu_utilization; /* 0.0 - 1.0 over the last interval */
    bool has_memory;
    uint64_t memory_total_bytes;
    uint64_t memory_used_bytes; /* total - available */
} tc__metrics_system;

/* Append the per-model families for `stats[0..count)` and then the system
 * gauges to `out`. TC_E_NOMEM when the buffer cannot grow (`out` then holds
 * a partial text the caller discards). */
tc_code tc__metrics_render(tc__buf *out, const tc__model_stats *stats, size_t count,
                           const tc__metrics_system *sys);

#endif /* TC_SRC_SERVER_FRONTEND_METRICS_METRICS_RENDER_H */
