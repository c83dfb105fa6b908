/* Unit tests for src/proto/model_config.c: canonical configs, Triton's
 * normalisation, the JSON form both ways and model metadata. */
#include "tc_test.h"

#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "proto/model_config.h"

static const char k_simple[] = "name: \"simple\"\n"
                               "platform: \"tensorflow_graphdef\"\n"
                               "max_batch_size: 8\n"
                               "input [\n"
                               "  { name: \"INPUT0\" data_type: TYPE_INT32 dims: [ 16 ] },\n"
                               "  { name: \"INPUT1\" data_type: TYPE_INT32 dims: [ 16 ] }\n"
                               "]\n"
                               "output [\n"
                               "  { name: \"OUTPUT0\" data_type: TYPE_INT32 dims: [ 16 ] },\n"
                               "  { name: \"OUTPUT1\" data_type: TYPE_INT32 dims: [ 16 ] }\n"
                               "]\n";

static const char k_simple_string[] =
    "name: \"simple_string\"\n"
    "backend: \"python\"\n"
    "max_batch_size: 8\n"
    "input [ { name: \"INPUT0\" data_type: TYPE_STRING dims: [ 16 ] },\n"
    "        { name: \"INPUT1\" data_type: TYPE_STRING dims: [ 16 ] } ]\n"
    "output [ { name: \"OUTPUT0\" data_type: TYPE_STRING dims: [ 16 ] },\n"
    "         { name: \"OUTPUT1\" data_type: TYPE_STRING dims: [ 16 ] } ]\n";

static const char k_simple_sequence[] =
    "name: \"simple_sequence\"\n"
    "backend: \"python\"\n"
    "max_batch_size: 8\n"
    "sequence_batching {\n"
    "  max_sequence_idle_microseconds: 5000000\n"
    "  direct { }\n"
    "  control_input [\n"
    "    { name: \"START\" control [ { kind: CONTROL_SEQUENCE_START int32_false_true: [ 0, 1 ] } ] "
    "},\n"
    "    { name: \"READY\" control [ { kind: CONTROL_SEQUENCE_READY int32_false_true: [ 0, 1 ] } ] "
    "}\n"
    "  ]\n"
    "}\n"
    "input [ { name: \"INPUT\" data_type: TYPE_INT32 dims: [ 1 ] } ]\n"
    "output [ { name: \"OUTPUT\" data_type: TYPE_INT32 dims: [ 1 ] } ]\n"
    "instance_group [ { kind: KIND_CPU } ]\n";

static const char k_simple_dyna_sequence[] =
    "name: \"simple_dyna_sequence\"\n"
    "backend: \"python\"\n"
    "max_batch_size: 8\n"
    "sequence_batching {\n"
    "  max_sequence_idle_microseconds: 10000000\n"
    "  oldest { max_candidate_sequences: 1024 max_queue_delay_microseconds: 10000 }\n"
    "  control_input [\n"
    "    { name: \"START\" control [ { kind: CONTROL_SEQUENCE_START int32_false_true: [ 0, 1 ] } ] "
    "},\n"
    "    { name: \"END\" control [ { kind: CONTROL_SEQUENCE_END int32_false_true: [ 0, 1 ] } ] },\n"
    "    { name: \"READY\" control [ { kind: CONTROL_SEQUENCE_READY int32_false_true: [ 0, 1 ] } ] "
    "},\n"
    "    { name: \"CORRID\" control [ { kind: CONTROL_SEQUENCE_CORRID data_type: TYPE_UINT64 } ] "
    "}\n"
    "  ]\n"
    "}\n"
    "input [ { name: \"INPUT\" data_type: TYPE_INT32 dims: [ 1 ] } ]\n"
    "output [ { name: \"OUTPUT\" data_type: TYPE_INT32 dims: [ 1 ] } ]\n"
    "instance_group [ { kind: KIND_CPU count: 2 } ]\n"
    "parameters { key: \"execute_delay_ms\" value { string_value: \"3\" } }\n";

