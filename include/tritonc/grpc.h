/**
 * @file grpc.h
 * The gRPC transport: options and the constructor of a gRPC tc_client, plus
 * the request settings only gRPC honours.
 *
 * A gRPC client is the same tc_client as an HTTP one: every tc_client_*
 * call of client.h works with the same semantics, and JSON documents
 * (model config, statistics, trace and log settings) come back as the same
 * JSON text the HTTP transport returns. Streams (stream.h) need gRPC.
 *
 * One client holds one HTTP/2 connection, opened by the first call and
 * reopened by the first call after it was lost (GOAWAY, reset, keepalive
 * timeout). Every timeout of the API is in microseconds (`_us`).
 */
#ifndef TC_TRITONC_GRPC_H
#define TC_TRITONC_GRPC_H

#include <tritonc/client.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Opaque options for tc_grpc_client_new(). The client copies what it needs,
 * so the options may be freed or reused right after the call.
 * Thread rule: one thread at a time per options object.
 */
typedef struct tc_grpc_options tc_grpc_options;

/**
 * Create options holding the defaults: not verbose; keepalive as
 * tritonclient sets it (time INT32_MAX ms, i.e. off; timeout 20 s; no pings
 * without calls; at most 2 pings without data); send and receive message
 * limits INT32_MAX bytes; no compression; plaintext (TLS off, verification
 * on when turned on); no metadata; no connect or call timeout.
 * @param out  receives the options; caller owns them (tc_grpc_options_free()).
 * @return TC_OK, TC_E_INVALID_ARG (NULL out), TC_E_NOMEM.  @since 0.1.0
 */
TC_API tc_code tc_grpc_options_new(tc_grpc_options **out);

/** Free options. NULL does nothing. @since 0.1.0 */
TC_API void tc_grpc_options_free(tc_grpc_options *opts);

/**
 * Log every call (method, headers, message sizes, status) through the
 * tc_set_log_callback() hook at TC_LOG_VERBOSE.
 * @return TC_OK, TC_E_INVALID_ARG (NULL opts).  @since 0.1.0
 */
TC_API tc_code tc_grpc_options_set_verbose(tc_grpc_options *opts, bool verbose);

/**
 * Keepalive: after `time_us` without receiving anything the client sends an
 * HTTP/2 PING and drops the connection when no answer arrives within
 * `timeout_us` (every pending call then ends with TC_E_UNAVAILABLE).
 * Pings are sent only while calls are open unless `permit_without_calls`;
 * at most `max_pings_without_data` pings are sent while no data frame was
 * sent (0 = no limit). `time_us` 0 or >= INT32_MAX ms turns keepalive off.
 * @return TC_OK, TC_E_INVALID_ARG (NULL opts, timeout_us 0).  @since 0.1.0
 */
TC_API tc_code tc_grpc_options_set_keepalive(tc_grpc_options *opts, uint64_t time_us,
                                             uint64_t timeout_us, bool permit_without_calls,
                                             uint32_t max_pings_without_data);

/**
 * Largest request message the client sends, in bytes (default INT32_MAX).
 * A larger request fails with TC_E_INVALID_ARG before anything is sent.
 * @return TC_OK, TC_E_INVALID_ARG (NULL opts, 0 or above INT32_MAX).  @since 0.1.0
 */
TC_API tc_code tc_grpc_options_set_max_send_message_size(tc_grpc_options *opts,
                                                         size_t byte_size);

/**
 * Largest response message the client accepts, in bytes, compressed or not
 * (default INT32_MAX). A larger one ends its call with TC_E_INVALID_ARG
 * (gRPC RESOURCE_EXHAUSTED).
 * @return TC_OK, TC_E_INVALID_ARG (NULL opts, 0 or above INT32_MAX).  @since 0.1.0
 */
TC_API tc_code tc_grpc_options_set_max_receive_message_size(tc_grpc_options *opts,
                                                            size_t byte_size);

/**
 * Compress every request message (`grpc-encoding`); responses are
 * decompressed transparently whatever the server picks.
 * tc_request_set_grpc_compression() overrides it per inference request.
 * @return TC_OK, TC_E_INVALID_ARG (NULL opts or unknown value).  @since 0.1.0
 */
TC_API tc_code tc_grpc_options_set_compression(tc_grpc_options *opts, tc_compression algorithm);

/**
 * Deadline for establishing the connection (TCP, TLS and the HTTP/2
 * preface), in microseconds; 0 (default) = only the call deadline applies.
 * @return TC_OK, TC_E_INVALID_ARG (NULL opts).  @since 0.1.0
 */
