//! The OpenAPI 3.0 document, built from the authorisation table, so every route the server
//! answers is described and nothing else is.

use super::access::{Access, RouteSpec, ROUTES};
use super::{with_state, AppState};
use serde_json::{json, Map, Value};
use std::sync::LazyLock;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

static DOCUMENT: LazyLock<Value> = LazyLock::new(document);

pub fn routes(state: &AppState) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("api" / "openapi.json")
        .and(warp::get())
        .and(with_state(state))
        .map(|_state: AppState| warp::reply::json(&*DOCUMENT).into_response())
}

pub fn document() -> Value {
    let mut paths = Map::new();
    for route in ROUTES {
        if let Some(item) = paths
            .entry(route.path)
            .or_insert_with(|| json!({}))
            .as_object_mut()
        {
            item.insert(route.method.to_lowercase(), operation(route));
        }
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "cryptolens",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Crypto market scanner and paper-trading engine. Send an API key as \
                X-API-Key, or a session token from /api/auth/login as Authorization: Bearer.",
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "session": {"type": "http", "scheme": "bearer",
                            "description": "A session token, or the metrics token for /metrics and /api/actors"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": super::browser_session::SESSION_COOKIE,
                           "description": "The dashboard's session cookie; requests other than GET must also send X-CSRF-Token (from login or GET /api/auth/me)"},
            },
            "schemas": with_notify_schemas(schemas()),
            "responses": {
                "Error": {
                    "description": "An error document",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                },
            },
        },
    })
}

fn operation(route: &RouteSpec) -> Value {
    let mut parameters: Vec<Value> = route
        .parameters()
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect();
    parameters.extend(route.query.iter().map(
        |name| json!({"name": name, "in": "query", "required": false, "schema": {"type": "string"}}),
    ));
    if takes_idempotency_key(route) {
        parameters.push(json!({
            "name": "Idempotency-Key", "in": "header", "required": false,
            "schema": {"type": "string", "minLength": 1, "maxLength": 128},
            "description": "1 to 128 visible ASCII characters: a repeat within the key's lifetime \
                answers the first answer again instead of acting twice (409 \
                idempotency_key_reused for a different body)",
        }));
    }
    let mut responses = Map::new();
    responses.insert(
        route.success.to_string(),
        json!({"description": "Success", "content": {"application/json": {"schema": {"type": "object"}}}}),
    );
    for status in error_statuses(route) {
        responses.insert(
            status.to_string(),
            json!({"$ref": "#/components/responses/Error"}),
        );
    }
    let mut operation = json!({
        "summary": route.summary,
        "operationId": operation_id(route),
        "parameters": parameters,
        "responses": responses,
        "x-least-role": least_role(route.access),
    });
    operation["security"] = match route.access {
        Access::Public => json!([]),
        _ => json!([{"apiKey": []}, {"session": []}, {"cookie": []}]),
    };
    if let Some(schema) = route.body {
        operation["requestBody"] = json!({
            "required": !matches!(schema, "Scan"),
            "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}},
        });
    }
    operation
}

/// The portfolio changes (`portfolios/input.rs` `mutation_input`): every one but the preview,
/// which changes nothing.
fn takes_idempotency_key(route: &RouteSpec) -> bool {
    route.path.starts_with("/api/portfolios")
        && route.method != "GET"
        && !route.path.ends_with("/preview")
}

/// Every status `route` can answer: its success and [`error_statuses`].
pub fn documented_statuses(route: &RouteSpec) -> Vec<u16> {
    let mut statuses = error_statuses(route);
    statuses.push(route.success);
    statuses.sort_unstable();
    statuses
}

/// What every route can answer (a refused query parameter, the rate limit, a fault of
/// ours), what protected ones and ones with a body add, then the route's own.
fn error_statuses(route: &RouteSpec) -> Vec<u16> {
    let mut statuses = vec![400, 429, 500];
    if route.access != Access::Public {
        statuses.extend([401, 403, 404]);
    }
    if route.body.is_some() {
        // Too large, or sent without a length.
        statuses.extend([411, 413]);
    }
    statuses.extend(route.errors);
    statuses.sort_unstable();
    statuses.dedup();
    statuses
}

fn least_role(access: Access) -> String {
    match access {
        Access::Public => "public".into(),
        Access::Role(role) => role.to_string(),
        Access::AdminOrMetricsToken => "admin or metrics token".into(),
    }
}