static const char k_repeat_int32[] =
    "name: \"repeat_int32\"\n"
    "backend: \"repeat\"\n"
    "max_batch_size: 0\n"
    "model_transaction_policy { decoupled: True }\n"
    "input [ { name: \"IN\" data_type: TYPE_INT32 dims: [ -1 ] },\n"
    "        { name: \"DELAY\" data_type: TYPE_UINT32 dims: [ -1 ] },\n"
    "        { name: \"WAIT\" data_type: TYPE_UINT32 dims: [ 1 ] } ]\n"
    "output [ { name: \"OUT\" data_type: TYPE_INT32 dims: [ 1 ] },\n"
    "         { name: \"IDX\" data_type: TYPE_UINT32 dims: [ 1 ] } ]\n"
    "instance_group [ { kind: KIND_CPU } ]\n";

static const char k_dynamic[] =
    "name: \"custom_identity_int32\"\n"
    "backend: \"identity\"\n"
    "max_batch_size: 1024\n"
    "version_policy: { specific { versions: [ 1, 3 ] } }\n"
    "dynamic_batching {\n"
    "  preferred_batch_size: [ 4, 8 ]\n"
    "  max_queue_delay_microseconds: 100\n"
    "  default_queue_policy { timeout_action: DELAY default_timeout_microseconds: 2000 }\n"
    "}\n"
    "input [ { name: \"INPUT0\" data_type: TYPE_INT32 dims: [ -1 ] } ]\n"
    "output [ { name: \"OUTPUT0\" data_type: TYPE_INT32 dims: [ -1 ] } ]\n"
    "parameters [ { key: \"execute_delay_ms\" value: { string_value: \"0\" } } ]\n";

static const char *const k_canonical[] = {k_simple,          k_simple_string,
                                          k_simple_sequence, k_simple_dyna_sequence,
                                          k_repeat_int32,    k_dynamic};

static Inference__ModelConfig *parse(const char *text)
{
    Inference__ModelConfig *cfg = NULL;
    tc__error err = {TC_OK, ""};
    if (tc__model_config_from_pbtxt(text, strlen(text), &cfg, &err) != TC_OK)
        fail_msg("parse failed: %s", err.msg);
    return cfg;
}

static Inference__ModelConfig *parse_normalized(const char *text, const char *model)
{
    Inference__ModelConfig *cfg = parse(text);
    tc__error err = {TC_OK, ""};
    if (tc__model_config_normalize(cfg, model, &err) != TC_OK)
        fail_msg("normalize failed: %s", err.msg);
    return cfg;
}

/* to_json of cfg as a NUL-terminated string the caller frees with tc__buf_cleanup. */
static const char *json_of(const Inference__ModelConfig *cfg, tc__buf *b)
{
    assert_int_equal(tc__model_config_to_json(cfg, b), TC_OK);
    return b->data != NULL ? (const char *)b->data : "";
}

