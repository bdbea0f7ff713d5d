//! The alert rules on hand-made candles, a sample pattern and a real portfolio's trades.

use super::super::sample_signal::sample_signal;
use super::*;
use crate::domain::ledger::{
    test_spec, Entry, ExitRules, Mutation, OrderKind, OrderRequest, Portfolio, Side, Size,
    TradeSource,
};
use crate::domain::market::Volume;
use crate::domain::money::test_values::{dec, price, quantity};

pub(crate) const MINUTE_MS: i64 = 60_000;

pub(crate) fn btc() -> Symbol {
    Symbol::parse("BTCUSDT").unwrap()
}

fn level(text: &str) -> Price {
    Price::from_decimal(dec(text)).unwrap()
}

pub(crate) fn candle(minute: i64, open: &str, high: &str, low: &str, close: &str) -> Candle {
    Candle {
        open_time_ms: minute * MINUTE_MS,
        open: level(open),
        high: level(high),
        low: level(low),
        close: level(close),
        volume: Volume::ZERO,
    }
}

pub(crate) fn alert(condition: AlertCondition, rearm: bool) -> Alert {
    Alert {
        id: 7,
        owner: "ana".into(),
        name: "watch".into(),
        condition,
        rearm,
        channel_ids: Vec::new(),
        created_at_ms: 0,
        active: true,
        fired_count: 0,
        last_fired_at_ms: None,
        evaluated_through_ms: None,
    }
}

pub(crate) fn cross(direction: CrossDirection, at: &str, rearm: bool) -> Alert {
    alert(
        AlertCondition::PriceCross {
            symbol: btc(),
            direction,
            level: level(at),
        },
        rearm,
    )
}

/// Runs `candles` through `alert`; answers the minutes whose candle fired it.
fn fired_at(alert: &mut Alert, candles: &[Candle]) -> Vec<i64> {
    let mut watch = AlertWatch::default();
    candles
        .iter()
        .filter_map(|candle| {
            alert
                .on_candle(&mut watch, &btc(), Timeframe::M1, candle)
                .map(|_| candle.open_time_ms / MINUTE_MS)
        })
        .collect()
}

#[test]
fn a_cross_above_fires_on_the_candle_that_reaches_the_level_once_unless_rearmed() {
    let candles = [
        candle(1, "95", "97", "94", "96"),
        candle(2, "96", "100", "95", "100.5"),
        candle(3, "100.5", "101", "99", "101"),
        candle(4, "101", "102", "97", "98"),
        candle(5, "98", "100.5", "97.6", "99"),
    ];
    let mut once = cross(CrossDirection::Above, "100", false);
    assert_eq!(fired_at(&mut once, &candles), [2]);
    assert!(!once.active);
    assert_eq!(once.fired_count, 1);
    assert_eq!(once.last_fired_at_ms, Some(3 * MINUTE_MS), "at the close");
    // Re-armed, it fires again only after a close back under the level (minute 4).
    let mut again = cross(CrossDirection::Above, "100", true);
    assert_eq!(fired_at(&mut again, &candles), [2, 5]);
    assert!(again.active);
    let mut below = cross(CrossDirection::Below, "97.5", true);
    assert_eq!(fired_at(&mut below, &candles), [4]);
}

#[test]
fn a_first_candle_that_opens_past_the_level_is_no_cross() {
    let mut above = cross(CrossDirection::Above, "100", false);
    assert!(fired_at(&mut above, &[candle(1, "101", "103", "100.5", "102")]).is_empty());
    let mut wick = cross(CrossDirection::Above, "100", false);
    assert_eq!(
        fired_at(&mut wick, &[candle(1, "99", "100", "98", "99")]),
        [1],
        "a wick to the level counts"
    );
}

