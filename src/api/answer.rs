//! What a route answers once the gate has admitted its request: a finished response, or a
//! handler still waiting for the caller. The gate identifies the credentials once and hands
//! the caller it found ([`Admitted`]) to [`Answer::run`], so a handler acting for the caller
//! never looks the credentials up a second time.

use super::error::{ApiError, Denied};
use super::gate::Admitted;
use crate::auth::Principal;
use std::future::Future;
use std::pin::Pin;
use warp::reply::Response;
use warp::Rejection;

/// The rest of a handler once it has its caller; an error becomes the JSON error document.
pub type CallerFuture = Pin<Box<dyn Future<Output = Result<Response, ApiError>> + Send>>;

pub enum Answer {
    /// Needs nothing more: routes that do not act for a caller.
    Ready(Response),
    /// Acts for the caller the gate admitted.
    ForCaller(Box<dyn FnOnce(Principal) -> CallerFuture + Send>),
}

impl Answer {
    /// An answer for the caller: `handler` runs with the principal the gate identified.
    pub fn for_caller<H, F>(handler: H) -> Answer
    where
        H: FnOnce(Principal) -> F + Send + 'static,
        F: Future<Output = Result<Response, ApiError>> + Send + 'static,
    {
        Answer::ForCaller(Box::new(move |caller| Box::pin(handler(caller))))
    }

    /// The response, given what the gate admitted. A caller's route reached without a
    /// caller is 401: the gate and [`super::gate::refuse_anonymous`] already refuse such a
    /// request, so this is the deny-by-default answer should a route forget either.
    pub async fn run(self, admitted: Admitted) -> Result<Response, Rejection> {
        let handler = match self {
            Answer::Ready(response) => return Ok(response),
            Answer::ForCaller(handler) => handler,
        };
        let caller = admitted
            .into_caller()
            .ok_or(Denied(ApiError::Unauthorized))
            .map_err(warp::reject::custom)?;
        handler(caller)
            .await
            .map_err(|error| warp::reject::custom(Denied(error)))
    }
}
