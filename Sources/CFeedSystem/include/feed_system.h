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

/// A small number for the calling thread, the same on every call: 0 for
/// the first thread that asks, 1 for the next, and so on. For spreading
/// per-thread state over a few stripes (the engine lock's read notes).
unsigned feed_thread_slot(void);

/// Tells the CPU this thread is spinning on a value another core will
/// change (x86 PAUSE, Arm YIELD): it waits a little, and leaves the core's
/// resources to its sibling.
static inline __attribute__((always_inline)) void feed_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

#endif