#[test]
fn a_candle_handed_on_twice_or_of_another_symbol_fires_nothing_twice() {
    let mut alert = cross(CrossDirection::Above, "100", true);
    let mut watch = AlertWatch::default();
    let crossing = candle(2, "99", "101", "98", "99");
    let eth = Symbol::parse("ETHUSDT").unwrap();
    assert!(alert
        .on_candle(&mut watch, &eth, Timeframe::M1, &crossing)
        .is_none());
    let fired = alert
        .on_candle(&mut watch, &btc(), Timeframe::M1, &crossing)
        .unwrap();
    assert_eq!(fired.subject, "alert-7-BTCUSDT-180000");
    assert_eq!(fired.title, "Alert: watch");
    assert!(fired.text.contains("crossed above 100"), "{}", fired.text);
    assert!(alert
        .on_candle(&mut watch, &btc(), Timeframe::M1, &crossing)
        .is_none());
    assert_eq!(alert.evaluated_through_ms, Some(2 * MINUTE_MS));
}

fn percent_move(direction: MoveDirection, percent: &str, window_minutes: u32) -> Alert {
    alert(
        AlertCondition::PercentMove {
            symbol: btc(),
            direction,
            percent: dec(percent),
            window_minutes,
        },
        true,
    )
}

#[test]
fn a_move_counts_within_its_window_only_and_fires_once_per_move() {
    let rising = [
        candle(1, "100", "101", "99", "100.5"),
        candle(2, "100.5", "102", "100", "101.5"),
        candle(3, "101.5", "103", "101", "102.5"),
        candle(4, "102.5", "104", "102", "103.5"),
        candle(5, "103.5", "104", "103", "103.8"),
    ];
    // From the open at 100: +2.5% by minute 3 within 3 minutes.
    let mut up = percent_move(MoveDirection::Up, "2.5", 3);
    assert_eq!(fired_at(&mut up, &rising), [3]);
    // A 2-minute window never spans 2.5%.
    let mut short = percent_move(MoveDirection::Up, "2.5", 2);
    assert!(fired_at(&mut short, &rising).is_empty());
    let mut down = percent_move(MoveDirection::Down, "1", 10);
    assert!(fired_at(&mut down, &rising).is_empty());
    let falling = [
        candle(1, "100", "100", "98", "98"),
        candle(2, "98", "98", "96", "96.5"),
    ];
    let mut either = percent_move(MoveDirection::Either, "3", 5);
    let mut watch = AlertWatch::default();
    assert!(either
        .on_candle(&mut watch, &btc(), Timeframe::M1, &falling[0])
        .is_none());
    let fired = either
        .on_candle(&mut watch, &btc(), Timeframe::M1, &falling[1])
        .unwrap();
    assert!(fired.text.contains("moved down 3.5%"), "{}", fired.text);
}

#[test]
fn a_pattern_alert_fires_for_its_kind_direction_and_timeframe_only() {
    let pattern = sample_signal(10_000_000).patterns[0].clone();
    let on = |kind, direction, timeframe| {
        let mut alert = alert(
            AlertCondition::Pattern {
                symbol: btc(),
                kind,
                direction,
                timeframe,
            },
            false,
        );
        alert.on_pattern(&btc(), &pattern)
    };
    let fired = on(PatternKind::OrderBlock, None, None).unwrap();
    assert_eq!(fired.subject, "alert-7-BTCUSDT-15m-9100000-Bullish");
    assert!(fired.text.contains("zone 99 - 100.5"), "{}", fired.text);
    assert!(on(
        PatternKind::OrderBlock,
        Some(Direction::Bullish),
        Some(Timeframe::M15)
    )
    .is_some());
    assert!(on(PatternKind::FairValueGap, None, None).is_none());
    assert!(on(PatternKind::OrderBlock, Some(Direction::Bearish), None).is_none());
    assert!(on(PatternKind::OrderBlock, None, Some(Timeframe::H1)).is_none());
    let mut eth_alert = alert(
        AlertCondition::Pattern {
            symbol: btc(),
            kind: PatternKind::OrderBlock,
            direction: None,
            timeframe: None,
        },
        false,
    );
    assert!(eth_alert
        .on_pattern(&Symbol::parse("ETHUSDT").unwrap(), &pattern)
        .is_none());
}

