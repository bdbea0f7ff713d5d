//! The cryptolens engine: the pure market, analysis and ledger domain, the actix actors that
//! own it, and the embedded store they persist to.
//!
//! Three layers live here, and a lower one never imports a higher one:
//!
//! - [`domain`] is pure and synchronous: symbols, timeframes, exactly parsed candles, bounded
//!   ring buffers and multi-timeframe aggregation; indicators, smart-money detectors, pattern
//!   lifecycles, signals and trading levels; the paper portfolio's exact decimal ledger, its
//!   exits and its analytics. Every stateful thing is a plain state machine fed one candle or
//!   one mutation at a time; there is no actix, tokio, sled or warp in it and no clock read
//!   (time is passed in), which `tests/domain_purity.rs` enforces, so the same code serves the
//!   live actors, the backtester and `cryptolens analyze`.
//! - [`store`] is the sled database: versioned, checksummed bincode envelopes for symbol
//!   snapshots, the append-only ledger log, users, sessions and API keys, and a quarantine for
//!   damaged values.
//! - [`actors`] holds the thin actix shells: one supervised [`actors::SymbolActor`] per
//!   symbol, sharded over N arbiters, a [`actors::Registry`] that routes by symbol with bounded
//!   mailboxes, one portfolio actor per portfolio (the only writer of its ledger), the
//!   persistence actor that snapshots symbols, and the [`actors::Engine`] that starts,
//!   restores and drains them all.
//!
//! [`clock`] is the one injectable wall clock every layer above the domain reads.
#![forbid(unsafe_code)]

pub mod actors;
pub mod clock;
pub mod domain;
pub mod store;
