//! The router without a listener, driven through `oneshot` as axum's `examples/testing` does: sign-in,
//! CSRF, validation and 404s answered by the tier that decides them.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use base64::Engine as _;
use dashboard::app::Application;
use dashboard::auth::hash_password;
use dashboard::secrets::SecretBox;
use dashboard::store::{Role, Store};
use serde_json::{Value, json};
use tower::ServiceExt as _;

use crate::helpers::{on_every_backend, session_cookie, test_config};

const KEY: [u8; 32] = [4; 32];

/// The router of a dashboard over `store`, with a workspace (its Yelp unreachable) whose `ops` is an
/// operator and `view` a viewer, each with the password `{name}-password`.
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

/// An answer of the router: its status, headers and body (JSON, or `Value::String` of the text).
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Answer {
    /// The `error.field` of a JSON error.
    fn field(&self) -> &str {
        self.body["error"]["field"].as_str().unwrap_or_default()
    }

    /// Whether the answer is an HTML page.
    fn is_html(&self) -> bool {
        self.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    }

    /// Whether the answer is JSON.
    fn is_json(&self) -> bool {
        self.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    }
}

/// A request being built for the router.
struct Ask {
    request: axum::http::request::Builder,
    body: Body,
}

fn ask(method: Method, path: &str) -> Ask {
    Ask {
        request: Request::builder().method(method).uri(path),
        body: Body::empty(),
    }
}

impl Ask {
    fn header(mut self, name: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        self.request = self.request.header(name.as_ref(), value.as_ref());
        self
    }

    /// With a session's cookie and, when `csrf` is given, its token in the header.
    fn session(self, cookie: &str, csrf: Option<&str>) -> Self {
        let with_cookie = self.header(header::COOKIE, cookie);
        match csrf {
            Some(token) => with_cookie.header("x-csrf-token", token),
            None => with_cookie,
        }
    }

    fn json(mut self, value: &Value) -> Self {
        self.body = Body::from(value.to_string());
        self.header(header::CONTENT_TYPE, "application/json")
    }

    /// A form body, as a browser posts it.
    fn form(mut self, fields: &[(&str, &str)]) -> Self {
        let encoded = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        self.body = Body::from(encoded);
        self.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
    }

    /// What a browser asking for a page accepts.
    fn browser_accept(self) -> Self {
        self.header(header::ACCEPT, "text/html")
    }

    async fn send(self, router: &Router) -> Answer {
        let request = self.request.body(self.body).unwrap();
        let response = router.clone().oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Answer {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }
}

/// Signs `username` in through the router: its cookie (`name=value`) and CSRF token.
async fn sign_in(router: &Router, username: &str) -> (String, String) {
    let credentials = json!({"username": username, "password": format!("{username}-password")});
    let answer = ask(Method::POST, "/api/auth/login")
        .json(&credentials)
        .send(router)
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let cookie = session_cookie(&answer.headers);
    (
        cookie,
        answer.body["csrf_token"].as_str().unwrap().to_owned(),
    )
}

/// An `Authorization: Basic` value of `username` and `password`.
fn basic(username: &str, password: &str) -> String {
    let pair = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    format!("Basic {pair}")
}

on_every_backend! {
    async fn without_a_session_the_api_answers_401_and_a_wrong_password_400(db: TestDb) {
        let router = router(&db.store).await;
        let answer = ask(Method::GET, "/api/reseller/programs").send(&router).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.body);
        let answer = ask(Method::GET, "/api/reseller/programs")
            .header(header::COOKIE, "yelp_ads_session=made-up").send(&router).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "a session that does not exist: {}", answer.body);

        let wrong = json!({"username": "ops", "password": "not-the-password"});
        let answer = ask(Method::POST, "/api/auth/login").json(&wrong).send(&router).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
        assert!(answer.headers.get(header::SET_COOKIE).is_none(), "no session for a wrong password");

        let (cookie, _) = sign_in(&router, "ops").await;
        let answer = ask(Method::GET, "/api/reseller/programs").session(&cookie, None).send(&router).await;
        assert_eq!(answer.status, StatusCode::OK);
    }
}