/// `GET /api/portfolios/{id}/stats` -> `get_api_portfolios_id_stats`.
fn operation_id(route: &RouteSpec) -> String {
    let path: String = route
        .path
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let words: Vec<&str> = path.split('_').filter(|word| !word.is_empty()).collect();
    format!("{}_{}", route.method.to_lowercase(), words.join("_"))
}

fn decimal() -> Value {
    json!({"oneOf": [{"type": "string"}, {"type": "number"}], "description": "exact decimal"})
}

fn object(required: &[&str], properties: Value) -> Value {
    let mut schema =
        json!({"type": "object", "additionalProperties": false, "properties": properties});
    // OpenAPI 3.0 wants a non-empty `required` list, or none.
    if !required.is_empty() {
        schema["required"] = json!(required);
    }
    schema
}

/// The notification channel and alert bodies, added to [`schemas`].
fn with_notify_schemas(mut all: Value) -> Value {
    let text = json!({"type": "string"});
    let notify = json!({
        "ChannelFilter": object(&[], json!({
            "symbols": {"type": "array", "items": text}, "directions": {"type": "array", "items": {"type": "string", "enum": ["bullish", "bearish"]}},
            "timeframes": {"type": "array", "items": text, "description": "entry timeframes"},
            "kinds": {"type": "array", "items": {"type": "string", "enum": ["fair_value_gap", "order_block", "liquidity_sweep"]}},
            "min_confluence": {"type": "integer"}, "min_score": {"type": "number", "description": "confidence, 0 to 1"},
            "min_risk_reward": decimal(), "cooldown_minutes": {"type": "integer", "description": "per symbol"},
            "quiet_hours": object(&["from", "to", "time_zone"], json!({"from": {"type": "string", "description": "HH:MM"}, "to": {"type": "string"}, "time_zone": {"type": "string", "description": "IANA, e.g. Europe/Berlin"}}))})),
        "CreateChannel": object(&["name", "kind"], json!({
            "name": text, "kind": {"type": "string", "enum": ["ntfy", "webhook", "telegram", "email"]},
            "server_url": {"type": "string", "description": "ntfy: the server, e.g. https://ntfy.sh"}, "topic": {"type": "string", "description": "ntfy"},
            "access_token": {"type": "string", "description": "ntfy, optional"},
            "url": {"type": "string", "description": "webhook"}, "secret": {"type": "string", "description": "webhook, optional (generated, shown once)"},
            "base_url": {"type": "string", "description": "telegram, default https://api.telegram.org"}, "bot_token": {"type": "string", "description": "telegram"}, "chat_id": {"type": "string", "description": "telegram"},
            "smtp_host": {"type": "string", "description": "email: the SMTP server (must offer STARTTLS)"}, "smtp_port": {"type": "integer", "description": "email, default 587"},
            "username": {"type": "string", "description": "email, optional, with password"}, "password": {"type": "string", "description": "email, optional, never shown again"},
            "from": {"type": "string", "description": "email: a mail address"}, "to": {"type": "string", "description": "email: a mail address"},
            "filter": {"$ref": "#/components/schemas/ChannelFilter"}, "enabled": {"type": "boolean"}})),
        "UpdateChannel": object(&[], json!({"name": text, "enabled": {"type": "boolean"}, "filter": {"$ref": "#/components/schemas/ChannelFilter"}})),
        "CreateAlert": object(&["name", "kind"], json!({
            "name": text, "kind": {"type": "string", "enum": ["price_cross", "percent_move", "pattern", "trade"]},
            "symbol": {"type": "string", "description": "price_cross, percent_move, pattern: a symbol tracked here"},
            "direction": {"type": "string", "description": "price_cross: above|below; percent_move: up|down|either; pattern (optional): bullish|bearish"},
            "level": decimal(), "percent": decimal(), "window_minutes": {"type": "integer", "description": "percent_move: 1 to 10080"},
            "pattern_kind": {"type": "string", "enum": ["fair_value_gap", "order_block", "liquidity_sweep"]},
            "timeframe": {"type": "string", "description": "pattern, optional"},
            "portfolio_id": {"type": "integer", "description": "trade: one of the caller's portfolios"},
            "event": {"type": "string", "enum": ["filled", "stop_hit"]},
            "rearm": {"type": "boolean", "description": "stay armed after firing (default: fire once)"},
            "channel_ids": {"type": "array", "items": {"type": "integer"}, "description": "default: every enabled channel"}})),
    });
    if let (Some(all), Some(notify)) = (all.as_object_mut(), notify.as_object()) {
        all.extend(notify.clone());
    }
    all
}

