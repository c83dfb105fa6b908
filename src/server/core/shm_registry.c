/* Shared-memory region registry (shm_registry.h): registration, status,
 * reference-counted regions and checked windows for inference. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/log.h"
#include "core/cuda_rt.h"
#include "core/shm_registry.h"

struct tc__shm_region {
    atomic_uint refs; /* the registry's while listed + one per holder */
    tc__shm_kind kind;
    char *name;
    uint64_t byte_size;
    /* system */
    char *key;
    uint64_t offset;
    uint8_t *map; /* mmap base (page-aligned), NULL for CUDA */
    size_t map_len;
    uint8_t *addr; /* first byte of the region inside `map` */
    dev_t dev;
    ino_t ino;
    /* CUDA */
    int64_t device_id;
    void *dptr;
};

struct tc__shm_registry {
    pthread_mutex_t lock;     /* guards regions, count */
    tc__shm_region **regions; /* listed regions, sorted by name */
    size_t count;
};

/* ---- regions ----------------------------------------------------------------------------- */

static void region_destroy(tc__shm_region *r)
{
    if (r->map != NULL && munmap(r->map, r->map_len) != 0)
        tc__log(TC_LOG_WARNING, "munmap of shared memory region '%s' failed", r->name);
    if (r->dptr != NULL) {
        const tc__cuda_api *api = tc__cuda_api_get();
        if (api != NULL) {
            (void)api->set_device((int)r->device_id);
            int rc = api->ipc_close(r->dptr);
            if (rc != 0)
                tc__log(TC_LOG_WARNING, "cudaIpcCloseMemHandle for region '%s' failed: %s", r->name,
                        tc__cuda_strerror(api, rc));
        }
    }
    tc__free(r->name);
    tc__free(r->key);
    tc__free(r);
}

void tc__shm_region_release(tc__shm_region *r)
{
    if (r != NULL && atomic_fetch_sub(&r->refs, 1u) == 1u)
        region_destroy(r);
}

const char *tc__shm_region_name(const tc__shm_region *r)
{
    return r->name;
}

bool tc__shm_region_is_cuda(const tc__shm_region *r)
{
    return r->kind == TC__SHM_CUDA;
}

uint64_t tc__shm_region_size(const tc__shm_region *r)
{
    return r->byte_size;
}

tc_code tc__shm_region_check(const tc__shm_region *r, uint64_t offset, uint64_t byte_size,
                             tc__error *err)
{
    if (offset >= r->byte_size)
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "Invalid offset for shared memory region: '%.200s'", r->name);
    if (byte_size > r->byte_size - offset)
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "Invalid offset + byte size for shared memory region: '%.200s'",
                             r->name);
    return TC_OK;
}

uint8_t *tc__shm_region_host(const tc__shm_region *r, uint64_t offset)
{
    return r->kind == TC__SHM_SYSTEM ? r->addr + offset : NULL;
}

static tc_code cuda_copy(const tc__shm_region *r, void *dst, const void *src, size_t size, int kind,
                         tc__error *err)
{
    const tc__cuda_api *api = tc__cuda_api_get();
    if (api == NULL)
        return tc__error_set(err, TC_E_INTERNAL, "CUDA runtime unavailable");
    int rc = api->set_device((int)r->device_id);
    if (rc == 0)
        rc = api->memcpy(dst, src, size, kind);
    if (rc != 0)
        return tc__error_set(
            err, TC_E_INTERNAL, "failed to copy %s CUDA shared memory region '%.200s': %s",
            kind == TC__CUDA_MEMCPY_D2H ? "from" : "to", r->name, tc__cuda_strerror(api, rc));
    return TC_OK;
}

tc_code tc__shm_region_read(const tc__shm_region *r, uint64_t offset, void *dst, size_t size,
                            tc__error *err)
{
    if (size == 0)
        return TC_OK;
    if (r->kind == TC__SHM_SYSTEM) {
        memcpy(dst, r->addr + offset, size);
        return TC_OK;
    }
    return cuda_copy(r, dst, (const uint8_t *)r->dptr + offset, size, TC__CUDA_MEMCPY_D2H, err);
}

