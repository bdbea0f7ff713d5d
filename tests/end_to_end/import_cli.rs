//! `cryptolens import` against the real server, on real data and on broken files.

use crate::support::{client, get_json, shared_candles, ServerProcess};
use std::process::Command;

/// A temp dir holding one file `name` with `contents`; keep the dir alive while using the path.
fn temp_file(name: &str, contents: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, contents).unwrap();
    (dir, path)
}

/// Imports `path` as BTCUSDT 1m towards a port where no server listens.
fn import_without_server(path: &std::path::Path) -> std::process::Output {
    let path = path.to_str().unwrap();
    import(&[
        "--symbol",
        "BTCUSDT",
        "--timeframe",
        "1m",
        "--server",
        "http://127.0.0.1:9",
        path,
    ])
}

fn import(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cryptolens"))
        .env("CRYPTOLENS_API_KEY", crate::support::ADMIN_KEY)
        .arg("import")
        .args(args)
        .output()
        .expect("run import")
}

#[tokio::test]
async fn real_binance_csv_imports_through_the_api_with_every_candle_kept() {
    let Some(dir) = shared_candles() else { return };
    let file = dir.join("XRP_ETH-1m.csv");
    let rows = std::fs::read_to_string(&file).unwrap().lines().count() - 1;
    let server = ServerProcess::start("[engine]\nring_capacity = 5000\n");
    let file_arg = file.to_str().unwrap();
    let output = import(&[
        "--symbol",
        "XRP/ETH",
        "--timeframe",
        "1m",
        "--server",
        &server.base_url,
        "--batch-size",
        "1000",
        file_arg,
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains(&format!("imported {rows} candles: {rows} appended")),
        "{stdout}"
    );
    let page = get_json(&client(), &server.url("/api/candles/XRPETH/1m?limit=1000")).await;
    assert_eq!(page["count"], 1000);
    let last_line = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_owned();
    let last_time: i64 = last_line.split(',').next().unwrap().parse().unwrap();
    assert_eq!(page["candles"][999]["t"], last_time);

    let again = import(&[
        "--symbol",
        "xrpeth",
        "--timeframe",
        "1m",
        "--server",
        &server.base_url,
        file_arg,
    ]);
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert!(
        stdout.contains(&format!("{rows} duplicates")),
        "re-import is a no-op: {stdout}"
    );
}

#[test]
fn a_broken_file_is_refused_whole_naming_line_and_field() {
    let (_dir, path) = temp_file(
        "broken.csv",
        "timestamp,open,high,low,close,volume\n0,1,1,1,1,1\n60000,1,1,1,1,-5\n",
    );
    // No server is listening there: the file must be refused before anything is sent.
    let output = import_without_server(&path);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("broken.csv line 3, field volume: volume -5 must be 0 or more"),
        "{stderr}"
    );
}

#[test]
fn dry_run_checks_json_without_a_server() {
    let (_dir, path) = temp_file(
        "candles.json",
        r#"[[0,"1","2","0.5","1.5","10",59999],[60000,1.5,2,1,1.75,3]]"#,
    );
    let output = import(&[
        "--symbol",
        "BTCUSDT",
        "--timeframe",
        "1m",
        "--dry-run",
        path.to_str().unwrap(),
    ]);
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("checked 2 candles"));
    let output = import(&[
        "--symbol",
        "B",
        "--timeframe",
        "1m",
        "--dry-run",
        path.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn an_unreachable_server_is_a_clear_error() {
    let (_dir, path) = temp_file(
        "ok.csv",
        "timestamp,open,high,low,close,volume\n0,1,1,1,1,1\n",
    );
    let output = import_without_server(&path);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot reach the server"));
}
