/* Shared-memory mode of tritonc-perf (--shared-memory system|cuda), as
 * perf_analyzer runs it: every slot (one outstanding request) owns one
 * region per input, holding the data of every data step back to back (so a
 * request only names an offset), and one region per output of
 * --output-shared-memory-size bytes. The regions are created, filled and
 * registered with the server up front; each slot gets its own request per
 * data step pointing into its regions. Outputs are never read back (the
 * tool validates nothing). Teardown unregisters every region and destroys
 * it (system regions' names are unlinked). */
#ifndef TC_TOOLS_PERF_PERF_SHM_H
#define TC_TOOLS_PERF_PERF_SHM_H

#include <stdbool.h>
#include <stddef.h>

#include <tritonc/tritonc.h>

#include "load.h"

typedef struct perf_shm_set perf_shm_set;

/* Create and register the regions of `nslots` slots through `client` and
 * build their requests. False with a message in `err` (everything made so
 * far is undone); for cuda without a usable CUDA runtime the message says
 * so. */
bool perf_shm_new(perf_shm_set **out, const perf_load_config *cfg, size_t nslots, tc_client *client,
                  char *err, size_t errlen);

/* The next request of slot `slot`, cycling through the data steps. Calls
 * for one slot must be serialized. */
tc_request *perf_shm_next_request(perf_shm_set *shm, size_t slot);

/* Unregister every region through `client` (NULL: skip), destroy them and
 * free the requests. NULL does nothing. */
void perf_shm_free(perf_shm_set *shm, tc_client *client);

/* Prefix of the region names and keys of this process
 * ("tcperf_<pid>_"); the keys are "/" + name. */
void perf_shm_prefix(char *buf, size_t len);

#endif /* TC_TOOLS_PERF_PERF_SHM_H */