tc_code tc__shm_region_write(const tc__shm_region *r, uint64_t offset, const void *src, size_t size,
                             tc__error *err)
{
    if (size == 0)
        return TC_OK;
    if (r->kind == TC__SHM_SYSTEM) {
        memmove(r->addr + offset, src, size);
        return TC_OK;
    }
    return cuda_copy(r, (uint8_t *)r->dptr + offset, src, size, TC__CUDA_MEMCPY_H2D, err);
}

bool tc__shm_windows_alias(const tc__shm_region *a, uint64_t aoff, uint64_t asize,
                           const tc__shm_region *b, uint64_t boff, uint64_t bsize)
{
    if (a->kind != TC__SHM_SYSTEM || b->kind != TC__SHM_SYSTEM || asize == 0 || bsize == 0)
        return false;
    if (a->dev != b->dev || a->ino != b->ino)
        return false;
    /* Object ranges; the windows were checked, so none of this overflows
     * (a region lies inside its object, whose size fits off_t). */
    uint64_t a0 = a->offset + aoff;
    uint64_t b0 = b->offset + boff;
    return a0 < b0 + bsize && b0 < a0 + asize;
}

/* ---- the registry --------------------------------------------------------------------------- */

tc__shm_registry *tc__shm_registry_new(void)
{
    tc__shm_registry *reg = tc__calloc(1, sizeof *reg);
    if (reg != NULL)
        pthread_mutex_init(&reg->lock, NULL);
    return reg;
}

void tc__shm_registry_free(tc__shm_registry *reg)
{
    if (reg == NULL)
        return;
    for (size_t i = 0; i < reg->count; i++)
        tc__shm_region_release(reg->regions[i]);
    tc__free(reg->regions);
    pthread_mutex_destroy(&reg->lock);
    tc__free(reg);
}

/* Index of `name` or of where it would go; *found says which. reg->lock held. */
static size_t find_slot(const tc__shm_registry *reg, const char *name, bool *found)
{
    size_t lo = 0;
    size_t hi = reg->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(reg->regions[mid]->name, name);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

static tc_code already(const char *name, tc__error *err)
{
    return tc__error_set(err, TC_E_ALREADY_EXISTS,
                         "shared memory region '%.200s' already in manager", name);
}

static bool name_taken(tc__shm_registry *reg, const char *name)
{
    bool found = false;
    pthread_mutex_lock(&reg->lock);
    (void)find_slot(reg, name, &found);
    pthread_mutex_unlock(&reg->lock);
    return found;
}

/* List `r` (taking the caller's reference), unless the name was taken in
 * the meantime: then `r` is destroyed and ALREADY_EXISTS returned. */
static tc_code insert(tc__shm_registry *reg, tc__shm_region *r, tc__error *err)
{
    tc_code rc = TC_OK;
    pthread_mutex_lock(&reg->lock);
    bool found = false;
    size_t at = find_slot(reg, r->name, &found);
    if (found) {
        rc = TC_E_ALREADY_EXISTS;
    } else {
        tc__shm_region **grown =
            tc__reallocarray(reg->regions, reg->count + 1, sizeof *reg->regions);
        if (grown == NULL) {
            rc = TC_E_NOMEM;
        } else {
            reg->regions = grown;
            memmove(&grown[at + 1], &grown[at], (reg->count - at) * sizeof *grown);
            grown[at] = r;
            reg->count++;
        }
    }
    pthread_mutex_unlock(&reg->lock);
    if (rc == TC_OK)
        return TC_OK;
    if (rc == TC_E_ALREADY_EXISTS)
        already(r->name, err);
    else
        tc__error_set(err, rc, "out of memory");
    region_destroy(r);
    return rc;
}

static tc__shm_region *region_new(tc__shm_kind kind, const char *name, uint64_t byte_size)
{
    tc__shm_region *r = tc__calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    atomic_init(&r->refs, 1u);
    r->kind = kind;
    r->byte_size = byte_size;
    r->name = tc__strdup(name);
    if (r->name == NULL) {
        tc__free(r);
        return NULL;
    }
    return r;
}

/* ---- system regions ------------------------------------------------------------------------- */

/* A POSIX shm name: one optional leading '/', then 1..NAME_MAX characters
 * without '/', and not "." or "..". Checked before shm_open so that a key
 * never reaches a path outside the shm directory. */
static tc_code check_key(const char *name, const char *key, tc__error *err)
{
    const char *base = key[0] == '/' ? key + 1 : key;
    size_t len = strlen(base);
    const char *p = base;
    while (*p == '/')
        p++;
    if (strncmp(p, TC__SHM_RESERVED_PREFIX, strlen(TC__SHM_RESERVED_PREFIX)) == 0)
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "cannot register shared memory region '%.200s' with key '%.200s' as "
                             "the key contains the reserved prefix '" TC__SHM_RESERVED_PREFIX "'",
                             name, key);
    if (len == 0 || len > NAME_MAX || strchr(base, '/') != NULL || strcmp(base, ".") == 0 ||
        strcmp(base, "..") == 0)
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "failed to register shared memory region '%.200s': invalid key "
                             "'%.200s'",
                             name, key);
    return TC_OK;
}

