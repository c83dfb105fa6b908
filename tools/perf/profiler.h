/* The measurement loop of tritonc-perf, as perf_analyzer runs it: for each
 * sweep step, start the load and measure consecutive windows (time or
 * request count) until the last three agree within the stability
 * percentage or the trial limit is reached; report the last three merged.
 * A request belongs to the window in which it completed. */
#ifndef TC_TOOLS_PERF_PROFILER_H
#define TC_TOOLS_PERF_PROFILER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "load.h"
#include "options.h"
#include "stats.h"

#define PERF_STABILITY_WINDOW 3

/* The measurement of one sweep step. */
typedef struct perf_step_result {
    double value; /* concurrency or requests per second */
    bool stable;
    uint32_t trials;
    uint64_t request_count; /* completed in the reported windows */
    uint64_t duration_ns;   /* of the reported windows */
    double throughput;      /* infer/sec */
    perf_latency_summary lat;
    uint64_t sent;
    uint64_t delayed;
    uint64_t max_lag_ns;
    double send_rate;
    /* Averages over the requests with library timers (timed_count of
     * them): send, receive, response wait and request time. */
    uint64_t timed_count;
    double avg_send_ns;
    double avg_recv_ns;
    double avg_wait_ns;
    double avg_request_ns;
    bool has_server;
    perf_server_stats server;
    /* For --profile-export-file: every measured request and the window edges. */
    perf_record_buf records;
    uint64_t *bounds;
    size_t nbounds;
} perf_step_result;

typedef struct perf_profiler perf_profiler;

/* `stats_client` (may be NULL: no server statistics) is used from the
 * calling thread only. `wall_offset_ns` maps monotonic to wall time. */
perf_profiler *perf_profiler_new(const perf_options *opts, perf_load *load,
                                 tc_client *stats_client);
void perf_profiler_free(perf_profiler *p);

/* Run one step. Returns 0, or 1 after a failed request or out of memory
 * (`err` says why); an unstable step still returns 0 with stable false. */
int perf_profiler_run_step(perf_profiler *p, double value, perf_step_result *out, char *err,
                           size_t errlen);

void perf_step_result_cleanup(perf_step_result *r);

#endif /* TC_TOOLS_PERF_PROFILER_H */
