/* The measurement loop of tritonc-perf (see profiler.h). */
#include "profiler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perf_util.h"

/* Time between checks for failures (and, in count_windows mode, for the
 * request count) while a window runs. */
#define POLL_NS 10000000u

typedef struct perf_window {
    uint64_t start_ns;
    uint64_t end_ns;
    uint64_t *lat;
    size_t nlat;
    size_t cap;
    bool has_server;
    perf_server_stats server;
    uint64_t sent;
    uint64_t delayed;
    uint64_t max_lag_ns;
    /* sums over the successful requests with timers */
    uint64_t ntimed;
    uint64_t send_sum_ns;
    uint64_t recv_sum_ns;
    uint64_t wait_sum_ns;
    uint64_t request_sum_ns;
} perf_window;

struct perf_profiler {
    const perf_options *opts;
    perf_load *load;
    tc_client *stats;
    bool stats_warned;
    perf_record_buf pending; /* completed, not yet assigned to a window */
    perf_window ring[PERF_STABILITY_WINDOW];
    size_t nwin;
    double *tput;
    double *latency;
    uint64_t *merged;
    size_t merged_cap;
};

perf_profiler *perf_profiler_new(const perf_options *opts, perf_load *load, tc_client *stats_client)
{
    perf_profiler *p = perf_calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    p->opts = opts;
    p->load = load;
    p->stats = stats_client;
    p->tput = perf_calloc(opts->max_trials, sizeof *p->tput);
    p->latency = perf_calloc(opts->max_trials, sizeof *p->latency);
    if (p->tput == NULL || p->latency == NULL) {
        perf_profiler_free(p);
        return NULL;
    }
    return p;
}

void perf_profiler_free(perf_profiler *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < PERF_STABILITY_WINDOW; i++)
        free(p->ring[i].lat);
    perf_record_buf_cleanup(&p->pending);
    free(p->tput);
    free(p->latency);
    free(p->merged);
    free(p);
}

void perf_step_result_cleanup(perf_step_result *r)
{
    perf_record_buf_cleanup(&r->records);
    free(r->bounds);
    r->bounds = NULL;
    r->nbounds = 0;
}

static bool fetch_stats(perf_profiler *p, perf_server_stats *out)
{
    char *json = NULL;
    char err[256];
    if (p->stats == NULL)
        return false;
    tc_code rc =
        tc_client_model_statistics(p->stats, p->opts->model, p->opts->version, NULL, &json);
    bool ok = rc == TC_OK &&
              perf_server_stats_parse(json, p->opts->model, p->opts->version, out, err, sizeof err);
    if (rc != TC_OK)
        (void)snprintf(err, sizeof err, "%s", tc_client_last_error(p->stats));
    tc_string_free(json);
    if (!ok && !p->stats_warned) {
        fprintf(stderr, "warning: no server statistics: %s\n", err);
        p->stats_warned = true;
    }
    return ok;
}

static bool push_latency(perf_window *w, uint64_t ns)
{
    if (w->nlat == w->cap) {
        size_t ncap = w->cap == 0 ? 4096 : w->cap * 2;
        uint64_t *grown = perf_realloc_array(w->lat, ncap, sizeof *grown);
        if (grown == NULL)
            return false;
        w->lat = grown;
        w->cap = ncap;
    }
    w->lat[w->nlat++] = ns;
    return true;
}

/* Assign pending records to window `w`: those that completed inside it
 * count; later ones wait for the next window; earlier ones are dropped. */
static bool assign_records(perf_profiler *p, perf_window *w, perf_step_result *out)
{
    size_t keep = 0;
    bool ok = true;
    for (size_t i = 0; i < p->pending.n && ok; i++) {
        perf_record *r = &p->pending.v[i];
        if (r->end_ns > w->end_ns) {
            p->pending.v[keep++] = *r;
            continue;
        }
        if (r->end_ns < w->start_ns || r->end_ns < r->start_ns)
            continue;
        if (r->ok)
            ok = push_latency(w, r->end_ns - r->start_ns);
        if (r->ok && r->timed) {
            w->ntimed++;
            w->send_sum_ns += r->send_ns;
            w->recv_sum_ns += r->recv_ns;
            w->wait_sum_ns += r->wait_ns;
            w->request_sum_ns += r->request_ns;
        }
        if (ok && p->opts->profile_file != NULL)
            ok = perf_record_buf_push(&out->records, r);
    }
    p->pending.n = keep;
    return ok;
}

