//! Performance analytics of a portfolio, from its trades, its ledger and the latest prices.
//! Money stays Decimal; ratios (win rate, Sharpe) are f64.

use super::{Portfolio, Side, Trade, TradeSource};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Trades and net P&L of one slice (a symbol, a pattern kind, a timeframe).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Breakdown {
    pub closed_trades: usize,
    pub wins: usize,
    #[serde(with = "rust_decimal::serde::str")]
    pub net_pnl: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PortfolioStats {
    #[serde(with = "rust_decimal::serde::str")]
    pub cash: Decimal,
    /// Cash plus open positions valued at the latest prices (at cost when none is known).
    #[serde(with = "rust_decimal::serde::str")]
    pub equity: Decimal,
    /// Price P&L of closed quantities less every fee paid.
    #[serde(with = "rust_decimal::serde::str")]
    pub realised_pnl: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub unrealised_pnl: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub fees: Decimal,
    pub open_trades: usize,
    pub closed_trades: usize,
    pub win_rate: Option<f64>,
    #[serde(with = "rust_decimal::serde::str_option")]
    pub profit_factor: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str_option")]
    pub expectancy: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str_option")]
    pub average_r: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str")]
    pub max_drawdown: Decimal,
    pub max_drawdown_ratio: f64,
    /// Annualised (365 days) Sharpe of daily realised P&L over the initial balance.
    pub sharpe_daily: Option<f64>,
    pub by_symbol: BTreeMap<String, Breakdown>,
    pub by_pattern_kind: BTreeMap<String, Breakdown>,
    pub by_timeframe: BTreeMap<String, Breakdown>,
}

/// One point of the equity curve.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EquityPoint {
    pub at_ms: i64,
    #[serde(with = "rust_decimal::serde::str")]
    pub equity: Decimal,
}

/// Unrealised P&L of an open trade at `mark`.
pub fn unrealised(trade: &Trade, mark: Decimal) -> Decimal {
    let value = trade.quantity * mark;
    match trade.side {
        Side::Long => value - trade.cost_basis,
        Side::Short => trade.cost_basis - value,
    }
}

/// Equity after every ledger entry, valuing open positions at cost (realised equity), then
/// a last point valued at the latest prices.
pub fn equity_curve(
    portfolio: &Portfolio,
    marks: &HashMap<String, Decimal>,
    now_ms: i64,
) -> Vec<EquityPoint> {
    let mut open_cost = Decimal::ZERO;
    let mut points = vec![EquityPoint {
        at_ms: portfolio.spec().created_at_ms,
        equity: portfolio.spec().initial_balance,
    }];
    for entry in portfolio.ledger() {
        open_cost += entry.cost_change;
        points.push(EquityPoint {
            at_ms: entry.at_ms,
            equity: entry.cash_after + open_cost,
        });
    }
    points.push(EquityPoint {
        at_ms: now_ms,
        equity: marked_equity(portfolio, marks),
    });
    points
}

fn marked_equity(portfolio: &Portfolio, marks: &HashMap<String, Decimal>) -> Decimal {
    portfolio
        .trades()
        .filter(|trade| trade.is_open())
        .map(|trade| {
            let pnl = marks
                .get(trade.symbol.as_str())
                .map_or(Decimal::ZERO, |mark| unrealised(trade, *mark));
            trade.cost_basis + pnl
        })
        .fold(portfolio.cash(), |total, value| total + value)
}

pub fn stats(
    portfolio: &Portfolio,
    marks: &HashMap<String, Decimal>,
    now_ms: i64,
) -> PortfolioStats {
    let closed: Vec<&Trade> = portfolio.trades().filter(|t| !t.is_open()).collect();
    let net = |trade: &Trade| trade.realised_pnl - trade.fees_paid;
    let wins: Vec<Decimal> = closed
        .iter()
        .map(|t| net(t))
        .filter(|n| *n > Decimal::ZERO)
        .collect();
    let losses: Decimal = closed
        .iter()
        .map(|t| net(t))
        .filter(|n| *n < Decimal::ZERO)
        .sum();
    let total_net: Decimal = closed.iter().map(|t| net(t)).sum();
    let count = Decimal::from(closed.len());
    let r_multiples: Vec<Decimal> = closed
        .iter()
        .filter_map(|t| t.initial_risk.filter(|r| !r.is_zero()).map(|r| net(t) / r))
        .collect();
    let curve = equity_curve(portfolio, marks, now_ms);
    let (max_drawdown, max_drawdown_ratio) = drawdown(&curve);
    let unrealised_pnl = portfolio
        .trades()
        .filter(|t| t.is_open())
        .filter_map(|t| {
            marks
                .get(t.symbol.as_str())
                .map(|mark| unrealised(t, *mark))
        })
        .sum();
    PortfolioStats {
        cash: portfolio.cash(),
        equity: marked_equity(portfolio, marks),
        realised_pnl: portfolio
            .trades()
            .map(|t| t.realised_pnl - t.fees_paid)
            .sum(),
        unrealised_pnl,
        fees: portfolio.trades().map(|t| t.fees_paid).sum(),
        open_trades: portfolio.trades().filter(|t| t.is_open()).count(),
        closed_trades: closed.len(),
        win_rate: (!closed.is_empty()).then(|| wins.len() as f64 / closed.len() as f64),
        profit_factor: (!losses.is_zero()).then(|| wins.iter().sum::<Decimal>() / -losses),
        expectancy: (!closed.is_empty()).then(|| total_net / count),
        average_r: (!r_multiples.is_empty())
            .then(|| r_multiples.iter().sum::<Decimal>() / Decimal::from(r_multiples.len())),
        max_drawdown,
        max_drawdown_ratio,
        sharpe_daily: sharpe(portfolio),
        by_symbol: breakdown(&closed, |t| t.symbol.as_str().to_owned()),
        by_pattern_kind: breakdown(&closed, |t| source_parts(&t.source).0),
        by_timeframe: breakdown(&closed, |t| source_parts(&t.source).1),
    }
}

