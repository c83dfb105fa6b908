/* The inside of tc_result, filled by the transports. */
#ifndef TC_SRC_CLIENT_RESULT_INTERNAL_H
#define TC_SRC_CLIENT_RESULT_INTERNAL_H

#include <tritonc/result.h>

#include "proto/v2_types.h"

/* Offsets of the elements of one BYTES output, built on first access. */
typedef struct tc__bytes_index {
    bool built;
    size_t count;
    size_t *offsets; /* count + 1 entries: element i spans [offsets[i]+4, offsets[i+1]) */
} tc__bytes_index;

/* Per-call timestamps (monotonic ns, 0 = not recorded), indexed by tc_timer_kind. */
#define TC__TIMER_COUNT 6
typedef struct tc__timers {
    uint64_t ns[TC__TIMER_COUNT];
} tc__timers;

/* Record `kind` now unless it is already set. */
void tc__timers_mark(tc__timers *t, tc_timer_kind kind);
/* Record `kind` now, replacing an earlier value. */
void tc__timers_set(tc__timers *t, tc_timer_kind kind);

struct tc_result {
    tc_code status;
    long http_status;
    char *message;           /* owned; NULL = "" */
    tc__infer_response resp; /* empty unless status is TC_OK */
    uint8_t *body;           /* owned response body; binary outputs point into it */
    tc__bytes_index *bytes;  /* one per output, NULL until a BYTES access */
    void *pb_backing;        /* gRPC: unpacked message the outputs point into, or NULL */
    tc__timers timers;       /* filled by the transports */
};

/* A result with status TC_E_UNKNOWN and nothing else; NULL on allocation failure. */
tc_result *tc__result_new(void);
/* Record a failure (the message is copied; on allocation failure it is dropped). */
void tc__result_set_error(tc_result *r, tc_code code, long http_status, const char *msg);
/* Fill `r` from a complete HTTP answer. Takes ownership of `body` (a tc__malloc
 * buffer, may be NULL when len is 0). `header_len` is the
 * Inference-Header-Content-Length value or TC__NO_HEADER_LENGTH. */
void tc__result_from_http(tc_result *r, long http_status, uint8_t *body, size_t len,
                          size_t header_len);

/* For every requested output of `req` in shared memory, mark the result's
 * output of that name as written there (its shm reference) unless the
 * server already said so in the output's parameters. NULL `r` is fine. */
void tc__result_note_shm(tc_result *r, const tc__infer_request *req);

/* Give `r` the stamps of `t` (the recorded ones win over r's) and stamp
 * REQUEST_END now; then force the recorded stamps into order (a later
 * stamp never precedes an earlier one). NULL `r` is fine. */
void tc__result_finish_timers(tc_result *r, const tc__timers *t);

#endif /* TC_SRC_CLIENT_RESULT_INTERNAL_H */
