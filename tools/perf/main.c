/* tritonc-perf: a perf_analyzer-style load generator for Triton-compatible
 * servers, built on libtritonc. It sweeps concurrency or request rate,
 * measures client latency and throughput in stabilized windows, adds the
 * server's queue and compute times from its statistics, and prints them as
 * perf_analyzer does (console, CSV, profile export), plus an SVG plot.
 *
 * Exit status as perf_analyzer's: 0 success, 1 error, 2 a step did not
 * stabilize within --max-trials, 3 bad options. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tritonc/tritonc.h>

#include "input_data.h"
#include "load.h"
#include "options.h"
#include "perf_util.h"
#include "profiler.h"
#include "report.h"

enum { EXIT_OK = 0, EXIT_ERROR = 1, EXIT_UNSTABLE = 2, EXIT_OPTIONS = 3 };

typedef struct model_info {
    perf_input_info *inputs;
    size_t ninputs;
    char **outputs; /* output names (shared memory needs them) */
    size_t noutputs;
    int64_t max_batch_size;
} model_info;

static void model_info_cleanup(model_info *m)
{
    for (size_t i = 0; i < m->ninputs; i++)
        free(m->inputs[i].name);
    free(m->inputs);
    for (size_t i = 0; i < m->noutputs; i++)
        free(m->outputs[i]);
    free(m->outputs);
    memset(m, 0, sizeof *m);
}

static bool read_max_batch_size(tc_client *c, const perf_options *o, int64_t *out, char *err,
                                size_t errlen)
{
    char *json = NULL;
    tc_code rc = tc_client_model_config(c, o->model, o->version, NULL, &json);
    if (rc != TC_OK) {
        (void)snprintf(err, errlen, "cannot get the config of model '%s': %s", o->model,
                       tc_client_last_error(c));
        return false;
    }
    json_object *root = json_tokener_parse(json);
    json_object *mbs = NULL;
    *out = 0;
    if (root != NULL && json_object_object_get_ex(root, "max_batch_size", &mbs))
        *out = json_object_get_int64(mbs);
    json_object_put(root);
    tc_string_free(json);
    return true;
}

static bool copy_input(const tc_model_metadata *meta, size_t i, bool batching, perf_input_info *in,
                       char *err, size_t errlen)
{
    const char *name = NULL;
    const int64_t *shape = NULL;
    size_t ndim = 0;
    if (tc_model_metadata_input(meta, i, &name, &in->dtype, &shape, &ndim) != TC_OK)
        return false;
    size_t skip = batching && ndim > 0 ? 1 : 0;
    if (ndim - skip > PERF_MAX_DIMS) {
        (void)snprintf(err, errlen, "input '%s' has too many dimensions", name);
        return false;
    }
    in->name = perf_strdup(name);
    if (in->name == NULL)
        return false;
    in->ndim = ndim - skip;
    for (size_t d = 0; d < in->ndim; d++)
        in->dims[d] = shape[d + skip];
    return true;
}

static bool read_model(tc_client *c, const perf_options *o, model_info *m, char *err, size_t errlen)
{
    bool ready = false;
    tc_code rc = tc_client_is_model_ready(c, o->model, o->version, NULL, &ready);
    if (rc != TC_OK || !ready) {
        (void)snprintf(err, errlen, "model '%s' is not ready at %s: %s", o->model, o->url,
                       rc != TC_OK ? tc_client_last_error(c) : "not ready");
        return false;
    }
    if (!read_max_batch_size(c, o, &m->max_batch_size, err, errlen))
        return false;
    tc_model_metadata *meta = NULL;
    rc = tc_client_model_metadata(c, o->model, o->version, NULL, &meta);
    if (rc != TC_OK) {
        (void)snprintf(err, errlen, "cannot get the metadata of model '%s': %s", o->model,
                       tc_client_last_error(c));
        return false;
    }
    size_t n = tc_model_metadata_input_count(meta);
    bool ok = (m->inputs = perf_calloc(n, sizeof *m->inputs)) != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        ok = copy_input(meta, i, m->max_batch_size > 0, &m->inputs[i], err, errlen);
        if (ok)
            m->ninputs++;
    }
    size_t nout = tc_model_metadata_output_count(meta);
    if (ok)
        ok = (m->outputs = perf_calloc(nout, sizeof *m->outputs)) != NULL;
    for (size_t i = 0; ok && i < nout; i++) {
        const char *name = NULL;
        ok = tc_model_metadata_output(meta, i, &name, NULL, NULL, NULL) == TC_OK &&
             (m->outputs[i] = perf_strdup(name)) != NULL;
        if (ok)
            m->noutputs++;
    }
    tc_model_metadata_free(meta);
    if (!ok && err[0] == '\0')
        (void)snprintf(err, errlen, "cannot read the inputs of model '%s'", o->model);
    return ok;
}

static bool check_batch(const perf_options *o, const model_info *m, char *err, size_t errlen)
{
    if (m->max_batch_size <= 0 && o->batch > 1) {
        (void)snprintf(err, errlen,
                       "can not specify batch size > 1 as the model does not support batching");
        return false;
    }
    if (m->max_batch_size > 0 && (int64_t)o->batch > m->max_batch_size) {
        (void)snprintf(err, errlen, "expecting batch size <= %lld for model '%s'",
                       (long long)m->max_batch_size, o->model);
        return false;
    }
    return true;
}

