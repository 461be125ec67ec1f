//! Workspace settings, for admins: the Yelp partner credentials (write-only: the password is stored sealed
//! and never answered), a test of the connection to Yelp, the workspace's time zone, and the users' roles. The settings API and the
//! settings page are two faces over these functions.

use serde::Deserialize;
use serde_json::{Value, json};
use yelp_partner_api::{REPORTING_BASE_URL, StatusFilter};

use crate::error::Error;
use crate::store::{AuditAction, AuditEvent, ReportingSettings, Role, User, WorkspaceZone};
use crate::web::AppState;
use crate::web::auth::{Origin, audit_event, record};
use crate::web::error::{ApiError, ApiResult};

/// What an admin may see of the stored credentials: where and as whom, and whether a password is stored;
/// never the password.
#[derive(Debug)]
pub(crate) struct CredentialsView {
    /// Yelp's partner API root.
    pub yelp_base_url: String,
    /// The partner username.
    pub yelp_username: String,
    /// Whether a password is stored.
    pub password_set: bool,
}

/// The workspace's credentials as an admin may see them.
pub(crate) async fn credentials_view(
    state: &AppState,
    workspace_id: &str,
) -> ApiResult<CredentialsView> {
    let workspace = state.store.workspace(workspace_id).await?;
    let password_set = state
        .store
        .workspace_password_enc(workspace_id)
        .await?
        .is_some();
    Ok(CredentialsView {
        yelp_base_url: workspace.yelp_base_url,
        yelp_username: workspace.yelp_username,
        password_set,
    })
}

/// New credentials; a field left out or empty keeps its stored value.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CredentialsInput {
    /// Yelp's partner API root, e.g. `https://partner-api.yelp.com`.
    pub yelp_base_url: Option<String>,
    /// The partner username.
    pub yelp_username: Option<String>,
    /// The partner password (never logged, never answered).
    pub yelp_password: Option<String>,
}

/// Stores the workspace's new Yelp credentials, the password sealed. The caller checks that `admin` is one.
pub(crate) async fn save_credentials(
    state: &AppState,
    admin: &User,
    origin: &Origin,
    input: CredentialsInput,
) -> ApiResult<()> {
    let workspace_id = admin.workspace_id.as_str();
    let current = state.store.workspace(workspace_id).await?;
    let given = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let base_url = given(input.yelp_base_url).unwrap_or(current.yelp_base_url.clone());
    let username = given(input.yelp_username).unwrap_or(current.yelp_username.clone());
    crate::yelp::check_base_url(&base_url, state.allow_insecure_yelp_url())
        .map_err(|e| ApiError::field("yelp_base_url", e.to_string()))?;
    // A password is taken as typed (spaces may belong to it); only an empty one means "keep". The stored
    // one is kept only for the place and account it was given for: sent anywhere new, it would be
    // readable by whoever answers there.
    let sealed = match input.yelp_password.filter(|p| !p.is_empty()) {
        Some(password) => state.secrets.encrypt(&password),
        None if base_url != current.yelp_base_url || username != current.yelp_username => {
            return Err(ApiError::field(
                "yelp_password",
                "Type the partner password again to change the base URL or the username: the stored \
                 one is only sent where it was given for.",
            ));
        }
        None => state
            .store
            .workspace_password_enc(workspace_id)
            .await?
            .ok_or_else(|| {
                ApiError::field(
                    "yelp_password",
                    "No partner password is stored yet: type it in.",
                )
            })?,
    };
    state
        .store
        .set_workspace_credentials(workspace_id, &base_url, &username, &sealed)
        .await?;
    tracing::info!(user = %admin.username, "changed the workspace's Yelp credentials");
    let event = AuditEvent {
        target: Some(username.clone()),
        detail: Some(format!("Yelp partner account {username} at {base_url}")),
        ..audit_event(admin, origin)
    };
    record(state, AuditAction::CredentialsReplaced, event).await;
    Ok(())
}

/// The workspace's Reporting API settings as an admin may see them: where, and whether a key is stored;
/// never the key.
pub(crate) async fn reporting_view(state: &AppState, workspace_id: &str) -> ApiResult<Value> {
    let settings = state.store.reporting_settings(workspace_id).await?;
    Ok(json!({
        "reporting_base_url": settings.base_url.as_deref().unwrap_or(REPORTING_BASE_URL),
        "reporting_key_set": settings.key_enc.is_some(),
    }))
}

