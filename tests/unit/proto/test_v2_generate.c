/* Unit tests for src/proto/v2_generate.c: the generate extension's request
 * conversion (inputs, shapes, parameters, errors) and response JSON. */
#include "tc_test.h"

#include <string.h>

#include "common/alloc.h"
#include "proto/v2_json.h"

/* Model inputs as their metadata lists them. */
static int64_t k_text[2] = {-1, 1};      /* batching, one string per item */
static int64_t k_pairs[3] = {-1, -1, 2}; /* variable rows of 2 */
static int64_t k_scalar[1] = {1};
static char k_text_name[] = "text_input", k_pairs_name[] = "pairs", k_temp_name[] = "temperature";
static const tc__tensor_meta k_inputs[] = {
    {k_text_name, TC_DTYPE_BYTES, k_text, 2},
    {k_pairs_name, TC_DTYPE_INT32, k_pairs, 3},
    {k_temp_name, TC_DTYPE_FP32, k_scalar, 1},
};

static tc_code decode(const char *json, tc__infer_request *req, tc__error *err)
{
    tc__error_clear(err);
    return tc__v2_generate_request_decode((const uint8_t *)json, strlen(json), k_inputs, 3, 0, req,
                                          err);
}

static const tc__tensor *input(const tc__infer_request *r, const char *name)
{
    for (size_t i = 0; i < r->input_count; i++) {
        if (strcmp(r->inputs[i].name, name) == 0)
            return &r->inputs[i];
    }
    return NULL;
}

static void inputs_parameters_and_id(void **state)
{
    (void)state;
    tc__infer_request r;
    tc__error err;
    assert_int_equal(decode("{\"id\":\"q7\",\"text_input\":\"hi\",\"pairs\":[1,2,3,4],"
                            "\"parameters\":{\"stream\":false,\"max_tokens\":16,"
                            "\"temperature\":0.5},\"mode\":\"fast\"}",
                            &r, &err),
                     TC_OK);
    assert_string_equal(r.id, "q7");
    assert_int_equal(r.input_count, 3);
    const tc__tensor *t = input(&r, "text_input");
    assert_non_null(t);
    assert_int_equal(t->dtype, TC_DTYPE_BYTES);
    assert_int_equal(t->ndim, 2);
    assert_int_equal(t->shape[0], 1); /* the batch dimension gets 1 */
    assert_int_equal(t->shape[1], 1);
    assert_int_equal(t->byte_size, 4 + 2);
    assert_memory_equal(t->data, "\x02\x00\x00\x00hi", 6);
    t = input(&r, "pairs");
    assert_int_equal(t->ndim, 3);
    assert_int_equal(t->shape[0], 1); /* outer variable dimension: 1 */
    assert_int_equal(t->shape[1], 2); /* innermost variable one: the rest */
    assert_int_equal(t->shape[2], 2);
    int32_t v[4];
    memcpy(v, t->data, sizeof v);
    assert_int_equal(v[3], 4);
    t = input(&r, "temperature"); /* an input, even inside "parameters" */
    assert_int_equal(t->shape[0], 1);
    float f;
    memcpy(&f, t->data, 4);
    assert_true(f == 0.5f);
    const tc__param *p = tc__params_find(&r.params, "stream");
    assert_non_null(p);
    assert_int_equal(p->type, TC__PARAM_BOOL);
    assert_non_null(tc__params_find(&r.params, "max_tokens"));
    p = tc__params_find(&r.params, "mode");
    assert_non_null(p);
    assert_string_equal(p->v.s, "fast");
    tc__infer_request_cleanup(&r);
}

static void expect_error(const char *json, const char *msg)
{
    tc__infer_request r;
    tc__error err;
    assert_int_equal(decode(json, &r, &err), TC_E_INVALID_ARG);
    if (strstr(err.msg, msg) == NULL)
        fail_msg("got '%s', want '%s'", err.msg, msg);
    assert_null(r.inputs); /* cleaned up */
}

static void refuses_what_it_cannot_convert(void **state)
{
    (void)state;
    expect_error("{\"pairs\":[1,2,3]}",
                 "The schema can not convert input 'pairs' to tensor with proper shape");
    expect_error("{\"text_input\":5}", "expected a string");
    expect_error("{\"pairs\":[[1,2],[3,4]]}", "deeper than 1");
    expect_error("{\"top_p\":0.9}", "parameter 'top_p' has invalid type. It should be either "
                                    "'int', 'bool', or 'string'.");
    expect_error("{\"x\":[1]}", "parameter 'x' has invalid type");
    expect_error("{\"parameters\":[1]}", "Expected JSON object for keyword: 'parameters'");
    expect_error("{\"text_input\":\"a\",\"parameters\":{\"text_input\":\"b\"}}",
                 "input 'text_input' already exists in request");
    expect_error("[1]", "generate request must be a JSON object");
    expect_error("{\"text_input\":", "failed to parse the request JSON buffer");
}

static void response_keys_sorted_and_unwrapped(void **state)
{
    (void)state;
    tc__infer_response resp;
    memset(&resp, 0, sizeof resp);
    resp.model_name = tc__strdup("llm");
    resp.model_version = tc__strdup("3");
    resp.id = tc__strdup("q7");
    resp.outputs = tc__calloc(2, sizeof *resp.outputs);
    resp.output_count = 2;
    static const int64_t one[2] = {1, 1};
    static const int64_t three[1] = {3};
    tc__tensor *o = &resp.outputs[0];
    o->name = tc__strdup("text_output");
    o->dtype = TC_DTYPE_BYTES;
    o->shape = tc__memdup(one, sizeof one);
    o->ndim = 2;
    o->owned = tc__memdup("\x05\x00\x00\x00hello", 9);
    o->data = o->owned;
    o->byte_size = 9;
    o = &resp.outputs[1];
    o->name = tc__strdup("logits");
    o->dtype = TC_DTYPE_INT32;
    o->shape = tc__memdup(three, sizeof three);
    o->ndim = 1;
    int32_t l[3] = {1, -2, 3};
    o->owned = tc__memdup(l, sizeof l);
    o->data = o->owned;
    o->byte_size = sizeof l;
    assert_int_equal(tc__params_add_int64(&resp.params, "tokens", 5), TC_OK);
    tc__buf json = TC__BUF_INIT;
    tc__error err;
    tc__error_clear(&err);
    assert_int_equal(tc__v2_generate_response_encode(&resp, &json, &err), TC_OK);
    assert_string_equal((const char *)json.data,
                        "{\"id\":\"q7\",\"logits\":[1,-2,3],\"model_name\":\"llm\","
                        "\"model_version\":\"3\",\"text_output\":\"hello\",\"tokens\":5}");
    tc__buf_cleanup(&json);
    tc__infer_response_cleanup(&resp);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(inputs_parameters_and_id),
    cmocka_unit_test(refuses_what_it_cannot_convert),
    cmocka_unit_test(response_keys_sorted_and_unwrapped),
};

TC_TEST_MAIN(tests)
