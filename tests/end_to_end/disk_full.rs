//! A full disk on the real binary, on a small tmpfs (needs root to mount one: CI has it; a
//! user's clone without it skips with a notice): writes are refused with 507 while the disk
//! is below the store's reserve, everything resumes by itself within seconds of space
//! returning, nothing acknowledged is lost; SIGTERM while full exits non-zero naming what it
//! could not save.

use crate::portfolios::{create_portfolio, post};
use crate::recovery::{start, Started};
use crate::support::{batch, candle_json, client, get_json, post_json, ServerProcess};
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A tmpfs of `size_mib` mounted on a temporary directory, unmounted on drop.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size_mib: u64) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().expect("temp dir");
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size_mib}m"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|status| status.success());
        if !mounted {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set and runs as root: mounting a tmpfs must work"
            );
            println!("SKIPPED: cannot mount a tmpfs (not root?); the disk-full tests need one");
            return None;
        }
        Some(Tmpfs { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file until the disk is full; answers its path.
    fn fill(&self) -> PathBuf {
        let filler = self.path().join("filler");
        let mut file = std::fs::File::create(&filler).expect("filler");
        let chunk = vec![0xF0_u8; 1 << 20];
        while file.write_all(&chunk).is_ok() {}
        let small = [0_u8; 4096];
        while file.write_all(&small).is_ok() {}
        filler
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

const CONFIG: &str = "[engine]\nstore_disk_reserve_mib = 8\nsnapshot_interval_ms = 300\n";

async fn health(base: &str) -> Value {
    get_json(&client(), &format!("{base}/api/health")).await
}

async fn wait_until(what: &str, within: Duration, mut done: impl AsyncFnMut() -> bool) -> Duration {
    let started = Instant::now();
    while started.elapsed() < within {
        if done().await {
            return started.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what}: not within {within:?}");
}

fn trade_body() -> Value {
    json!({"symbol": "ETHUSDT", "side": "long", "quantity": "0.01", "price": "2000"})
}

async fn post_minutes(base: &str, symbol: &str, from_minute: i64, count: i64) {
    let candles: Vec<Value> = (from_minute..from_minute + count)
        .map(|minute| candle_json(1_699_999_980_000 + minute * 60_000, minute))
        .collect();
    let body = batch(symbol, "1m", candles);
    let (status, answer) = post_json(&client(), &format!("{base}/api/candles"), &body).await;
    assert_eq!(status, 200, "{answer}");
}

#[tokio::test]
async fn a_full_disk_refuses_writes_with_507_and_all_resumes_when_space_returns() {
    let Some(disk) = Tmpfs::mount(48) else {
        return;
    };
    let data = disk.path().join("data");
    let server = ServerProcess::start_in(&data, CONFIG);
    let base = server.base_url.clone();
    let http = client();
    post_minutes(&base, "ETHUSDT", 0, 100).await;
    let id = create_portfolio(&http, &base, "100000").await;
    let trades = format!("{base}/api/portfolios/{id}/trades");
    let mut acknowledged = Vec::new();
    for n in 0..5 {
        let key = format!("before-{n}");
        let (status, answer) = post(&http, &trades, Some(&key), trade_body()).await;
        assert_eq!(status, 201, "{answer}");
        acknowledged.push((key, answer));
    }

    let filler = disk.fill();
    wait_until(
        "health names the full disk",
        Duration::from_secs(5),
        async || health(&base).await["store"]["disk"]["full"] == true,
    )
    .await;
    let (status, refused) = post(&http, &trades, Some("while-full"), trade_body()).await;
    assert_eq!(status, 507, "{refused}");
    assert_eq!(refused["error"]["code"], "insufficient_storage");
    post_minutes(&base, "ETHUSDT", 100, 10).await;
    wait_until(
        "health names the full disk",
        Duration::from_secs(5),
        async || {
            let health = health(&base).await;
            health["status"] == "degraded"
                && health["store"]["disk"]["full"] == true
                && health["store"]["persistence"]["last_round_failed"] == true
        },
    )
    .await;

    std::fs::remove_file(filler).expect("free the disk");
    let took = wait_until("trades resume", Duration::from_secs(10), async || {
        let (status, _) = post(&http, &trades, Some("after"), trade_body()).await;
        status == 201
    })
    .await;
    println!("trades resumed {took:?} after the disk was freed");
    let (status, answer) = post(&http, &trades, Some("after"), trade_body()).await;
    assert_eq!(status, 201);
    acknowledged.push(("after".into(), answer));
    wait_until(
        "health is healthy again",
        Duration::from_secs(10),
        async || health(&base).await["status"] == "healthy",
    )
    .await;

    let mut server = server;
    assert!(server.signal_and_wait("TERM").success(), "a clean stop");
    let again = ServerProcess::start_in(&data, CONFIG);
    let health = health(&again.base_url).await;
    assert_eq!(health["store"]["last_stop"]["kind"], "clean", "{health}");
    assert!(health["store"]["last_stop"]["may_be_missing"].is_null());
    let trades = again.url(&format!("/api/portfolios/{id}/trades"));
    for (key, answer) in &acknowledged {
        let (status, repeat) = post(&http, &trades, Some(key), trade_body()).await;
        assert_eq!((status, &repeat), (201, answer), "{key} lost");
    }
}

#[tokio::test]
async fn sigterm_while_the_disk_is_full_exits_non_zero_naming_what_was_not_saved() {
    let Some(disk) = Tmpfs::mount(48) else {
        return;
    };
    let data = disk.path().join("data");
    // Rounds far apart: the candles below are acknowledged but not yet snapshotted.
    let config = "[engine]\nstore_disk_reserve_mib = 8\nsnapshot_interval_ms = 600000\n";
    std::fs::create_dir_all(&data).expect("data dir");
    std::fs::write(data.join("test.toml"), config).expect("config");
    let Started::Serving(mut server, stderr) = start(&data) else {
        panic!("the server did not start");
    };
    post_minutes(&server.base_url, "SOLUSDT", 0, 50).await;
    let _filler = disk.fill();
    let status = server.signal_and_wait("TERM");
    assert!(!status.success(), "{status}");
    let stderr = stderr
        .recv_timeout(Duration::from_secs(5))
        .unwrap_or_default();
    assert!(stderr.contains("not saved"), "{stderr}");
    assert!(stderr.contains("SOLUSDT"), "{stderr}");
}
