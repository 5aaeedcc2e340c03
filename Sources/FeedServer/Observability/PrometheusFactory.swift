import CoreMetrics
import Prometheus

/// A swift-metrics backend writing to a swift-prometheus registry, like
/// `PrometheusMetricsFactory`, that also gives every metric family its
/// `# HELP` line and its buckets (`promtool check metrics` wants both).
struct PrometheusFactory: MetricsFactory {
    let registry: PrometheusCollectorRegistry
    /// Help text by metric name.
    let help: [String: String]
    let durationBuckets: [String: [Duration]]
    let valueBuckets: [String: [Double]]

    private func text(_ name: String) -> String { self.help[name] ?? "" }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        self.registry.makeCounter(name: label, labels: dimensions, help: self.text(label))
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        self.registry.makeCounter(name: label, labels: dimensions, help: self.text(label))
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard aggregate else { return self.registry.makeGauge(name: label, labels: dimensions, help: self.text(label)) }
        return self.registry.makeValueHistogram(
            name: label, labels: dimensions, buckets: self.valueBuckets[label] ?? [1, 10, 100, 1000, 10000], help: self.text(label))
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        self.registry.makeGauge(name: label, labels: dimensions, help: self.text(label))
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        self.registry.makeDurationHistogram(
            name: label, labels: dimensions, buckets: self.durationBuckets[label] ?? [.milliseconds(1), .seconds(1)],
            help: self.text(label))
    }

    func destroyCounter(_ handler: any CounterHandler) {
        if let counter = handler as? Prometheus.Counter { self.registry.unregisterCounter(counter) }
    }

    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let counter = handler as? Prometheus.Counter { self.registry.unregisterCounter(counter) }
    }

    func destroyRecorder(_ handler: any RecorderHandler) {
        if let gauge = handler as? Prometheus.Gauge { self.registry.unregisterGauge(gauge) }
        if let histogram = handler as? ValueHistogram { self.registry.unregisterValueHistogram(histogram) }
    }

    func destroyMeter(_ handler: any MeterHandler) {
        if let gauge = handler as? Prometheus.Gauge { self.registry.unregisterGauge(gauge) }
    }

    func destroyTimer(_ handler: any TimerHandler) {
        if let histogram = handler as? DurationHistogram { self.registry.unregisterDurationHistogram(histogram) }
    }
}
