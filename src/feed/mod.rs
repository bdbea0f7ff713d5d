//! Live market data from exchanges: history over REST, live candles over WebSocket, one
//! format file per exchange behind [`format::ExchangeFormat`].

pub mod format;
