/* CUDA device buffers shared through IPC handles. The CUDA runtime is not
 * linked: it is loaded with dlopen() on first use, so libtritonc builds and
 * runs without a CUDA toolkit, and these calls answer TC_E_NOT_SUPPORTED
 * ("CUDA runtime not available") where there is none. The few runtime
 * types used are declared here with the runtime's ABI (cudaError_t is an
 * int-sized enum, cudaIpcMemHandle_t 64 bytes, cudaMemcpyKind an enum). */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "client/cuda_shm_internal.h"
#include "client/shm_internal.h"

#include <dlfcn.h>
#include <pthread.h>
#include <string.h>

#include "common/alloc.h"

typedef int cuda_error;
typedef struct cuda_ipc_handle {
    char reserved[TC_CUDA_IPC_HANDLE_SIZE];
} cuda_ipc_handle;
enum { CUDA_SUCCESS = 0, CUDA_MEMCPY_HOST_TO_DEVICE = 1, CUDA_MEMCPY_DEVICE_TO_HOST = 2 };

typedef struct cuda_api {
    cuda_error (*set_device)(int device);
    cuda_error (*malloc_)(void **ptr, size_t size);
    cuda_error (*free_)(void *ptr);
    cuda_error (*memcpy_)(void *dst, const void *src, size_t count, int kind);
    cuda_error (*ipc_get_mem_handle)(cuda_ipc_handle *handle, void *ptr);
    cuda_error (*get_device_count)(int *count);
    const char *(*get_error_string)(cuda_error err);
} cuda_api;

static const char *const k_default_names[] = {"libcudart.so",      "libcudart.so.13",
                                              "libcudart.so.12",   "libcudart.so.11.0",
                                              "libcudart.so.10.2", NULL};

/* Guarded by g_mu: whether loading was tried, its outcome, and the names to try. */
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static bool g_tried;
static bool g_loaded;
static void *g_lib;
static cuda_api g_api;
static const char *const *g_names = k_default_names;

/* dlsym() into a function pointer without an object-to-function cast. */
static bool resolve(void *lib, const char *sym, void *fn, size_t fn_size)
{
    void *p = dlsym(lib, sym);
    if (p == NULL || fn_size != sizeof p)
        return false;
    memcpy(fn, &p, sizeof p);
    return true;
}

static bool resolve_all(void *lib, cuda_api *a)
{
    return resolve(lib, "cudaSetDevice", &a->set_device, sizeof a->set_device) &&
           resolve(lib, "cudaMalloc", &a->malloc_, sizeof a->malloc_) &&
           resolve(lib, "cudaFree", &a->free_, sizeof a->free_) &&
           resolve(lib, "cudaMemcpy", &a->memcpy_, sizeof a->memcpy_) &&
           resolve(lib, "cudaIpcGetMemHandle", &a->ipc_get_mem_handle,
                   sizeof a->ipc_get_mem_handle) &&
           resolve(lib, "cudaGetDeviceCount", &a->get_device_count, sizeof a->get_device_count) &&
           resolve(lib, "cudaGetErrorString", &a->get_error_string, sizeof a->get_error_string);
}

static void load_locked(void)
{
    g_tried = true;
    for (size_t i = 0; g_names != NULL && g_names[i] != NULL; i++) {
        void *lib = dlopen(g_names[i], RTLD_NOW | RTLD_LOCAL);
        if (lib == NULL)
            continue;
        cuda_api a;
        memset(&a, 0, sizeof a);
        if (resolve_all(lib, &a)) {
            g_lib = lib;
            g_api = a;
            g_loaded = true;
            return;
        }
        (void)dlclose(lib);
    }
}

/* The loaded runtime, or NULL with the last error set. Thread-safe. */
static const cuda_api *runtime(void)
{
    pthread_mutex_lock(&g_mu);
    if (!g_tried)
        load_locked();
    bool ok = g_loaded;
    pthread_mutex_unlock(&g_mu);
    if (!ok) {
        tc__shm_fail(TC_E_NOT_SUPPORTED,
                     "CUDA runtime not available (libcudart.so could not be loaded)");
        return NULL;
    }
    return &g_api;
}

void tc__cuda_set_library_names(const char *const *names)
{
    pthread_mutex_lock(&g_mu);
    if (g_lib != NULL)
        (void)dlclose(g_lib);
    g_lib = NULL;
    g_loaded = false;
    g_tried = false;
    memset(&g_api, 0, sizeof g_api);
    g_names = names != NULL ? names : k_default_names;
    pthread_mutex_unlock(&g_mu);
}

static tc_code cuda_fail(const cuda_api *a, const char *what, cuda_error e)
{
    const char *text = a->get_error_string(e);
    return tc__shm_fail(TC_E_UNKNOWN, "%s failed: %s (CUDA error %d)", what,
                        text != NULL ? text : "unknown", e);
}

struct tc_cuda_shm_region {
    void *dev;
    size_t byte_size;
    int device_id;
    uint8_t handle[TC_CUDA_IPC_HANDLE_SIZE];
};

