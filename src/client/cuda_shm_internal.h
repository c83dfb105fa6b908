/* Test hook of cuda_shm.c. */
#ifndef TC_SRC_CLIENT_CUDA_SHM_INTERNAL_H
#define TC_SRC_CLIENT_CUDA_SHM_INTERNAL_H

/* Forget any loaded CUDA runtime and try `names` (a NULL-terminated list of
 * dlopen() names; NULL = the default list) on the next CUDA call. For tests
 * (e.g. {"libnot-there.so", NULL} forces the "not available" path); call it
 * while no CUDA region exists. */
void tc__cuda_set_library_names(const char *const *names);

#endif /* TC_SRC_CLIENT_CUDA_SHM_INTERNAL_H */
