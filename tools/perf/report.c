/* Output of tritonc-perf in perf_analyzer's shapes (see report.h). */
#include "report.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include <tritonc/tritonc.h>

static unsigned long long us(double ns)
{
    return ns <= 0 ? 0 : (unsigned long long)(ns / 1000.0);
}

uint64_t perf_report_latency_us(const perf_options *opts, const perf_step_result *r)
{
    return perf_summary_latency_ns(&r->lat, opts->percentile) / 1000;
}

void perf_report_settings(FILE *f, const perf_options *opts)
{
    fprintf(f, "*** Measurement Settings ***\n");
    fprintf(f, "  Batch size: %u\n", opts->batch);
    fprintf(f, "  Service Kind: Triton\n");
    if (opts->window_mode == PERF_WINDOW_TIME) {
        fprintf(f, "  Using \"time_windows\" mode for stabilization\n");
        fprintf(f, "  Measurement window: %llu msec\n", (unsigned long long)opts->window_ms);
    } else {
        fprintf(f, "  Using \"count_windows\" mode for stabilization\n");
        fprintf(f, "  Minimum number of samples in each window: %llu\n",
                (unsigned long long)opts->measurement_request_count);
    }
    if (opts->latency_threshold_ms > 0)
        fprintf(f, "  Latency limit: %llu msec\n", (unsigned long long)opts->latency_threshold_ms);
    if (opts->mode == PERF_MODE_REQUEST_RATE)
        fprintf(f, "  Request distribution: %s\n",
                opts->distribution == PERF_DIST_POISSON ? "poisson" : "constant");
    fprintf(f, "  Using %s calls for inference\n",
            opts->async || opts->streaming ? "asynchronous" : "synchronous");
    if (opts->streaming)
        fprintf(f, "  Using streaming (gRPC bidirectional stream)\n");
    if (opts->percentile == -1)
        fprintf(f, "  Stabilizing using average latency\n");
    else
        fprintf(f, "  Stabilizing using p%d latency\n", opts->percentile);
    fprintf(f, "\n");
}

static void report_client(FILE *f, const perf_options *opts, const perf_step_result *r)
{
    fprintf(f, "  Client: \n");
    fprintf(f, "    Request count: %llu\n", (unsigned long long)r->request_count);
    fprintf(f, "    Throughput: %g infer/sec\n", r->throughput);
    if (opts->mode == PERF_MODE_REQUEST_RATE) {
        fprintf(f, "    Avg send request rate: %.2f infer/sec\n", r->send_rate * opts->batch);
        fprintf(f, "    Late sends: %llu of %llu (max lag %llu usec)\n",
                (unsigned long long)r->delayed, (unsigned long long)r->sent,
                us((double)r->max_lag_ns));
    }
    if (opts->percentile == -1)
        fprintf(f, "    Avg latency: %llu usec (standard deviation %llu usec)\n", us(r->lat.avg_ns),
                us(r->lat.std_ns));
    for (size_t i = 0; i < r->lat.npct; i++)
        fprintf(f, "    p%d latency: %llu usec\n", r->lat.pct[i], us((double)r->lat.pct_ns[i]));
    /* The split of the request time, from libtritonc's per-request timers
     * (tc_result_timer_ns), as perf_analyzer prints it. */
    if (r->timed_count == 0) {
        fprintf(f, "    Avg %s time: %llu usec (no request timers)\n",
                opts->protocol == PERF_PROTOCOL_GRPC ? "gRPC" : "HTTP", us(r->lat.avg_ns));
    } else if (opts->protocol == PERF_PROTOCOL_GRPC) {
        fprintf(f,
                "    Avg gRPC time: %llu usec ((un)marshal request/response %llu usec + response "
                "wait %llu usec)\n",
                us(r->avg_request_ns), us(r->avg_send_ns + r->avg_recv_ns), us(r->avg_wait_ns));
    } else {
        fprintf(f,
                "    Avg HTTP time: %llu usec (send %llu usec + response wait %llu usec + "
                "receive %llu usec)\n",
                us(r->avg_request_ns), us(r->avg_send_ns), us(r->avg_wait_ns),
                us(r->avg_recv_ns));
    }
}