on_every_backend! {
    async fn http_basic_signs_a_script_in_and_a_wrong_or_garbled_header_is_401(db: TestDb) {
        let router = router(&db.store).await;
        let programs = || ask(Method::GET, "/api/reseller/programs");
        let answer = programs().header(header::AUTHORIZATION, basic("ops", "ops-password")).send(&router).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let answer = programs().header(header::AUTHORIZATION, basic("ops", "not-it")).send(&router).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.body);
        for garbled in ["Basic !!!not-base64", "Basic", "Bearer ops-password"] {
            let answer = programs().header(header::AUTHORIZATION, garbled).send(&router).await;
            assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{garbled}: {}", answer.body);
        }
        // HTTP Basic needs no CSRF token (no browser sends it on its own to another site's form).
        let answer = ask(Method::POST, "/api/auth/logout")
            .header(header::AUTHORIZATION, basic("ops", "ops-password")).send(&router).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    }
}

on_every_backend! {
    async fn a_page_without_a_session_sends_the_visitor_to_sign_in_and_back(db: TestDb) {
        let router = router(&db.store).await;
        let answer = ask(Method::GET, "/programs?status=ALL").browser_accept().send(&router).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER);
        assert_eq!(answer.headers[header::LOCATION], "/login?next=%2Fprograms%3Fstatus%3DALL");
        // Pages sign in with the cookie only: a browser replays HTTP Basic on its own.
        let answer = ask(Method::GET, "/programs").browser_accept()
            .header(header::AUTHORIZATION, basic("ops", "ops-password")).send(&router).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER);
        // A form posted after the session ended goes to sign-in as well, never through.
        let answer = ask(Method::POST, "/logout").form(&[("csrf_token", "anything")]).send(&router).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER);
        assert!(answer.headers[header::LOCATION].to_str().unwrap().starts_with("/login"), "{:?}", answer.headers);
    }
}

on_every_backend! {
    async fn a_change_needs_the_sessions_csrf_token_and_a_viewer_may_not_make_one(db: TestDb) {
        let router = router(&db.store).await;
        let (cookie, csrf) = sign_in(&router, "ops").await;
        let post = |token: Option<&str>, cookie: &str| {
            ask(Method::POST, "/api/reseller/programs/sync-stream").session(cookie, token)
        };
        let answer = post(None, &cookie).send(&router).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
        assert!(answer.body["error"]["message"].as_str().unwrap().contains("CSRF"), "{}", answer.body);
        let answer = post(Some("forged"), &cookie).send(&router).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN);
        let (other_cookie, other_csrf) = sign_in(&router, "view").await;
        let answer = post(Some(&csrf), &other_cookie).send(&router).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "another session's token");
        let answer = post(Some(&other_csrf), &other_cookie).send(&router).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "a viewer cannot start a sync: {}", answer.body);
    }
}

on_every_backend! {
    async fn a_page_form_without_the_sessions_token_is_refused_with_a_403_page(db: TestDb) {
        let router = router(&db.store).await;
        let (cookie, csrf) = sign_in(&router, "ops").await;
        let logout = |fields: &[(&str, &str)]| ask(Method::POST, "/logout").session(&cookie, None).form(fields);
        for fields in [&[][..], &[("csrf_token", "forged")][..], &[("csrf_token", "")][..]] {
            let answer = logout(fields).send(&router).await;
            assert_eq!(answer.status, StatusCode::FORBIDDEN, "{fields:?}");
            assert!(answer.is_html(), "{fields:?}: {:?}", answer.headers);
        }
        // The API's logout wants the token in its header.
        let answer = ask(Method::POST, "/api/auth/logout").session(&cookie, None).send(&router).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
        // The session is still alive after all that; the right token ends it.
        let answer = logout(&[("csrf_token", &csrf)]).send(&router).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER);
        let answer = ask(Method::GET, "/api/auth/me").session(&cookie, None).send(&router).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "signed out: {}", answer.body);
    }
}

