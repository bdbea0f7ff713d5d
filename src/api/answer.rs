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
    /// A public route that says something of the caller, if there is one.
    ForAnyone(Box<dyn FnOnce(Option<Principal>) -> CallerFuture + Send>),
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
            Answer::ForAnyone(handler) => {
                return handler(admitted.into_caller())
                    .await
                    .map_err(|error| warp::reject::custom(Denied(error)));
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{Credential, Role};
    use std::sync::Arc;
    use warp::http::StatusCode;
    use warp::Reply;

    fn trader() -> Principal {
        Principal {
            username: Arc::from("tess"),
            role: Role::Trader,
            credential: Credential::ApiKey {
                id: Arc::from("k1"),
            },
            rate_key: Arc::from("key:k1"),
            second_factor_due: false,
        }
    }

    fn denied(rejection: &Rejection) -> Option<&ApiError> {
        rejection.find::<Denied>().map(|Denied(error)| error)
    }

    #[tokio::test]
    async fn a_ready_answer_needs_no_caller() {
        let answer = Answer::Ready(StatusCode::NO_CONTENT.into_response());
        let response = answer.run(Admitted::new(None)).await.expect("ready");
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
    }

    #[tokio::test]
    async fn the_handler_gets_the_principal_the_gate_admitted() {
        let answer = Answer::for_caller(|caller| async move {
            assert_eq!(caller, trader());
            Ok(StatusCode::ACCEPTED.into_response())
        });
        let response = answer.run(Admitted::new(Some(trader()))).await;
        assert_eq!(response.expect("answered").status(), StatusCode::ACCEPTED);
    }

    #[tokio::test]
    async fn a_public_answer_hears_of_the_caller_if_there_is_one() {
        let answer = |expected: Option<Principal>| {
            Answer::ForAnyone(Box::new(move |caller| {
                Box::pin(async move {
                    assert_eq!(caller, expected);
                    Ok(StatusCode::OK.into_response())
                })
            }))
        };
        let anonymous = answer(None).run(Admitted::new(None)).await;
        assert_eq!(anonymous.expect("answered").status(), StatusCode::OK);
        let known = answer(Some(trader()))
            .run(Admitted::new(Some(trader())))
            .await;
        assert_eq!(known.expect("answered").status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn a_caller_route_without_a_caller_is_401_and_its_handler_never_runs() {
        let answer = Answer::for_caller(|_caller| async move {
            panic!("the handler ran without a caller");
        });
        let rejection = answer.run(Admitted::new(None)).await.expect_err("401");
        assert!(matches!(denied(&rejection), Some(ApiError::Unauthorized)));
    }

    #[tokio::test]
    async fn a_handler_error_becomes_the_error_document() {
        let answer =
            Answer::for_caller(
                |_caller| async move { Err(ApiError::NotFound("no such thing".into())) },
            );
        let rejection = answer.run(Admitted::new(Some(trader()))).await;
        let rejection = rejection.expect_err("refused");
        assert!(matches!(denied(&rejection), Some(ApiError::NotFound(_))));
    }
}
