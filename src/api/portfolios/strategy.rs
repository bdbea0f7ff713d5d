//! A portfolio's live strategy: `POST .../strategy` attaches one (a built-in by `strategy`
//! name, or a whole `spec`, and the `symbols` it trades), `PATCH` pauses or resumes it,
//! `DELETE` detaches it, `GET` shows it with its decisions (`{"strategy": null}` without
//! one). The strategy runs in the
//! portfolio's actor on every closed candle of its symbols (`actors/portfolio/strategy.rs`),
//! with the backtest's own decision code.

use super::super::answer::Answer;
use super::super::error::ApiError;
use super::super::json_body::parse_json;
use super::super::{respond, AppState};
use super::input::{mutation_input, no_input, MutationInput};
use super::{portfolio_route, OwnedPortfolio};
use crate::backtest::request::built_in;
use crate::backtest::BacktestCliError;
use cryptolens_actors::actors::portfolio::{StrategyChange, StrategyView};
use cryptolens_actors::domain::backtest::StrategySpec;
use cryptolens_actors::domain::market::Symbol;
use serde::Deserialize;
use serde_json::{json, Value};
use warp::{Filter, Rejection};

/// At most this many symbols per strategy.
pub const SYMBOLS_MAX: usize = 100;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachStrategy {
    /// A built-in strategy's name (`config/strategies/`); ignored with `spec`.
    #[serde(default)]
    pub strategy: Option<String>,
    #[serde(default)]
    pub spec: Option<StrategySpec>,
    pub symbols: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PauseStrategy {
    pub paused: bool,
}

pub fn routes(state: &AppState) -> impl Filter<Extract = (Answer,), Error = Rejection> + Clone {
    let show = portfolio_route(
        warp::path!("api" / "portfolios" / String / "strategy").and(warp::get()),
        no_input(),
        state,
        |owned: OwnedPortfolio, (), state: AppState| async move { respond(show(&owned).await, &state) },
    );
    let attach = portfolio_route(
        warp::path!("api" / "portfolios" / String / "strategy").and(warp::post()),
        mutation_input(),
        state,
        |owned: OwnedPortfolio, input: MutationInput, state: AppState| async move {
            respond(attach(&owned, &input, &state).await, &state)
        },
    );
    let pause = portfolio_route(
        warp::path!("api" / "portfolios" / String / "strategy").and(warp::patch()),
        mutation_input(),
        state,
        |owned: OwnedPortfolio, input: MutationInput, state: AppState| async move {
            respond(pause(&owned, &input).await, &state)
        },
    );
    let detach = portfolio_route(
        warp::path!("api" / "portfolios" / String / "strategy").and(warp::delete()),
        no_input(),
        state,
        |owned: OwnedPortfolio, (), state: AppState| async move {
            respond(change(&owned, StrategyChange::Detached).await, &state)
        },
    );
    show.or(attach).unify().or(pause).unify().or(detach).unify()
}

/// `{"strategy": view}`, or `{"strategy": null}` without one (not a 404: a portfolio
/// without a strategy is the usual case, not an error).
async fn show(owned: &OwnedPortfolio) -> Result<Value, ApiError> {
    let view = owned.book.strategy(owned.id).await?;
    Ok(json!({"strategy": view.as_ref().map(view_json)}))
}

async fn attach(
    owned: &OwnedPortfolio,
    input: &MutationInput,
    state: &AppState,
) -> Result<Value, ApiError> {
    let body: AttachStrategy = parse_json(&input.body, "strategy")?;
    let spec = match (body.spec, body.strategy.as_deref()) {
        (Some(spec), _) => spec,
        (None, Some(name)) => built_in(name).map_err(argument_error)?,
        (None, None) => {
            return Err(ApiError::invalid_field(
                "strategy",
                "name a built-in strategy or give a whole spec",
            ))
        }
    };
    spec.validate()
        .map_err(|error| ApiError::invalid_field("spec", error.to_string()))?;
    let symbols = symbols(&body.symbols, state)?;
    let spec_json = serde_json::to_string(&spec)
        .map_err(|error| ApiError::invalid_field("spec", error.to_string()))?;
    change(owned, StrategyChange::Attached { spec_json, symbols }).await
}

/// The symbols a strategy trades: each known to the server, no repeats.
fn symbols(texts: &[String], state: &AppState) -> Result<Vec<Symbol>, ApiError> {
    if texts.is_empty() || texts.len() > SYMBOLS_MAX {
        return Err(ApiError::invalid_field(
            "symbols",
            format!("1 to {SYMBOLS_MAX} symbols"),
        ));
    }
    let mut symbols: Vec<Symbol> = Vec::with_capacity(texts.len());
    for text in texts {
        let symbol = Symbol::parse(text)
            .map_err(|error| ApiError::invalid_field("symbols", error.to_string()))?;
        if state.engine.base_timeframe(&symbol).is_none() {
            return Err(ApiError::invalid_field(
                "symbols",
                format!("{symbol} is not followed by this server"),
            ));
        }
        if symbols.contains(&symbol) {
            return Err(ApiError::invalid_field(
                "symbols",
                format!("{symbol} is named twice"),
            ));
        }
        symbols.push(symbol);
    }
    Ok(symbols)
}

async fn pause(owned: &OwnedPortfolio, input: &MutationInput) -> Result<Value, ApiError> {
    let body: PauseStrategy = parse_json(&input.body, "strategy")?;
    let change = if body.paused {
        StrategyChange::Paused
    } else {
        StrategyChange::Resumed
    };
    self::change(owned, change).await
}

async fn change(owned: &OwnedPortfolio, change: StrategyChange) -> Result<Value, ApiError> {
    let at_ms = owned.clock.now_ms();
    let view = owned
        .book
        .configure_strategy(owned.id, change, at_ms)
        .await?;
    Ok(view.map_or_else(|| json!({"detached": true}), |view| view_json(&view)))
}

fn view_json(view: &StrategyView) -> Value {
    serde_json::to_value(view).unwrap_or_default()
}

fn argument_error(error: BacktestCliError) -> ApiError {
    match error {
        BacktestCliError::Argument { flag, message } => ApiError::invalid_field(flag, message),
        other => ApiError::invalid_field("spec", other.to_string()),
    }
}
