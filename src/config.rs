//! Settings, layered: built-in `config/default.toml`, a `--config` file, `CRYPTOLENS_*`
//! environment variables, then flags.

use crate::api::rate_limit::RateLimitSettings;
use crate::auth::AuthSettings;
use cryptolens_actors::actors::EngineSettings;
use cryptolens_actors::domain::analysis::AnalysisSettings;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

const DEFAULT_TOML: &str = include_str!("../config/default.toml");

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    #[serde(default)]
    pub connections: crate::listener::settings::ConnectionSettings,
    pub engine: EngineSettings,
    pub analysis: AnalysisSettings,
    pub ingest: IngestSettings,
    pub demo: DemoSettings,
    pub exchange: crate::feed::settings::ExchangeSettings,
    pub log: LogSettings,
    pub auth: AuthSettings,
    pub rate_limits: RateLimitSettings,
    #[serde(default)]
    pub trading: crate::trading_settings::TradingSettings,
    pub stream: crate::api::StreamSettings,
    #[serde(default)]
    pub web: WebSettings,
    #[serde(default)]
    pub learned_scores: LearnedScoreSettings,
    #[serde(default)]
    pub notify: cryptolens_actors::actors::notifier::NotifierSettings,
}

/// Scores that learn from history (`[learned_scores]`): off unless asked for.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LearnedScoreSettings {
    pub enabled: bool,
    /// How often every symbol's stored candles are studied again.
    pub refresh_interval_ms: u64,
    /// A signal's entry not reached within this many bars of its entry timeframe expired.
    pub expiry_bars: u32,
}

impl Default for LearnedScoreSettings {
    fn default() -> LearnedScoreSettings {
        LearnedScoreSettings {
            enabled: false,
            refresh_interval_ms: 900_000,
            expiry_bars: 12,
        }
    }
}

/// The dashboard.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WebSettings {
    /// Serve the dashboard's files from this folder (read on every request) instead of the
    /// copy built into the binary: for working on the dashboard. Unset in production.
    pub assets_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    pub body_limit_bytes: u64,
    pub ws_message_limit_bytes: usize,
    pub shutdown_timeout_ms: u64,
    /// Bearer token that may read `/metrics` and `/api/actors`; empty: the server generates
    /// one in the data directory. At least 32 characters when set.
    pub metrics_token: String,
    /// Origins allowed to call the API from a browser; empty: same origin only.
    pub cors_allowed_origins: Vec<String>,
    /// Clients reach the server over HTTPS through a TLS-terminating proxy: answers carry
    /// Strict-Transport-Security.
    pub tls_terminated_by_proxy: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IngestSettings {
    pub batch_candles_max: usize,
    /// A candle may open at most this many of its intervals after the server's clock.
    #[serde(default = "one_interval")]
    pub future_intervals_max: i64,
    /// A signal whose newest candle closed longer ago than this is history, shown `stale`.
    #[serde(default = "one_hour_s")]
    pub live_window_s: u64,
    pub read_limit_max: usize,
    pub read_limit_default: usize,
    pub retry_after_s: u64,
    /// When an ingested candle is on disk (see [`Durability`]).
    #[serde(default)]
    pub durability: Durability,
}

/// When `POST /api/candles` (and WebSocket ingest) answers relative to the disk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    /// At once: the candles reach the disk with the next snapshot round, so a crash within
    /// `engine.snapshot_interval_ms` of the answer loses them.
    #[default]
    Snapshot,
    /// Once the symbol's state holding them is written and flushed: nothing acknowledged is
    /// lost, at the cost of one snapshot write per batch.
    Ack,
}

fn one_interval() -> i64 {
    1
}

fn one_hour_s() -> u64 {
    3600
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DemoSettings {
    pub symbols: Vec<String>,
    pub history_candles: usize,
    pub tick_interval_ms: u64,
    pub seed: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
    pub filter: String,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Json,
    Pretty,
}

/// Values given as command-line flags; `None` leaves the lower layers' value.
#[derive(Debug, Default, Clone, Serialize)]
pub struct FlagOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
}