tc_code tc_cuda_device_count(int *count)
{
    if (count == NULL)
        return tc__shm_fail(TC_E_INVALID_ARG, "NULL count");
    *count = 0;
    const cuda_api *a = runtime();
    if (a == NULL)
        return TC_E_NOT_SUPPORTED;
    int n = 0;
    cuda_error e = a->get_device_count(&n);
    if (e != CUDA_SUCCESS || n <= 0) {
        const char *text = e != CUDA_SUCCESS ? a->get_error_string(e) : "no device";
        return tc__shm_fail(TC_E_NOT_SUPPORTED, "no usable CUDA device: %s",
                            text != NULL ? text : "unknown");
    }
    *count = n;
    return TC_OK;
}

tc_code tc_cuda_shm_region_new(tc_cuda_shm_region **out, size_t byte_size, int device_id)
{
    if (out == NULL)
        return tc__shm_fail(TC_E_INVALID_ARG, "NULL out");
    *out = NULL;
    if (byte_size == 0 || device_id < 0)
        return tc__shm_fail(TC_E_INVALID_ARG, "invalid byte size or device id");
    const cuda_api *a = runtime();
    if (a == NULL)
        return TC_E_NOT_SUPPORTED;
    tc_cuda_shm_region *r = tc__calloc(1, sizeof *r);
    if (r == NULL)
        return tc__shm_fail(TC_E_NOMEM, "out of memory");
    r->byte_size = byte_size;
    r->device_id = device_id;
    tc_code rc = TC_OK;
    cuda_ipc_handle h;
    cuda_error e = a->set_device(device_id);
    if (e != CUDA_SUCCESS) {
        rc = cuda_fail(a, "cudaSetDevice", e);
        goto out;
    }
    e = a->malloc_(&r->dev, byte_size);
    if (e != CUDA_SUCCESS) {
        r->dev = NULL;
        rc = cuda_fail(a, "cudaMalloc", e);
        goto out;
    }
    e = a->ipc_get_mem_handle(&h, r->dev);
    if (e != CUDA_SUCCESS) {
        rc = cuda_fail(a, "cudaIpcGetMemHandle", e);
        goto out;
    }
    memcpy(r->handle, h.reserved, sizeof r->handle);
out:
    if (rc != TC_OK) {
        tc_cuda_shm_region_free(r);
        return rc;
    }
    *out = r;
    return TC_OK;
}

void tc_cuda_shm_region_free(tc_cuda_shm_region *region)
{
    if (region == NULL)
        return;
    /* A region exists only once the runtime loaded, so g_api is set. */
    if (region->dev != NULL && g_api.free_ != NULL) {
        (void)g_api.set_device(region->device_id);
        (void)g_api.free_(region->dev);
    }
    tc__free(region);
}

tc_code tc_cuda_shm_region_ipc_handle(const tc_cuda_shm_region *region,
                                      uint8_t handle[TC_CUDA_IPC_HANDLE_SIZE])
{
    if (region == NULL || handle == NULL)
        return tc__shm_fail(TC_E_INVALID_ARG, "NULL argument");
    memcpy(handle, region->handle, TC_CUDA_IPC_HANDLE_SIZE);
    return TC_OK;
}

int tc_cuda_shm_region_device_id(const tc_cuda_shm_region *region)
{
    return region != NULL ? region->device_id : -1;
}

size_t tc_cuda_shm_region_byte_size(const tc_cuda_shm_region *region)
{
    return region != NULL ? region->byte_size : 0;
}

static tc_code copy(const tc_cuda_shm_region *r, size_t offset, void *host, size_t len,
                    bool to_device)
{
    if (r == NULL || (host == NULL && len > 0))
        return tc__shm_fail(TC_E_INVALID_ARG, "NULL argument");
    if (!tc__span_ok(r->byte_size, offset, len))
        return tc__shm_fail(TC_E_INVALID_ARG,
                            "offset %zu + byte size %zu is beyond the CUDA region (%zu bytes)",
                            offset, len, r->byte_size);
    if (len == 0)
        return TC_OK;
    const cuda_api *a = runtime();
    if (a == NULL)
        return TC_E_NOT_SUPPORTED;
    cuda_error e = a->set_device(r->device_id);
    if (e != CUDA_SUCCESS)
        return cuda_fail(a, "cudaSetDevice", e);
    char *dev = (char *)r->dev + offset;
    e = to_device ? a->memcpy_(dev, host, len, CUDA_MEMCPY_HOST_TO_DEVICE)
                  : a->memcpy_(host, dev, len, CUDA_MEMCPY_DEVICE_TO_HOST);
    return e == CUDA_SUCCESS ? TC_OK : cuda_fail(a, "cudaMemcpy", e);
}

tc_code tc_cuda_shm_region_write(tc_cuda_shm_region *region, size_t offset, const void *data,
                                 size_t byte_size)
{
    return copy(region, offset, (void *)(uintptr_t)data, byte_size, true);
}

tc_code tc_cuda_shm_region_read(const tc_cuda_shm_region *region, size_t offset, void *dst,
                                size_t byte_size)
{
    return copy(region, offset, dst, byte_size, false);
}
