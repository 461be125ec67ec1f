//! The router without a listener, driven through `oneshot` as axum's `examples/testing` does: sign-in,
//! CSRF, validation and 404s answered by the tier that decides them.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use dashboard::app::Application;
use dashboard::auth::hash_password;
use dashboard::secrets::SecretBox;
use dashboard::store::{Role, Store};
use serde_json::{Value, json};
use tower::ServiceExt as _;

use crate::helpers::{on_every_backend, test_config};

const KEY: [u8; 32] = [4; 32];

/// The router of a dashboard over `store`, with a workspace (its Yelp unreachable) whose `ops` is an
/// operator and `view` a viewer.
async fn router(store: &Store) -> Router {
    let sealed = SecretBox::from_key_bytes(KEY).encrypt("partner-pw");
    let ws = store
        .create_workspace("Agency", "http://127.0.0.1:9", "partner", Some(&sealed))
        .await
        .unwrap();
    for (name, role) in [("ops", Role::Operator), ("view", Role::Viewer)] {
        let hash = hash_password(&format!("{name}-password")).unwrap();
        store.create_user(&ws.id, name, &hash, role).await.unwrap();
    }
    let app = Application::build_with_store(test_config(KEY), store.clone())
        .await
        .unwrap();
    dashboard::web::router(app.state().clone())
}

/// A status, the headers and the body (JSON, or `Value::String` of the text).
async fn send(
    router: &Router,
    request: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    let response = router.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (parts.status, parts.headers, body)
}

/// A request with a JSON body, or none.
fn request(method: Method, path: &str, json: Option<Value>) -> axum::http::request::Builder {
    let builder = Request::builder().method(method).uri(path);
    match json {
        Some(_) => builder.header(header::CONTENT_TYPE, "application/json"),
        None => builder,
    }
}

fn body(json: Option<Value>) -> Body {
    json.map_or_else(Body::empty, |v| Body::from(v.to_string()))
}

/// Signs `username` in through the router: its cookie (`name=value`) and CSRF token.
async fn sign_in(router: &Router, username: &str) -> (String, String) {
    let credentials = json!({"username": username, "password": format!("{username}-password")});
    let (status, headers, answer) = send(
        router,
        request(Method::POST, "/api/auth/login", Some(credentials.clone()))
            .body(body(Some(credentials)))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let cookie = crate::helpers::session_cookie(&headers);
    (cookie, answer["csrf_token"].as_str().unwrap().to_owned())
}

on_every_backend! {
    async fn without_a_session_the_api_answers_401_and_a_wrong_password_400(db: TestDb) {
        let router = router(&db.store).await;
        let (status, _, answer) = send(&router, request(Method::GET, "/api/reseller/programs", None).body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
        let (status, _, answer) = send(&router, request(Method::GET, "/api/reseller/programs", None)
            .header(header::COOKIE, "yelp_ads_session=made-up").body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "a session that does not exist: {answer}");

        let wrong = json!({"username": "ops", "password": "not-the-password"});
        let (status, headers, _) = send(&router, request(Method::POST, "/api/auth/login", Some(wrong.clone())).body(body(Some(wrong))).unwrap()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(headers.get(header::SET_COOKIE).is_none(), "no session for a wrong password");

        let (cookie, _) = sign_in(&router, "ops").await;
        let (status, _, _) = send(&router, request(Method::GET, "/api/reseller/programs", None)
            .header(header::COOKIE, &cookie).body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::OK);
    }
}

on_every_backend! {
    async fn a_change_needs_the_sessions_csrf_token_and_a_viewer_may_not_make_one(db: TestDb) {
        let router = router(&db.store).await;
        let (cookie, csrf) = sign_in(&router, "ops").await;
        let post = |token: Option<&str>, cookie: &str| {
            let mut builder = request(Method::POST, "/api/reseller/programs/sync-stream", None).header(header::COOKIE, cookie);
            if let Some(token) = token {
                builder = builder.header("x-csrf-token", token);
            }
            builder.body(Body::empty()).unwrap()
        };
        let (status, _, answer) = send(&router, post(None, &cookie)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
        assert!(answer["error"]["message"].as_str().unwrap().contains("CSRF"), "{answer}");
        let (status, _, _) = send(&router, post(Some("forged"), &cookie)).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (other_cookie, other_csrf) = sign_in(&router, "view").await;
        let (status, _, _) = send(&router, post(Some(&csrf), &other_cookie)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "another session's token");
        let (status, _, answer) = send(&router, post(Some(&other_csrf), &other_cookie)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "a viewer cannot start a sync: {answer}");
    }
}

on_every_backend! {
    async fn a_create_with_bad_fields_is_refused_before_yelp_is_asked_naming_each_field(db: TestDb) {
        let router = router(&db.store).await;
        let (cookie, csrf) = sign_in(&router, "ops").await;
        let draft = json!({"business_id": "", "program_name": "NOT_A_TYPE", "start": "yesterday", "budget": "lots", "colour": "red"});
        let (status, _, answer) = send(&router, request(Method::POST, "/api/reseller/program/create", Some(draft.clone()))
            .header(header::COOKIE, &cookie).header("x-csrf-token", &csrf).body(body(Some(draft))).unwrap()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        let text = answer.to_string();
        for field in ["program_name", "start", "budget", "colour"] {
            assert!(text.contains(field), "{field} is named: {answer}");
        }
        let (status, _, answer) = send(&router, request(Method::POST, "/api/reseller/program/create", None)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::COOKIE, &cookie).header("x-csrf-token", &csrf).body(Body::from("{not json")).unwrap()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    }
}

on_every_backend! {
    async fn an_unknown_path_is_a_json_404_for_the_api_and_an_html_page_for_a_browser(db: TestDb) {
        let router = router(&db.store).await;
        let (status, headers, answer) = send(&router, request(Method::GET, "/api/no-such-endpoint", None)
            .header(header::ACCEPT, "text/html").body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("application/json"), "{answer}");
        assert!(answer["error"].is_object(), "{answer}");

        let (status, headers, page) = send(&router, request(Method::GET, "/no-such-page", None)
            .header(header::ACCEPT, "text/html").body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
        let html = scraper::Html::parse_document(page.as_str().unwrap());
        assert!(html.select(&scraper::Selector::parse("main, body").unwrap()).next().is_some());

        let (status, _, _) = send(&router, request(Method::DELETE, "/healthz", None).body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    }
}
