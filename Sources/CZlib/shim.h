#include <zlib.h>

// inflateInit2 is a macro Swift cannot call: raw deflate (no zlib header), as
// qcow2 stores compressed clusters; the largest window reads any smaller one.
static inline int czlib_inflate_init_raw(z_stream *stream) {
    return inflateInit2(stream, -15);
}
