//! Configuration of `local-runner run`: where the APIs are, the credentials, and the channel's
//! settings. From a file (`--config channel.toml` or `.json`) or from the environment the Lambdas
//! use (`WALMART_BASE_URL`, `COMMERCE_BASE_URL`, `CHANNEL_SETTINGS`), with the credentials as the
//! deployed secret's JSON in the file, a file it names, or `CHANNEL_SECRETS` /
//! `CHANNEL_SECRETS_FILE`.
//!
//! ```toml
//! walmart = "sandbox"                      # production | sandbox | https://your.walmart.proxy
//! commerce_base_url = "https://shop.example.com"
//! credentials_file = "channel-secret.json"  # {"walmart": {...}, "commerce": {...}}
//!
//! [channel]                                # domain::ChannelSettings
//! id = "main"
//! store_code = "default"
//! ```

use std::path::{Path, PathBuf};

use domain::ChannelSettings;
use operations::wiring::{ChannelSecrets, Endpoints, redact_values};
use serde::Deserialize;

use crate::RunnerError;

/// A validated `run` configuration.
#[derive(Debug, Clone)]
pub struct LiveConfig {
    pub endpoints: Endpoints,
    pub secrets: ChannelSecrets,
    pub settings: ChannelSettings,
    /// Problems worth telling the operator that do not stop the run (a credentials file others
    /// can read).
    pub warnings: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    /// `production`, `sandbox` (Walmart's own sandbox) or a base URL.
    walmart: Option<String>,
    commerce_base_url: String,
    /// Path of the secret's JSON, relative to the config file.
    credentials_file: Option<PathBuf>,
    /// The secret inline (prefer a separate file kept out of version control).
    credentials: Option<ChannelSecrets>,
    channel: ChannelSettings,
}

/// `production` / `sandbox` / a URL, as a base URL.
pub fn walmart_base_url(choice: &str) -> Result<String, RunnerError> {
    match choice.trim() {
        "production" => Ok(walmart_client::config::PRODUCTION_URL.to_owned()),
        "sandbox" => Ok(walmart_client::config::WALMART_SANDBOX_URL.to_owned()),
        url if url.starts_with("https://") || url.starts_with("http://") => {
            Ok(url.trim_end_matches('/').to_owned())
        }
        other => Err(RunnerError::Config(format!(
            "walmart must be `production`, `sandbox` or a base URL, not {other:?}"
        ))),
    }
}

fn read(path: &Path, what: &str) -> Result<String, RunnerError> {
    std::fs::read_to_string(path)
        .map_err(|e| RunnerError::Config(format!("cannot read the {what} {}: {e}", path.display())))
}

/// A warning when `path`, which holds credentials, can be read or written by users other than
/// its owner.
fn readable_by_others(path: &Path) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).ok()?.permissions().mode();
        (mode & 0o077 != 0).then(|| {
            format!(
                "{} holds credentials but its permissions are {:03o}: other users can read it; \
                 run `chmod 600 {}`",
                path.display(),
                mode & 0o777,
                path.display()
            )
        })
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// Parses a config file by its extension. A malformed file's error gives the line and serde's
/// message with values redacted: the file may hold credentials, and TOML's own error text quotes
/// the offending line.
fn parse_config_file(path: &Path, text: &str) -> Result<ConfigFile, String> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("json") => serde_json::from_str(text).map_err(|e| redact_values(&e.to_string())),
        Some("toml") => toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
            let message = redact_values(e.message().trim());
            match line {
                Some(line) => format!("line {line}: {message}"),
                None => message,
            }
        }),
        _ => Err("must end in .toml or .json".into()),
    }
}

fn validated(settings: ChannelSettings) -> Result<ChannelSettings, RunnerError> {
    settings
        .validate()
        .map_err(|problems| RunnerError::Config(format!("channel settings: {}", problems.join("; "))))?;
    Ok(settings)
}