static void canonical_configs_parse(void **state)
{
    (void)state;
    Inference__ModelConfig *cfg = parse(k_simple);
    assert_string_equal(cfg->name, "simple");
    assert_int_equal(cfg->max_batch_size, 8);
    assert_int_equal(cfg->n_input, 2);
    assert_int_equal(cfg->output[1]->data_type, INFERENCE__DATA_TYPE__TYPE_INT32);
    tc__model_config_free(cfg);

    cfg = parse(k_simple_sequence);
    Inference__ModelSequenceBatching *sb = cfg->sequence_batching;
    assert_int_equal(sb->strategy_choice_case,
                     INFERENCE__MODEL_SEQUENCE_BATCHING__STRATEGY_CHOICE_DIRECT);
    assert_int_equal(sb->n_control_input, 2);
    assert_string_equal(sb->control_input[1]->name, "READY");
    assert_int_equal(sb->control_input[1]->control[0]->kind,
                     INFERENCE__MODEL_SEQUENCE_BATCHING__CONTROL__KIND__CONTROL_SEQUENCE_READY);
    assert_int_equal(sb->control_input[1]->control[0]->n_int32_false_true, 2);
    assert_int_equal(sb->control_input[1]->control[0]->int32_false_true[1], 1);
    tc__model_config_free(cfg);

    cfg = parse(k_simple_dyna_sequence);
    sb = cfg->sequence_batching;
    assert_int_equal(sb->oldest->max_candidate_sequences, 1024);
    assert_int_equal(sb->control_input[3]->control[0]->data_type,
                     INFERENCE__DATA_TYPE__TYPE_UINT64);
    assert_int_equal(cfg->instance_group[0]->count, 2);
    tc__model_config_free(cfg);

    cfg = parse(k_repeat_int32);
    assert_true(cfg->model_transaction_policy->decoupled);
    assert_int_equal(cfg->input[1]->data_type, INFERENCE__DATA_TYPE__TYPE_UINT32);
    tc__model_config_free(cfg);

    cfg = parse(k_dynamic);
    assert_int_equal(cfg->version_policy->policy_choice_case,
                     INFERENCE__MODEL_VERSION_POLICY__POLICY_CHOICE_SPECIFIC);
    assert_int_equal(cfg->version_policy->specific->n_versions, 2);
    assert_int_equal(cfg->version_policy->specific->versions[1], 3);
    assert_int_equal(cfg->dynamic_batching->default_queue_policy->timeout_action,
                     INFERENCE__MODEL_QUEUE_POLICY__TIMEOUT_ACTION__DELAY);
    tc__model_config_free(cfg);
}

static void normalize_fills_defaults(void **state)
{
    (void)state;
    Inference__ModelConfig *cfg =
        parse_normalized("max_batch_size: 4 dynamic_batching { }\n"
                         "instance_group [ { }, { name: 'g' count: 3 kind: KIND_GPU } ]",
                         "dir_name");
    assert_string_equal(cfg->name, "dir_name");
    assert_int_equal(cfg->version_policy->policy_choice_case,
                     INFERENCE__MODEL_VERSION_POLICY__POLICY_CHOICE_LATEST);
    assert_int_equal(cfg->version_policy->latest->num_versions, 1);
    assert_int_equal(cfg->dynamic_batching->n_preferred_batch_size, 1);
    assert_int_equal(cfg->dynamic_batching->preferred_batch_size[0], 4);
    assert_true(cfg->optimization->input_pinned_memory->enable);
    assert_true(cfg->optimization->output_pinned_memory->enable);
    assert_string_equal(cfg->instance_group[0]->name, "dir_name_0");
    assert_int_equal(cfg->instance_group[0]->count, 1);
    assert_int_equal(cfg->instance_group[0]->kind, INFERENCE__MODEL_INSTANCE_GROUP__KIND__KIND_CPU);
    assert_string_equal(cfg->instance_group[1]->name, "g");
    assert_int_equal(cfg->instance_group[1]->count, 3);
    assert_int_equal(cfg->instance_group[1]->kind, INFERENCE__MODEL_INSTANCE_GROUP__KIND__KIND_GPU);
    tc__model_config_free(cfg);
}

static void normalize_keeps_explicit_values(void **state)
{
    (void)state;
    Inference__ModelConfig *cfg = parse_normalized(k_dynamic, "other");
    assert_string_equal(cfg->name, "custom_identity_int32");
    assert_int_equal(cfg->version_policy->policy_choice_case,
                     INFERENCE__MODEL_VERSION_POLICY__POLICY_CHOICE_SPECIFIC);
    assert_int_equal(cfg->dynamic_batching->n_preferred_batch_size, 2);
    /* A model without instance groups gets one, named after the model. */
    assert_int_equal(cfg->n_instance_group, 1);
    assert_string_equal(cfg->instance_group[0]->name, "custom_identity_int32");
    tc__model_config_free(cfg);

    cfg = parse_normalized("optimization { input_pinned_memory { enable: false } }", "m");
    assert_false(cfg->optimization->input_pinned_memory->enable);
    assert_true(cfg->optimization->output_pinned_memory->enable);
    tc__model_config_free(cfg);
}

