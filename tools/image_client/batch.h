/* Which files image_client reads and which image goes in which request. */
#ifndef TC_TOOLS_IMAGE_CLIENT_BATCH_H
#define TC_TOOLS_IMAGE_CLIENT_BATCH_H

#include <stddef.h>

/* The image files named by `path`: the file itself, or every regular file
 * of the folder that stb_image can decode, sorted by name (strcmp order,
 * as Python's sorted()). `*out` is a malloc'ed array of malloc'ed paths;
 * free it with ic_paths_free(). Returns 0, or -1 with a message in `err`
 * (missing path, unreadable folder, no image in the folder). */
int ic_list_images(const char *path, char ***out, size_t *count, char *err, size_t err_size);

void ic_paths_free(char **paths, size_t count);

/* Number of requests for `images` images in batches of `batch`: every
 * image once, the last batch filled by starting over from the first image
 * (as upstream does), so ceil(images / batch). */
size_t ic_batch_count(size_t images, size_t batch);

/* Index of the image in slot `slot` of request `request`. */
size_t ic_batch_image(size_t request, size_t slot, size_t batch, size_t images);

#endif /* TC_TOOLS_IMAGE_CLIENT_BATCH_H */
