#include "feed_system.h"

// stdio.h first: it defines __GLIBC__, which the checks below need.
#include <stdio.h>
#include <string.h>
#include <stdatomic.h>
#include <unistd.h>
#if defined(__linux__) && defined(__GLIBC__)
#include <malloc.h>
#endif

size_t feed_heap_bytes_in_use(void) {
#if defined(__linux__) && defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
#else
    return 0;
#endif
}

size_t feed_resident_bytes(void) {
#if defined(__linux__)
    FILE *file = fopen("/proc/self/statm", "r");
    if (file == NULL) return 0;
    unsigned long size = 0, resident = 0;
    int matched = fscanf(file, "%lu %lu", &size, &resident);
    fclose(file);
    if (matched != 2) return 0;
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
#else
    return 0;
#endif
}

/// One "Name:   N kB" line of /proc/self/status, in bytes; 0 if absent.
static size_t feed_status_kilobytes(const char *name) {
#if defined(__linux__)
    FILE *file = fopen("/proc/self/status", "r");
    if (file == NULL) return 0;
    char line[256];
    size_t length = strlen(name);
    size_t value = 0;
    while (fgets(line, sizeof line, file) != NULL) {
        if (strncmp(line, name, length) == 0 && line[length] == ':') {
            unsigned long kilobytes = 0;
            if (sscanf(line + length + 1, "%lu", &kilobytes) == 1) value = (size_t)kilobytes * 1024;
            break;
        }
    }
    fclose(file);
    return value;
#else
    (void)name;
    return 0;
#endif
}

size_t feed_resident_file_bytes(void) { return feed_status_kilobytes("RssFile") + feed_status_kilobytes("RssShmem"); }

size_t feed_resident_anonymous_bytes(void) { return feed_status_kilobytes("RssAnon"); }

unsigned feed_thread_slot(void) {
    static _Atomic unsigned next = 0;
    static _Thread_local unsigned slot = 0;
    static _Thread_local int assigned = 0;
    if (!assigned) {
        slot = atomic_fetch_add_explicit(&next, 1, memory_order_relaxed);
        assigned = 1;
    }
    return slot;
}