static void normalize_sequence_defaults(void **state)
{
    (void)state;
    Inference__ModelConfig *cfg =
        parse_normalized("max_batch_size: 2 sequence_batching { oldest { } }", "s");
    assert_int_equal(cfg->sequence_batching->max_sequence_idle_microseconds, 1000000);
    assert_int_equal(cfg->sequence_batching->oldest->n_preferred_batch_size, 1);
    assert_int_equal(cfg->sequence_batching->oldest->preferred_batch_size[0], 2);
    tc__model_config_free(cfg);

    cfg = parse_normalized(k_simple_sequence, "x");
    assert_int_equal(cfg->sequence_batching->max_sequence_idle_microseconds, 5000000);
    tc__model_config_free(cfg);

    /* No batching: no preferred size is invented. */
    cfg = parse_normalized("dynamic_batching { }", "d");
    assert_int_equal(cfg->dynamic_batching->n_preferred_batch_size, 0);
    tc__model_config_free(cfg);
}

static void normalize_leaves_ensembles_alone(void **state)
{
    (void)state;
    Inference__ModelConfig *cfg = parse_normalized(
        "platform: 'ensemble' ensemble_scheduling { step [ { model_name: 'a' model_version: -1 "
        "input_map { key: 'IN' value: 'x' } } ] }",
        "ens");
    assert_null(cfg->optimization);
    assert_int_equal(cfg->n_instance_group, 0);
    assert_int_equal(cfg->ensemble_scheduling->step[0]->model_version, -1);
    tc__model_config_free(cfg);
}

static void normalize_rejects_invalid(void **state)
{
    (void)state;
    const struct {
        const char *text;
        const char *msg;
    } cases[] = {
        {"max_batch_size: -1", "max_batch_size"},
        {"input { name: 'a' }", "input 'a' must specify a valid 'data_type'"},
        {"input { data_type: TYPE_FP32 }", "input must specify 'name'"},
        {"output { name: 'o' data_type: TYPE_FP32 dims: [ -2 ] }", "must be >= -1"},
        {"input [ { name: 'a' data_type: TYPE_FP32 }, { name: 'a' data_type: TYPE_FP32 } ]",
         "duplicate input name 'a'"},
        {"output [ { name: 'a' data_type: TYPE_BOOL }, { name: 'a' data_type: TYPE_BOOL } ]",
         "duplicate output name 'a'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Inference__ModelConfig *cfg = parse(cases[i].text);
        tc__error err = {TC_OK, ""};
        assert_int_equal(tc__model_config_normalize(cfg, "m", &err), TC_E_INVALID_ARG);
        if (strstr(err.msg, cases[i].msg) == NULL)
            fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, cases[i].msg);
        tc__model_config_free(cfg);
    }
}

static void to_json_exact_small_config(void **state)
{
    (void)state;
    Inference__ModelConfig *cfg = parse("name: 'tiny' backend: 'python'\n"
                                        "input { name: 'IN' data_type: TYPE_STRING dims: [-1] }\n"
                                        "model_transaction_policy { decoupled: true }");
    tc__buf b = TC__BUF_INIT;
    assert_string_equal(
        json_of(cfg, &b),
        "{\"name\":\"tiny\",\"platform\":\"\",\"max_batch_size\":0,"
        "\"input\":[{\"name\":\"IN\",\"data_type\":\"TYPE_STRING\",\"format\":\"FORMAT_NONE\","
        "\"dims\":[-1],\"is_shape_tensor\":false,\"allow_ragged_batch\":false,\"optional\":false,"
        "\"is_non_linear_format_io\":false}],\"output\":[],\"instance_group\":[],"
        "\"default_model_filename\":\"\",\"cc_model_filenames\":{},\"metric_tags\":{},"
        "\"parameters\":{},\"model_warmup\":[],\"backend\":\"python\","
        "\"model_transaction_policy\":{\"decoupled\":true},\"batch_input\":[],\"batch_output\":[],"
        "\"runtime\":\"\"}");
    tc__buf_cleanup(&b);
    tc__model_config_free(cfg);
}

