/* image_client preprocessing: PIL-compatible bilinear resize (hand-computed
 * cases and Pillow 9.4 references), channel conversion, scaling, layouts,
 * datatypes and decoding files. */
#include "tc_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "preprocess.h"

static ic_image gray(size_t w, size_t h, const uint8_t *px)
{
    ic_image img = {w, h, 1, malloc(w * h)};
    memcpy(img.pixels, px, w * h);
    return img;
}

static void expect_resize(const ic_image *src, size_t w, size_t h, const uint8_t *want)
{
    ic_image out = {0};
    assert_int_equal(ic_image_resize(src, w, h, &out), 0);
    assert_int_equal(out.width, w);
    assert_int_equal(out.height, h);
    assert_memory_equal(out.pixels, want, w * h * src->channels);
    ic_image_cleanup(&out);
}

/* 4 -> 2: scale 2, so the triangle spans 2 source pixels each side of the
 * output centre (1.0 and 3.0). Output 0 takes source 0,1,2 with weights
 * 0.75, 0.75, 0.25 (normalised 3/7, 3/7, 1/7): (0*3 + 70*3 + 140)/7 = 50;
 * output 1: (70 + 140*3 + 210*3)/7 = 160. A two-tap bilinear would give 35
 * and 175. */
static void test_resize_down_1d(void **state)
{
    (void)state;
    static const uint8_t px[] = {0, 70, 140, 210};
    static const uint8_t want[] = {50, 160};
    ic_image img = gray(4, 1, px);
    expect_resize(&img, 2, 1, want);
    ic_image_cleanup(&img);
}

/* 2 -> 4: support 1; centres 0.25, 0.75, 1.25, 1.75 map to
 * [p0, .75 p0 + .25 p1, .25 p0 + .75 p1, p1] (edges clamp to one tap). */
static void test_resize_up_1d(void **state)
{
    (void)state;
    static const uint8_t px[] = {0, 100};
    static const uint8_t want[] = {0, 25, 75, 100};
    ic_image img = gray(2, 1, px);
    expect_resize(&img, 4, 1, want);
    ic_image_cleanup(&img);
    /* The same along y. */
    img = gray(1, 2, px);
    expect_resize(&img, 1, 4, want);
    ic_image_cleanup(&img);
}

static const uint8_t g_5x3[] = {10, 200, 30, 40, 250, 0, 255, 128, 64, 32, 90, 80, 70, 60, 50};

/* Pillow 9.4: Image.fromarray(a).resize(size, Image.BILINEAR) on g_5x3. */
static void test_resize_matches_pillow(void **state)
{
    (void)state;
    ic_image img = gray(5, 3, g_5x3);
    static const uint8_t w3x2[] = {98, 97, 117, 95, 97, 51};
    static const uint8_t w2x2[] = {110, 99, 101, 66};
    static const uint8_t w7x4[] = {10, 119, 151, 30,  37, 130, 250, 4,  136, 194, 91, 65, 80, 114,
                                   34, 123, 166, 106, 75, 52,  39,  90, 84,  77,  70, 63, 56, 50};
    static const uint8_t w1x1[] = {94};
    expect_resize(&img, 3, 2, w3x2);
    expect_resize(&img, 2, 2, w2x2);
    expect_resize(&img, 7, 4, w7x4);
    expect_resize(&img, 1, 1, w1x1);
    expect_resize(&img, 5, 3, g_5x3); /* same size: a copy */
    ic_image_cleanup(&img);
}

/* Channels are resampled independently. */
static void test_resize_rgb(void **state)
{
    (void)state;
    ic_image rgb = {4, 1, 3, malloc(12)};
    static const uint8_t px[] = {0, 10, 255, 70, 10, 255, 140, 10, 255, 210, 10, 255};
    memcpy(rgb.pixels, px, sizeof px);
    static const uint8_t want[] = {50, 10, 255, 160, 10, 255};
    expect_resize(&rgb, 2, 1, want);
    ic_image_cleanup(&rgb);
}

static void test_resize_errors(void **state)
{
    (void)state;
    ic_image img = gray(5, 3, g_5x3);
    ic_image out = {0};
    assert_int_equal(ic_image_resize(&img, 0, 2, &out), -1);
    assert_int_equal(ic_image_resize(&img, 2, 0, &out), -1);
    assert_null(out.pixels);
    ic_image_cleanup(&img);
    ic_image_cleanup(NULL);
}

