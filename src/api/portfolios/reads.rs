//! Reads of one portfolio: the portfolio, its trades, its statistics, equity curve and
//! ledger, and a trade's journal. Each view has its own route; other paths never reach here
//! (the gate answers 404 for a path missing from the authorisation table).

use super::super::answer::Answer;
use super::super::error::ApiError;
use super::super::query::QueryParams;
use super::super::{respond, AppState};
use super::input::{no_input, parse_id};
use super::market::marks;
use super::views::{LedgerEntryJson, PortfolioJson, TradeJson};
use super::{portfolio_route, trade_route, OwnedPortfolio};
use cryptolens_actors::actors::portfolio::PortfolioError;
use cryptolens_actors::domain::ledger::{analytics, LedgerError, Portfolio, TradeStatus};
use cryptolens_actors::domain::money::Price;
use serde_json::{json, Value};
use std::collections::HashMap;
use warp::{Filter, Rejection};

type Marks = HashMap<String, Price>;
/// Renders a portfolio valued at `Marks` as of `now_ms`; valuing can overflow.
type Render = fn(&Portfolio, &Marks, i64) -> Result<Value, LedgerError>;

pub fn routes(state: &AppState) -> impl Filter<Extract = (Answer,), Error = Rejection> + Clone {
    let show = valued_view(
        warp::path!("api" / "portfolios" / String).and(warp::get()),
        portfolio_json,
        state,
    );
    let stats = valued_view(
        warp::path!("api" / "portfolios" / String / "stats").and(warp::get()),
        stats_json,
        state,
    );
    let equity = valued_view(
        warp::path!("api" / "portfolios" / String / "equity").and(warp::get()),
        equity_json,
        state,
    );
    show.or(trades(state))
        .unify()
        .or(stats)
        .unify()
        .or(equity)
        .unify()
        .or(ledger(state))
        .unify()
        .or(journal(state))
        .unify()
}

/// A view of the portfolio at `path`: `render` of it valued at the latest prices of what it
/// holds.
fn valued_view<P>(
    path: P,
    render: Render,
    state: &AppState,
) -> impl Filter<Extract = (Answer,), Error = Rejection> + Clone
where
    P: Filter<Extract = (String,), Error = Rejection> + Clone + Send + Sync + 'static,
{
    portfolio_route(
        path,
        no_input(),
        state,
        move |owned: OwnedPortfolio, (), state: AppState| async move {
            respond(valued(&owned, &state, render).await, &state)
        },
    )
}

/// `GET .../trades`, optionally of one `status`.
fn trades(state: &AppState) -> impl Filter<Extract = (Answer,), Error = Rejection> + Clone {
    portfolio_route(
        warp::path!("api" / "portfolios" / String / "trades").and(warp::get()),
        warp::query::<HashMap<String, String>>(),
        state,
        |owned: OwnedPortfolio, query: HashMap<String, String>, state: AppState| async move {
            respond(list_trades(&owned, &query, &state).await, &state)
        },
    )
}

/// `GET .../ledger`: needs no prices, so no marks are asked of the symbol actors.
fn ledger(state: &AppState) -> impl Filter<Extract = (Answer,), Error = Rejection> + Clone {
    portfolio_route(
        warp::path!("api" / "portfolios" / String / "ledger").and(warp::get()),
        no_input(),
        state,
        |owned: OwnedPortfolio, (), state: AppState| async move {
            let ledger = owned.read().await.map(|p| ledger_json(&p));
            respond(ledger.map_err(ApiError::from), &state)
        },
    )
}

/// `GET .../trades/{trade_id}/journal`.
fn journal(state: &AppState) -> impl Filter<Extract = (Answer,), Error = Rejection> + Clone {
    trade_route(
        warp::path!("api" / "portfolios" / String / "trades" / String / "journal").and(warp::get()),
        no_input(),
        state,
        |owned: OwnedPortfolio, trade: String, (), state: AppState| async move {
            respond(trade_journal(&owned, &trade).await, &state)
        },
    )
}

/// `render` of the portfolio valued at the latest prices of what it holds.
async fn valued(
    owned: &OwnedPortfolio,
    state: &AppState,
    render: Render,
) -> Result<Value, ApiError> {
    let portfolio = owned.read().await?;
    let marks = marks(&portfolio, state).await;
    render(&portfolio, &marks, state.clock.now_ms())
        .map_err(|error| ApiError::from(PortfolioError::Refused(error)))
}

fn portfolio_json(portfolio: &Portfolio, marks: &Marks, now_ms: i64) -> Result<Value, LedgerError> {
    Ok(json!(PortfolioJson::new(portfolio, marks, now_ms)?))
}

fn stats_json(portfolio: &Portfolio, marks: &Marks, now_ms: i64) -> Result<Value, LedgerError> {
    let stats = analytics::stats(portfolio, marks, now_ms)?;
    let decimals = portfolio.spec().money_decimals;
    Ok(json!(super::views::stats_in_precision(stats, decimals)))
}

fn equity_json(portfolio: &Portfolio, marks: &Marks, now_ms: i64) -> Result<Value, LedgerError> {
    Ok(json!({"points": analytics::equity_curve(portfolio, marks, now_ms)?}))
}

fn ledger_json(portfolio: &Portfolio) -> Value {
    let entries: Vec<LedgerEntryJson> = portfolio
        .ledger()
        .iter()
        .map(LedgerEntryJson::new)
        .collect();
    json!({
        "initial_balance": portfolio.spec().initial_balance.to_string(),
        "cash": portfolio.cash().to_string(),
        "count": entries.len(),
        "entries": entries,
    })
}

async fn list_trades(
    owned: &OwnedPortfolio,
    query: &HashMap<String, String>,
    state: &AppState,
) -> Result<Value, ApiError> {
    let params = QueryParams::new(query, &["status"])?;
    let status: Option<TradeStatus> = params.named("status", "open, partially_closed, closed")?;
    let portfolio = owned.read().await?;
    let marks = marks(&portfolio, state).await;
    let trades: Vec<TradeJson> = portfolio
        .trades()
        .rev()
        .filter(|trade| status.is_none_or(|wanted| trade.status == wanted))
        .map(|trade| {
            let mark = marks.get(trade.symbol.as_str()).copied();
            TradeJson::new(trade, mark, portfolio.journal_of(trade.id))
        })
        .collect();
    Ok(json!({"count": trades.len(), "trades": trades}))
}

async fn trade_journal(owned: &OwnedPortfolio, trade: &str) -> Result<Value, ApiError> {
    let trade_id = parse_id("trade_id", trade)?;
    let portfolio = owned.read().await?;
    let trade = portfolio
        .trade(trade_id)
        .ok_or(PortfolioError::Refused(LedgerError::UnknownTrade(trade_id)))?;
    let journal = TradeJson::new(trade, None, portfolio.journal_of(trade_id)).journal;
    Ok(json!({"trade_id": trade_id, "journal": journal}))
}
