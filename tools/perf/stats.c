/* Measurement math of tritonc-perf (see stats.h for the definitions). */
#include "stats.h"

#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

uint64_t perf_percentile(const uint64_t *sorted, size_t n, double p)
{
    if (n == 0)
        return 0;
    if (p < 0)
        p = 0;
    if (p > 100)
        p = 100;
    size_t index = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
    if (index >= n)
        index = n - 1;
    return sorted[index];
}

void perf_latency_summarize(uint64_t *lat, size_t n, int extra_pct, perf_latency_summary *out)
{
    static const int base[] = {50, 90, 95, 99};
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < 4; i++)
        out->pct[out->npct++] = base[i];
    if (extra_pct > 0 && extra_pct < 100 && extra_pct != 50 && extra_pct != 90 && extra_pct != 95 &&
        extra_pct != 99)
        out->pct[out->npct++] = extra_pct;
    /* Keep them ascending, as perf_analyzer's map prints them. */
    for (size_t i = out->npct - 1; i > 0 && out->pct[i] < out->pct[i - 1]; i--) {
        int t = out->pct[i];
        out->pct[i] = out->pct[i - 1];
        out->pct[i - 1] = t;
    }
    out->count = n;
    if (n == 0)
        return;
    qsort(lat, n, sizeof *lat, cmp_u64);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += (double)lat[i];
    out->avg_ns = sum / (double)n;
    double var = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)lat[i] - out->avg_ns;
        var += d * d;
    }
    out->std_ns = sqrt(var / (double)n);
    for (size_t i = 0; i < out->npct; i++)
        out->pct_ns[i] = perf_percentile(lat, n, (double)out->pct[i]);
}

uint64_t perf_summary_latency_ns(const perf_latency_summary *s, int pct)
{
    if (pct != -1) {
        for (size_t i = 0; i < s->npct; i++) {
            if (s->pct[i] == pct)
                return s->pct_ns[i];
        }
    }
    return (uint64_t)llround(s->avg_ns);
}

double perf_throughput(uint64_t completed, uint32_t batch, uint64_t window_ns)
{
    if (window_ns == 0)
        return 0;
    return (double)completed * (double)batch * 1e9 / (double)window_ns;
}

static bool within(const double *v, size_t from, size_t n, double pct)
{
    double sum = 0;
    for (size_t i = from; i < n; i++) {
        if (v[i] <= 0)
            return false;
        sum += v[i];
    }
    double mean = sum / (double)(n - from);
    for (size_t i = from; i < n; i++) {
        double ratio = v[i] / mean;
        if (ratio > 1.0 + pct / 100.0 || ratio < 1.0 - pct / 100.0)
            return false;
    }
    return true;
}

bool perf_is_stable(const double *throughput, const double *latency, size_t n, size_t window,
                    double pct)
{
    if (window == 0 || n < window)
        return false;
    size_t from = n - window;
    if (!within(throughput, from, n, pct))
        return false;
    return latency == NULL || within(latency, from, n, pct);
}

/* ---- server statistics ------------------------------------------------- */

static uint64_t json_u64(json_object *obj, const char *key)
{
    json_object *v = NULL;
    if (obj == NULL || !json_object_object_get_ex(obj, key, &v))
        return 0;
    /* Triton writes counters as numbers; accept decimal strings too. */
    if (json_object_is_type(v, json_type_string))
        return strtoull(json_object_get_string(v), NULL, 10);
    int64_t i = json_object_get_int64(v);
    return i < 0 ? 0 : (uint64_t)i;
}

static void add_duration(json_object *stats, const char *key, perf_stat_duration *d)
{
    json_object *obj = NULL;
    if (stats == NULL || !json_object_object_get_ex(stats, key, &obj))
        return;
    d->count += json_u64(obj, "count");
    d->ns += json_u64(obj, "ns");
}

static void add_entry(json_object *entry, perf_server_stats *out)
{
    json_object *is = NULL;
    (void)json_object_object_get_ex(entry, "inference_stats", &is);
    out->inference_count += json_u64(entry, "inference_count");
    out->execution_count += json_u64(entry, "execution_count");
    add_duration(is, "success", &out->success);
    add_duration(is, "fail", &out->fail);
    add_duration(is, "queue", &out->queue);
    add_duration(is, "compute_input", &out->compute_input);
    add_duration(is, "compute_infer", &out->compute_infer);
    add_duration(is, "compute_output", &out->compute_output);
    add_duration(is, "cache_hit", &out->cache_hit);
    add_duration(is, "cache_miss", &out->cache_miss);
}

