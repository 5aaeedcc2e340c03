#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The time of day, for what clients see (TIME, ages in CLIENT LIST). Read with
/// clock_gettime, which costs tens of nanoseconds and needs no Foundation.
enum WallClock {
    /// Microseconds since the Unix epoch.
    static func microseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000 + Int64(spec.tv_nsec) / 1000
    }

    /// Milliseconds since the Unix epoch.
    static func milliseconds() -> Int64 {
        microseconds() / 1000
    }
}
