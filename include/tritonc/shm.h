/**
 * @file shm.h
 * Shared memory: local utilities for POSIX (system) shared-memory regions and
 * CUDA device buffers, the client calls that register them with a server
 * (system and CUDA shared-memory extensions, HTTP.md sections 11-12,
 * GRPC.md section 2.6), and reading an output a server wrote into a region.
 *
 * Inputs and outputs of a request point at registered regions with
 * tc_request_input_set_shm() and tc_request_output_set_shm() (request.h);
 * tc_result_output_shm() (result.h) tells where an output was written.
 *
 * Typical flow (system shared memory):
 * tc_shm_region_new() creates and maps `/input_data`, tc_shm_region_write()
 * fills it, tc_client_system_shm_register() tells the server about it, a
 * request references it, tc_result_output_read_shm() reads the outputs back,
 * then tc_client_system_shm_unregister() and tc_shm_region_destroy().
 *
 * Errors of the local utilities (tc_shm_* and tc_cuda_shm_* functions, not
 * the tc_client_* calls) are described by tc_shm_last_error(), a
 * thread-local message. The tc_client_* calls report through
 * tc_client_last_error() as every client call does, with the server's
 * message unchanged.
 *
 * CUDA: libtritonc never links the CUDA runtime. The first tc_cuda_* call
 * loads it with dlopen() ("libcudart.so", then versioned names); when it is
 * missing every tc_cuda_* call returns TC_E_NOT_SUPPORTED and
 * tc_shm_last_error() says "CUDA runtime not available". This header is the
 * same in every build; CUDA IPC handles cross it as
 * TC_CUDA_IPC_HANDLE_SIZE raw bytes.
 *
 * Thread rule: a region is used by one thread at a time; different regions
 * are independent. tc_shm_last_error() and tc_cuda_device_count() are
 * thread-safe.
 */
#ifndef TC_TRITONC_SHM_H
#define TC_TRITONC_SHM_H

#include <tritonc/client.h>
#include <tritonc/common.h>
#include <tritonc/result.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Size in bytes of a CUDA IPC memory handle (cudaIpcMemHandle_t). */
#define TC_CUDA_IPC_HANDLE_SIZE 64

/**
 * Message of the calling thread's last failed tc_shm_* / tc_cuda_* call
 * ("" if none yet), e.g. the errno text of a failed shm_open() or "CUDA
 * runtime not available". Valid until the next such call on this thread.
 * Never NULL. Thread-safe (one message per thread).
 * @since 0.1.0
 */
TC_API const char *tc_shm_last_error(void);

/* ---- system (POSIX) shared memory regions --------------------------------- */

/** Opaque mapping of a POSIX shared-memory object (or a window of one). */
typedef struct tc_shm_region tc_shm_region;

/**
 * Create (or reuse) the POSIX shared-memory object `key`, size it to
 * `byte_size` bytes and map it read-write, as the upstream clients'
 * create_shared_memory_region() does (shm_open with O_RDWR | O_CREAT, mode
 * 0600, ftruncate, mmap). An existing object of that name is resized.
 * @param out        receives the region; caller owns it (tc_shm_region_destroy()
 *                   to also remove the name, or tc_shm_region_free()).
 * @param key        object name as shm_open() takes it ("/input_data"): a
 *                   leading '/', no other '/', at most 255 bytes.
 * @param byte_size  size in bytes, > 0.
 * @return TC_OK; TC_E_INVALID_ARG (NULL out or key, bad key, byte_size 0 or
 *         too large for off_t); TC_E_NOMEM; TC_E_UNKNOWN when shm_open,
 *         ftruncate or mmap fails (the errno text is in tc_shm_last_error()).
 * @since 0.1.0
 */
TC_API tc_code tc_shm_region_new(tc_shm_region **out, const char *key, size_t byte_size);

/**
 * Map `byte_size` bytes at `offset` of an existing shared-memory object
 * `key` read-write (the object is neither created nor resized). `offset`
 * need not be page-aligned.
 * @param out        receives the region; caller owns it (tc_shm_region_free()).
 * @param byte_size  bytes to map, or 0 for everything from `offset` to the
 *                   end of the object.
 * @return TC_OK; TC_E_INVALID_ARG (NULL/bad key, offset + byte_size beyond
 *         the object or overflowing, an empty window); TC_E_NOT_FOUND (no
 *         object of that name); TC_E_NOMEM; TC_E_UNKNOWN (another system
 *         error, see tc_shm_last_error()).
 * @since 0.1.0
 */
