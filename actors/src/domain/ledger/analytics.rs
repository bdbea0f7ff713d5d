//! Performance analytics of a portfolio, from its trades, its ledger and the latest prices.
//! Money stays exact ([`Money`], checked: an overflow is an error value, never a panic);
//! ratios (profit factor, R multiples) are Decimal, and win rate and Sharpe are f64.

use super::{EntryKind, LedgerError, Portfolio, Side, Trade, TradeSource};
use crate::domain::money::{Money, MoneyError, Price};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Trades and net P&L of one slice (a symbol, a pattern kind, a timeframe).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Breakdown {
    pub closed_trades: usize,
    pub wins: usize,
    pub net_pnl: Money,
}

/// Decimal ratios serialise as decimal strings (rust_decimal's own representation), like
/// the money fields.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PortfolioStats {
    pub cash: Money,
    /// Cash plus open positions valued at the latest prices (at cost when none is known).
    pub equity: Money,
    /// Price P&L of closed quantities less every fee paid.
    pub realised_pnl: Money,
    pub unrealised_pnl: Money,
    pub fees: Money,
    pub open_trades: usize,
    pub closed_trades: usize,
    pub win_rate: Option<f64>,
    pub profit_factor: Option<Decimal>,
    pub expectancy: Option<Money>,
    pub average_r: Option<Decimal>,
    pub max_drawdown: Money,
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
    pub equity: Money,
}

/// Unrealised P&L of an open trade at `mark`.
pub fn unrealised(trade: &Trade, mark: Price) -> Result<Money, MoneyError> {
    let value = trade.quantity.checked_mul(mark)?;
    match trade.side {
        Side::Long => value.checked_sub(trade.cost_basis),
        Side::Short => trade.cost_basis.checked_sub(value),
    }
}

/// Equity after every ledger entry, valuing open positions at cost (realised equity) and
/// counting cash held by pending orders, then
/// a last point valued at the latest prices.
pub fn equity_curve(
    portfolio: &Portfolio,
    marks: &HashMap<String, Price>,
    now_ms: i64,
) -> Result<Vec<EquityPoint>, LedgerError> {
    let mut open_cost = Money::ZERO;
    // Cash a pending order holds is still the portfolio's: placing an order moves no equity.
    let mut held_by_orders = Money::ZERO;
    let mut points = vec![EquityPoint {
        at_ms: portfolio.spec().created_at_ms,
        equity: portfolio.spec().initial_balance,
    }];
    for entry in portfolio.ledger() {
        open_cost = open_cost.checked_add(entry.cost_change)?;
        if matches!(
            entry.kind,
            EntryKind::OrderReserve | EntryKind::OrderRelease
        ) {
            held_by_orders = held_by_orders.checked_sub(entry.amount)?;
        }
        points.push(EquityPoint {
            at_ms: entry.at_ms,
            equity: entry
                .cash_after
                .checked_add(open_cost)?
                .checked_add(held_by_orders)?,
        });
    }
    points.push(EquityPoint {
        at_ms: now_ms,
        equity: marked_equity(portfolio, marks)?,
    });
    Ok(points)
}

/// Cash plus open positions at `marks` (at cost without one) plus the cash pending orders
/// hold.
pub(crate) fn marked_equity(
    portfolio: &Portfolio,
    marks: &HashMap<String, Price>,
) -> Result<Money, MoneyError> {
    portfolio
        .trades()
        .try_fold(portfolio.cash(), |total, trade| {
            if trade.is_pending() {
                let reserved = trade
                    .pending
                    .as_ref()
                    .map_or(Money::ZERO, |order| order.reserved);
                return total.checked_add(reserved);
            }
            if !trade.is_open() {
                return Ok(total);
            }
            let pnl = match marks.get(trade.symbol.as_str()) {
                Some(mark) => unrealised(trade, *mark)?,
                None => Money::ZERO,
            };
            total.checked_add(trade.cost_basis.checked_add(pnl)?)
        })
}