/// New Reporting API settings; a field left out or empty keeps its stored value. No `Debug`: it holds the
/// key.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReportingInput {
    /// The API's root; Yelp's own (`https://api.yelp.com/v3/reporting/`) unless told otherwise.
    pub reporting_base_url: Option<String>,
    /// The Fusion API key Yelp enabled for reporting (never logged, never answered).
    pub reporting_key: Option<String>,
}

/// Stores the workspace's Reporting API settings, the key sealed. As with the partner password, a stored
/// key is only sent where it was given for: a new base URL needs the key typed again.
pub(crate) async fn save_reporting(
    state: &AppState,
    admin: &User,
    origin: &Origin,
    input: ReportingInput,
) -> ApiResult<()> {
    let workspace_id = admin.workspace_id.as_str();
    let current = state.store.reporting_settings(workspace_id).await?;
    let current_url = current
        .base_url
        .clone()
        .unwrap_or_else(|| REPORTING_BASE_URL.to_owned());
    let base_url = input
        .reporting_base_url
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or(current_url.clone());
    crate::yelp::check_base_url(&base_url, state.allow_insecure_yelp_url())
        .map_err(|e| ApiError::field("reporting_base_url", e.to_string()))?;
    let key_enc = match input
        .reporting_key
        .map(|k| k.trim().to_owned())
        .filter(|k| !k.is_empty())
    {
        Some(key) => state.secrets.encrypt(&key),
        None if base_url != current_url => {
            return Err(ApiError::field(
                "reporting_key",
                "Type the reporting key again to change the base URL: the stored one is only sent where \
                 it was given for.",
            ));
        }
        None => current.key_enc.ok_or_else(|| {
            ApiError::field(
                "reporting_key",
                "No reporting key is stored yet: type it in.",
            )
        })?,
    };
    let settings = ReportingSettings {
        base_url: (base_url != REPORTING_BASE_URL).then(|| base_url.clone()),
        key_enc: Some(key_enc),
    };
    state
        .store
        .set_reporting_settings(workspace_id, &settings)
        .await?;
    tracing::info!(user = %admin.username, "changed the workspace's Reporting API key");
    let event = AuditEvent {
        target: Some("reporting".to_owned()),
        detail: Some(format!("Reporting API key for {base_url}")),
        ..audit_event(admin, origin)
    };
    record(state, AuditAction::CredentialsReplaced, event).await;
    Ok(())
}

/// Sets the workspace's time zone to the IANA name `name`; refused naming `time_zone` when the tz
/// database has no such zone. Scheduled changes keep their instants: those typed earlier in another zone
/// now show at the same moment in this one. The caller checks that `admin` is one.
pub(crate) async fn save_time_zone(
    state: &AppState,
    admin: &User,
    origin: &Origin,
    name: &str,
) -> ApiResult<WorkspaceZone> {
    let zone = WorkspaceZone::parse(name)?;
    let before = state.store.workspace(&admin.workspace_id).await?.time_zone;
    state
        .store
        .set_workspace_time_zone(&admin.workspace_id, zone)
        .await?;
    tracing::info!(user = %admin.username, time_zone = zone.name(), "changed the workspace's time zone");
    let event = AuditEvent {
        target: Some(zone.name().to_owned()),
        detail: Some(format!("Time zone {} → {}", before.name(), zone.name())),
        ..audit_event(admin, origin)
    };
    record(state, AuditAction::TimeZoneChanged, event).await;
    Ok(zone)
}

/// How a test of the connection to Yelp went.
#[derive(Debug)]
pub(crate) struct ConnectionTest {
    /// Whether Yelp answered a listing with these credentials.
    pub ok: bool,
    /// What to tell the admin.
    pub message: String,
}

/// Asks Yelp for one program with the workspace's stored credentials.
pub(crate) async fn test_connection(
    state: &AppState,
    admin: &User,
    origin: &Origin,
) -> ConnectionTest {
    let result = try_connection(state, &admin.workspace_id).await;
    let event = AuditEvent {
        detail: Some(if result.ok { "connected" } else { "failed" }.to_owned()),
        ..audit_event(admin, origin)
    };
    record(state, AuditAction::ConnectionTested, event).await;
    result
}

