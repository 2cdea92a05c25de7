//! Function configuration from the environment, validated once at cold start. Every error names the
//! variable, so a misconfigured deployment says exactly what to fix in its first log line.

use std::collections::BTreeMap;

use domain::ChannelSettings;
use ports::QueueName;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("environment variable {var} is missing")]
    Missing { var: &'static str },
    #[error("environment variable {var} is invalid: {reason}")]
    Invalid { var: &'static str, reason: String },
}

/// What a deployed function needs to know about its environment.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionConfig {
    /// DynamoDB table holding all state.
    pub table_name: String,
    pub channel: ChannelSettings,
    /// Secrets Manager secret with the Walmart and Commerce credentials.
    pub secret_arn: String,
    pub walmart_base_url: String,
    pub commerce_base_url: String,
    /// URLs of the queues this function sends to or consumes.
    pub queues: BTreeMap<QueueName, String>,
}

pub const TABLE_NAME: &str = "TABLE_NAME";
pub const CHANNEL_SETTINGS: &str = "CHANNEL_SETTINGS";
pub const SECRET_ARN: &str = "SECRET_ARN";
pub const WALMART_BASE_URL: &str = "WALMART_BASE_URL";
pub const COMMERCE_BASE_URL: &str = "COMMERCE_BASE_URL";
/// The `walmart-events` receiver's Function URL, for the function that keeps the subscription
/// (order-import); it becomes `push.event_url` of the channel's settings.
pub const WALMART_EVENTS_URL: &str = "WALMART_EVENTS_URL";

fn required(lookup: &impl Fn(&str) -> Option<String>, var: &'static str) -> Result<String, ConfigError> {
    match lookup(var) {
        Some(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(ConfigError::Missing { var }),
    }
}

fn http_url(lookup: &impl Fn(&str) -> Option<String>, var: &'static str) -> Result<String, ConfigError> {
    let url = required(lookup, var)?;
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(ConfigError::Invalid {
            var,
            reason: format!("{url:?} is not an http(s) URL"),
        });
    }
    Ok(url.trim_end_matches('/').to_owned())
}

impl FunctionConfig {
    /// Reads the configuration through `lookup` (the process environment in production, a map in
    /// tests). `queues` lists the queues this function uses; each needs its URL variable.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        queues: &[QueueName],
    ) -> Result<Self, ConfigError> {
        let table_name = required(&lookup, TABLE_NAME)?;
        let raw = required(&lookup, CHANNEL_SETTINGS)?;
        let channel: ChannelSettings = serde_json::from_str(&raw).map_err(|e| ConfigError::Invalid {
            var: CHANNEL_SETTINGS,
            reason: e.to_string(),
        })?;
        channel.validate().map_err(|problems| ConfigError::Invalid {
            var: CHANNEL_SETTINGS,
            reason: problems.join("; "),
        })?;
        let mut channel = channel;
        if let Some(url) = lookup(WALMART_EVENTS_URL).filter(|u| !u.trim().is_empty()) {
            channel.push.event_url = Some(url);
        }
        let secret_arn = required(&lookup, SECRET_ARN)?;
        let walmart_base_url = http_url(&lookup, WALMART_BASE_URL)?;
        let commerce_base_url = http_url(&lookup, COMMERCE_BASE_URL)?;
        let mut urls = BTreeMap::new();
        for q in queues {
            let var = q.url_env_var();
            let url = required(&lookup, var)?;
            if !url.starts_with("http") {
                return Err(ConfigError::Invalid {
                    var,
                    reason: format!("{url:?} is not a queue URL"),
                });
            }
            urls.insert(*q, url);
        }
        Ok(Self {
            table_name,
            channel,
            secret_arn,
            walmart_base_url,
            commerce_base_url,
            queues: urls,
        })
    }

    pub fn from_env(queues: &[QueueName]) -> Result<Self, ConfigError> {
        Self::from_lookup(|var| std::env::var(var).ok(), queues)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    const GOOD: &[(&str, &str)] = &[
        ("TABLE_NAME", "cm"),
        ("CHANNEL_SETTINGS", r#"{"id":"main"}"#),
        ("SECRET_ARN", "arn:aws:secretsmanager:us-east-1:1:secret:cm"),
        ("WALMART_BASE_URL", "https://marketplace.walmartapis.com/"),
        ("COMMERCE_BASE_URL", "https://shop.example.com"),
        (
            "ORDER_CREATE_QUEUE_URL",
            "https://sqs.us-east-1.amazonaws.com/1/order-create",
        ),
    ];

    #[test]
    fn valid_environment_parses() {
        let c = FunctionConfig::from_lookup(env(GOOD), &[QueueName::OrderCreate]).unwrap();
        assert_eq!(c.walmart_base_url, "https://marketplace.walmartapis.com");
        assert_eq!(c.channel.id.as_str(), "main");
        assert_eq!(c.queues.len(), 1);
    }

    #[test]
    fn errors_name_the_variable() {
        let without = |var: &str| {
            GOOD.iter()
                .copied()
                .filter(|(k, _)| *k != var)
                .collect::<Vec<_>>()
        };
        for var in [
            "TABLE_NAME",
            "CHANNEL_SETTINGS",
            "SECRET_ARN",
            "ORDER_CREATE_QUEUE_URL",
        ] {
            let err = FunctionConfig::from_lookup(env(&without(var)), &[QueueName::OrderCreate]).unwrap_err();
            assert!(err.to_string().contains(var), "{err}");
        }
        let mut bad = without("CHANNEL_SETTINGS");
        bad.push(("CHANNEL_SETTINGS", r#"{"id":"Main Store"}"#));
        let err = FunctionConfig::from_lookup(env(&bad), &[]).unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::Invalid {
                    var: "CHANNEL_SETTINGS",
                    ..
                }
            ),
            "{err}"
        );
        let mut bad_url = without("COMMERCE_BASE_URL");
        bad_url.push(("COMMERCE_BASE_URL", "shop.example.com"));
        assert!(
            FunctionConfig::from_lookup(env(&bad_url), &[])
                .unwrap_err()
                .to_string()
                .contains("COMMERCE_BASE_URL")
        );
    }
}
