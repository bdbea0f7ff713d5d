//! Credentials against the real server: login throttling per account and address, seen by the
//! attacker and by the owner, and its release (injected clock), the same
//! answer for unknown users, session and key expiry and revocation, a password change ending
//! every session, rate limits with Retry-After, body limits and unknown fields, first-start
//! secrets, the operator's user commands, CORS and HSTS.

use crate::support::{
    add_user, anonymous_client, bearer_client, client, login, send, serve_command,
    start_in_process_with, test_start_options, ServerProcess, ADMIN_PASSWORD,
};
use cryptolens::auth::ManualClock;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const MINUTE_MS: i64 = 60_000;

async fn attempt(base: &str, username: &str, password: &str) -> (u16, Value, Option<String>) {
    attempt_from(ATTACKER, base, username, password).await
}

/// An in-process server whose auth clock the test moves; logins are not rate limited here.
async fn server_with_clock() -> (
    tempfile::TempDir,
    cryptolens::server::Server,
    String,
    ManualClock,
) {
    let clock = ManualClock::starting_at(chrono::Utc::now().timestamp_millis());
    let options = cryptolens::server::StartOptions {
        clock: Arc::new(clock.clone()),
        ..test_start_options()
    };
    let (dir, server, base) = start_in_process_with(
        |settings| settings.rate_limits.login_per_minute = 1000,
        options,
    )
    .await;
    (dir, server, base, clock)
}

/// A login from `source` (another loopback address is another client).
async fn attempt_from(
    source: [u8; 4],
    base: &str,
    username: &str,
    password: &str,
) -> (u16, Value, Option<String>) {
    attempt_with(&client_from(source), base, username, password).await
}

fn client_from(source: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(std::net::IpAddr::from(source))
        .build()
        .expect("client")
}

async fn attempt_with(
    http: &reqwest::Client,
    base: &str,
    username: &str,
    password: &str,
) -> (u16, Value, Option<String>) {
    let response = http
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("POST login");
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|value| value.to_str().expect("ascii").to_owned());
    (status, response.json().await.expect("JSON"), retry_after)
}

const ATTACKER: [u8; 4] = [127, 0, 0, 1];
const OWNER: [u8; 4] = [127, 0, 0, 2];

#[tokio::test]
async fn failures_from_one_address_delay_it_progressively_while_the_owner_logs_in_elsewhere() {
    let (_dir, server, base, clock) = server_with_clock().await;
    let (mut wrong_ms, mut unknown_ms) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        let started = Instant::now();
        let (status, wrong, _) = attempt_from(ATTACKER, &base, "admin", "Not-The-Password-1").await;
        wrong_ms.push(started.elapsed().as_secs_f64());
        assert_eq!(status, 401);
        let started = Instant::now();
        let (status, unknown, _) =
            attempt_from(ATTACKER, &base, "nobody", "Not-The-Password-1").await;
        unknown_ms.push(started.elapsed().as_secs_f64());
        assert_eq!(status, 401);
        assert_eq!(wrong, unknown, "an unknown user gets the same answer");
    }
    wrong_ms.sort_by(f64::total_cmp);
    unknown_ms.sort_by(f64::total_cmp);
    // The fastest of each: the same argon2 work shows there, while load from tests running
    // alongside only ever adds time.
    let ratio = unknown_ms[0] / wrong_ms[0];
    assert!(
        (0.5..2.0).contains(&ratio),
        "fastest timing ratio {ratio}: {unknown_ms:?} vs {wrong_ms:?}"
    );
    // The attacker's view: even the right password waits, a delay doubling per failure.
    for name in ["admin", "nobody"] {
        let (status, locked, retry_after) =
            attempt_from(ATTACKER, &base, name, ADMIN_PASSWORD).await;
        assert_eq!(
            (status, locked["error"]["code"].as_str()),
            (401, Some("account_locked")),
            "{name}"
        );
        assert_eq!(retry_after.as_deref(), Some("1"));
    }
    // The owner's view, meanwhile, from another address: not locked out.
    let (status, session, _) = attempt_from(OWNER, &base, "admin", ADMIN_PASSWORD).await;
    assert_eq!(status, 200, "the owner logs in from elsewhere: {session}");
    for expected_wait_s in [2, 4, 8] {
        clock.advance_ms(MINUTE_MS);
        let (status, _, _) = attempt_from(ATTACKER, &base, "admin", "Not-The-Password-2").await;
        assert_eq!(status, 401);
        let (_, _, retry_after) = attempt_from(ATTACKER, &base, "admin", ADMIN_PASSWORD).await;
        assert_eq!(retry_after, Some(expected_wait_s.to_string()));
    }
    let (status, _, _) = attempt_from(OWNER, &base, "admin", ADMIN_PASSWORD).await;
    assert_eq!(status, 200, "still not locked out");
    clock.advance_ms(15 * MINUTE_MS);
    let (status, _, _) = attempt_from(ATTACKER, &base, "admin", ADMIN_PASSWORD).await;
    assert_eq!(status, 200, "released after the delay");
    server.shutdown().await;
}