static tc_code invalid_args(const char *name, tc__error *err)
{
    return tc__error_set(err, TC_E_INVALID_ARG,
                         "failed to register shared memory region '%.200s': invalid args", name);
}

/* Open, check and map [offset, offset + byte_size) of `key` into r. */
static tc_code map_system(tc__shm_region *r, const char *key, tc__error *err)
{
    int fd = shm_open(key, O_RDWR, 0);
    if (fd < 0)
        return tc__error_set(err, TC_E_INTERNAL, "Unable to open shared memory region: '%.200s'",
                             key);
    tc_code rc = TC_OK;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc =
            tc__error_set(err, TC_E_INTERNAL, "Unable to open shared memory region: '%.200s'", key);
        goto out;
    }
    uint64_t size = st.st_size > 0 ? (uint64_t)st.st_size : 0;
    if (r->byte_size == 0 || r->byte_size > size || r->offset > size - r->byte_size) {
        rc = invalid_args(r->name, err);
        goto out;
    }
    long page = sysconf(_SC_PAGESIZE);
    uint64_t align = page > 0 ? (uint64_t)page : 4096u;
    uint64_t start = r->offset - r->offset % align;
    uint64_t len = r->offset - start + r->byte_size;
    if (len > SIZE_MAX || start > (uint64_t)INT64_MAX) {
        rc = invalid_args(r->name, err);
        goto out;
    }
    void *map = mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)start);
    if (map == MAP_FAILED) {
        rc = tc__error_set(err, TC_E_INTERNAL,
                           "unable to process address space or shared-memory descriptor for "
                           "region '%.200s': %s",
                           r->name, strerror(errno));
        goto out;
    }
    r->map = map;
    r->map_len = (size_t)len;
    r->addr = r->map + (r->offset - start);
    r->dev = st.st_dev;
    r->ino = st.st_ino;
out:
    (void)close(fd);
    return rc;
}

tc_code tc__shm_register_system(tc__shm_registry *reg, const char *name, const char *key,
                                uint64_t offset, uint64_t byte_size, tc__error *err)
{
    if (name == NULL || name[0] == '\0')
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "'region name' is necessary to register system shared memory region");
    if (name_taken(reg, name))
        return already(name, err);
    if (key == NULL)
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "Shared memory register request has no 'key' field");
    tc_code rc = check_key(name, key, err);
    if (rc != TC_OK)
        return rc;
    tc__shm_region *r = region_new(TC__SHM_SYSTEM, name, byte_size);
    if (r == NULL || (r->key = tc__strdup(key)) == NULL) {
        if (r != NULL)
            region_destroy(r);
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    }
    r->offset = offset;
    rc = map_system(r, key, err);
    if (rc != TC_OK) {
        region_destroy(r);
        return rc;
    }
    return insert(reg, r, err);
}

