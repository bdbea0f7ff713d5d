//! Mock exchange servers for the live-feed tests, and the payload renderers they share.

pub mod binance_server;
pub mod render;
