/**
 * @file http.h
 * The HTTP/REST transport: options and the constructor of an HTTP tc_client.
 *
 * Every timeout of the API is in microseconds (`_us`).
 */
#ifndef TC_TRITONC_HTTP_H
#define TC_TRITONC_HTTP_H

#include <tritonc/client.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Opaque options for tc_http_client_new(). The client copies what it needs,
 * so the options may be freed or reused right after the call.
 * Thread rule: one thread at a time per options object.
 */
typedef struct tc_http_options tc_http_options;

/**
 * Create options holding the defaults: not verbose, 4 async connections, no
 * timeouts, no compression, TLS peer and host verification on, no headers.
 * @param out  receives the options; caller owns them (tc_http_options_free()).
 * @return TC_OK, TC_E_INVALID_ARG (NULL out), TC_E_NOMEM.  @since 0.1.0
 */
TC_API tc_code tc_http_options_new(tc_http_options **out);

/** Free options. NULL does nothing. @since 0.1.0 */
TC_API void tc_http_options_free(tc_http_options *opts);

/**
 * Log every HTTP exchange (headers and body sizes) through the
 * tc_set_log_callback() hook at TC_LOG_VERBOSE.
 * @return TC_OK, TC_E_INVALID_ARG (NULL opts).  @since 0.1.0
 */
TC_API tc_code tc_http_options_set_verbose(tc_http_options *opts, bool verbose);

/**
 * Most connections the async engine opens to the server, that is the most
 * requests on the wire at once (1..1024; default 4). Sync calls use one
 * separate keep-alive connection.
 * @return TC_OK, TC_E_INVALID_ARG (NULL opts or out of range).  @since 0.1.0
 */
TC_API tc_code tc_http_options_set_max_connections(tc_http_options *opts, uint32_t count);

/**
 * Deadline for establishing a connection, in microseconds; 0 = the system's.
 * @return TC_OK, TC_E_INVALID_ARG (NULL opts).  @since 0.1.0
 */
TC_API tc_code tc_http_options_set_connect_timeout_us(tc_http_options *opts, uint64_t timeout_us);

/**
 * Default deadline for each whole call (management and inference), in
 * microseconds; 0 = none. tc_request_set_client_timeout_us() overrides it
 * for one request. An expired call ends with TC_E_TIMEOUT.
 * @return TC_OK, TC_E_INVALID_ARG (NULL opts).  @since 0.1.0
 */
TC_API tc_code tc_http_options_set_network_timeout_us(tc_http_options *opts, uint64_t timeout_us);

/**
 * Compress inference request bodies (`Content-Encoding`). DEFLATE is a zlib
 * stream, as Triton expects.
 * @return TC_OK, TC_E_INVALID_ARG (NULL opts or unknown value).  @since 0.1.0
 */
TC_API tc_code tc_http_options_set_request_compression(tc_http_options *opts,
                                                       tc_compression algorithm);

/**
 * Ask the server to compress inference responses (`Accept-Encoding`); the
 * client decompresses them transparently.
 * @return TC_OK, TC_E_INVALID_ARG (NULL opts or unknown value).  @since 0.1.0
 */
TC_API tc_code tc_http_options_set_response_compression(tc_http_options *opts,
                                                        tc_compression algorithm);

/**
 * HTTPS: verify the server certificate chain (default true).
 * @return TC_OK, TC_E_INVALID_ARG (NULL opts).  @since 0.1.0
 */
TC_API tc_code tc_http_options_set_verify_peer(tc_http_options *opts, bool verify);

/**
 * HTTPS: check that the certificate names the host (default true).
 * @return TC_OK, TC_E_INVALID_ARG (NULL opts).  @since 0.1.0
 */
TC_API tc_code tc_http_options_set_verify_host(tc_http_options *opts, bool verify);