static void to_json_int64_numbers_and_strings(void **state)
{
    (void)state;
    Inference__ModelConfig *cfg = parse(
        "version_policy { specific { versions: [ 2 ] } }\n"
        "dynamic_batching { max_queue_delay_microseconds: 7 priority_queue_policy { key: 3 value { "
        "default_timeout_microseconds: 11 } } }\n"
        "instance_group { secondary_devices { device_id: 5 } }\n"
        "optimization { cuda { graph_spec { input { key: 'i' value { dim: [ 9 ] } } } } }\n"
        "model_warmup { inputs { key: 'w' value { dims: [ 4 ] zero_data: true } } }\n"
        "output { dims: [ 6 ] reshape { shape: [ 2, 3 ] } }");
    tc__buf b = TC__BUF_INIT;
    const char *j = json_of(cfg, &b);
    const char *want[] = {
        "\"versions\":[2]",
        "\"max_queue_delay_microseconds\":7",
        ("\"priority_queue_policy\":{\"3\":{\"timeout_action\":\"REJECT\","
         "\"default_timeout_microseconds\":11,"),
        "\"device_id\":\"5\"",
        "\"input\":{\"i\":{\"dim\":[\"9\"]}}",
        "\"inputs\":{\"w\":{\"data_type\":\"TYPE_INVALID\",\"dims\":[4],\"zero_data\":true}}",
        "\"dims\":[6],\"label_filename\":\"\",\"reshape\":{\"shape\":[2,3]}",
        "\"priority_levels\":0,\"default_priority_level\":0",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        if (strstr(j, want[i]) == NULL)
            fail_msg("%s\nlacks %s", j, want[i]);
    }
    assert_null(strstr(j, "random_data")); /* unset oneof members are omitted */
    tc__buf_cleanup(&b);
    tc__model_config_free(cfg);
}

static void to_json_default_config_is_empty(void **state)
{
    (void)state;
    Inference__ModelConfig *cfg = parse("name: '' max_batch_size: 0");
    tc__buf b = TC__BUF_INIT;
    assert_int_equal(tc__model_config_to_json(cfg, &b), TC_OK);
    assert_int_equal(b.len, 0);
    tc__buf_cleanup(&b);
    tc__model_config_free(cfg);
}

static void json_round_trip(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof k_canonical / sizeof k_canonical[0]; i++) {
        Inference__ModelConfig *cfg = parse_normalized(k_canonical[i], "m");
        tc__buf first = TC__BUF_INIT;
        tc__buf second = TC__BUF_INIT;
        const char *j1 = json_of(cfg, &first);
        Inference__ModelConfig *back = NULL;
        tc__error err = {TC_OK, ""};
        if (tc__model_config_from_json(j1, first.len, &back, &err) != TC_OK)
            fail_msg("config %zu: %s", i, err.msg);
        assert_string_equal(json_of(back, &second), j1);
        tc__buf_cleanup(&first);
        tc__buf_cleanup(&second);
        tc__model_config_free(back);
        tc__model_config_free(cfg);
    }
}

