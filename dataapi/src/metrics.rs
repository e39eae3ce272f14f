//! Prometheus text metrics: calls by operation and outcome, durations per operation.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

const BUCKETS: [f64; 9] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0];

#[derive(Default)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

#[derive(Default)]
pub(crate) struct Metrics {
    calls: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    durations: Mutex<BTreeMap<&'static str, Histogram>>,
}

impl Metrics {
    pub(crate) fn record(&self, operation: &'static str, outcome: &'static str, elapsed: Duration) {
        *self
            .calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry((operation, outcome))
            .or_default() += 1;
        let secs = elapsed.as_secs_f64();
        let mut durations = self.durations.lock().unwrap_or_else(|e| e.into_inner());
        let h = durations.entry(operation).or_default();
        for (bucket, bound) in h.buckets.iter_mut().zip(BUCKETS) {
            if secs <= bound {
                *bucket += 1;
            }
        }
        h.sum += secs;
        h.count += 1;
    }

    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP data_api_requests_total Data API calls by operation and outcome.\n");
        out.push_str("# TYPE data_api_requests_total counter\n");
        for ((op, outcome), n) in self.calls.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let _ = writeln!(
                out,
                "data_api_requests_total{{operation=\"{op}\",outcome=\"{outcome}\"}} {n}"
            );
        }
        out.push_str("# HELP data_api_request_duration_seconds Data API call durations.\n");
        out.push_str("# TYPE data_api_request_duration_seconds histogram\n");
        for (op, h) in self
            .durations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let name = "data_api_request_duration_seconds";
            for (n, bound) in h.buckets.iter().zip(BUCKETS) {
                let _ = writeln!(
                    out,
                    "{name}_bucket{{operation=\"{op}\",le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "{name}_bucket{{operation=\"{op}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(out, "{name}_sum{{operation=\"{op}\"}} {}", h.sum);
            let _ = writeln!(out, "{name}_count{{operation=\"{op}\"}} {}", h.count);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_and_histograms() {
        let m = Metrics::default();
        m.record("ExecuteStatement", "ok", Duration::from_millis(3));
        m.record("ExecuteStatement", "ok", Duration::from_millis(300));
        m.record("ExecuteStatement", "BadRequestException", Duration::ZERO);
        let text = m.render();
        assert!(text.contains(
            "data_api_requests_total{operation=\"ExecuteStatement\",outcome=\"ok\"} 2\n"
        ));
        assert!(text.contains("outcome=\"BadRequestException\"} 1\n"));
        assert!(text.contains("data_api_request_duration_seconds_bucket{operation=\"ExecuteStatement\",le=\"0.005\"} 2\n"));
        assert!(text.contains(
            "data_api_request_duration_seconds_count{operation=\"ExecuteStatement\"} 3\n"
        ));
    }
}
