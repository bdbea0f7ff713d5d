//! Trade mutations: open, close, add, journal and amend, each its own route. Each handler
//! checks its input, builds one [`Mutation`], sends it to the portfolio's actor and renders
//! the outcome once it is durable.

use super::super::answer::Answer;
use super::super::error::ApiError;
use super::super::json_body::parse_json;
use super::super::{respond, respond_created, AppState};
use super::input::{
    body_or_empty, idempotency_key, level, levels, mutation_input, parse_id, quantity,
    MutationInput,
};
use super::market::trade_fill_price;
use super::requests::{AddToTrade, AmendTrade, CloseTrade, JournalBody, OpenTrade};
use super::views::{LedgerEntryJson, TradeJson};
use super::{open, portfolio_route, trade_route, OwnedPortfolio};
use cryptolens_actors::domain::ledger::{Mutation, Outcome};
use serde_json::{json, Value};
use std::future::Future;
use warp::{Filter, Rejection};

pub fn routes(state: &AppState) -> impl Filter<Extract = (Answer,), Error = Rejection> + Clone {
    let open = portfolio_route(
        warp::path!("api" / "portfolios" / String / "trades").and(warp::post()),
        mutation_input(),
        state,
        |owned: OwnedPortfolio, input: MutationInput, state: AppState| async move {
            respond_created(open_trade(&owned, input, &state).await, &state)
        },
    );
    let amend = trade_action(
        warp::path!("api" / "portfolios" / String / "trades" / String).and(warp::patch()),
        amend_trade,
        state,
    );
    let close = trade_action(
        warp::path!("api" / "portfolios" / String / "trades" / String / "close").and(warp::post()),
        close_trade,
        state,
    );
    let add = trade_action(
        warp::path!("api" / "portfolios" / String / "trades" / String / "add").and(warp::post()),
        add_to_trade,
        state,
    );
    let cancel = trade_action(
        warp::path!("api" / "portfolios" / String / "trades" / String / "cancel").and(warp::post()),
        cancel_order,
        state,
    );
    let journal = trade_action(
        warp::path!("api" / "portfolios" / String / "trades" / String / "journal")
            .and(warp::post()),
        journal_trade,
        state,
    );
    open.or(amend)
        .unify()
        .or(close)
        .unify()
        .or(add)
        .unify()
        .or(journal)
        .unify()
        .or(cancel)
        .unify()
}

/// A mutation route on one trade: `path` (with its method) names it, `handler` answers it.
fn trade_action<P, H, F>(
    path: P,
    handler: H,
    state: &AppState,
) -> impl Filter<Extract = (Answer,), Error = Rejection> + Clone
where
    P: Filter<Extract = (String, String), Error = Rejection> + Clone + Send + Sync + 'static,
    H: Fn(OwnedPortfolio, String, MutationInput, AppState) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Result<Value, ApiError>> + Send + 'static,
{
    trade_route(
        path,
        mutation_input(),
        state,
        move |owned: OwnedPortfolio, trade: String, input: MutationInput, state: AppState| {
            let answer = handler(owned, trade, input, state.clone());
            async move { respond(answer.await, &state) }
        },
    )
}

/// Sends `mutation` under `key` and renders what it did.
async fn mutate(
    owned: &OwnedPortfolio,
    mutation: Mutation,
    key: Option<String>,
) -> Result<Value, ApiError> {
    tracing::debug!(portfolio = owned.id, owner = %owned.entry.owner,
        caller = %owned.caller.username, trade = ?mutation.trade_id(), "portfolio mutation");
    let outcome = owned.mutate(mutation, key).await?;
    Ok(outcome_json(&outcome))
}

fn outcome_json(outcome: &Outcome) -> Value {
    let entries: Vec<LedgerEntryJson> = outcome.entries.iter().map(LedgerEntryJson::new).collect();
    let journal = outcome.journal_entry.as_slice();
    json!({
        "trade": TradeJson::new(&outcome.trade, None, journal),
        "ledger_entries": entries,
        "sizing": outcome.sizing,
    })
}

/// The trade id of a trade route and the request's idempotency key, checked.
fn trade_target(trade: &str, key: Option<String>) -> Result<(u64, Option<String>), ApiError> {
    Ok((parse_id("trade_id", trade)?, idempotency_key(key)?))
}

async fn open_trade(
    owned: &OwnedPortfolio,
    input: MutationInput,
    state: &AppState,
) -> Result<Value, ApiError> {
    let key = idempotency_key(input.idempotency_key)?;
    let request: OpenTrade = parse_json(&input.body, "trade")?;
    let mutation = open::open_mutation(owned, request, state).await?;
    mutate(owned, mutation, key).await
}

async fn close_trade(
    owned: OwnedPortfolio,
    trade: String,
    input: MutationInput,
    state: AppState,
) -> Result<Value, ApiError> {
    let (trade_id, key) = trade_target(&trade, input.idempotency_key)?;
    let request: CloseTrade = body_or_empty(&input.body, "close request")?;
    let closed = request.quantity.map(|value| quantity("quantity", value));
    let quantity = closed.transpose()?;
    let price = trade_fill_price(request.price, &owned, trade_id, true, &state).await?;
    let mutation = Mutation::Close {
        trade_id,
        quantity,
        price,
    };
    mutate(&owned, mutation, key).await
}

async fn add_to_trade(
    owned: OwnedPortfolio,
    trade: String,
    input: MutationInput,
    state: AppState,
) -> Result<Value, ApiError> {
    let (trade_id, key) = trade_target(&trade, input.idempotency_key)?;
    let request: AddToTrade = parse_json(&input.body, "add request")?;
    let quantity = quantity("quantity", request.quantity)?;
    let price = trade_fill_price(request.price, &owned, trade_id, false, &state).await?;
    let mutation = Mutation::Add {
        trade_id,
        quantity,
        price,
    };
    mutate(&owned, mutation, key).await
}

/// Cancels a pending order: its reserved cash comes back.
async fn cancel_order(
    owned: OwnedPortfolio,
    trade: String,
    input: MutationInput,
    _state: AppState,
) -> Result<Value, ApiError> {
    let (trade_id, key) = trade_target(&trade, input.idempotency_key)?;
    let _: super::requests::NoFields = body_or_empty(&input.body, "cancel request")?;
    mutate(&owned, Mutation::Cancel { trade_id }, key).await
}

async fn journal_trade(
    owned: OwnedPortfolio,
    trade: String,
    input: MutationInput,
    _state: AppState,
) -> Result<Value, ApiError> {
    let (trade_id, key) = trade_target(&trade, input.idempotency_key)?;
    let request: JournalBody = parse_json(&input.body, "journal entry")?;
    let mutation = Mutation::Journal {
        trade_id,
        text: request.text,
        tags: request.tags,
    };
    mutate(&owned, mutation, key).await
}

async fn amend_trade(
    owned: OwnedPortfolio,
    trade: String,
    input: MutationInput,
    _state: AppState,
) -> Result<Value, ApiError> {
    let (trade_id, key) = trade_target(&trade, input.idempotency_key)?;
    let request: AmendTrade = parse_json(&input.body, "amendment")?;
    let mutation = Mutation::Amend {
        trade_id,
        stop_loss: request
            .stop_loss
            .flatten()
            .map(|stop| level("stop_loss", stop))
            .transpose()?,
        clear_stop_loss: matches!(request.stop_loss, Some(None)),
        take_profits: request
            .take_profits
            .map(|targets| levels("take_profits", targets))
            .transpose()?,
    };
    mutate(&owned, mutation, key).await
}