TC_API tc_code tc_grpc_options_set_connect_timeout_us(tc_grpc_options *opts, uint64_t timeout_us);

/**
 * Default deadline of every unary call, in microseconds (0 = none, the
 * default); sent as `grpc-timeout` and enforced by the client too.
 * tc_request_set_client_timeout_us() overrides it for one request. An
 * expired call ends with TC_E_TIMEOUT. Streams have no deadline.
 * @return TC_OK, TC_E_INVALID_ARG (NULL opts).  @since 0.1.0
 */
TC_API tc_code tc_grpc_options_set_network_timeout_us(tc_grpc_options *opts, uint64_t timeout_us);

/**
 * Use TLS (ALPN "h2"). A "grpcs://" or "https://" URL turns it on as well.
 *
 * The client (OpenSSL, TLS 1.2 or later) offers ALPN "h2" and fails unless
 * the server selects it; it sends the URL's host name as SNI (not an IP
 * address), and, while verification is on, checks the server's chain
 * against the root certificates (tc_grpc_options_set_root_certificates(),
 * else the system's store) and the host name or IP address against the
 * certificate (`grpc.ssl_target_name_override` replaces the name in both).
 * Certificate files are read at the first connect. Every TLS failure (a
 * file that cannot be loaded, a failed handshake, a server that refuses
 * the client certificate, no h2) ends the calls waiting for the connection
 * with TC_E_TRANSPORT and a message holding OpenSSL's reason, e.g.
 * "TLS handshake with host:port failed: certificate verify failed
 * (unable to get local issuer certificate)". Closing sends close_notify.
 * @return TC_OK, TC_E_INVALID_ARG (NULL opts).  @since 0.1.0
 */
TC_API tc_code tc_grpc_options_set_tls(tc_grpc_options *opts, bool use_tls);

/**
 * TLS: PEM file of root certificates to trust instead of the system's (path
 * copied, read when the client connects; NULL restores the default).
 * @return TC_OK, TC_E_INVALID_ARG (NULL opts), TC_E_NOMEM.  @since 0.1.0
 */
TC_API tc_code tc_grpc_options_set_root_certificates(tc_grpc_options *opts, const char *path);

/**
 * TLS: client certificate chain and private key, PEM files (paths copied,
 * read when the client connects; NULL clears).
 * @return TC_OK, TC_E_INVALID_ARG (NULL opts, only one of the two), TC_E_NOMEM.
 * @since 0.1.0
 */
TC_API tc_code tc_grpc_options_set_client_cert(tc_grpc_options *opts, const char *cert_path,
                                               const char *key_path);

/**
 * TLS: verify the server's certificate chain and host name (default true).
 * @return TC_OK, TC_E_INVALID_ARG (NULL opts).  @since 0.1.0
 */
TC_API tc_code tc_grpc_options_set_verify_peer(tc_grpc_options *opts, bool verify);

/**
 * Add a metadata entry sent with every call of the client (copied). gRPC
 * metadata names are lower case; the name is lower-cased when sent.
 * @return TC_OK, TC_E_INVALID_ARG (NULL opts, NULL/empty name, ':' CR or LF
 *         in the name, CR or LF in the value), TC_E_NOMEM.
 * @since 0.1.0
 */
TC_API tc_code tc_grpc_options_add_header(tc_grpc_options *opts, const char *name,
                                          const char *value);

/**
 * Set an option by its standard gRPC channel argument name, as grpcio and
 * gRPC C++ users pass channel arguments. Integer arguments:
 * `grpc.keepalive_time_ms`, `grpc.keepalive_timeout_ms`,
 * `grpc.keepalive_permit_without_calls` (0/1),
 * `grpc.http2.max_pings_without_data`, `grpc.max_send_message_length`,
 * `grpc.max_receive_message_length` (-1 = INT32_MAX, as gRPC's "unlimited"),
 * `grpc.default_compression_algorithm` (0 identity, 1 deflate, 2 gzip, gRPC's
 * numbering), `grpc.enable_http_proxy` (accepted, ignored: no proxy is
 * ever used), `grpc.max_metadata_size` and `grpc.http2.max_frame_size`
 * (accepted, checked and ignored).
 * Each maps onto the setter above with the unit converted.
 * @return TC_OK; TC_E_INVALID_ARG (NULL opts or name, value out of range);
 *         TC_E_NOT_SUPPORTED for any other name (never silently dropped).
 * @since 0.1.0
 */
TC_API tc_code tc_grpc_options_set_channel_arg_int(tc_grpc_options *opts, const char *name,
                                                   int64_t value);