static void from_json_accepts_protobuf_json_forms(void **state)
{
    (void)state;
    const char *json = "{\"name\":\"j\",\"maxBatchSize\":\"4\",\"input\":[{\"name\":\"x\","
                       "\"dataType\":\"type_fp32\",\"dims\":[\"3\",-1],\"format\":2}],"
                       "\"output\":null,\"dynamic_batching\":{\"maxQueueDelayMicroseconds\":5.0},"
                       "\"parameters\":{\"p\":{\"string_value\":\"v\"}},"
                       "\"model_transaction_policy\":{\"decoupled\":true}}  \n";
    Inference__ModelConfig *cfg = NULL;
    tc__error err = {TC_OK, ""};
    if (tc__model_config_from_json(json, strlen(json), &cfg, &err) != TC_OK)
        fail_msg("%s", err.msg);
    assert_string_equal(cfg->name, "j");
    assert_int_equal(cfg->max_batch_size, 4);
    assert_int_equal(cfg->input[0]->data_type, INFERENCE__DATA_TYPE__TYPE_FP32);
    assert_int_equal(cfg->input[0]->format, INFERENCE__MODEL_INPUT__FORMAT__FORMAT_NCHW);
    assert_int_equal(cfg->input[0]->n_dims, 2);
    assert_int_equal(cfg->input[0]->dims[0], 3);
    assert_int_equal(cfg->input[0]->dims[1], -1);
    assert_int_equal(cfg->n_output, 0);
    assert_int_equal(cfg->dynamic_batching->max_queue_delay_microseconds, 5);
    assert_string_equal(cfg->parameters[0]->key, "p");
    assert_string_equal(cfg->parameters[0]->value->string_value, "v");
    assert_true(cfg->model_transaction_policy->decoupled);
    tc__model_config_free(cfg);
}

static void from_json_rejects_bad_input(void **state)
{
    (void)state;
    const struct {
        const char *json;
        const char *msg;
    } cases[] = {
        {"{\"inputs\":[]}", "unknown field 'inputs'"},
        {"{\"input\":[{\"name\":\"a\",\"datatype\":\"FP32\"}]}", "unknown field 'datatype'"},
        {"{\"max_batch_size\":\"x\"}", "max_batch_size"},
        {"{\"max_batch_size\":2147483648}", "out of range"},
        {"{\"max_batch_size\":1.5}", "expected an integer"},
        {"{\"input\":{}}", "expected an array"},
        {"{\"input\":[{\"data_type\":\"TYPE_NOPE\"}]}", "unknown enum name"},
        {"{\"response_cache\":{\"enable\":1}}", "expected true or false"},
        {"{\"name\":5}", "expected a string"},
        {"{\"dynamic_batching\":{},\"sequence_batching\":{}}", "another member of its oneof"},
        {"{\"name\":\"a\"", "invalid JSON"},
        {"{\"name\":\"a\"} x", "invalid JSON"},
        {"[1]", "expected a JSON object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Inference__ModelConfig *cfg = NULL;
        tc__error err = {TC_OK, ""};
        assert_int_equal(
            tc__model_config_from_json(cases[i].json, strlen(cases[i].json), &cfg, &err),
            TC_E_INVALID_ARG);
        assert_null(cfg);
        if (strstr(err.msg, cases[i].msg) == NULL)
            fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, cases[i].msg);
    }
}

static void from_json_empty_is_default(void **state)
{
    (void)state;
    Inference__ModelConfig *cfg = NULL;
    assert_int_equal(tc__model_config_from_json(" \n", 2, &cfg, NULL), TC_OK);
    assert_string_equal(cfg->name, "");
    tc__model_config_free(cfg);
}

