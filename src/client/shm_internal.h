/* Shared by shm.c and cuda_shm.c: the thread-local last error of the shm
 * module and the overflow-safe span check every offset/size goes through. */
#ifndef TC_SRC_CLIENT_SHM_INTERNAL_H
#define TC_SRC_CLIENT_SHM_INTERNAL_H

#include <tritonc/shm.h>

#include <stdbool.h>
#include <stddef.h>

/* Record `code` and a printf-style message as the calling thread's last
 * shm error; returns `code`. */
tc_code tc__shm_fail(tc_code code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* True when [offset, offset + len) lies inside a buffer of `size` bytes,
 * without overflowing. */
static inline bool tc__span_ok(size_t size, size_t offset, size_t len)
{
    return offset <= size && len <= size - offset;
}

#endif /* TC_SRC_CLIENT_SHM_INTERNAL_H */
