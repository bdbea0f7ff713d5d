//! A book of alerts over batches as the exit backlog hands them on.

use super::super::alert::tests::{alert, btc, candle, cross, trade_life, MINUTE_MS};
use super::super::sample_signal::sample_signal;
use super::*;
use crate::domain::analysis::PatternKind;
use crate::domain::notify::{AlertCondition, CrossDirection, TradeAlertEvent};

fn with_id(mut alert: Alert, id: u64) -> Alert {
    alert.id = id;
    alert
}

fn pattern_alert(id: u64, rearm: bool) -> Alert {
    let condition = AlertCondition::Pattern {
        symbol: btc(),
        kind: PatternKind::OrderBlock,
        direction: None,
        timeframe: None,
    };
    with_id(alert(condition, rearm), id)
}

/// A pattern riding the candle of `minute`, formed at `formed_minute`.
fn rider(minute: i64, formed_minute: i64) -> PatternAtClose {
    let mut pattern = sample_signal(0).patterns[0].clone();
    pattern.formed_at_ms = formed_minute * MINUTE_MS;
    PatternAtClose {
        candle_open_time_ms: minute * MINUTE_MS,
        pattern,
    }
}

fn subjects(fired: &[Fired]) -> Vec<String> {
    fired
        .iter()
        .map(|fired| fired.firing.subject.clone())
        .collect()
}

#[test]
fn a_batch_handed_on_twice_fires_nothing_twice() {
    let mut book = AlertBook::restore(vec![with_id(cross(CrossDirection::Above, "100", true), 1)]);
    let candles = [
        candle(1, "95", "97", "94", "96"),
        candle(2, "96", "100", "95", "99"),
        candle(3, "99", "99.5", "97", "98"),
        candle(4, "98", "101", "97", "100.5"),
    ];
    let first = book.on_batch(&btc(), Timeframe::M1, &candles[..2], &[]);
    assert_eq!(subjects(&first), ["alert-1-BTCUSDT-180000"]);
    assert_eq!(first[0].alert.fired_count, 1);
    assert_eq!(first[0].alert.evaluated_through_ms, Some(2 * MINUTE_MS));
    // The feed lost the answer: the same candles again, then the rest.
    let again = book.on_batch(&btc(), Timeframe::M1, &candles, &[]);
    assert_eq!(subjects(&again), ["alert-1-BTCUSDT-300000"]);
    assert_eq!(book.list(None)[0].fired_count, 2);
}

#[test]
fn patterns_are_seen_with_their_candle_and_a_one_shot_alert_fires_once() {
    let mut book = AlertBook::restore(vec![pattern_alert(1, false), pattern_alert(2, true)]);
    let candles = [
        candle(1, "95", "97", "94", "96"),
        candle(2, "96", "100", "95", "99"),
        candle(3, "99", "99.5", "97", "98"),
    ];
    let patterns = [rider(2, 1), rider(2, 2), rider(3, 3)];
    let fired = book.on_batch(&btc(), Timeframe::M1, &candles, &patterns);
    assert_eq!(
        subjects(&fired),
        [
            "alert-1-BTCUSDT-15m-60000-Bullish",
            "alert-2-BTCUSDT-15m-60000-Bullish",
            "alert-2-BTCUSDT-15m-120000-Bullish",
            "alert-2-BTCUSDT-15m-180000-Bullish",
        ]
    );
    assert!(!book.get(None, 1).unwrap().active);
    assert_eq!(book.watched_symbols().len(), 1, "alert 2 still watches");
    let replayed = book.on_batch(&btc(), Timeframe::M1, &candles, &patterns);
    assert!(replayed.is_empty(), "{:?}", subjects(&replayed));
}

#[test]
fn a_pattern_of_a_candle_the_batch_lacks_is_seen_with_the_next_candle() {
    let mut book = AlertBook::restore(vec![pattern_alert(1, true)]);
    let candles = [
        candle(1, "95", "97", "94", "96"),
        candle(5, "96", "97", "95", "96"),
    ];
    let fired = book.on_batch(&btc(), Timeframe::M1, &candles, &[rider(3, 3)]);
    assert_eq!(subjects(&fired), ["alert-1-BTCUSDT-15m-180000-Bullish"]);
}

#[test]
fn only_active_alerts_on_a_symbol_watch_it_and_other_symbols_fire_nothing() {
    let eth = Symbol::parse("ETHUSDT").unwrap();
    let mut fired_once = with_id(cross(CrossDirection::Above, "100", false), 2);
    fired_once.active = false;
    let trade = with_id(
        alert(
            AlertCondition::Trade {
                portfolio_id: 3,
                event: TradeAlertEvent::StopHit,
            },
            true,
        ),
        3,
    );
    let mut book = AlertBook::restore(vec![
        with_id(cross(CrossDirection::Above, "100", true), 1),
        fired_once,
        trade,
    ]);
    assert_eq!(
        book.watched_symbols().into_iter().collect::<Vec<_>>(),
        [btc()]
    );
    let crossing = [candle(1, "99", "101", "98", "99")];
    assert!(book
        .on_batch(&eth, Timeframe::M1, &crossing, &[])
        .is_empty());
    assert_eq!(
        book.on_batch(&btc(), Timeframe::M1, &crossing, &[]).len(),
        1
    );
    assert_eq!(book.next_id(), 4);
    assert_eq!(book.owned_by("ana"), 3);
    assert_eq!(book.list(Some("bob")).len(), 0);
    assert!(book.get(Some("bob"), 1).is_none());
    assert!(book.remove(1).is_some());
    assert!(book.get(None, 1).is_none());
}

#[test]
fn a_trade_change_fires_the_alerts_of_its_portfolio() {
    let [resting, filled, stopped] = trade_life();
    let stop_alert = AlertCondition::Trade {
        portfolio_id: 3,
        event: TradeAlertEvent::StopHit,
    };
    let mut book = AlertBook::restore(vec![
        with_id(alert(stop_alert, false), 1),
        with_id(cross(CrossDirection::Above, "100", true), 2),
    ]);
    assert!(!super::super::alert::trade_may_alert(&resting));
    assert!(super::super::alert::trade_may_alert(&filled));
    assert!(book.on_trade(3, &filled, 10).is_empty());
    let fired = book.on_trade(3, &stopped, 20);
    assert_eq!(subjects(&fired), ["alert-1-p3-t1-StopHit"]);
    assert_eq!(fired[0].alert.last_fired_at_ms, Some(20));
    assert!(book.on_trade(3, &stopped, 30).is_empty(), "one-shot");
}
