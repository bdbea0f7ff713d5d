//! Paper portfolio routes. Every mutation goes to the portfolio's actor and is answered once
//! durable; an `Idempotency-Key` header makes a retry return the first answer. A portfolio
//! belongs to the user who created it: others get the same 404 as for a portfolio that does
//! not exist (admins see all).

pub(super) mod requests;
mod views;

use super::error::ApiError;
use super::gate::{caller_with_body, principal};
use super::json_body::{optional_body, parse_json};
use super::{respond, respond_created, with_state, AppState};
use crate::auth::Principal;
use bytes::Bytes;
use cryptolens_actors::actors::portfolio::{PortfolioBook, PortfolioError};
use cryptolens_actors::domain::analysis::{Direction, SignalStatus};
use cryptolens_actors::domain::ledger::{
    analytics, Mutation, Outcome, PortfolioSpec, RiskLimits, Side, TradeSource, TradeStatus,
    DECIMALS_MAX,
};
use cryptolens_actors::domain::market::Symbol;
use cryptolens_actors::domain::money::{FeeRate, Price, Quantity};
use requests::{AddToTrade, AmendTrade, CloseTrade, CreatePortfolio, JournalBody, OpenTrade};
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use views::{LedgerEntryJson, PortfolioJson, TradeJson};
use warp::reply::Response;
use warp::{Filter, Rejection};

/// Portfolio request bodies are small; anything larger is refused with 413.
const BODY_LIMIT_BYTES: u64 = 64 * 1024;
const IDEMPOTENCY_KEY_LENGTH_MAX: usize = 128;
const DEFAULT_FEE_RATE: FeeRate = FeeRate::TEN_BASIS_POINTS;

pub fn routes(state: &AppState) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let body = || optional_body(BODY_LIMIT_BYTES);
    let key = || warp::header::optional::<String>("idempotency-key");
    // What every trade mutation reads: the caller, an optional Idempotency-Key, the body.
    let mutation = || {
        principal(state)
            .and(key())
            .and(body())
            .and(with_state(state))
    };
    let create = warp::path!("api" / "portfolios")
        .and(warp::post())
        .and(caller_with_body(state, BODY_LIMIT_BYTES))
        .then(
            |caller: Principal, body: Bytes, state: AppState| async move {
                respond_created(create_portfolio(&caller, &body, &state).await, &state)
            },
        );
    let list = warp::path!("api" / "portfolios")
        .and(warp::get())
        .and(principal(state))
        .and(with_state(state))
        .map(|caller: Principal, state: AppState| {
            respond(list_portfolios(&caller, &state), &state)
        });
    let show = warp::path!("api" / "portfolios" / String)
        .and(warp::get())
        .and(principal(state))
        .and(with_state(state))
        .then(
            |id: String, caller: Principal, state: AppState| async move {
                respond(
                    as_owner(&caller, &id, &state, show_portfolio(&id, &state)).await,
                    &state,
                )
            },
        );
    let open =
        warp::path!("api" / "portfolios" / String / "trades")
            .and(warp::post())
            .and(mutation())
            .then(
                |id: String,
                 caller: Principal,
                 key: Option<String>,
                 body: Bytes,
                 state: AppState| async move {
                    let work = open_trade(&id, key, &body, &state);
                    respond_created(as_owner(&caller, &id, &state, work).await, &state)
                },
            );
    let trades = warp::path!("api" / "portfolios" / String / "trades")
        .and(warp::get())
        .and(principal(state))
        .and(warp::query::<HashMap<String, String>>())
        .and(with_state(state))
        .then(
            |id: String, caller: Principal, query: HashMap<String, String>, state: AppState| async move {
                let work = list_trades(&id, &query, &state);
                respond(as_owner(&caller, &id, &state, work).await, &state)
            },
        );
    let trade_action = warp::path!("api" / "portfolios" / String / "trades" / String / String)
        .and(warp::post())
        .and(mutation())
        .then(
            |id: String,
             trade: String,
             action: String,
             caller: Principal,
             key: Option<String>,
             body: Bytes,
             state: AppState| async move {
                let work = trade_action(&id, &trade, &action, key, &body, &state);
                respond(as_owner(&caller, &id, &state, work).await, &state)
            },
        );
    let amend = warp::path!("api" / "portfolios" / String / "trades" / String)
        .and(warp::patch())
        .and(mutation())
        .then(
            |id: String,
             trade: String,
             caller: Principal,
             key: Option<String>,
             body: Bytes,
             state: AppState| async move {
                let work = amend_trade(&id, &trade, key, &body, &state);
                respond(as_owner(&caller, &id, &state, work).await, &state)
            },
        );
    let reads = warp::path!("api" / "portfolios" / String / String)
        .and(warp::get())
        .and(principal(state))
        .and(with_state(state))
        .then(
            |id: String, view: String, caller: Principal, state: AppState| async move {
                let work = portfolio_view(&id, &view, &state);
                respond(as_owner(&caller, &id, &state, work).await, &state)
            },
        );
    let trade_reads = warp::path!("api" / "portfolios" / String / "trades" / String / String)
        .and(warp::get())
        .and(principal(state))
        .and(with_state(state))
        .then(
            |id: String, trade: String, view: String, caller: Principal, state: AppState| async move {
                let work = trade_view(&id, &trade, &view, &state);
                respond(as_owner(&caller, &id, &state, work).await, &state)
            },
        );
    create
        .or(list)
        .unify()
        .or(show)
        .unify()
        .or(open)
        .unify()
        .or(trades)
        .unify()
        .or(trade_action)
        .unify()
        .or(amend)
        .unify()
        .or(reads)
        .unify()
        .or(trade_reads)
        .unify()
}