static void report_server(FILE *f, const perf_step_result *r)
{
    perf_server_avg a;
    perf_server_stats_average(&r->server, &a);
    fprintf(f, "  Server: \n");
    fprintf(f, "    Inference count: %llu\n", (unsigned long long)r->server.inference_count);
    fprintf(f, "    Execution count: %llu\n", (unsigned long long)r->server.execution_count);
    if (r->server.cache_hit.count + r->server.cache_miss.count > 0) {
        fprintf(f, "    Cache hit count: %llu\n", (unsigned long long)r->server.cache_hit.count);
        fprintf(f, "    Cache miss count: %llu\n", (unsigned long long)r->server.cache_miss.count);
    }
    fprintf(f, "    Successful request count: %llu\n", (unsigned long long)r->server.success.count);
    fprintf(f,
            "    Avg request latency: %llu usec (overhead %llu usec + queue %llu usec + compute "
            "input %llu usec + compute infer %llu usec + compute output %llu usec)\n",
            (unsigned long long)a.request_us, (unsigned long long)a.overhead_us,
            (unsigned long long)a.queue_us, (unsigned long long)a.compute_input_us,
            (unsigned long long)a.compute_infer_us, (unsigned long long)a.compute_output_us);
}

void perf_report_step(FILE *f, const perf_options *opts, const perf_step_result *r)
{
    if (opts->mode == PERF_MODE_REQUEST_RATE)
        fprintf(f, "Request Rate: %g inference requests per seconds\n", r->value);
    else
        fprintf(f, "Request concurrency: %g\n", r->value);
    report_client(f, opts, r);
    if (r->has_server)
        report_server(f, r);
    fprintf(f, "\n");
    (void)fflush(f);
}

void perf_report_summary(FILE *f, const perf_options *opts, const perf_step_result *results,
                         size_t n)
{
    if (opts->percentile == -1)
        fprintf(f, "Inferences/Second vs. Client Average Batch Latency\n");
    else
        fprintf(f, "Inferences/Second vs. Client p%d Batch Latency\n", opts->percentile);
    for (size_t i = 0; i < n; i++) {
        const perf_step_result *r = &results[i];
        fprintf(f, "%s: %g, throughput: %g infer/sec, latency %llu usec\n",
                opts->mode == PERF_MODE_REQUEST_RATE ? "Request Rate" : "Concurrency", r->value,
                r->throughput, (unsigned long long)perf_report_latency_us(opts, r));
    }
    (void)fflush(f);
}

/* ---- CSV ------------------------------------------------------------------------ */

static void csv_header(FILE *f, const perf_options *opts, const perf_step_result *first,
                       bool server)
{
    fprintf(f, "%s,Inferences/Second,Client Send,",
            opts->mode == PERF_MODE_REQUEST_RATE ? "Request Rate" : "Concurrency");
    if (server)
        fprintf(f, "Network+Server Send/Recv,Server Queue,Server Compute Input,"
                   "Server Compute Infer,Server Compute Output,");
    fprintf(f, "Client Recv");
    for (size_t i = 0; i < first->lat.npct; i++)
        fprintf(f, ",p%d latency", first->lat.pct[i]);
    if (opts->verbose_csv) {
        fprintf(f, ",");
        if (opts->percentile == -1)
            fprintf(f, "Avg latency,");
        fprintf(f, "request/response,response wait");
    }
    fprintf(f, "\n");
}

static void csv_row(FILE *f, const perf_options *opts, const perf_step_result *r, bool server)
{
    /* As perf_analyzer: Client Send and Client Recv from the request
     * timers; the network and server share is the client latency minus
     * those two and the server's queue and compute times. */
    unsigned long long lat_us = us(r->lat.avg_ns);
    unsigned long long send_us = us(r->avg_send_ns);
    unsigned long long recv_us = us(r->avg_recv_ns);
    unsigned long long wait_us =
        lat_us > send_us + recv_us ? lat_us - send_us - recv_us : 0;
    fprintf(f, "%g,%g,%llu,", r->value, r->throughput, send_us);
    if (server) {
        perf_server_avg a;
        perf_server_stats_average(&r->server, &a);
        unsigned long long inside =
            a.queue_us + a.compute_input_us + a.compute_infer_us + a.compute_output_us;
        fprintf(f, "%llu,%llu,%llu,%llu,%llu,", wait_us > inside ? wait_us - inside : 0,
                (unsigned long long)a.queue_us, (unsigned long long)a.compute_input_us,
                (unsigned long long)a.compute_infer_us, (unsigned long long)a.compute_output_us);
    }
    fprintf(f, "%llu", recv_us);
    for (size_t i = 0; i < r->lat.npct; i++)
        fprintf(f, ",%llu", us((double)r->lat.pct_ns[i]));
    if (opts->verbose_csv) {
        if (opts->percentile == -1)
            fprintf(f, ",%llu", lat_us);
        fprintf(f, ",%llu,%llu", send_us + recv_us,
                r->timed_count > 0 ? us(r->avg_wait_ns) : wait_us);
    }
    fprintf(f, "\n");
}

