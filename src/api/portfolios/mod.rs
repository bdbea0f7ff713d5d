//! Paper portfolio routes. Every mutation goes to the portfolio's actor and is answered once
//! durable; an `Idempotency-Key` header makes a retry return the first answer. A portfolio
//! belongs to the user who created it: others get the same 404 as for a portfolio that does
//! not exist (admins see all); the gate's [`portfolio_route`] checks that once, for the
//! caller the gate identified, and hands the handler the portfolio it found.
//!
//! Each handler parses, calls one book, engine or domain method, and renders: the sizing and
//! risk rules are the domain's (`domain/ledger/sizing.rs`, `risk.rs`), the JSON shapes are in
//! `views.rs`, the request bodies in `requests.rs`.

mod collection;
mod export;
mod input;
mod market;
mod open;
mod order_terms;
mod reads;
pub(super) mod requests;
mod strategy;
mod trades;
mod views;

pub(super) use input::parse_id;

/// A trade as the trade list shows it (without mark or journal), for the live stream.
pub(super) fn trade_json(trade: &cryptolens_actors::domain::ledger::Trade) -> serde_json::Value {
    serde_json::to_value(views::TradeJson::new(trade, None, &[])).unwrap_or_default()
}

use super::answer::Answer;
use super::gate::{portfolio_route, trade_route, OwnedPortfolio};
use super::AppState;
use warp::{Filter, Rejection};

pub fn routes(state: &AppState) -> impl Filter<Extract = (Answer,), Error = Rejection> + Clone {
    collection::routes(state)
        .or(reads::routes(state))
        .unify()
        .or(trades::routes(state))
        .unify()
        .or(export::routes(state))
        .unify()
        .or(strategy::routes(state))
        .unify()
}