static bool make_data(const perf_options *o, const model_info *m, perf_dataset *ds, char *err,
                      size_t errlen)
{
    if (o->data_kind == PERF_DATA_FILE)
        return perf_dataset_from_file(o->data_file, m->inputs, m->ninputs, o->shapes, o->nshapes,
                                      ds, err, errlen);
    return perf_dataset_generate(m->inputs, m->ninputs, o->shapes, o->nshapes,
                                 o->data_kind == PERF_DATA_ZERO ? PERF_FILL_ZERO : PERF_FILL_RANDOM,
                                 (size_t)o->string_length, ds, err, errlen);
}

static void write_outputs(const perf_options *o, const perf_step_result *res, size_t n,
                          int64_t wall_offset, int *status)
{
    if (o->csv_file != NULL && !perf_write_csv(o->csv_file, o, res, n)) {
        fprintf(stderr, "error: cannot write %s\n", o->csv_file);
        *status = EXIT_ERROR;
    }
    if (o->profile_file != NULL && !perf_write_profile(o->profile_file, o, res, n, wall_offset)) {
        fprintf(stderr, "error: cannot write %s\n", o->profile_file);
        *status = EXIT_ERROR;
    }
    if (o->plot_file != NULL && !perf_write_svg(o->plot_file, o, res, n)) {
        fprintf(stderr, "error: cannot write %s\n", o->plot_file);
        *status = EXIT_ERROR;
    }
}

/* Run every step of the sweep; returns the exit status. */
static int sweep(const perf_options *o, perf_profiler *prof, perf_step_result *res, size_t *n)
{
    char err[512];
    int status = EXIT_OK;
    size_t steps = perf_options_step_count(o);
    for (size_t i = 0; i < steps; i++) {
        double value = perf_options_step_value(o, i);
        if (o->mode == PERF_MODE_REQUEST_RATE)
            fprintf(stderr, "Request Rate: %g inference requests per seconds\n", value);
        else
            fprintf(stderr, "Request concurrency: %g\n", value);
        err[0] = '\0';
        if (perf_profiler_run_step(prof, value, &res[*n], err, sizeof err) != 0) {
            perf_step_result_cleanup(&res[*n]);
            fprintf(stderr, "error: %s\n", err);
            return EXIT_ERROR;
        }
        perf_step_result *r = &res[(*n)++];
        perf_report_step(stdout, o, r);
        if (o->mode == PERF_MODE_REQUEST_RATE && r->delayed > 0)
            fprintf(stderr,
                    "[WARNING] tritonc-perf was not able to keep up with the desired request "
                    "rate. %.2f%% of the requests were delayed (max lag %llu usec).\n",
                    r->sent ? 100.0 * (double)r->delayed / (double)r->sent : 0.0,
                    (unsigned long long)(r->max_lag_ns / 1000));
        if (!r->stable) {
            fprintf(stderr,
                    "Failed to obtain stable measurement within %u measurement windows for %s "
                    "%g. Please try to increase the --measurement-interval.\n",
                    o->max_trials,
                    o->mode == PERF_MODE_REQUEST_RATE ? "request rate" : "concurrency", value);
            status = EXIT_UNSTABLE;
        }
        if (o->latency_threshold_ms > 0 &&
            perf_report_latency_us(o, r) > o->latency_threshold_ms * 1000) {
            fprintf(stderr, "Measured latency went over the set limit of %llu msec. \n",
                    (unsigned long long)o->latency_threshold_ms);
            break;
        }
    }
    return status;
}

static int run(const perf_options *o)
{
    char err[512] = "";
    int status = EXIT_ERROR;
    tc_client *stats = NULL;
    model_info m;
    perf_dataset ds;
    perf_load *load = NULL;
    perf_profiler *prof = NULL;
    size_t nres = 0;
    perf_step_result *res = perf_calloc(perf_options_step_count(o), sizeof *res);
    memset(&m, 0, sizeof m);
    memset(&ds, 0, sizeof ds);
    if (res == NULL || perf_client_new(o, 1, &stats, err, sizeof err) != TC_OK ||
        !read_model(stats, o, &m, err, sizeof err) || !check_batch(o, &m, err, sizeof err) ||
        !make_data(o, &m, &ds, err, sizeof err))
        goto out;
    perf_load_config cfg = {o, m.inputs, m.ninputs, &ds, m.max_batch_size > 0, m.outputs,
                            m.noutputs};
    load = perf_load_new(&cfg);
    prof = load != NULL ? perf_profiler_new(o, load, stats) : NULL;
    if (prof == NULL) {
        (void)snprintf(err, sizeof err, "out of memory");
        goto out;
    }
    int64_t wall_offset = (int64_t)(perf_wall_ns() - perf_now_ns());
    perf_report_settings(stdout, o);
    status = sweep(o, prof, res, &nres);
    if (nres > 0) {
        perf_report_summary(stdout, o, res, nres);
        write_outputs(o, res, nres, wall_offset, &status);
    }
out:
    if (err[0] != '\0')
        fprintf(stderr, "error: %s\n", err);
    for (size_t i = 0; i < nres; i++)
        perf_step_result_cleanup(&res[i]);
    free(res);
    perf_profiler_free(prof);
    perf_load_free(load);
    perf_dataset_cleanup(&ds);
    model_info_cleanup(&m);
    (void)tc_client_free(stats);
    return status;
}

int main(int argc, char **argv)
{
    perf_options opts;
    char err[512] = "";
    perf_parse_status ps = perf_options_parse(argc, argv, &opts, err, sizeof err);
    if (ps == PERF_PARSE_HELP) {
        perf_options_usage(argv[0]);
        perf_options_cleanup(&opts);
        return EXIT_OK;
    }
    if (ps == PERF_PARSE_ERROR) {
        fprintf(stderr, "error: %s\n", err);
        perf_options_cleanup(&opts);
        return EXIT_OPTIONS;
    }
    int status = run(&opts);
    perf_options_cleanup(&opts);
    return status;
}