bool perf_write_csv(const char *path, const perf_options *opts, const perf_step_result *results,
                    size_t n)
{
    if (n == 0)
        return true;
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return false;
    /* perf_analyzer includes the server columns whenever it has server statistics. */
    bool server = true;
    for (size_t i = 0; i < n; i++)
        server = server && results[i].has_server;
    csv_header(f, opts, &results[0], server);
    for (size_t i = 0; i < n; i++)
        csv_row(f, opts, &results[i], server);
    return fclose(f) == 0;
}

/* ---- profile export ----------------------------------------------------------------- */

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static unsigned long long wall(uint64_t mono_ns, int64_t offset_ns)
{
    uint64_t t = offset_ns >= 0 ? mono_ns + (uint64_t)offset_ns : mono_ns - (uint64_t)(-offset_ns);
    return (unsigned long long)t;
}

static void profile_experiment(FILE *f, const perf_options *opts, const perf_step_result *r,
                               int64_t off)
{
    fprintf(f, "    {\n      \"experiment\": {\"mode\": \"%s\", \"value\": %g},\n",
            opts->mode == PERF_MODE_REQUEST_RATE ? "request_rate" : "concurrency", r->value);
    fprintf(f, "      \"requests\": [");
    for (size_t i = 0; i < r->records.n; i++) {
        const perf_record *rec = &r->records.v[i];
        fprintf(f,
                "%s\n        {\"timestamp\": %llu, \"sequence_id\": 0, \"success\": %s, "
                "\"response_timestamps\": [%llu]}",
                i == 0 ? "" : ",", wall(rec->start_ns, off), rec->ok ? "true" : "false",
                wall(rec->end_ns, off));
    }
    fprintf(f, "%s],\n      \"window_boundaries\": [", r->records.n ? "\n      " : "");
    for (size_t i = 0; i < r->nbounds; i++)
        fprintf(f, "%s%llu", i == 0 ? "" : ", ", wall(r->bounds[i], off));
    fprintf(f, "]\n    }");
}

bool perf_write_profile(const char *path, const perf_options *opts, const perf_step_result *results,
                        size_t n, int64_t wall_offset_ns)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return false;
    fprintf(f, "{\n  \"experiments\": [\n");
    for (size_t i = 0; i < n; i++) {
        profile_experiment(f, opts, &results[i], wall_offset_ns);
        fprintf(f, "%s\n", i + 1 < n ? "," : "");
    }
    fprintf(f, "  ],\n  \"version\": ");
    json_string(f, tc_library_version());
    fprintf(f, ",\n  \"service_kind\": \"triton\",\n  \"endpoint\": \"\",\n  \"model\": ");
    json_string(f, opts->model);
    fprintf(f, "\n}\n");
    return fclose(f) == 0;
}

/* ---- SVG plot ----------------------------------------------------------------------- */

#define SVG_W      760.0
#define SVG_H      480.0
#define SVG_LEFT   90.0
#define SVG_RIGHT  30.0
#define SVG_TOP    50.0
#define SVG_BOTTOM 70.0

/* A 1-2-5 tick step giving about five ticks up to `max`. */
static double nice_step(double max)
{
    if (!(max > 0))
        return 1;
    double raw = max / 5.0;
    double mag = pow(10.0, floor(log10(raw)));
    double norm = raw / mag;
    double step = norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10;
    return step * mag;
}

typedef struct svg_axes {
    double xmax, ymax, xstep, ystep;
} svg_axes;

static double sx(const svg_axes *a, double x)
{
    return SVG_LEFT + x / a->xmax * (SVG_W - SVG_LEFT - SVG_RIGHT);
}

static double sy(const svg_axes *a, double y)
{
    return SVG_H - SVG_BOTTOM - y / a->ymax * (SVG_H - SVG_TOP - SVG_BOTTOM);
}

