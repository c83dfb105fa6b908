/* Retry policy, failure classification, backoff with jitter and the request
 * copy that async retries resend (retry.c); used by multi_client.c. */
#ifndef TC_SRC_CLIENT_RETRY_H
#define TC_SRC_CLIENT_RETRY_H

#include <stdbool.h>
#include <stdint.h>

#include <tritonc/client.h>

/* The retry policy of a client's options; max_attempts 0 or 1 = no retry. */
typedef struct tc__retry_cfg {
    uint32_t max_attempts;
    uint64_t initial_backoff_us;
    uint64_t max_backoff_us;
} tc__retry_cfg;

/* How a failed attempt failed. */
typedef enum tc__fail_kind {
    TC__FAIL_FINAL,  /* an answer, or a local failure: never retried */
    TC__FAIL_UNSENT, /* the request never (fully) reached the server: any call may retry */
    TC__FAIL_SENT    /* transport failure after sending: only idempotent calls retry */
} tc__fail_kind;

/* Classify a failure from its code and message (the transports' wording for
 * connect, resolve and send failures marks TC__FAIL_UNSENT). */
tc__fail_kind tc__retry_classify(tc_code code, const char *msg);

/* Whether a failure of this kind may be retried by a call that is (not)
 * idempotent. */
bool tc__retry_allowed(tc__fail_kind kind, bool idempotent);

/* Delay before attempt `attempt` + 1 (attempt >= 1 failed so far): the
 * exponential backoff initial * 2^(attempt-1), capped at max, with "equal
 * jitter" (a uniform value in [b/2, b]). `rng` is the caller's state. */
uint64_t tc__retry_backoff_us(const tc__retry_cfg *cfg, uint32_t attempt, uint64_t *rng);

/* Check a policy given to a setter. */
tc_code tc__retry_cfg_set(tc__retry_cfg *cfg, uint32_t max_attempts, uint64_t initial_backoff_us,
                          uint64_t max_backoff_us);

/* Deep copy of a request for a later resend: borrowed input data stays
 * borrowed (the caller keeps it valid until the callback), owned data is
 * copied. TC_E_NOMEM. */
tc_code tc__request_clone(const tc_request *src, tc_request **out);

#endif /* TC_SRC_CLIENT_RETRY_H */
