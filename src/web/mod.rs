//! The dashboard's files, embedded at build time (`build.rs`): our own modules from
//! `src/web/assets/` and the pinned chart library. `GET /` serves `index.html` with the build
//! hash written into its asset URLs, so every other file can be cached for good: a new build
//! changes the URLs.

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));
}

use std::borrow::Cow;
use std::path::{Path, PathBuf};

pub use embedded::{BUILD_HASH, CHART_VERSION};

/// The name the dashboard imports the chart library by.
pub const CHART_MODULE_NAME: &str = "lightweight-charts.mjs";
const BUILD_PLACEHOLDER: &str = "{{BUILD}}";

/// Where the dashboard's files come from: the binary, or (developing the dashboard) a folder
/// read on every request, so an edit shows on reload.
#[derive(Debug, Clone, Default)]
pub struct WebAssets {
    dev_dir: Option<PathBuf>,
}

/// One file to serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    pub bytes: Cow<'static, [u8]>,
    pub content_type: &'static str,
}

impl WebAssets {
    pub fn new(dev_dir: Option<PathBuf>) -> WebAssets {
        WebAssets { dev_dir }
    }

    /// `index.html` with this build's asset URLs.
    pub fn index(&self) -> Option<Asset> {
        let page = self.file("index.html")?;
        let text = String::from_utf8_lossy(&page.bytes).replace(BUILD_PLACEHOLDER, BUILD_HASH);
        Some(Asset {
            bytes: Cow::Owned(text.into_bytes()),
            content_type: page.content_type,
        })
    }

    /// A file by its name in the flat asset folder; names with a path separator or starting
    /// with a dot are never looked up.
    pub fn file(&self, name: &str) -> Option<Asset> {
        if name.is_empty() || name.starts_with('.') || name.contains(['/', '\\']) {
            return None;
        }
        let bytes = if name == CHART_MODULE_NAME {
            Cow::Borrowed(embedded::CHART_MODULE)
        } else if let Some(dir) = &self.dev_dir {
            Cow::Owned(read_dev_file(dir, name)?)
        } else {
            let (_, bytes) = embedded::ASSETS.iter().find(|(known, _)| *known == name)?;
            Cow::Borrowed(*bytes)
        };
        Some(Asset {
            bytes,
            content_type: content_type(name),
        })
    }
}

fn read_dev_file(dir: &Path, name: &str) -> Option<Vec<u8>> {
    std::fs::read(dir.join(name)).ok()
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, extension)| extension) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_names_this_build_and_every_embedded_file_is_served() {
        let assets = WebAssets::default();
        let index = assets.index().unwrap();
        let text = String::from_utf8(index.bytes.into_owned()).unwrap();
        assert!(
            text.contains(&format!("/assets/{BUILD_HASH}/app.js")),
            "{text}"
        );
        assert!(!text.contains(BUILD_PLACEHOLDER));
        assert_eq!(index.content_type, "text/html; charset=utf-8");
        for (name, bytes) in embedded::ASSETS {
            assert_eq!(assets.file(name).unwrap().bytes.as_ref(), *bytes);
        }
        let chart = assets.file(CHART_MODULE_NAME).unwrap();
        assert!(chart.bytes.len() > 100_000, "the bundled chart module");
        assert_eq!(chart.content_type, "text/javascript; charset=utf-8");
    }

    #[test]
    fn paths_outside_the_flat_folder_are_never_looked_up() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("app.js"), "export {}").unwrap();
        std::fs::write(dir.path().join(".env"), "secret").unwrap();
        let assets = WebAssets::new(Some(dir.path().join("sub")));
        assert_eq!(
            assets.file("app.js"),
            None,
            "the dev folder is the only source"
        );
        let assets = WebAssets::new(Some(dir.path().to_path_buf()));
        assert_eq!(assets.file("app.js").unwrap().bytes.as_ref(), b"export {}");
        for name in [
            "",
            ".env",
            "../Cargo.toml",
            "a/b.js",
            "a\\b.js",
            "missing.js",
        ] {
            assert_eq!(assets.file(name), None, "{name}");
        }
    }
}
