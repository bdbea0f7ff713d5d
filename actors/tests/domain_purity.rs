//! The domain layer stays pure: no module under `actors/src/domain` imports actix, tokio,
//! sled or warp, or reads the system clock. The backtester and `analyze` run the same code
//! as the live actors only as long as this holds, so it is checked on every test run.

use std::path::{Path, PathBuf};

/// Paths that only the actor, store or server layers may name.
const FORBIDDEN_CRATES: [&str; 6] = ["actix", "actix_rt", "tokio", "sled", "warp", "reqwest"];
/// Ways of reading the wall clock or the monotonic clock, including the engine's own clock
/// (the domain is handed `now_ms`, never a clock).
const CLOCK_READS: [&str; 7] = [
    "SystemTime::now",
    "Instant::now",
    "Utc::now",
    "Local::now",
    "UNIX_EPOCH",
    "crate::clock",
    "SystemClock",
];

/// Every violation in `source`, as `line: text`; comments are not code and are skipped.
fn violations(source: &str) -> Vec<String> {
    source
        .lines()
        .enumerate()
        .filter_map(|(index, line)| {
            let code = line.split("//").next().unwrap_or_default();
            let names_crate = FORBIDDEN_CRATES.iter().any(|krate| {
                code.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                    .map(|token| token.trim_start_matches("::"))
                    .any(|token| token == *krate || token.starts_with(&format!("{krate}::")))
            });
            let reads_clock = CLOCK_READS.iter().any(|read| code.contains(read));
            (names_crate || reads_clock).then(|| format!("{}: {}", index + 1, line.trim()))
        })
        .collect()
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|error| panic!("{dir:?}: {error}"));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn no_domain_module_imports_the_runtime_or_reads_the_clock() {
    let domain = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/domain");
    let mut files = Vec::new();
    rust_files(&domain, &mut files);
    assert!(files.len() > 20, "found only {} domain files", files.len());
    let report: Vec<String> = files
        .iter()
        .flat_map(|path| {
            let source = std::fs::read_to_string(path).expect("read a domain file");
            violations(&source)
                .into_iter()
                .map(move |violation| format!("{}:{violation}", path.display()))
        })
        .collect();
    assert!(
        report.is_empty(),
        "the domain must stay pure:\n{}",
        report.join("\n")
    );
}

#[test]
fn the_check_catches_imports_and_clock_reads_but_not_comments() {
    let impure = [
        "use actix::Actor;",
        "use tokio::sync::mpsc;",
        "let t = std::time::SystemTime::now();",
        "fn f(db: &sled::Db) {}",
        "let now = chrono::Utc::now();",
        "use warp::Filter;",
        "let system = ::actix::System::new();",
        "use crate::clock::Clock;",
        "let now_ms = SystemClock.now_ms();",
    ];
    for line in impure {
        assert_eq!(violations(line).len(), 1, "{line} must be caught");
    }
    assert_eq!(violations(&impure.join("\n")).len(), impure.len());
    let pure =
        "//! no actix, no tokio, no sled here\nuse crate::domain::market::Candle; // not tokio::\n\
                let tokio_like = 1;\nlet pactix = 2;\n";
    assert_eq!(violations(pure), Vec::<String>::new());
}