/* PIL's convert('L'): (R*19595 + G*38470 + B*7471 + 0x8000) >> 16. */
static void test_convert_channels(void **state)
{
    (void)state;
    static const uint8_t px[] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255};
    ic_image rgb = {2, 2, 3, malloc(12)};
    memcpy(rgb.pixels, px, sizeof px);
    ic_image l = {0};
    assert_int_equal(ic_image_convert(&rgb, 1, &l), 0);
    static const uint8_t want_l[] = {76, 150, 29, 255};
    assert_memory_equal(l.pixels, want_l, 4);
    ic_image back = {0};
    assert_int_equal(ic_image_convert(&l, 3, &back), 0);
    static const uint8_t want_rgb[] = {76, 76, 76, 150, 150, 150, 29, 29, 29, 255, 255, 255};
    assert_memory_equal(back.pixels, want_rgb, 12);
    /* RGBA: alpha dropped. Gray + alpha to RGB. */
    static const uint8_t rgba_px[] = {10, 20, 30, 0};
    ic_image rgba = {1, 1, 4, malloc(4)};
    memcpy(rgba.pixels, rgba_px, 4);
    ic_image out = {0};
    assert_int_equal(ic_image_convert(&rgba, 1, &out), 0);
    assert_int_equal(out.pixels[0], 18); /* Pillow: 18 */
    ic_image_cleanup(&out);
    assert_int_equal(ic_image_convert(&rgba, 2, &out), -1);
    ic_image_cleanup(&rgba);
    ic_image_cleanup(&back);
    ic_image_cleanup(&l);
    ic_image_cleanup(&rgb);
}

static float f32_at(const uint8_t *buf, size_t i)
{
    float f;
    memcpy(&f, buf + 4 * i, 4);
    return f;
}

/* A 2x1 RGB image: pixel 0 = (0, 127, 255), pixel 1 = (123, 117, 104). */
static ic_image two_pixels(void)
{
    static const uint8_t px[] = {0, 127, 255, 123, 117, 104};
    ic_image img = {2, 1, 3, malloc(6)};
    memcpy(img.pixels, px, 6);
    return img;
}

static void test_layout_nchw_nhwc(void **state)
{
    (void)state;
    ic_image img = two_pixels();
    uint8_t buf[24];
    assert_int_equal(ic_tensor_byte_size(&img, TC_DTYPE_FP32), 24);
    assert_int_equal(
        ic_image_to_tensor(&img, IC_FORMAT_NHWC, IC_SCALING_NONE, TC_DTYPE_FP32, buf, sizeof buf),
        0);
    static const float hwc[] = {0, 127, 255, 123, 117, 104};
    for (size_t i = 0; i < 6; i++)
        assert_true(f32_at(buf, i) == hwc[i]);
    assert_int_equal(
        ic_image_to_tensor(&img, IC_FORMAT_NCHW, IC_SCALING_NONE, TC_DTYPE_FP32, buf, sizeof buf),
        0);
    static const float chw[] = {0, 123, 127, 117, 255, 104};
    for (size_t i = 0; i < 6; i++)
        assert_true(f32_at(buf, i) == chw[i]);
    /* Wrong size or type. */
    assert_int_equal(
        ic_image_to_tensor(&img, IC_FORMAT_NCHW, IC_SCALING_NONE, TC_DTYPE_FP32, buf, 20), -1);
    assert_int_equal(
        ic_image_to_tensor(&img, IC_FORMAT_NCHW, IC_SCALING_NONE, TC_DTYPE_BYTES, buf, 24), -1);
    ic_image_cleanup(&img);
}

static void test_scaling(void **state)
{
    (void)state;
    ic_image img = two_pixels();
    uint8_t buf[24];
    assert_int_equal(ic_image_to_tensor(&img, IC_FORMAT_NHWC, IC_SCALING_INCEPTION, TC_DTYPE_FP32,
                                        buf, sizeof buf),
                     0);
    assert_true(f32_at(buf, 0) == -1.0f);
    assert_true(f32_at(buf, 1) == 127.0f / 127.5f - 1.0f);
    assert_true(f32_at(buf, 2) == 1.0f);
    /* VGG subtracts (123, 117, 104) in RGB order, as upstream does. */
    assert_int_equal(
        ic_image_to_tensor(&img, IC_FORMAT_NHWC, IC_SCALING_VGG, TC_DTYPE_FP32, buf, sizeof buf),
        0);
    static const float vgg[] = {-123, 10, 151, 0, 0, 0};
    for (size_t i = 0; i < 6; i++)
        assert_true(f32_at(buf, i) == vgg[i]);
    /* Grayscale VGG subtracts 128. */
    ic_image g = {1, 1, 1, malloc(1)};
    g.pixels[0] = 100;
    assert_int_equal(ic_image_to_tensor(&g, IC_FORMAT_NCHW, IC_SCALING_VGG, TC_DTYPE_FP32, buf, 4),
                     0);
    assert_true(f32_at(buf, 0) == -28.0f);
    ic_image_cleanup(&g);
    ic_scaling s;
    assert_int_equal(ic_scaling_parse("INCEPTION", &s), 0);
    assert_int_equal(s, IC_SCALING_INCEPTION);
    assert_int_equal(ic_scaling_parse("VGG", &s), 0);
    assert_int_equal(ic_scaling_parse("NONE", &s), 0);
    assert_int_equal(s, IC_SCALING_NONE);
    assert_int_equal(ic_scaling_parse("vgg", &s), -1);
    ic_image_cleanup(&img);
}

