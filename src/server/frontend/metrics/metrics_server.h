/* Prometheus metrics frontend: `GET /metrics` on its own libmicrohttpd
 * daemon (upstream's port 8002), rendered from the core's statistics at
 * each scrape plus CPU and memory gauges read from /proc. */
#ifndef TC_SRC_SERVER_FRONTEND_METRICS_METRICS_SERVER_H
#define TC_SRC_SERVER_FRONTEND_METRICS_METRICS_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "core/core.h"

typedef struct tc__metrics_server tc__metrics_server;

typedef struct tc__metrics_options {
    const char *address;  /* NULL or "" = all interfaces (0.0.0.0) */
    uint16_t port;        /* 0 = pick a free port */
    uint32_t interval_ms; /* CPU/memory sampling period; 0 = 2000 */
    bool cpu_metrics;     /* emit nv_cpu_* gauges */
} tc__metrics_options;

/* Bind and start serving (one internal thread). `core` is borrowed and must
 * outlive the server. TC_E_INVALID_ARG for a bad address, TC_E_UNAVAILABLE
 * when the port cannot be bound. */
tc_code tc__metrics_server_new(tc__core *core, const tc__metrics_options *opts,
                               tc__metrics_server **out, tc__error *err);
/* The port actually bound. */
uint16_t tc__metrics_server_port(const tc__metrics_server *srv);
/* Stop serving (a scrape in progress finishes first) and free. NULL is a no-op. */
void tc__metrics_server_free(tc__metrics_server *srv);

#endif /* TC_SRC_SERVER_FRONTEND_METRICS_METRICS_SERVER_H */
