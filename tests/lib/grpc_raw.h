/* Integration-test helper: a raw gRPC client on nghttp2 (blocking socket),
 * so tests control every header, frame and byte they send and see exactly
 * what the server answers. Plain libc; not thread-safe. */
#ifndef TC_TESTS_LIB_GRPC_RAW_H
#define TC_TESTS_LIB_GRPC_RAW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tc_grpc_raw tc_grpc_raw;

typedef struct tc_grpc_raw_reply {
    int http_status;    /* :status, 0 if none came */
    int grpc_status;    /* -1 when no grpc-status arrived */
    char *grpc_message; /* percent-decoded, "" when absent */
    char *headers;      /* every header and trailer as "name: value\n" */
    bool trailers_only; /* grpc-status came in the first HEADERS frame */
    bool reset;         /* the stream ended with RST_STREAM */
    uint32_t rst_code;
    size_t count;       /* messages received (decompressed when flagged) */
    uint8_t **msgs;
    size_t *lens;
    bool compressed_seen; /* some message had the compressed flag */
} tc_grpc_raw_reply;

/* Connect to 127.0.0.1:port and exchange the HTTP/2 preface. 0 or -1. */
int tc_grpc_raw_connect(tc_grpc_raw **out, int port);
/* Close the socket without any goodbye (a vanishing client). */
void tc_grpc_raw_close(tc_grpc_raw *c);

/* Open a stream: POST `path` with grpcio's headers plus `extra` ("name:
 * value\n" lines, may be NULL; a content-type given there replaces the
 * default). Returns the stream id or -1. */
int32_t tc_grpc_raw_start(tc_grpc_raw *c, const char *path, const char *extra);
/* Queue bytes (already framed) on the stream; `end` half-closes. */
int tc_grpc_raw_send(tc_grpc_raw *c, int32_t sid, const void *data, size_t len, bool end);
/* RST_STREAM(CANCEL). */
int tc_grpc_raw_reset(tc_grpc_raw *c, int32_t sid);
/* Pump I/O until the stream has `min_msgs` messages (0: until it closes) or
 * `timeout_ms` pass. Fills `reply` with what arrived so far (caller frees
 * with tc_grpc_raw_reply_free). 0 when the condition was met, -1 otherwise. */
int tc_grpc_raw_wait(tc_grpc_raw *c, int32_t sid, size_t min_msgs, int timeout_ms,
                     tc_grpc_raw_reply *reply);
/* True when the server closed the connection (GOAWAY or EOF seen). */
bool tc_grpc_raw_closed(tc_grpc_raw *c);

/* One call: start, send `body` (framed bytes) with END_STREAM, wait for the
 * end. 0 when the stream ended within 10 s. */
int tc_grpc_raw_call(tc_grpc_raw *c, const char *path, const char *extra, const void *body,
                     size_t len, tc_grpc_raw_reply *reply);
/* Frame a message (prefix, not compressed). Caller frees. */
uint8_t *tc_grpc_raw_frame(const void *msg, size_t len, size_t *out_len);

void tc_grpc_raw_reply_free(tc_grpc_raw_reply *r);
/* Value of a response header or trailer, or NULL. Static buffer. */
const char *tc_grpc_raw_header(const tc_grpc_raw_reply *r, const char *name);

#endif /* TC_TESTS_LIB_GRPC_RAW_H */