pub fn stats(
    portfolio: &Portfolio,
    marks: &HashMap<String, Price>,
    now_ms: i64,
) -> Result<PortfolioStats, LedgerError> {
    // Orders that never filled (pending, cancelled, expired) are no trade to score.
    let closed: Vec<&Trade> = portfolio
        .trades()
        .filter(|t| t.status == super::TradeStatus::Closed)
        .collect();
    let figures = ClosedFigures::of(&closed)?;
    let curve = equity_curve(portfolio, marks, now_ms)?;
    let (max_drawdown, max_drawdown_ratio) = drawdown(&curve)?;
    let unrealised_each: Vec<Money> = portfolio
        .trades()
        .filter(|t| t.is_open())
        .filter_map(|t| {
            marks
                .get(t.symbol.as_str())
                .map(|mark| unrealised(t, *mark))
        })
        .collect::<Result<_, _>>()?;
    let net_each: Vec<Money> = portfolio
        .trades()
        .map(Trade::net_pnl)
        .collect::<Result<_, _>>()?;
    Ok(PortfolioStats {
        cash: portfolio.cash(),
        equity: marked_equity(portfolio, marks)?,
        realised_pnl: Money::checked_sum(net_each)?,
        unrealised_pnl: Money::checked_sum(unrealised_each)?,
        fees: Money::checked_sum(portfolio.trades().map(|t| t.fees_paid))?,
        open_trades: portfolio.trades().filter(|t| t.is_open()).count(),
        closed_trades: closed.len(),
        win_rate: figures.win_rate,
        profit_factor: figures.profit_factor,
        expectancy: figures.expectancy,
        average_r: figures.average_r,
        max_drawdown,
        max_drawdown_ratio,
        sharpe_daily: sharpe(portfolio),
        by_symbol: breakdown(&closed, |t| t.symbol.as_str().to_owned())?,
        by_pattern_kind: breakdown(&closed, |t| source_parts(&t.source).0)?,
        by_timeframe: breakdown(&closed, |t| source_parts(&t.source).1)?,
    })
}

/// The figures of closed trades: how often they won, by how much, in R.
struct ClosedFigures {
    win_rate: Option<f64>,
    profit_factor: Option<Decimal>,
    expectancy: Option<Money>,
    average_r: Option<Decimal>,
}

impl ClosedFigures {
    fn of(closed: &[&Trade]) -> Result<ClosedFigures, MoneyError> {
        let nets: Vec<Money> = closed
            .iter()
            .map(|t| t.net_pnl())
            .collect::<Result<_, _>>()?;
        let wins: Vec<Money> = nets.iter().copied().filter(|n| n.is_positive()).collect();
        let losses = Money::checked_sum(nets.iter().copied().filter(|n| n.is_negative()))?;
        let total_net = Money::checked_sum(nets.iter().copied())?;
        // A ratio too large for a Decimal (a profit factor of a 1e24 win over a 1e-8 loss,
        // both within the bounds) means nothing to a reader: it shows as none rather than
        // failing the read.
        let r_multiples: Option<Vec<Decimal>> = closed
            .iter()
            .zip(&nets)
            .filter_map(|(trade, net)| {
                let risk = trade.initial_risk.filter(|r| !r.is_zero())?;
                Some(net.ratio_to(risk).ok())
            })
            .collect();
        let profit_factor = if losses.is_zero() {
            None
        } else {
            Money::checked_sum(wins.iter().copied())?
                .ratio_to(-losses)
                .ok()
        };
        let expectancy = if closed.is_empty() {
            None
        } else {
            Some(total_net.checked_div_by(Decimal::from(closed.len()))?)
        };
        Ok(ClosedFigures {
            win_rate: (!closed.is_empty()).then(|| wins.len() as f64 / closed.len() as f64),
            profit_factor,
            expectancy,
            average_r: r_multiples.and_then(|all| mean(&all).ok().flatten()),
        })
    }
}

/// The mean of `values`, None when there are none.
fn mean(values: &[Decimal]) -> Result<Option<Decimal>, MoneyError> {
    if values.is_empty() {
        return Ok(None);
    }
    let sum = values
        .iter()
        .try_fold(Decimal::ZERO, |total, value| total.checked_add(*value))
        .ok_or(MoneyError::Overflow)?;
    sum.checked_div(Decimal::from(values.len()))
        .map(Some)
        .ok_or(MoneyError::Overflow)
}