static bool failed(perf_profiler *p, char *err, size_t errlen)
{
    char msg[256];
    if (perf_load_errors(p->load, msg, sizeof msg) == 0)
        return false;
    (void)snprintf(err, errlen, "%s", msg);
    return true;
}

static size_t completed_since(const perf_record_buf *buf, uint64_t start_ns)
{
    size_t n = 0;
    for (size_t i = 0; i < buf->n; i++) {
        if (buf->v[i].ok && buf->v[i].end_ns >= start_ns)
            n++;
    }
    return n;
}

/* Let the window run: a fixed time, or until enough requests completed. */
static int run_window(perf_profiler *p, uint64_t start_ns, char *err, size_t errlen)
{
    uint64_t deadline = start_ns + p->opts->window_ms * 1000000u;
    for (;;) {
        uint64_t now = perf_now_ns();
        if (failed(p, err, errlen))
            return 1;
        if (p->opts->window_mode == PERF_WINDOW_TIME) {
            if (now >= deadline)
                return 0;
            perf_sleep_until_ns(deadline - now > POLL_NS ? now + POLL_NS : deadline);
            continue;
        }
        if (!perf_load_take(p->load, &p->pending)) {
            (void)snprintf(err, errlen, "out of memory");
            return 1;
        }
        if (completed_since(&p->pending, start_ns) >= p->opts->measurement_request_count)
            return 0;
        perf_sleep_until_ns(now + POLL_NS);
    }
}

static bool push_bound(perf_step_result *out, uint64_t t)
{
    uint64_t *grown = perf_realloc_array(out->bounds, out->nbounds + 1, sizeof *grown);
    if (grown == NULL)
        return false;
    out->bounds = grown;
    out->bounds[out->nbounds++] = t;
    return true;
}

static int measure_window(perf_profiler *p, perf_window *w, perf_step_result *out, char *err,
                          size_t errlen)
{
    perf_server_stats before;
    perf_server_stats after;
    perf_send_counters c0;
    perf_send_counters c1;
    bool has_before = fetch_stats(p, &before);
    perf_load_counters(p->load, &c0);
    w->nlat = 0;
    w->ntimed = 0;
    w->send_sum_ns = 0;
    w->recv_sum_ns = 0;
    w->wait_sum_ns = 0;
    w->request_sum_ns = 0;
    w->start_ns = perf_now_ns();
    int rc = run_window(p, w->start_ns, err, errlen);
    if (rc != 0)
        return rc;
    w->end_ns = perf_now_ns();
    perf_load_counters(p->load, &c1);
    w->has_server = has_before && fetch_stats(p, &after);
    if (w->has_server)
        perf_server_stats_diff(&after, &before, &w->server);
    w->sent = c1.sent - c0.sent;
    w->delayed = c1.delayed - c0.delayed;
    w->max_lag_ns = c1.max_lag_ns;
    bool ok = perf_load_take(p->load, &p->pending) && assign_records(p, w, out);
    if (ok && p->opts->profile_file != NULL)
        ok = (out->nbounds > 0 || push_bound(out, w->start_ns)) && push_bound(out, w->end_ns);
    if (!ok) {
        (void)snprintf(err, errlen, "out of memory");
        return 1;
    }
    return failed(p, err, errlen) ? 1 : 0;
}

static void print_pass(const perf_profiler *p, uint32_t trial, double tput,
                       const perf_latency_summary *s)
{
    FILE *f = p->opts->verbose ? stdout : stderr;
    if (p->opts->percentile == -1)
        fprintf(f,
                "  Pass [%u] throughput: %g infer/sec. Avg latency: %llu usec (std %llu usec). \n",
                trial, tput, (unsigned long long)(s->avg_ns / 1000),
                (unsigned long long)(s->std_ns / 1000));
    else
        fprintf(f, "  Pass [%u] throughput: %g infer/sec. p%d latency: %llu usec. \n", trial, tput,
                p->opts->percentile,
                (unsigned long long)(perf_summary_latency_ns(s, p->opts->percentile) / 1000));
    (void)fflush(f);
}

