//! The server's own counts of cache and store calls, scraped from its Prometheus endpoint
//! before and after the measured run: on Redis and PostgreSQL each call is one round trip.

use std::collections::BTreeMap;

use anyhow::Context;

/// `(dependency, operation)` → calls so far.
pub type Calls = BTreeMap<(String, String), u64>;

/// Reads `esignet_dependency_calls_total` from the metrics endpoint, when one was given.
pub struct Scraper {
    url: Option<String>,
    http: reqwest::Client,
}

impl Scraper {
    pub fn new(url: Option<String>) -> Self {
        Self {
            url,
            http: reqwest::Client::new(),
        }
    }

    /// The counters now; `None` without a metrics URL.
    pub async fn dependency_calls(&self) -> anyhow::Result<Option<Calls>> {
        let Some(url) = &self.url else {
            return Ok(None);
        };
        let text = self
            .http
            .get(url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .with_context(|| format!("cannot read the server's metrics at {url}"))?
            .text()
            .await?;
        Ok(Some(parse(&text)))
    }
}

/// The `esignet_dependency_calls_total{dependency="..",operation=".."} N` samples of an
/// OpenMetrics exposition.
pub fn parse(text: &str) -> Calls {
    let mut calls = Calls::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("esignet_dependency_calls_total{") else {
            continue;
        };
        let Some((labels, value)) = rest.split_once("} ") else {
            continue;
        };
        let label = |name: &str| {
            labels.split(',').find_map(|pair| {
                let (key, value) = pair.split_once('=')?;
                (key == name).then(|| value.trim_matches('"').to_owned())
            })
        };
        if let (Some(dependency), Some(operation), Ok(value)) = (
            label("dependency"),
            label("operation"),
            value.trim().parse::<f64>(),
        ) {
            calls.insert((dependency, operation), value as u64);
        }
    }
    calls
}

/// What happened between two scrapes (counters that did not move are left out).
pub fn delta(before: &Calls, after: &Calls) -> Calls {
    after
        .iter()
        .filter_map(|(key, &value)| {
            let moved = value.saturating_sub(before.get(key).copied().unwrap_or(0));
            (moved > 0).then(|| (key.clone(), moved))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_parsed_and_subtracted() {
        let before = parse(
            "# HELP esignet_dependency_calls Calls\n\
             esignet_dependency_calls_total{dependency=\"cache\",operation=\"get\"} 10\n\
             esignet_dependency_calls_total{dependency=\"store\",operation=\"get_client\"} 3\n\
             esignet_http_requests_total{route=\"/x\"} 5\n",
        );
        assert_eq!(before.len(), 2);
        let after = parse(
            "esignet_dependency_calls_total{dependency=\"cache\",operation=\"get\"} 25\n\
             esignet_dependency_calls_total{dependency=\"store\",operation=\"get_client\"} 3\n\
             esignet_dependency_calls_total{dependency=\"cache\",operation=\"take\"} 7\n",
        );
        let moved = delta(&before, &after);
        assert_eq!(moved.get(&("cache".into(), "get".into())), Some(&15));
        assert_eq!(moved.get(&("cache".into(), "take".into())), Some(&7));
        assert!(!moved.contains_key(&("store".into(), "get_client".into())));
    }
}
