//! Pure, synchronous domain code: no actix, no I/O, no clock reads (time is passed in).

mod error;
pub mod market;

pub use error::DomainError;
