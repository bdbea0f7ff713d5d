//! `cryptolens user add|passwd|disable|enable|list`: operators manage users on a stopped
//! server's store (the running server holds its lock; while it runs, admins use
//! `/api/users`). Passwords are read from standard input, never from the command line,
//! where other local users could see them.

use crate::api::users_json;
use crate::auth::{Auth, AuthError, Role, SystemClock};
use crate::config::Settings;
use cryptolens_actors::store::{Store, StoreError};
use serde_json::{json, Value};
use std::io::BufRead;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum UserCommandError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("cannot read the password from standard input: {0}")]
    Stdin(#[source] std::io::Error),
}

impl UserCommandError {
    /// 2 when the store cannot be used at all, 1 when the request itself was refused.
    pub fn exit_code(&self) -> u8 {
        match self {
            UserCommandError::Store(_)
            | UserCommandError::Stdin(_)
            | UserCommandError::Auth(
                AuthError::Store(_) | AuthError::Envelope(_) | AuthError::Task(_),
            ) => 2,
            UserCommandError::Auth(_) => 1,
        }
    }
}

pub enum UserCommand {
    Add { username: String, role: Role },
    Passwd { username: String },
    Disable { username: String },
    Enable { username: String },
    ResetTotp { username: String },
    List,
}

pub async fn run(command: UserCommand, settings: &Settings) -> Result<Value, UserCommandError> {
    let store = Arc::new(Store::open(&crate::server::store_path(settings))?);
    let auth = Auth::open(
        store,
        &settings.auth,
        Arc::new(SystemClock),
        &settings.server.data_dir,
    )?;
    match command {
        UserCommand::Add { username, role } => {
            let user = auth.add_user(&username, role, read_password()?).await?;
            Ok(json!({"added": users_json(&[user])}))
        }
        UserCommand::Passwd { username } => {
            auth.user(&username)?;
            auth.set_password(&username, read_password()?).await?;
            Ok(json!({"username": username, "password_changed": true, "sessions_ended": true}))
        }
        UserCommand::Disable { username } => {
            auth.set_disabled(&username, true).await?;
            Ok(json!({"username": username, "disabled": true, "sessions_ended": true}))
        }
        UserCommand::Enable { username } => {
            auth.set_disabled(&username, false).await?;
            Ok(json!({"username": username, "disabled": false}))
        }
        UserCommand::ResetTotp { username } => {
            let removed = auth.reset_totp(&username).await?;
            Ok(json!({"username": username, "totp_removed": removed}))
        }
        UserCommand::List => Ok(json!({"users": users_json(&auth.users())})),
    }
}

/// The first line of standard input, without its line ending.
fn read_password() -> Result<String, UserCommandError> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(UserCommandError::Stdin)?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}