/* Integer types saturate; FP16 rounds to nearest even; FP64 in double. */
static void test_datatypes(void **state)
{
    (void)state;
    ic_image img = two_pixels();
    uint8_t buf[48];
    assert_int_equal(
        ic_image_to_tensor(&img, IC_FORMAT_NHWC, IC_SCALING_NONE, TC_DTYPE_UINT8, buf, 6), 0);
    static const uint8_t u8[] = {0, 127, 255, 123, 117, 104};
    assert_memory_equal(buf, u8, 6);
    assert_int_equal(
        ic_image_to_tensor(&img, IC_FORMAT_NHWC, IC_SCALING_NONE, TC_DTYPE_INT8, buf, 6), 0);
    assert_int_equal((int8_t)buf[2], 127); /* 255 saturates */
    assert_int_equal(
        ic_image_to_tensor(&img, IC_FORMAT_NHWC, IC_SCALING_VGG, TC_DTYPE_INT8, buf, 6), 0);
    assert_int_equal((int8_t)buf[0], -123);
    assert_int_equal(
        ic_image_to_tensor(&img, IC_FORMAT_NHWC, IC_SCALING_VGG, TC_DTYPE_INT16, buf, 12), 0);
    assert_int_equal((int16_t)(buf[4] | buf[5] << 8), 151);
    assert_int_equal(
        ic_image_to_tensor(&img, IC_FORMAT_NHWC, IC_SCALING_VGG, TC_DTYPE_UINT8, buf, 6), 0);
    assert_int_equal(buf[0], 0); /* -123 saturates */
    assert_int_equal(
        ic_image_to_tensor(&img, IC_FORMAT_NHWC, IC_SCALING_INCEPTION, TC_DTYPE_FP64, buf, 48), 0);
    double d;
    memcpy(&d, buf + 8, 8);
    assert_true(d == 127.0 / 127.5 - 1.0);
    assert_int_equal(
        ic_image_to_tensor(&img, IC_FORMAT_NHWC, IC_SCALING_NONE, TC_DTYPE_FP16, buf, 12), 0);
    assert_int_equal(buf[4] | buf[5] << 8, 0x5bf8); /* 255.0 */
    ic_image_cleanup(&img);
}

/* Values checked against numpy's float16 conversion. */
static void test_half(void **state)
{
    (void)state;
    assert_int_equal(ic_half_from_float(0.0f), 0);
    assert_int_equal(ic_half_from_float(-0.0f), 0x8000);
    assert_int_equal(ic_half_from_float(1.0f), 0x3c00);
    assert_int_equal(ic_half_from_float(-1.0f), 48128);
    assert_int_equal(ic_half_from_float(100.0f / 127.5f - 1.0f), 45799);
    assert_int_equal(ic_half_from_float(65504.0f), 31743);
    assert_int_equal(ic_half_from_float(1e6f), 0x7c00);
    assert_int_equal(ic_half_from_float(1e-7f), 2);       /* subnormal */
    assert_int_equal(ic_half_from_float(2049.0f), 26624); /* tie to even: 2048 */
    assert_int_equal(ic_half_from_float(2051.0f), 26626); /* tie to even: 2052 */
    assert_int_equal(ic_half_from_float(INFINITY), 0x7c00);
    assert_true((ic_half_from_float(NAN) & 0x7c00) == 0x7c00 &&
                (ic_half_from_float(NAN) & 0x3ff) != 0);
}

