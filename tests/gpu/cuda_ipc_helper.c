/* GPU check helper for run_cuda_checks.sh (no CUDA headers needed: the
 * runtime is loaded with dlopen, as tritonc-server does).
 *
 *   cuda_ipc_helper HANDLE_FILE BYTE_SIZE
 *
 * Allocates BYTE_SIZE bytes on device 0, fills INPUT0 = 0..15 (int32) at
 * offset 0 and INPUT1 = 1 at offset 64 (the `simple` model's inputs), writes
 * the 64-byte cudaIpcMemHandle_t to HANDLE_FILE and prints "READY". Then it
 * reads one line from stdin: "check OFFSET" verifies OUTPUT0 = INPUT0 + 1 and
 * OUTPUT1 = INPUT0 - 1 at OFFSET and OFFSET + 64 and prints "OK" or "FAIL".
 * Exit status: 0 OK, 1 failure, 77 no CUDA runtime or no device (skip). */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char reserved[64];
} ipc_handle;

static int (*p_get_count)(int *);
static int (*p_set_device)(int);
static int (*p_malloc)(void **, size_t);
static int (*p_free)(void *);
static int (*p_memcpy)(void *, const void *, size_t, int);
static int (*p_ipc_get)(ipc_handle *, void *);

static int load(void)
{
    const char *names[] = {"libcudart.so", "libcudart.so.13", "libcudart.so.12",
                           "libcudart.so.11.0"};
    void *lib = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && lib == NULL; i++)
        lib = dlopen(names[i], RTLD_NOW);
    if (lib == NULL)
        return -1;
    void *s[6] = {dlsym(lib, "cudaGetDeviceCount"), dlsym(lib, "cudaSetDevice"),
                  dlsym(lib, "cudaMalloc"), dlsym(lib, "cudaFree"), dlsym(lib, "cudaMemcpy"),
                  dlsym(lib, "cudaIpcGetMemHandle")};
    for (int i = 0; i < 6; i++) {
        if (s[i] == NULL)
            return -1;
    }
    memcpy(&p_get_count, &s[0], sizeof s[0]);
    memcpy(&p_set_device, &s[1], sizeof s[1]);
    memcpy(&p_malloc, &s[2], sizeof s[2]);
    memcpy(&p_free, &s[3], sizeof s[3]);
    memcpy(&p_memcpy, &s[4], sizeof s[4]);
    memcpy(&p_ipc_get, &s[5], sizeof s[5]);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    int count = 0;
    if (load() != 0 || p_get_count(&count) != 0 || count <= 0) {
        printf("SKIP no CUDA device\n");
        return 77;
    }
    size_t size = (size_t)strtoull(argv[2], NULL, 10);
    void *dev = NULL;
    if (p_set_device(0) != 0 || size < 2048 || p_malloc(&dev, size) != 0)
        return 1;
    int32_t in[32];
    for (int i = 0; i < 16; i++) {
        in[i] = i;
        in[16 + i] = 1;
    }
    ipc_handle h;
    if (p_memcpy(dev, in, sizeof in, 1) != 0 || p_ipc_get(&h, dev) != 0)
        return 1;
    FILE *f = fopen(argv[1], "wb");
    if (f == NULL || fwrite(h.reserved, 1, sizeof h.reserved, f) != sizeof h.reserved ||
        fclose(f) != 0)
        return 1;
    printf("READY\n");
    fflush(stdout);
    char line[128];
    int rc = 1;
    unsigned long off = 0;
    if (fgets(line, sizeof line, stdin) != NULL && sscanf(line, "check %lu", &off) == 1 &&
        off + 128 <= size) {
        int32_t out[32];
        if (p_memcpy(out, (char *)dev + off, sizeof out, 2) == 0) {
            rc = 0;
            for (int i = 0; i < 16; i++) {
                if (out[i] != i + 1 || out[16 + i] != i - 1)
                    rc = 1;
            }
        }
    }
    printf(rc == 0 ? "OK\n" : "FAIL\n");
    fflush(stdout);
    p_free(dev);
    return rc;
}
