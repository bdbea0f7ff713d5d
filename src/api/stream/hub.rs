//! The stream's one reader of the engine: it renders each market event, durable trade
//! change and periodic health verdict once, and hands the rendered text to every client
//! session over a broadcast. The engine never waits for it, and it never waits for a client.

use super::super::AppState;
use super::filter::{EventKind, EventTopic};
use super::slots::SessionSlots;
use crate::report::{CandleJson, PatternJson};
use cryptolens_actors::actors::portfolio::TradeEvent;
use cryptolens_actors::actors::MarketEvent;
use cryptolens_actors::domain::analysis::{PatternEvent, SignalEvent};
use cryptolens_actors::domain::market::{Candle, Symbol, Timeframe};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::{self, error::RecvError};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StreamSettings {
    /// Events waiting for one client.
    pub client_queue_events: usize,
    /// How long a client's full queue may wait for room before the client is disconnected.
    pub slow_client_grace_ms: u64,
    /// How often the health verdict is pushed.
    pub health_interval_ms: u64,
    /// Rendered events kept for client sessions that fall behind the hub.
    pub hub_capacity: usize,
    /// Stream connections open at once, in all and per user.
    pub clients_max: usize,
    pub clients_per_user_max: usize,
}

/// One rendered event and what it is about.
#[derive(Debug)]
pub struct Published {
    pub topic: EventTopic,
    /// For trade events: the portfolio's owner (only they and admins receive it).
    pub owner: Option<String>,
    pub text: Arc<str>,
}

/// The hub's sending side, in every request's state; sessions subscribe to it.
#[derive(Clone)]
pub struct StreamHub {
    pub settings: StreamSettings,
    sender: broadcast::Sender<Arc<Published>>,
    pub slots: Arc<SessionSlots>,
}

impl StreamHub {
    pub fn new(settings: StreamSettings) -> StreamHub {
        let (sender, _) = broadcast::channel(settings.hub_capacity.max(1));
        let slots = Arc::new(SessionSlots::new(
            settings.clients_max,
            settings.clients_per_user_max,
        ));
        StreamHub {
            settings,
            sender,
            slots,
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Published>> {
        self.sender.subscribe()
    }

    fn publish(&self, published: Published) {
        // No client connected: nothing to do.
        let _ = self.sender.send(Arc::new(published));
    }
}

/// Runs until shutdown: market events as they come, trade changes once the portfolios are
/// restored, the health verdict every `health_interval_ms`.
pub async fn run_hub(state: AppState) {
    let hub = state.stream.clone();
    let mut market = state.engine.subscribe();
    let mut trades = None;
    let mut health = tokio::time::interval(Duration::from_millis(
        hub.settings.health_interval_ms.max(100),
    ));
    let mut shutting_down = state.shutting_down.clone();
    loop {
        if trades.is_none() {
            trades = state
                .engine
                .portfolios()
                .map(|book| book.subscribe_trades());
        }
        tokio::select! {
            event = market.recv() => match event {
                Ok(event) => hub.publish(market_event(&event, &state)),
                Err(RecvError::Lagged(missed)) => hub.publish(lagged(missed)),
                Err(RecvError::Closed) => break,
            },
            event = next_trade(&mut trades) => match event {
                Ok(event) => hub.publish(trade_event(&event, &state)),
                Err(RecvError::Lagged(missed)) => hub.publish(lagged(missed)),
                Err(RecvError::Closed) => trades = None,
            },
            _ = health.tick() => hub.publish(health_event(&state)),
            _ = async { let _ = shutting_down.wait_for(|down| *down).await; } => break,
        }
    }
}

async fn next_trade(
    trades: &mut Option<broadcast::Receiver<TradeEvent>>,
) -> Result<TradeEvent, RecvError> {
    match trades {
        Some(receiver) => receiver.recv().await,
        None => std::future::pending().await,
    }
}

fn published(
    kind: EventKind,
    symbol: Option<&Symbol>,
    timeframe: Option<Timeframe>,
    body: &Value,
) -> Published {
    Published {
        topic: EventTopic {
            kind,
            symbol: symbol.cloned(),
            timeframe,
        },
        owner: None,
        text: Arc::from(body.to_string()),
    }
}

fn market_event(event: &MarketEvent, state: &AppState) -> Published {
    match event {
        MarketEvent::CandleClosed {
            symbol,
            timeframe,
            candle,
        } => candle_event(symbol, *timeframe, candle, true),
        MarketEvent::CandleForming {
            symbol,
            timeframe,
            candle,
        } => candle_event(symbol, *timeframe, candle, false),
        MarketEvent::Pattern { symbol, event } => {
            let (change, pattern) = match event {
                PatternEvent::Formed(pattern) => ("formed", pattern),
                PatternEvent::Changed(pattern) => ("changed", pattern),
            };
            published(
                EventKind::Pattern,
                Some(symbol),
                Some(pattern.timeframe),
                &json!({"type": "pattern", "symbol": symbol, "change": change,
                        "pattern": PatternJson::new(pattern, Some(symbol))}),
            )
        }
        MarketEvent::Signal { symbol, event } => {
            let (change, signal) = match event {
                SignalEvent::Emitted(signal) => ("emitted", signal),
                SignalEvent::Updated(signal) => ("updated", signal),
                SignalEvent::Ended(signal) => ("ended", signal),
            };
            // The event comes with the candle that changed the signal: its time is the data's.
            let signal =
                crate::api::signals::Staleness::now(state).json(signal, signal.updated_at_ms);
            published(
                EventKind::Signal,
                Some(symbol),
                None,
                &json!({"type": "signal", "symbol": symbol, "change": change, "signal": signal}),
            )
        }
    }
}

fn candle_event(symbol: &Symbol, timeframe: Timeframe, candle: &Candle, closed: bool) -> Published {
    published(
        EventKind::Candle,
        Some(symbol),
        Some(timeframe),
        &json!({"type": "candle", "symbol": symbol, "timeframe": timeframe,
                "candle": CandleJson::new(candle, closed)}),
    )
}

fn trade_event(event: &TradeEvent, state: &AppState) -> Published {
    let trade = super::super::portfolios::trade_json(&event.trade);
    let mut rendered = published(
        EventKind::Trade,
        Some(&event.trade.symbol),
        None,
        &json!({"type": "trade", "portfolio_id": event.portfolio_id, "trade": trade}),
    );
    // An unknown owner (cannot happen for a durable change) leaves it to admins alone.
    rendered.owner = Some(
        state
            .engine
            .portfolios()
            .and_then(|book| book.entry(event.portfolio_id))
            .map_or_else(String::new, |entry| entry.owner),
    );
    rendered
}

fn health_event(state: &AppState) -> Published {
    let body = super::super::health::overall_health(state);
    published(
        EventKind::Health,
        None,
        None,
        &json!({"type": "health", "status": body["status"], "body": body}),
    )
}

/// The hub itself fell behind the engine: clients should re-read what they show.
fn lagged(missed: u64) -> Published {
    published(
        EventKind::Health,
        None,
        None,
        &json!({"type": "lagged", "missed": missed}),
    )
}