fn schemas() -> Value {
    let text = json!({"type": "string"});
    let role = json!({"type": "string", "enum": ["viewer", "trader", "admin"]});
    let time_ms =
        json!({"type": "integer", "format": "int64", "description": "ms since the epoch, UTC"});
    json!({
        "Error": {"type": "object", "required": ["error"], "properties": {"error": {
            "type": "object", "required": ["code", "message"],
            "properties": {"code": text, "message": text, "field": {"type": "string", "nullable": true}},
        }}},
        "Login": object(&["username", "password"], json!({"username": text, "password": text,
            "cookie": {"type": "boolean", "description": "set an HttpOnly session cookie (the dashboard) instead of returning the token"},
            "totp_code": {"type": "string", "description": "the current 6-digit code, for a user with two-factor sign-in on (401 totp_required without it)"},
            "recovery_code": {"type": "string", "description": "or one unused recovery code instead"}})),
        "ConfirmTotp": object(&["code"], json!({"code": text})),
        "DisableTotp": object(&[], json!({"totp_code": text, "recovery_code": text})),
        "ChangePassword": object(&["current_password", "new_password"],
            json!({"current_password": text, "new_password": text})),
        "CreateApiKey": object(&["name"], json!({"name": text, "role": role, "expires_at": time_ms})),
        "StoreBackup": object(&["dir"], json!({"dir": text})),
        "BacktestRequest": object(&["symbol"], json!({"symbol": text,
            "strategy": {"type": "string", "description": "sma-cross (default), order-block-pullback, momentum-market or fvg-longs"},
            "spec": {"type": "object", "description": "a whole strategy, as a strategy file's fields (config/strategies/)"},
            "fast": {"type": "integer"}, "slow": {"type": "integer"},
            "cash": decimal(), "commission": decimal(), "bar_timeframe": text})),
        "AttachStrategy": object(&["symbols"], json!({
            "strategy": {"type": "string", "description": "a built-in: order-block-pullback, momentum-market or fvg-longs"},
            "spec": {"type": "object", "description": "a whole strategy, as a strategy file's fields (config/strategies/)"},
            "symbols": {"type": "array", "items": text, "description": "followed symbols the strategy trades"}})),
        "PauseStrategy": object(&["paused"], json!({"paused": {"type": "boolean"}})),
        "CreateUser": object(&["username", "role", "password"],
            json!({"username": text, "role": role, "password": text})),
        "UpdateUser": object(&[], json!({"role": role, "password": text, "disabled": {"type": "boolean"}})),
        "Candle": object(&["t", "o", "h", "l", "c", "v"], json!({
            "t": time_ms, "o": decimal(), "h": decimal(), "l": decimal(), "c": decimal(), "v": decimal()})),
        "CandleBatch": object(&["symbol", "timeframe", "candles"], json!({
            "symbol": text, "timeframe": text,
            "candles": {"type": "array", "items": {"$ref": "#/components/schemas/Candle"}}})),
        "Scan": object(&[], json!({"symbol": text})),
        "FollowSymbol": object(&["symbol"], json!({"symbol": text})),
        "Backfill": object(&["since"], json!({"since": text})),
        "CreatePortfolio": object(&["name", "initial_balance"], json!({
            "name": text, "initial_balance": decimal(), "quote_currency": text, "fee_rate": decimal(),
            "limits": object(&[], json!({"max_position_notional": decimal(),
                "max_open_positions": {"type": "integer"}, "daily_loss_limit": decimal()}))})),
        "OpenTrade": object(&[], json!({
            "symbol": text, "side": {"type": "string", "enum": ["long", "short"]},
            "quantity": decimal(), "price": decimal(), "stop_loss": decimal(),
            "take_profits": {"type": "array", "items": decimal()},
            "order": {"type": "string", "enum": ["market", "limit", "stop"]},
            "expires_at": {"type": "integer", "format": "int64"},
            "from_signal": text, "from_pattern": text,
            "fill": {"type": "string", "enum": ["entry", "market"]},
            "risk_percent": decimal(),
            "trailing_stop": object(&[], json!({"percent": decimal(), "atr_multiple": decimal()})),
            "break_even_after_target": {"type": "boolean"}})),
        "AmendTrade": object(&[], json!({
            "stop_loss": {"oneOf": [{"type": "string"}, {"type": "number"}], "nullable": true},
            "take_profits": {"type": "array", "items": decimal()}})),
        "CloseTrade": object(&[], json!({"quantity": decimal(), "price": decimal()})),
        "AddToTrade": object(&["quantity"], json!({"quantity": decimal(), "price": decimal()})),
        "JournalNote": object(&["text"], json!({"text": text, "tags": {"type": "array", "items": text}})),
    })
}