/// Why the settings cannot be used; the loader's and the analysis settings' own errors are
/// kept as sources.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid configuration: {0}")]
    Invalid(String),
    #[error("invalid configuration: {0}")]
    Load(#[from] Box<figment::Error>),
    #[error("invalid configuration: {0}")]
    Analysis(#[from] cryptolens_actors::domain::DomainError),
}

impl Settings {
    /// Loads every layer; a file named with `--config` must exist.
    pub fn load(
        config_file: Option<&Path>,
        flags: &FlagOverrides,
    ) -> Result<Settings, ConfigError> {
        let mut figment = Figment::from(Toml::string(DEFAULT_TOML));
        if let Some(path) = config_file {
            if !path.is_file() {
                return Err(ConfigError::Invalid(format!(
                    "config file {} does not exist",
                    path.display()
                )));
            }
            figment = figment.merge(Toml::file(path));
        }
        figment = figment
            // Only sectioned names (CRYPTOLENS_SECTION__KEY) are settings; other CRYPTOLENS_* variables
            // (secrets, for instance) are read where they are needed.
            .merge(
                Env::prefixed("CRYPTOLENS_")
                    .filter(|key| key.as_str().contains("__"))
                    .split("__"),
            )
            .merge(Serialized::defaults(FlagsLayer {
                server: flags.clone(),
            }));
        let settings: Settings = figment
            .extract()
            .map_err(|error| ConfigError::Load(Box::new(error)))?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        self.trading.validate().map_err(ConfigError::Invalid)?;
        self.exchange.validate().map_err(ConfigError::Invalid)?;
        let positive = [
            ("engine.mailbox_capacity", self.engine.mailbox_capacity),
            ("engine.ring_capacity", self.engine.ring_capacity),
            ("engine.symbols_max", self.engine.symbols_max),
            (
                "engine.exit_backlog_candles_max",
                self.engine.exit_backlog_candles_max,
            ),
            ("ingest.batch_candles_max", self.ingest.batch_candles_max),
            ("ingest.read_limit_max", self.ingest.read_limit_max),
            ("ingest.read_limit_default", self.ingest.read_limit_default),
            (
                "learned_scores.expiry_bars",
                self.learned_scores.expiry_bars as usize,
            ),
        ];
        if self.learned_scores.refresh_interval_ms < 100 {
            return Err(ConfigError::Invalid(
                "learned_scores.refresh_interval_ms must be at least 100".into(),
            ));
        }
        if let Some((name, _)) = positive.iter().find(|(_, value)| *value == 0) {
            return Err(ConfigError::Invalid(format!("{name} must be at least 1")));
        }
        if self.ingest.read_limit_default > self.ingest.read_limit_max {
            return Err(ConfigError::Invalid(
                "ingest.read_limit_default must not exceed ingest.read_limit_max".into(),
            ));
        }
        let token = &self.server.metrics_token;
        if !token.is_empty()
            && (token.len() < 32
                || token
                    .chars()
                    .collect::<std::collections::HashSet<_>>()
                    .len()
                    < 8)
        {
            return Err(ConfigError::Invalid(
                "server.metrics_token must be at least 32 characters and not repetitive".into(),
            ));
        }
        self.validate_security()?;
        Ok(self.analysis.validate()?)
    }

    fn validate_security(&self) -> Result<(), ConfigError> {
        if let Some(name) = self
            .rate_limits
            .zero_setting()
            .or(self.connections.zero_setting())
        {
            return Err(ConfigError::Invalid(format!("{name} must be at least 1")));
        }
        let auth = &self.auth;
        let positive = [
            ("auth.session_absolute_ttl_s", auth.session_absolute_ttl_s),
            ("auth.session_idle_ttl_s", auth.session_idle_ttl_s),
            ("auth.lockout_failures", u64::from(auth.lockout_failures)),
            ("auth.lockout_window_s", auth.lockout_window_s),
            (
                "auth.lockout_account_failures",
                u64::from(auth.lockout_account_failures),
            ),
            ("auth.hashing_concurrency", auth.hashing_concurrency as u64),
            (
                "auth.api_keys_per_user_max",
                auth.api_keys_per_user_max as u64,
            ),
            ("auth.maintenance_interval_s", auth.maintenance_interval_s),
            (
                "rate_limits.prune_interval_s",
                self.rate_limits.prune_interval_s,
            ),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, value)| *value == 0) {
            return Err(ConfigError::Invalid(format!("{name} must be at least 1")));
        }
        if auth.argon2_memory_kib < 8 * 1024 || auth.argon2_iterations == 0 {
            return Err(ConfigError::Invalid(
                "auth.argon2_memory_kib must be at least 8192 and auth.argon2_iterations at least 1"
                    .into(),
            ));
        }
        if let Some(origin) = self
            .server
            .cors_allowed_origins
            .iter()
            .find(|origin| !is_origin(origin))
        {
            return Err(ConfigError::Invalid(format!(
                "server.cors_allowed_origins: {origin:?} is not an origin like https://host:port"
            )));
        }
        Ok(())
    }

    pub fn engine_settings(&self) -> EngineSettings {
        self.engine.clone()
    }
}

