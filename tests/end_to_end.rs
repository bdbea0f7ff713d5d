//! End-to-end tests of the `cryptolens` binary and its HTTP API, compiled as one test binary.

#[path = "end_to_end/analysis_api.rs"]
mod analysis_api;
#[path = "end_to_end/analyze_cli.rs"]
mod analyze_cli;
#[path = "end_to_end/backpressure.rs"]
mod backpressure;
#[path = "end_to_end/golden_aggregation.rs"]
mod golden_aggregation;
#[path = "end_to_end/golden_fvg.rs"]
mod golden_fvg;
#[path = "end_to_end/golden_indicators.rs"]
mod golden_indicators;
#[path = "end_to_end/http_api.rs"]
mod http_api;
#[path = "end_to_end/import_cli.rs"]
mod import_cli;
#[path = "end_to_end/persistence.rs"]
mod persistence;
#[path = "end_to_end/portfolios.rs"]
mod portfolios;
#[path = "end_to_end/security_access.rs"]
mod security_access;
#[path = "end_to_end/security_credentials.rs"]
mod security_credentials;
#[path = "end_to_end/shutdown.rs"]
mod shutdown;
#[path = "end_to_end/streaming_equals_batch.rs"]
mod streaming_equals_batch;
#[path = "end_to_end/supervision.rs"]
mod supervision;
#[path = "end_to_end/support.rs"]
mod support;
