//! JSON shapes of portfolios, trades and ledger entries; money as decimal strings.

use cryptolens_actors::domain::ledger::{
    analytics, JournalEntry, LedgerEntry, Portfolio, Side, Trade, TradeSource, TradeStatus,
};
use cryptolens_actors::domain::market::Symbol;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::HashMap;

#[derive(Serialize)]
pub struct PortfolioJson {
    pub id: u64,
    pub owner: String,
    pub name: String,
    pub quote_currency: String,
    pub initial_balance: String,
    pub fee_rate: String,
    pub cash: String,
    pub equity: String,
    pub unrealised_pnl: String,
    pub open_trades: usize,
    pub limits: serde_json::Value,
    pub created_at: i64,
}

impl PortfolioJson {
    pub fn new(
        portfolio: &Portfolio,
        marks: &HashMap<String, Decimal>,
        now_ms: i64,
    ) -> PortfolioJson {
        let spec = portfolio.spec();
        let stats = analytics::stats(portfolio, marks, now_ms);
        let limits = &spec.limits;
        PortfolioJson {
            id: spec.id,
            owner: spec.owner.clone(),
            name: spec.name.clone(),
            quote_currency: spec.quote_currency.clone(),
            initial_balance: spec.initial_balance.to_string(),
            fee_rate: spec.fee_rate.to_string(),
            cash: portfolio.cash().to_string(),
            equity: stats.equity.to_string(),
            unrealised_pnl: stats.unrealised_pnl.to_string(),
            open_trades: stats.open_trades,
            limits: serde_json::json!({
                "max_position_notional": limits.max_position_notional.map(|v| v.to_string()),
                "max_open_positions": limits.max_open_positions,
                "daily_loss_limit": limits.daily_loss_limit.map(|v| v.to_string()),
            }),
            created_at: spec.created_at_ms,
        }
    }
}

#[derive(Serialize)]
pub struct TradeJson {
    pub id: u64,
    pub symbol: Symbol,
    pub side: Side,
    pub status: TradeStatus,
    pub quantity: String,
    pub closed_quantity: String,
    pub average_entry_price: Option<String>,
    pub cost_basis: String,
    pub fees_paid: String,
    pub realised_pnl: String,
    pub unrealised_pnl: Option<String>,
    pub stop_loss: Option<String>,
    pub take_profits: Vec<String>,
    pub opened_at: i64,
    pub closed_at: Option<i64>,
    pub source: TradeSource,
    pub journal: Vec<JournalJson>,
}

impl TradeJson {
    pub fn new(trade: &Trade, mark: Option<Decimal>) -> TradeJson {
        TradeJson {
            id: trade.id,
            symbol: trade.symbol.clone(),
            side: trade.side,
            status: trade.status,
            quantity: trade.quantity.to_string(),
            closed_quantity: trade.closed_quantity.to_string(),
            average_entry_price: trade
                .average_entry_price()
                .map(|p| p.round_dp(8).normalize().to_string()),
            cost_basis: trade.cost_basis.to_string(),
            fees_paid: trade.fees_paid.to_string(),
            realised_pnl: trade.realised_pnl.to_string(),
            unrealised_pnl: mark
                .filter(|_| trade.is_open())
                .map(|mark| analytics::unrealised(trade, mark).to_string()),
            stop_loss: trade.stop_loss.map(|v| v.to_string()),
            take_profits: trade.take_profits.iter().map(|t| t.0.to_string()).collect(),
            opened_at: trade.opened_at_ms,
            closed_at: trade.closed_at_ms,
            source: trade.source.clone(),
            journal: trade.journal.iter().map(JournalJson::new).collect(),
        }
    }
}

#[derive(Serialize)]
pub struct JournalJson {
    pub text: String,
    pub tags: Vec<String>,
    pub at: i64,
}

impl JournalJson {
    fn new(entry: &JournalEntry) -> JournalJson {
        JournalJson {
            text: entry.text.clone(),
            tags: entry.tags.clone(),
            at: entry.at_ms,
        }
    }
}

#[derive(Serialize)]
pub struct LedgerEntryJson {
    pub trade_id: u64,
    pub kind: cryptolens_actors::domain::ledger::EntryKind,
    pub amount: String,
    pub cash_before: String,
    pub cash_after: String,
    pub at: i64,
}

impl LedgerEntryJson {
    pub fn new(entry: &LedgerEntry) -> LedgerEntryJson {
        LedgerEntryJson {
            trade_id: entry.trade_id,
            kind: entry.kind,
            amount: entry.amount.to_string(),
            cash_before: entry.cash_before.to_string(),
            cash_after: entry.cash_after.to_string(),
            at: entry.at_ms,
        }
    }
}
