//! The cryptolens engine.
//!
//! Two layers live here, and the lower never imports the upper:
//!
//! - [`domain`] is pure and synchronous: symbols, timeframes, exactly parsed candles, bounded
//!   ring buffers and multi-timeframe aggregation. Every stateful thing is a plain state machine
//!   fed one candle at a time; there is no actix, no I/O and no clock read in it, so the same
//!   code serves the live actors, the backtester and `cryptolens analyze`.
//! - [`actors`] holds the thin actix shells: one supervised [`actors::SymbolActor`] per
//!   symbol, sharded over N arbiters, a [`actors::Registry`] that routes by symbol with bounded
//!   mailboxes, and the [`actors::Engine`] that starts and drains them.
#![forbid(unsafe_code)]

pub mod actors;
pub mod domain;
pub mod store;
