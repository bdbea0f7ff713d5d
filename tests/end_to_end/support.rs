//! Helpers: a real server process on an ephemeral port, an in-process server, candle bodies.

use cryptolens::config::{FlagOverrides, Settings};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const MINUTE_MS: i64 = 60_000;

/// The committed `fixtures/` folder (registry data and golden outputs).
pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// `../shared/data/candles`, or None with a printed notice (a user's clone may not have it).
pub fn shared_candles() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/candles");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!(
            "SKIPPED: {} is absent; this test needs the shared market data",
            dir.display()
        );
        None
    }
}

/// The real binary, serving on 127.0.0.1:0 with its own data dir; killed on drop.
pub struct ServerProcess {
    pub child: Child,
    pub base_url: String,
    _data_dir: tempfile::TempDir,
}

impl ServerProcess {
    /// Starts `cryptolens serve`, with `extra_toml` as a `--config` file when given.
    pub fn start(extra_toml: &str) -> ServerProcess {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let config_path = data_dir.path().join("test.toml");
        std::fs::write(&config_path, extra_toml).expect("write config");
        let mut child = Command::new(env!("CARGO_BIN_EXE_cryptolens"))
            .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir.path().join("store"))
            .arg("--config")
            .arg(&config_path)
            .env("CRYPTOLENS_LOG__FILTER", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn cryptolens");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the listening line");
        let base_url = line.trim().rsplit(' ').next().expect("address").to_owned();
        assert!(
            base_url.starts_with("http://127.0.0.1:"),
            "unexpected first line {line:?}"
        );
        ServerProcess {
            child,
            base_url,
            _data_dir: data_dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Sends `signal` (e.g. "TERM") and waits for the exit status.
    pub fn signal_and_wait(&mut self, signal: &str) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status();
        assert!(status.expect("run kill").success());
        for _ in 0..200 {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the server did not exit within 10 s of SIG{signal}");
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Settings for an in-process server on an ephemeral port and a fresh data dir.
pub fn in_process_settings(data_dir: &std::path::Path) -> Settings {
    let flags = FlagOverrides {
        bind: Some("127.0.0.1:0".parse().expect("addr")),
        data_dir: Some(data_dir.to_owned()),
    };
    Settings::load(None, &flags).expect("default settings")
}

/// A valid one-minute candle body whose prices depend on `seed`.
pub fn candle_json(open_time_ms: i64, seed: i64) -> Value {
    let base = 100 + seed % 50;
    json!({"t": open_time_ms, "o": format!("{base}.5"), "h": format!("{}.25", base + 2), "l": format!("{}.75", base - 2), "c": format!("{}.125", base + 1), "v": "12.34567891"})
}

pub fn batch(symbol: &str, timeframe: &str, candles: Vec<Value>) -> Value {
    json!({"symbol": symbol, "timeframe": timeframe, "candles": candles})
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// GET `url` and parse the JSON body, whatever the status.
pub async fn get_json(http: &reqwest::Client, url: &str) -> Value {
    let response = http.get(url).send().await.expect("GET");
    response.json().await.expect("JSON body")
}

/// POST `body` as JSON to `url`; the status and the parsed JSON answer.
pub async fn post_json(http: &reqwest::Client, url: &str, body: &Value) -> (u16, Value) {
    let response = http.post(url).json(body).send().await.expect("POST");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON body"))
}

/// The `/api/actors` entry of `symbol`, if it has an actor.
pub async fn actor_view(http: &reqwest::Client, base: &str, symbol: &str) -> Option<Value> {
    let actors = get_json(http, &format!("{base}/api/actors")).await;
    actors["actors"]
        .as_array()?
        .iter()
        .find(|actor| actor["symbol"] == symbol)
        .cloned()
}

/// Polls `/api/actors` until `field` of `symbol`'s actor equals `expected` (or 2 s pass);
/// returns the last value seen.
pub async fn wait_for_actor_field(
    http: &reqwest::Client,
    base: &str,
    symbol: &str,
    field: &str,
    expected: u64,
) -> u64 {
    let mut seen = 0;
    for _ in 0..200 {
        seen = actor_view(http, base, symbol)
            .await
            .and_then(|actor| actor[field].as_u64())
            .unwrap_or(0);
        if seen == expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    seen
}

/// Every CSV in `../shared/data/candles`, sorted; None (with the notice) when it is absent.
pub fn shared_csv_files() -> Option<Vec<PathBuf>> {
    let dir = shared_candles()?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read dir")
        .filter_map(|entry| Some(entry.ok()?.path()))
        .collect();
    files.retain(|path| path.extension().is_some_and(|extension| extension == "csv"));
    files.sort();
    assert!(files.len() >= 7, "expected the seven shared candle files");
    Some(files)
}

/// `NAME-5m.csv` -> (`NAME-5m`, 5m).
pub fn stem_and_timeframe(
    path: &std::path::Path,
) -> (String, cryptolens_actors::domain::market::Timeframe) {
    let stem = path
        .file_stem()
        .and_then(|stem| stem.to_str())
        .expect("file stem")
        .to_owned();
    let timeframe = stem
        .rsplit('-')
        .next()
        .and_then(|suffix| suffix.parse().ok())
        .expect("timeframe suffix");
    (stem, timeframe)
}

/// POSTs one one-minute candle at `minute` for `symbol` to the server at `base`.
pub async fn post_minute(
    http: &reqwest::Client,
    base: &str,
    symbol: &str,
    minute: i64,
) -> reqwest::Response {
    let body = batch(symbol, "1m", vec![candle_json(minute * MINUTE_MS, minute)]);
    http.post(format!("{base}/api/candles"))
        .json(&body)
        .send()
        .await
        .expect("POST")
}

/// The real server started in-process with `settings`, its base URL, and the data dir that
/// must outlive it.
pub async fn start_in_process(
    adjust: impl FnOnce(&mut Settings),
) -> (tempfile::TempDir, cryptolens::server::Server, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = in_process_settings(dir.path());
    adjust(&mut settings);
    let server = cryptolens::server::Server::start(&settings, false)
        .await
        .expect("server starts");
    let base = format!("http://{}", server.local_addr());
    (dir, server, base)
}
