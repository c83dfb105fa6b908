/* The shared-memory region registry of the core: one namespace for system
 * (POSIX shm, mmap) and CUDA (IPC handle) regions. Core-internal; frontends
 * use the tc__core_shm_* functions of core.h.
 *
 * Lifetime: a region is reference-counted. The registry holds one
 * reference while the region is listed; every request using it holds one
 * more (tc__shm_acquire / tc__shm_region_release). Unregistering unlists
 * it and drops the registry's reference; the mapping (or IPC handle) goes
 * with the last reference. Thread-safe. */
#ifndef TC_SRC_SERVER_CORE_SHM_REGISTRY_H
#define TC_SRC_SERVER_CORE_SHM_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

typedef struct tc__shm_registry tc__shm_registry;
typedef struct tc__shm_region tc__shm_region;

/* The reserved key prefix (after any leading '/'), as upstream reserves it. */
#define TC__SHM_RESERVED_PREFIX "triton_python_backend_shm_region_"

tc__shm_registry *tc__shm_registry_new(void);
/* Unlists every region; regions still held by requests live on until released. */
void tc__shm_registry_free(tc__shm_registry *reg);

tc_code tc__shm_registry_status(tc__shm_registry *reg, tc__shm_kind kind, const char *name,
                                tc__shm_status **out, size_t *count, tc__error *err);
tc_code tc__shm_register_system(tc__shm_registry *reg, const char *name, const char *key,
                                uint64_t offset, uint64_t byte_size, tc__error *err);
tc_code tc__shm_register_cuda(tc__shm_registry *reg, const char *name, const uint8_t *raw_handle,
                              size_t handle_len, int64_t device_id, uint64_t byte_size,
                              tc__error *err);
tc_code tc__shm_unregister(tc__shm_registry *reg, tc__shm_kind kind, const char *name,
                           tc__error *err);

/* ---- use by inference ------------------------------------------------------------- */

/* The listed region `name` with one more reference, or NULL (NOT_FOUND
 * "Unable to find shared memory region: '<r>'"). */
tc__shm_region *tc__shm_acquire(tc__shm_registry *reg, const char *name, tc__error *err);
/* Drop a reference (NULL is ignored). */
void tc__shm_region_release(tc__shm_region *r);

const char *tc__shm_region_name(const tc__shm_region *r);
bool tc__shm_region_is_cuda(const tc__shm_region *r);
uint64_t tc__shm_region_size(const tc__shm_region *r);
/* Check a window of the region before any access: `offset` < size (else
 * INVALID_ARG "Invalid offset for shared memory region: '<r>'") and
 * offset + byte_size <= size without overflow (else "Invalid offset + byte
 * size for shared memory region: '<r>'"). */
tc_code tc__shm_region_check(const tc__shm_region *r, uint64_t offset, uint64_t byte_size,
                             tc__error *err);
/* System regions: the host address of `offset` (checked window); CUDA: NULL. */
uint8_t *tc__shm_region_host(const tc__shm_region *r, uint64_t offset);
/* Copy between a checked window and host memory (memcpy, or cudaMemcpy for
 * CUDA regions). INTERNAL with the CUDA error text on failure. */
tc_code tc__shm_region_read(const tc__shm_region *r, uint64_t offset, void *dst, size_t size,
                            tc__error *err);
tc_code tc__shm_region_write(const tc__shm_region *r, uint64_t offset, const void *src, size_t size,
                             tc__error *err);
/* True when two windows may share bytes: the same system shm object (device
 * and inode) with overlapping object ranges. CUDA regions never alias host
 * windows (their data is staged). */
bool tc__shm_windows_alias(const tc__shm_region *a, uint64_t aoff, uint64_t asize,
                           const tc__shm_region *b, uint64_t boff, uint64_t bsize);

#endif /* TC_SRC_SERVER_CORE_SHM_REGISTRY_H */
