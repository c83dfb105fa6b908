/* gRPC frontend (KServe v2 GRPCInferenceService + grpc.health.v1.Health) on
 * nghttp2: decode -> core -> encode, like the HTTP frontend. One I/O thread
 * owns every socket and nghttp2 session (epoll, non-blocking sockets); core
 * callbacks hand their results to it through a queue and an eventfd. */
#ifndef TC_SRC_SERVER_FRONTEND_GRPC_GRPC_SERVER_H
#define TC_SRC_SERVER_FRONTEND_GRPC_GRPC_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "core/core.h"

typedef struct tc__grpc_server tc__grpc_server;

/* --grpc-infer-response-compression-level */
typedef enum tc__grpc_compression_level {
    TC__GRPC_LEVEL_NONE = 0,
    TC__GRPC_LEVEL_LOW,
    TC__GRPC_LEVEL_MEDIUM,
    TC__GRPC_LEVEL_HIGH
} tc__grpc_compression_level;

typedef struct tc__grpc_options {
    const char *address;     /* NULL = all interfaces (0.0.0.0) */
    uint16_t port;           /* 0 = pick a free port */
    size_t max_message_size; /* 0 = INT32_MAX, for requests and responses */
    bool allow_client_shm;
    tc__grpc_compression_level compression_level; /* of infer responses */
    /* Keepalive (GRPC.md section 8; 0 means the upstream default unless noted). */
    uint64_t keepalive_time_ms;    /* server pings; 0 = 7,200,000 */
    uint64_t keepalive_timeout_ms; /* ping ack wait; 0 = 20,000 */
    bool keepalive_permit_without_calls;
    int64_t max_pings_without_data;                 /* < 0 = 2; 0 = unlimited */
    int64_t min_recv_ping_interval_without_data_ms; /* < 0 = 300,000 */
    int64_t max_ping_strikes;                       /* < 0 = 2; 0 = unlimited */
    /* TLS (ALPN h2). */
    bool use_ssl;
    bool use_ssl_mutual;
    const char *server_cert; /* PEM files */
    const char *server_key;
    const char *root_cert;
} tc__grpc_options;

/* Bind and start the I/O thread serving `core` (borrowed; must outlive the
 * server). TC_E_INVALID_ARG for a bad address or TLS file, TC_E_UNAVAILABLE
 * when the port cannot be bound, TC_E_NOMEM. */
tc_code tc__grpc_server_new(tc__core *core, const tc__grpc_options *opts, tc__grpc_server **out,
                            tc__error *err);
/* The port actually bound. */
uint16_t tc__grpc_server_port(const tc__grpc_server *srv);
/* Stop accepting connections and new calls: GOAWAY to every client; calls
 * already accepted still finish. Thread-safe. NULL is fine. */
void tc__grpc_server_quiesce(tc__grpc_server *srv);
/* Wait (up to timeout_ms) for accepted calls to be answered and written,
 * close every connection, stop the thread and free. NULL is fine. */
void tc__grpc_server_free(tc__grpc_server *srv, unsigned timeout_ms);

#endif /* TC_SRC_SERVER_FRONTEND_GRPC_GRPC_SERVER_H */
