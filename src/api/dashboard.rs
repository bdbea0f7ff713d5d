//! The dashboard: `GET /` (the page, never cached, naming this build's asset folder) and
//! `GET /assets/{build}/{file}` (cached for good under this build's hash; under another
//! hash, e.g. a page loaded before an upgrade, served fresh and not cached).

use super::error::ApiError;
use super::{with_state, AppState};
use crate::web::{Asset, BUILD_HASH};
use warp::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use warp::http::HeaderValue;
use warp::reply::Response;
use warp::{Filter, Rejection};

const CACHE_FOREVER: &str = "public, max-age=31536000, immutable";
const CACHE_NEVER: &str = "no-cache";

pub fn routes(state: &AppState) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let index = warp::path::end()
        .and(warp::get())
        .and(with_state(state))
        .map(|state: AppState| serve(state.web.index(), CACHE_NEVER, &state));
    let asset = warp::path!("assets" / String / String)
        .and(warp::get())
        .and(with_state(state))
        .map(|build: String, name: String, state: AppState| {
            let cache = if build == BUILD_HASH {
                CACHE_FOREVER
            } else {
                CACHE_NEVER
            };
            serve(state.web.file(&name), cache, &state)
        });
    index.or(asset).unify()
}

fn serve(asset: Option<Asset>, cache: &'static str, state: &AppState) -> Response {
    let Some(asset) = asset else {
        return ApiError::NotFound("no such dashboard file".into())
            .into_response(state.ingest.retry_after_s);
    };
    let mut response = Response::new(asset.bytes.into_owned().into());
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}
