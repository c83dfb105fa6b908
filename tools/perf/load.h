/* Load generation for tritonc-perf: N outstanding requests (async callbacks
 * that re-issue, or N threads making blocking calls), or requests issued at
 * scheduled times (constant or Poisson spacing) with a bounded number in
 * flight. Every completed request leaves a record; the profiler takes them
 * per measurement window. Memory stays bounded: records live in per-worker
 * buffers that the profiler empties each window, and the tool allocates
 * nothing per request. */
#ifndef TC_TOOLS_PERF_LOAD_H
#define TC_TOOLS_PERF_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tritonc/tritonc.h>

#include "input_data.h"
#include "options.h"

/* One completed request; times are monotonic nanoseconds. */
typedef struct perf_record {
    uint64_t start_ns; /* handed to the library */
    uint64_t end_ns;   /* result received */
    uint64_t sched_ns; /* request-rate: when it was due; 0 otherwise */
    uint32_t ok;       /* 1 when the server answered with outputs */
    uint32_t delayed;  /* request-rate: the sender was late for it */
    /* From the library's per-request timers (tc_result_timer_ns), valid
     * when `timed` is 1: SEND_END - SEND_START, RECV_END - RECV_START,
     * RECV_START - SEND_END and REQUEST_END - REQUEST_START. */
    uint64_t send_ns;
    uint64_t recv_ns;
    uint64_t wait_ns;
    uint64_t request_ns;
    uint32_t timed;
} perf_record;

/* Fill the timer fields of `r` from `result` (timed stays 0 when a stamp
 * is missing). */
void perf_record_set_timers(perf_record *r, const tc_result *result);

/* A growable record array the profiler reuses between windows. */
typedef struct perf_record_buf {
    perf_record *v;
    size_t n;
    size_t cap;
} perf_record_buf;

bool perf_record_buf_push(perf_record_buf *buf, const perf_record *r);
void perf_record_buf_cleanup(perf_record_buf *buf);

/* What the load needs to know about the model and its data. */
typedef struct perf_load_config {
    const perf_options *opts;
    const perf_input_info *inputs;
    size_t ninputs;
    const perf_dataset *data;
    bool batching; /* max_batch_size > 0: shapes get a leading batch dimension */
    char *const *outputs; /* output names (for --shared-memory), `noutputs` of them */
    size_t noutputs;
} perf_load_config;

typedef struct perf_load perf_load;

/* Create a client of the configured protocol; `connections` bounds HTTP's
 * parallel connections (gRPC multiplexes one). */
tc_code perf_client_new(const perf_options *opts, uint32_t connections, tc_client **out, char *err,
                        size_t errlen);

/* Build the request of data step `step` (inputs borrowed from the dataset). */
tc_code perf_request_build(const perf_load_config *cfg, size_t step, tc_request **out);

perf_load *perf_load_new(const perf_load_config *cfg);

/* Start the load of one sweep step: `value` outstanding requests
 * (concurrency mode) or requests per second (request-rate mode). With
 * --shared-memory system|cuda every slot (outstanding request) gets one
 * region per input, holding the data of every data step, and one region
 * per output of --output-shared-memory-size bytes; they are created and
 * registered here and unregistered and destroyed by perf_load_stop(). */
bool perf_load_start(perf_load *load, double value, char *err, size_t errlen);

/* Move every record completed so far into `out` (appended). Returns false
 * when out of memory. */
bool perf_load_take(perf_load *load, perf_record_buf *out);

/* Number of failed requests so far, and the first failure's message. */
uint64_t perf_load_errors(perf_load *load, char *msg, size_t msglen);

/* Sends so far (cumulative), late sends (cumulative) and the largest lag
 * behind schedule since the previous call (reset by the call). */
typedef struct perf_send_counters {
    uint64_t sent;
    uint64_t delayed;
    uint64_t max_lag_ns;
} perf_send_counters;

void perf_load_counters(perf_load *load, perf_send_counters *out);

/* Records dropped because a worker buffer was full (profiler too slow). */
uint64_t perf_load_dropped(perf_load *load);

/* Stop issuing, wait for requests in flight, free the step's clients. */
void perf_load_stop(perf_load *load);

void perf_load_free(perf_load *load);

#endif /* TC_TOOLS_PERF_LOAD_H */
