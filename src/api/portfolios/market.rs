//! The market prices portfolio handlers need: marks for valuation and fill prices "at market".

use super::super::error::ApiError;
use super::super::AppState;
use super::order_terms::market_price;
use super::OwnedPortfolio;
use cryptolens_actors::actors::portfolio::PortfolioError;
use cryptolens_actors::domain::ledger::{LedgerError, Portfolio, Side};
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

/// The price a close (`closing`) or an add on trade `trade_id` fills at: the market with
/// slippage. A `limit` given in the request is a guard: refused (422 on `price`) unless the
/// market fills at it or better, so no fill is at a price the market did not offer.
pub async fn trade_fill_price(
    limit: Option<Decimal>,
    owned: &OwnedPortfolio,
    trade_id: u64,
    closing: bool,
    state: &AppState,
) -> Result<Price, ApiError> {
    let trade = owned
        .read_trade(trade_id)
        .await?
        .ok_or(PortfolioError::Refused(LedgerError::UnknownTrade(trade_id)))?;
    let buying = (trade.side == Side::Long) != closing;
    let market = market_price(&trade.symbol, buying, state).await?;
    let Some(limit) = limit else {
        return Ok(market);
    };
    let limit = super::input::price("price", limit)?;
    let marketable = if buying {
        market <= limit
    } else {
        market >= limit
    };
    if !marketable {
        return Err(ApiError::invalid_field(
            "price",
            format!("not marketable: the market fills at {market}, your limit is {limit}"),
        ));
    }
    Ok(market)
}
