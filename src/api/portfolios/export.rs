//! CSV exports of a portfolio, for spreadsheets and tax tools: `GET .../trades.csv` (one row
//! per trade, pending and closed ones included, with its full record) and
//! `GET .../ledger.csv` (one row per cash movement). Money as exact decimal text.

use super::super::answer::Answer;
use super::super::error::ApiError;
use super::super::AppState;
use super::input::no_input;
use super::{portfolio_route, OwnedPortfolio};
use cryptolens_actors::domain::ledger::{Portfolio, Trade, TradeSource};
use warp::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

const TRADE_COLUMNS: [&str; 21] = [
    "id",
    "symbol",
    "side",
    "status",
    "source",
    "quantity_entered",
    "quantity_open",
    "average_entry_price",
    "average_exit_price",
    "exit_reason",
    "stop_loss",
    "take_profits",
    "realised_pnl",
    "fees_paid",
    "net_pnl",
    "initial_risk",
    "r_multiple",
    "opened_at",
    "closed_at",
    "duration_ms",
    "fills",
];

const LEDGER_COLUMNS: [&str; 7] = [
    "trade_id",
    "kind",
    "amount",
    "cost_change",
    "cash_before",
    "cash_after",
    "at",
];

pub fn routes(state: &AppState) -> impl Filter<Extract = (Answer,), Error = Rejection> + Clone {
    let trades = export(
        warp::path!("api" / "portfolios" / String / "trades.csv").and(warp::get()),
        "trades",
        trades_csv,
        state,
    );
    let ledger = export(
        warp::path!("api" / "portfolios" / String / "ledger.csv").and(warp::get()),
        "ledger",
        ledger_csv,
        state,
    );
    trades.or(ledger).unify()
}

type Render = fn(&Portfolio) -> Result<Vec<u8>, csv::Error>;

fn export<P>(
    path: P,
    name: &'static str,
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
            match csv_of(&owned, name, render).await {
                Ok(response) => response,
                Err(error) => error.into_response(state.ingest.retry_after_s),
            }
        },
    )
}

async fn csv_of(owned: &OwnedPortfolio, name: &str, render: Render) -> Result<Response, ApiError> {
    let portfolio = owned.read().await?;
    let bytes = render(&portfolio)?;
    let filename = format!("attachment; filename=\"portfolio-{}-{name}.csv\"", owned.id);
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        warp::http::HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(value) = warp::http::HeaderValue::from_str(&filename) {
        headers.insert(CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

fn trades_csv(portfolio: &Portfolio) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(TRADE_COLUMNS)?;
    for trade in portfolio.trades() {
        writer.write_record(trade_row(trade))?;
    }
    writer
        .into_inner()
        .map_err(|error| csv::Error::from(error.into_error()))
}

fn text<T: ToString>(value: Option<T>) -> String {
    value.map(|value| value.to_string()).unwrap_or_default()
}

fn trade_row(trade: &Trade) -> Vec<String> {
    let source = match &trade.source {
        TradeSource::Manual => "manual".to_owned(),
        TradeSource::Signal(id) => format!("signal:{id}"),
        TradeSource::Pattern(id) => format!("pattern:{id}"),
    };
    let fills: Vec<String> = trade
        .fills
        .iter()
        .map(|fill| format!("{}@{}x{}", fill.at_ms, fill.price, fill.quantity))
        .collect();
    let targets: Vec<String> = trade.take_profits.iter().map(ToString::to_string).collect();
    vec![
        trade.id.to_string(),
        trade.symbol.to_string(),
        format!("{:?}", trade.side).to_lowercase(),
        serde_plain(&trade.status),
        source,
        text(trade.entered_quantity().ok()),
        trade.quantity.to_string(),
        text(trade.average_entry_price()),
        text(trade.average_exit_price()),
        text(trade.exit_reason.map(|reason| reason.name())),
        text(trade.stop_loss),
        targets.join(";"),
        trade.realised_pnl.to_string(),
        trade.fees_paid.to_string(),
        text(trade.net_pnl().ok()),
        text(trade.initial_risk),
        text(trade.r_multiple()),
        trade.opened_at_ms.to_string(),
        text(trade.closed_at_ms),
        text(trade.duration_ms()),
        fills.join(";"),
    ]
}

/// A unit enum variant's serde name (`partially_closed`).
fn serde_plain<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn ledger_csv(portfolio: &Portfolio) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(LEDGER_COLUMNS)?;
    for entry in portfolio.ledger() {
        writer.write_record([
            entry.trade_id.to_string(),
            serde_plain(&entry.kind),
            entry.amount.to_string(),
            entry.cost_change.to_string(),
            entry.cash_before.to_string(),
            entry.cash_after.to_string(),
            entry.at_ms.to_string(),
        ])?;
    }
    writer
        .into_inner()
        .map_err(|error| csv::Error::from(error.into_error()))
}
