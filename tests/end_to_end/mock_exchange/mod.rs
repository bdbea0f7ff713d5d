//! Mock exchange servers for the live-feed tests, the payload renderers they share, and what
//! every mock serves alike (the published series and its cursor, the stream hub).

pub mod binance_server;
pub mod bybit_server;
pub mod kraken_server;
pub mod published;
pub mod render;
pub mod stream_hub;
pub mod test_client;
