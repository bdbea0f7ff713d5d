//! `GET` and `POST /api/portfolios`: the caller's portfolios, and creating one.

use super::super::answer::Answer;
use super::super::error::ApiError;
use super::super::gate::{caller_route, no_input};
use super::super::json_body::parse_json;
use super::super::{respond, respond_created, AppState};
use super::input::{fee_rate, mutation_input, request_id, MutationInput};
use super::requests::CreatePortfolio;
use super::views::PortfolioJson;
use crate::auth::Principal;
use cryptolens_actors::actors::portfolio::PortfolioBook;
use cryptolens_actors::actors::portfolio::PortfolioError;
use cryptolens_actors::actors::EngineError;
use cryptolens_actors::domain::ledger::{PortfolioSpec, RiskLimits};
use cryptolens_actors::domain::money::{FeeRate, DECIMALS_MAX};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use warp::{Filter, Rejection};

const DEFAULT_FEE_RATE: FeeRate = FeeRate::TEN_BASIS_POINTS;

pub fn routes(state: &AppState) -> impl Filter<Extract = (Answer,), Error = Rejection> + Clone {
    let create = caller_route(
        warp::path!("api" / "portfolios").and(warp::post()),
        mutation_input(),
        state,
        |caller, input: MutationInput, state| async move {
            respond_created(create_portfolio(&caller, &input, &state).await, &state)
        },
    );
    let list = caller_route(
        warp::path!("api" / "portfolios").and(warp::get()),
        no_input(),
        state,
        |caller, (), state| async move { respond(list_portfolios(&caller, &state), &state) },
    );
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
    input: &MutationInput,
    state: &AppState,
) -> Result<Value, ApiError> {
    let keyed = request_id(input.idempotency_key.clone(), "create", &input.body)?;
    let request: CreatePortfolio = parse_json(&input.body, "portfolio")?;
    let spec = PortfolioSpec {
        id: 0,
        owner: caller.username.to_string(),
        name: request.name,
        quote_currency: request.quote_currency,
        initial_balance: request.initial_balance,
        fee_rate: request
            .fee_rate
            .map(fee_rate)
            .transpose()?
            .unwrap_or(DEFAULT_FEE_RATE),
        limits: RiskLimits {
            max_position_notional: request.limits.max_position_notional,
            max_open_positions: request.limits.max_open_positions,
            daily_loss_limit: request.limits.daily_loss_limit,
        },
        created_at_ms: state.clock.now_ms(),
        money_decimals: Some(DECIMALS_MAX),
    };
    let portfolio = book(state)?.create(spec, keyed).await?;
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
