/* Model checks of image_client; see model.h. The config JSON is the
 * ModelConfig JSON mapping Triton serves (format as an enum name string,
 * dims and max_batch_size as numbers or decimal strings). */
#include "model.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

/* An integer field that may be a JSON number or a decimal string (int64 in
 * the protobuf JSON mapping). Missing = `dflt`. */
static int json_int(const json_object *obj, const char *key, int64_t dflt, int64_t *out)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(obj, key, &v) || v == NULL) {
        *out = dflt;
        return 0;
    }
    if (json_object_is_type(v, json_type_int)) {
        *out = json_object_get_int64(v);
        return 0;
    }
    if (json_object_is_type(v, json_type_string)) {
        const char *s = json_object_get_string(v);
        char *end = NULL;
        long long n = strtoll(s, &end, 10);
        if (end != s && *end == '\0') {
            *out = n;
            return 0;
        }
    }
    return -1;
}

static const char *format_name(ic_format f)
{
    return f == IC_FORMAT_NCHW   ? "FORMAT_NCHW"
           : f == IC_FORMAT_NHWC ? "FORMAT_NHWC"
                                 : "FORMAT_NONE";
}

/* The config's input[0].format: missing means FORMAT_NONE. */
static int parse_format(const json_object *input, ic_format *out)
{
    json_object *v = NULL;
    *out = IC_FORMAT_NONE;
    if (!json_object_object_get_ex(input, "format", &v) || v == NULL)
        return 0;
    if (json_object_is_type(v, json_type_int)) {
        int64_t n = json_object_get_int64(v);
        *out = n == 1 ? IC_FORMAT_NHWC : n == 2 ? IC_FORMAT_NCHW : IC_FORMAT_NONE;
        return 0;
    }
    const char *s = json_object_get_string(v);
    if (strcmp(s, "FORMAT_NCHW") == 0)
        *out = IC_FORMAT_NCHW;
    else if (strcmp(s, "FORMAT_NHWC") == 0)
        *out = IC_FORMAT_NHWC;
    else if (strcmp(s, "FORMAT_NONE") != 0)
        return -1;
    return 0;
}

/* Output: FP32, a vector once the batch dimension is skipped. */
static int check_output(const char *model_name, const ic_tensor_desc *o, bool batched, char *err,
                        size_t err_size)
{
    if (o->dtype != TC_DTYPE_FP32) {
        const char *dt = tc_dtype_name(o->dtype);
        snprintf(err, err_size,
                 "expecting output datatype to be FP32, model '%s' output type is %s", model_name,
                 dt != NULL ? dt : "INVALID");
        return -1;
    }
    size_t non_one = 0;
    for (size_t i = batched ? 1 : 0; i < o->ndim; i++) {
        if (o->shape[i] > 1)
            non_one++;
    }
    if (non_one > 1) {
        snprintf(err, err_size, "expecting model output to be a vector");
        return -1;
    }
    return 0;
}

/* Input: c, h, w from the metadata shape in the config's format. */
static int check_input(const char *model_name, const ic_tensor_desc *in, ic_format format,
                       bool batched, ic_model *out, char *err, size_t err_size)
{
    size_t expected = batched ? 4 : 3;
    if (in->ndim != expected) {
        snprintf(err, err_size, "expecting input to have %zu dimensions, model '%s' input has %zu",
                 expected, model_name, in->ndim);
        return -1;
    }
    if (format != IC_FORMAT_NCHW && format != IC_FORMAT_NHWC) {
        snprintf(err, err_size, "unexpected input format %s, expecting FORMAT_NCHW or FORMAT_NHWC",
                 format_name(format));
        return -1;
    }
    const int64_t *d = in->shape + (batched ? 1 : 0);
    int64_t c = format == IC_FORMAT_NCHW ? d[0] : d[2];
    int64_t h = format == IC_FORMAT_NCHW ? d[1] : d[0];
    int64_t w = format == IC_FORMAT_NCHW ? d[2] : d[1];
    if (c != 1 && c != 3) {
        snprintf(err, err_size, "expecting 1 or 3 channels, model '%s' input has %lld", model_name,
                 (long long)c);
        return -1;
    }
    if (h <= 0 || w <= 0) {
        snprintf(err, err_size, "expecting a fixed image size, model '%s' input is %lldx%lld",
                 model_name, (long long)h, (long long)w);
        return -1;
    }
    out->channels = (size_t)c;
    out->height = (size_t)h;
    out->width = (size_t)w;
    return 0;
}

static int copy_name(char *dst, size_t cap, const char *src, char *err, size_t err_size)
{
    size_t n = strlen(src);
    if (n >= cap) {
        snprintf(err, err_size, "tensor name too long: '%s'", src);
        return -1;
    }
    memcpy(dst, src, n + 1);
    return 0;
}

int ic_model_parse(const char *model_name, const char *config_json, const ic_tensor_desc *inputs,
                   size_t input_count, const ic_tensor_desc *outputs, size_t output_count,
                   ic_model *out, char *err, size_t err_size)
{
    int rc = -1;
    json_object *cfg = NULL;
    memset(out, 0, sizeof *out);
    if (input_count != 1) {
        snprintf(err, err_size, "expecting 1 input, got %zu", input_count);
        return -1;
    }
    if (output_count != 1) {
        snprintf(err, err_size, "expecting 1 output, got %zu", output_count);
        return -1;
    }
    cfg = json_tokener_parse(config_json);
    json_object *cin = NULL;
    if (cfg == NULL || !json_object_is_type(cfg, json_type_object) ||
        json_int(cfg, "max_batch_size", 0, &out->max_batch_size) != 0) {
        snprintf(err, err_size, "cannot parse the model configuration of '%s'", model_name);
        goto out;
    }
    size_t n = 0;
    if (json_object_object_get_ex(cfg, "input", &cin) && json_object_is_type(cin, json_type_array))
        n = json_object_array_length(cin);
    if (n != 1) {
        snprintf(err, err_size, "expecting 1 input in model configuration, got %zu", n);
        goto out;
    }
    if (parse_format(json_object_array_get_idx(cin, 0), &out->format) != 0) {
        snprintf(err, err_size, "unknown input format in the configuration of '%s'", model_name);
        goto out;
    }
    bool batched = out->max_batch_size > 0;
    if (check_output(model_name, &outputs[0], batched, err, err_size) != 0 ||
        check_input(model_name, &inputs[0], out->format, batched, out, err, err_size) != 0 ||
        copy_name(out->input_name, sizeof out->input_name, inputs[0].name, err, err_size) != 0 ||
        copy_name(out->output_name, sizeof out->output_name, outputs[0].name, err, err_size) != 0)
        goto out;
    out->input_dtype = inputs[0].dtype;
    rc = 0;
out:
    json_object_put(cfg);
    return rc;
}
