/* Command line of tritonc-perf: perf_analyzer's core options. */
#ifndef TC_TOOLS_PERF_OPTIONS_H
#define TC_TOOLS_PERF_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "input_data.h"

typedef enum perf_protocol { PERF_PROTOCOL_HTTP, PERF_PROTOCOL_GRPC } perf_protocol;
typedef enum perf_mode { PERF_MODE_CONCURRENCY, PERF_MODE_REQUEST_RATE } perf_mode;
typedef enum perf_distribution { PERF_DIST_CONSTANT, PERF_DIST_POISSON } perf_distribution;
typedef enum perf_window_mode { PERF_WINDOW_TIME, PERF_WINDOW_COUNT } perf_window_mode;
typedef enum perf_shm { PERF_SHM_NONE, PERF_SHM_SYSTEM, PERF_SHM_CUDA } perf_shm;
typedef enum perf_data_kind { PERF_DATA_RANDOM, PERF_DATA_ZERO, PERF_DATA_FILE } perf_data_kind;

typedef struct perf_options {
    const char *model;
    const char *version; /* "" = the server's choice */
    const char *url;
    perf_protocol protocol;
    uint32_t batch;
    perf_mode mode;
    double range_start; /* concurrency (whole numbers) or requests per second */
    double range_end;
    double range_step;
    perf_distribution distribution;
    bool async;
    bool streaming;
    perf_shm shared_memory;
    uint64_t output_shm_size;
    perf_data_kind data_kind;
    const char *data_file;
    perf_shape_opt *shapes;
    size_t nshapes;
    uint64_t window_ms;
    double stability_pct;
    uint32_t max_trials;
    int percentile; /* -1 = stabilize on the average */
    perf_window_mode window_mode;
    uint64_t measurement_request_count;
    const char *csv_file;
    bool verbose_csv;
    const char *profile_file;
    const char *plot_file;
    bool verbose;
    uint32_t max_threads;
    uint32_t max_inflight;
    uint64_t string_length;
    uint64_t latency_threshold_ms; /* 0 = none */
} perf_options;

/* What perf_options_parse() decided. */
typedef enum perf_parse_status {
    PERF_PARSE_OK,   /* run */
    PERF_PARSE_HELP, /* usage was asked for: print it, exit 0 */
    PERF_PARSE_ERROR /* `err` says why: print it, exit non-zero */
} perf_parse_status;

perf_parse_status perf_options_parse(int argc, char **argv, perf_options *opts, char *err,
                                     size_t errlen);
void perf_options_cleanup(perf_options *opts);
void perf_options_usage(const char *prog);

/* Number of sweep steps and the load of step `i`. */
size_t perf_options_step_count(const perf_options *opts);
double perf_options_step_value(const perf_options *opts, size_t i);

#endif /* TC_TOOLS_PERF_OPTIONS_H */
