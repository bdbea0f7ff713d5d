//! `POST /api/store/backup` (admin): a consistent copy of the running server's store into a
//! new directory (see `cryptolens_actors::store::backup`); `cryptolens store backup DIR`
//! asks for it when a server holds the store.

use super::error::ApiError;
use super::json_body::parse_json;
use super::{respond_created, with_state, AppState};
use bytes::Bytes;
use cryptolens_actors::actors::EngineError;
use cryptolens_actors::store::StoreError;
use serde::Deserialize;
use std::path::PathBuf;
use warp::reply::Response;
use warp::{Filter, Rejection};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BackupRequest {
    /// An absolute path on the server's machine, absent or empty.
    dir: PathBuf,
}

pub fn routes(state: &AppState) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("api" / "store" / "backup")
        .and(warp::post())
        .and(warp::body::content_length_limit(state.body_limit_bytes))
        .and(warp::body::bytes())
        .and(with_state(state))
        .then(|body: Bytes, state: AppState| async move {
            let result = backup(&body, &state).await;
            respond_created(result, &state)
        })
}

async fn backup(body: &[u8], state: &AppState) -> Result<serde_json::Value, ApiError> {
    let request: BackupRequest = parse_json(body, "backup")?;
    if !request.dir.is_absolute() {
        return Err(ApiError::invalid_field("dir", "must be an absolute path"));
    }
    let dir = request.dir;
    if dir.exists() && std::fs::read_dir(&dir).map_or(true, |mut entries| entries.next().is_some())
    {
        return Err(ApiError::Conflict {
            code: "backup_dir_not_empty",
            message: format!(
                "{} exists and is not empty; give a new directory",
                dir.display()
            ),
        });
    }
    let store = std::sync::Arc::clone(&state.store);
    store.admit_write().map_err(EngineError::from)?;
    let target = dir.clone();
    let report = tokio::task::spawn_blocking(move || store.backup_to(&target))
        .await
        .map_err(|panic| StoreError::Unreadable {
            path: dir,
            message: format!("the backup stopped: {panic}"),
        })
        .and_then(|done| done)
        .map_err(EngineError::from)?;
    Ok(serde_json::to_value(report).unwrap_or_default())
}