/// `http(s)://host[:port]` with nothing after, as a browser sends in `Origin`.
fn is_origin(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once("://") else {
        return false;
    };
    matches!(scheme, "http" | "https")
        && !rest.is_empty()
        && !rest.contains(['/', '?', '#', '@', ' '])
        && headers::Origin::try_from_parts(scheme, rest, None).is_ok()
}

#[derive(Serialize)]
struct FlagsLayer {
    server: FlagOverrides,
}

#[cfg(test)]
// figment::Jail fixes the closure's error type; its size is not ours to choose.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;
    use figment::Jail;

    // Every test that loads settings runs in a figment Jail: the Jail serialises them, so one
    // test's environment variables never leak into another's.

    #[test]
    fn built_in_defaults_load_and_flags_win() {
        Jail::expect_with(|_| {
            let flags = FlagOverrides {
                bind: Some("127.0.0.1:9999".parse().unwrap()),
                data_dir: None,
            };
            let settings = Settings::load(None, &flags).unwrap();
            assert_eq!(settings.server.bind.port(), 9999);
            assert_eq!(settings.server.data_dir, PathBuf::from("./data"));
            assert_eq!(settings.engine.ring_capacity, 1000);
            assert_eq!(settings.ingest.batch_candles_max, 10_000);
            Ok(())
        });
    }

    #[test]
    fn the_exchange_section_takes_symbols_and_urls_from_the_environment() {
        Jail::expect_with(|jail| {
            jail.set_env("CRYPTOLENS_EXCHANGE__SYMBOLS", "BTCUSDT, bybit:ETHUSDT");
            jail.set_env("CRYPTOLENS_EXCHANGE__REST_URL", "http://127.0.0.1:1");
            jail.set_env("CRYPTOLENS_EXCHANGE__BYBIT__WS_URL", "ws://127.0.0.1:2");
            let settings = Settings::load(None, &FlagOverrides::default()).unwrap();
            let exchange = &settings.exchange;
            assert_eq!(exchange.symbols, ["BTCUSDT", "bybit:ETHUSDT"]);
            assert_eq!(exchange.rest_url, "http://127.0.0.1:1");
            assert_eq!(exchange.bybit.ws_url, "ws://127.0.0.1:2");
            let groups = exchange.by_exchange().unwrap();
            assert_eq!(groups.len(), 2, "{groups:?}");
            jail.set_env("CRYPTOLENS_EXCHANGE__SYMBOLS", "ftx:BTCUSDT");
            let refused = Settings::load(None, &FlagOverrides::default()).unwrap_err();
            assert!(
                refused.to_string().contains("unknown exchange"),
                "{refused}"
            );
            Ok(())
        });
    }

    #[test]
    fn environment_beats_the_file_and_flags_beat_the_environment() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "over.toml",
                "[engine]\nmailbox_capacity = 3\n[server]\nbind = \"127.0.0.1:7000\"\n",
            )?;
            let path = jail.directory().join("over.toml");
            let settings = Settings::load(Some(&path), &FlagOverrides::default()).unwrap();
            assert_eq!(
                (
                    settings.engine.mailbox_capacity,
                    settings.server.bind.port()
                ),
                (3, 7000)
            );
            jail.set_env("CRYPTOLENS_ENGINE__MAILBOX_CAPACITY", "7");
            jail.set_env("CRYPTOLENS_SERVER__BIND", "127.0.0.1:7001");
            // Not a CRYPTOLENS_SECTION__KEY name: ignored by the settings, not an error.
            jail.set_env("CRYPTOLENS_ADMIN_PASSWORD", "x");
            let settings = Settings::load(Some(&path), &FlagOverrides::default()).unwrap();
            assert_eq!(
                (
                    settings.engine.mailbox_capacity,
                    settings.server.bind.port()
                ),
                (7, 7001)
            );
            let flags = FlagOverrides {
                bind: Some("127.0.0.1:7002".parse().unwrap()),
                data_dir: None,
            };
            let settings = Settings::load(Some(&path), &flags).unwrap();
            assert_eq!(settings.server.bind.port(), 7002);
            Ok(())
        });
    }

    #[test]
    fn the_analysis_section_loads_nested_rules_tick_sizes_and_environment_overrides() {
        Jail::expect_with(|jail| {
            let defaults = Settings::load(None, &FlagOverrides::default()).unwrap();
            assert_eq!(
                defaults.analysis,
                AnalysisSettings::default(),
                "default.toml documents the code's defaults"
            );
            jail.create_file(
                "analysis.toml",
                "[analysis.expiry]\nrule = \"atr\"\natr_multiple = 2.5\n\
                 [analysis.tick_sizes]\nBTCUSDT = \"0.01\"\n",
            )?;
            let path = jail.directory().join("analysis.toml");
            jail.set_env("CRYPTOLENS_ANALYSIS__SIGNALS__CONFLUENCE_MIN", "4");
            let settings = Settings::load(Some(&path), &FlagOverrides::default()).unwrap();
            let analysis = settings.analysis;
            assert_eq!(
                analysis.expiry,
                cryptolens_actors::domain::analysis::ExpiryRule::Atr { atr_multiple: 2.5 }
            );
            assert_eq!(analysis.tick_sizes["BTCUSDT"].to_string(), "0.01");
            assert_eq!(analysis.signals.confluence_min, 4);
            jail.create_file(
                "bad.toml",
                "[analysis.liquidity_sweep]\ncandles_back_min = 2\n",
            )?;
            let bad = jail.directory().join("bad.toml");
            let error = Settings::load(Some(&bad), &FlagOverrides::default()).unwrap_err();
            assert!(
                error
                    .to_string()
                    .contains("analysis.liquidity_sweep.candles_back_min"),
                "{error}"
            );
            Ok(())
        });
    }

    #[test]
    fn a_weak_metrics_token_is_refused() {
        Jail::expect_with(|jail| {
            jail.set_env("CRYPTOLENS_SERVER__METRICS_TOKEN", "short");
            let error = Settings::load(None, &FlagOverrides::default()).unwrap_err();
            assert!(error.to_string().contains("metrics_token"), "{error}");
            jail.set_env("CRYPTOLENS_SERVER__METRICS_TOKEN", "a".repeat(40));
            assert!(
                Settings::load(None, &FlagOverrides::default()).is_err(),
                "repetitive"
            );
            Ok(())
        });
    }

    #[test]
    fn a_missing_config_file_is_an_error() {
        Jail::expect_with(|_| {
            let error = Settings::load(
                Some(Path::new("/nonexistent/cryptolens.toml")),
                &FlagOverrides::default(),
            );
            assert!(error.unwrap_err().to_string().contains("does not exist"));
            Ok(())
        });
    }

    #[test]
    fn a_config_file_overrides_defaults_and_bad_values_are_refused() {
        Jail::expect_with(|jail| {
            let path = jail.directory().join("over.toml");
            jail.create_file("over.toml", "[engine]\nmailbox_capacty = 3\n")?;
            let error = Settings::load(Some(&path), &FlagOverrides::default()).unwrap_err();
            assert!(error.to_string().contains("mailbox_capacty"), "{error}");
            jail.create_file("over.toml", "[engine]\nring_capacity = 0\n")?;
            let error = Settings::load(Some(&path), &FlagOverrides::default()).unwrap_err();
            assert!(
                error
                    .to_string()
                    .contains("engine.ring_capacity must be at least 1"),
                "{error}"
            );
            Ok(())
        });
    }
}