fn book(state: &AppState) -> Result<Arc<PortfolioBook>, ApiError> {
    state.engine.portfolios().ok_or(ApiError::Engine(
        cryptolens_actors::actors::EngineError::Restoring,
    ))
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn parse_id(field: &'static str, text: &str) -> Result<u64, ApiError> {
    text.parse::<u64>().map_err(|_| {
        ApiError::invalid_field(
            field,
            format!("{field} must be a positive integer, got {text:?}"),
        )
    })
}

fn body_or_empty<T: DeserializeOwned + Default>(body: &[u8], what: &str) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    parse_json(body, what)
}

fn idempotency_key(key: Option<String>) -> Result<Option<String>, ApiError> {
    match key {
        Some(key)
            if key.is_empty()
                || key.len() > IDEMPOTENCY_KEY_LENGTH_MAX
                || !key.chars().all(|c| c.is_ascii_graphic()) =>
        {
            Err(ApiError::invalid_field(
                "Idempotency-Key",
                format!("1 to {IDEMPOTENCY_KEY_LENGTH_MAX} visible ASCII characters"),
            ))
        }
        key => Ok(key),
    }
}

/// Runs `work` only for a caller who may see portfolio `id` (its owner, or an admin); for
/// anyone else the portfolio is unknown, as one that does not exist. Checked after the body
/// is read and right before the work, and ownership never changes once a portfolio exists,
/// so no request can reach a portfolio created while it waited. An id that does not parse
/// is left to `work`'s own 400.
async fn as_owner<T>(
    caller: &Principal,
    id: &str,
    state: &AppState,
    work: impl std::future::Future<Output = Result<T, ApiError>>,
) -> Result<T, ApiError> {
    if let Ok(id) = id.parse::<u64>() {
        let visible = book(state)?
            .entry(id)
            .is_some_and(|entry| caller.may_see_owned_by(&entry.owner));
        if !visible {
            return Err(ApiError::Portfolio(PortfolioError::Unknown(id)));
        }
    }
    work.await
}

async fn create_portfolio(
    caller: &Principal,
    body: &[u8],
    state: &AppState,
) -> Result<Value, ApiError> {
    let request: CreatePortfolio = parse_json(body, "portfolio")?;
    let spec = PortfolioSpec {
        id: 0,
        owner: caller.username.to_string(),
        name: request.name,
        quote_currency: request.quote_currency,
        initial_balance: request.initial_balance,
        fee_rate: request.fee_rate.unwrap_or(DEFAULT_FEE_RATE),
        limits: RiskLimits {
            max_position_notional: request.limits.max_position_notional,
            max_open_positions: request.limits.max_open_positions,
            daily_loss_limit: request.limits.daily_loss_limit,
        },
        created_at_ms: now_ms(),
    };
    let portfolio = book(state)?.create(spec).await?;
    let view = PortfolioJson::new(&portfolio, &HashMap::new(), now_ms())
        .map_err(PortfolioError::Refused)?;
    Ok(json!(view))
}

fn list_portfolios(caller: &Principal, state: &AppState) -> Result<Value, ApiError> {
    let mut owned = book(state)?.list();
    owned.retain(|entry| caller.may_see_owned_by(&entry.owner));
    owned.sort_by_key(|entry| entry.id);
    let entries: Vec<Value> = owned
        .into_iter()
        .map(|entry| json!({"id": entry.id, "owner": entry.owner, "name": entry.name}))
        .collect();
    Ok(json!({"count": entries.len(), "portfolios": entries}))
}

