/* System (POSIX) shared-memory regions: create, map, bounds-checked reads
 * and writes, destroy; and the thread-local last error of the shm module.
 *
 * Invariant: `data` points `byte_size` mapped bytes; the mapping itself
 * starts `delta` bytes earlier (at a page boundary of the object) and is
 * `map_len` = delta + byte_size bytes long. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* shm_open, ftruncate, mmap, strerror_r */
#endif

#include "client/shm_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"

#define KEY_MAX 255 /* NAME_MAX: the longest name shm_open() accepts */
#define MSG_MAX 512

static _Thread_local char t_last_error[MSG_MAX];

const char *tc_shm_last_error(void)
{
    return t_last_error;
}

tc_code tc__shm_fail(tc_code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t_last_error, sizeof t_last_error, fmt, ap);
    va_end(ap);
    if (n < 0)
        t_last_error[0] = '\0';
    return code;
}

struct tc_shm_region {
    char *key;
    int fd;
    void *map;      /* start of the mapping (page-aligned) */
    size_t map_len; /* bytes mapped */
    uint8_t *data;  /* map + delta: the region's first byte */
    size_t byte_size;
    size_t offset; /* of `data` inside the object */
};

/* The errno text of a failed system call, recorded as the last error. */
static tc_code sys_fail(tc_code code, const char *what, const char *key, int err)
{
    char text[128];
    if (strerror_r(err, text, sizeof text) != 0)
        (void)snprintf(text, sizeof text, "errno %d", err);
    return tc__shm_fail(code, "%s('%s') failed: %s", what, key, text);
}

static bool key_ok(const char *key)
{
    if (key == NULL || key[0] != '/')
        return false;
    size_t len = strlen(key);
    return len >= 2 && len <= KEY_MAX && strchr(key + 1, '/') == NULL;
}

static tc_code bad_key(const char *key)
{
    return tc__shm_fail(TC_E_INVALID_ARG,
                        "invalid shared memory key '%s': expected '/name' (no other '/', "
                        "at most %d bytes)",
                        key != NULL ? key : "(null)", KEY_MAX);
}

/* size_t -> off_t without wrapping; false when it does not fit. */
static bool to_off(size_t v, off_t *out)
{
    off_t o = (off_t)v;
    if (o < 0 || (size_t)o != v)
        return false;
    *out = o;
    return true;
}

static void region_release(tc_shm_region *r)
{
    if (r->map != NULL)
        (void)munmap(r->map, r->map_len);
    if (r->fd >= 0)
        (void)close(r->fd);
    tc__free(r->key);
    tc__free(r);
}

static tc_shm_region *region_alloc(const char *key)
{
    tc_shm_region *r = tc__calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->fd = -1;
    r->key = tc__strdup(key);
    if (r->key == NULL) {
        tc__free(r);
        return NULL;
    }
    return r;
}

/* Map `len` bytes of r->fd starting at object offset `offset` (any alignment). */
static tc_code region_map(tc_shm_region *r, size_t offset, size_t len)
{
    long page = sysconf(_SC_PAGESIZE);
    size_t psz = page > 0 ? (size_t)page : 4096;
    size_t delta = offset % psz;
    off_t start;
    if (len > SIZE_MAX - delta || !to_off(offset - delta, &start))
        return tc__shm_fail(TC_E_INVALID_ARG, "shared memory window too large");
    void *p = mmap(NULL, len + delta, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, start);
    if (p == MAP_FAILED)
        return sys_fail(errno == ENOMEM ? TC_E_NOMEM : TC_E_UNKNOWN, "mmap", r->key, errno);
    r->map = p;
    r->map_len = len + delta;
    r->data = (uint8_t *)p + delta;
    r->byte_size = len;
    r->offset = offset;
    return TC_OK;
}

tc_code tc_shm_region_new(tc_shm_region **out, const char *key, size_t byte_size)
{
    if (out == NULL)
        return tc__shm_fail(TC_E_INVALID_ARG, "NULL out");
    *out = NULL;
    if (!key_ok(key))
        return bad_key(key);
    off_t size;
    if (byte_size == 0 || !to_off(byte_size, &size))
        return tc__shm_fail(TC_E_INVALID_ARG, "invalid shared memory byte size %zu", byte_size);
    tc_shm_region *r = region_alloc(key);
    if (r == NULL)
        return tc__shm_fail(TC_E_NOMEM, "out of memory");
    tc_code rc = TC_OK;
    r->fd = shm_open(key, O_RDWR | O_CREAT, S_IRUSR | S_IWUSR);
    if (r->fd < 0) {
        rc = sys_fail(TC_E_UNKNOWN, "shm_open", key, errno);
        goto out;
    }
    if (ftruncate(r->fd, size) != 0) {
        rc = sys_fail(TC_E_UNKNOWN, "ftruncate", key, errno);
        goto out;
    }
    rc = region_map(r, 0, byte_size);
out:
    if (rc != TC_OK) {
        region_release(r);
        return rc;
    }
    *out = r;
    return TC_OK;
}

