/* image_client flags: upstream's short and long forms, defaults, errors. */
#include "tc_test.h"

#include <string.h>

#include "options.h"

/* Parse a NULL-terminated list of arguments (argv[0] added here). */
static int parse(ic_options *o, char *err, size_t err_size, const char *const *args)
{
    char *argv[32] = {"image_client"};
    int argc = 1;
    while (args[argc - 1] != NULL && argc < 31) {
        argv[argc] = (char *)args[argc - 1];
        argc++;
    }
    err[0] = '\0';
    return ic_options_parse(argc, argv, o, err, err_size);
}

static void test_defaults(void **state)
{
    (void)state;
    ic_options o;
    char err[256];
    static const char *const a[] = {"-m", "densenet_onnx", "img.jpg", NULL};
    assert_int_equal(parse(&o, err, sizeof err, a), 0);
    assert_string_equal(o.model_name, "densenet_onnx");
    assert_string_equal(o.model_version, "");
    assert_int_equal(o.batch_size, 1);
    assert_int_equal(o.classes, 1);
    assert_int_equal(o.scaling, IC_SCALING_NONE);
    assert_int_equal(o.protocol, IC_PROTOCOL_HTTP);
    assert_string_equal(o.url, "localhost:8000");
    assert_false(o.async);
    assert_false(o.streaming);
    assert_false(o.verbose);
    assert_string_equal(o.image_path, "img.jpg");
}

static void test_short_forms(void **state)
{
    (void)state;
    ic_options o;
    char err[256];
    static const char *const a[] = {"-m",        "m",  "-x",  "2",  "-b4",  "-c",  "3",   "-s",
                                    "INCEPTION", "-u", "h:1", "-i", "gRPC", "-av", "dir", NULL};
    assert_int_equal(parse(&o, err, sizeof err, a), 0);
    assert_string_equal(o.model_version, "2");
    assert_int_equal(o.batch_size, 4);
    assert_int_equal(o.classes, 3);
    assert_int_equal(o.scaling, IC_SCALING_INCEPTION);
    assert_string_equal(o.url, "h:1");
    assert_int_equal(o.protocol, IC_PROTOCOL_GRPC);
    assert_true(o.async);
    assert_true(o.verbose);
    assert_string_equal(o.image_path, "dir");
}

static void test_long_forms(void **state)
{
    (void)state;
    ic_options o;
    char err[256];
    static const char *const a[] = {
        "--model-name=m", "--model-version", "3",   "--batch-size",    "2",
        "--classes=5",    "--scaling",       "VGG", "--protocol=grpc", "--async",
        "--streaming",    "--verbose",       "--",  "-odd-name.png",   NULL};
    assert_int_equal(parse(&o, err, sizeof err, a), 0);
    assert_string_equal(o.model_name, "m");
    assert_string_equal(o.model_version, "3");
    assert_int_equal(o.batch_size, 2);
    assert_int_equal(o.classes, 5);
    assert_int_equal(o.scaling, IC_SCALING_VGG);
    assert_int_equal(o.protocol, IC_PROTOCOL_GRPC);
    assert_string_equal(o.url, "localhost:8001"); /* gRPC's default port */
    assert_true(o.streaming);
    assert_string_equal(o.image_path, "-odd-name.png");
    static const char *const b[] = {"--url", "x:9", "-m", "m", "--protocol", "HTTP", "i", NULL};
    assert_int_equal(parse(&o, err, sizeof err, b), 0);
    assert_string_equal(o.url, "x:9");
    assert_int_equal(o.protocol, IC_PROTOCOL_HTTP);
}

static void test_help(void **state)
{
    (void)state;
    ic_options o;
    char err[256];
    static const char *const a[] = {"-h", NULL};
    assert_int_equal(parse(&o, err, sizeof err, a), 0);
    assert_true(o.help);
    assert_non_null(strstr(ic_usage(), "--model-name"));
}

static void expect_error(const char *const *args, const char *needle)
{
    ic_options o;
    char err[256];
    assert_int_equal(parse(&o, err, sizeof err, args), -1);
    if (strstr(err, needle) == NULL)
        fail_msg("error \"%s\" lacks \"%s\"", err, needle);
}

static void test_errors(void **state)
{
    (void)state;
    static const char *const no_model[] = {"img.jpg", NULL};
    expect_error(no_model, "required: -m/--model-name");
    static const char *const no_image[] = {"-m", "m", NULL};
    expect_error(no_image, "image file or folder is required");
    static const char *const bad_batch[] = {"-m", "m", "-b", "two", "i", NULL};
    expect_error(bad_batch, "argument -b/--batch-size: invalid int value: 'two'");
    static const char *const zero_batch[] = {"-m", "m", "-b", "0", "i", NULL};
    expect_error(zero_batch, "-b/--batch-size: must be at least 1");
    static const char *const bad_classes[] = {"-m", "m", "--classes=3x", "i", NULL};
    expect_error(bad_classes, "argument -c/--classes: invalid int value: '3x'");
    static const char *const bad_scaling[] = {"-m", "m", "-s", "vgg", "i", NULL};
    expect_error(bad_scaling, "argument -s/--scaling: invalid choice: 'vgg'");
    static const char *const bad_proto[] = {"-m", "m", "-i", "ftp", "i", NULL};
    expect_error(bad_proto, "argument -i/--protocol: invalid choice: 'ftp'");
    static const char *const stream_http[] = {"-m", "m", "--streaming", "i", NULL};
    expect_error(stream_http, "Streaming is only allowed with gRPC protocol");
    static const char *const missing_value[] = {"-m", "m", "i", "-u", NULL};
    expect_error(missing_value, "argument -u/--url: expected one argument");
    static const char *const missing_long[] = {"i", "--model-name", NULL};
    expect_error(missing_long, "argument --model-name: expected one argument");
    static const char *const unknown[] = {"-m", "m", "--colour", "i", NULL};
    expect_error(unknown, "unrecognized argument: --colour");
    static const char *const unknown_short[] = {"-m", "m", "-q", "i", NULL};
    expect_error(unknown_short, "unrecognized argument: -q");
    static const char *const two_images[] = {"-m", "m", "a", "b", NULL};
    expect_error(two_images, "unrecognized arguments: b");
    static const char *const flag_value[] = {"-m", "m", "--async=yes", "i", NULL};
    expect_error(flag_value, "argument --async: ignored explicit argument 'yes'");
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_defaults),   cmocka_unit_test(test_short_forms),
    cmocka_unit_test(test_long_forms), cmocka_unit_test(test_help),
    cmocka_unit_test(test_errors),
};

TC_TEST_MAIN(tests)
