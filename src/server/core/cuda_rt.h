/* The CUDA runtime, loaded at run time with dlopen so that tritonc-server
 * builds and runs without CUDA (HTTP.md section 12: "GPUs not supported").
 * Only what CUDA shared memory needs: open an IPC handle on a device and
 * copy between host and device. */
#ifndef TC_SRC_SERVER_CORE_CUDA_RT_H
#define TC_SRC_SERVER_CORE_CUDA_RT_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* sizeof(cudaIpcMemHandle_t): an opaque 64-byte struct passed by value. */
#define TC__CUDA_IPC_HANDLE_SIZE 64

typedef struct tc__cuda_ipc_handle {
    char reserved[TC__CUDA_IPC_HANDLE_SIZE];
} tc__cuda_ipc_handle;

_Static_assert(sizeof(tc__cuda_ipc_handle) == TC__CUDA_IPC_HANDLE_SIZE,
               "cudaIpcMemHandle_t is 64 bytes");

/* cudaMemcpyKind values used here. */
enum { TC__CUDA_MEMCPY_H2D = 1, TC__CUDA_MEMCPY_D2H = 2 };
/* cudaIpcMemLazyEnablePeerAccess */
enum { TC__CUDA_IPC_LAZY_PEER = 1 };

/* The resolved entry points; every cuda* call returns cudaError_t (0 = success). */
typedef struct tc__cuda_api {
    int (*set_device)(int device);
    int (*ipc_open)(void **dev_ptr, tc__cuda_ipc_handle handle, unsigned int flags);
    int (*ipc_close)(void *dev_ptr);
    int (*memcpy)(void *dst, const void *src, size_t count, int kind);
    int (*get_device_count)(int *count);
    const char *(*get_error_string)(int error);
    /* cuMemGetAddressRange_v2 from the driver (libcuda), or NULL: the size of
     * the allocation behind a device pointer. */
    int (*mem_get_address_range)(uint64_t *base, size_t *size, uint64_t dptr);
    int device_count;
} tc__cuda_api;

/* The runtime when it loads and reports at least one device, else NULL.
 * Loaded once (thread-safe). The library tried first is $TC_CUDART_PATH
 * when set (a test hook), then libcudart.so, libcudart.so.13, .12, .11.0. */
const tc__cuda_api *tc__cuda_api_get(void);

/* "cudaErrorX: text" for an error of `api`. */
const char *tc__cuda_strerror(const tc__cuda_api *api, int rc);

#endif /* TC_SRC_SERVER_CORE_CUDA_RT_H */
