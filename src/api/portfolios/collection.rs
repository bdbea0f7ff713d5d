//! `GET` and `POST /api/portfolios`: the caller's portfolios, and creating one.

use super::super::answer::Answer;
use super::super::error::ApiError;
use super::super::gate::refuse_anonymous;
use super::super::json_body::{optional_body, parse_json};
use super::super::{respond, respond_created, with_state, AppState};
use super::input::BODY_LIMIT_BYTES;
use super::requests::CreatePortfolio;
use super::views::PortfolioJson;
use crate::auth::Principal;
use bytes::Bytes;
use cryptolens_actors::actors::portfolio::PortfolioBook;
use cryptolens_actors::actors::portfolio::PortfolioError;
use cryptolens_actors::actors::EngineError;
use cryptolens_actors::domain::ledger::{PortfolioSpec, RiskLimits};
use cryptolens_actors::domain::money::FeeRate;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use warp::{Filter, Rejection};

const DEFAULT_FEE_RATE: FeeRate = FeeRate::TEN_BASIS_POINTS;

pub fn routes(state: &AppState) -> impl Filter<Extract = (Answer,), Error = Rejection> + Clone {
    let create = warp::path!("api" / "portfolios")
        .and(warp::post())
        .and(refuse_anonymous())
        .and(optional_body(BODY_LIMIT_BYTES))
        .and(with_state(state))
        .map(|body: Bytes, state: AppState| {
            Answer::for_caller(move |caller| async move {
                Ok(respond_created(
                    create_portfolio(&caller, &body, &state).await,
                    &state,
                ))
            })
        });
    let list = warp::path!("api" / "portfolios")
        .and(warp::get())
        .and(refuse_anonymous())
        .and(with_state(state))
        .map(|state: AppState| {
            Answer::for_caller(move |caller| async move {
                Ok(respond(list_portfolios(&caller, &state), &state))
            })
        });
    create.or(list).unify()
}

fn book(state: &AppState) -> Result<Arc<PortfolioBook>, ApiError> {
    state
        .engine
        .portfolios()
        .ok_or(ApiError::Engine(EngineError::Restoring))
}

async fn create_portfolio(
    caller: &Principal,
    body: &[u8],
    state: &AppState,
) -> Result<Value, ApiError> {
    let request: CreatePortfolio = parse_json(body, "portfolio")?;
    let spec = PortfolioSpec {
        id: 0,
        owner: caller.username.to_string(),
        name: request.name,
        quote_currency: request.quote_currency,
        initial_balance: request.initial_balance,
        fee_rate: request.fee_rate.unwrap_or(DEFAULT_FEE_RATE),
        limits: RiskLimits {
            max_position_notional: request.limits.max_position_notional,
            max_open_positions: request.limits.max_open_positions,
            daily_loss_limit: request.limits.daily_loss_limit,
        },
        created_at_ms: state.clock.now_ms(),
    };
    let portfolio = book(state)?.create(spec).await?;
    let view = PortfolioJson::new(&portfolio, &HashMap::new(), state.clock.now_ms())
        .map_err(PortfolioError::Refused)?;
    Ok(json!(view))
}

fn list_portfolios(caller: &Principal, state: &AppState) -> Result<Value, ApiError> {
    let mut owned = book(state)?.list();
    owned.retain(|entry| caller.may_see_owned_by(&entry.owner));
    owned.sort_by_key(|entry| entry.id);
    let entries: Vec<Value> = owned
        .into_iter()
        .map(|entry| json!({"id": entry.id, "owner": entry.owner, "name": entry.name}))
        .collect();
    Ok(json!({"count": entries.len(), "portfolios": entries}))
}
