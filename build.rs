//! Embeds the dashboard: our own assets (`src/web/assets/`, listed with a content hash) and
//! its one front-end dependency, TradingView's lightweight-charts, which is never committed:
//! the pinned npm tarball is fetched from the registry (or taken from
//! `CRYPTOLENS_VENDOR_DIR`), its SHA-256 checked, and the bundled ES module unpacked into
//! `OUT_DIR`. A build that cannot fetch or verify it fails, saying what to do.

use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};

const CHART_PACKAGE: &str = "lightweight-charts";
const CHART_VERSION: &str = "5.2.1";
const CHART_TARBALL_SHA256: &str =
    "64310292298df4dd527494865e5d91d447f8bb397b68de3912c2a6465025ee5e";
const CHART_MODULE_IN_TARBALL: &str = "package/dist/lightweight-charts.standalone.production.mjs";
const REGISTRY_ENV: &str = "CRYPTOLENS_NPM_REGISTRY";
const VENDOR_DIR_ENV: &str = "CRYPTOLENS_VENDOR_DIR";
const ASSETS_DIR: &str = "src/web/assets";

fn main() {
    if let Err(message) = run() {
        // A build script reports by failing; the message is what the person building reads.
        eprintln!("error: {message}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    println!("cargo:rerun-if-changed={ASSETS_DIR}");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed={REGISTRY_ENV}");
    println!("cargo:rerun-if-env-changed={VENDOR_DIR_ENV}");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").map_err(|e| e.to_string())?);
    let chart_module = chart_module(&out_dir)?;
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?;
    let assets = list_assets(&Path::new(&manifest_dir).join(ASSETS_DIR))?;
    let source = asset_table(&assets, &chart_module)?;
    std::fs::write(out_dir.join("web_assets.rs"), source).map_err(|e| e.to_string())
}

/// The unpacked chart module in `out_dir`, fetched and verified unless already there.
fn chart_module(out_dir: &Path) -> Result<PathBuf, String> {
    let module = out_dir.join(format!("{CHART_PACKAGE}-{CHART_VERSION}.mjs"));
    if module.is_file() {
        return Ok(module);
    }
    let tarball = chart_tarball()?;
    let digest = hex(&Sha256::digest(&tarball));
    if digest != CHART_TARBALL_SHA256 {
        return Err(format!(
            "{CHART_PACKAGE} {CHART_VERSION}: the tarball's SHA-256 is {digest}, expected \
             {CHART_TARBALL_SHA256}; refusing to embed it (a registry mirror serving another file?)"
        ));
    }
    let bytes = unpack(&tarball, CHART_MODULE_IN_TARBALL)?;
    std::fs::write(&module, bytes).map_err(|e| format!("writing {}: {e}", module.display()))?;
    Ok(module)
}

/// The tarball from `CRYPTOLENS_VENDOR_DIR` when set (offline builds), else from the registry.
fn chart_tarball() -> Result<Vec<u8>, String> {
    let file_name = format!("{CHART_PACKAGE}-{CHART_VERSION}.tgz");
    if let Ok(dir) = std::env::var(VENDOR_DIR_ENV) {
        let path = Path::new(&dir).join(&file_name);
        return std::fs::read(&path).map_err(|e| {
            format!(
                "{VENDOR_DIR_ENV} is set but {} cannot be read: {e}",
                path.display()
            )
        });
    }
    let registry =
        std::env::var(REGISTRY_ENV).unwrap_or_else(|_| "https://registry.npmjs.org".to_owned());
    let url = format!(
        "{}/{CHART_PACKAGE}/-/{file_name}",
        registry.trim_end_matches('/')
    );
    let fetch_error = |e: &dyn std::fmt::Display| {
        format!(
            "cannot fetch the dashboard's chart library from {url}: {e}. The build needs the \
             npm registry once; offline, download {file_name} (SHA-256 {CHART_TARBALL_SHA256}) \
             into a folder and set {VENDOR_DIR_ENV} to it, or set {REGISTRY_ENV} to a mirror"
        )
    };
    // The system's certificate store: registries are often reached through a proxy with its
    // own certificate authority.
    let agent = ureq::Agent::config_builder()
        .tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::PlatformVerifier)
                .build(),
        )
        .build()
        .new_agent();
    let response = agent.get(&url).call().map_err(|e| fetch_error(&e))?;
    let mut bytes = Vec::new();
    response
        .into_body()
        .into_reader()
        .take(64 * 1024 * 1024)
        .read_to_end(&mut bytes)
        .map_err(|e| fetch_error(&e))?;
    Ok(bytes)
}

fn unpack(tarball: &[u8], wanted: &str) -> Result<Vec<u8>, String> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(tarball));
    let entries = archive.entries().map_err(|e| e.to_string())?;
    for entry in entries {
        let mut entry = entry.map_err(|e| e.to_string())?;
        let path = entry.path().map_err(|e| e.to_string())?;
        if path.to_str() == Some(wanted) {
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
            return Ok(bytes);
        }
    }
    Err(format!(
        "{CHART_PACKAGE} {CHART_VERSION}: {wanted} is not in the tarball"
    ))
}

/// Our assets, sorted by name (the folder is flat: one file per module).
fn list_assets(dir: &Path) -> Result<Vec<(String, PathBuf)>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut assets = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        let name = path.file_name().and_then(|name| name.to_str());
        if let (true, Some(name)) = (path.is_file(), name) {
            if !name.starts_with('.') {
                assets.push((name.to_owned(), path.clone()));
            }
        }
    }
    assets.sort();
    Ok(assets)
}

/// `web_assets.rs`: the build hash (of every embedded byte) and the embedded files.
fn asset_table(assets: &[(String, PathBuf)], chart_module: &Path) -> Result<String, String> {
    let mut hasher = Sha256::new();
    let mut table = String::from("pub static ASSETS: &[(&str, &[u8])] = &[\n");
    for (name, path) in assets {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        hasher.update(name.as_bytes());
        hasher.update(&bytes);
        let _ = writeln!(
            table,
            "    ({name:?}, include_bytes!({:?})),",
            path.display().to_string()
        );
    }
    table.push_str("];\n");
    let chart = std::fs::read(chart_module).map_err(|e| e.to_string())?;
    hasher.update(&chart);
    let _ = writeln!(
        table,
        "pub static CHART_MODULE: &[u8] = include_bytes!({:?});",
        chart_module.display().to_string()
    );
    let _ = writeln!(
        table,
        "pub const CHART_VERSION: &str = {CHART_VERSION:?};\npub const BUILD_HASH: &str = {:?};",
        &hex(&hasher.finalize())[..16]
    );
    Ok(table)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut text, byte| {
        let _ = write!(text, "{byte:02x}");
        text
    })
}