/* Report the last (up to) three windows as one measurement. */
static int merge_windows(perf_profiler *p, perf_step_result *out)
{
    size_t n = p->nwin < PERF_STABILITY_WINDOW ? p->nwin : PERF_STABILITY_WINDOW;
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += p->ring[(p->nwin - 1 - i) % PERF_STABILITY_WINDOW].nlat;
    if (total > p->merged_cap) {
        uint64_t *grown = perf_realloc_array(p->merged, total, sizeof *grown);
        if (grown == NULL)
            return 1;
        p->merged = grown;
        p->merged_cap = total;
    }
    size_t used = 0;
    double send = 0;
    double recv = 0;
    double wait = 0;
    double request = 0;
    out->has_server = true;
    for (size_t i = 0; i < n; i++) {
        const perf_window *w = &p->ring[(p->nwin - 1 - i) % PERF_STABILITY_WINDOW];
        memcpy(p->merged + used, w->lat, w->nlat * sizeof *w->lat);
        used += w->nlat;
        out->duration_ns += w->end_ns - w->start_ns;
        out->sent += w->sent;
        out->delayed += w->delayed;
        if (w->max_lag_ns > out->max_lag_ns)
            out->max_lag_ns = w->max_lag_ns;
        out->has_server = out->has_server && w->has_server;
        perf_server_stats_add(&out->server, &w->server);
        out->timed_count += w->ntimed;
        send += (double)w->send_sum_ns;
        recv += (double)w->recv_sum_ns;
        wait += (double)w->wait_sum_ns;
        request += (double)w->request_sum_ns;
    }
    if (out->timed_count > 0) {
        double n_timed = (double)out->timed_count;
        out->avg_send_ns = send / n_timed;
        out->avg_recv_ns = recv / n_timed;
        out->avg_wait_ns = wait / n_timed;
        out->avg_request_ns = request / n_timed;
    }
    perf_latency_summarize(p->merged, used, p->opts->percentile, &out->lat);
    out->request_count = used;
    out->throughput = perf_throughput(used, p->opts->batch, out->duration_ns);
    out->send_rate = out->duration_ns == 0 ? 0 : (double)out->sent * 1e9 / (double)out->duration_ns;
    return 0;
}

int perf_profiler_run_step(perf_profiler *p, double value, perf_step_result *out, char *err,
                           size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->value = value;
    p->nwin = 0;
    p->pending.n = 0;
    if (!perf_load_start(p->load, value, err, errlen))
        return 1;
    int rc = 0;
    for (uint32_t trial = 1; trial <= p->opts->max_trials && rc == 0; trial++) {
        perf_window *w = &p->ring[p->nwin % PERF_STABILITY_WINDOW];
        rc = measure_window(p, w, out, err, errlen);
        if (rc != 0)
            break;
        p->nwin++;
        perf_latency_summary s;
        perf_latency_summarize(w->lat, w->nlat, p->opts->percentile, &s);
        p->tput[trial - 1] = perf_throughput(w->nlat, p->opts->batch, w->end_ns - w->start_ns);
        p->latency[trial - 1] = (double)perf_summary_latency_ns(&s, p->opts->percentile);
        out->trials = trial;
        print_pass(p, trial, p->tput[trial - 1], &s);
        if (perf_is_stable(p->tput, p->latency, trial, PERF_STABILITY_WINDOW,
                           p->opts->stability_pct)) {
            out->stable = true;
            break;
        }
    }
    uint64_t dropped = perf_load_dropped(p->load);
    perf_load_stop(p->load);
    if (rc == 0 && merge_windows(p, out) != 0) {
        (void)snprintf(err, errlen, "out of memory");
        rc = 1;
    }
    if (dropped > 0)
        fprintf(stderr, "warning: %llu request records were dropped (buffers full)\n",
                (unsigned long long)dropped);
    return rc;
}
