/* Clocks. */
#ifndef TC_SRC_COMMON_TIMEUTIL_H
#define TC_SRC_COMMON_TIMEUTIL_H

#include <stdint.h>

/* Monotonic clock in nanoseconds. */
uint64_t tc__now_ns(void);
/* Wall clock in milliseconds since the Unix epoch. */
uint64_t tc__wall_ms(void);

#endif /* TC_SRC_COMMON_TIMEUTIL_H */