/* A 28x28 grayscale PNG of the project (tools/digits), values from Pillow. */
static void test_load_png(void **state)
{
    (void)state;
    const char *path = TC_DIGITS_DIR "/images/digit_3_705.png";
    char err[256];
    ic_image img = {0};
    assert_true(ic_is_image_file(path));
    assert_int_equal(ic_image_load(path, 1, &img, err, sizeof err), 0);
    assert_int_equal(img.width, 28);
    assert_int_equal(img.height, 28);
    assert_int_equal(img.channels, 1);
    unsigned long sum = 0;
    for (size_t i = 0; i < 28 * 28; i++)
        sum += img.pixels[i];
    assert_int_equal(sum, 65201);
    static const uint8_t row14[] = {0,   0,   0,   0,   0,   0,   0,   0,   0,   9,  20, 31, 48, 80,
                                    112, 144, 169, 190, 212, 219, 185, 151, 117, 85, 54, 23, 0,  0};
    assert_memory_equal(img.pixels + 14 * 28, row14, 28);
    ic_image_cleanup(&img);
    /* As RGB, resized to 10x10: Pillow gives a sum of 24981. */
    assert_int_equal(ic_image_load(path, 3, &img, err, sizeof err), 0);
    ic_image small = {0};
    assert_int_equal(ic_image_resize(&img, 10, 10, &small), 0);
    sum = 0;
    for (size_t i = 0; i < 300; i++)
        sum += small.pixels[i];
    assert_int_equal(sum, 24981);
    static const uint8_t row5[] = {0, 0, 0, 7, 36, 109, 191, 180, 92, 13};
    for (size_t x = 0; x < 10; x++)
        assert_int_equal(small.pixels[(5 * 10 + x) * 3], row5[x]);
    ic_image_cleanup(&small);
    ic_image_cleanup(&img);
}

/* A 24-bit BMP written here: 2x2, bottom-up rows padded to 4 bytes, BGR. */
static void write_bmp(const char *path)
{
    static const uint8_t header[54] = {
        'B', 'M', 70, 0, 0,    0,    0, 0, 0,    0,    54, 0, 0, 0, /* file header */
        40,  0,   0,  0, 2,    0,    0, 0, 2,    0,    0,  0, 1, 0, 24, 0, 0, 0, 0, 0,
        16,  0,   0,  0, 0x13, 0x0b, 0, 0, 0x13, 0x0b, 0,  0, 0, 0, 0,  0, 0, 0, 0, 0};
    /* bottom row: blue, white; top row: red, green (stored BGR). */
    static const uint8_t rows[16] = {255, 0, 0, 255, 255, 255, 0, 0, 0, 0, 255, 0, 255, 0, 0, 0};
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(header, 1, sizeof header, f), sizeof header);
    assert_int_equal(fwrite(rows, 1, sizeof rows, f), sizeof rows);
    assert_int_equal(fclose(f), 0);
}

static void test_load_bmp_and_pipeline(void **state)
{
    (void)state;
    char dir[] = "/tmp/ic_pre_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/rgb.bmp", dir);
    write_bmp(path);
    char err[256];
    ic_image img = {0};
    assert_int_equal(ic_image_load(path, 3, &img, err, sizeof err), 0);
    static const uint8_t want[] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255};
    assert_memory_equal(img.pixels, want, 12);
    ic_image_cleanup(&img);
    /* load (gray) + same size + NCHW + UINT8 */
    uint8_t *t = NULL;
    size_t n = 0;
    assert_int_equal(ic_preprocess_file(path, 1, 2, 2, IC_FORMAT_NCHW, IC_SCALING_NONE,
                                        TC_DTYPE_UINT8, &t, &n, err, sizeof err),
                     0);
    static const uint8_t want_l[] = {76, 150, 29, 255};
    assert_int_equal(n, 4);
    assert_memory_equal(t, want_l, 4);
    free(t);
    /* resized to 1x1 FP32 NHWC */
    assert_int_equal(ic_preprocess_file(path, 3, 1, 1, IC_FORMAT_NHWC, IC_SCALING_NONE,
                                        TC_DTYPE_FP32, &t, &n, err, sizeof err),
                     0);
    assert_int_equal(n, 12);
    free(t);
    /* not an image */
    snprintf(path, sizeof path, "%s/note.txt", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("hello\n", f);
    fclose(f);
    assert_false(ic_is_image_file(path));
    assert_int_equal(ic_image_load(path, 3, &img, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot decode image"));
    assert_int_equal(unlink(path), 0);
    snprintf(path, sizeof path, "%s/rgb.bmp", dir);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_resize_down_1d),
    cmocka_unit_test(test_resize_up_1d),
    cmocka_unit_test(test_resize_matches_pillow),
    cmocka_unit_test(test_resize_rgb),
    cmocka_unit_test(test_resize_errors),
    cmocka_unit_test(test_convert_channels),
    cmocka_unit_test(test_layout_nchw_nhwc),
    cmocka_unit_test(test_scaling),
    cmocka_unit_test(test_datatypes),
    cmocka_unit_test(test_half),
    cmocka_unit_test(test_load_png),
    cmocka_unit_test(test_load_bmp_and_pipeline),
};

TC_TEST_MAIN(tests)