/**
 * As tc_grpc_options_set_channel_arg_int() for string arguments:
 * `grpc.primary_user_agent` and `grpc.secondary_user_agent` (prepended /
 * appended to the user-agent header), `grpc.ssl_target_name_override`
 * (TLS server name to verify and send in SNI), `grpc.default_authority`
 * (the `:authority` header). An integer argument given as decimal text is
 * accepted too.
 * @return TC_OK, TC_E_INVALID_ARG (NULL argument or bad number), TC_E_NOMEM,
 *         TC_E_NOT_SUPPORTED (unknown name).
 * @since 0.1.0
 */
TC_API tc_code tc_grpc_options_set_channel_arg_str(tc_grpc_options *opts, const char *name,
                                                   const char *value);

/**
 * Create a gRPC client. Nothing is connected yet: the first call connects.
 * Sync calls run on the calling thread while the client has no I/O thread;
 * the first async call or stream starts the I/O thread, which then carries
 * every call.
 * @param out   receives the client; caller owns it (tc_client_free()).
 * @param url   "host:port", "grpc://host:port", "http://host:port", or with
 *              "grpcs://" / "https://" for TLS. An IPv6 host is bracketed.
 * @param opts  options, or NULL for the defaults.
 * @return TC_OK; TC_E_INVALID_ARG (NULL out or url, no port, unknown
 *         scheme, path after the port); TC_E_NOMEM; TC_E_NOT_SUPPORTED (TLS
 *         asked of a build without it; every build since 0.1.0 has TLS).
 * @note   Thread-safe (each call creates an independent client).
 * @since 0.1.0
 */
TC_API tc_code tc_grpc_client_new(tc_client **out, const char *url, const tc_grpc_options *opts);

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
TC_API tc_code tc_grpc_options_set_retry(tc_grpc_options *opts, uint32_t max_attempts,
                                  uint64_t initial_backoff_us, uint64_t max_backoff_us);

/**
 * Create one gRPC client over several servers: each call goes to the next
 * endpoint that is up (round robin), endpoints failing with a transport
 * error are skipped until a background `live` probe succeeds, and failed
 * calls fail over under the retry policy of `opts` (see client.h). The
 * result is an ordinary tc_client: every tc_client_* call works on it.
 * Nothing is connected yet.
 * @param out        receives the client; caller owns it (tc_client_free()).
 * @param urls       `url_count` URLs as tc_grpc_client_new() takes them
 *                   ("host:port" or "grpc://host:port"), copied.
 * @param opts       options for every endpoint, or NULL for the defaults.
 * @return TC_OK; TC_E_INVALID_ARG (NULL out or urls, url_count 0, a NULL,
 *         empty or malformed URL); TC_E_NOMEM; TC_E_TRANSPORT (a thread
 *         cannot start).
 * @note   Thread-safe (each call creates an independent client).
 * @since 0.2.0
 */
TC_API tc_code tc_grpc_multi_client_new(tc_client **out, const char *const *urls,
                                      size_t url_count, const tc_grpc_options *opts);

/* ---- request settings only gRPC honours -------------------------------- */

/**
 * Compress this request's message with `algorithm`, overriding the
 * client's tc_grpc_options_set_compression(). HTTP clients ignore it.
 * @return TC_OK, TC_E_INVALID_ARG (NULL req or unknown value).  @since 0.1.0
 */
TC_API tc_code tc_request_set_grpc_compression(tc_request *req, tc_compression algorithm);

/**
 * Send input data as typed `contents` (int_contents, fp32_contents,
 * bytes_contents...) instead of `raw_input_contents`, as the upstream
 * "explicit content" examples do. FP16 and BF16 inputs cannot travel typed
 * and make the send fail with TC_E_INVALID_ARG. HTTP clients ignore it.
 * @return TC_OK, TC_E_INVALID_ARG (NULL req).  @since 0.1.0
 */
TC_API tc_code tc_request_set_typed_contents(tc_request *req, bool typed);

/**
 * Per-input override of tc_request_set_typed_contents(): send input `name`
 * typed (`true`) or raw (`false`). Mixing both kinds in one request is what
 * Triton rejects ("contents field must not be specified when using
 * raw_input_contents ..."); this setter exists so that rejection can be
 * exercised. HTTP clients ignore it.
 * @return TC_OK, TC_E_INVALID_ARG (NULL argument), TC_E_NOT_FOUND (no such input).
 * @since 0.1.0
 */
TC_API tc_code tc_request_input_set_typed_contents(tc_request *req, const char *name, bool typed);

#ifdef __cplusplus
}
#endif
#endif /* TC_TRITONC_GRPC_H */
