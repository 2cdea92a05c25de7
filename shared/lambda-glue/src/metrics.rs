//! CloudWatch Embedded Metric Format: metrics written as one JSON log line per flush, which
//! CloudWatch turns into metrics with no API calls from the function.

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::{Value, json};

use domain::{ChannelId, Timestamp};

pub const NAMESPACE: &str = "ChannelManager";
/// EMF allows at most 100 metrics per line.
const MAX_METRICS_PER_LINE: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
    Seconds,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
            Unit::Seconds => "Seconds",
        }
    }
}

/// Metrics of one invocation, dimensioned by channel and function.
#[derive(Debug)]
pub struct Metrics {
    channel: ChannelId,
    function: &'static str,
    values: BTreeMap<String, (Unit, f64)>,
}

impl Metrics {
    pub fn new(channel: ChannelId, function: &'static str) -> Self {
        Self {
            channel,
            function,
            values: BTreeMap::new(),
        }
    }

    /// Sets a metric (last value wins).
    pub fn set(&mut self, name: impl Into<String>, unit: Unit, value: f64) {
        self.values.insert(name.into(), (unit, value));
    }

    /// Adds to a counter.
    pub fn add(&mut self, name: impl Into<String>, value: f64) {
        self.values.entry(name.into()).or_insert((Unit::Count, 0.0)).1 += value;
    }

    /// The EMF lines for the metrics so far (empty when there are none).
    pub fn render(&self, now: Timestamp) -> Vec<String> {
        let entries: Vec<_> = self.values.iter().collect();
        entries
            .chunks(MAX_METRICS_PER_LINE)
            .map(|chunk| {
                let definitions: Vec<Value> = chunk
                    .iter()
                    .map(|(name, (unit, _))| json!({ "Name": name, "Unit": unit.as_str() }))
                    .collect();
                let mut line = json!({
                    "_aws": {
                        "Timestamp": now.millis(),
                        "CloudWatchMetrics": [{
                            "Namespace": NAMESPACE,
                            "Dimensions": [["Channel"], ["Channel", "Function"]],
                            "Metrics": definitions,
                        }],
                    },
                    "Channel": self.channel.as_str(),
                    "Function": self.function,
                });
                for (name, (_, value)) in chunk {
                    line[name.as_str()] = json!(value);
                }
                line.to_string()
            })
            .collect()
    }

    /// Writes the metrics to stdout and clears them.
    pub fn flush(&mut self, now: Timestamp) {
        let mut out = std::io::stdout().lock();
        for line in self.render(now) {
            let _ = writeln!(out, "{line}");
        }
        self.values.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_emf() {
        let mut m = Metrics::new(ChannelId::new("main").unwrap(), "order-import");
        assert!(m.render(Timestamp::EPOCH).is_empty());
        m.add("OrdersImported", 2.0);
        m.add("OrdersImported", 1.0);
        m.set("OrdersPendingCreation", Unit::Count, 4.0);
        let lines = m.render(Timestamp::from_millis(5));
        assert_eq!(lines.len(), 1);
        let v: Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(v["OrdersImported"], 3.0);
        assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Namespace"], "ChannelManager");
        assert_eq!(
            v["_aws"]["CloudWatchMetrics"][0]["Metrics"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
        assert_eq!(v["Channel"], "main");
        for n in 0..150 {
            m.set(format!("m{n}"), Unit::Count, 1.0);
        }
        assert_eq!(
            m.render(Timestamp::EPOCH).len(),
            2,
            "at most 100 metrics per line"
        );
    }
}
