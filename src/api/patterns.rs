//! `GET /api/patterns?symbol=&timeframe=&kind=&status=&limit=&offset=`: detected patterns,
//! newest first, paged. `status=live` means active or touched.

use super::error::ApiError;
use super::query::QueryParams;
use super::{respond, views_for, with_state, AppState};
use crate::report::PatternJson;
use cryptolens_actors::actors::{newest_first, TimeframeView};
use cryptolens_actors::domain::analysis::{Pattern, PatternKind, PatternStatus};
use cryptolens_actors::domain::market::Symbol;
use serde::Serialize;
use serde_json::value::{to_raw_value, RawValue};
use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
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
    patterns: Vec<Box<RawValue>>,
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
    let wanted = |(_, pattern): &(usize, &Pattern)| {
        kind.is_none_or(|wanted| pattern.kind == wanted) && status.accepts(pattern.lifecycle.status)
    };
    // Each timeframe's patterns are published newest first: merge the lists, taking only
    // the page, instead of sorting every pattern on every request.
    let lists: Vec<(&Symbol, &TimeframeView)> = views
        .iter()
        .flat_map(|view| {
            view.timeframes
                .iter()
                .filter(|tf| timeframe.is_none_or(|wanted| tf.timeframe == wanted))
                .map(move |tf| (&view.symbol, tf.as_ref()))
        })
        .collect();
    let total = lists
        .iter()
        .map(|(_, tf)| tf.patterns.iter().enumerate().filter(wanted).count())
        .sum();
    let mut cursors: Vec<_> = lists
        .iter()
        .map(|(_, tf)| tf.patterns.iter().enumerate().filter(wanted))
        .collect();
    let mut heads: BinaryHeap<Head> = BinaryHeap::with_capacity(lists.len());
    for (list, cursor) in cursors.iter_mut().enumerate() {
        if let Some((index, pattern)) = cursor.next() {
            heads.push(Head {
                symbol: lists[list].0,
                pattern,
                list,
                index,
            });
        }
    }
    let mut page = Vec::with_capacity(limit.min(total));
    for taken in 0..offset.saturating_add(limit) {
        let Some(head) = heads.pop() else { break };
        if taken >= offset {
            let (symbol, tf) = lists[head.list];
            page.push(pattern_json(symbol, tf, head.index)?);
        }
        if let Some((index, pattern)) = cursors[head.list].next() {
            heads.push(Head {
                pattern,
                index,
                ..head
            });
        }
    }
    Ok(PatternPage {
        total,
        offset,
        limit,
        patterns: page,
    })
}

/// The JSON of a view's pattern, rendered once per published view and kept with it: most
/// reads between two candles then only copy bytes.
fn pattern_json(
    symbol: &Symbol,
    tf: &TimeframeView,
    index: usize,
) -> Result<Box<RawValue>, ApiError> {
    let render = |pattern: &Pattern| to_raw_value(&PatternJson::new(pattern, Some(symbol)));
    let rendered = tf.derived.get_or_init(|| {
        tf.patterns
            .iter()
            .map(render)
            .collect::<Result<Vec<_>, _>>()
            .ok()
    });
    let cached = rendered
        .as_deref()
        .and_then(Option::as_ref)
        .and_then(|all| all.get(index));
    match (cached, tf.patterns.get(index)) {
        (Some(json), _) => Ok(json.clone()),
        (None, Some(pattern)) => {
            render(pattern).map_err(|error| ApiError::Internal(error.to_string()))
        }
        (None, None) => Err(ApiError::Internal(format!(
            "pattern {index} vanished from its view"
        ))),
    }
}

/// The next pattern of one list; the heap's greatest is the one to list first.
struct Head<'a> {
    symbol: &'a Symbol,
    pattern: &'a Pattern,
    list: usize,
    index: usize,
}

impl Head<'_> {
    /// Newest first, then by symbol, then by key: within one list this is the published
    /// order ([`newest_first`]), as the symbol is the same.
    fn listing_order(&self, other: &Head) -> Ordering {
        other
            .pattern
            .formed_at_ms
            .cmp(&self.pattern.formed_at_ms)
            .then_with(|| self.symbol.cmp(other.symbol))
            .then_with(|| newest_first(self.pattern, other.pattern))
    }
}

impl Ord for Head<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        other.listing_order(self)
    }
}

impl PartialOrd for Head<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Head<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Head<'_> {}

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
