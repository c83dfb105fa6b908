/**
 * @file tritonc.h
 * Umbrella header of libtritonc, the C client for Triton Inference Server
 * (KServe v2 protocol). Include this one header to use the whole client API.
 */
#ifndef TC_TRITONC_TRITONC_H
#define TC_TRITONC_TRITONC_H

#include <tritonc/client.h>
#include <tritonc/common.h>
#include <tritonc/grpc.h>
#include <tritonc/http.h>
#include <tritonc/request.h>
#include <tritonc/result.h>
#include <tritonc/shm.h>
#include <tritonc/stream.h>
#include <tritonc/tensor.h>
#include <tritonc/version.h>

#endif /* TC_TRITONC_TRITONC_H */