static void metadata_from_config(void **state)
{
    (void)state;
    Inference__ModelConfig *cfg = parse(k_simple_string);
    const char *versions[] = {"1", "3"};
    tc__model_metadata md;
    assert_int_equal(tc__model_config_metadata(cfg, versions, 2, &md), TC_OK);
    assert_string_equal(md.name, "simple_string");
    assert_string_equal(md.platform, "python");
    assert_int_equal(md.version_count, 2);
    assert_string_equal(md.versions[1], "3");
    assert_int_equal(md.input_count, 2);
    assert_int_equal(md.inputs[0].dtype, TC_DTYPE_BYTES);
    assert_int_equal(md.inputs[0].ndim, 2);
    assert_int_equal(md.inputs[0].shape[0], -1);
    assert_int_equal(md.inputs[0].shape[1], 16);
    assert_string_equal(md.outputs[1].name, "OUTPUT1");
    tc__model_metadata_cleanup(&md);
    tc__model_config_free(cfg);

    cfg = parse(k_repeat_int32);
    assert_int_equal(tc__model_config_metadata(cfg, NULL, 0, &md), TC_OK);
    assert_string_equal(md.platform, "repeat");
    assert_int_equal(md.version_count, 0);
    assert_int_equal(md.inputs[1].dtype, TC_DTYPE_UINT32);
    assert_int_equal(md.inputs[1].ndim, 1);
    assert_int_equal(md.inputs[1].shape[0], -1);
    assert_int_equal(md.outputs[0].shape[0], 1);
    tc__model_metadata_cleanup(&md);
    tc__model_config_free(cfg);

    cfg = parse(k_simple);
    assert_int_equal(tc__model_config_metadata(cfg, NULL, 0, &md), TC_OK);
    assert_string_equal(md.platform, "tensorflow_graphdef");
    tc__model_metadata_cleanup(&md);
    tc__model_config_free(cfg);
}

/* Every step run with allocation n failing: each returns TC_OK or
 * TC_E_NOMEM and leaks nothing (checked under ASan and valgrind). */
static tc_code pipeline(const char *json)
{
    Inference__ModelConfig *cfg = NULL;
    tc__buf b = TC__BUF_INIT;
    tc__model_metadata md;
    const char *versions[] = {"1"};
    tc_code rc = tc__model_config_from_json(json, strlen(json), &cfg, NULL);
    if (rc == TC_OK)
        rc = tc__model_config_normalize(cfg, "m", NULL);
    if (rc == TC_OK)
        rc = tc__model_config_to_json(cfg, &b);
    if (rc == TC_OK)
        rc = tc__model_config_metadata(cfg, versions, 1, &md);
    if (rc == TC_OK)
        tc__model_metadata_cleanup(&md);
    tc__buf_cleanup(&b);
    tc__model_config_free(cfg);
    return rc;
}

static void failing_allocations_are_clean(void **state)
{
    (void)state;
    const char *json =
        "{\"max_batch_size\":2,\"input\":[{\"name\":\"a\",\"data_type\":\"TYPE_FP32\","
        "\"dims\":[1,2]}],\"sequence_batching\":{\"oldest\":{}},"
        "\"parameters\":{\"k\":{\"string_value\":\"v\"}}}";
    bool succeeded = false;
    for (unsigned long n = 1; n < 300 && !succeeded; n++) {
        tc__alloc_fail_after(n);
        tc_code rc = pipeline(json);
        tc__alloc_fail_after(0);
        if (rc == TC_OK)
            succeeded = true;
        else
            assert_int_equal(rc, TC_E_NOMEM);
    }
    assert_true(succeeded);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(canonical_configs_parse),
    cmocka_unit_test(normalize_fills_defaults),
    cmocka_unit_test(normalize_keeps_explicit_values),
    cmocka_unit_test(normalize_sequence_defaults),
    cmocka_unit_test(normalize_leaves_ensembles_alone),
    cmocka_unit_test(normalize_rejects_invalid),
    cmocka_unit_test(to_json_exact_small_config),
    cmocka_unit_test(to_json_int64_numbers_and_strings),
    cmocka_unit_test(to_json_default_config_is_empty),
    cmocka_unit_test(json_round_trip),
    cmocka_unit_test(from_json_accepts_protobuf_json_forms),
    cmocka_unit_test(from_json_rejects_bad_input),
    cmocka_unit_test(from_json_empty_is_default),
    cmocka_unit_test(metadata_from_config),
    cmocka_unit_test(failing_allocations_are_clean),
};

TC_TEST_MAIN(tests)
