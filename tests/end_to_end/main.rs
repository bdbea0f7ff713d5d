//! End-to-end tests of the `cryptolens` binary and its HTTP API, compiled as one test binary.

mod analysis_api;
mod analyze_cli;
mod backpressure;
mod exchange_feed;
mod exchange_feed_others;
mod exit_flood;
mod feed_staleness;
mod golden_aggregation;
mod golden_fvg;
mod golden_indicators;
mod http_api;
mod idempotency;
mod import_cli;
mod mock_exchange;
mod one_clock;
mod orders;
mod persistence;
mod portfolios;
mod security_access;
mod security_credentials;
mod shared_data;
mod shutdown;
mod streaming_equals_batch;
mod supervision;
mod support;
mod symbols_api;
