#ifndef FEED_PREFETCH_H
#define FEED_PREFETCH_H

/// Asks the CPU to start loading the cache line at `address` for a read
/// soon (a hint: no fault, no effect on results). Swift has no prefetch of
/// its own; this inlines into the caller.
static inline __attribute__((always_inline)) void feed_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

#endif
