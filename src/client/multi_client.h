/* The resilient client (multi_client.c): retries and several endpoints over
 * ordinary transport clients. */
#ifndef TC_SRC_CLIENT_MULTI_CLIENT_H
#define TC_SRC_CLIENT_MULTI_CLIENT_H

#include "client/client_internal.h"
#include "client/retry.h"

/* Create the plain client of one endpoint from the transport's options
 * (`opts`, with any retry policy ignored). */
typedef tc_code (*tc__multi_make_fn)(tc_client **out, const char *url, const void *opts);

typedef struct tc__multi_cfg {
    tc__multi_make_fn make;
    const void *opts;            /* passed to make */
    tc__retry_cfg retry;         /* max_attempts <= 1: no retry */
    uint64_t network_timeout_us; /* deadline of calls without their own (0 = none) */
} tc__multi_cfg;

/* A client over `n` endpoints; each URL is checked by `make`.
 * TC_E_INVALID_ARG, TC_E_NOMEM, or make's error. */
tc_code tc__multi_client_new(tc_client **out, const char *const *urls, size_t n,
                             const tc__multi_cfg *cfg);

#endif /* TC_SRC_CLIENT_MULTI_CLIENT_H */