/// Latest prices of the symbols the portfolio holds open; a symbol without data is left out.
async fn marks(
    portfolio: &cryptolens_actors::domain::ledger::Portfolio,
    state: &AppState,
) -> HashMap<String, Price> {
    let mut marks = HashMap::new();
    for trade in portfolio.trades().filter(|trade| trade.is_open()) {
        let symbol = trade.symbol.as_str();
        if !marks.contains_key(symbol) {
            if let Ok(price) = state.engine.last_price(&trade.symbol).await {
                marks.insert(symbol.to_owned(), Price::from_market(price));
            }
        }
    }
    marks
}

async fn show_portfolio(id: &str, state: &AppState) -> Result<Value, ApiError> {
    let portfolio = book(state)?
        .portfolio(parse_id("portfolio_id", id)?)
        .await?;
    let marks = marks(&portfolio, state).await;
    let view = PortfolioJson::new(&portfolio, &marks, now_ms()).map_err(PortfolioError::Refused)?;
    Ok(json!(view))
}

/// A given price, or the symbol's latest one ("at market").
async fn price_or_market(
    price: Option<Price>,
    symbol: &Symbol,
    state: &AppState,
) -> Result<Price, ApiError> {
    match price {
        Some(price) => Ok(price),
        None => Ok(Price::from_market(state.engine.last_price(symbol).await?)),
    }
}

async fn mutate(
    state: &AppState,
    id: u64,
    mutation: Mutation,
    key: Option<String>,
) -> Result<Outcome, ApiError> {
    Ok(book(state)?.mutate(id, mutation, key, now_ms()).await?)
}

fn outcome_json(outcome: &Outcome) -> Value {
    let entries: Vec<LedgerEntryJson> = outcome.entries.iter().map(LedgerEntryJson::new).collect();
    json!({"trade": TradeJson::new(&outcome.trade, None), "ledger_entries": entries})
}

async fn open_trade(
    id: &str,
    key: Option<String>,
    body: &[u8],
    state: &AppState,
) -> Result<Value, ApiError> {
    let id = parse_id("portfolio_id", id)?;
    let key = idempotency_key(key)?;
    let request: OpenTrade = parse_json(body, "trade")?;
    let mutation = if request.from_signal.is_some() || request.from_pattern.is_some() {
        from_levels(id, request, state).await?
    } else {
        manual_open(request, state).await?
    };
    Ok(outcome_json(&mutate(state, id, mutation, key).await?))
}

fn required<T>(value: Option<T>, field: &'static str) -> Result<T, ApiError> {
    value.ok_or_else(|| ApiError::invalid_field(field, format!("{field} is required")))
}

fn parse_symbol(text: &str) -> Result<Symbol, ApiError> {
    Symbol::parse(text).map_err(|error| ApiError::invalid_field("symbol", error.to_string()))
}

async fn manual_open(request: OpenTrade, state: &AppState) -> Result<Mutation, ApiError> {
    let symbol = parse_symbol(&required(request.symbol, "symbol")?)?;
    let side = match required(request.side, "side")?.as_str() {
        "long" => Side::Long,
        "short" => Side::Short,
        other => {
            return Err(ApiError::invalid_field(
                "side",
                format!("long or short, got {other:?}"),
            ))
        }
    };
    let quantity = required(request.quantity, "quantity")?;
    let price = price_or_market(request.price, &symbol, state).await?;
    Ok(Mutation::Open {
        symbol,
        side,
        quantity,
        price,
        stop_loss: request.stop_loss,
        take_profits: request.take_profits,
        source: TradeSource::Manual,
    })
}

