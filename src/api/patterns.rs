//! `GET /api/patterns?symbol=&timeframe=&kind=&status=&limit=&offset=`: detected patterns,
//! newest first, paged. `status=live` means active or touched. The query itself is
//! [`PatternQuery`]; this module parses it and renders the page.

use super::error::ApiError;
use super::query::QueryParams;
use super::{respond, views_for, with_state, AppState};
use crate::report::PatternJson;
use cryptolens_actors::actors::{PatternEntry, PatternQuery, StatusFilter};
use cryptolens_actors::domain::analysis::Pattern;
use serde::Serialize;
use serde_json::value::{to_raw_value, RawValue};
use std::collections::HashMap;
use warp::reply::Response;
use warp::{Filter, Rejection};

pub fn routes(state: &AppState) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("api" / "patterns")
        .and(warp::get())
        .and(warp::query::<HashMap<String, String>>())
        .and(with_state(state))
        .map(|query: HashMap<String, String>, state: AppState| {
            respond(list_patterns(&query, &state), &state)
        })
}

#[derive(Serialize)]
struct PatternPage {
    total: usize,
    offset: usize,
    limit: usize,
    patterns: Vec<Box<RawValue>>,
}

fn list_patterns(
    query: &HashMap<String, String>,
    state: &AppState,
) -> Result<PatternPage, ApiError> {
    let query = parse_query(query)?;
    let views = views_for(query.symbol.as_ref(), state)?;
    let page = query.run(&views);
    let patterns = page
        .entries
        .iter()
        .map(pattern_json)
        .collect::<Result<_, _>>()?;
    Ok(PatternPage {
        total: page.total,
        offset: page.offset,
        limit: page.limit,
        patterns,
    })
}

fn parse_query(query: &HashMap<String, String>) -> Result<PatternQuery, ApiError> {
    let params = QueryParams::new(
        query,
        &["symbol", "timeframe", "kind", "status", "limit", "offset"],
    )?;
    // Parsed in this order so that, of several bad parameters, the first named is reported.
    let symbol = params.symbol()?;
    let timeframe = params.timeframe()?;
    let kind = params.named("kind", "fair_value_gap, order_block, liquidity_sweep")?;
    let status = match query.get("status").map(String::as_str) {
        Some("live") => StatusFilter::Live,
        _ => params
            .named(
                "status",
                "live, active, touched, filled, invalidated, expired",
            )?
            .map_or(StatusFilter::Any, StatusFilter::Exactly),
    };
    Ok(PatternQuery {
        symbol,
        timeframe,
        kind,
        status,
        limit: params.integer(
            "limit",
            1..=PatternQuery::LIMIT_MAX,
            PatternQuery::LIMIT_DEFAULT,
        )?,
        offset: params.integer("offset", 0..=usize::MAX, 0)?,
    })
}

/// The JSON of a view's pattern, rendered once per published view and kept with it: most
/// reads between two candles then only copy bytes.
fn pattern_json(entry: &PatternEntry) -> Result<Box<RawValue>, ApiError> {
    let render = |pattern: &Pattern| to_raw_value(&PatternJson::new(pattern, Some(entry.symbol)));
    let rendered = entry.view.derived.get_or_init(|| {
        entry
            .view
            .patterns
            .iter()
            .map(render)
            .collect::<Result<Vec<_>, _>>()
            .ok()
    });
    let cached = rendered
        .as_deref()
        .and_then(Option::as_ref)
        .and_then(|all| all.get(entry.index));
    match cached {
        Some(json) => Ok(json.clone()),
        None => render(entry.pattern()).map_err(ApiError::Render),
    }
}