tc_code tc_shm_region_open(tc_shm_region **out, const char *key, size_t offset, size_t byte_size)
{
    if (out == NULL)
        return tc__shm_fail(TC_E_INVALID_ARG, "NULL out");
    *out = NULL;
    if (!key_ok(key))
        return bad_key(key);
    tc_shm_region *r = region_alloc(key);
    if (r == NULL)
        return tc__shm_fail(TC_E_NOMEM, "out of memory");
    tc_code rc = TC_OK;
    struct stat st;
    r->fd = shm_open(key, O_RDWR, 0);
    if (r->fd < 0) {
        rc = sys_fail(errno == ENOENT ? TC_E_NOT_FOUND : TC_E_UNKNOWN, "shm_open", key, errno);
        goto out;
    }
    if (fstat(r->fd, &st) != 0) {
        rc = sys_fail(TC_E_UNKNOWN, "fstat", key, errno);
        goto out;
    }
    size_t size = st.st_size > 0 ? (size_t)st.st_size : 0;
    size_t len = byte_size != 0 ? byte_size : (offset < size ? size - offset : 0);
    if (len == 0 || !tc__span_ok(size, offset, len)) {
        rc = tc__shm_fail(TC_E_INVALID_ARG,
                          "offset %zu + byte size %zu is beyond shared memory object '%s' "
                          "(%zu bytes)",
                          offset, byte_size, key, size);
        goto out;
    }
    rc = region_map(r, offset, len);
out:
    if (rc != TC_OK) {
        region_release(r);
        return rc;
    }
    *out = r;
    return TC_OK;
}

void tc_shm_region_free(tc_shm_region *region)
{
    if (region != NULL)
        region_release(region);
}

tc_code tc_shm_unlink(const char *key)
{
    if (!key_ok(key))
        return bad_key(key);
    if (shm_unlink(key) != 0)
        return sys_fail(errno == ENOENT ? TC_E_NOT_FOUND : TC_E_UNKNOWN, "shm_unlink", key, errno);
    return TC_OK;
}

tc_code tc_shm_region_destroy(tc_shm_region *region)
{
    if (region == NULL)
        return TC_OK;
    tc_code rc = TC_OK;
    if (shm_unlink(region->key) != 0)
        rc = sys_fail(errno == ENOENT ? TC_E_NOT_FOUND : TC_E_UNKNOWN, "shm_unlink", region->key,
                      errno);
    region_release(region);
    return rc;
}

void *tc_shm_region_data(const tc_shm_region *region)
{
    return region != NULL ? region->data : NULL;
}

size_t tc_shm_region_byte_size(const tc_shm_region *region)
{
    return region != NULL ? region->byte_size : 0;
}

const char *tc_shm_region_key(const tc_shm_region *region)
{
    return region != NULL ? region->key : "";
}

size_t tc_shm_region_offset(const tc_shm_region *region)
{
    return region != NULL ? region->offset : 0;
}

static tc_code out_of_bounds(const tc_shm_region *r, size_t offset, size_t len)
{
    return tc__shm_fail(TC_E_INVALID_ARG,
                        "offset %zu + byte size %zu is beyond shared memory region '%s' "
                        "(%zu bytes)",
                        offset, len, r->key, r->byte_size);
}

tc_code tc_shm_region_span(const tc_shm_region *region, size_t offset, size_t byte_size, void **ptr)
{
    if (region == NULL || ptr == NULL)
        return tc__shm_fail(TC_E_INVALID_ARG, "NULL argument");
    if (!tc__span_ok(region->byte_size, offset, byte_size))
        return out_of_bounds(region, offset, byte_size);
    *ptr = region->data + offset;
    return TC_OK;
}

tc_code tc_shm_region_write(tc_shm_region *region, size_t offset, const void *data,
                            size_t byte_size)
{
    if (region == NULL || (data == NULL && byte_size > 0))
        return tc__shm_fail(TC_E_INVALID_ARG, "NULL argument");
    if (!tc__span_ok(region->byte_size, offset, byte_size))
        return out_of_bounds(region, offset, byte_size);
    if (byte_size > 0)
        memcpy(region->data + offset, data, byte_size);
    return TC_OK;
}

