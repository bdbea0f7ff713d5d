//! The server's side of notifications: the HTTP transport the notifier actor sends with,
//! and the rules on which destinations it may reach (SSRF). The actor and its decisions are
//! in `cryptolens_actors::actors::notifier` and `domain::notify`.

pub mod address_rules;
pub mod destination_check;
pub mod transport;

pub use destination_check::{check_destination_url, DestinationError};
pub use transport::HttpTransport;
