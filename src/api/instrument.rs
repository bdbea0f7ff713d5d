//! What every answer gets, whatever the route: a request id (the caller's `X-Request-Id` when
//! it is sane, else a fresh random one) echoed in the response and logged with the method,
//! path, status and latency; and browser-safety headers (no sniffing, no framing, no
//! referrer, a same-origin content security policy; HSTS when clients come over HTTPS). No
//! `Server` banner is sent. Each answer is also counted in the request metrics.

use super::metrics::Metrics;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;
use warp::http::{HeaderMap, HeaderValue, Method};
use warp::path::FullPath;
use warp::reply::Response;
use warp::Filter;

const REQUEST_ID_HEADER: &str = "x-request-id";
const REQUEST_ID_LENGTH_MAX: usize = 128;

const SECURITY_HEADERS: [(&str, &str); 4] = [
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    (
        "content-security-policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
         connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ),
];

/// Wraps `routes` with the request id, the access log line and the security headers.
pub fn instrument<F>(
    routes: F,
    metrics: Arc<Metrics>,
    hsts: bool,
) -> impl Filter<Extract = (Response,), Error = Infallible> + Clone
where
    F: Filter<Extract = (Response,), Error = Infallible> + Clone + Send + Sync + 'static,
{
    warp::any()
        .map(Instant::now)
        .and(warp::method())
        .and(warp::path::full())
        .and(warp::header::headers_cloned())
        .and(routes)
        .map(
            move |started: Instant,
                  method: Method,
                  path: FullPath,
                  headers: HeaderMap,
                  mut response: Response| {
                let request_id = request_id(&headers);
                let status = response.status().as_u16();
                metrics.observe(
                    method.as_str(),
                    path.as_str(),
                    status,
                    started.elapsed().as_secs_f64(),
                );
                tracing::info!(
                    request_id = %request_id,
                    method = %method,
                    path = path.as_str(),
                    status,
                    latency_us = started.elapsed().as_micros() as u64,
                    "request"
                );
                let response_headers = response.headers_mut();
                if let Ok(value) = HeaderValue::from_str(&request_id) {
                    response_headers.insert(REQUEST_ID_HEADER, value);
                }
                for (name, value) in SECURITY_HEADERS {
                    response_headers.insert(name, HeaderValue::from_static(value));
                }
                if hsts {
                    response_headers.insert(
                        "strict-transport-security",
                        HeaderValue::from_static("max-age=31536000; includeSubDomains"),
                    );
                }
                response
            },
        )
}

/// The caller's id when it is 1 to 128 visible ASCII characters, else 128 random bits in hex.
fn request_id(headers: &HeaderMap) -> String {
    let given = headers
        .get(REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|id| {
            !id.is_empty()
                && id.len() <= REQUEST_ID_LENGTH_MAX
                && id.bytes().all(|b| b.is_ascii_graphic())
        });
    match given {
        Some(id) => id.to_owned(),
        None => format!("{:032x}", rand::random::<u128>()),
    }
}
