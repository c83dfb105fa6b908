/* Image listing and batching of image_client; see batch.h. */
#include "batch.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "preprocess.h"

void ic_paths_free(char **paths, size_t count)
{
    if (paths == NULL)
        return;
    for (size_t i = 0; i < count; i++)
        free(paths[i]);
    free(paths);
}

static char *join(const char *dir, const char *name)
{
    size_t dl = strlen(dir);
    size_t nl = strlen(name);
    bool slash = dl > 0 && dir[dl - 1] == '/';
    char *p = malloc(dl + nl + 2);
    if (p == NULL)
        return NULL;
    memcpy(p, dir, dl);
    if (!slash)
        p[dl++] = '/';
    memcpy(p + dl, name, nl + 1);
    return p;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int push(char ***list, size_t *count, size_t *cap, char *path)
{
    if (*count == *cap) {
        size_t ncap = *cap == 0 ? 16 : *cap * 2;
        char **n = realloc(*list, ncap * sizeof *n);
        if (n == NULL)
            return -1;
        *list = n;
        *cap = ncap;
    }
    (*list)[(*count)++] = path;
    return 0;
}

static int list_folder(const char *path, char ***out, size_t *count, char *err, size_t err_size)
{
    DIR *d = opendir(path);
    if (d == NULL) {
        snprintf(err, err_size, "cannot read folder '%s': %s", path, strerror(errno));
        return -1;
    }
    char **list = NULL;
    size_t n = 0;
    size_t cap = 0;
    int rc = 0;
    const struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        char *full = join(path, e->d_name);
        struct stat st;
        if (full == NULL) {
            rc = -1;
        } else if (stat(full, &st) != 0 || !S_ISREG(st.st_mode) || !ic_is_image_file(full)) {
            free(full); /* not a file, or not an image (e.g. a labels .txt) */
        } else if (push(&list, &n, &cap, full) != 0) {
            free(full);
            rc = -1;
        }
    }
    closedir(d);
    if (rc != 0) {
        snprintf(err, err_size, "out of memory listing '%s'", path);
    } else if (n == 0) {
        snprintf(err, err_size, "no image found in folder '%s'", path);
        rc = -1;
    }
    if (rc != 0) {
        ic_paths_free(list, n);
        return -1;
    }
    qsort(list, n, sizeof *list, by_name);
    *out = list;
    *count = n;
    return 0;
}

int ic_list_images(const char *path, char ***out, size_t *count, char *err, size_t err_size)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, err_size, "cannot open '%s': %s", path, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode))
        return list_folder(path, out, count, err, err_size);
    char **list = malloc(sizeof *list);
    size_t len = strlen(path);
    char *copy = malloc(len + 1);
    if (list == NULL || copy == NULL) {
        free(list);
        free(copy);
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    memcpy(copy, path, len + 1);
    list[0] = copy;
    *out = list;
    *count = 1;
    return 0;
}

size_t ic_batch_count(size_t images, size_t batch)
{
    if (images == 0 || batch == 0)
        return 0;
    return (images + batch - 1) / batch;
}

size_t ic_batch_image(size_t request, size_t slot, size_t batch, size_t images)
{
    return (request * batch + slot) % images;
}
