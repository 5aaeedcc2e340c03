#ifndef FEED_SYSTEM_H
#define FEED_SYSTEM_H

#include <stddef.h>

/// Bytes the C allocator has handed out and not yet had back (glibc's
/// mallinfo2: uordblks + hblkhd), or 0 where that is not known. It walks
/// every free chunk under malloc's lock (tens of milliseconds on a big,
/// fragmented heap): for offline measurements, never on a request's path.
size_t feed_heap_bytes_in_use(void);

/// The resident set size of this process in bytes, or 0 if unknown.
size_t feed_resident_bytes(void);

/// Resident pages backed by files (the binary and its libraries) and
/// shared memory, in bytes (/proc/self/status RssFile + RssShmem), or 0.
size_t feed_resident_file_bytes(void);

/// Resident anonymous pages (the heap, stacks), in bytes, or 0.
size_t feed_resident_anonymous_bytes(void);

#endif
