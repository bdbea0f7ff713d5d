//! cryptolens server: configuration, the warp API, the import client and the demo feed,
//! over the engine in `cryptolens-actors`. `main.rs` only parses the command line.
#![forbid(unsafe_code)]

pub mod analyze;
pub mod api;
pub mod auth;
pub mod backfill_command;
pub mod backtest;
pub mod calibration;
pub mod config;
pub mod demo;
pub mod feed;
pub mod import;
pub mod listener;
pub mod notify;
pub mod report;
pub mod server;
pub mod store_commands;
pub mod telemetry;
pub mod trading_settings;
pub mod user_commands;
pub mod web;