TC_API tc_code tc_shm_region_open(tc_shm_region **out, const char *key, size_t offset,
                                  size_t byte_size);

/**
 * Unmap a region and close its descriptor; the object itself (its name)
 * stays. Pointers from tc_shm_region_data() become invalid. NULL does nothing.
 * @since 0.1.0
 */
TC_API void tc_shm_region_free(tc_shm_region *region);

/**
 * Unmap a region like tc_shm_region_free() and remove its object name
 * (shm_unlink), as the upstream destroy_shared_memory_region() does. The
 * region is freed whatever the result. NULL does nothing and returns TC_OK.
 * Unregister it from servers first: a server keeps its own mapping.
 * @return TC_OK; TC_E_NOT_FOUND (the name was already removed);
 *         TC_E_UNKNOWN (shm_unlink failed otherwise, see tc_shm_last_error()).
 * @since 0.1.0
 */
TC_API tc_code tc_shm_region_destroy(tc_shm_region *region);

/**
 * Remove a shared-memory object name without a region (cleanup after a
 * crashed run).
 * @return TC_OK; TC_E_INVALID_ARG (NULL or bad key); TC_E_NOT_FOUND (no such
 *         name); TC_E_UNKNOWN (see tc_shm_last_error()).
 * @since 0.1.0
 */
TC_API tc_code tc_shm_unlink(const char *key);

/**
 * Start of the mapping (NULL for a NULL region). Owned by the region; valid
 * until it is freed. Reads and writes through it are not bounds-checked:
 * stay within tc_shm_region_byte_size().
 * @since 0.1.0
 */
TC_API void *tc_shm_region_data(const tc_shm_region *region);

/** Size of the mapping in bytes (0 for NULL). @since 0.1.0 */
TC_API size_t tc_shm_region_byte_size(const tc_shm_region *region);

/** Object name the region maps ("" for NULL); owned by the region. @since 0.1.0 */
TC_API const char *tc_shm_region_key(const tc_shm_region *region);

/**
 * Offset of the mapping inside its object (the `offset` of
 * tc_shm_region_open(); 0 for tc_shm_region_new() and NULL).
 * @since 0.1.0
 */
TC_API size_t tc_shm_region_offset(const tc_shm_region *region);

/**
 * Copy `byte_size` bytes from `data` into the region at `offset`.
 * @return TC_OK; TC_E_INVALID_ARG (NULL region, NULL data with byte_size > 0,
 *         offset + byte_size beyond the region or overflowing).
 * @since 0.1.0
 */
TC_API tc_code tc_shm_region_write(tc_shm_region *region, size_t offset, const void *data,
                                   size_t byte_size);

/**
 * Write `count` elements as a serialized BYTES tensor (each a 4-byte
 * little-endian length followed by its bytes) at `offset`. Nothing is
 * written unless the whole tensor fits.
 * @param elems      `count` pointers (an element may be NULL when its length is 0).
 * @param lens       `count` lengths, each at most 4 GiB - 1.
 * @param byte_size  receives the serialized size (may be NULL); written on
 *                   TC_OK only.
 * @return TC_OK; TC_E_INVALID_ARG (NULL region, NULL elems/lens with
 *         count > 0, NULL element with a length, a length over 4 GiB - 1,
 *         the tensor beyond the region or its size overflowing).
 * @since 0.1.0
 */
TC_API tc_code tc_shm_region_write_bytes(tc_shm_region *region, size_t offset,
                                         const void *const *elems, const size_t *lens, size_t count,
                                         size_t *byte_size);

/**
 * Copy `byte_size` bytes at `offset` of the region into `dst`.
 * @return TC_OK; TC_E_INVALID_ARG (NULL region, NULL dst with byte_size > 0,
 *         offset + byte_size beyond the region or overflowing).
 * @since 0.1.0
 */
TC_API tc_code tc_shm_region_read(const tc_shm_region *region, size_t offset, void *dst,
                                  size_t byte_size);

/**
 * Bounds-checked pointer to `byte_size` bytes at `offset` of the region.
 * @param ptr  receives the pointer (owned by the region, valid until it is freed).
 * @return TC_OK; TC_E_INVALID_ARG (NULL argument, the span beyond the region
 *         or overflowing).
 * @since 0.1.0
 */
TC_API tc_code tc_shm_region_span(const tc_shm_region *region, size_t offset, size_t byte_size,
                                  void **ptr);

