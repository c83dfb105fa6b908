/* Measurement math of tritonc-perf, with perf_analyzer's definitions:
 * latency percentiles, mean and deviation, throughput, the stability test
 * over the last windows, and server statistics (Triton's model statistics
 * JSON) parsed, diffed and averaged per request. No I/O. */
#ifndef TC_TOOLS_PERF_STATS_H
#define TC_TOOLS_PERF_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Percentiles always reported, as perf_analyzer does; --percentile N adds one. */
#define PERF_MAX_PERCENTILES 5

/* Client-side summary of a set of request latencies. */
typedef struct perf_latency_summary {
    uint64_t count;
    double avg_ns;
    double std_ns;
    size_t npct;
    int pct[PERF_MAX_PERCENTILES];
    uint64_t pct_ns[PERF_MAX_PERCENTILES];
} perf_latency_summary;

/* Value at percentile `p` (0..100) of `sorted` ascending latencies, picked as
 * perf_analyzer does: index = p/100 * (n - 1), rounded half up. 0 when n is 0. */
uint64_t perf_percentile(const uint64_t *sorted, size_t n, double p);

/* Sort `lat` in place and fill `out`: count, mean, population standard
 * deviation and the 50/90/95/99th percentiles plus `extra_pct` when it is
 * in 1..99 and not one of those (-1 = none). */
void perf_latency_summarize(uint64_t *lat, size_t n, int extra_pct, perf_latency_summary *out);

/* Latency used for stabilization and the summary line: the average, or
 * percentile `pct` when it is not -1. */
uint64_t perf_summary_latency_ns(const perf_latency_summary *s, int pct);

/* Completed inferences per second: count * batch / window. */
double perf_throughput(uint64_t completed, uint32_t batch, uint64_t window_ns);

/* True when the last `window` values of both series are non-zero and each
 * lies within +-`pct` percent of the series' mean over those values (latency
 * is skipped when `latency` is NULL). False with fewer than `window` values. */
bool perf_is_stable(const double *throughput, const double *latency, size_t n, size_t window,
                    double pct);

/* One counter of Triton's inference_stats: requests and total nanoseconds. */
typedef struct perf_stat_duration {
    uint64_t count;
    uint64_t ns;
} perf_stat_duration;

/* Server statistics of one model (summed over the selected versions). */
typedef struct perf_server_stats {
    uint64_t inference_count;
    uint64_t execution_count;
    perf_stat_duration success;
    perf_stat_duration fail;
    perf_stat_duration queue;
    perf_stat_duration compute_input;
    perf_stat_duration compute_infer;
    perf_stat_duration compute_output;
    perf_stat_duration cache_hit;
    perf_stat_duration cache_miss;
} perf_server_stats;

/* Parse `{"model_stats":[...]}` and add up the entries of `model` (and of
 * `version` unless it is NULL or ""). Returns false when the text is not
 * statistics JSON or no entry matches; `err` gets a message. */
bool perf_server_stats_parse(const char *json, const char *model, const char *version,
                             perf_server_stats *out, char *err, size_t errlen);

/* out = after - before, counter by counter (0 when a counter went down). */
void perf_server_stats_diff(const perf_server_stats *after, const perf_server_stats *before,
                            perf_server_stats *out);

/* out += add, counter by counter. */
void perf_server_stats_add(perf_server_stats *out, const perf_server_stats *add);

/* Per-request averages in microseconds, as perf_analyzer prints them: each
 * total divided by the successful request count, and the overhead being the
 * request latency minus queue and compute (never negative). */
typedef struct perf_server_avg {
    uint64_t request_us;
    uint64_t overhead_us;
    uint64_t queue_us;
    uint64_t compute_input_us;
    uint64_t compute_infer_us;
    uint64_t compute_output_us;
    uint64_t cache_hit_us;
    uint64_t cache_miss_us;
} perf_server_avg;

void perf_server_stats_average(const perf_server_stats *s, perf_server_avg *out);

#endif /* TC_TOOLS_PERF_STATS_H */
