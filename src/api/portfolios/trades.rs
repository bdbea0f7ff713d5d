//! Trade mutations: open, close, add, journal and amend, each its own route. Each handler
//! checks its input, builds one [`Mutation`], sends it to the portfolio's actor and renders
//! the outcome once it is durable.

use super::super::answer::Answer;
use super::super::error::ApiError;
use super::super::json_body::parse_json;
use super::super::{respond, respond_created, AppState};
use super::input::{
    body_or_empty, level, levels, mutation_input, parse_id, quantity, request_id, tags,
    MutationInput,
};
use super::market::trade_fill_price;
use super::requests::{AddToTrade, AmendTrade, CloseTrade, JournalBody, OpenTrade};
use super::views::{LedgerEntryJson, TradeJson};
use super::{open, portfolio_route, trade_route, OwnedPortfolio};
use cryptolens_actors::actors::portfolio::{PortfolioError, RequestId};
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
    let preview = portfolio_route(
        warp::path!("api" / "portfolios" / String / "trades" / "preview").and(warp::post()),
        mutation_input(),
        state,
        |owned: OwnedPortfolio, input: MutationInput, state: AppState| async move {
            respond(preview_trade(&owned, &input, &state).await, &state)
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
    open.or(preview)
        .unify()
        .or(amend)
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

/// Answers a mutation request: the first answer when its idempotency key has one (looked up
/// before `build` runs, so the answer never depends on prices or signals that changed since),
/// else the mutation `build` makes, applied and rendered once durable.
async fn keyed<B, F>(
    owned: &OwnedPortfolio,
    request: Option<RequestId>,
    build: B,
) -> Result<Value, ApiError>
where
    B: FnOnce() -> F,
    F: Future<Output = Result<Mutation, ApiError>>,
{
    if let Some(first) = owned.first_answer(request.as_ref()).await? {
        return Ok(outcome_json(&first?));
    }
    let mutation = build().await?;
    tracing::debug!(portfolio = owned.id, owner = %owned.entry.owner,
        caller = %owned.caller.username, trade = ?mutation.trade_id(), "portfolio mutation");
    let outcome = owned.mutate(mutation, request).await?;
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

/// The trade id of a trade route and the request's identity for idempotency.
fn trade_target(
    action: &str,
    trade: &str,
    input: &MutationInput,
) -> Result<(u64, Option<RequestId>), ApiError> {
    let trade_id = parse_id("trade_id", trade)?;
    let action = format!("{action} {trade_id}");
    let request = request_id(input.idempotency_key.clone(), &action, &input.body)?;
    Ok((trade_id, request))
}

async fn open_trade(
    owned: &OwnedPortfolio,
    input: MutationInput,
    state: &AppState,
) -> Result<Value, ApiError> {
    let request = request_id(input.idempotency_key.clone(), "open", &input.body)?;
    keyed(owned, request, || async {
        let body: OpenTrade = parse_json(&input.body, "trade")?;
        open::open_mutation(owned, body, state).await
    })
    .await
}

/// What opening the trade would do now, applied to a copy of the portfolio; nothing changes.
/// A body that is not an order is refused (4xx) as the open would refuse it; an order the
/// portfolio or the market would refuse is the preview's answer, not its failure:
/// `{"would_open": false, "error": {..}}`, else `{"would_open": true, ...}` with the open's
/// answer (sizing, cash, ledger entries).
async fn preview_trade(
    owned: &OwnedPortfolio,
    input: &MutationInput,
    state: &AppState,
) -> Result<Value, ApiError> {
    let body: OpenTrade = parse_json(&input.body, "trade")?;
    let applied = async {
        let mutation = open::open_mutation(owned, body, state).await?;
        let mut copy = owned.read().await?;
        copy.apply(&mutation, owned.clock.now_ms())
            .map_err(|refusal| ApiError::from(PortfolioError::Refused(refusal)))
    };
    Ok(match applied.await {
        Ok(outcome) => {
            let mut answer = outcome_json(&outcome);
            answer["would_open"] = json!(true);
            answer
        }
        Err(error) if error.status().is_client_error() => {
            let mut answer = error.to_json();
            answer["would_open"] = json!(false);
            answer
        }
        Err(error) => return Err(error),
    })
}

async fn close_trade(
    owned: OwnedPortfolio,
    trade: String,
    input: MutationInput,
    state: AppState,
) -> Result<Value, ApiError> {
    let (trade_id, request) = trade_target("close", &trade, &input)?;
    keyed(&owned, request, || async {
        let body: CloseTrade = body_or_empty(&input.body, "close request")?;
        let quantity = body
            .quantity
            .map(|value| quantity("quantity", value))
            .transpose()?;
        let price = trade_fill_price(body.price, &owned, trade_id, true, &state).await?;
        Ok(Mutation::Close {
            trade_id,
            quantity,
            price,
        })
    })
    .await
}

async fn add_to_trade(
    owned: OwnedPortfolio,
    trade: String,
    input: MutationInput,
    state: AppState,
) -> Result<Value, ApiError> {
    let (trade_id, request) = trade_target("add", &trade, &input)?;
    keyed(&owned, request, || async {
        let body: AddToTrade = parse_json(&input.body, "add request")?;
        let quantity = quantity("quantity", body.quantity)?;
        let price = trade_fill_price(body.price, &owned, trade_id, false, &state).await?;
        Ok(Mutation::Add {
            trade_id,
            quantity,
            price,
        })
    })
    .await
}

/// Cancels a pending order: its reserved cash comes back.
async fn cancel_order(
    owned: OwnedPortfolio,
    trade: String,
    input: MutationInput,
    _state: AppState,
) -> Result<Value, ApiError> {
    let (trade_id, request) = trade_target("cancel", &trade, &input)?;
    keyed(&owned, request, || async {
        let _: super::requests::NoFields = body_or_empty(&input.body, "cancel request")?;
        Ok(Mutation::Cancel { trade_id })
    })
    .await
}

async fn journal_trade(
    owned: OwnedPortfolio,
    trade: String,
    input: MutationInput,
    _state: AppState,
) -> Result<Value, ApiError> {
    let (trade_id, request) = trade_target("journal", &trade, &input)?;
    keyed(&owned, request, || async {
        let body: JournalBody = parse_json(&input.body, "journal entry")?;
        Ok(Mutation::Journal {
            trade_id,
            text: body.text,
            tags: tags(body.tags)?,
        })
    })
    .await
}

async fn amend_trade(
    owned: OwnedPortfolio,
    trade: String,
    input: MutationInput,
    _state: AppState,
) -> Result<Value, ApiError> {
    let (trade_id, request) = trade_target("amend", &trade, &input)?;
    keyed(&owned, request, || async {
        let body: AmendTrade = parse_json(&input.body, "amendment")?;
        let stop_loss = body
            .stop_loss
            .flatten()
            .map(|stop| level("stop_loss", stop));
        Ok(Mutation::Amend {
            trade_id,
            stop_loss: stop_loss.transpose()?,
            clear_stop_loss: matches!(body.stop_loss, Some(None)),
            take_profits: body
                .take_profits
                .map(|targets| levels("take_profits", targets))
                .transpose()?,
        })
    })
    .await
}