static bool entry_matches(json_object *entry, const char *model, const char *version)
{
    json_object *name = NULL;
    if (!json_object_object_get_ex(entry, "name", &name) ||
        strcmp(json_object_get_string(name), model) != 0)
        return false;
    if (version == NULL || version[0] == '\0')
        return true;
    json_object *ver = NULL;
    return json_object_object_get_ex(entry, "version", &ver) &&
           strcmp(json_object_get_string(ver), version) == 0;
}

bool perf_server_stats_parse(const char *json, const char *model, const char *version,
                             perf_server_stats *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    json_object *root = json_tokener_parse(json);
    json_object *list = NULL;
    bool ok = false;
    if (root == NULL || !json_object_object_get_ex(root, "model_stats", &list) ||
        !json_object_is_type(list, json_type_array)) {
        (void)snprintf(err, errlen, "statistics are not {\"model_stats\":[...]} JSON");
        goto out;
    }
    size_t n = json_object_array_length(list);
    for (size_t i = 0; i < n; i++) {
        json_object *entry = json_object_array_get_idx(list, i);
        if (entry_matches(entry, model, version)) {
            add_entry(entry, out);
            ok = true;
        }
    }
    if (!ok)
        (void)snprintf(err, errlen, "no statistics for model '%s'", model);
out:
    json_object_put(root);
    return ok;
}

static uint64_t sub(uint64_t a, uint64_t b)
{
    return a > b ? a - b : 0;
}

static void diff_duration(perf_stat_duration *o, const perf_stat_duration *a,
                          const perf_stat_duration *b)
{
    o->count = sub(a->count, b->count);
    o->ns = sub(a->ns, b->ns);
}

void perf_server_stats_diff(const perf_server_stats *after, const perf_server_stats *before,
                            perf_server_stats *out)
{
    out->inference_count = sub(after->inference_count, before->inference_count);
    out->execution_count = sub(after->execution_count, before->execution_count);
    diff_duration(&out->success, &after->success, &before->success);
    diff_duration(&out->fail, &after->fail, &before->fail);
    diff_duration(&out->queue, &after->queue, &before->queue);
    diff_duration(&out->compute_input, &after->compute_input, &before->compute_input);
    diff_duration(&out->compute_infer, &after->compute_infer, &before->compute_infer);
    diff_duration(&out->compute_output, &after->compute_output, &before->compute_output);
    diff_duration(&out->cache_hit, &after->cache_hit, &before->cache_hit);
    diff_duration(&out->cache_miss, &after->cache_miss, &before->cache_miss);
}

static void add_d(perf_stat_duration *o, const perf_stat_duration *a)
{
    o->count += a->count;
    o->ns += a->ns;
}

void perf_server_stats_add(perf_server_stats *out, const perf_server_stats *add)
{
    out->inference_count += add->inference_count;
    out->execution_count += add->execution_count;
    add_d(&out->success, &add->success);
    add_d(&out->fail, &add->fail);
    add_d(&out->queue, &add->queue);
    add_d(&out->compute_input, &add->compute_input);
    add_d(&out->compute_infer, &add->compute_infer);
    add_d(&out->compute_output, &add->compute_output);
    add_d(&out->cache_hit, &add->cache_hit);
    add_d(&out->cache_miss, &add->cache_miss);
}

void perf_server_stats_average(const perf_server_stats *s, perf_server_avg *out)
{
    memset(out, 0, sizeof *out);
    uint64_t cnt = s->success.count;
    if (cnt == 0)
        return;
    /* perf_analyzer truncates to microseconds before dividing; so do we. */
    out->request_us = s->success.ns / 1000 / cnt;
    out->queue_us = s->queue.ns / 1000 / cnt;
    out->compute_input_us = s->compute_input.ns / 1000 / cnt;
    out->compute_infer_us = s->compute_infer.ns / 1000 / cnt;
    out->compute_output_us = s->compute_output.ns / 1000 / cnt;
    out->cache_hit_us = s->cache_hit.count ? s->cache_hit.ns / 1000 / s->cache_hit.count : 0;
    out->cache_miss_us = s->cache_miss.count ? s->cache_miss.ns / 1000 / s->cache_miss.count : 0;
    uint64_t parts =
        out->queue_us + out->compute_input_us + out->compute_infer_us + out->compute_output_us;
    out->overhead_us = out->request_us > parts ? out->request_us - parts : 0;
}
