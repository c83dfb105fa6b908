/* Unit tests for src/proto/pbtxt*.c: the descriptor-driven text-format
 * reader, checked on ModelConfig and on grpc_service messages. */
#include "tc_test.h"

#include <math.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "grpc_service.pb-c.h"
#include "proto/model_config.h"

/* Parse `text` as `desc`; asserts success. */
static ProtobufCMessage *parse_ok(const ProtobufCMessageDescriptor *desc, const char *text)
{
    ProtobufCMessage *msg = NULL;
    tc__error err = {TC_OK, ""};
    tc_code rc = tc__pbtxt_parse(desc, text, strlen(text), &msg, &err);
    if (rc != TC_OK)
        fail_msg("parse failed: %s", err.msg);
    assert_non_null(msg);
    return msg;
}

/* Parse `text` as a ModelConfig expecting failure; returns the message. */
static void parse_fails(const char *text, const char *want_msg)
{
    Inference__ModelConfig *cfg = NULL;
    tc__error err = {TC_OK, ""};
    assert_int_equal(tc__model_config_from_pbtxt(text, strlen(text), &cfg, &err), TC_E_INVALID_ARG);
    assert_null(cfg);
    if (strstr(err.msg, want_msg) == NULL)
        fail_msg("error '%s' does not contain '%s'", err.msg, want_msg);
}

static void free_msg(ProtobufCMessage *msg)
{
    protobuf_c_message_free_unpacked(msg, tc__pb_allocator());
}

static void scalars_of_every_type(void **state)
{
    (void)state;
    const char *text = "bool_contents: [true, false, t, f, True, 1, 0]\n"
                       "int_contents: [-2147483648, 2147483647, 0x10, 010, - 5]\n"
                       "int64_contents: -9223372036854775808 int64_contents: 9223372036854775807\n"
                       "uint_contents: 4294967295\n"
                       "uint64_contents: 18446744073709551615\n"
                       "fp32_contents: [1.5, -2.5e3, 3f, inf, -Infinity, 7]\n"
                       "fp64_contents: [.25, 1E-3, nan, -0x10]\n"
                       "bytes_contents: 'a\\000b' bytes_contents: \"\"\n";
    Inference__InferTensorContents *c = (Inference__InferTensorContents *)parse_ok(
        &inference__infer_tensor_contents__descriptor, text);
    assert_int_equal(c->n_bool_contents, 7);
    int want_b[] = {1, 0, 1, 0, 1, 1, 0};
    for (size_t i = 0; i < 7; i++)
        assert_int_equal(c->bool_contents[i], want_b[i]);
    assert_int_equal(c->n_int_contents, 5);
    assert_int_equal(c->int_contents[0], INT32_MIN);
    assert_int_equal(c->int_contents[1], INT32_MAX);
    assert_int_equal(c->int_contents[2], 16);
    assert_int_equal(c->int_contents[3], 8);
    assert_int_equal(c->int_contents[4], -5);
    assert_int_equal(c->n_int64_contents, 2);
    assert_true(c->int64_contents[0] == INT64_MIN);
    assert_true(c->int64_contents[1] == INT64_MAX);
    assert_int_equal(c->uint_contents[0], UINT32_MAX);
    assert_true(c->uint64_contents[0] == UINT64_MAX);
    assert_int_equal(c->n_fp32_contents, 6);
    assert_true(c->fp32_contents[0] == 1.5f && c->fp32_contents[1] == -2500.0f);
    assert_true(c->fp32_contents[2] == 3.0f && isinf(c->fp32_contents[3]));
    assert_true(isinf(c->fp32_contents[4]) && c->fp32_contents[4] < 0);
    assert_true(c->fp32_contents[5] == 7.0f);
    assert_int_equal(c->n_fp64_contents, 4);
    assert_true(c->fp64_contents[0] == 0.25 && c->fp64_contents[1] == 0.001);
    assert_true(isnan(c->fp64_contents[2]) && c->fp64_contents[3] == -16.0);
    assert_int_equal(c->n_bytes_contents, 2);
    assert_int_equal(c->bytes_contents[0].len, 3);
    assert_memory_equal(c->bytes_contents[0].data, "a\0b", 3);
    assert_int_equal(c->bytes_contents[1].len, 0);
    free_msg(&c->base);
}

