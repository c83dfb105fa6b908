/* A backend plugin built for a newer ABI version than the server's:
 * tritonc-server must refuse it with a clear reason, without calling it. */
#include <stddef.h>

#include <tritonc/backend.h>

static const tc_backend_vtable k_vt = {TC_BACKEND_API_VERSION + 1u, NULL, NULL, NULL};

TC_BACKEND_EXPORT const tc_backend_vtable *tc_backend_entry(void)
{
    return &k_vt;
}