fn breakdown(closed: &[&Trade], key: impl Fn(&Trade) -> String) -> BTreeMap<String, Breakdown> {
    let mut slices: BTreeMap<String, Breakdown> = BTreeMap::new();
    for trade in closed {
        let slice = slices.entry(key(trade)).or_default();
        let net = trade.realised_pnl - trade.fees_paid;
        slice.closed_trades += 1;
        slice.wins += usize::from(net > Decimal::ZERO);
        slice.net_pnl += net;
    }
    slices
}

/// (pattern kind, timeframe) of a trade's source: a pattern id reads
/// `{timeframe}-{formed_at}-{fvg|ob|sweep}-{bull|bear}`.
fn source_parts(source: &TradeSource) -> (String, String) {
    match source {
        TradeSource::Manual => ("manual".into(), "manual".into()),
        TradeSource::Signal(_) => ("signal".into(), "signal".into()),
        TradeSource::Pattern(id) => {
            let parts: Vec<&str> = id.split('-').collect();
            let kind = match parts.get(2) {
                Some(&"fvg") => "fair_value_gap",
                Some(&"ob") => "order_block",
                Some(&"sweep") => "liquidity_sweep",
                _ => "unknown",
            };
            (
                kind.into(),
                parts.first().copied().unwrap_or("unknown").into(),
            )
        }
    }
}

/// Largest fall from a running peak, absolute and as a share of that peak.
fn drawdown(curve: &[EquityPoint]) -> (Decimal, f64) {
    let mut peak = Decimal::MIN;
    let (mut worst, mut worst_ratio) = (Decimal::ZERO, 0.0);
    for point in curve {
        peak = peak.max(point.equity);
        let fall = peak - point.equity;
        if fall > worst {
            worst = fall;
            worst_ratio = (fall / peak).to_f64().unwrap_or(0.0);
        }
    }
    (worst, worst_ratio)
}

fn sharpe(portfolio: &Portfolio) -> Option<f64> {
    let initial = portfolio.spec().initial_balance.to_f64()?;
    let days: BTreeMap<i64, f64> = portfolio
        .realised_by_day()
        .map(|(day, pnl)| (day, pnl.to_f64().unwrap_or(0.0) / initial))
        .collect();
    let (first, last) = (*days.keys().next()?, *days.keys().next_back()?);
    let span = usize::try_from(last - first + 1).ok()?;
    if span < 2 {
        return None;
    }
    // Days without a close count as 0 return.
    let returns: Vec<f64> = (first..=last)
        .map(|day| days.get(&day).copied().unwrap_or(0.0))
        .collect();
    let mean = returns.iter().sum::<f64>() / span as f64;
    let variance = returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (span - 1) as f64;
    let deviation = variance.sqrt();
    (deviation > 0.0).then(|| mean / deviation * 365_f64.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ledger::{test_spec, Mutation};
    use crate::domain::market::Symbol;

    const DAY_MS: i64 = 86_400_000;

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    #[test]
    fn a_win_and_a_loss_give_the_textbook_figures() {
        let mut portfolio = Portfolio::create(test_spec("1000", Decimal::ZERO)).unwrap();
        let symbol = Symbol::parse("BTCUSDT").unwrap();
        let open = |price: &str, stop: &str| Mutation::Open {
            symbol: symbol.clone(),
            side: Side::Long,
            quantity: dec("1"),
            price: dec(price),
            stop_loss: Some(dec(stop)),
            take_profits: Vec::new(),
            source: TradeSource::Pattern("1h-0-fvg-bull".into()),
        };
        let close = |id, price: &str| Mutation::Close {
            trade_id: id,
            quantity: None,
            price: dec(price),
        };
        portfolio.apply(&open("100", "90"), 0).unwrap();
        portfolio.apply(&close(1, "120"), DAY_MS).unwrap(); // +20 = +2R
        portfolio.apply(&open("100", "95"), 2 * DAY_MS).unwrap();
        portfolio.apply(&close(2, "95"), 3 * DAY_MS).unwrap(); // -5 = -1R
        let stats = stats(&portfolio, &HashMap::new(), 4 * DAY_MS);
        assert_eq!(stats.realised_pnl, dec("15"));
        assert_eq!(stats.win_rate, Some(0.5));
        assert_eq!(stats.profit_factor, Some(dec("4")));
        assert_eq!(stats.expectancy, Some(dec("7.5")));
        assert_eq!(stats.average_r, Some(dec("0.5")));
        assert_eq!(stats.max_drawdown, dec("5"), "1020 down to 1015");
        assert_eq!(stats.by_pattern_kind["fair_value_gap"].closed_trades, 2);
        assert_eq!(stats.by_timeframe["1h"].net_pnl, dec("15"));
        assert!(stats.sharpe_daily.is_some());
        let curve = equity_curve(&portfolio, &HashMap::new(), 4 * DAY_MS);
        let equities: Vec<String> = curve
            .iter()
            .map(|p| p.equity.normalize().to_string())
            .collect();
        assert_eq!(equities, ["1000", "1000", "1020", "1020", "1015", "1015"]);
    }
}
