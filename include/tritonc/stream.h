/**
 * @file stream.h
 * Bidirectional inference streams (gRPC `ModelStreamInfer`): send any
 * number of requests, receive every response through one callback. Needed
 * for decoupled models (0..n responses per request) and convenient for
 * sequences. Only gRPC clients have streams; an HTTP client answers
 * TC_E_NOT_SUPPORTED.
 *
 * Lifetime rules:
 * 1. tc_client_stream_start() creates a stream; the caller owns the handle
 *    and frees it with tc_stream_free(), before freeing the client.
 * 2. The callback runs once per response, then exactly once more with a
 *    NULL result: the end of the stream. Nothing runs after that.
 * 3. The stream ends when tc_stream_stop() is called, when the server ends
 *    it, when the connection is lost, or when the client is freed.
 * 4. Several streams of one client may be open at once; they share the
 *    client's connection and I/O thread.
 *
 * Thread rule: a stream is used by one thread at a time (like its client;
 * serialize calls on the client and its streams). Calls from the client's
 * own callbacks are allowed where noted.
 */
#ifndef TC_TRITONC_STREAM_H
#define TC_TRITONC_STREAM_H

#include <tritonc/client.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque stream handle. */
typedef struct tc_stream tc_stream;

/**
 * Stream callback, run on the client's I/O thread, never concurrently with
 * another callback of the same client.
 * - Once per response: `result` is non-NULL and the callee owns it
 *   (tc_result_free()). Its status is TC_OK with outputs, or the error the
 *   server reported in-band for one request (the stream goes on);
 *   tc_result_id() tells which request. `final` is the response's
 *   `triton_final_response` flag (true when absent, so always true for
 *   non-decoupled models and for errors). An empty final response (see
 *   tc_request_set_enable_empty_final_response()) is a TC_OK result with no
 *   outputs and `final` true.
 * - Then exactly once at the end: `result` NULL, `final` true. The end
 *   status is tc_stream_status() and tc_stream_error_message().
 * The callback must not block. It may call tc_stream_send() and
 * tc_stream_stop() on any stream of the client (stop does not wait there),
 * and tc_stream_free() on its own stream only from the end call.
 * `stream` stays valid during every call.
 */
typedef void (*tc_stream_cb)(tc_stream *stream, tc_result *result, bool final, void *user_data);

/**
 * Open a stream (starts the client's I/O thread when needed). Returns once
 * the stream is queued; connecting happens in the background and a failure
 * to connect ends the stream through the callback (result NULL).
 * @param headers  metadata sent when the stream opens (e.g.
 *                 `triton_grpc_error: true`), after the client's own; NULL = none.
 * @param out      receives the stream; caller owns it (tc_stream_free()).
 * @return TC_OK (the callback will run at least once, for the end);
 *         TC_E_INVALID_ARG (NULL client, cb or out); TC_E_NOMEM;
 *         TC_E_NOT_SUPPORTED (HTTP client); TC_E_TRANSPORT (the I/O thread
 *         cannot start); TC_E_BUSY (the client is being freed). On any error
 *         the callback never runs.
 * @since 0.1.0
 */
TC_API tc_code tc_client_stream_start(tc_client *client, tc_stream_cb cb, void *user_data,
                                      const tc_headers *headers, tc_stream **out);

/**
 * Queue `req` on the stream. The request is encoded now, so it may be
 * freed or changed once this returns; TC_BORROW data is copied as well.
 * Give requests unique ids (tc_request_set_id()) to match responses.
 * The request's client timeout does not apply to streams.
 * @return TC_OK; TC_E_INVALID_ARG (NULL argument, or the message is over
 *         the send limit); TC_E_NOMEM; TC_E_CANCELLED (the stream was
 *         stopped or has ended: nothing is sent).
 * @note May be called from the client's callbacks.  @since 0.1.0
 */
TC_API tc_code tc_stream_send(tc_stream *stream, const tc_request *req);

/**
 * End the stream. With `cancel` false the client half-closes it: requests
 * already queued are still sent and the server delivers all their
 * responses before it ends the stream (end status TC_OK). With `cancel`
 * true the stream is reset at once: in-flight requests are cancelled and
 * their responses dropped (end status TC_E_CANCELLED).
 * Outside the client's callbacks this waits until the end callback has
 * returned; inside one it only starts the stop and returns TC_OK.
 * Calling it again, or after the stream ended, is harmless.
 * @return the end status (TC_OK for a clean end, TC_E_CANCELLED, or the
 *         error that ended the stream), TC_OK from a callback,
 *         TC_E_INVALID_ARG (NULL stream).
 * @since 0.1.0
 */
TC_API tc_code tc_stream_stop(tc_stream *stream, bool cancel);

/**
 * Free a stream. One not ended yet is cancelled first and, outside the
 * client's callbacks, the end callback has run when this returns. From a
 * callback it may free only its own stream, in the end call (result NULL).
 * NULL does nothing.
 * @since 0.1.0
 */
TC_API void tc_stream_free(tc_stream *stream);

/**
 * End status of the stream: TC_E_UNAVAILABLE while it is open; TC_OK after
 * a clean end; TC_E_CANCELLED after a cancel or when its client was freed;
 * TC_E_TRANSPORT or TC_E_UNAVAILABLE when the connection failed or was
 * lost; the code of the gRPC status the server ended it with (e.g. with
 * `triton_grpc_error: true`). TC_E_INVALID_ARG for NULL.
 * @since 0.1.0
 */
TC_API tc_code tc_stream_status(const tc_stream *stream);

/**
 * Message that goes with tc_stream_status(): "" while open or after a clean
 * end, else the server's grpc-message or a local description. Never NULL;
 * valid until the stream is freed.
 * @since 0.1.0
 */
TC_API const char *tc_stream_error_message(const tc_stream *stream);

#ifdef __cplusplus
}
#endif
#endif /* TC_TRITONC_STREAM_H */