static void strings_quotes_and_escapes(void **state)
{
    (void)state;
    const char *text = "model_name: 'it''s' \"_\" 'x'\n"
                       "id: \"q\\\"\\'\\\\\\n\\t\\x41\\101\\u00e9\\U0001F600\"\n"
                       "model_version: ''\n";
    Inference__ModelInferRequest *r =
        (Inference__ModelInferRequest *)parse_ok(&inference__model_infer_request__descriptor, text);
    assert_string_equal(r->model_name, "its_x");
    assert_string_equal(r->id, "q\"'\\\n\tAA\xc3\xa9\xf0\x9f\x98\x80");
    assert_string_equal(r->model_version, "");
    free_msg(&r->base);
}

static void nested_message_forms(void **state)
{
    (void)state;
    const char *text = "version_policy { latest { num_versions: 2 } }\n"
                       "model_transaction_policy: { decoupled: true }\n"
                       "response_cache < enable: true >\n"
                       "optimization: < input_pinned_memory { enable: false } >\n";
    Inference__ModelConfig *cfg =
        (Inference__ModelConfig *)parse_ok(&inference__model_config__descriptor, text);
    assert_int_equal(cfg->version_policy->policy_choice_case,
                     INFERENCE__MODEL_VERSION_POLICY__POLICY_CHOICE_LATEST);
    assert_int_equal(cfg->version_policy->latest->num_versions, 2);
    assert_true(cfg->model_transaction_policy->decoupled);
    assert_true(cfg->response_cache->enable);
    assert_non_null(cfg->optimization->input_pinned_memory);
    assert_false(cfg->optimization->input_pinned_memory->enable);
    assert_null(cfg->optimization->output_pinned_memory);
    free_msg(&cfg->base);
}

static void repeated_by_repetition_and_lists(void **state)
{
    (void)state;
    const char *text = "input { name: 'A' dims: 1 dims: [2, 3] dims: [] }\n"
                       "input [ { name: 'B' }, < name: 'C' > ]\n"
                       "input: [ ]\n"
                       "input: { name: 'D' }\n"
                       "output [ { name: 'O' dims: [ -1 ] } ]\n";
    Inference__ModelConfig *cfg =
        (Inference__ModelConfig *)parse_ok(&inference__model_config__descriptor, text);
    assert_int_equal(cfg->n_input, 4);
    assert_string_equal(cfg->input[0]->name, "A");
    assert_int_equal(cfg->input[0]->n_dims, 3);
    assert_int_equal(cfg->input[0]->dims[2], 3);
    assert_string_equal(cfg->input[1]->name, "B");
    assert_string_equal(cfg->input[2]->name, "C");
    assert_string_equal(cfg->input[3]->name, "D");
    assert_int_equal(cfg->n_output, 1);
    assert_int_equal(cfg->output[0]->dims[0], -1);
    free_msg(&cfg->base);
}

static void many_repeated_values(void **state)
{
    (void)state;
    tc__buf b = TC__BUF_INIT;
    assert_int_equal(tc__buf_append_str(&b, "input { name: 'X' dims: ["), TC_OK);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(tc__buf_append_str(&b, i ? ",7" : "7"), TC_OK);
    assert_int_equal(tc__buf_append_str(&b, "] }"), TC_OK);
    Inference__ModelConfig *cfg =
        (Inference__ModelConfig *)parse_ok(&inference__model_config__descriptor, (char *)b.data);
    tc__buf_cleanup(&b);
    assert_int_equal(cfg->input[0]->n_dims, 1000);
    assert_int_equal(cfg->input[0]->dims[999], 7);
    free_msg(&cfg->base);
}