/* ---- CUDA regions --------------------------------------------------------------------------- */

static tc_code open_cuda(tc__shm_region *r, const tc__cuda_api *api, const uint8_t *raw,
                         tc__error *err)
{
    if (r->device_id < 0 || r->device_id >= api->device_count)
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "failed to register CUDA shared memory region '%.200s': invalid "
                             "device id %lld",
                             r->name, (long long)r->device_id);
    tc__cuda_ipc_handle h;
    memcpy(h.reserved, raw, sizeof h.reserved);
    int rc = api->set_device((int)r->device_id);
    void *dptr = NULL;
    if (rc == 0)
        rc = api->ipc_open(&dptr, h, TC__CUDA_IPC_LAZY_PEER);
    if (rc != 0)
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "failed to register CUDA shared memory region '%.200s': failed to "
                             "open CUDA IPC handle: %s",
                             r->name, tc__cuda_strerror(api, rc));
    r->dptr = dptr;
    uint64_t base = 0;
    size_t size = 0;
    uint64_t p = (uint64_t)(uintptr_t)dptr;
    if (api->mem_get_address_range != NULL && api->mem_get_address_range(&base, &size, p) == 0 &&
        (p < base || r->byte_size > size || p - base > size - r->byte_size))
        return invalid_args(r->name, err); /* the caller closes the handle */
    return TC_OK;
}

tc_code tc__shm_register_cuda(tc__shm_registry *reg, const char *name, const uint8_t *raw_handle,
                              size_t handle_len, int64_t device_id, uint64_t byte_size,
                              tc__error *err)
{
    if (name == NULL || name[0] == '\0')
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "'region name' is necessary to register cuda shared memory region");
    if (raw_handle == NULL || handle_len != TC__CUDA_IPC_HANDLE_SIZE)
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "'raw_handle' must be a valid cudaIpcMemHandle_t (%d bytes), got %zu "
                             "bytes",
                             TC__CUDA_IPC_HANDLE_SIZE, raw_handle == NULL ? (size_t)0 : handle_len);
    const tc__cuda_api *api = tc__cuda_api_get();
    if (api == NULL)
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "failed to register CUDA shared memory region: '%.200s', GPUs not "
                             "supported",
                             name);
    if (name_taken(reg, name))
        return already(name, err);
    if (byte_size == 0)
        return invalid_args(name, err);
    tc__shm_region *r = region_new(TC__SHM_CUDA, name, byte_size);
    if (r == NULL)
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    r->device_id = device_id;
    tc_code rc = open_cuda(r, api, raw_handle, err);
    if (rc != TC_OK) {
        region_destroy(r);
        return rc;
    }
    return insert(reg, r, err);
}

/* ---- unregister, status, acquire ------------------------------------------------------------ */

tc_code tc__shm_unregister(tc__shm_registry *reg, tc__shm_kind kind, const char *name,
                           tc__error *err)
{
    tc__shm_region *one = NULL;
    tc__shm_region **all = NULL;
    size_t nall = 0;
    bool every = name == NULL || name[0] == '\0';
    pthread_mutex_lock(&reg->lock);
    if (!every) {
        bool found = false;
        size_t at = find_slot(reg, name, &found);
        if (found && reg->regions[at]->kind == kind) {
            one = reg->regions[at];
            memmove(&reg->regions[at], &reg->regions[at + 1],
                    (reg->count - at - 1) * sizeof *reg->regions);
            reg->count--;
        }
    } else {
        all = tc__calloc(reg->count > 0 ? reg->count : 1, sizeof *all);
        size_t kept = 0;
        for (size_t i = 0; all != NULL && i < reg->count; i++) {
            if (reg->regions[i]->kind == kind)
                all[nall++] = reg->regions[i];
            else
                reg->regions[kept++] = reg->regions[i];
        }
        if (all != NULL)
            reg->count = kept;
    }
    pthread_mutex_unlock(&reg->lock);
    if (every && all == NULL)
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    /* Unmapping (or closing the IPC handle) happens outside the lock, and
     * only once the last in-flight request lets go. */
    tc__shm_region_release(one);
    for (size_t i = 0; i < nall; i++)
        tc__shm_region_release(all[i]);
    tc__free(all);
    return TC_OK;
}

