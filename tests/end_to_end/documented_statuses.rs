//! The OpenAPI document lists every status each route answers, and the test suite holds it
//! to that: every answer the shared helpers (`send`, `get_json`, `post_json`) see, and every
//! answer a real-binary server ([`crate::support::ServerProcess`]) counted in its
//! `cryptolens_http_requests_total` by the time it is stopped, is checked against
//! `openapi::documented_statuses` for its route. With `STATUS_SURVEY_FILE` set, misses are
//! appended to that file instead of failing (to survey a whole run at once).

use cryptolens::api::{access, openapi};
use std::io::{Read, Write};

/// `method url` answered `status`: a miss when the route is known and does not list it.
pub fn check_answer(method: &str, url: &str, status: u16) {
    let path = url
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|slash| &rest[slash..]))
        .unwrap_or(url);
    let path = path.split(['?', '#']).next().unwrap_or(path);
    if let Some(route) = access::classify(method, path) {
        report(miss(route, status).into_iter().collect());
    }
}

fn miss(route: &access::RouteSpec, status: u16) -> Option<String> {
    (!openapi::documented_statuses(route).contains(&status))
        .then(|| format!("{} {} answered {status}", route.method, route.path))
}

/// The misses in a Prometheus text of `cryptolens_http_requests_total`.
pub fn misses_in_metrics(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| line.strip_prefix("cryptolens_http_requests_total{"))
        .filter_map(|labels| {
            let labels = labels.split('}').next()?;
            let label = |name: &str| {
                let start = labels.find(&format!("{name}=\""))? + name.len() + 2;
                let end = labels[start..].find('"')? + start;
                Some(labels[start..end].to_owned())
            };
            let (method, route, status) = (label("method")?, label("route")?, label("status")?);
            let spec = access::ROUTES
                .iter()
                .find(|spec| spec.method == method && spec.path == route)?;
            miss(spec, status.parse().ok()?)
        })
        .collect()
}

/// `/metrics` of the server at `base_url` (HTTP/1.0, blocking: it runs in a `Drop`), or
/// None when it does not answer 200 (stopped, or provisioned without the test admin key).
pub fn scrape_metrics(base_url: &str) -> Option<String> {
    let address = base_url.strip_prefix("http://")?;
    let mut stream = std::net::TcpStream::connect(address).ok()?;
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .ok()?;
    let request = format!(
        "GET /metrics HTTP/1.0\r\nHost: {address}\r\nX-API-Key: {}\r\n\r\n",
        crate::support::ADMIN_KEY
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    let (head, body) = answer.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.0 200").then(|| body.to_owned())
}

pub fn report(misses: Vec<String>) {
    if misses.is_empty() {
        return;
    }
    if let Some(path) = std::env::var_os("STATUS_SURVEY_FILE") {
        if let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            for line in &misses {
                let _ = writeln!(file, "{line}");
            }
        }
        return;
    }
    panic!(
        "statuses the OpenAPI document does not list (add them to the route in src/api/access.rs): {misses:#?}"
    );
}