static void maps_as_entries_last_wins(void **state)
{
    (void)state;
    const char *text =
        "parameters { key: 'a' value: { string_value: '1' } }\n"
        "parameters { key: 'b' value { string_value: '2' } }\n"
        "parameters { key: 'a' value { string_value: '3' } }\n"
        "parameters [ { key: 'c' } ]\n"
        "cc_model_filenames { key: '7.5' value: 'm.plan' }\n"
        "dynamic_batching { priority_queue_policy { key: 2 value { max_queue_size: 9 } } }\n";
    Inference__ModelConfig *cfg =
        (Inference__ModelConfig *)parse_ok(&inference__model_config__descriptor, text);
    assert_int_equal(cfg->n_parameters, 3);
    assert_string_equal(cfg->parameters[0]->key, "a");
    assert_string_equal(cfg->parameters[0]->value->string_value, "3");
    assert_string_equal(cfg->parameters[1]->key, "b");
    assert_string_equal(cfg->parameters[2]->key, "c");
    assert_null(cfg->parameters[2]->value);
    assert_string_equal(cfg->cc_model_filenames[0]->value, "m.plan");
    Inference__ModelDynamicBatching *db = cfg->dynamic_batching;
    assert_int_equal(db->n_priority_queue_policy, 1);
    assert_int_equal(db->priority_queue_policy[0]->key, 2);
    assert_int_equal(db->priority_queue_policy[0]->value->max_queue_size, 9);
    free_msg(&cfg->base);
}

static void oneof_sets_case(void **state)
{
    (void)state;
    Inference__ModelConfig *cfg = (Inference__ModelConfig *)parse_ok(
        &inference__model_config__descriptor,
        "sequence_batching { oldest { max_candidate_sequences: 4 } }");
    assert_int_equal(cfg->scheduling_choice_case,
                     INFERENCE__MODEL_CONFIG__SCHEDULING_CHOICE_SEQUENCE_BATCHING);
    assert_int_equal(cfg->sequence_batching->strategy_choice_case,
                     INFERENCE__MODEL_SEQUENCE_BATCHING__STRATEGY_CHOICE_OLDEST);
    assert_int_equal(cfg->sequence_batching->oldest->max_candidate_sequences, 4);
    free_msg(&cfg->base);

    Inference__InferParameter *p = (Inference__InferParameter *)parse_ok(
        &inference__infer_parameter__descriptor, "string_param: 'a' string_param: 'b'");
    assert_int_equal(p->parameter_choice_case,
                     INFERENCE__INFER_PARAMETER__PARAMETER_CHOICE_STRING_PARAM);
    assert_string_equal(p->string_param, "b");
    free_msg(&p->base);

    parse_fails("dynamic_batching { }\nsequence_batching { }",
                "line 2, column 19: field 'sequence_batching' is set along with another member");
}

static void enums_by_name_and_number(void **state)
{
    (void)state;
    Inference__ModelConfig *cfg = (Inference__ModelConfig *)parse_ok(
        &inference__model_config__descriptor,
        "input { data_type: TYPE_FP32 format: 2 } instance_group { kind: KIND_GPU }");
    assert_int_equal(cfg->input[0]->data_type, INFERENCE__DATA_TYPE__TYPE_FP32);
    assert_int_equal(cfg->input[0]->format, INFERENCE__MODEL_INPUT__FORMAT__FORMAT_NCHW);
    assert_int_equal(cfg->instance_group[0]->kind, INFERENCE__MODEL_INSTANCE_GROUP__KIND__KIND_GPU);
    free_msg(&cfg->base);
    parse_fails("input { data_type: TYPE_FLOAT }", "unknown value 'TYPE_FLOAT'");
    parse_fails("input { data_type: 99 }", "unknown number 99");
}

static void comments_and_separators(void **state)
{
    (void)state;
    const char *text = "# leading comment\n"
                       "name: 'm'; # trailing comment\n"
                       "max_batch_size: 4,\n"
                       "input { name: 'x'; dims: [1]; },\n"
                       "# only a comment";
    Inference__ModelConfig *cfg =
        (Inference__ModelConfig *)parse_ok(&inference__model_config__descriptor, text);
    assert_string_equal(cfg->name, "m");
    assert_int_equal(cfg->max_batch_size, 4);
    assert_string_equal(cfg->input[0]->name, "x");
    free_msg(&cfg->base);
}

