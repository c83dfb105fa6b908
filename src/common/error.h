/* Error details carried beside a tc_code through the codec, core and client. */
#ifndef TC_SRC_COMMON_ERROR_H
#define TC_SRC_COMMON_ERROR_H

#include <tritonc/common.h>

#define TC__ERROR_MSG_MAX 1024

typedef struct tc__error {
    tc_code code;
    char msg[TC__ERROR_MSG_MAX];
} tc__error;

/* Record `code` and a printf-style message in `err` (which may be NULL).
 * Returns `code` so callers can write `return tc__error_set(err, ...)`. */
tc_code tc__error_set(tc__error *err, tc_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Reset to TC_OK with an empty message. */
void tc__error_clear(tc__error *err);

/* HTTP status for a server-side error code, as HTTP.md section 0 maps it. */
int tc__code_to_http_status(tc_code code);
/* Client-side code for an HTTP status of an error answer. */
tc_code tc__code_from_http_status(long status);
/* gRPC status number (0..16) for a code, as GRPC.md maps it. */
int tc__code_to_grpc_status(tc_code code);
/* Client-side code for a gRPC status number. */
tc_code tc__code_from_grpc_status(int status);

#endif /* TC_SRC_COMMON_ERROR_H */