async fn try_connection(state: &AppState, workspace_id: &str) -> ConnectionTest {
    let client = match state.yelp_client(workspace_id).await {
        Ok(client) => client,
        Err(e) => {
            return ConnectionTest {
                ok: false,
                message: e.message(),
            };
        }
    };
    match client.list_programs(StatusFilter::All, 0, 1).await {
        Ok(page) => {
            let mut message = format!(
                "Connected: Yelp accepted the credentials and lists {} programs for this partner account.",
                page.total
            );
            // Business names come from Yelp's business_info: asked once here too, so that the test
            // covers what the sync's naming phase needs, and says whose program Yelp listed first.
            let first = page
                .programs
                .first()
                .and_then(|e| e.program.business_id().cloned());
            if let Some(id) = first {
                match client.business_info(std::slice::from_ref(&id)).await {
                    Ok(batch) => match batch.businesses.iter().find(|b| b.business_id == id) {
                        Some(b) => {
                            let place = b.address.city.as_deref().filter(|c| !c.is_empty());
                            let name = match place {
                                Some(city) => format!("{}, {city}", b.name),
                                None => b.name.clone(),
                            };
                            message.push_str(&format!(" The first is for {name} ({id})."));
                        }
                        None => message.push_str(&format!(
                            " Yelp's business_info does not describe the first one's business ({id})."
                        )),
                    },
                    Err(_) => message.push_str(
                        " Business names could not be read (business_info failed); programs will show business ids.",
                    ),
                }
            }
            ConnectionTest { ok: true, message }
        }
        Err(e) => {
            use yelp_partner_api::Error as Y;
            // Said in our own words only: the base URL may reach anything, whose answer is not repeated.
            let message = match e {
                Y::Unauthorized => "Yelp rejected the partner username or password.".to_owned(),
                Y::Timeout | Y::Transport(_) => format!(
                    "Could not reach Yelp at {}: check the base URL and the network.",
                    client.base_url()
                ),
                Y::RateLimited { .. } => {
                    "Yelp is limiting requests right now; try again in a minute.".to_owned()
                }
                Y::Server { status } => format!("Yelp failed (HTTP {status}); try again later."),
                Y::NotFound { .. } => {
                    "Yelp has no partner API at this base URL: check it.".to_owned()
                }
                Y::Rejected { status, .. } => format!(
                    "The base URL answered HTTP {status} instead of a program listing: check it."
                ),
                Y::Decode { .. } => {
                    "The base URL answered, but not as Yelp's partner API does: check it."
                        .to_owned()
                }
                other @ (Y::InvalidRequest(_) | Y::Config(_)) => {
                    format!("The connection is misconfigured: {other}")
                }
            };
            tracing::info!(workspace_id, "Yelp connection test failed");
            ConnectionTest { ok: false, message }
        }
    }
}

/// Gives a user of `admin`'s workspace another role. Admins cannot change their own role, so that a
/// workspace always keeps the admin who is changing it.
pub(crate) async fn change_role(
    state: &AppState,
    admin: &User,
    origin: &Origin,
    user_id: &str,
    role: &str,
) -> ApiResult<()> {
    let role: Role = role
        .parse()
        .map_err(|e: Error| ApiError::field("role", e.to_string()))?;
    if user_id == admin.id {
        return Err(ApiError::field(
            "role",
            "You cannot change your own role; another admin can.",
        ));
    }
    state
        .store
        .set_user_role(&admin.workspace_id, user_id, role)
        .await?;
    tracing::info!(admin = %admin.username, user_id, role = %role, "changed a user's role");
    let target = state
        .store
        .workspace_users(&admin.workspace_id)
        .await?
        .into_iter()
        .find(|u| u.id == user_id)
        .map_or_else(|| user_id.to_owned(), |u| u.username);
    let event = AuditEvent {
        detail: Some(format!("{target} is now {}", role.as_str())),
        target: Some(target),
        ..audit_event(admin, origin)
    };
    record(state, AuditAction::RoleChanged, event).await;
    Ok(())
}