/// Where the environment keeps the credentials, if it does.
fn secrets_from_env(
    env: &dyn Fn(&str) -> Option<String>,
    warnings: &mut Vec<String>,
) -> Result<Option<ChannelSecrets>, RunnerError> {
    if let Some(raw) = env("CHANNEL_SECRETS") {
        return Ok(Some(ChannelSecrets::parse(&raw)?));
    }
    if let Some(path) = env("CHANNEL_SECRETS_FILE") {
        let path = Path::new(&path);
        let secrets = ChannelSecrets::parse(&read(path, "credentials file")?)?;
        warnings.extend(readable_by_others(path));
        return Ok(Some(secrets));
    }
    Ok(None)
}

impl LiveConfig {
    /// From a TOML or JSON file (by extension); credentials may also come from the environment.
    pub fn from_file(path: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<Self, RunnerError> {
        let text = read(path, "config file")?;
        let bad = |e: String| RunnerError::Config(format!("config file {}: {e}", path.display()));
        let file = parse_config_file(path, &text).map_err(bad)?;
        let mut warnings = Vec::new();
        let secrets = match (file.credentials, file.credentials_file) {
            (Some(inline), None) => {
                warnings.extend(readable_by_others(path));
                inline
            }
            (None, Some(relative)) => {
                let full = path.parent().unwrap_or(Path::new(".")).join(relative);
                let secrets = ChannelSecrets::parse(&read(&full, "credentials file")?)?;
                warnings.extend(readable_by_others(&full));
                secrets
            }
            (Some(_), Some(_)) => {
                return Err(bad("give `credentials` or `credentials_file`, not both".into()));
            }
            (None, None) => secrets_from_env(env, &mut warnings)?.ok_or_else(|| {
                bad(
                    "no credentials: set `credentials_file`, or CHANNEL_SECRETS / CHANNEL_SECRETS_FILE"
                        .into(),
                )
            })?,
        };
        let settings = validated(file.channel)?;
        Ok(Self {
            endpoints: Endpoints {
                walmart_base_url: walmart_base_url(file.walmart.as_deref().unwrap_or("production"))?,
                commerce_base_url: file.commerce_base_url.trim_end_matches('/').to_owned(),
                store_code: settings.store_code.clone(),
            },
            secrets,
            settings,
            warnings,
        })
    }

    /// From the variables the Lambdas read (`WALMART_BASE_URL`, `COMMERCE_BASE_URL`,
    /// `CHANNEL_SETTINGS`) plus `CHANNEL_SECRETS` or `CHANNEL_SECRETS_FILE`.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Self, RunnerError> {
        let need = |name: &str| {
            env(name).ok_or_else(|| {
                RunnerError::Config(format!("{name} is not set (or pass --config channel.toml)"))
            })
        };
        let settings: ChannelSettings = serde_json::from_str(&need("CHANNEL_SETTINGS")?)
            .map_err(|e| RunnerError::Config(format!("CHANNEL_SETTINGS: {e}")))?;
        let settings = validated(settings)?;
        let mut warnings = Vec::new();
        let secrets = secrets_from_env(env, &mut warnings)?.ok_or_else(|| {
            RunnerError::Config("CHANNEL_SECRETS or CHANNEL_SECRETS_FILE is not set".into())
        })?;
        Ok(Self {
            endpoints: Endpoints {
                walmart_base_url: walmart_base_url(&need("WALMART_BASE_URL")?)?,
                commerce_base_url: need("COMMERCE_BASE_URL")?.trim_end_matches('/').to_owned(),
                store_code: settings.store_code.clone(),
            },
            secrets,
            settings,
            warnings,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const SECRET: &str = r#"{"walmart":{"client_id":"id","client_secret":"s3cret"},
        "commerce":{"consumer_key":"ck","consumer_secret":"cs","access_token":"at","access_token_secret":"ats"}}"#;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn temp(name: &str, text: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("local-runner-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn toml_with_a_credentials_file() {
        temp("secret.json", SECRET);
        let path = temp(
            "channel.toml",
            r#"
walmart = "sandbox"
commerce_base_url = "https://shop.example.com/"
credentials_file = "secret.json"

[channel]
id = "main"
store_code = "us"
"#,
        );
        let config = LiveConfig::from_file(&path, &no_env).unwrap();
        assert_eq!(
            config.endpoints.walmart_base_url,
            "https://sandbox.walmartapis.com"
        );
        assert_eq!(config.endpoints.commerce_base_url, "https://shop.example.com");
        assert_eq!(config.endpoints.store_code, "us");
        assert_eq!(config.settings.id.as_str(), "main");
        assert_eq!(config.secrets.walmart.client_id, "id");
        assert!(!format!("{config:?}").contains("s3cret"), "secrets never print");
    }

    #[test]
    fn json_with_credentials_from_the_environment() {
        let path = temp(
            "channel.json",
            r#"{"walmart": "http://127.0.0.1:9/", "commerce_base_url": "http://127.0.0.1:8",
                "channel": {"id": "main"}}"#,
        );
        let env = |name: &str| (name == "CHANNEL_SECRETS").then(|| SECRET.to_owned());
        let config = LiveConfig::from_file(&path, &env).unwrap();
        assert_eq!(config.endpoints.walmart_base_url, "http://127.0.0.1:9");
        let err = LiveConfig::from_file(&path, &no_env).unwrap_err();
        assert!(err.to_string().contains("no credentials"), "{err}");
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        let typo = temp(
            "typo.toml",
            "commerce_base_url = \"x\"\nwalmartt = \"sandbox\"\n[channel]\nid = \"main\"\n",
        );
        let err = LiveConfig::from_file(&typo, &no_env).unwrap_err();
        assert!(err.to_string().contains("walmartt"), "{err}");
        let invalid = temp(
            "invalid.json",
            r#"{"commerce_base_url": "x", "credentials_file": "secret-b.json", "channel": {"id": "main", "store_code": "a b"}}"#,
        );
        temp("secret-b.json", SECRET);
        let err = LiveConfig::from_file(&invalid, &no_env).unwrap_err();
        assert!(err.to_string().contains("store_code"), "{err}");
        assert!(walmart_base_url("staging").is_err());
        assert!(LiveConfig::from_file(&temp("x.yaml", ""), &no_env).is_err());
    }

    /// Every malformed shape of inline credentials in a TOML or JSON config file, each carrying the
    /// secret: the error says where and what, never the value (TOML's own text quotes the line).
    #[test]
    fn malformed_credentials_in_a_config_file_never_echo_a_secret() {
        const HEAD: &str = "commerce_base_url = \"https://shop.example.com\"\n[channel]\nid = \"main\"\n";
        let toml_cases = [
            "client_id = \"id\"\nclient_secret = Sup3rSecretValue42\n",
            "client_id = \"id\"\nclient_secret = \"Sup3rSecretValue42\n",
            "client_id = \"id\"\nclient_secret = 'Sup3rSecretValue42\n",
            "client_id = \"id\"\nclient_secret = \"\"\"Sup3rSecretValue42\n",
            "client_id = \"id\"\nclient_secret = \"Sup3rSecretValue42\\q\"\n",
            "client_id = \"id\"\nclient_secret \"Sup3rSecretValue42\"\n",
            "client_id = \"id\"\nclient_secret = \"Sup3rSecretValue42\" trailing\n",
            "client_id = \"id\"\nclient_secret = 987654321\n",
            "client_id = \"id\"\nclient_secret = 987654321.5\n",
            "client_id = \"id\"\nclient_secret = [\"Sup3rSecretValue42\"]\n",
            "client_id = \"id\"\nclient_secret = { value = \"Sup3rSecretValue42\" }\n",
            "client_secret = \"Sup3rSecretValue42\"\n",
            "client_id = \"id\"\nclient_secret = \"Sup3rSecretValue42\"\nclient_secret = \"Sup3rSecretValue42\"\n",
            "client_id = \"id\"\nclient_secret = \"x\"\nSup3rSecretValue42\n",
            "client_id = \"id\"\nclient_secret = \"x\"\nextra = \"Sup3rSecretValue42\"\n",
        ];
        for (n, walmart) in toml_cases.iter().enumerate() {
            let text = format!(
                "{HEAD}[credentials.walmart]\n{walmart}[credentials.commerce]\nbearer_token = \"t\"\n"
            );
            let path = temp(&format!("leak-{n}.toml"), &text);
            let err = LiveConfig::from_file(&path, &no_env)
                .expect_err(walmart)
                .to_string();
            for leak in ["Sup3rSecretValue42", "987654321", "3rSecretVal"] {
                assert!(!err.contains(leak), "{walmart}\n  -> {err}");
            }
            assert!(err.contains(&path.display().to_string()), "{err}");
        }
        let commerce_as_text = format!("{HEAD}[credentials]\ncommerce = \"Sup3rSecretValue42\"\n");
        let err = LiveConfig::from_file(&temp("leak-c.toml", &commerce_as_text), &no_env)
            .unwrap_err()
            .to_string();
        assert!(!err.contains("Sup3r"), "{err}");
        // The line is given, and what was expected.
        let unquoted = format!("{HEAD}[credentials.walmart]\n{}", toml_cases[0]);
        let err = LiveConfig::from_file(&temp("leak-line.toml", &unquoted), &no_env)
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 6"), "{err}");

        let json_cases = [
            r#"{"commerce_base_url":"https://s","channel":{"id":"main"},"credentials":{"walmart":{"client_id":"id","client_secret":987654321},"commerce":{"bearer_token":"t"}}}"#,
            r#"{"commerce_base_url":"https://s","channel":{"id":"main"},"credentials":{"walmart":{"client_id":"id","client_secret":Sup3rSecretValue42},"commerce":{"bearer_token":"t"}}}"#,
            r#"{"commerce_base_url":"https://s","channel":{"id":"main"},"credentials":"Sup3rSecretValue42"}"#,
            r#"{"commerce_base_url":"https://s","channel":{"id":"main"},"credentials":{"walmart":{"client_id":"id","client_secret":"Sup3rSecretValue42}}}"#,
        ];
        for (n, text) in json_cases.iter().enumerate() {
            let err = LiveConfig::from_file(&temp(&format!("leak-{n}.json"), text), &no_env)
                .expect_err(text)
                .to_string();
            for leak in ["Sup3rSecretValue42", "987654321"] {
                assert!(!err.contains(leak), "{text}\n  -> {err}");
            }
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_credentials_file_others_can_read_is_warned_about() {
        use std::os::unix::fs::PermissionsExt;
        let secret = temp("shared-secret.json", SECRET);
        let path = temp(
            "perm.toml",
            "commerce_base_url = \"https://s\"\ncredentials_file = \"shared-secret.json\"\n[channel]\nid = \"main\"\n",
        );
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).unwrap();
        let config = LiveConfig::from_file(&path, &no_env).unwrap();
        assert_eq!(config.warnings.len(), 1, "{:?}", config.warnings);
        assert!(config.warnings[0].contains("chmod 600"), "{:?}", config.warnings);
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(LiveConfig::from_file(&path, &no_env).unwrap().warnings.is_empty());
    }

    #[test]
    fn the_environment_alone() {
        let vars: HashMap<&str, String> = [
            ("WALMART_BASE_URL", "production".to_owned()),
            ("COMMERCE_BASE_URL", "https://shop.example.com".to_owned()),
            ("CHANNEL_SETTINGS", r#"{"id":"main"}"#.to_owned()),
            ("CHANNEL_SECRETS", SECRET.to_owned()),
        ]
        .into();
        let env = |name: &str| vars.get(name).cloned();
        let config = LiveConfig::from_env(&env).unwrap();
        assert_eq!(
            config.endpoints.walmart_base_url,
            "https://marketplace.walmartapis.com"
        );
        let missing = LiveConfig::from_env(&no_env).unwrap_err();
        assert!(missing.to_string().contains("CHANNEL_SETTINGS"), "{missing}");
    }
}
