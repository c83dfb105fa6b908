/* The gRPC layer between protobuf and HTTP/2 (GRPC.md sections 8 and 9), no
 * I/O: length-prefixed message framing (1-byte compressed flag + 4-byte
 * big-endian length), per-message gzip/deflate compression, and the header
 * values gRPC defines (grpc-timeout, grpc-message, grpc-status,
 * grpc-encoding, grpc-accept-encoding). Used by the gRPC client and server
 * alike; one reader per HTTP/2 stream and direction. */
#ifndef TC_SRC_PROTO_GRPC_FRAME_H
#define TC_SRC_PROTO_GRPC_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/error.h"

/* Bytes of the prefix before every message. */
#define TC__GRPC_PREFIX_SIZE 5
/* Default limit for one message, compressed or not: INT32_MAX (GRPC.md
 * section 8, what Triton and tritonclient use). */
#define TC__GRPC_DEFAULT_MAX_MESSAGE ((size_t)INT32_MAX)
/* gRPC status numbers used directly by the transports. */
#define TC__GRPC_STATUS_OK                 0
#define TC__GRPC_STATUS_INTERNAL           13
#define TC__GRPC_STATUS_RESOURCE_EXHAUSTED 8
#define TC__GRPC_STATUS_UNIMPLEMENTED      12

/* ---- encodings ------------------------------------------------------------ */

typedef enum tc__grpc_encoding {
    TC__GRPC_ENC_IDENTITY = 0,
    TC__GRPC_ENC_DEFLATE = 1, /* zlib stream (RFC 1950), as grpcio sends */
    TC__GRPC_ENC_GZIP = 2,    /* RFC 1952, mtime 0, OS 3 (as grpcio writes) */
    TC__GRPC_ENC_UNKNOWN = -1
} tc__grpc_encoding;

/* Bit of an encoding in an accept mask. */
#define TC__GRPC_ENC_BIT(e) (1u << (unsigned)(e))
#define TC__GRPC_ENC_ALL                                                                           \
    (TC__GRPC_ENC_BIT(TC__GRPC_ENC_IDENTITY) | TC__GRPC_ENC_BIT(TC__GRPC_ENC_DEFLATE) |            \
     TC__GRPC_ENC_BIT(TC__GRPC_ENC_GZIP))

/* "identity", "deflate", "gzip"; NULL for TC__GRPC_ENC_UNKNOWN. */
const char *tc__grpc_encoding_name(tc__grpc_encoding enc);
/* A grpc-encoding header value (`len` bytes, surrounding blanks ignored,
 * case-insensitive) -> encoding; TC__GRPC_ENC_UNKNOWN for anything else
 * (a server answers that with UNIMPLEMENTED). An empty value is identity. */
tc__grpc_encoding tc__grpc_encoding_parse(const char *s, size_t len);
/* A grpc-accept-encoding value ("identity, deflate, gzip") -> mask of the
 * encodings we know; unknown tokens are skipped. Identity is always in the
 * mask (every peer accepts it). */
unsigned tc__grpc_accept_encoding_parse(const char *s, size_t len);
/* Append the header value for `mask`, in the order grpcio writes:
 * "identity, deflate, gzip" (only the encodings in the mask). */
tc_code tc__grpc_accept_encoding_format(unsigned mask, tc__buf *out);

/* Append `len` bytes compressed with `enc` (identity copies). gzip carries
 * mtime 0, XFL per level, OS 3; both use zlib's default level, which
 * reproduces what grpcio 1.51 sends byte for byte. TC_E_INVALID_ARG for
 * TC__GRPC_ENC_UNKNOWN, TC_E_NOMEM, TC_E_INTERNAL when zlib fails. */
tc_code tc__grpc_compress(tc__grpc_encoding enc, const uint8_t *in, size_t len, tc__buf *out,
                          tc__error *err);
/* Append the decompression of `len` bytes. More than `max_size` decompressed
 * bytes stop with TC_E_INVALID_ARG (gRPC: RESOURCE_EXHAUSTED) before they
 * are buffered; corrupt or truncated data (or trailing garbage) gives
 * TC_E_PROTOCOL (gRPC: INTERNAL). */
tc_code tc__grpc_decompress(tc__grpc_encoding enc, const uint8_t *in, size_t len, size_t max_size,
                            tc__buf *out, tc__error *err);

/* ---- writing frames ------------------------------------------------------- */

/* Fill the 5-byte prefix. TC_E_INVALID_ARG when len > UINT32_MAX. */
tc_code tc__grpc_prefix_write(uint8_t prefix[TC__GRPC_PREFIX_SIZE], bool compressed, size_t len);

