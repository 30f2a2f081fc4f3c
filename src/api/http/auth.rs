//! Who may write: the `Authorization` header checked against the server's accounts
//! ([`crate::accounts`]), for the collection a write goes to.
//!
//! Reading stays open; only writes (and `OPTIONS`, to advertise them) ask. No credentials or
//! wrong ones: 401 with `WWW-Authenticate` (Basic, what QGIS's authentication configurations
//! send, and Bearer, for scripts); an account without the right to edit the collection: 403;
//! too many failures from one address: 429 with `Retry-After`. The header is never logged.

use axum::http::header::AUTHORIZATION;
use axum::http::HeaderMap;

use super::error::ApiError;
use super::request::ClientAddr;
use super::state::AppState;
use crate::accounts::AuthError;

/// The user who sends this write to `collection`, once their credentials and rights are
/// checked. A password check may take tens of milliseconds (Argon2): it runs on a blocking
/// thread, outside the pool of geometry work.
pub async fn editor(
    state: &AppState,
    headers: &HeaderMap,
    client: Option<ClientAddr>,
    collection: &str,
) -> Result<String, ApiError> {
    let principal = principal(
        state,
        headers,
        client,
        &format!("collection {collection} takes edits from accounts"),
    )
    .await?;
    if !principal.may_edit(collection) {
        return Err(ApiError::Forbidden(format!(
            "user {} may not edit collection {collection}",
            principal.user()
        )));
    }
    Ok(principal.user().to_string())
}

/// The user who asks for the server's administration (a reload), once their credentials are
/// checked and they have the right (`territorio accounts grant-admin`).
pub async fn admin(
    state: &AppState,
    headers: &HeaderMap,
    client: Option<ClientAddr>,
) -> Result<String, ApiError> {
    let principal = principal(
        state,
        headers,
        client,
        "the administration needs an account",
    )
    .await?;
    if !principal.is_admin() {
        return Err(ApiError::Forbidden(format!(
            "user {} may not run the server's administration",
            principal.user()
        )));
    }
    Ok(principal.user().to_string())
}

/// Who sent the request, from its credentials; `why` says what needs them (when none came).
async fn principal(
    state: &AppState,
    headers: &HeaderMap,
    client: Option<ClientAddr>,
    why: &str,
) -> Result<crate::accounts::Principal, ApiError> {
    let Some(accounts) = state.accounts() else {
        return Err(ApiError::Unauthorized(
            "this server has no accounts (territorio serve --accounts FILE): nobody can edit"
                .into(),
        ));
    };
    let Some(header) = headers.get(AUTHORIZATION) else {
        return Err(ApiError::Unauthorized(format!(
            "{why}: send your credentials (HTTP Basic, or a bearer token)"
        )));
    };
    let Ok(header) = header.to_str().map(str::to_string) else {
        return Err(ApiError::Unauthorized(
            "malformed Authorization header: not ASCII text".into(),
        ));
    };
    let ip = client.map(|c| c.0);
    // A signed-in client's credentials are in the cache: answered here. A password check
    // (an Argon2 run) or a look at the accounts file goes to a blocking thread.
    let checked = match accounts.authenticate_at_once(&header, ip) {
        Some(answer) => answer,
        None => tokio::task::spawn_blocking(move || accounts.authenticate(&header, ip)).await?,
    };
    checked.map_err(|e| match e {
        AuthError::Throttled { retry_after } => ApiError::TooManyRequests {
            detail: e.to_string(),
            retry_after: retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0),
        },
        other => ApiError::Unauthorized(other.to_string()),
    })
}
