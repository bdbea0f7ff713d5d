//! JSON shapes of portfolios, trades and ledger entries; money as decimal strings (the
//! serde representation of the `domain::money` types themselves).
//!
//! Display precision: money shows at most 8 places (the ledger of a portfolio with
//! `money_decimals` already holds amounts of that precision; valuations at a mark, which
//! multiply two 8-place values, and amounts of exact legacy portfolios are rounded here by
//! the ledger's one rule, `rounding::for_display`, half to even).

use cryptolens_actors::domain::ledger::analytics::{Breakdown, PortfolioStats};
use cryptolens_actors::domain::ledger::rounding::for_display;
use cryptolens_actors::domain::ledger::{
    analytics, ExitReason, ExitRules, Fill, JournalEntry, LedgerEntry, LedgerError, PendingEntry,
    Portfolio, Side, Trade, TradeSource, TradeStatus, DECIMALS_MAX,
};
use cryptolens_actors::domain::market::Symbol;
use cryptolens_actors::domain::money::{FeeRate, Money, Price, Quantity};
use serde::Serialize;
use std::collections::HashMap;

#[derive(Serialize)]
pub struct PortfolioJson {
    pub id: u64,
    pub owner: String,
    pub name: String,
    pub quote_currency: String,
    pub initial_balance: Money,
    pub fee_rate: FeeRate,
    pub cash: Money,
    pub equity: Money,
    pub unrealised_pnl: Money,
    pub open_trades: usize,
    pub limits: serde_json::Value,
    pub created_at: i64,
}

impl PortfolioJson {
    /// Refused only when the analytics overflow.
    pub fn new(
        portfolio: &Portfolio,
        marks: &HashMap<String, Price>,
        now_ms: i64,
    ) -> Result<PortfolioJson, LedgerError> {
        let spec = portfolio.spec();
        let stats = analytics::stats(portfolio, marks, now_ms)?;
        let limits = &spec.limits;
        Ok(PortfolioJson {
            id: spec.id,
            owner: spec.owner.clone(),
            name: spec.name.clone(),
            quote_currency: spec.quote_currency.clone(),
            initial_balance: spec.initial_balance,
            fee_rate: spec.fee_rate,
            cash: for_display(portfolio.cash(), spec.money_decimals),
            equity: for_display(stats.equity, spec.money_decimals),
            unrealised_pnl: for_display(stats.unrealised_pnl, spec.money_decimals),
            open_trades: stats.open_trades,
            limits: serde_json::json!({
                "max_position_notional": limits.max_position_notional,
                "max_open_positions": limits.max_open_positions,
                "daily_loss_limit": limits.daily_loss_limit,
            }),
            created_at: spec.created_at_ms,
        })
    }
}

#[derive(Serialize)]
pub struct TradeJson {
    pub id: u64,
    pub symbol: Symbol,
    pub side: Side,
    pub status: TradeStatus,
    pub quantity: Quantity,
    pub closed_quantity: Quantity,
    /// Rounded to the quote precision, so it is a price again.
    pub average_entry_price: Option<Price>,
    pub cost_basis: Money,
    pub fees_paid: Money,
    pub realised_pnl: Money,
    /// None without a mark, for a closed trade, or when the valuation overflows.
    pub unrealised_pnl: Option<Money>,
    pub stop_loss: Option<Price>,
    pub take_profits: Vec<Price>,
    pub opened_at: i64,
    pub closed_at: Option<i64>,
    pub source: TradeSource,
    pub exit_reason: Option<ExitReason>,
    /// Every execution: entry, adds and exits, each with its fee.
    pub fills: Vec<Fill>,
    /// The order terms while (and after) the trade was a pending order.
    pub order: Option<PendingEntry>,
    pub exit_rules: ExitRules,
    pub journal: Vec<JournalJson>,
}

impl TradeJson {
    pub fn new(trade: &Trade, mark: Option<Price>, journal: &[JournalEntry]) -> TradeJson {
        let shown = |amount: Money| for_display(amount, None);
        TradeJson {
            id: trade.id,
            symbol: trade.symbol.clone(),
            side: trade.side,
            status: trade.status,
            quantity: trade.quantity,
            closed_quantity: trade.closed_quantity,
            // A pending or cancelled order has bought nothing: no average, not zero.
            average_entry_price: trade
                .average_entry_price()
                .filter(|average| !average.is_zero())
                .and_then(|p| Price::new_checked(p.round_dp(DECIMALS_MAX).normalize()).ok()),
            cost_basis: shown(trade.cost_basis),
            fees_paid: shown(trade.fees_paid),
            realised_pnl: shown(trade.realised_pnl),
            unrealised_pnl: mark
                .filter(|_| trade.is_open())
                .and_then(|mark| analytics::unrealised(trade, mark).ok())
                .map(shown),
            stop_loss: trade.stop_loss,
            take_profits: trade.take_profits.clone(),
            opened_at: trade.opened_at_ms,
            closed_at: trade.closed_at_ms,
            source: trade.source.clone(),
            exit_reason: trade.exit_reason,
            fills: trade.fills.clone(),
            order: trade.pending.clone(),
            exit_rules: trade.exit_rules.clone(),
            journal: journal.iter().map(JournalJson::new).collect(),
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
    pub amount: Money,
    pub cash_before: Money,
    pub cash_after: Money,
    pub at: i64,
}

impl LedgerEntryJson {
    pub fn new(entry: &LedgerEntry) -> LedgerEntryJson {
        LedgerEntryJson {
            trade_id: entry.trade_id,
            kind: entry.kind,
            amount: for_display(entry.amount, None),
            cash_before: for_display(entry.cash_before, None),
            cash_after: for_display(entry.cash_after, None),
            at: entry.at_ms,
        }
    }
}

/// `stats` as a response shows them: every amount at most `decimals` places (8 for exact
/// portfolios).
pub fn stats_in_precision(mut stats: PortfolioStats, decimals: Option<u32>) -> PortfolioStats {
    let shown = |amount: Money| for_display(amount, decimals);
    stats.cash = shown(stats.cash);
    stats.equity = shown(stats.equity);
    stats.realised_pnl = shown(stats.realised_pnl);
    stats.unrealised_pnl = shown(stats.unrealised_pnl);
    stats.fees = shown(stats.fees);
    stats.expectancy = stats.expectancy.map(shown);
    stats.max_drawdown = shown(stats.max_drawdown);
    for slices in [
        &mut stats.by_symbol,
        &mut stats.by_pattern_kind,
        &mut stats.by_timeframe,
    ] {
        for Breakdown { net_pnl, .. } in slices.values_mut() {
            *net_pnl = shown(*net_pnl);
        }
    }
    stats
}