/**
 * HTTPS: PEM file of CA certificates to trust instead of the system's
 * (path copied; NULL restores the default).
 * @return TC_OK, TC_E_INVALID_ARG (NULL opts), TC_E_NOMEM.  @since 0.1.0
 */
TC_API tc_code tc_http_options_set_ca_file(tc_http_options *opts, const char *path);

/**
 * HTTPS: client certificate and private key, PEM files (paths copied; NULL
 * clears). The files are read when the client connects.
 * @return TC_OK, TC_E_INVALID_ARG (NULL opts), TC_E_NOMEM.  @since 0.1.0
 */
TC_API tc_code tc_http_options_set_client_cert(tc_http_options *opts, const char *cert_path,
                                               const char *key_path);

/**
 * Add a header sent with every call of the client (copied).
 * @return TC_OK, TC_E_INVALID_ARG (NULL opts, NULL/empty name, CR or LF), TC_E_NOMEM.
 * @since 0.1.0
 */
TC_API tc_code tc_http_options_add_header(tc_http_options *opts, const char *name,
                                          const char *value);

/**
 * Create an HTTP client. Nothing is connected yet: the first call connects,
 * and the async I/O thread starts on the first tc_client_infer_async().
 * @param out   receives the client; caller owns it (tc_client_free()).
 * @param url   "host:port", "http://host:port[/prefix]" or "https://...".
 *              Without a scheme, http is used.
 * @param opts  options, or NULL for the defaults.
 * @return TC_OK; TC_E_INVALID_ARG (NULL out or url, empty url, unknown
 *         scheme); TC_E_NOMEM; TC_E_TRANSPORT (libcurl could not start).
 * @note   Thread-safe (each call creates an independent client).
 * @since 0.1.0
 */
TC_API tc_code tc_http_client_new(tc_client **out, const char *url, const tc_http_options *opts);

/* ---- resilience (see "Retries and several endpoints" in client.h) ------ */

/**
 * Retry policy of clients made with these options (off by default). A
 * failed attempt is retried after an exponential backoff with jitter (the
 * n-th wait is uniform in [b/2, b] with b = min(max_backoff_us,
 * initial_backoff_us * 2^(n-1))), at most `max_attempts` attempts in all,
 * under the rules of client.h: any call when the request never reached the
 * server, idempotent calls after any transport failure.
 * @param max_attempts  attempts per call including the first; 0 or 1 turns
 *                      retries off (the backoffs are then ignored).
 * @return TC_OK, TC_E_INVALID_ARG (NULL opts; with max_attempts > 1:
 *         initial_backoff_us 0 or max_backoff_us < initial_backoff_us).
 * @since 0.2.0
 */
TC_API tc_code tc_http_options_set_retry(tc_http_options *opts, uint32_t max_attempts,
                                  uint64_t initial_backoff_us, uint64_t max_backoff_us);

/**
 * Create one HTTP client over several servers: each call goes to the next
 * endpoint that is up (round robin), endpoints failing with a transport
 * error are skipped until a background `live` probe succeeds, and failed
 * calls fail over under the retry policy of `opts` (see client.h). The
 * result is an ordinary tc_client: every tc_client_* call works on it.
 * Nothing is connected yet.
 * @param out        receives the client; caller owns it (tc_client_free()).
 * @param urls       `url_count` URLs as tc_http_client_new() takes them
 *                   ("http://host:port"), copied.
 * @param opts       options for every endpoint, or NULL for the defaults.
 * @return TC_OK; TC_E_INVALID_ARG (NULL out or urls, url_count 0, a NULL,
 *         empty or malformed URL); TC_E_NOMEM; TC_E_TRANSPORT (a thread
 *         cannot start).
 * @note   Thread-safe (each call creates an independent client).
 * @since 0.2.0
 */
TC_API tc_code tc_http_multi_client_new(tc_client **out, const char *const *urls,
                                      size_t url_count, const tc_http_options *opts);

#ifdef __cplusplus
}
#endif
#endif /* TC_TRITONC_HTTP_H */
