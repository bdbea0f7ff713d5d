//! The server's side of notifications: the HTTP and SMTP transports the notifier actor sends with,
//! and the rules on which destinations it may reach (SSRF). The actor and its decisions are
//! in `cryptolens_actors::actors::notifier` and `domain::notify`.

pub mod address_rules;
pub mod destination_check;
pub mod mail;
pub mod notify_transport;
pub mod transport;

pub use destination_check::{check_destination_host, check_destination_url, DestinationError};
pub use notify_transport::{NotifyTransport, TransportSetupError};
pub use transport::HttpTransport;
