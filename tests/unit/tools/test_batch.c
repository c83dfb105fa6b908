/* image_client batching (upstream's padding by starting over) and folder
 * listing (images only, sorted by name). */
#include "tc_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "batch.h"

static void test_batch_count(void **state)
{
    (void)state;
    assert_int_equal(ic_batch_count(10, 1), 10);
    assert_int_equal(ic_batch_count(10, 4), 3);
    assert_int_equal(ic_batch_count(8, 4), 2);
    assert_int_equal(ic_batch_count(2, 4), 1);
    assert_int_equal(ic_batch_count(1, 1), 1);
    assert_int_equal(ic_batch_count(0, 4), 0);
}

/* 3 images, batch 2: [0 1] [2 0]. 2 images, batch 5: [0 1 0 1 0].
 * 10 images, batch 4: the last request is [8 9 0 1]. */
static void test_padding(void **state)
{
    (void)state;
    static const size_t want3x2[] = {0, 1, 2, 0};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(ic_batch_image(i / 2, i % 2, 2, 3), want3x2[i]);
    static const size_t want2x5[] = {0, 1, 0, 1, 0};
    for (size_t s = 0; s < 5; s++)
        assert_int_equal(ic_batch_image(0, s, 5, 2), want2x5[s]);
    static const size_t last[] = {8, 9, 0, 1};
    for (size_t s = 0; s < 4; s++)
        assert_int_equal(ic_batch_image(2, s, 4, 10), last[s]);
}

static void touch(const char *dir, const char *name, const void *data, size_t len)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void remove_in(const char *dir, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_int_equal(unlink(path), 0);
}

/* A 1x1 24-bit BMP. */
static const uint8_t g_bmp[58] = {'B', 'M', 58, 0, 0, 0, 0, 0, 0, 0,  54, 0,  0, 0,  40,
                                  0,   0,   0,  1, 0, 0, 0, 1, 0, 0,  0,  1,  0, 24, 0,
                                  0,   0,   0,  0, 4, 0, 0, 0, 0, 0,  0,  0,  0, 0,  0,
                                  0,   0,   0,  0, 0, 0, 0, 0, 0, 10, 20, 30, 0};

static void test_list_folder(void **state)
{
    (void)state;
    char dir[] = "/tmp/ic_batch_XXXXXX";
    assert_non_null(mkdtemp(dir));
    touch(dir, "b.bmp", g_bmp, sizeof g_bmp);
    touch(dir, "a.bmp", g_bmp, sizeof g_bmp);
    touch(dir, "C.bmp", g_bmp, sizeof g_bmp);
    touch(dir, "labels.txt", "x\n", 2);
    char sub[300];
    snprintf(sub, sizeof sub, "%s/sub.bmp", dir); /* a folder, skipped */
    assert_int_equal(mkdir(sub, 0700), 0);
    char **paths = NULL;
    size_t n = 0;
    char err[256];
    assert_int_equal(ic_list_images(dir, &paths, &n, err, sizeof err), 0);
    assert_int_equal(n, 3);
    char want[300];
    static const char *const order[] = {"C.bmp", "a.bmp", "b.bmp"}; /* strcmp order */
    for (size_t i = 0; i < 3; i++) {
        snprintf(want, sizeof want, "%s/%s", dir, order[i]);
        assert_string_equal(paths[i], want);
    }
    ic_paths_free(paths, n);
    /* One file: itself, whatever it is. */
    snprintf(want, sizeof want, "%s/a.bmp", dir);
    assert_int_equal(ic_list_images(want, &paths, &n, err, sizeof err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(paths[0], want);
    ic_paths_free(paths, n);
    assert_int_equal(rmdir(sub), 0);
    remove_in(dir, "a.bmp");
    remove_in(dir, "b.bmp");
    remove_in(dir, "C.bmp");
    /* No image left. */
    assert_int_equal(ic_list_images(dir, &paths, &n, err, sizeof err), -1);
    assert_non_null(strstr(err, "no image found in folder"));
    remove_in(dir, "labels.txt");
    assert_int_equal(rmdir(dir), 0);
    assert_int_equal(ic_list_images(dir, &paths, &n, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot open"));
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_batch_count),
    cmocka_unit_test(test_padding),
    cmocka_unit_test(test_list_folder),
};

TC_TEST_MAIN(tests)
