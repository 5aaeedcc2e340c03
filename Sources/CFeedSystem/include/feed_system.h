#ifndef FEED_SYSTEM_H
#define FEED_SYSTEM_H

#include <stddef.h>

/// Bytes the C allocator has handed out and not yet had back (glibc's
/// mallinfo2: uordblks + hblkhd), or 0 where that is not known. This is what
/// Redis reports as used_memory.
size_t feed_heap_bytes_in_use(void);

/// The resident set size of this process in bytes, or 0 if unknown.
size_t feed_resident_bytes(void);

#endif