/// An open at a live signal's or pattern's levels: entry as a paper limit fill, its stop and
/// targets, sized so that a stop-out loses `risk_percent` of equity, capped at what the cash
/// buys (paper trades are unleveraged).
async fn from_levels(id: u64, request: OpenTrade, state: &AppState) -> Result<Mutation, ApiError> {
    let (symbol, direction, levels, source, field) =
        match (&request.from_signal, &request.from_pattern) {
            (Some(_), Some(_)) => {
                return Err(ApiError::invalid_field(
                    "from_pattern",
                    "give from_signal or from_pattern, not both",
                ))
            }
            (Some(signal_id), None) => {
                let signal = state
                    .engine
                    .analysis_views()
                    .iter()
                    .flat_map(|view| view.signals.iter().cloned().collect::<Vec<_>>())
                    .find(|signal| signal.id() == *signal_id && signal.status == SignalStatus::Live)
                    .ok_or_else(|| ApiError::NotFound(format!("no live signal {signal_id:?}")))?;
                (
                    signal.symbol.clone(),
                    signal.direction,
                    signal.levels,
                    TradeSource::Signal(signal_id.clone()),
                    "from_signal",
                )
            }
            (None, Some(pattern_id)) => {
                let symbol = parse_symbol(&required(request.symbol.clone(), "symbol")?)?;
                let view = state.engine.analysis_view(&symbol)?;
                let pattern = view
                    .timeframes
                    .iter()
                    .flat_map(|tf| tf.patterns.iter())
                    .find(|pattern| {
                        pattern.key().to_string() == *pattern_id
                            && pattern.lifecycle.status.is_live()
                    })
                    .cloned()
                    .ok_or_else(|| {
                        ApiError::NotFound(format!("no live pattern {pattern_id:?} on {symbol}"))
                    })?;
                (
                    symbol,
                    pattern.direction,
                    pattern.levels,
                    TradeSource::Pattern(pattern_id.clone()),
                    "from_pattern",
                )
            }
            (None, None) => unreachable_source()?,
        };
    let levels = levels.ok_or_else(|| {
        ApiError::invalid_field(
            field,
            "it has no trading levels yet (ATR(14) is still warming up)",
        )
    })?;
    let quantity = match request.quantity {
        Some(quantity) => quantity,
        None => {
            let portfolio = book(state)?.portfolio(id).await?;
            let marks = marks(&portfolio, state).await;
            let equity = analytics::stats(&portfolio, &marks, now_ms())
                .map_err(PortfolioError::Refused)?
                .equity
                .get();
            let risk_percent = request.risk_percent.unwrap_or(Decimal::ONE);
            if risk_percent <= Decimal::ZERO || risk_percent > Decimal::from(100) {
                return Err(ApiError::invalid_field(
                    "risk_percent",
                    "must be in (0, 100]",
                ));
            }
            let (entry, stop) = (levels.entry.get(), levels.stop.get());
            let risk_per_unit = (entry - stop).abs();
            let by_risk = equity * risk_percent / Decimal::from(100) / risk_per_unit;
            // Paper trading is unleveraged: never more than the cash buys, fee included.
            let fee_rate = portfolio.spec().fee_rate.get();
            let affordable = portfolio.cash().get() / (entry * (Decimal::ONE + fee_rate));
            let size = by_risk
                .min(affordable)
                .round_dp_with_strategy(DECIMALS_MAX, rust_decimal::RoundingStrategy::ToZero);
            Quantity::new_checked(size)
                .map_err(|error| ApiError::invalid_field("quantity", error.to_string()))?
        }
    };
    Ok(Mutation::Open {
        symbol,
        side: match direction {
            Direction::Bullish => Side::Long,
            Direction::Bearish => Side::Short,
        },
        quantity,
        price: levels.entry,
        stop_loss: Some(levels.stop),
        take_profits: levels.targets.to_vec(),
        source,
    })
}

/// Callers only come here with a source; kept as an error rather than a panic.
fn unreachable_source<T>() -> Result<T, ApiError> {
    Err(ApiError::invalid_field(
        "from_signal",
        "from_signal or from_pattern is required",
    ))
}

/// The portfolio and trade ids of a trade route, and its idempotency key, checked.
fn trade_target(
    id: &str,
    trade: &str,
    key: Option<String>,
) -> Result<(u64, u64, Option<String>), ApiError> {
    Ok((
        parse_id("portfolio_id", id)?,
        parse_id("trade_id", trade)?,
        idempotency_key(key)?,
    ))
}

