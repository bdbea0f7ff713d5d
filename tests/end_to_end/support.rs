//! Helpers: a real server process on an ephemeral port, an in-process server, candle bodies.

use cryptolens::config::{FlagOverrides, Settings};
use cryptolens_actors::domain::market::{Candle, Timeframe};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const MINUTE_MS: i64 = 60_000;

/// The first admin's password on every test server (given, so tests can log in).
pub const ADMIN_PASSWORD: &str = "Test-Admin-Password-7";
/// An admin API key registered at every test server's first start.
pub const ADMIN_KEY: &str =
    "clk_a1b2c3d4e5f60718_9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0";

/// Test servers serve one key hundreds of requests a second; only the scan and login limits
/// keep their defaults (the security tests exercise those).
const GENEROUS_LIMITS: [(&str, &str); 5] = [
    // Trading tests post the minutes after the orders they place, up to 50,000 of them.
    ("CRYPTOLENS_INGEST__FUTURE_INTERVALS_MAX", "10000000"),
    ("CRYPTOLENS_RATE_LIMITS__DEFAULT_PER_MINUTE", "4000000000"),
    ("CRYPTOLENS_RATE_LIMITS__DEFAULT_BURST", "4000000000"),
    ("CRYPTOLENS_RATE_LIMITS__INGEST_PER_MINUTE", "4000000000"),
    ("CRYPTOLENS_RATE_LIMITS__INGEST_BURST", "4000000000"),
];

/// The committed `fixtures/` folder (registry data and golden outputs).
pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// `../shared/data/candles`, or None with a printed notice (a user's clone may not have it).
/// Under CI (`CI` set) the data is always beside the clone, so its absence fails the test
/// instead of letting it pass without checking anything.
pub fn shared_candles() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/candles");
    shared_data_or_skip(dir, std::env::var_os("CI").is_some())
}

/// `dir` when it exists; otherwise a panic when `required` (CI), else None with a notice.
pub fn shared_data_or_skip(dir: PathBuf, required: bool) -> Option<PathBuf> {
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        !required,
        "{} is absent, and CI is set: CI must run with ../shared beside the clone",
        dir.display()
    );
    println!(
        "SKIPPED: {} is absent; this test needs the shared market data",
        dir.display()
    );
    None
}

/// The real binary, serving on 127.0.0.1:0 with its own data dir; killed on drop.
pub struct ServerProcess {
    pub child: Child,
    pub base_url: String,
    _data_dir: Option<tempfile::TempDir>,
}

impl ServerProcess {
    /// Starts `cryptolens serve` in a fresh data dir, with `extra_toml` as a `--config` file.
    pub fn start(extra_toml: &str) -> ServerProcess {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let mut server = ServerProcess::start_in(data_dir.path(), extra_toml);
        server._data_dir = Some(data_dir);
        server
    }

    /// Starts `cryptolens serve` on `data_dir`, which the caller keeps (to restart on it).
    pub fn start_in(data_dir: &std::path::Path, extra_toml: &str) -> ServerProcess {
        ServerProcess::start_with_args(data_dir, extra_toml, &[])
    }

    /// Starts `cryptolens serve` on `data_dir` with further flags (`--exchange bybit`, ...).
    pub fn start_with_args(
        data_dir: &std::path::Path,
        extra_toml: &str,
        args: &[&str],
    ) -> ServerProcess {
        let mut command = serve_command(data_dir, extra_toml);
        command.args(args);
        ServerProcess::from_command(command)
    }

