/**
 * @file common.h
 * Result codes, export macros, the allocator hook and the log hook shared by
 * every part of libtritonc.
 */
#ifndef TC_TRITONC_COMMON_H
#define TC_TRITONC_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(TC_BUILDING_LIBRARY)
#define TC_API __attribute__((visibility("default")))
#else
#define TC_API
#endif

#define TC_DEPRECATED(since, msg) __attribute__((deprecated("since " since ": " msg)))

/**
 * Result of every fallible call. TC_OK is 0, errors are negative. Values are
 * append-only and never renumbered; a retired code keeps its number.
 */
typedef enum tc_code {
    TC_OK = 0,
    TC_E_INVALID_ARG = -1,    /**< a caller argument is wrong (NULL, out of range) */
    TC_E_NOMEM = -2,          /**< an allocation failed */
    TC_E_NOT_FOUND = -3,      /**< model, version, region or output not found */
    TC_E_INTERNAL = -4,       /**< the server reported an internal error */
    TC_E_UNAVAILABLE = -5,    /**< the server or model is not ready, or overloaded */
    TC_E_NOT_SUPPORTED = -6,  /**< the feature is unsupported (server or this build) */
    TC_E_ALREADY_EXISTS = -7, /**< the name is already in use */
    TC_E_TRANSPORT = -8,      /**< connecting, sending or receiving failed */
    TC_E_TIMEOUT = -9,        /**< the call's deadline passed */
    TC_E_CANCELLED = -10,     /**< the call was cancelled */
    TC_E_PROTOCOL = -11,      /**< the peer sent something that breaks the protocol */
    TC_E_BUSY = -12,          /**< the object is in use (e.g. freed from its own callback) */
    TC_E_UNKNOWN = -13,       /**< an error without a more specific code */
    TC_E_SERVER = -14         /**< the server answered with an error not mapped above */
} tc_code;

/** Name of a code ("TC_E_NOT_FOUND"); never NULL. Thread-safe. @since 0.1.0 */
TC_API const char *tc_code_name(tc_code code);
/** Short English description of a code; never NULL. Thread-safe. @since 0.1.0 */
TC_API const char *tc_code_str(tc_code code);

/** Allocation functions for tc_set_allocator(); a NULL member keeps the C library's. */
typedef struct tc_allocator {
    void *(*malloc_fn)(size_t size);
    void *(*calloc_fn)(size_t count, size_t size);
    void *(*realloc_fn)(void *ptr, size_t size);
    void (*free_fn)(void *ptr);
} tc_allocator;
/**
 * Route every allocation of the library through `alloc` (copied). Call before
 * any other function of the library, from one thread; memory allocated before
 * the call must not be freed after it. Not thread-safe.
 * @return TC_OK, or TC_E_INVALID_ARG when `alloc` is NULL.  @since 0.1.0
 */
TC_API tc_code tc_set_allocator(const tc_allocator *alloc);

/** Log levels, from most to least severe. */
typedef enum tc_log_level {
    TC_LOG_ERROR = 0,
    TC_LOG_WARNING = 1,
    TC_LOG_INFO = 2,
    TC_LOG_VERBOSE = 3
} tc_log_level;

/**
 * Log hook: the library never prints by itself. `message` is valid for the
 * call only. May run on any library thread; must not block.
 */
typedef void (*tc_log_cb)(tc_log_level level, const char *message, void *user_data);
/**
 * Install (or with NULL remove) the log hook. Call before starting clients.
 * Messages above `max_level` are dropped.  @since 0.1.0
 */
TC_API void tc_set_log_callback(tc_log_cb cb, tc_log_level max_level, void *user_data);

/** Library version as "MAJOR.MINOR.PATCH"; never NULL. Thread-safe. @since 0.1.0 */
TC_API const char *tc_library_version(void);

/** Ownership choice for caller buffers handed to the library. */
typedef enum tc_ownership {
    TC_BORROW =
        0, /**< the library keeps the pointer; the caller keeps it valid (doc says until when) */
    TC_COPY = 1 /**< the library copies the bytes during the call */
} tc_ownership;

#ifdef __cplusplus
}
#endif
#endif /* TC_TRITONC_COMMON_H */