/// A portfolio with a resting long limit at 95 (stop 90): its trade as the order rests, as
/// it fills, and as its stop closes it.
pub(crate) fn trade_life() -> [Trade; 3] {
    let mut held = Portfolio::create(test_spec("10000", dec("0.001"))).unwrap();
    let request = OrderRequest {
        symbol: btc(),
        side: Side::Long,
        entry: Entry::Resting {
            kind: OrderKind::Limit,
            price: price("95"),
            market: price("100"),
        },
        size: Size::Quantity(quantity("1")),
        stop_loss: Some(price("90")),
        take_profits: Vec::new(),
        exit_rules: ExitRules::default(),
        expires_at_ms: None,
        source: TradeSource::Manual,
        quantity_step: quantity("0.00000001"),
    };
    let placed = held.apply(&Mutation::Place(Box::new(request)), 0).unwrap();
    held.on_candle(&btc(), &candle(1, "96", "96", "94", "95"), 2 * MINUTE_MS);
    let filled = held.trade(1).unwrap().clone();
    held.on_candle(&btc(), &candle(2, "93", "93", "89", "89.5"), 3 * MINUTE_MS);
    let stopped = held.trade(1).unwrap().clone();
    [placed.trade, filled, stopped]
}

#[test]
fn trade_alerts_fire_on_the_fill_and_on_the_stop_of_their_portfolio_only() {
    let [resting, filled, stopped] = trade_life();
    let on = |event, portfolio_id, trade: &Trade| {
        let mut alert = alert(
            AlertCondition::Trade {
                portfolio_id: 3,
                event,
            },
            true,
        );
        alert.on_trade(portfolio_id, trade, 5_000)
    };
    let fill = TradeAlertEvent::Filled;
    assert!(on(fill, 3, &resting).is_none());
    let fired = on(fill, 3, &filled).unwrap();
    assert_eq!(fired.subject, "alert-7-p3-t1-Filled");
    assert!(fired.text.contains("filled: 1 at 95"), "{}", fired.text);
    assert!(on(fill, 4, &filled).is_none(), "another portfolio");
    assert!(on(fill, 3, &stopped).is_none(), "the stop is not the fill");
    let stop = TradeAlertEvent::StopHit;
    assert!(on(stop, 3, &filled).is_none());
    let fired = on(stop, 3, &stopped).unwrap();
    assert!(fired.text.contains("stopped out at 90"), "{}", fired.text);
}

#[test]
fn the_message_links_the_symbol_or_the_portfolio_and_names_the_alert() {
    let mut crossing = cross(CrossDirection::Above, "100", false);
    let fired = fired_at(&mut crossing, &[candle(1, "99", "101", "98", "100")]);
    assert_eq!(fired, [1]);
    let firing = Firing {
        subject: "alert-7-x".into(),
        title: "Alert: watch".into(),
        text: "t".into(),
    };
    let message = firing.message(&crossing, "http://dash/");
    assert_eq!(
        message.click_url.as_deref(),
        Some("http://dash/#/symbol/BTCUSDT")
    );
    assert_eq!(
        message.symbol, None,
        "an alert never starts a signal cooldown"
    );
    let payload: serde_json::Value = serde_json::from_str(&message.payload_json).unwrap();
    assert_eq!(payload["alert"]["kind"], "price_cross");
    let trade = alert(
        AlertCondition::Trade {
            portfolio_id: 3,
            event: TradeAlertEvent::StopHit,
        },
        false,
    );
    let message = firing.message(&trade, "http://dash");
    assert_eq!(
        message.click_url.as_deref(),
        Some("http://dash/#/portfolio/3")
    );
    assert_eq!(message.symbol, None);
}

#[test]
fn an_alert_survives_the_store_encoding() {
    let original = percent_move(MoveDirection::Either, "2.5", 30);
    let bytes = crate::store::encode(&original).unwrap();
    let decoded: Alert = crate::store::decode(&bytes).unwrap();
    assert_eq!(decoded, original);
}