on_every_backend! {
    async fn a_create_with_bad_fields_is_refused_before_yelp_is_asked_naming_each_field(db: TestDb) {
        let router = router(&db.store).await;
        let (cookie, csrf) = sign_in(&router, "ops").await;
        let draft = json!({"business_id": "", "program_name": "NOT_A_TYPE", "start": "yesterday", "budget": "lots", "colour": "red"});
        let answer = ask(Method::POST, "/api/reseller/program/create")
            .session(&cookie, Some(&csrf)).json(&draft).send(&router).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
        let text = answer.body.to_string();
        for field in ["program_name", "start", "budget", "colour"] {
            assert!(text.contains(field), "{field} is named: {}", answer.body);
        }
        let answer = ask(Method::POST, "/api/reseller/program/create")
            .header(header::CONTENT_TYPE, "application/json")
            .session(&cookie, Some(&csrf)).send(&router).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "an empty body: {}", answer.body);
        let mut broken = ask(Method::POST, "/api/reseller/program/create").session(&cookie, Some(&csrf));
        broken.body = Body::from("{not json");
        let answer = broken.header(header::CONTENT_TYPE, "application/json").send(&router).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    }
}

on_every_backend! {
    async fn a_bad_parameter_or_body_field_is_a_400_naming_it(db: TestDb) {
        let router = router(&db.store).await;
        let (cookie, _) = sign_in(&router, "ops").await;
        for (query, field) in [("limit=lots", "limit"), ("colour=red", "colour"), ("search=a%00b", "search")] {
            let answer = ask(Method::GET, &format!("/api/reseller/programs?{query}"))
                .session(&cookie, None).send(&router).await;
            assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{query}: {}", answer.body);
            assert!(answer.is_json());
            assert_eq!(answer.field(), field, "{query}: {}", answer.body);
        }
        // Text with a control character is refused where it enters, naming its field.
        let answer = ask(Method::POST, "/api/auth/login")
            .json(&json!({"username": "o\u{1b}ps", "password": "ops-password"})).send(&router).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
        assert_eq!(answer.field(), "username", "{}", answer.body);
        // The pages refuse the same (the query's extractor answers its JSON face there too).
        let answer = ask(Method::GET, "/programs?search=a%00b").browser_accept().session(&cookie, None).send(&router).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
        assert_eq!(answer.field(), "search", "{}", answer.body);
    }
}

on_every_backend! {
    async fn an_unknown_path_is_a_json_404_for_the_api_and_an_html_page_for_a_browser(db: TestDb) {
        let router = router(&db.store).await;
        let answer = ask(Method::GET, "/api/no-such-endpoint").browser_accept().send(&router).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND);
        assert!(answer.is_json(), "{}", answer.body);
        assert!(answer.body["error"].is_object(), "{}", answer.body);

        let answer = ask(Method::GET, "/no-such-page").browser_accept().send(&router).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND);
        assert!(answer.is_html());
        let html = scraper::Html::parse_document(answer.body.as_str().unwrap());
        assert!(html.select(&scraper::Selector::parse("main, body").unwrap()).next().is_some());

        let answer = ask(Method::DELETE, "/healthz").send(&router).await;
        assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
    }
}

on_every_backend! {
    async fn a_program_the_workspace_does_not_have_is_a_404_for_the_api_and_the_pages(db: TestDb) {
        let router = router(&db.store).await;
        let (cookie, _) = sign_in(&router, "ops").await;
        let answer = ask(Method::GET, "/api/reseller/program_info/NO-SUCH-PROGRAM")
            .session(&cookie, None).send(&router).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{}", answer.body);
        assert_eq!(answer.body["error"]["code"], "not_found", "{}", answer.body);
        for page in ["/edit/NO-SUCH-PROGRAM", "/program-status/NO-SUCH-PROGRAM"] {
            let answer = ask(Method::GET, page).browser_accept().session(&cookie, None).send(&router).await;
            assert_eq!(answer.status, StatusCode::NOT_FOUND, "{page}");
            assert!(answer.is_html(), "{page}: {:?}", answer.headers);
        }
    }
}
