/* Internal logging through the user's tc_set_log_callback() hook. */
#ifndef TC_SRC_COMMON_LOG_H
#define TC_SRC_COMMON_LOG_H

#include <tritonc/common.h>

void tc__log(tc_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* True when a message at `level` would reach the hook (skip costly formatting). */
bool tc__log_enabled(tc_log_level level);

#endif /* TC_SRC_COMMON_LOG_H */
