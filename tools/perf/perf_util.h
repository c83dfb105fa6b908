/* Small helpers shared by the tritonc-perf sources: clocks, checked
 * allocation and number parsing. Nothing here knows about inference. */
#ifndef TC_TOOLS_PERF_PERF_UTIL_H
#define TC_TOOLS_PERF_PERF_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Monotonic clock in nanoseconds (for latencies and schedules). */
uint64_t perf_now_ns(void);
/* Wall clock in nanoseconds since the epoch (for exported timestamps). */
uint64_t perf_wall_ns(void);
/* Sleep until the monotonic time `deadline_ns`; returns at once if it passed. */
void perf_sleep_until_ns(uint64_t deadline_ns);

/* calloc that returns NULL on count * size overflow, and never for 0 bytes. */
void *perf_calloc(size_t count, size_t size);
/* realloc of `count` elements of `size` bytes, overflow-checked. */
void *perf_realloc_array(void *ptr, size_t count, size_t size);
/* Copy of a NUL-terminated string, NULL when out of memory. */
char *perf_strdup(const char *s);

/* Parse the whole string as a number; false on junk, overflow or empty text. */
bool perf_parse_u64(const char *s, uint64_t *out);
bool perf_parse_i64(const char *s, int64_t *out);
bool perf_parse_double(const char *s, double *out);

#endif /* TC_TOOLS_PERF_PERF_UTIL_H */
