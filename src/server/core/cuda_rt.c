/* dlopen of the CUDA runtime (cuda_rt.h). */
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "core/cuda_rt.h"

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static tc__cuda_api g_api; /* written once under g_once, then read-only */
static bool g_ok;          /* written once under g_once */
static void *g_lib;        /* kept open for the life of the process */

/* dlsym into a function pointer without the object/function pointer cast
 * that ISO C leaves undefined (POSIX guarantees the representation). */
static bool sym(void *lib, const char *name, void *fn_ptr, size_t size)
{
    void *p = dlsym(lib, name);
    if (p == NULL)
        return false;
    memcpy(fn_ptr, &p, size);
    return true;
}

static void *open_runtime(void)
{
    static const char *const names[] = {"libcudart.so", "libcudart.so.13", "libcudart.so.12",
                                        "libcudart.so.11.0"};
    const char *env = getenv("TC_CUDART_PATH");
    if (env != NULL && env[0] != '\0')
        return dlopen(env, RTLD_NOW | RTLD_LOCAL);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        void *lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (lib != NULL)
            return lib;
    }
    return NULL;
}

/* The driver's cuMemGetAddressRange_v2, optional: from the runtime library
 * itself when it provides it (the test stand-in does), else libcuda. */
static void resolve_address_range(void *rt)
{
    if (sym(rt, "cuMemGetAddressRange_v2", &g_api.mem_get_address_range,
            sizeof g_api.mem_get_address_range))
        return;
    void *drv = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (drv != NULL && !sym(drv, "cuMemGetAddressRange_v2", &g_api.mem_get_address_range,
                            sizeof g_api.mem_get_address_range))
        g_api.mem_get_address_range = NULL; /* drv stays open when used */
}

static void load_once(void)
{
    void *lib = open_runtime();
    if (lib == NULL)
        return;
    bool ok =
        sym(lib, "cudaSetDevice", &g_api.set_device, sizeof g_api.set_device) &&
        sym(lib, "cudaIpcOpenMemHandle", &g_api.ipc_open, sizeof g_api.ipc_open) &&
        sym(lib, "cudaIpcCloseMemHandle", &g_api.ipc_close, sizeof g_api.ipc_close) &&
        sym(lib, "cudaMemcpy", &g_api.memcpy, sizeof g_api.memcpy) &&
        sym(lib, "cudaGetDeviceCount", &g_api.get_device_count, sizeof g_api.get_device_count) &&
        sym(lib, "cudaGetErrorString", &g_api.get_error_string, sizeof g_api.get_error_string);
    int count = 0;
    if (ok && (g_api.get_device_count(&count) != 0 || count <= 0))
        ok = false;
    if (!ok) {
        (void)dlclose(lib);
        memset(&g_api, 0, sizeof g_api);
        return;
    }
    g_api.device_count = count;
    resolve_address_range(lib);
    g_lib = lib;
    g_ok = true;
    tc__log(TC_LOG_INFO, "CUDA runtime loaded: %d device(s)", count);
}

const tc__cuda_api *tc__cuda_api_get(void)
{
    (void)pthread_once(&g_once, load_once);
    return g_ok ? &g_api : NULL;
}

const char *tc__cuda_strerror(const tc__cuda_api *api, int rc)
{
    const char *s = api != NULL && api->get_error_string != NULL ? api->get_error_string(rc) : NULL;
    return s != NULL ? s : "unknown CUDA error";
}