static void empty_input_gives_defaults(void **state)
{
    (void)state;
    Inference__ModelConfig *cfg = NULL;
    assert_int_equal(tc__model_config_from_pbtxt(NULL, 0, &cfg, NULL), TC_OK);
    assert_string_equal(cfg->name, "");
    assert_int_equal(cfg->n_input, 0);
    tc__model_config_free(cfg);
    assert_int_equal(tc__model_config_from_pbtxt("  # nothing\n", 12, &cfg, NULL), TC_OK);
    tc__model_config_free(cfg);
}

static void errors_name_line_and_column(void **state)
{
    (void)state;
    parse_fails("name: 'a'\ninput {\n  nmae: 'x'\n}", "line 3, column 3: unknown field 'nmae'");
    parse_fails("name: 'a\n'", "line 1, column 7: unterminated string");
    parse_fails("max_batch_size 3", "line 1, column 16: expected ':'");
    parse_fails("max_batch_size: 2147483648", "out of range");
    parse_fails("max_batch_size: -2147483649", "out of range");
    parse_fails("version_policy { latest { num_versions: -1 } }", "out of range");
    parse_fails("max_batch_size: 1.5", "expected an integer");
    parse_fails("max_batch_size: [1, 2]", "is not repeated");
    parse_fails("input { name: 'x'", "line 1, column 18: expected '}' before the end of input");
    parse_fails("input { name: 'x' >", "expected a field name");
    parse_fails("name: 'a\\q'", "invalid escape");
    parse_fails("name: 'a\\x'", "invalid escape");
    parse_fails("name: @", "line 1, column 7: unexpected character 0x40");
    parse_fails("version_policy: 3", "expected '{' or '<'");
    parse_fails("input [ { name: 'a' } { name: 'b' } ]", "expected ',' or ']'");
    parse_fails("name: TYPE_FP32", "expected a quoted string");
    parse_fails("response_cache { enable: yes }", "expected true or false");
    parse_fails("[ext.field]: 1", "expected a field name");
    parse_fails("dims: 3", "unknown field 'dims' in inference.ModelConfig");
}

static void text_without_terminator_is_bounded(void **state)
{
    (void)state;
    /* The length argument, not a NUL, ends the input. */
    const char text[] = {'n', 'a', 'm', 'e', ':', ' ', '\'', 'a', '\'', 'X'};
    Inference__ModelConfig *cfg = NULL;
    assert_int_equal(tc__model_config_from_pbtxt(text, 9, &cfg, NULL), TC_OK);
    assert_string_equal(cfg->name, "a");
    tc__model_config_free(cfg);
    assert_int_equal(tc__model_config_from_pbtxt(text, 8, &cfg, NULL), TC_E_INVALID_ARG);
}

static void failing_allocations_are_clean(void **state)
{
    (void)state;
    const char *text = "name: 'm' input [ { name: 'a' dims: [1,2,3,4,5] } ]\n"
                       "parameters { key: 'k' value { string_value: 'v' } }\n"
                       "parameters { key: 'k' value { string_value: 'w' } }\n"
                       "dynamic_batching { preferred_batch_size: [1, 2] }";
    bool succeeded = false;
    for (unsigned long n = 1; n < 200 && !succeeded; n++) {
        Inference__ModelConfig *cfg = NULL;
        tc__alloc_fail_after(n);
        tc_code rc = tc__model_config_from_pbtxt(text, strlen(text), &cfg, NULL);
        tc__alloc_fail_after(0);
        if (rc == TC_OK)
            succeeded = true;
        else
            assert_int_equal(rc, TC_E_NOMEM);
        tc__model_config_free(cfg);
    }
    assert_true(succeeded);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(scalars_of_every_type),
    cmocka_unit_test(strings_quotes_and_escapes),
    cmocka_unit_test(nested_message_forms),
    cmocka_unit_test(repeated_by_repetition_and_lists),
    cmocka_unit_test(many_repeated_values),
    cmocka_unit_test(maps_as_entries_last_wins),
    cmocka_unit_test(oneof_sets_case),
    cmocka_unit_test(enums_by_name_and_number),
    cmocka_unit_test(comments_and_separators),
    cmocka_unit_test(empty_input_gives_defaults),
    cmocka_unit_test(errors_name_line_and_column),
    cmocka_unit_test(text_without_terminator_is_bounded),
    cmocka_unit_test(failing_allocations_are_clean),
};

TC_TEST_MAIN(tests)
