//! Live market data from exchanges: history over REST, live candles over WebSocket, one
//! format file per exchange behind [`format::ExchangeFormat`].
//!
//! - `format.rs` the trait; one file per exchange implements it (URLs and parsing only).
//! - `rest.rs`, `stream.rs` the network, shared by every exchange.
//! - `history_plan.rs`, `live_series.rs`, `status.rs` pure decisions: what history to fetch,
//!   what a stream kline means (gap, duplicate, closed), when a symbol is stale.
//! - `sync.rs` candles into the engine; `runner.rs` one task per exchange; `handle.rs` what
//!   the API holds.

pub mod backoff;
pub mod binance;
pub mod bybit;
pub mod error;
pub mod format;
pub mod handle;
pub mod history_plan;
pub mod kraken;
pub mod live_series;
pub mod rest;
pub mod runner;
pub mod settings;
pub mod status;
pub mod stream;
pub mod sync;

pub use format::{ExchangeFormat, ExchangeKind};
pub use handle::{FeedHandle, FeedRequestError};

/// The formats of an exchange; each is plain data, so one static value serves every feed.
pub fn format_of(kind: ExchangeKind) -> &'static dyn ExchangeFormat {
    match kind {
        ExchangeKind::Binance => &binance::Binance,
        ExchangeKind::Bybit => &bybit::Bybit,
        ExchangeKind::Kraken => &kraken::Kraken,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_exchange_has_its_own_format() {
        for kind in ExchangeKind::ALL {
            assert_eq!(format_of(kind).kind(), kind);
        }
    }
}