/* Append one framed message: prefix + payload. With `enc` != identity the
 * payload is compressed and the flag set; grpcio does this for every message
 * of a compressed call, however small. */
tc_code tc__grpc_frame_write(tc__buf *out, const uint8_t *msg, size_t len, tc__grpc_encoding enc,
                             tc__error *err);

/* ---- reading frames ------------------------------------------------------- */

/* Incremental reader: feed the DATA payload of one HTTP/2 stream in chunks
 * of any size, take complete (decompressed) messages out. */
typedef struct tc__grpc_reader tc__grpc_reader;

/* `max_message_size` bounds both the length prefix and the decompressed size
 * (0 = TC__GRPC_DEFAULT_MAX_MESSAGE). `enc` is the stream's grpc-encoding
 * (compressed messages need one other than identity). TC_E_NOMEM. */
tc_code tc__grpc_reader_new(tc__grpc_reader **out, size_t max_message_size, tc__grpc_encoding enc);
void tc__grpc_reader_free(tc__grpc_reader *r);
/* Change the encoding (once response headers arrive). */
void tc__grpc_reader_set_encoding(tc__grpc_reader *r, tc__grpc_encoding enc);

/* Feed bytes; stops early when a whole message is ready (which must be taken
 * with tc__grpc_reader_next before more is consumed). *consumed says how
 * many bytes were used; call again with the rest. Errors are sticky:
 * - TC_E_INVALID_ARG: length prefix above the limit (gRPC RESOURCE_EXHAUSTED,
 *   "grpc: received message larger than max (<n> vs. <max>)"), nothing
 *   buffered;
 * - TC_E_PROTOCOL: compressed flag other than 0/1, or compressed flag with
 *   identity encoding (gRPC INTERNAL);
 * - TC_E_NOMEM. */
tc_code tc__grpc_reader_feed(tc__grpc_reader *r, const uint8_t *data, size_t len, size_t *consumed,
                             tc__error *err);

/* Take the next complete message: TC_OK with *msg and *len (valid until the next
 * feed/next/free call; decompressed when it was compressed; *compressed tells
 * whether it was, may be NULL), TC_E_NOT_FOUND when none is complete yet,
 * or a decompression error (see tc__grpc_decompress), which is sticky. */
tc_code tc__grpc_reader_next(tc__grpc_reader *r, const uint8_t **msg, size_t *len, bool *compressed,
                             tc__error *err);

/* The stream ended (END_STREAM or RST_STREAM): TC_OK when no partial message
 * is buffered, else TC_E_PROTOCOL ("stream ended mid-message"). */
tc_code tc__grpc_reader_finish(tc__grpc_reader *r, tc__error *err);

/* True when bytes of an unfinished message (or a finished one not taken
 * yet) are held. */
bool tc__grpc_reader_pending(const tc__grpc_reader *r);

/* ---- header values ---------------------------------------------------------- */

/* Longest grpc-timeout value: 8 digits + unit + NUL. */
#define TC__GRPC_TIMEOUT_MAX 10

/* Parse grpc-timeout `<1-8 digits><H|M|S|m|u|n>` into microseconds
 * (nanoseconds round up). TC_E_INVALID_ARG otherwise. */
tc_code tc__grpc_timeout_parse(const char *s, size_t len, uint64_t *timeout_us);
/* Format `timeout_us` (> 0) in the finest unit that fits 8 digits, rounding
 * up ("100u", "12345678u", "100001m", ...); values beyond 99999999 hours
 * are capped. Writes a NUL-terminated string into `out`. */
void tc__grpc_timeout_format(uint64_t timeout_us, char out[TC__GRPC_TIMEOUT_MAX]);

/* grpc-message percent-encoding: bytes outside 0x20..0x7E and '%' become
 * %XX (upper-case hex). Appends to `out`. */
tc_code tc__grpc_message_encode(const char *msg, size_t len, tc__buf *out);
/* Decode %XX sequences; malformed ones are kept as they are. Appends to
 * `out` (NUL-terminated by tc__buf). */
tc_code tc__grpc_message_decode(const char *s, size_t len, tc__buf *out);

/* grpc-status value -> number 0..16 (other integers map to 2 UNKNOWN, as
 * gRPC does); TC_E_INVALID_ARG when not a decimal number. The tc_code for
 * it is tc__code_from_grpc_status() (common/error.h). */
tc_code tc__grpc_status_parse(const char *s, size_t len, int *status);
/* "OK", "CANCELLED", ... "UNAUTHENTICATED"; "UNKNOWN" out of range. */
const char *tc__grpc_status_name(int status);

#endif /* TC_SRC_PROTO_GRPC_FRAME_H */
