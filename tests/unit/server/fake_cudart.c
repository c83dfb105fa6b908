/* A stand-in for libcudart, loaded by the server through $TC_CUDART_PATH
 * (core/cuda_rt.h) so the CUDA shared-memory paths run without a GPU.
 * "Device memory" is a POSIX shm object: a fake IPC handle is the 64 bytes
 * "TCFAKEIPC:" + the object's name, and opening it maps the whole object.
 * One device (0); cudaMemcpy is memcpy. Test-only. */
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct fake_handle {
    char reserved[64];
} fake_handle;

#define FAKE_PREFIX "TCFAKEIPC:"
#define FAKE_MAX    16

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static void *g_ptr[FAKE_MAX]; /* g_lock */
static size_t g_len[FAKE_MAX];

int cudaGetDeviceCount(int *count);
int cudaSetDevice(int device);
int cudaIpcOpenMemHandle(void **dev_ptr, fake_handle handle, unsigned int flags);
int cudaIpcCloseMemHandle(void *dev_ptr);
int cudaMemcpy(void *dst, const void *src, size_t count, int kind);
const char *cudaGetErrorString(int error);
int cuMemGetAddressRange_v2(unsigned long long *base, size_t *size, unsigned long long dptr);

int cudaGetDeviceCount(int *count)
{
    *count = 1;
    return 0;
}

int cudaSetDevice(int device)
{
    return device == 0 ? 0 : 101; /* cudaErrorInvalidDevice */
}

int cudaIpcOpenMemHandle(void **dev_ptr, fake_handle handle, unsigned int flags)
{
    (void)flags;
    char name[64];
    memcpy(name, handle.reserved, sizeof name);
    name[63] = '\0';
    if (strncmp(name, FAKE_PREFIX, strlen(FAKE_PREFIX)) != 0)
        return 400; /* cudaErrorInvalidResourceHandle */
    int fd = shm_open(name + strlen(FAKE_PREFIX), O_RDWR, 0);
    if (fd < 0)
        return 400;
    struct stat st;
    void *p = MAP_FAILED;
    if (fstat(fd, &st) == 0 && st.st_size > 0)
        p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    (void)close(fd);
    if (p == MAP_FAILED)
        return 2; /* cudaErrorMemoryAllocation */
    pthread_mutex_lock(&g_lock);
    int rc = 2;
    for (int i = 0; i < FAKE_MAX; i++) {
        if (g_ptr[i] == NULL) {
            g_ptr[i] = p;
            g_len[i] = (size_t)st.st_size;
            rc = 0;
            break;
        }
    }
    pthread_mutex_unlock(&g_lock);
    if (rc != 0)
        (void)munmap(p, (size_t)st.st_size);
    else
        *dev_ptr = p;
    return rc;
}

int cudaIpcCloseMemHandle(void *dev_ptr)
{
    int rc = 1; /* cudaErrorInvalidValue */
    pthread_mutex_lock(&g_lock);
    for (int i = 0; i < FAKE_MAX; i++) {
        if (g_ptr[i] == dev_ptr) {
            (void)munmap(g_ptr[i], g_len[i]);
            g_ptr[i] = NULL;
            rc = 0;
            break;
        }
    }
    pthread_mutex_unlock(&g_lock);
    return rc;
}

int cudaMemcpy(void *dst, const void *src, size_t count, int kind)
{
    (void)kind;
    memmove(dst, src, count);
    return 0;
}

const char *cudaGetErrorString(int error)
{
    return error == 0 ? "no error" : "fake CUDA error";
}

int cuMemGetAddressRange_v2(unsigned long long *base, size_t *size, unsigned long long dptr)
{
    int rc = 1;
    pthread_mutex_lock(&g_lock);
    for (int i = 0; i < FAKE_MAX; i++) {
        unsigned long long b = (unsigned long long)(size_t)g_ptr[i];
        if (g_ptr[i] != NULL && dptr >= b && dptr < b + g_len[i]) {
            *base = b;
            *size = g_len[i];
            rc = 0;
            break;
        }
    }
    pthread_mutex_unlock(&g_lock);
    return rc;
}