    /// Starts a prepared `serve` command (see [`serve_command`]).
    pub fn from_command(mut command: Command) -> ServerProcess {
        let mut child = command
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
            _data_dir: None,
        }
    }

    /// A server some test started itself, serving at `base_url`.
    pub fn attach(child: Child, base_url: String) -> ServerProcess {
        ServerProcess {
            child,
            base_url,
            _data_dir: None,
        }
    }

    /// Keeps `dir` (the server's data dir) until the server is dropped.
    pub fn keep_data_dir(&mut self, dir: tempfile::TempDir) {
        self._data_dir = Some(dir);
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

/// A server ends the way an operator ends it, SIGTERM, so it exits through its own shutdown
/// (and a coverage build writes its profile, which a SIGKILL would lose); one that is still
/// running after 5 s is killed.
impl Drop for ServerProcess {
    fn drop(&mut self) {
        let misses = match std::thread::panicking() {
            false => crate::documented_statuses::scrape_metrics(&self.base_url)
                .map(|text| crate::documented_statuses::misses_in_metrics(&text))
                .unwrap_or_default(),
            true => Vec::new(),
        };
        self.stop();
        crate::documented_statuses::report(misses);
    }
}

impl ServerProcess {
    fn stop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(self.child.id().to_string())
                .status();
            for _ in 0..100 {
                if !matches!(self.child.try_wait(), Ok(None)) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `cryptolens serve` on an ephemeral port over `data_dir`, with `extra_toml` as `--config`.
pub fn serve_command(data_dir: &std::path::Path, extra_toml: &str) -> Command {
    let config_path = data_dir.join("test.toml");
    std::fs::create_dir_all(data_dir).expect("data dir");
    std::fs::write(&config_path, extra_toml).expect("write config");
    let mut command = Command::new(env!("CARGO_BIN_EXE_cryptolens"));
    command
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .arg("--config")
        .arg(&config_path)
        .env("CRYPTOLENS_LOG__FILTER", "warn")
        .env("CRYPTOLENS_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("CRYPTOLENS_ADMIN_API_KEY", ADMIN_KEY)
        .envs(GENEROUS_LIMITS);
    command
}

/// Settings for an in-process server on an ephemeral port and a fresh data dir.
pub fn in_process_settings(data_dir: &std::path::Path) -> Settings {
    let flags = FlagOverrides {
        bind: Some("127.0.0.1:0".parse().expect("addr")),
        data_dir: Some(data_dir.to_owned()),
    };
    let mut settings = Settings::load(None, &flags).expect("default settings");
    settings.ingest.future_intervals_max = 10_000_000;
    settings
}

/// A valid one-minute candle body whose prices depend on `seed`.
pub fn candle_json(open_time_ms: i64, seed: i64) -> Value {
    let base = 100 + seed % 50;
    json!({"t": open_time_ms, "o": format!("{base}.5"), "h": format!("{}.25", base + 2), "l": format!("{}.75", base - 2), "c": format!("{}.125", base + 1), "v": "12.34567891"})
}

pub fn batch(symbol: &str, timeframe: &str, candles: Vec<Value>) -> Value {
    json!({"symbol": symbol, "timeframe": timeframe, "candles": candles})
}

/// A client that acts as the admin (with [`ADMIN_KEY`]).
pub fn client() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "x-api-key",
        reqwest::header::HeaderValue::from_static(ADMIN_KEY),
    );
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .default_headers(headers)
        .build()
        .expect("client")
}

/// A client without credentials.
pub fn anonymous_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// Start options of in-process test servers: the test admin's password and key.
pub fn test_start_options() -> cryptolens::server::StartOptions {
    cryptolens::server::StartOptions {
        demo: false,
        clock: std::sync::Arc::new(cryptolens::auth::SystemClock),
        admin_password: Some(ADMIN_PASSWORD.into()),
        admin_api_key: Some(ADMIN_KEY.into()),
    }
}

/// GET `url` and parse the JSON body, whatever the status.
pub async fn get_json(http: &reqwest::Client, url: &str) -> Value {
    let response = http.get(url).send().await.expect("GET");
    crate::documented_statuses::check_answer("GET", url, response.status().as_u16());
    response.json().await.expect("JSON body")
}

/// POST `body` as JSON to `url`; the status and the parsed JSON answer.
pub async fn post_json(http: &reqwest::Client, url: &str, body: &Value) -> (u16, Value) {
    let response = http.post(url).json(body).send().await.expect("POST");
    let status = response.status().as_u16();
    crate::documented_statuses::check_answer("POST", url, status);
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

/// [`start_in_process`] with other start options (an injected clock, say).
pub async fn start_in_process_with(
    adjust: impl FnOnce(&mut Settings),
    options: cryptolens::server::StartOptions,
) -> (tempfile::TempDir, cryptolens::server::Server, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = in_process_settings(dir.path());
    adjust(&mut settings);
    let server = cryptolens::server::Server::start(&settings, options)
        .await
        .expect("server starts");
    let base = format!("http://{}", server.local_addr());
    (dir, server, base)
}

/// A client that sends `Authorization: Bearer <token>`.
pub fn bearer_client(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "authorization",
        format!("Bearer {token}").parse().expect("header value"),
    );
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .default_headers(headers)
        .build()
        .expect("client")
}

/// Sends `method` to `url` with an optional JSON body: the status and the JSON answer
/// (Null when the answer is not JSON).
pub async fn send(
    http: &reqwest::Client,
    method: &str,
    url: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let verb = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut request = http.request(verb, url);
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    crate::documented_statuses::check_answer(method, url, status);
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Logs `username` in; the session token.
pub async fn login(base: &str, username: &str, password: &str) -> String {
    let (status, answer) = send(
        &anonymous_client(),
        "POST",
        &format!("{base}/api/auth/login"),
        Some(&json!({"username": username, "password": password})),
    )
    .await;
    assert_eq!(status, 200, "login of {username}: {answer}");
    answer["token"].as_str().expect("token").to_owned()
}

/// Creates a user as the admin.
pub async fn add_user(base: &str, username: &str, role: &str, password: &str) {
    let (status, answer) = send(
        &client(),
        "POST",
        &format!("{base}/api/users"),
        Some(&json!({"username": username, "role": role, "password": password})),
    )
    .await;
    assert_eq!(status, 201, "adding {username}: {answer}");
}

/// The real server started in-process with `settings`, its base URL, and the data dir that
/// must outlive it.
pub async fn start_in_process(
    adjust: impl FnOnce(&mut Settings),
) -> (tempfile::TempDir, cryptolens::server::Server, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = in_process_settings(dir.path());
    for limit in [
        &mut settings.rate_limits.default_per_minute,
        &mut settings.rate_limits.default_burst,
        &mut settings.rate_limits.ingest_per_minute,
        &mut settings.rate_limits.ingest_burst,
    ] {
        *limit = u32::MAX;
    }
    adjust(&mut settings);
    let server = cryptolens::server::Server::start(&settings, test_start_options())
        .await
        .expect("server starts");
    let base = format!("http://{}", server.local_addr());
    (dir, server, base)
}

/// A checked candle as the API's JSON body.
pub fn candle_body(candle: &Candle) -> Value {
    json!({"t": candle.open_time_ms, "o": candle.open.to_string(), "h": candle.high.to_string(),
           "l": candle.low.to_string(), "c": candle.close.to_string(), "v": candle.volume.to_string()})
}

/// Posts `candles` as one batch and asserts it was accepted.
pub async fn post_candles(
    http: &reqwest::Client,
    base: &str,
    symbol: &str,
    timeframe: Timeframe,
    candles: &[Candle],
) {
    let bodies = candles.iter().map(candle_body).collect();
    let body = batch(symbol, timeframe.as_str(), bodies);
    let (status, answer) = post_json(http, &format!("{base}/api/candles"), &body).await;
    assert_eq!(status, 200, "{answer}");
}

/// Every pattern the server lists for `symbol`, by id (the `symbol` field dropped).
pub async fn all_patterns(base: &str, symbol: &str) -> BTreeMap<String, Value> {
    let http = client();
    let mut patterns = BTreeMap::new();
    loop {
        let url = format!(
            "{base}/api/patterns?symbol={symbol}&limit=1000&offset={}",
            patterns.len()
        );
        let page = get_json(&http, &url).await;
        let items = page["patterns"].as_array().expect("patterns").clone();
        for mut pattern in items.clone() {
            assert_eq!(pattern["symbol"], symbol);
            pattern.as_object_mut().expect("object").remove("symbol");
            patterns.insert(pattern["id"].as_str().expect("id").to_owned(), pattern);
        }
        if items.is_empty() || patterns.len() as u64 >= page["total"].as_u64().expect("total") {
            return patterns;
        }
    }
}

/// The value of Prometheus metric `name` (no labels) at `base`'s `/metrics`, read as the
/// admin; None if it is not exposed.
pub async fn metric_value(base: &str, name: &str) -> Option<f64> {
    let response = client().get(format!("{base}/metrics")).send().await.ok()?;
    let text = response.text().await.ok()?;
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{name} "))?.trim().parse().ok())
}

/// `cryptolens import` of `file` as EURUSD 1h into `server`, as the admin; asserts it worked.
pub fn import_eurusd_file(server: &ServerProcess, file: &std::path::Path) {
    let output = Command::new(env!("CARGO_BIN_EXE_cryptolens"))
        .env("CRYPTOLENS_API_KEY", ADMIN_KEY)
        .args(["import", "--symbol", "EURUSD", "--timeframe", "1h"])
        .args(["--server", &server.base_url])
        .arg(file)
        .output()
        .expect("import");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// EURUSD rows `from..to` (after the header) written beside `dir`, imported into `server`.
pub fn import_eurusd_rows(server: &ServerProcess, dir: &std::path::Path, from: usize, to: usize) {
    let text = std::fs::read_to_string(fixtures().join("data/EURUSD-1h.csv")).expect("fixture");
    let mut lines = text.lines();
    let header = lines.next().expect("header");
    let rows: Vec<&str> = lines.skip(from).take(to - from).collect();
    let file = dir.join(format!("eurusd-{from}.csv"));
    std::fs::write(&file, format!("{header}\n{}\n", rows.join("\n"))).expect("write part");
    import_eurusd_file(server, &file);
}