async fn trade_action(
    id: &str,
    trade: &str,
    action: &str,
    key: Option<String>,
    body: &[u8],
    state: &AppState,
) -> Result<Value, ApiError> {
    let (id, trade_id, key) = trade_target(id, trade, key)?;
    let mutation = match action {
        "close" => {
            let request: CloseTrade = body_or_empty(body, "close request")?;
            let price = match request.price {
                Some(price) => price,
                None => {
                    let held = book(state)?.portfolio(id).await?;
                    let trade = held.trade(trade_id).ok_or(PortfolioError::Refused(
                        cryptolens_actors::domain::ledger::LedgerError::UnknownTrade(trade_id),
                    ))?;
                    price_or_market(None, &trade.symbol, state).await?
                }
            };
            Mutation::Close {
                trade_id,
                quantity: request.quantity,
                price,
            }
        }
        "add" => {
            let request: AddToTrade = parse_json(body, "add request")?;
            let held = book(state)?.portfolio(id).await?;
            let symbol = held.trade(trade_id).map(|trade| trade.symbol.clone());
            let price = match (request.price, symbol) {
                (Some(price), _) => price,
                (None, Some(symbol)) => price_or_market(None, &symbol, state).await?,
                (None, None) => {
                    return Err(PortfolioError::Refused(
                        cryptolens_actors::domain::ledger::LedgerError::UnknownTrade(trade_id),
                    )
                    .into())
                }
            };
            Mutation::Add {
                trade_id,
                quantity: request.quantity,
                price,
            }
        }
        "journal" => {
            let request: JournalBody = parse_json(body, "journal entry")?;
            Mutation::Journal {
                trade_id,
                text: request.text,
                tags: request.tags,
            }
        }
        other => {
            return Err(ApiError::NotFound(format!(
                "no trade action {other:?}; use close, add or journal"
            )))
        }
    };
    Ok(outcome_json(&mutate(state, id, mutation, key).await?))
}

async fn amend_trade(
    id: &str,
    trade: &str,
    key: Option<String>,
    body: &[u8],
    state: &AppState,
) -> Result<Value, ApiError> {
    let (id, trade_id, key) = trade_target(id, trade, key)?;
    let request: AmendTrade = parse_json(body, "amendment")?;
    let mutation = Mutation::Amend {
        trade_id,
        stop_loss: request.stop_loss.flatten(),
        clear_stop_loss: matches!(request.stop_loss, Some(None)),
        take_profits: request.take_profits,
    };
    Ok(outcome_json(&mutate(state, id, mutation, key).await?))
}

async fn list_trades(
    id: &str,
    query: &HashMap<String, String>,
    state: &AppState,
) -> Result<Value, ApiError> {
    let params = super::query::QueryParams::new(query, &["status"])?;
    let status: Option<TradeStatus> = params.named("status", "open, partially_closed, closed")?;
    let portfolio = book(state)?
        .portfolio(parse_id("portfolio_id", id)?)
        .await?;
    let marks = marks(&portfolio, state).await;
    let trades: Vec<TradeJson> = portfolio
        .trades()
        .rev()
        .filter(|trade| status.is_none_or(|wanted| trade.status == wanted))
        .map(|trade| TradeJson::new(trade, marks.get(trade.symbol.as_str()).copied()))
        .collect();
    Ok(json!({"count": trades.len(), "trades": trades}))
}

/// `stats`, `equity` or `ledger` of a portfolio.
async fn portfolio_view(id: &str, view: &str, state: &AppState) -> Result<Value, ApiError> {
    let portfolio = book(state)?
        .portfolio(parse_id("portfolio_id", id)?)
        .await?;
    let marks = marks(&portfolio, state).await;
    match view {
        "stats" => Ok(json!(
            analytics::stats(&portfolio, &marks, now_ms()).map_err(PortfolioError::Refused)?
        )),
        "equity" => Ok(
            json!({"points": analytics::equity_curve(&portfolio, &marks, now_ms())
            .map_err(PortfolioError::Refused)?}),
        ),
        "ledger" => {
            let entries: Vec<LedgerEntryJson> = portfolio
                .ledger()
                .iter()
                .map(LedgerEntryJson::new)
                .collect();
            Ok(json!({
                "initial_balance": portfolio.spec().initial_balance.to_string(),
                "cash": portfolio.cash().to_string(),
                "count": entries.len(),
                "entries": entries,
            }))
        }
        other => Err(ApiError::NotFound(format!(
            "no portfolio view {other:?}; use stats, equity, ledger or trades"
        ))),
    }
}

/// `GET .../trades/{trade_id}/journal`.
async fn trade_view(
    id: &str,
    trade: &str,
    view: &str,
    state: &AppState,
) -> Result<Value, ApiError> {
    if view != "journal" {
        return Err(ApiError::NotFound(format!(
            "no trade view {view:?}; use journal"
        )));
    }
    let trade_id = parse_id("trade_id", trade)?;
    let portfolio = book(state)?
        .portfolio(parse_id("portfolio_id", id)?)
        .await?;
    let trade = portfolio.trade(trade_id).ok_or(PortfolioError::Refused(
        cryptolens_actors::domain::ledger::LedgerError::UnknownTrade(trade_id),
    ))?;
    Ok(json!({"trade_id": trade_id, "journal": TradeJson::new(trade, None).journal}))
}
