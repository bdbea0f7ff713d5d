//! `GET /api/patterns?symbol=&timeframe=&kind=&status=&limit=&offset=`: detected patterns,
//! newest first, paged. `status=live` means active or touched.

use super::error::ApiError;
use super::query::QueryParams;
use super::{respond, views_for, with_state, AppState};
use crate::report::PatternJson;
use cryptolens_actors::domain::analysis::{Pattern, PatternKind, PatternStatus};
use cryptolens_actors::domain::market::Symbol;
use serde::Serialize;
use std::collections::HashMap;
use warp::reply::Response;
use warp::{Filter, Rejection};

const PAGE_MAX: usize = 1000;
const PAGE_DEFAULT: usize = 100;

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
    patterns: Vec<PatternJson>,
}

fn list_patterns(
    query: &HashMap<String, String>,
    state: &AppState,
) -> Result<PatternPage, ApiError> {
    let params = QueryParams::new(
        query,
        &["symbol", "timeframe", "kind", "status", "limit", "offset"],
    )?;
    let symbol = params.symbol()?;
    let timeframe = params.timeframe()?;
    let kind: Option<PatternKind> =
        params.named("kind", "fair_value_gap, order_block, liquidity_sweep")?;
    let status = match query.get("status").map(String::as_str) {
        Some("live") => StatusFilter::Live,
        _ => params
            .named(
                "status",
                "live, active, touched, filled, invalidated, expired",
            )?
            .map_or(StatusFilter::Any, StatusFilter::Exactly),
    };
    let limit = params.integer("limit", 1..=PAGE_MAX, PAGE_DEFAULT)?;
    let offset = params.integer("offset", 0..=usize::MAX, 0)?;
    let views = views_for(symbol.as_ref(), state)?;
    let mut matches: Vec<(&Symbol, &Pattern)> = views
        .iter()
        .flat_map(|view| {
            view.timeframes
                .iter()
                .filter(|tf| timeframe.is_none_or(|wanted| tf.timeframe == wanted))
                .flat_map(|tf| tf.patterns.iter())
                .map(move |pattern| (&view.symbol, pattern))
        })
        .filter(|(_, pattern)| kind.is_none_or(|wanted| pattern.kind == wanted))
        .filter(|(_, pattern)| status.accepts(pattern.lifecycle.status))
        .collect();
    matches.sort_by(|(a_symbol, a), (b_symbol, b)| {
        b.formed_at_ms
            .cmp(&a.formed_at_ms)
            .then_with(|| a_symbol.cmp(b_symbol))
            .then_with(|| a.key().cmp(&b.key()))
    });
    Ok(PatternPage {
        total: matches.len(),
        offset,
        limit,
        patterns: matches
            .iter()
            .skip(offset)
            .take(limit)
            .map(|(symbol, pattern)| PatternJson::new(pattern, Some(symbol)))
            .collect(),
    })
}

enum StatusFilter {
    Any,
    Live,
    Exactly(PatternStatus),
}

impl StatusFilter {
    fn accepts(&self, status: PatternStatus) -> bool {
        match self {
            StatusFilter::Any => true,
            StatusFilter::Live => status.is_live(),
            StatusFilter::Exactly(wanted) => status == *wanted,
        }
    }
}