static tc_code status_fill(const tc__shm_region *r, tc__shm_status *s)
{
    memset(s, 0, sizeof *s);
    s->name = tc__strdup(r->name);
    s->byte_size = r->byte_size;
    if (r->kind == TC__SHM_SYSTEM) {
        s->key = tc__strdup(r->key);
        s->offset = r->offset;
        if (s->key == NULL)
            return TC_E_NOMEM;
    } else {
        s->device_id = r->device_id;
    }
    return s->name != NULL ? TC_OK : TC_E_NOMEM;
}

static tc_code status_one(tc__shm_registry *reg, tc__shm_kind kind, const char *name,
                          tc__shm_status *s, tc__error *err)
{
    bool found = false;
    size_t at = find_slot(reg, name, &found);
    if (!found)
        return tc__error_set(err, TC_E_NOT_FOUND,
                             "Unable to find %s shared memory region: '%.200s'",
                             kind == TC__SHM_CUDA ? "cuda" : "system", name);
    if (reg->regions[at]->kind != kind)
        return tc__error_set(err, TC_E_NOT_FOUND,
                             "The region named '%.200s' is registered as %s shared memory, not %s "
                             "shared memory",
                             name, kind == TC__SHM_CUDA ? "system" : "CUDA",
                             kind == TC__SHM_CUDA ? "CUDA" : "system");
    if (status_fill(reg->regions[at], s) != TC_OK)
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    return TC_OK;
}

tc_code tc__shm_registry_status(tc__shm_registry *reg, tc__shm_kind kind, const char *name,
                                tc__shm_status **out, size_t *count, tc__error *err)
{
    *out = NULL;
    *count = 0;
    tc_code rc = TC_OK;
    pthread_mutex_lock(&reg->lock);
    tc__shm_status *s = tc__calloc(reg->count > 0 ? reg->count : 1, sizeof *s);
    size_t n = 0;
    if (s == NULL) {
        rc = tc__error_set(err, TC_E_NOMEM, "out of memory");
    } else if (name != NULL && name[0] != '\0') {
        rc = status_one(reg, kind, name, &s[0], err);
        n = 1;
    } else {
        for (size_t i = 0; rc == TC_OK && i < reg->count; i++) {
            if (reg->regions[i]->kind != kind)
                continue;
            if (status_fill(reg->regions[i], &s[n++]) != TC_OK)
                rc = tc__error_set(err, TC_E_NOMEM, "out of memory");
        }
    }
    pthread_mutex_unlock(&reg->lock);
    if (rc != TC_OK) {
        tc__shm_status_free(s, n);
        return rc;
    }
    *out = s;
    *count = n;
    return TC_OK;
}

void tc__shm_status_free(tc__shm_status *s, size_t count)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < count; i++) {
        tc__free(s[i].name);
        tc__free(s[i].key);
    }
    tc__free(s);
}

tc__shm_region *tc__shm_acquire(tc__shm_registry *reg, const char *name, tc__error *err)
{
    tc__shm_region *r = NULL;
    pthread_mutex_lock(&reg->lock);
    bool found = false;
    size_t at = find_slot(reg, name, &found);
    if (found) {
        r = reg->regions[at];
        atomic_fetch_add(&r->refs, 1u);
    }
    pthread_mutex_unlock(&reg->lock);
    if (r == NULL)
        tc__error_set(err, TC_E_NOT_FOUND, "Unable to find shared memory region: '%.200s'", name);
    return r;
}
