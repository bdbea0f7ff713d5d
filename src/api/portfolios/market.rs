//! The market prices portfolio handlers need: marks for valuation and prices "at market".

use super::super::error::ApiError;
use super::super::AppState;
use super::OwnedPortfolio;
use cryptolens_actors::actors::portfolio::PortfolioError;
use cryptolens_actors::domain::ledger::{LedgerError, Portfolio};
use cryptolens_actors::domain::market::Symbol;
use cryptolens_actors::domain::money::Price;
use rust_decimal::Decimal;
use std::collections::HashMap;

/// Latest prices of the symbols the portfolio holds open; a symbol without data is left out.
pub async fn marks(portfolio: &Portfolio, state: &AppState) -> HashMap<String, Price> {
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

/// A given price, or the symbol's latest one ("at market").
pub async fn price_or_market(
    price: Option<Price>,
    symbol: &Symbol,
    state: &AppState,
) -> Result<Price, ApiError> {
    match price {
        Some(price) => Ok(price),
        None => Ok(Price::from_market(state.engine.last_price(symbol).await?)),
    }
}

/// A fill price given in a request (checked as `price`), or the latest price of the symbol
/// trade `trade_id` is on.
pub async fn price_or_trade_market(
    price: Option<Decimal>,
    owned: &OwnedPortfolio,
    trade_id: u64,
    state: &AppState,
) -> Result<Price, ApiError> {
    if let Some(given) = price {
        return super::input::price("price", given);
    }
    let portfolio = owned.read().await?;
    let trade = portfolio
        .trade(trade_id)
        .ok_or(PortfolioError::Refused(LedgerError::UnknownTrade(trade_id)))?;
    price_or_market(None, &trade.symbol, state).await
}