#[tokio::test]
async fn an_account_attacked_from_many_addresses_slows_a_new_one_but_lets_the_owner_in() {
    let clock = ManualClock::starting_at(chrono::Utc::now().timestamp_millis());
    let options = cryptolens::server::StartOptions {
        clock: Arc::new(clock.clone()),
        ..test_start_options()
    };
    let (_dir, server, base) = start_in_process_with(
        |settings| {
            settings.rate_limits.login_per_minute = 1000;
            settings.auth.lockout_account_failures = 12;
            settings.auth.lockout_slow_ms = 1500;
        },
        options,
    )
    .await;
    let started = Instant::now();
    let (status, _, _) = attempt_from(OWNER, &base, "admin", ADMIN_PASSWORD).await;
    assert_eq!(status, 200);
    let unslowed = started.elapsed();
    for attacker in 10..16 {
        for _ in 0..2 {
            let (status, _, _) =
                attempt_from([127, 0, 1, attacker], &base, "admin", "Wrong-1").await;
            assert_eq!(status, 401);
        }
    }
    let started = Instant::now();
    let (status, _, _) = attempt_from([127, 0, 0, 3], &base, "admin", ADMIN_PASSWORD).await;
    let slowed = started.elapsed();
    assert_eq!(status, 200, "a new address proves the password and gets in");
    assert!(slowed >= Duration::from_millis(1500), "slowed: {slowed:?}");
    let started = Instant::now();
    let (status, _, _) = attempt_from(OWNER, &base, "admin", ADMIN_PASSWORD).await;
    assert_eq!(status, 200);
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "a known address is not slowed ({:?}, first login took {unslowed:?})",
        started.elapsed()
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_hasher_never_counts_as_a_failed_login() {
    let (_dir, server, base) = start_in_process_with(
        |settings| {
            settings.rate_limits.login_per_minute = 1000;
            settings.auth.hashing_concurrency = 1;
            // Slow hashes, so the waiting line fills.
            settings.auth.argon2_memory_kib = 32 * 1024;
            settings.auth.argon2_iterations = 4;
        },
        test_start_options(),
    )
    .await;
    // A flood of logins under other names keeps the hasher's waiting line full.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let attacker = client_from(ATTACKER);
    let flood: Vec<_> = (0..100)
        .map(|n| {
            let (base, attacker, stop) = (base.clone(), attacker.clone(), Arc::clone(&stop));
            tokio::spawn(async move {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    attempt_with(&attacker, &base, &format!("flood{n}"), "Wrong-1").await;
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let owner = client_from(OWNER);
    let mut statuses = Vec::new();
    while statuses.iter().filter(|status| **status == 503).count() < 8 && statuses.len() < 400 {
        statuses.push(attempt_with(&owner, &base, "admin", ADMIN_PASSWORD).await.0);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for task in flood {
        task.await.expect("flood task");
    }
    let busy = statuses.iter().filter(|status| **status == 503).count();
    assert!(
        busy >= 8,
        "the hasher was busy more often than the lockout allows: {statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|status| *status == 200 || *status == 503),
        "the owner was never locked out: {statuses:?}"
    );
    let (status, _, _) = attempt_from(OWNER, &base, "admin", ADMIN_PASSWORD).await;
    assert_eq!(status, 200);
    server.shutdown().await;
}

#[tokio::test]
async fn sessions_end_on_logout_idle_time_absolute_expiry_and_password_change() {
    let (_dir, server, base, clock) = server_with_clock().await;
    let me = format!("{base}/api/auth/me");
    let token = login(&base, "admin", ADMIN_PASSWORD).await;
    let session = bearer_client(&token);
    assert_eq!(send(&session, "GET", &me, None).await.0, 200);
    assert_eq!(
        send(&session, "POST", &format!("{base}/api/auth/logout"), None)
            .await
            .0,
        200
    );
    assert_eq!(send(&session, "GET", &me, None).await.0, 401, "logged out");

    let idle = bearer_client(&login(&base, "admin", ADMIN_PASSWORD).await);
    clock.advance_ms(29 * MINUTE_MS);
    assert_eq!(
        send(&idle, "GET", &me, None).await.0,
        200,
        "29 minutes idle is fine"
    );
    clock.advance_ms(30 * MINUTE_MS);
    assert_eq!(
        send(&idle, "GET", &me, None).await.0,
        401,
        "30 minutes idle ends it"
    );

    let busy = bearer_client(&login(&base, "admin", ADMIN_PASSWORD).await);
    for _ in 0..35 {
        clock.advance_ms(20 * MINUTE_MS);
        assert_eq!(send(&busy, "GET", &me, None).await.0, 200);
    }
    clock.advance_ms(19 * MINUTE_MS);
    assert_eq!(send(&busy, "GET", &me, None).await.0, 200, "11 h 59 min in");
    clock.advance_ms(MINUTE_MS);
    assert_eq!(
        send(&busy, "GET", &me, None).await.0,
        401,
        "12 h absolute expiry"
    );

    let first = bearer_client(&login(&base, "admin", ADMIN_PASSWORD).await);
    let second = bearer_client(&login(&base, "admin", ADMIN_PASSWORD).await);
    let change =
        |current: &str, new: &str| json!({"current_password": current, "new_password": new});
    let url = format!("{base}/api/auth/password");
    let (status, refused) = send(
        &first,
        "POST",
        &url,
        Some(&change("wrong-Password-1", "New-Admin-Pass-42")),
    )
    .await;
    assert_eq!(
        (status, refused["error"]["field"].as_str()),
        (400, Some("current_password"))
    );
    let (status, refused) = send(
        &first,
        "POST",
        &url,
        Some(&change(ADMIN_PASSWORD, "Password1234")),
    )
    .await;
    assert_eq!(
        (status, refused["error"]["field"].as_str()),
        (400, Some("new_password")),
        "{refused}"
    );
    let (status, _) = send(
        &first,
        "POST",
        &url,
        Some(&change(ADMIN_PASSWORD, "New-Admin-Pass-42")),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        send(&first, "GET", &me, None).await.0,
        401,
        "the changing session ends too"
    );
    assert_eq!(
        send(&second, "GET", &me, None).await.0,
        401,
        "every session ends"
    );
    assert_eq!(attempt(&base, "admin", ADMIN_PASSWORD).await.0, 401);
    login(&base, "admin", "New-Admin-Pass-42").await;
    server.shutdown().await;
}

#[tokio::test]
async fn api_keys_are_shown_once_capped_by_role_and_refused_once_revoked_or_expired() {
    let (_dir, server, base, clock) = server_with_clock().await;
    add_user(&base, "tina", "trader", "Trader-Password-42").await;
    let tina = bearer_client(&login(&base, "tina", "Trader-Password-42").await);
    let keys = format!("{base}/api/keys");
    let (status, refused) = send(
        &tina,
        "POST",
        &keys,
        Some(&json!({"name": "x", "role": "admin"})),
    )
    .await;
    assert_eq!(
        (status, refused["error"]["field"].as_str()),
        (400, Some("role"))
    );
    let expires_at = clock_now(&clock) + MINUTE_MS;
    let (status, created) = send(
        &tina,
        "POST",
        &keys,
        Some(&json!({"name": "bot", "expires_at": expires_at})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let key = created["key"].as_str().expect("key").to_owned();
    let secret = key.rsplit('_').next().expect("secret");
    assert!(
        secret.len() >= 32 && key.starts_with("clk_"),
        "at least 128 random bits: {key}"
    );
    assert_eq!(created["role"], "trader");
    let bot = key_client(&key);
    let (status, me) = send(&bot, "GET", &format!("{base}/api/auth/me"), None).await;
    assert_eq!((status, me["username"].as_str()), (200, Some("tina")));
    let (_, listed) = send(&tina, "GET", &keys, None).await;
    let listed_key = &listed["keys"][0];
    assert!(
        listed_key["last_used_at"].is_i64(),
        "last use recorded: {listed}"
    );
    assert!(
        !listed.to_string().contains(secret),
        "the key is never shown again"
    );
    clock.advance_ms(MINUTE_MS);
    assert_eq!(
        send(&bot, "GET", &format!("{base}/api/patterns"), None)
            .await
            .0,
        401,
        "expired"
    );

    let (_, created) = send(
        &tina,
        "POST",
        &keys,
        Some(&json!({"name": "viewer bot", "role": "viewer"})),
    )
    .await;
    let viewer_bot = key_client(created["key"].as_str().expect("key"));
    assert_eq!(
        send(&viewer_bot, "GET", &format!("{base}/api/patterns"), None)
            .await
            .0,
        200
    );
    assert_eq!(
        send(&viewer_bot, "POST", &format!("{base}/api/portfolios"), None)
            .await
            .0,
        403
    );
    let id = created["id"].as_str().expect("id");
    let (status, _) = send(&client(), "DELETE", &format!("{keys}/{id}"), None).await;
    assert_eq!(status, 200, "an admin may revoke anyone's key");
    assert_eq!(
        send(&viewer_bot, "GET", &format!("{base}/api/patterns"), None)
            .await
            .0,
        401,
        "revoked"
    );
    let (status, _) = send(&tina, "DELETE", &format!("{keys}/ffffffffffffffff"), None).await;
    assert_eq!(status, 404);
    server.shutdown().await;
}

fn clock_now(clock: &ManualClock) -> i64 {
    use cryptolens::auth::Clock;
    clock.now_ms()
}

fn key_client(key: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-api-key", key.parse().expect("header"));
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("client")
}

#[tokio::test]
async fn over_the_limit_is_429_with_retry_after() {
    let server = ServerProcess::start("");
    let scan = || client().post(server.url("/api/scan")).send();
    assert_eq!(scan().await.expect("scan").status(), 200);
    let refused = scan().await.expect("scan");
    assert_eq!(refused.status(), 429);
    let wait: u64 = refused.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&wait), "{wait}");
    let answer: Value = refused.json().await.expect("JSON");
    assert_eq!(answer["error"]["code"], "rate_limited");
    let mut statuses = Vec::new();
    for _ in 0..11 {
        statuses.push(
            attempt(&server.base_url, "admin", "Not-The-Password-1")
                .await
                .0,
        );
    }
    assert_eq!(statuses[..10], [401; 10], "ten logins a minute per address");
    assert_eq!(statuses[10], 429);
    let (status, metrics) = send(&client(), "GET", &server.url("/metrics"), None).await;
    assert_eq!((status, metrics), (200, Value::Null), "metrics are text");
    let text = client()
        .get(server.url("/metrics"))
        .send()
        .await
        .expect("GET")
        .text()
        .await
        .expect("text");
    assert!(text.contains("cryptolens_rate_limited_total 2"), "{text}");
    assert!(text.contains("cryptolens_auth_failures_total 10"), "{text}");
}

#[tokio::test]
async fn oversized_bodies_are_413_and_unknown_fields_400_on_every_body() {
    let server = ServerProcess::start("[rate_limits]\nscan_per_minute = 100\n");
    let portfolio = json!({"name": "p", "initial_balance": "1000"});
    let (status, _) = send(
        &client(),
        "POST",
        &server.url("/api/portfolios"),
        Some(&portfolio),
    )
    .await;
    assert_eq!(
        status, 201,
        "portfolio 1 exists, so the portfolio routes read their bodies"
    );
    let bodies = [
        (
            "POST",
            "/api/auth/login",
            json!({"username": "a", "password": "b"}),
        ),
        (
            "POST",
            "/api/auth/password",
            json!({"current_password": "a", "new_password": "b"}),
        ),
        ("POST", "/api/keys", json!({"name": "k"})),
        (
            "POST",
            "/api/users",
            json!({"username": "u", "role": "viewer", "password": "p"}),
        ),
        ("PATCH", "/api/users/admin", json!({"disabled": false})),
        (
            "POST",
            "/api/candles",
            json!({"symbol": "BTCUSDT", "timeframe": "1m", "candles": []}),
        ),
        ("POST", "/api/scan", json!({})),
        (
            "POST",
            "/api/portfolios",
            json!({"name": "p", "initial_balance": "1"}),
        ),
        (
            "POST",
            "/api/portfolios/1/trades",
            json!({"symbol": "BTCUSDT"}),
        ),
        ("PATCH", "/api/portfolios/1/trades/1", json!({})),
        ("POST", "/api/portfolios/1/trades/1/close", json!({})),
        (
            "POST",
            "/api/portfolios/1/trades/1/add",
            json!({"quantity": "1"}),
        ),
        (
            "POST",
            "/api/portfolios/1/trades/1/journal",
            json!({"text": "t"}),
        ),
    ];
    for (method, path, body) in bodies {
        let status = status_for_declared_length(&server.base_url, method, path, 5 << 20).await;
        assert_eq!(status, 413, "{method} {path}");
        let mut assigned = body.clone();
        assigned["is_admin"] = json!(true);
        let (status, refused) = send(&client(), method, &server.url(path), Some(&assigned)).await;
        assert_eq!(status, 400, "{method} {path}: {refused}");
        let message = refused["error"]["message"].as_str().expect("message");
        assert!(message.contains("is_admin"), "{method} {path}: {message}");
    }
}

/// The status a request declaring a `length`-byte body gets before sending any of it: a
/// server that would read the body first cannot answer.
async fn status_for_declared_length(base: &str, method: &str, path: &str, length: usize) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nhost: {address}\r\nx-api-key: {}\r\n\
         content-type: application/json\r\ncontent-length: {length}\r\n\r\n",
        crate::support::ADMIN_KEY
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    let mut answer = vec![0u8; 12];
    stream.read_exact(&mut answer).await.expect("status line");
    String::from_utf8_lossy(&answer[9..12])
        .parse()
        .expect("status")
}

#[test]
fn first_start_writes_a_generated_admin_password_to_a_private_file_and_keeps_the_data_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut command = serve_command(dir.path(), "");
    // As an operator's `mkdir` leaves it: readable by all, until the server starts.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    command
        .env_remove("CRYPTOLENS_ADMIN_PASSWORD")
        .env_remove("CRYPTOLENS_ADMIN_API_KEY");
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut listening = String::new();
    stdout.read_line(&mut listening).expect("line");
    let base = listening
        .trim()
        .rsplit(' ')
        .next()
        .expect("address")
        .to_owned();
    let mut line = String::new();
    stdout.read_line(&mut line).expect("password line");
    let file = dir.path().join("secrets/admin_password");
    assert!(
        line.contains(&format!("its password is in {}", file.display())),
        "the path, not the password, is printed: {line}"
    );
    let mode = std::fs::metadata(&file)
        .expect("password file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let password = std::fs::read_to_string(&file)
        .expect("password")
        .trim()
        .to_owned();
    assert!(!line.contains(&password));
    for (path, expected) in [
        (dir.path().to_owned(), 0o700),
        (dir.path().join("store"), 0o700),
    ] {
        let mode = std::fs::metadata(&path).expect("dir").permissions().mode();
        assert_eq!(mode & 0o777, expected, "{}", path.display());
    }
    for entry in std::fs::read_dir(dir.path().join("store")).expect("store") {
        let entry = entry.expect("entry");
        if entry.file_type().expect("type").is_file() {
            let mode = entry.metadata().expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{}", entry.path().display());
        }
    }
    assert_eq!(cryptolens::auth::password::check_policy(&password), Ok(()));
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let token = runtime.block_on(login(&base, "admin", &password));
    let (status, _) = runtime.block_on(send(
        &bearer_client(&token),
        "GET",
        &format!("{base}/api/patterns"),
        None,
    ));
    assert_eq!(status, 200);
    let secret = dir.path().join("secrets/metrics_token");
    let mode = std::fs::metadata(&secret)
        .expect("metrics token file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let metrics_token = std::fs::read_to_string(&secret).expect("token");
    let status = runtime.block_on(async {
        let response = anonymous_client()
            .get(format!("{base}/metrics"))
            .bearer_auth(metrics_token.trim())
            .send()
            .await
            .expect("GET");
        response.status()
    });
    assert_eq!(status, 200, "the generated token reads /metrics");
    let _ = child.kill();
    let _ = child.wait();
    let mut rest = String::new();
    let mut stderr = child.stderr.take().expect("stderr");
    std::io::Read::read_to_string(&mut stderr, &mut rest).expect("stderr");
    assert!(
        !rest.contains(&password) && !rest.contains(&token),
        "secrets are not logged"
    );

    let restarted = ServerProcess::start_in(dir.path(), "");
    let runtime_answer = runtime.block_on(attempt(&restarted.base_url, "admin", &password));
    assert_eq!(
        runtime_answer.0, 200,
        "the store keeps the admin; no new password"
    );
}

#[test]
fn a_weak_admin_password_from_the_environment_is_refused_at_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = serve_command(dir.path(), "")
        .env("CRYPTOLENS_ADMIN_PASSWORD", "password")
        .output()
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("at least 10 characters"), "{stderr}");
}

fn user_command(data_dir: &std::path::Path, args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cryptolens"))
        .arg("user")
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write");
    child.wait_with_output().expect("wait")
}

#[tokio::test]
async fn operators_add_change_and_disable_users_offline() {
    let dir = tempfile::tempdir().expect("temp dir");
    drop(ServerProcess::start_in(dir.path(), ""));
    std::thread::sleep(Duration::from_millis(200));
    let added = user_command(
        dir.path(),
        &["add", "--username", "ana", "--role", "trader"],
        "Ana-Password-123\n",
    );
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let weak = user_command(
        dir.path(),
        &["add", "--username", "bob", "--role", "viewer"],
        "qwerty\n",
    );
    assert_eq!(weak.status.code(), Some(1));
    let twice = user_command(
        dir.path(),
        &["add", "--username", "ana", "--role", "viewer"],
        "Ana-Password-123\n",
    );
    assert_eq!(twice.status.code(), Some(1));
    let changed = user_command(
        dir.path(),
        &["passwd", "--username", "ana"],
        "Ana-Password-456\n",
    );
    assert!(changed.status.success());
    let listed = user_command(dir.path(), &["list"], "");
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.contains("\"ana\"") && listed.contains("\"trader\"") && !listed.contains("argon2"),
        "{listed}"
    );

    let server = ServerProcess::start_in(dir.path(), "");
    assert_eq!(
        attempt(&server.base_url, "ana", "Ana-Password-123").await.0,
        401
    );
    login(&server.base_url, "ana", "Ana-Password-456").await;
    drop(server);
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        user_command(dir.path(), &["disable", "--username", "ana"], "")
            .status
            .success()
    );
    let server = ServerProcess::start_in(dir.path(), "");
    assert_eq!(
        attempt(&server.base_url, "ana", "Ana-Password-456").await.0,
        401,
        "disabled"
    );
}

#[tokio::test]
async fn cors_allows_only_configured_origins_and_hsts_follows_the_tls_setting() {
    let plain = ServerProcess::start("");
    let answer = client()
        .get(plain.url("/api/patterns"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .expect("GET");
    assert!(answer
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    assert!(answer.headers().get("strict-transport-security").is_none());

    let server = ServerProcess::start(
        "[server]\ncors_allowed_origins = [\"https://desk.example.com\"]\ntls_terminated_by_proxy = true\n",
    );
    let preflight = |origin: &'static str| {
        anonymous_client()
            .request(reqwest::Method::OPTIONS, server.url("/api/patterns"))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "x-api-key")
            .send()
    };
    let allowed = preflight("https://desk.example.com")
        .await
        .expect("OPTIONS");
    assert_eq!(allowed.status(), 200);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://desk.example.com"
    );
    assert_eq!(
        preflight("https://evil.example")
            .await
            .expect("OPTIONS")
            .status(),
        403
    );
    let answer = client()
        .get(server.url("/api/patterns"))
        .header("origin", "https://desk.example.com")
        .send()
        .await
        .expect("GET");
    assert_eq!(answer.status(), 200);
    assert_eq!(
        answer.headers()["access-control-allow-origin"],
        "https://desk.example.com"
    );
    assert!(answer.headers()["strict-transport-security"]
        .to_str()
        .expect("ascii")
        .contains("max-age="));
}

#[tokio::test]
async fn concurrent_wrong_logins_test_no_more_passwords_than_the_lockout_allows() {
    let (_dir, server, base, _clock) = server_with_clock().await;
    let attempts = (0..20).map(|n| {
        let base = base.clone();
        tokio::spawn(async move { attempt(&base, "admin", &format!("Wrong-Password-{n}")).await })
    });
    let mut codes = Vec::new();
    for attempt in attempts {
        let (status, answer, _) = attempt.await.expect("task");
        assert_eq!(status, 401);
        codes.push(answer["error"]["code"].as_str().expect("code").to_owned());
    }
    let tested = codes.iter().filter(|code| *code == "unauthorized").count();
    assert_eq!(tested, 5, "only five passwords were checked: {codes:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn a_websocket_session_ends_when_its_key_is_revoked() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::Message;
    let server = ServerProcess::start("");
    let keys = server.url("/api/keys");
    let (status, created) = send(&client(), "POST", &keys, Some(&json!({"name": "feed"}))).await;
    assert_eq!(status, 201);
    let mut request = server
        .url("/api/ws/ingest")
        .replace("http://", "ws://")
        .into_client_request()
        .expect("request");
    let key = created["key"].as_str().expect("key");
    request
        .headers_mut()
        .insert("x-api-key", key.parse().expect("header"));
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("connect");
    let batch = crate::support::batch("WSKEYUSDT", "1m", vec![crate::support::candle_json(0, 1)]);
    socket
        .send(Message::text(batch.to_string()))
        .await
        .expect("send");
    let first: Value = match socket.next().await.expect("answer").expect("frame") {
        Message::Text(text) => serde_json::from_str(&text).expect("JSON"),
        other => panic!("unexpected {other:?}"),
    };
    assert_eq!(first["status"], 200, "{first}");
    let id = created["id"].as_str().expect("id");
    assert_eq!(
        send(&client(), "DELETE", &format!("{keys}/{id}"), None)
            .await
            .0,
        200
    );
    socket
        .send(Message::text(batch.to_string()))
        .await
        .expect("send");
    match socket.next().await.expect("frame").expect("frame") {
        Message::Close(Some(frame)) => assert_eq!(u16::from(frame.code), 1008),
        other => panic!("expected a close frame, got {other:?}"),
    }
}

#[tokio::test]
async fn fifty_keys_of_one_user_share_one_rate_budget() {
    let (_dir, server, base) = start_in_process_with(
        |settings| {
            settings.rate_limits.default_per_minute = 100;
            settings.rate_limits.default_burst = 100;
        },
        test_start_options(),
    )
    .await;
    let mut keys = vec![client()];
    for n in 0..49 {
        let body = json!({"name": format!("bot{n}")});
        let (status, created) =
            send(&client(), "POST", &format!("{base}/api/keys"), Some(&body)).await;
        assert_eq!(status, 201, "{created}");
        keys.push(key_client(created["key"].as_str().expect("key")));
    }
    let mut statuses = Vec::new();
    for round in 0..200 {
        let key = &keys[round % keys.len()];
        statuses.push(
            send(key, "GET", &format!("{base}/api/symbols"), None)
                .await
                .0,
        );
    }
    let served = statuses.iter().filter(|status| **status == 200).count();
    assert!(
        statuses
            .iter()
            .all(|status| *status == 200 || *status == 429),
        "{statuses:?}"
    );
    // 100 per burst, 49 of them spent creating the keys, a few refilled meanwhile.
    assert!(
        served <= 70,
        "50 keys got {served} requests, not one budget's worth"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_query_parameter_a_route_does_not_document_is_refused_with_its_name() {
    let server = ServerProcess::start("");
    for (path, name) in [
        ("/api/matrix?symbol=BTCUSDT", "symbol"),
        ("/api/symbols?limit=5", "limit"),
        ("/api/patterns?limit=5&colour=red", "colour"),
        ("/api/health?verbose", "verbose"),
    ] {
        let (status, answer) = send(&client(), "GET", &server.url(path), None).await;
        assert_eq!(
            (status, answer["error"]["field"].as_str()),
            (400, Some(name)),
            "{path}: {answer}"
        );
    }
    let (status, _) = send(
        &client(),
        "GET",
        &server.url("/api/patterns?limit=5&timeframe=1h"),
        None,
    )
    .await;
    assert_eq!(status, 200, "documented parameters pass");
}
