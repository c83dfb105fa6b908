/* HTTP/REST frontend (KServe v2 + Triton extensions) on libmicrohttpd.
 * decode -> core -> encode; inference hands work to the core and suspends
 * the connection, so the MHD threads never wait on a backend. */
#ifndef TC_SRC_SERVER_FRONTEND_HTTP_HTTP_SERVER_H
#define TC_SRC_SERVER_FRONTEND_HTTP_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "core/core.h"

typedef struct tc__http_server tc__http_server;

typedef struct tc__http_options {
    const char *address;   /* NULL = all interfaces (0.0.0.0) */
    uint16_t port;         /* 0 = pick a free port */
    unsigned thread_count; /* MHD thread pool size; 0 = 8 */
    size_t max_input_size; /* 0 = 64 MiB */
    bool allow_client_shm;
} tc__http_options;

/* Bind and start serving `core` (borrowed; must outlive the server). */
tc_code tc__http_server_new(tc__core *core, const tc__http_options *opts, tc__http_server **out,
                            tc__error *err);
/* The port actually bound. */
uint16_t tc__http_server_port(const tc__http_server *srv);
/* Stop accepting connections (in-flight requests still finish). */
void tc__http_server_quiesce(tc__http_server *srv);
/* Wait (up to timeout_ms) for suspended inferences to be answered, stop and free. */
void tc__http_server_free(tc__http_server *srv, unsigned timeout_ms);

#endif /* TC_SRC_SERVER_FRONTEND_HTTP_HTTP_SERVER_H */