/**
 * Point at the data of the output called `name` of `result`, an output the
 * server wrote into shared memory (tc_result_output_shm()). `region` must
 * map the registered region from its start (the region passed to
 * tc_client_system_shm_register(), mapped with the same object offset);
 * the output is read at its shared_memory_offset. For non-BYTES outputs the
 * size is the datatype size times the shape's element count; for BYTES the
 * byte size the server reported.
 * @param data       receives a pointer into the region (valid until it is freed).
 * @param byte_size  receives the output's size in bytes.
 * @return TC_OK; TC_E_INVALID_ARG (NULL argument, the output is not in
 *         shared memory, its span lies beyond `region`, or its size
 *         overflows); TC_E_NOT_FOUND (no such output).
 * @since 0.1.0
 */
TC_API tc_code tc_result_output_read_shm(const tc_result *result, const char *name,
                                         const tc_shm_region *region, const uint8_t **data,
                                         size_t *byte_size);

/* ---- CUDA device buffers ------------------------------------------------------------ */

/** Opaque CUDA device allocation to share with a server through an IPC handle. */
typedef struct tc_cuda_shm_region tc_cuda_shm_region;

/**
 * Number of CUDA devices (cudaGetDeviceCount). Thread-safe.
 * @return TC_OK; TC_E_INVALID_ARG (NULL count); TC_E_NOT_SUPPORTED (no CUDA
 *         runtime, or the runtime reports no usable device: `*count` is 0).
 * @since 0.1.0
 */
TC_API tc_code tc_cuda_device_count(int *count);

/**
 * Allocate `byte_size` bytes on device `device_id` (cudaSetDevice +
 * cudaMalloc) and obtain its IPC handle (cudaIpcGetMemHandle).
 * @param out  receives the region; caller owns it (tc_cuda_shm_region_free()).
 * @return TC_OK; TC_E_INVALID_ARG (NULL out, byte_size 0, negative
 *         device_id); TC_E_NOT_SUPPORTED (no CUDA runtime); TC_E_NOMEM;
 *         TC_E_UNKNOWN (a CUDA call failed; its cudaGetErrorString text is
 *         in tc_shm_last_error()).
 * @since 0.1.0
 */
TC_API tc_code tc_cuda_shm_region_new(tc_cuda_shm_region **out, size_t byte_size, int device_id);

/** Free the device memory (cudaFree) and the region. NULL does nothing. @since 0.1.0 */
TC_API void tc_cuda_shm_region_free(tc_cuda_shm_region *region);

/**
 * Copy the region's IPC handle, TC_CUDA_IPC_HANDLE_SIZE raw bytes, into
 * `handle` (pass it to tc_client_cuda_shm_register()).
 * @return TC_OK; TC_E_INVALID_ARG (NULL argument).  @since 0.1.0
 */
TC_API tc_code tc_cuda_shm_region_ipc_handle(const tc_cuda_shm_region *region,
                                             uint8_t handle[TC_CUDA_IPC_HANDLE_SIZE]);

/** Device the region lives on (-1 for NULL). @since 0.1.0 */
TC_API int tc_cuda_shm_region_device_id(const tc_cuda_shm_region *region);

/** Size of the allocation in bytes (0 for NULL). @since 0.1.0 */
TC_API size_t tc_cuda_shm_region_byte_size(const tc_cuda_shm_region *region);

/**
 * Copy `byte_size` host bytes from `data` to the region at `offset` (cudaMemcpy).
 * @return TC_OK; TC_E_INVALID_ARG (NULL region, NULL data with byte_size > 0,
 *         the span beyond the region or overflowing); TC_E_UNKNOWN (the copy
 *         failed, see tc_shm_last_error()).
 * @since 0.1.0
 */
TC_API tc_code tc_cuda_shm_region_write(tc_cuda_shm_region *region, size_t offset, const void *data,
                                        size_t byte_size);

/**
 * Copy `byte_size` bytes at `offset` of the region to host memory `dst`.
 * @return as tc_cuda_shm_region_write().  @since 0.1.0
 */
TC_API tc_code tc_cuda_shm_region_read(const tc_cuda_shm_region *region, size_t offset, void *dst,
                                       size_t byte_size);

/* ---- registering regions with a server (tc_client calls) ---------------------------- */

/**
 * Opaque list of registered regions returned by the status calls, sorted by
 * region name (the same on every transport). Entry fields that do not apply
 * read as "" / 0 / -1 (key and offset for CUDA regions, device_id for system
 * regions).
 */
typedef struct tc_shm_status tc_shm_status;