static void svg_axis_lines(FILE *f, const svg_axes *a, const char *ylabel)
{
    fprintf(f, "<g stroke=\"#333\" stroke-width=\"1\">\n");
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", SVG_LEFT,
            SVG_H - SVG_BOTTOM, SVG_W - SVG_RIGHT, SVG_H - SVG_BOTTOM);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", SVG_LEFT, SVG_TOP,
            SVG_LEFT, SVG_H - SVG_BOTTOM);
    int nx = (int)llround(a->xmax / a->xstep);
    int ny = (int)llround(a->ymax / a->ystep);
    for (int i = 0; i <= nx; i++)
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", sx(a, i * a->xstep),
                SVG_H - SVG_BOTTOM, sx(a, i * a->xstep), SVG_H - SVG_BOTTOM + 5);
    for (int i = 0; i <= ny; i++)
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", SVG_LEFT - 5,
                sy(a, i * a->ystep), SVG_LEFT, sy(a, i * a->ystep));
    fprintf(f, "</g>\n<g font-family=\"sans-serif\" font-size=\"12\" fill=\"#333\">\n");
    for (int i = 0; i <= nx; i++)
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>\n",
                sx(a, i * a->xstep), SVG_H - SVG_BOTTOM + 20, i * a->xstep);
    for (int i = 0; i <= ny; i++)
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n", SVG_LEFT - 8,
                sy(a, i * a->ystep) + 4, i * a->ystep);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">Throughput (infer/sec)</text>\n",
            (SVG_LEFT + SVG_W - SVG_RIGHT) / 2, SVG_H - 20);
    fprintf(f,
            "<text x=\"20\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 20 %.1f)\">"
            "%s (usec)</text>\n</g>\n",
            (SVG_TOP + SVG_H - SVG_BOTTOM) / 2, (SVG_TOP + SVG_H - SVG_BOTTOM) / 2, ylabel);
}

static void svg_points(FILE *f, const perf_options *opts, const svg_axes *a,
                       const perf_step_result *results, size_t n)
{
    fprintf(f, "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s%.1f,%.1f", i == 0 ? "" : " ", sx(a, results[i].throughput),
                sy(a, (double)perf_report_latency_us(opts, &results[i])));
    fprintf(f, "\"/>\n<g fill=\"#1f77b4\" font-family=\"sans-serif\" font-size=\"11\">\n");
    for (size_t i = 0; i < n; i++) {
        double x = sx(a, results[i].throughput);
        double y = sy(a, (double)perf_report_latency_us(opts, &results[i]));
        fprintf(f,
                "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\"><title>%s %g: %g infer/sec, %llu "
                "usec</title></circle>\n",
                x, y, opts->mode == PERF_MODE_REQUEST_RATE ? "rate" : "concurrency",
                results[i].value, results[i].throughput,
                (unsigned long long)perf_report_latency_us(opts, &results[i]));
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%s%g</text>\n", x + 6, y - 6,
                opts->mode == PERF_MODE_REQUEST_RATE ? "r=" : "c=", results[i].value);
    }
    fprintf(f, "</g>\n");
}

bool perf_write_svg(const char *path, const perf_options *opts, const perf_step_result *results,
                    size_t n)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return false;
    double xmax = 0;
    double ymax = 0;
    for (size_t i = 0; i < n; i++) {
        xmax = fmax(xmax, results[i].throughput);
        ymax = fmax(ymax, (double)perf_report_latency_us(opts, &results[i]));
    }
    svg_axes a;
    a.xstep = nice_step(xmax);
    a.ystep = nice_step(ymax);
    a.xmax = fmax(a.xstep, ceil(xmax / a.xstep) * a.xstep);
    a.ymax = fmax(a.ystep, ceil(ymax / a.ystep) * a.ystep);
    char ylabel[64];
    if (opts->percentile == -1)
        (void)snprintf(ylabel, sizeof ylabel, "Average latency");
    else
        (void)snprintf(ylabel, sizeof ylabel, "p%d latency", opts->percentile);
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%g\" height=\"%g\" "
            "viewBox=\"0 0 %g %g\">\n",
            SVG_W, SVG_H, SVG_W, SVG_H);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    fprintf(f,
            "<text x=\"%g\" y=\"28\" text-anchor=\"middle\" font-family=\"sans-serif\" "
            "font-size=\"16\">",
            SVG_W / 2);
    for (const char *s = opts->model; *s != '\0'; s++) {
        if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '&')
            fputs("&amp;", f);
        else
            fputc(*s, f);
    }
    fprintf(f, ": %s vs. throughput</text>\n", ylabel);
    svg_axis_lines(f, &a, ylabel);
    svg_points(f, opts, &a, results, n);
    fprintf(f, "</svg>\n");
    return fclose(f) == 0;
}