tc_code tc_shm_region_read(const tc_shm_region *region, size_t offset, void *dst, size_t byte_size)
{
    if (region == NULL || (dst == NULL && byte_size > 0))
        return tc__shm_fail(TC_E_INVALID_ARG, "NULL argument");
    if (!tc__span_ok(region->byte_size, offset, byte_size))
        return out_of_bounds(region, offset, byte_size);
    if (byte_size > 0)
        memcpy(dst, region->data + offset, byte_size);
    return TC_OK;
}

/* Serialized size of a BYTES tensor, checking every element. */
static tc_code bytes_size(const void *const *elems, const size_t *lens, size_t count, size_t *total)
{
    if (count > 0 && (elems == NULL || lens == NULL))
        return tc__shm_fail(TC_E_INVALID_ARG, "NULL elems or lens");
    size_t sum = 0;
    for (size_t i = 0; i < count; i++) {
        if (lens[i] > UINT32_MAX || (elems[i] == NULL && lens[i] > 0))
            return tc__shm_fail(TC_E_INVALID_ARG, "invalid BYTES element %zu", i);
        if (sum > SIZE_MAX - 4 || lens[i] > SIZE_MAX - 4 - sum)
            return tc__shm_fail(TC_E_INVALID_ARG, "BYTES tensor size overflows");
        sum += 4 + lens[i];
    }
    *total = sum;
    return TC_OK;
}

tc_code tc_shm_region_write_bytes(tc_shm_region *region, size_t offset, const void *const *elems,
                                  const size_t *lens, size_t count, size_t *byte_size)
{
    if (region == NULL)
        return tc__shm_fail(TC_E_INVALID_ARG, "NULL region");
    size_t total = 0;
    tc_code rc = bytes_size(elems, lens, count, &total);
    if (rc != TC_OK)
        return rc;
    if (!tc__span_ok(region->byte_size, offset, total))
        return out_of_bounds(region, offset, total);
    uint8_t *p = region->data + offset;
    for (size_t i = 0; i < count; i++) {
        uint32_t n = (uint32_t)lens[i];
        uint8_t prefix[4] = {(uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), (uint8_t)(n >> 24)};
        memcpy(p, prefix, 4);
        if (n > 0)
            memcpy(p + 4, elems[i], n);
        p += 4 + (size_t)n;
    }
    if (byte_size != NULL)
        *byte_size = total;
    return TC_OK;
}

/* Byte size of a fixed-size output from its dtype and shape. */
static tc_code fixed_size(const tc_result *result, const char *name, size_t *out)
{
    tc_dtype dt;
    const int64_t *shape;
    size_t ndim;
    tc_code rc = tc_result_output_dtype(result, name, &dt);
    if (rc == TC_OK)
        rc = tc_result_output_shape(result, name, &shape, &ndim);
    if (rc != TC_OK)
        return rc;
    size_t size = tc_dtype_size(dt);
    for (size_t i = 0; i < ndim; i++) {
        if (shape[i] < 0 || (uint64_t)shape[i] > SIZE_MAX ||
            (shape[i] != 0 && size > SIZE_MAX / (size_t)shape[i]))
            return tc__shm_fail(TC_E_INVALID_ARG, "output '%s' has an invalid shape", name);
        size *= (size_t)shape[i];
    }
    *out = size;
    return TC_OK;
}

tc_code tc_result_output_read_shm(const tc_result *result, const char *name,
                                  const tc_shm_region *region, const uint8_t **data,
                                  size_t *byte_size)
{
    if (result == NULL || name == NULL || region == NULL || data == NULL || byte_size == NULL)
        return tc__shm_fail(TC_E_INVALID_ARG, "NULL argument");
    size_t reported;
    size_t offset;
    tc_code rc = tc_result_output_shm(result, name, NULL, &reported, &offset);
    if (rc != TC_OK)
        return tc__shm_fail(rc,
                            rc == TC_E_NOT_FOUND ? "no output '%s' in the result"
                                                 : "output '%s' is not in shared memory",
                            name);
    tc_dtype dt = TC_DTYPE_INVALID;
    (void)tc_result_output_dtype(result, name, &dt);
    size_t size = reported;
    if (dt != TC_DTYPE_BYTES) {
        rc = fixed_size(result, name, &size);
        if (rc != TC_OK)
            return rc;
    }
    if (!tc__span_ok(region->byte_size, offset, size))
        return out_of_bounds(region, offset, size);
    *data = region->data + offset;
    *byte_size = size;
    return TC_OK;
}
