//! The one sign-in of the tests (`helpers::sign_in`) and the benchmarks (`support::session`): the sign-in
//! API as the dashboard's own pages' scripts call it, answering the session a browser would keep.

use serde_json::{Value, json};

/// A signed-in client: its cookie and CSRF token.
pub struct Session {
    /// The session cookie, `name=value`, as a `Cookie` header sends it.
    pub cookie: String,
    /// The session's CSRF token, for the `X-CSRF-Token` header of changes.
    pub csrf: String,
    /// The sign-in's answer (`{"user", "csrf_token"}`).
    pub answer: Value,
}

impl Session {
    /// A request to `url` with the session's cookie and its CSRF token (which reads do not need and the
    /// server does not mind).
    pub fn request(
        &self,
        http: &reqwest::Client,
        method: reqwest::Method,
        url: impl reqwest::IntoUrl,
    ) -> reqwest::RequestBuilder {
        http.request(method, url)
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf)
    }

    /// Syncs through `POST /api/reseller/programs/sync-stream` of the dashboard at `base_url`, reading its
    /// events to the end.
    pub async fn sync_stream(
        &self,
        http: &reqwest::Client,
        base_url: &str,
    ) -> Vec<super::sse::SseEvent> {
        let url = format!("{base_url}/api/reseller/programs/sync-stream");
        let response = self
            .request(http, reqwest::Method::POST, url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("sync-stream: {e}"));
        super::sse::read_sse(response).await
    }
}

/// Signs `username` in with `password` through `POST /api/auth/login` of the dashboard at `base_url`
/// (`http://host:port`). Panics unless that signs in.
pub async fn sign_in(
    http: &reqwest::Client,
    base_url: &str,
    (username, password): (&str, &str),
) -> Session {
    let response = http
        .post(format!("{base_url}/api/auth/login"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("sign-in of {username}: {e}"));
    assert_eq!(response.status(), 200, "sign-in of {username}");
    let cookie = session_cookie(response.headers());
    let answer: Value = response
        .json()
        .await
        .unwrap_or_else(|e| panic!("sign-in answer of {username}: {e}"));
    let csrf = answer["csrf_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no csrf_token in the sign-in answer: {answer}"))
        .to_owned();
    Session {
        cookie,
        csrf,
        answer,
    }
}

/// The session cookie (`name=value`) that a sign-in answer sets.
pub fn session_cookie(headers: &reqwest::header::HeaderMap) -> String {
    let set = headers[reqwest::header::SET_COOKIE]
        .to_str()
        .unwrap_or_else(|e| panic!("Set-Cookie is not text: {e}"));
    set.split(';').next().unwrap_or(set).to_owned()
}