/** Free a status list. NULL does nothing. @since 0.1.0 */
TC_API void tc_shm_status_free(tc_shm_status *status);
/** Number of regions listed (0 for NULL). @since 0.1.0 */
TC_API size_t tc_shm_status_count(const tc_shm_status *status);
/** Region name of entry `i`, or NULL when out of range. Owned by `status`. @since 0.1.0 */
TC_API const char *tc_shm_status_name(const tc_shm_status *status, size_t i);
/** Shared-memory key of system entry `i` ("" for CUDA or out of range). @since 0.1.0 */
TC_API const char *tc_shm_status_key(const tc_shm_status *status, size_t i);
/** Offset inside the object of system entry `i` (0 otherwise). @since 0.1.0 */
TC_API uint64_t tc_shm_status_offset(const tc_shm_status *status, size_t i);
/** Byte size of entry `i` (0 when out of range). @since 0.1.0 */
TC_API uint64_t tc_shm_status_byte_size(const tc_shm_status *status, size_t i);
/** CUDA device of CUDA entry `i` (-1 for system entries or out of range). @since 0.1.0 */
TC_API int64_t tc_shm_status_device_id(const tc_shm_status *status, size_t i);

/**
 * Register the POSIX shared-memory object `key` (bytes [offset, offset +
 * byte_size) of it) with the server under `name`. The server maps it
 * itself; on a Triton-compatible server `offset` should be page-aligned.
 * The server refuses while it runs without --allow-client-shm=true
 * (TC_E_NOT_SUPPORTED, its message in tc_client_last_error()).
 * @return also TC_E_INVALID_ARG (NULL/empty name or key; or the server's
 *         "already in manager" for a name in use, or "invalid args" for a
 *         span beyond the object); TC_E_INTERNAL (the server cannot open the key).
 * @note   Not thread-safe: serialize calls on one client.   @since 0.1.0
 */
TC_API tc_code tc_client_system_shm_register(tc_client *client, const char *name, const char *key,
                                             size_t offset, size_t byte_size,
                                             const tc_headers *headers);

/**
 * Unregister the system region `name`, or every system region when `name`
 * is NULL or "". An unknown name is not an error.
 * @note   Not thread-safe: serialize calls on one client.   @since 0.1.0
 */
TC_API tc_code tc_client_system_shm_unregister(tc_client *client, const char *name,
                                               const tc_headers *headers);

/**
 * List the registered system regions (one when `name` is non-empty).
 * @param out  receives the list; caller owns it (tc_shm_status_free()).
 * @return also TC_E_NOT_FOUND (unknown `name`).
 * @note   Not thread-safe: serialize calls on one client.   @since 0.1.0
 */
TC_API tc_code tc_client_system_shm_status(tc_client *client, const char *name,
                                           const tc_headers *headers, tc_shm_status **out);

/**
 * Register a CUDA allocation with the server under `name`: its IPC handle
 * (TC_CUDA_IPC_HANDLE_SIZE raw bytes, e.g. from
 * tc_cuda_shm_region_ipc_handle(); HTTP sends it base64-encoded, gRPC as
 * bytes), the device it lives on and its size. Works without a local CUDA
 * runtime (the handle is only bytes here).
 * @return also TC_E_INVALID_ARG (NULL/empty name, NULL raw_handle, negative
 *         device_id, or the server's refusal); TC_E_NOT_SUPPORTED (client
 *         shared memory disabled on the server).
 * @note   Not thread-safe: serialize calls on one client.   @since 0.1.0
 */
TC_API tc_code tc_client_cuda_shm_register(tc_client *client, const char *name,
                                           const uint8_t raw_handle[TC_CUDA_IPC_HANDLE_SIZE],
                                           int64_t device_id, size_t byte_size,
                                           const tc_headers *headers);

/**
 * Unregister the CUDA region `name`, or every CUDA region when `name` is
 * NULL or "".
 * @note   Not thread-safe: serialize calls on one client.   @since 0.1.0
 */
TC_API tc_code tc_client_cuda_shm_unregister(tc_client *client, const char *name,
                                             const tc_headers *headers);

/**
 * List the registered CUDA regions (one when `name` is non-empty).
 * @param out  receives the list; caller owns it (tc_shm_status_free()).
 * @return also TC_E_NOT_FOUND (unknown `name`).
 * @note   Not thread-safe: serialize calls on one client.   @since 0.1.0
 */
TC_API tc_code tc_client_cuda_shm_status(tc_client *client, const char *name,
                                         const tc_headers *headers, tc_shm_status **out);

#ifdef __cplusplus
}
#endif
#endif /* TC_TRITONC_SHM_H */