fn breakdown(
    closed: &[&Trade],
    key: impl Fn(&Trade) -> String,
) -> Result<BTreeMap<String, Breakdown>, MoneyError> {
    let mut slices: BTreeMap<String, Breakdown> = BTreeMap::new();
    for trade in closed {
        let slice = slices.entry(key(trade)).or_default();
        let net = trade.net_pnl()?;
        slice.closed_trades += 1;
        slice.wins += usize::from(net.is_positive());
        slice.net_pnl = slice.net_pnl.checked_add(net)?;
    }
    Ok(slices)
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

/// Largest fall from a running peak, absolute and as a share of that peak (0 for a peak of
/// 0, where a share means nothing).
fn drawdown(curve: &[EquityPoint]) -> Result<(Money, f64), MoneyError> {
    let mut peak = Money::new(Decimal::MIN);
    let (mut worst, mut worst_ratio) = (Money::ZERO, 0.0);
    for point in curve {
        peak = peak.max(point.equity);
        let fall = peak.checked_sub(point.equity)?;
        if fall > worst {
            worst = fall;
            worst_ratio = fall
                .ratio_to(peak)
                .ok()
                .and_then(|ratio| ratio.to_f64())
                .unwrap_or(0.0);
        }
    }
    Ok((worst, worst_ratio))
}

fn sharpe(portfolio: &Portfolio) -> Option<f64> {
    let initial = portfolio.spec().initial_balance.get().to_f64()?;
    let days: BTreeMap<i64, f64> = portfolio
        .realised_by_day()
        .map(|(day, pnl)| (day, pnl.get().to_f64().unwrap_or(0.0) / initial))
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

    fn price(text: &str) -> Price {
        Price::new_checked(dec(text)).unwrap()
    }

    #[test]
    fn a_win_and_a_loss_give_the_textbook_figures() {
        let mut portfolio = Portfolio::create(test_spec("1000", Decimal::ZERO)).unwrap();
        let symbol = Symbol::parse("BTCUSDT").unwrap();
        let open = |price: &str, stop: &str| Mutation::Open {
            symbol: symbol.clone(),
            side: Side::Long,
            quantity: crate::domain::money::Quantity::new_checked(Decimal::ONE).unwrap(),
            price: self::price(price),
            stop_loss: Some(self::price(stop)),
            take_profits: Vec::new(),
            source: TradeSource::Pattern("1h-0-fvg-bull".into()),
        };
        let close = |id, price: &str| Mutation::Close {
            trade_id: id,
            quantity: None,
            price: self::price(price),
        };
        portfolio.apply(&open("100", "90"), 0).unwrap();
        portfolio.apply(&close(1, "120"), DAY_MS).unwrap(); // +20 = +2R
        portfolio.apply(&open("100", "95"), 2 * DAY_MS).unwrap();
        portfolio.apply(&close(2, "95"), 3 * DAY_MS).unwrap(); // -5 = -1R
        let stats = stats(&portfolio, &HashMap::new(), 4 * DAY_MS).unwrap();
        assert_eq!(stats.realised_pnl.get(), dec("15"));
        assert_eq!(stats.win_rate, Some(0.5));
        assert_eq!(stats.profit_factor, Some(dec("4")));
        assert_eq!(stats.expectancy.map(Money::get), Some(dec("7.5")));
        assert_eq!(stats.average_r, Some(dec("0.5")));
        assert_eq!(stats.max_drawdown.get(), dec("5"), "1020 down to 1015");
        assert_eq!(stats.by_pattern_kind["fair_value_gap"].closed_trades, 2);
        assert_eq!(stats.by_timeframe["1h"].net_pnl.get(), dec("15"));
        assert!(stats.sharpe_daily.is_some());
        let curve = equity_curve(&portfolio, &HashMap::new(), 4 * DAY_MS).unwrap();
        let equities: Vec<String> = curve
            .iter()
            .map(|p| p.equity.get().normalize().to_string())
            .collect();
        assert_eq!(equities, ["1000", "1000", "1020", "1020", "1015", "1015"]);
        let json = serde_json::to_value(&stats).unwrap();
        assert_eq!(json["realised_pnl"], "15", "money as a decimal string");
        assert_eq!(json["profit_factor"], "4", "ratios too");
        assert_eq!(json["by_timeframe"]["1h"]["net_pnl"], "15");
    }

    #[test]
    fn a_valuation_at_the_bounds_fits() {
        use crate::domain::money::{Quantity, PRICE_MAX, QUANTITY_MAX};
        let mut portfolio = Portfolio::create(test_spec("1000000000", Decimal::ZERO)).unwrap();
        let open = Mutation::Open {
            symbol: Symbol::parse("BTCUSDT").unwrap(),
            side: Side::Short,
            quantity: Quantity::new_checked(QUANTITY_MAX).unwrap(),
            price: price("0.00000001"),
            stop_loss: None,
            take_profits: Vec::new(),
            source: TradeSource::Manual,
        };
        portfolio.apply(&open, 0).unwrap();
        // The largest position at the largest price: a short 1e24 under water, still exact.
        let absurd = Price::new_checked(PRICE_MAX).unwrap();
        let marks = HashMap::from([("BTCUSDT".to_owned(), absurd)]);
        let valued = stats(&portfolio, &marks, 1).unwrap();
        let expected = Decimal::from(10_000) - QUANTITY_MAX * PRICE_MAX;
        assert_eq!(valued.unrealised_pnl.get(), expected);
    }

    #[test]
    fn a_fall_from_a_zero_peak_has_no_ratio() {
        let point = |at_ms, equity: i64| EquityPoint {
            at_ms,
            equity: Money::new(Decimal::from(equity)),
        };
        assert_eq!(
            drawdown(&[point(0, 0), point(1, -5)]),
            Ok((Money::new(Decimal::from(5)), 0.0))
        );
        assert_eq!(
            drawdown(&[point(0, 100), point(1, 75), point(2, 120)]),
            Ok((Money::new(Decimal::from(25)), 0.25))
        );
        assert_eq!(mean(&[]), Ok(None));
    }
}
