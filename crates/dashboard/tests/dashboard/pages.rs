//! The HTML pages as a browser without JavaScript gets them: redirects, forms, and what the markup holds,
//! asserted with CSS selectors (the selector contract the browser tests rely on).

use std::time::Duration;

use chrono::Utc;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use reqwest::{Method, StatusCode};
use scraper::{ElementRef, Html, Selector};
use serde_json::{Value, json};

use crate::helpers::{TestDb, YELP_PASSWORD, on_every_backend};
use crate::web::{ALICE, OLGA, Session, TestApp, VICTOR};

/// An HTTP client that, like a test should, sees redirects instead of following them.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// A page as fetched: status, headers, body and its parsed document.
pub(crate) struct Page {
    pub(crate) status: StatusCode,
    headers: HeaderMap,
    body: String,
    html: Html,
}

impl Page {
    async fn from(response: reqwest::Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap();
        let html = Html::parse_document(&body);
        Self {
            status,
            headers,
            body,
            html,
        }
    }

    fn all(&self, css: &str) -> Vec<ElementRef<'_>> {
        let selector = Selector::parse(css).unwrap();
        self.html.select(&selector).collect()
    }

    fn one(&self, css: &str) -> ElementRef<'_> {
        let found = self.all(css);
        assert_eq!(
            found.len(),
            1,
            "exactly one {css} in:\n{}",
            &self.body[..self.body.len().min(4000)]
        );
        found[0]
    }

    fn has(&self, css: &str) -> bool {
        !self.all(css).is_empty()
    }

    fn text(&self, css: &str) -> String {
        text(self.one(css))
    }

    fn attr(&self, css: &str, name: &str) -> String {
        self.one(css)
            .value()
            .attr(name)
            .unwrap_or_default()
            .to_owned()
    }

    fn location(&self) -> String {
        self.headers[LOCATION].to_str().unwrap().to_owned()
    }
}

/// An element's text with its whitespace collapsed.
fn text(element: ElementRef<'_>) -> String {
    element
        .text()
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

async fn get(app: &TestApp, path: &str, session: Option<&Session>) -> Page {
    let mut request = client().get(app.url(path)).header("accept", "text/html");
    if let Some(s) = session {
        request = request.header("cookie", &s.cookie);
    }
    Page::from(request.send().await.unwrap()).await
}

/// Posts a form as a browser does; with a session, its CSRF token goes in the `csrf_token` field.
async fn post_form(
    app: &TestApp,
    path: &str,
    session: Option<&Session>,
    fields: &[(&str, &str)],
) -> Page {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    if let Some(s) = session {
        form.append_pair("csrf_token", &s.csrf);
    }
    form.extend_pairs(fields);
    let mut request = client()
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.finish());
    if let Some(s) = session {
        request = request.header("cookie", &s.cookie);
    }
    Page::from(request.send().await.unwrap()).await
}

fn today() -> String {
    Utc::now().date_naive().to_string()
}

fn in_days(days: i64) -> String {
    (Utc::now().date_naive() + chrono::Duration::days(days)).to_string()
}

/// The ids of the programs the API lists for `query`, in order.
async fn api_ids(app: &TestApp, session: &Session, query: &str) -> Vec<String> {
    let (status, body) = app
        .get_json(&format!("/api/reseller/programs?{query}"), session)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["programs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["program_id"].as_str().unwrap().to_owned())
        .collect()
}

fn row_ids(page: &Page) -> Vec<String> {
    page.all("table#programs-table tbody tr[data-program-id]")
        .iter()
        .map(|r| r.value().attr("data-program-id").unwrap().to_owned())
        .collect()
}

/// Inline script or style, or an inline event handler, anywhere in the page: the CSP would block them.
fn inline_code(page: &Page) -> Vec<String> {
    let mut found = Vec::new();
    for element in page.all("*") {
        let e = element.value();
        if e.name() == "script" && e.attr("src").is_none() {
            found.push("a <script> without src".to_owned());
        }
        if e.name() == "style" {
            found.push("a <style> element".to_owned());
        }
        for (name, _) in e.attrs() {
            if name == "style" || name.starts_with("on") {
                found.push(format!("<{} {name}=…>", e.name()));
            }
        }
    }
    found
}

fn signed_in_app_cookie(page: &Page) -> Option<String> {
    page.headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("yelp_ads_session=") && !v.starts_with("yelp_ads_session=;"))
        .map(|v| v.split(';').next().unwrap().to_owned())
}

/// Opens the sign-in page and posts its form, carrying its token and cookie as a browser would.
pub(crate) async fn sign_in_with_form(
    app: &TestApp,
    next: &str,
    username: &str,
    password: &str,
) -> Page {
    let form = get(app, &format!("/login?next={next}"), None).await;
    assert_eq!(form.status, StatusCode::OK);
    let token = form.attr("form#login-form input[name=csrf_token]", "value");
    let next_field = form.attr("form#login-form input[name=next]", "value");
    let login_cookie = form
        .headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("yelp_ads_login="))
        .map(|v| v.split(';').next().unwrap().to_owned())
        .expect("the sign-in page sets its token cookie");
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("csrf_token", &token)
        .append_pair("next", &next_field)
        .append_pair("username", username)
        .append_pair("password", password)
        .finish();
    let response = client()
        .post(app.url("/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", login_cookie)
        .body(body)
        .send()
        .await
        .unwrap();
    Page::from(response).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_asked_for_without_signing_in_sends_the_visitor_to_sign_in_and_back() {
    let db = TestDb::sqlite().await;
    let app = TestApp::spawn(db.store.clone(), 5).await;
    let page = get(&app, "/programs?status=PAUSED&page=2", None).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        page.location(),
        "/login?next=%2Fprograms%3Fstatus%3DPAUSED%26page%3D2"
    );
    let root = get(&app, "/", None).await;
    assert_eq!(root.status, StatusCode::SEE_OTHER);
    assert_eq!(root.location(), "/programs");
    for path in ["/jobs", "/settings", "/create-program"] {
        let page = get(&app, path, None).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        assert!(page.location().starts_with("/login?next=%2F"), "{path}");
    }
    let posted = post_form(&app, "/create-program", None, &[("budget", "300")]).await;
    assert_eq!(posted.status, StatusCode::SEE_OTHER);
    assert!(posted.location().starts_with("/login"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sign_in_form_sets_the_session_cookie_and_goes_back_to_the_wanted_page() {
    let db = TestDb::sqlite().await;
    let app = TestApp::spawn(db.store.clone(), 5).await;
    let form = get(&app, "/login?next=%2Fjobs%3Fdays%3D30", None).await;
    form.one("form#login-form[method=post]");
    form.one("input#username[name=username]");
    form.one("input#password[name=password][type=password]");
    form.one("button#login-submit");
    form.one(r#"label[for="username"]"#);
    form.one(r#"label[for="password"]"#);
    assert!(!form.has("#login-error"));

    let signed_in = sign_in_with_form(&app, "%2Fjobs%3Fdays%3D30", ALICE.0, ALICE.1).await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
    assert_eq!(signed_in.location(), "/jobs?days=30");
    let cookie = signed_in_app_cookie(&signed_in).expect("a session cookie");
    let set = signed_in
        .headers
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect::<Vec<_>>();
    assert!(
        set.iter().any(|c| c.starts_with("yelp_ads_session=")
            && c.contains("HttpOnly")
            && c.contains("SameSite=Lax")),
        "{set:?}"
    );

    let response = client()
        .get(app.url("/jobs?days=30"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    let jobs = Page::from(response).await;
    assert_eq!(jobs.status, StatusCode::OK);
    assert!(
        !jobs
            .attr(r#"meta[name="csrf-token"]"#, "content")
            .is_empty()
    );
    for href in ["/programs", "/create-program", "/jobs", "/settings"] {
        jobs.one(&format!(r#"nav a[href="{href}"]"#));
    }
    jobs.one("form#logout-form[method=post][action=\"/logout\"] input[name=csrf_token]");
    assert!(jobs.text(".who").contains("alice"));
    assert!(jobs.text(".who").contains("Agency A"));

    // Already signed in, the sign-in page goes straight on.
    let again = client()
        .get(app.url("/login?next=/jobs"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    assert_eq!(again.headers()[LOCATION], "/jobs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_shows_the_form_again_with_the_error_and_no_session() {
    let db = TestDb::sqlite().await;
    let app = TestApp::spawn(db.store.clone(), 5).await;
    let page = sign_in_with_form(&app, "%2Fjobs", ALICE.0, "not-her-password").await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert_eq!(page.text("#login-error"), "Wrong username or password.");
    assert_eq!(
        page.attr("input#username", "value"),
        "alice",
        "the username is kept"
    );
    assert_eq!(
        page.attr("input#password", "value"),
        "",
        "the password is not"
    );
    assert_eq!(
        page.attr("form#login-form input[name=next]", "value"),
        "/jobs"
    );
    assert!(signed_in_app_cookie(&page).is_none());

    // A form without its token (posted from elsewhere) signs nobody in.
    let forged = post_form(
        &app,
        "/login",
        None,
        &[("username", ALICE.0), ("password", ALICE.1)],
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(forged.has("#login-error"));
    assert!(signed_in_app_cookie(&forged).is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_never_sends_anyone_to_another_site() {
    let db = TestDb::sqlite().await;
    let app = TestApp::spawn(db.store.clone(), 5).await;
    for next in [
        "%2F%2Fevil.com",
        "https%3A%2F%2Fevil.com%2Fx",
        "%2F%5Cevil.com",
        "evil.com",
    ] {
        let form = get(&app, &format!("/login?next={next}"), None).await;
        assert_eq!(
            form.attr("form#login-form input[name=next]", "value"),
            "/programs",
            "{next}"
        );
        let page = sign_in_with_form(&app, next, OLGA.0, OLGA.1).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{next}");
        assert_eq!(page.location(), "/programs", "{next}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_ends_the_session_and_needs_the_forms_token() {
    let db = TestDb::sqlite().await;
    let app = TestApp::spawn(db.store.clone(), 5).await;
    let session = app.login(OLGA).await;
    let forged = client()
        .post(app.url("/logout"))
        .header("cookie", &session.cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("csrf_token=forged")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        get(&app, "/jobs", Some(&session)).await.status,
        StatusCode::OK,
        "still signed in"
    );

    let out = post_form(&app, "/logout", Some(&session), &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location(), "/login");
    assert_eq!(
        get(&app, "/jobs", Some(&session)).await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assets_are_served_at_content_hashed_urls_and_cached_for_good() {
    let db = TestDb::sqlite().await;
    let app = TestApp::spawn(db.store.clone(), 5).await;
    let page = get(&app, "/login", None).await;
    let css = page.attr(r#"link[rel="stylesheet"]"#, "href");
    let scripts: Vec<String> = page
        .all("script[src]")
        .iter()
        .map(|s| s.value().attr("src").unwrap().to_owned())
        .collect();
    assert!(!scripts.is_empty());
    for (url, kind) in std::iter::once((css.clone(), "text/css"))
        .chain(scripts.iter().map(|s| (s.clone(), "text/javascript")))
    {
        let name = url.strip_prefix("/assets/").unwrap();
        let hash = name.split('.').nth(1).unwrap();
        assert!(
            hash.len() >= 8 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
            "{url}"
        );
        let response = client().get(app.url(&url)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{url}");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(kind),
            "{url}"
        );
        assert_eq!(
            response.headers()["cache-control"],
            "public, max-age=31536000, immutable"
        );
        assert!(!response.bytes().await.unwrap().is_empty());
    }
    // The icon: linked at its hashed URL, and answered at /favicon.ico too (browsers ask there).
    let icon = page.attr(r#"link[rel="icon"]"#, "href");
    assert!(
        icon.starts_with("/assets/favicon.") && icon.ends_with(".svg"),
        "{icon}"
    );
    for url in [icon.as_str(), "/favicon.ico"] {
        let response = client().get(app.url(url)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{url}");
        assert_eq!(response.headers()["content-type"], "image/svg+xml", "{url}");
        assert!(response.text().await.unwrap().starts_with("<svg"), "{url}");
    }
    let stem = css.rsplit_once('.').unwrap().0.rsplit_once('.').unwrap().0;
    for wrong in [
        format!("{stem}.0123456789ab.css"),
        format!("{stem}.css"),
        "/assets/nothing.0123456789ab.js".to_owned(),
    ] {
        let response = client().get(app.url(&wrong)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{wrong}");
    }
}

on_every_backend! {
    async fn every_page_is_under_a_strict_csp_with_no_inline_code_and_no_partner_password(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 40).await;
        let operator = app.synced().await;
        let admin = app.login(ALICE).await;
        let program = api_ids(&app, &admin, "program_type=CPC&limit=1").await.remove(0);
        let job = client()
            .post(app.url(&format!("/api/reseller/program/{program}/edit")))
            .header("cookie", &operator.cookie)
            .header("x-csrf-token", &operator.csrf)
            .json(&json!({"end": in_days(400)}))
            .send()
            .await
            .unwrap();
        assert_eq!(job.status(), StatusCode::ACCEPTED);
        let job_id = job.json::<Value>().await.unwrap()["job_id"].as_str().unwrap().to_owned();
        let mut pages = vec![("/login".to_owned(), None)];
        for path in [
            "/programs".to_owned(),
            "/programs?include_removed=true&sort=budget&order=desc".to_owned(),
            "/create-program".to_owned(),
            format!("/create-program?job={job_id}"),
            format!("/edit/{program}"),
            format!("/program-status/{program}"),
            "/jobs".to_owned(),
            format!("/jobs/{job_id}"),
            "/settings".to_owned(),
            "/no-such-page".to_owned(),
        ] {
            pages.push((path, Some(&admin)));
        }
        for (path, session) in pages {
            let page = get(&app, &path, session).await;
            assert!(page.status == StatusCode::OK || path == "/no-such-page", "{path}: {}", page.status);
            let csp = page.headers["content-security-policy"].to_str().unwrap();
            for directive in ["default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
                "connect-src 'self'", "object-src 'none'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'"] {
                assert!(csp.contains(directive), "{path}: {csp}");
            }
            assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{path}: {csp}");
            assert!(page.headers["content-type"].to_str().unwrap().starts_with("text/html"), "{path}");
            assert_eq!(inline_code(&page), Vec::<String>::new(), "{path}");
            assert!(!page.body.contains(YELP_PASSWORD), "{path} shows the partner password");
            page.one(r#"meta[name="csrf-token"]"#);
        }
        // An error page says what happened in words and what to do, inside the signed-in user's menu.
        let missing = get(&app, "/no-such-page", Some(&admin)).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        assert_eq!(missing.text("#error-title"), "Page not found");
        assert!(missing.text("#error-message").contains("no page at this address"), "{}", missing.text("#error-message"));
        assert!(missing.text("#error-next").contains("menu"));
        missing.one(r#"nav a[href="/programs"]"#);
        missing.one(r#"nav a[href="/settings"]"#);
        missing.one("form#logout-form input[name=csrf_token]");
        assert!(missing.text(".who").contains(ALICE.0));
        let unknown = get(&app, "/program-status/no-such-program", Some(&admin)).await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND);
        unknown.one(r#"nav a[href="/programs"]"#);
        unknown.one("form#logout-form");
        // Signed out, the same page offers to sign in, and the API keeps its JSON.
        let signed_out = get(&app, "/no-such-page", None).await;
        assert_eq!(signed_out.status, StatusCode::NOT_FOUND);
        assert!(!signed_out.has("nav"));
        assert_eq!(signed_out.attr("#error-home", "href"), "/login");
        let api = client().get(app.url("/api/no-such-endpoint")).send().await.unwrap();
        assert_eq!(api.status(), StatusCode::NOT_FOUND);
        assert_eq!(api.json::<Value>().await.unwrap()["error"]["code"], "not_found");
    }
}

on_every_backend! {
    async fn the_programs_page_lists_the_mirror_with_the_filters_sort_and_page_of_its_url(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 120).await;
        let session = app.synced().await;
        let viewer = app.login(VICTOR).await;

        // Opened bare: the programs running today, those spending most first (the API keeps its own
        // defaults: every program, newest start first).
        let bare = get(&app, "/programs", Some(&viewer)).await;
        assert_eq!(bare.status, StatusCode::OK);
        let (_, current) = app.get_json("/api/reseller/programs?status=CURRENT&limit=1", &session).await;
        let current = current["total_count"].as_u64().unwrap();
        assert!(current > 0 && current < 120, "{current}");
        assert_eq!(row_ids(&bare), api_ids(&app, &session, "status=CURRENT&sort=ad_cost&order=desc&limit=50").await);
        assert_eq!(bare.attr("select[name=status] option[selected]", "value"), "CURRENT");
        assert_eq!(bare.text("th[aria-sort=descending] a"), "Spend ▼");
        let shown = current.min(50);
        assert_eq!(bare.text("#page-range"), format!("1–{shown} of {current}"));
        if current <= 50 {
            assert_eq!(bare.text("#program-count"), format!("{current} current programs"));
        } else {
            assert_eq!(bare.text("#program-count"), format!("Showing 1–50 of {current} current programs"));
        }
        assert_ne!(row_ids(&bare), api_ids(&app, &session, "limit=50").await, "not the API's default");

        // Every status: 120 programs in three pages, "1–50 of 120", first, previous, next, last, a jump.
        let first = get(&app, "/programs?status=ALL", Some(&viewer)).await;
        assert_eq!(first.status, StatusCode::OK);
        assert_eq!(row_ids(&first), api_ids(&app, &session, "sort=ad_cost&order=desc&limit=50").await);
        assert_eq!(first.text("#program-count"), "Showing 1–50 of 120 programs");
        assert_eq!(first.text("#page-range"), "1–50 of 120");
        assert!(!first.has("a[rel=prev]"));
        assert!(!first.has("a#page-first"));
        assert_eq!(first.attr("a#page-last", "href"), "/programs?status=ALL&page=3");
        first.one(r#"form#page-jump[method=get][action="/programs"]"#);
        first.one(r#"form#page-jump input[type=hidden][name=status][value=ALL]"#);
        first.one(r#"form#page-jump input#page-jump-number[name=page][type=number][min="1"][max="3"][value="1"]"#);
        first.one(r#"label[for=page-jump-number]"#);
        let next = first.attr("a[rel=next]", "href");
        assert_eq!(next, "/programs?status=ALL&page=2");
        for css in ["form#program-filters[method=get]", "form#program-filters select[name=status]",
            "form#program-filters select[name=program_type]", "form#program-filters input[name=search]",
            "form#program-filters input[name=business_id][data-business-picker]", "form#program-filters select[name=page_size]",
            "form#program-filters button#apply-filters", "#last-synced"] {
            first.one(css);
        }
        for row in first.all("table#programs-table tbody tr[data-program-id]") {
            assert_eq!(row.select(&Selector::parse("td").unwrap()).count(), 9, "no action column for a viewer");
        }

        let second = get(&app, &next, Some(&viewer)).await;
        assert_eq!(row_ids(&second), api_ids(&app, &session, "sort=ad_cost&order=desc&limit=50&offset=50").await);
        assert_eq!(second.attr("a[rel=prev]", "href"), "/programs?status=ALL");
        assert_eq!(second.attr("a#page-first", "href"), "/programs?status=ALL");
        let third = get(&app, &second.attr("a[rel=next]", "href"), Some(&viewer)).await;
        assert_eq!(row_ids(&third).len(), 20);
        assert_eq!(third.text("#program-count"), "Showing 101–120 of 120 programs");
        assert_eq!(third.text("#page-range"), "101–120 of 120");
        assert!(!third.has("a[rel=next]"));
        assert!(!third.has("a#page-last"));
        // What the jump form sends: the same view at the page typed.
        let jumped = get(&app, "/programs?status=ALL&page=3", Some(&viewer)).await;
        assert_eq!(row_ids(&jumped), row_ids(&third));

        // Filters and sort from the URL, as the list API reads the same names.
        let query = "status=CURRENT&program_type=CPC&sort=budget&order=desc";
        let cpc = get(&app, &format!("/programs?{query}&page_size=25"), Some(&viewer)).await;
        assert_eq!(row_ids(&cpc), api_ids(&app, &session, &format!("{query}&limit=25")).await);
        assert_eq!(cpc.attr("select[name=status] option[selected]", "value"), "CURRENT");
        assert_eq!(cpc.attr("select[name=program_type] option[selected]", "value"), "CPC");
        assert_eq!(cpc.attr("select[name=page_size] option[selected]", "value"), "25");
        assert_eq!(cpc.attr("th[aria-sort=descending] a", "href"), "/programs?status=CURRENT&program_type=CPC&sort=budget&order=asc&page_size=25");
        for cell in cpc.all("table#programs-table tbody tr td:nth-child(2)") {
            assert_eq!(text(cell), "CPC");
        }
        let budgets: Vec<i64> = cpc.all("table#programs-table tbody tr td:nth-child(7)").iter()
            .map(|c| text(*c)).filter(|t| t != "—")
            .map(|t| t.replace(['$', ',', '.'], "").parse().unwrap()).collect();
        assert!(budgets.windows(2).all(|w| w[0] >= w[1]), "{budgets:?}");

        let business = app.sim.programs().await[0]["yelp_business_id"].as_str().unwrap().to_owned();
        let of_business = get(&app, &format!("/programs?business_id={business}"), Some(&viewer)).await;
        assert_eq!(row_ids(&of_business), api_ids(&app, &session, &format!("business_id={business}&sort=ad_cost&order=desc")).await);
        assert_eq!(of_business.attr("input[name=business_id]", "value"), business);
        let search = &row_ids(&first)[7][..10];
        let searched = get(&app, &format!("/programs?search={search}"), Some(&viewer)).await;
        assert!(row_ids(&searched).contains(&row_ids(&first)[7]));
        assert_eq!(searched.attr("input[name=search]", "value"), *search);
        // Part of a business's name, in other case, finds its programs on the page and in the API.
        let named = app.store.business_profile(&app.workspace_id, &business).await.unwrap().unwrap();
        let name = named.name.expect("the sync names businesses");
        let word = name.split_whitespace().find(|w| w.len() >= 4 && w.chars().all(char::is_alphanumeric)).expect("a plain word").to_uppercase();
        let fragment = &word[1..];
        let by_name = get(&app, &format!("/programs?search={fragment}&page_size=100"), Some(&viewer)).await;
        let api = api_ids(&app, &session, &format!("search={fragment}&sort=ad_cost&order=desc&limit=100")).await;
        assert_eq!(row_ids(&by_name), api);
        let every = api_ids(&app, &session, &format!("search={fragment}&limit=500")).await;
        let of_business = api_ids(&app, &session, &format!("business_id={business}&limit=500")).await;
        assert!(!of_business.is_empty() && of_business.iter().all(|id| every.contains(id)), "{name}: {fragment}");
        // The business filter typed as text (no script to pick an id): businesses whose names hold it.
        let typed = fragment.to_lowercase();
        let by_business = get(&app, &format!("/programs?business_id={typed}&page_size=200"), Some(&viewer)).await;
        let rows = row_ids(&by_business);
        assert!(of_business.iter().all(|id| rows.contains(id)), "{name}: {typed}: {rows:?}");
        assert!(rows.iter().all(|id| every.contains(id)), "only programs of businesses so named: {typed}");
        assert!(rows.len() < 200, "the list narrowed");
        assert_eq!(by_business.attr("input[name=business_id]", "value"), typed);

        // A bad parameter is an HTML page naming it, not a 500.
        let bad = get(&app, "/programs?status=ACTIVATED", Some(&viewer)).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert!(bad.text("#error-message").contains("status"));
    }
}

on_every_backend! {
    async fn removed_programs_are_hidden_unless_asked_for_and_then_marked_removed(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 30).await;
        let session = app.synced().await;
        let gone = app.sim.programs().await[4]["program_id"].as_str().unwrap().to_owned();
        app.sim.remove_program(&gone).await;
        app.synced().await;

        let hidden = get(&app, &format!("/programs?search={gone}"), Some(&session)).await;
        assert!(row_ids(&hidden).is_empty());
        assert!(hidden.text("#programs-empty").contains("No programs match these filters"));
        assert!(!hidden.has("table#programs-table"));
        assert_eq!(hidden.text("#program-count"), "No programs");

        let shown = get(&app, &format!("/programs?search={gone}&include_removed=true"), Some(&session)).await;
        assert_eq!(row_ids(&shown), std::slice::from_ref(&gone));
        shown.one(&format!(r#"tr[data-program-id="{gone}"].removed .badge-removed"#));
        assert!(shown.has("input[name=include_removed][checked]"));
        let all = get(&app, "/programs?include_removed=true&page_size=100", Some(&session)).await;
        assert_eq!(all.text("#program-count"), "30 programs");
        // Removed is what its status says, not Yelp's last ACTIVE.
        let removed_row = shown.one(&format!(r#"tr[data-program-id="{gone}"]"#));
        let status = text(removed_row.select(&Selector::parse(".c-status .badge").unwrap()).next().unwrap());
        assert_eq!(status, "Removed");

        let status = get(&app, &format!("/program-status/{gone}"), Some(&session)).await;
        assert!(status.text("#program-synced").starts_with("Removed at Yelp"));
        assert!(!status.has("a[href^=\"/edit/\"]"), "a removed program cannot be edited");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_mirror_says_what_to_do() {
    let db = TestDb::sqlite().await;
    let app = TestApp::spawn(db.store.clone(), 10).await;
    let operator = app.login(OLGA).await;
    let page = get(&app, "/programs", Some(&operator)).await;
    assert!(page.text("#programs-empty").contains("Sync Programs"));
    page.one("#sync-panel[hidden][data-state]");
    page.one(r#"#sync-progress[role=progressbar][aria-valuenow="0"][aria-valuemin="0"][aria-valuemax="100"]"#);
    page.one("#sync-message");
    page.one("button#sync-retry[hidden]");
    page.one("button#sync-button[data-change]");
    assert!(page.text("#last-synced").contains("not been synced"));
    let viewer = app.login(VICTOR).await;
    let page = get(&app, "/programs", Some(&viewer)).await;
    assert!(page.text("#programs-empty").contains("operator or admin"));
    assert!(!page.has("#sync-panel"), "viewers do not start syncs");
}

on_every_backend! {
    async fn an_invalid_budget_comes_back_next_to_its_field_as_typed_and_reaches_no_one(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 20).await;
        let session = app.synced().await;
        let business = app.sim.good_business().await;
        app.sim.control(Method::DELETE, "/_sim/stats", None).await;
        let page = post_form(&app, "/create-program", Some(&session), &[
            ("business_id", &business), ("program_name", "CPC"), ("start", &today()), ("end", ""),
            ("budget", "10.5"), ("is_autobid", "true"), ("max_bid", ""), ("pacing_method", ""),
            ("fee_period", ""), ("ad_categories", ""), ("promotion_code", ""),
        ]).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST);
        assert_eq!(page.text(r#".field-error[data-field="budget"]"#), "Budget must be at least $25.00");
        assert_eq!(page.attr("form#program-form input#budget[name=budget]", "value"), "10.5");
        assert_eq!(page.attr("input#budget", "aria-invalid"), "true");
        assert_eq!(page.attr("input#business_id", "value"), business);
        assert_eq!(page.attr("select#program_name option[selected]", "value"), "CPC");
        assert!(page.has("input#is_autobid[checked]"));
        assert_eq!(page.text("#max_bid-hint"), "Without autobid; at least $0.50.");
        assert!(!page.has("#tracker-slot #job-tracker"));
        assert_eq!(app.sim.control(Method::GET, "/_sim/stats", None).await["requests"], json!({}), "nothing reached Yelp");
        let (_, history) = app.get_json("/api/reseller/job-history", &session).await;
        assert_eq!(history["total"], 0, "no job");

        // Every failing field at once, each by its own field; a non-CPC type refuses CPC fields.
        let page = post_form(&app, "/create-program", Some(&session), &[
            ("business_id", ""), ("program_name", "EP"), ("budget", "300"), ("end", "2001-01-01"),
        ]).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST);
        for field in ["business_id", "budget", "end"] {
            page.one(&format!(r#".field-error[data-field="{field}"]"#));
        }
    }
}

on_every_backend! {
    async fn a_create_posted_without_javascript_becomes_a_job_whose_tracker_leads_to_the_new_program(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 20).await;
        let session = app.synced().await;
        let business = app.sim.good_business().await;
        let page = post_form(&app, "/create-program", Some(&session), &[
            ("business_id", &business), ("program_name", "CPC"), ("start", &today()), ("end", &in_days(90)),
            ("budget", "300"), ("is_autobid", "true"), ("max_bid", ""), ("pacing_method", "paced"),
            ("fee_period", ""), ("ad_categories", ""), ("promotion_code", ""),
        ]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        let location = page.location();
        let job_id = location.strip_prefix("/create-program?job=").expect(&location).to_owned();

        let tracking = get(&app, &location, Some(&session)).await;
        assert_eq!(tracking.status, StatusCode::OK);
        let status = tracking.attr("#tracker-slot #job-tracker", "data-status");
        assert!(["PENDING", "IN_PROGRESS", "COMPLETED"].contains(&status.as_str()), "{status}");
        assert_eq!(tracking.text("#tracker-slot #job-id"), job_id);
        tracking.one(r#"#tracker-slot #job-progress[role=progressbar][aria-valuemin="0"][aria-valuemax="100"][aria-valuenow]"#);
        tracking.one("#tracker-slot #job-status");
        tracking.one("#tracker-slot button#stay-here");
        assert_eq!(tracking.attr("input#budget", "value"), "300.00", "the form keeps what the job asked");

        let job = crate::jobs::wait_for_end(&app, &session, &job_id).await.1;
        assert_eq!(job["status"], "COMPLETED", "{job}");
        let program_id = job["program_id"].as_str().unwrap();
        let done = get(&app, &location, Some(&session)).await;
        assert_eq!(done.attr("#tracker-slot #job-tracker", "data-status"), "COMPLETED");
        assert_eq!(done.text("#tracker-slot #job-status"), "Completed");
        assert_eq!(done.attr("#tracker-slot a#job-program-link", "href"), format!("/program-status/{program_id}"));
        assert!(done.all("#tracker-slot #job-reasons li").is_empty());

        let status = get(&app, &format!("/program-status/{program_id}"), Some(&session)).await;
        assert_eq!(status.text("#program-id"), program_id);
        assert_eq!(status.text("#program-type"), "CPC");
        assert_eq!(status.text("#program-budget"), "$300.00");
        assert!(status.text("#program-synced").starts_with("Last synced"));
        status.one(&format!(r#"#program-jobs tr[data-job-id="{job_id}"][data-status="COMPLETED"]"#));
        let jobs = get(&app, "/jobs", Some(&session)).await;
        jobs.one(&format!(r#"#job-history tr[data-job-id="{job_id}"]"#));
    }
}

on_every_backend! {
    async fn the_create_form_takes_a_business_by_name_without_javascript_and_shows_its_card(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 60).await;
        let session = app.synced().await;
        let (_, all) = app.get_json("/api/reseller/businesses?limit=200", &session).await;
        let all = all["businesses"].as_array().unwrap().clone();
        let folded = |b: &Value| dashboard::store::search_form(b["name"].as_str().unwrap());
        // A business whose whole name no other has inside its own; and a word that several names share.
        let one = all.iter().find(|b| b["inactive_reason"].is_null()
            && all.iter().filter(|o| folded(o).contains(&folded(b))).count() == 1).unwrap().clone();
        let id = one["business_id"].as_str().unwrap();
        let name = one["name"].as_str().unwrap();

        // The card of a business named by the URL (the businesses page links so): who, and its programs.
        let form = get(&app, &format!("/create-program?business_id={id}"), Some(&session)).await;
        assert_eq!(form.attr("input#business_id", "value"), id);
        assert!(form.text("#business-card .business-card-name").starts_with(name), "{}", form.text("#business-card"));
        assert_eq!(form.all("#business-card .business-card-programs li").len() as u64, one["live_programs"].as_u64().unwrap().min(8));

        let fields = |business: &str| vec![
            ("business_id", business.to_owned()), ("program_name", "CPC".into()), ("start", today()), ("end", in_days(90)),
            ("budget", "300".into()), ("is_autobid", "true".into()), ("pacing_method", "paced".into()),
        ];
        let (app, session) = (&app, &session);
        let send = |business: String| {
            let fields = fields(&business);
            async move {
                let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                post_form(app, "/create-program", Some(session), &pairs).await
            }
        };
        // Its name in another case is that business.
        let made = send(name.to_uppercase()).await;
        assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
        let job_id = made.location().split("job=").nth(1).unwrap().to_owned();
        let job = crate::jobs::wait_for_end(app, session, &job_id).await.1;
        assert_eq!(job["status"], "COMPLETED", "{job}");
        let made = app.sim.control(Method::GET, &format!("/_sim/programs/{}", job["program_id"].as_str().unwrap()), None).await;
        assert_eq!(made["yelp_business_id"], id, "{made}");
        // A word several names have is refused, naming them, and nothing is asked of Yelp.
        let words: Vec<String> = all.iter().flat_map(|b| folded(b).split(' ').map(str::to_owned).collect::<Vec<_>>()).collect();
        let shared = words.iter().filter(|w| w.len() > 3).find(|w| all.iter().filter(|b| folded(b).contains(w.as_str())).count() > 1).unwrap().clone();
        let refused = send(shared.clone()).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{shared}");
        let error = refused.text("#business_id-error");
        assert!(error.contains(&format!("\"{shared}\" matches")) && error.contains("Pick one"), "{error}");
        assert_eq!(refused.attr("input#business_id", "value"), shared, "kept as typed");
    }
}

on_every_backend! {
    async fn the_edit_page_is_filled_with_the_program_locks_a_started_start_and_its_changes_are_jobs(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 60).await;
        let session = app.synced().await;
        let today = today();
        let program = app.sim.programs().await.into_iter().find(|p| {
            p["program_type"] == "CPC" && p["program_status"] == "ACTIVE" && p["program_pause_status"] == "NOT_PAUSED"
                && p["start_date"].as_str().unwrap() <= today.as_str()
                && p["end_date"].as_str().unwrap() > today.as_str()
        }).expect("a running CPC program");
        let id = program["program_id"].as_str().unwrap();
        let page = get(&app, &format!("/edit/{id}"), Some(&session)).await;
        assert_eq!(page.status, StatusCode::OK);
        let budget = program["program_metrics"]["budget"].as_i64().unwrap();
        assert_eq!(page.attr("form#program-form input#budget", "value"), format!("{}.{:02}", budget / 100, budget % 100));
        page.one("form#program-form input#start[readonly]");
        assert!(page.text("#start-locked").contains("can no longer change"));
        page.one("form#program-form input#future_budget_date[name=future_budget_date]");
        page.one("button#program-submit");
        for button in ["#pause-button", "#duplicate-button", "#end-button"] {
            page.one(&format!("button{button}[data-change]"));
        }
        assert!(!page.has("#resume-button"), "a running program is not resumed");
        // The business by name and city, its id beside it, here and in the end dialog.
        let business = program["yelp_business_id"].as_str().unwrap();
        let (_, known) = app.get_json(&format!("/api/reseller/businesses/{business}"), &session).await;
        let (name, city) = (known["name"].as_str().unwrap(), known["city"].as_str().unwrap());
        let named = format!("{name}, {city}");
        assert!(page.text("#edit-business").contains(&named) && page.text("#edit-business").contains(business), "{}", page.text("#edit-business"));
        assert_eq!(page.attr("#edit-business a.business", "href"), format!("/programs?business_id={business}"));
        assert_eq!(page.text("#end-dialog-title"), format!("End program {id} of {named}?"));

        // The start date shown read-only is not sent: only the budget changes.
        let start = page.attr("input#start", "value");
        let end = page.attr("input#end", "value");
        let max_bid = page.attr("input#max_bid", "value");
        let categories = page.attr("input#ad_categories", "value");
        let mut fields = vec![("start", start.as_str()), ("end", end.as_str()), ("budget", "450"),
            ("future_budget_date", ""), ("max_bid", max_bid.as_str()), ("pacing_method", ""),
            ("ad_categories", categories.as_str())];
        if page.has("input#is_autobid[checked]") {
            fields.push(("is_autobid", "true"));
        }
        let posted = post_form(&app, &format!("/edit/{id}"), Some(&session), &fields).await;
        assert_eq!(posted.status, StatusCode::SEE_OTHER, "{}", posted.body);
        let job_id = posted.location().split("job=").nth(1).unwrap().to_owned();
        assert!(posted.location().starts_with(&format!("/edit/{id}?job=")));
        assert_eq!(crate::jobs::wait_for_end(&app, &session, &job_id).await.1["status"], "COMPLETED");
        let status = get(&app, &format!("/program-status/{id}"), Some(&session)).await;
        assert_eq!(status.text("#program-budget"), "$450.00");
        assert!(status.text("#program-business").starts_with(&named), "{}", status.text("#program-business"));
        // The job names the business on its tracker, in the jobs list and in the program's history.
        for path in [format!("/edit/{id}?job={job_id}"), format!("/jobs/{job_id}")] {
            let tracked = get(&app, &path, Some(&session)).await;
            assert_eq!(tracked.text("#job-business"), named, "{path}");
            assert_eq!(tracked.attr("#job-business a.business", "title"), format!("{business} · its programs"), "{path}");
        }
        for path in ["/jobs".to_owned(), format!("/program-status/{id}")] {
            let listed = get(&app, &path, Some(&session)).await;
            let row = listed.all(&format!("tr[data-job-id='{job_id}']")).into_iter().next().unwrap_or_else(|| panic!("{path}"));
            assert!(text(row).contains(&named), "{path}: {}", text(row));
        }

        // Ending asks first without JavaScript.
        let ask = post_form(&app, &format!("/edit/{id}/end"), Some(&session), &[]).await;
        assert_eq!(ask.status, StatusCode::OK);
        ask.one("#end-confirm-panel button#end-confirm");
        assert!(ask.text("#end-confirm-title").starts_with(&format!("End program {id} of {named}?")));
        let ended = post_form(&app, &format!("/edit/{id}/end"), Some(&session), &[("confirm", "yes")]).await;
        assert_eq!(ended.status, StatusCode::SEE_OTHER);
        let end_job = ended.location().split("job=").nth(1).unwrap().to_owned();
        assert_eq!(crate::jobs::wait_for_end(&app, &session, &end_job).await.1["status"], "COMPLETED");

        // A refused action comes back on the page with why.
        let paused = post_form(&app, &format!("/edit/{id}/resume"), Some(&session), &[]).await;
        assert_eq!(paused.status, StatusCode::BAD_REQUEST);
        assert!(paused.text("#action-error").contains("not paused"));
    }
}

on_every_backend! {
    async fn a_viewer_sees_no_control_that_changes_anything_and_cannot_open_the_forms(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 20).await;
        let operator = app.synced().await;
        let viewer = app.login(VICTOR).await;
        let program = api_ids(&app, &operator, "program_type=CPC&limit=1").await.remove(0);
        let job = client()
            .post(app.url(&format!("/api/reseller/program/{program}/edit")))
            .header("cookie", &operator.cookie)
            .header("x-csrf-token", &operator.csrf)
            .json(&json!({"end": in_days(500)}))
            .send()
            .await
            .unwrap();
        let job_id = job.json::<Value>().await.unwrap()["job_id"].as_str().unwrap().to_owned();

        for path in ["/programs".to_owned(), format!("/program-status/{program}"), "/jobs".to_owned(), format!("/jobs/{job_id}")] {
            let page = get(&app, &path, Some(&viewer)).await;
            assert_eq!(page.status, StatusCode::OK, "{path}");
            assert_eq!(page.all("[data-change]").len(), 0, "{path} shows a change control to a viewer");
            assert!(!page.has(r#"nav a[href="/settings"]"#), "{path}");
            page.one(r#"nav a[href="/programs"]"#);
            page.one("form#logout-form");
        }
        for path in ["/create-program".to_owned(), format!("/edit/{program}"), "/settings".to_owned()] {
            let page = get(&app, &path, Some(&viewer)).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
            assert!(page.headers["content-type"].to_str().unwrap().starts_with("text/html"));
            page.one("#error-message");
        }
        let posted = post_form(&app, "/create-program", Some(&viewer), &[("budget", "300")]).await;
        assert_eq!(posted.status, StatusCode::FORBIDDEN);

        let operator_page = get(&app, "/programs", Some(&operator)).await;
        assert!(operator_page.has("button#sync-button[data-change]"));
        assert!(operator_page.has(r#"nav a[href="/create-program"][data-change]"#));
        assert!(operator_page.has(r#"tr[data-program-id] a[href^="/edit/"][data-change]"#));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_form_without_the_sessions_token_is_refused() {
    let db = TestDb::sqlite().await;
    let app = TestApp::spawn(db.store.clone(), 5).await;
    let session = app.login(OLGA).await;
    let response = client()
        .post(app.url("/create-program"))
        .header("cookie", &session.cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("business_id=x&program_name=CPC&budget=300")
        .send()
        .await
        .unwrap();
    let page = Page::from(response).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.text("#error-message").contains("reload the page"));
}

on_every_backend! {
    async fn settings_are_for_admins_and_never_show_the_partner_password(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 5).await;
        let admin = app.login(ALICE).await;
        let operator = app.login(OLGA).await;
        let page = get(&app, "/settings", Some(&admin)).await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(page.attr("input#yelp_password[type=password]", "value"), "");
        assert!(page.text("#password-state").contains("is stored"));
        assert_eq!(page.attr("input#yelp_base_url", "value"), app.sim.base_url());
        let users: Vec<String> = page.all("#users-table tbody tr").iter().map(|r| text(*r)).collect();
        assert_eq!(users.len(), 3, "{users:?}");
        assert!(!page.body.contains(YELP_PASSWORD));

        for (method, path) in [(Method::GET, "/api/settings/credentials"), (Method::GET, "/api/settings/users"),
            (Method::POST, "/api/settings/test-connection")] {
            let response = app.request(method, path, Some(&operator)).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
        }
        assert_eq!(get(&app, "/settings", Some(&operator)).await.status, StatusCode::FORBIDDEN);

        let (status, credentials) = app.get_json("/api/settings/credentials", &admin).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(credentials, json!({"yelp_base_url": app.sim.base_url(), "yelp_username": crate::helpers::YELP_USER, "password_set": true}));
        let tested = app.request(Method::POST, "/api/settings/test-connection", Some(&admin)).send().await.unwrap();
        let tested: Value = tested.json().await.unwrap();
        assert_eq!(tested["ok"], true, "{tested}");
        assert!(tested["message"].as_str().unwrap().contains("5 programs"), "{tested}");
        // It names whose program Yelp lists first, from business_info, with the id.
        let message = tested["message"].as_str().unwrap();
        let at_yelp = app.sim.control(Method::GET, "/_sim/businesses", None).await;
        let named = at_yelp["businesses"].as_array().unwrap().iter().any(|b| {
            let id = b["business_id"].as_str().or(b["yelp_business_id"].as_str()).unwrap_or_default();
            message.contains(&format!("The first is for {}", b["name"].as_str().unwrap_or("?"))) && message.contains(id)
        });
        assert!(named, "{tested}");

        // A new (wrong) password is stored, never answered, and the test says Yelp refuses it.
        let saved = app.request(Method::POST, "/api/settings/credentials", Some(&admin))
            .json(&json!({"yelp_password": "a-wrong-partner-password"})).send().await.unwrap();
        assert_eq!(saved.status(), StatusCode::OK);
        let saved = saved.text().await.unwrap();
        assert!(!saved.contains("a-wrong-partner-password") && !saved.contains(YELP_PASSWORD), "{saved}");
        let tested = post_form(&app, "/settings/test-connection", Some(&admin), &[]).await;
        assert_eq!(tested.status, StatusCode::OK);
        assert!(tested.text("#connection-result").contains("rejected"), "{}", tested.text("#connection-result"));
        assert!(!tested.body.contains("a-wrong-partner-password"));

        // The page form puts it back (an empty password keeps the stored one).
        let back = post_form(&app, "/settings/credentials", Some(&admin), &[
            ("yelp_base_url", &app.sim.base_url()), ("yelp_username", crate::helpers::YELP_USER), ("yelp_password", YELP_PASSWORD),
        ]).await;
        assert_eq!(back.status, StatusCode::SEE_OTHER);
        let kept = post_form(&app, "/settings/credentials", Some(&admin), &[
            ("yelp_base_url", &app.sim.base_url()), ("yelp_username", crate::helpers::YELP_USER), ("yelp_password", ""),
        ]).await;
        assert_eq!(kept.status, StatusCode::SEE_OTHER);
        let tested = post_form(&app, "/settings/test-connection", Some(&admin), &[]).await;
        assert!(tested.text("#connection-result").starts_with("Connected"));
        let bad_url = post_form(&app, "/settings/credentials", Some(&admin), &[("yelp_base_url", "ftp://nowhere")]).await;
        assert_eq!(bad_url.status, StatusCode::BAD_REQUEST);
        assert!(bad_url.text("#settings-error").contains("http"));

        // Roles change by the page form or the API; nobody changes their own.
        let olga = page.all("#users-table tbody tr").into_iter()
            .find(|r| text(*r).contains("olga")).unwrap().value().attr("data-user-id").unwrap().to_owned();
        let changed = post_form(&app, &format!("/settings/users/{olga}/role"), Some(&admin), &[("role", "viewer")]).await;
        assert_eq!(changed.status, StatusCode::SEE_OTHER);
        let (_, users) = app.get_json("/api/settings/users", &admin).await;
        let role_of = |name: &str| users["users"].as_array().unwrap().iter().find(|u| u["username"] == name).unwrap()["role"].clone();
        assert_eq!(role_of("olga"), "viewer");
        assert!(users.to_string().find("password").is_none(), "{users}");
        let alice = users["users"].as_array().unwrap().iter().find(|u| u["username"] == "alice").unwrap()["id"].as_str().unwrap().to_owned();
        let own = app.request(Method::POST, &format!("/api/settings/users/{alice}/role"), Some(&admin))
            .json(&json!({"role": "viewer"})).send().await.unwrap();
        assert_eq!(own.status(), StatusCode::BAD_REQUEST);
        let own = post_form(&app, &format!("/settings/users/{alice}/role"), Some(&admin), &[("role", "viewer")]).await;
        assert!(own.text("#settings-error").contains("own role"));
    }
}

on_every_backend! {
    async fn the_features_page_sets_a_feature_without_javascript_and_keeps_what_was_typed_when_refused(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 30).await;
        let session = app.synced().await;
        let programs = app.sim.programs().await;
        let id = programs.iter()
            .find(|p| p["program_type"] == "CPC" && p["program_status"] == "ACTIVE")
            .and_then(|p| p["program_id"].as_str()).unwrap().to_owned();
        let path = format!("/program-features/{id}");
        let page = get(&app, &path, Some(&session)).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.has("form#feature-CUSTOM_RADIUS_TARGETING input[name=custom_radius]"));

        let refused = post_form(&app, &path, Some(&session), &[
            ("feature_type", "CUSTOM_RADIUS_TARGETING"), ("custom_radius", "61"), ("action", "save"),
        ]).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        assert_eq!(refused.attr("#feature-CUSTOM_RADIUS_TARGETING input[name=custom_radius]", "value"), "61");
        assert!(refused.text("#feature-CUSTOM_RADIUS_TARGETING [data-live-error]").contains("1 to 60 miles"));

        let saved = post_form(&app, &path, Some(&session), &[
            ("feature_type", "CUSTOM_RADIUS_TARGETING"), ("custom_radius", "25"), ("action", "save"),
        ]).await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER);
        assert_eq!(saved.location(), format!("{path}?saved=CUSTOM_RADIUS_TARGETING"));
        let status = get(&app, &format!("/program-status/{id}"), Some(&session)).await;
        assert!(status.text("#program-features li[data-feature=CUSTOM_RADIUS_TARGETING]").contains("25 miles"));

        let viewer = app.login(VICTOR).await;
        let page = get(&app, &path, Some(&viewer)).await;
        assert!(!page.has("form#feature-CUSTOM_RADIUS_TARGETING input[name=custom_radius]"), "a viewer reads only");
        let denied = post_form(&app, &path, Some(&viewer), &[
            ("feature_type", "CUSTOM_RADIUS_TARGETING"), ("custom_radius", "30"),
        ]).await;
        assert_eq!(denied.status, StatusCode::FORBIDDEN);
    }
}

on_every_backend! {
    async fn a_label_set_on_the_status_page_shows_in_the_list_and_is_found_by_search(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 30).await;
        let session = app.synced().await;
        let id = app.sim.programs().await[0]["program_id"].as_str().unwrap().to_owned();
        let set = post_form(&app, &format!("/program-status/{id}/custom-name"), Some(&session), &[
            ("custom_name", "  Été promo Café  "),
        ]).await;
        assert_eq!(set.status, StatusCode::SEE_OTHER);
        let status = get(&app, &format!("/program-status/{id}"), Some(&session)).await;
        assert_eq!(status.text("#program-label"), "Été promo Café");
        assert_eq!(status.attr("#custom-name", "value"), "Été promo Café");
        // Found by its label in any case, accents or not; the row shows it under the id.
        let found = get(&app, "/programs?search=ete%20promo%20cafe", Some(&session)).await;
        let rows = found.all("#programs-table tbody tr[data-program-id]");
        assert_eq!(rows.len(), 1, "{}", found.text("#program-count"));
        assert_eq!(rows[0].value().attr("data-program-id"), Some(id.as_str()));
        assert_eq!(found.text("#programs-table tbody tr .program-label"), "Été promo Café");
        let export = found.attr("#export-csv", "href");
        assert!(export.starts_with("/api/reseller/programs.csv?") && export.contains("search=ete+promo+cafe"), "{export}");
        let file = app.request(Method::GET, &export, Some(&session)).send().await.unwrap().text().await.unwrap();
        assert_eq!(file.lines().count(), 2, "the header and the one program: {file}");
        let too_long = "x".repeat(101);
        let refused = post_form(&app, &format!("/program-status/{id}/custom-name"), Some(&session), &[
            ("custom_name", too_long.as_str()),
        ]).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        let viewer = app.login(VICTOR).await;
        let denied = post_form(&app, &format!("/program-status/{id}/custom-name"), Some(&viewer), &[("custom_name", "x")]).await;
        assert_eq!(denied.status, StatusCode::FORBIDDEN);
        // The list filters on a feature from the page too.
        let filtered = get(&app, "/programs?active_feature=CALL_TRACKING", Some(&session)).await;
        assert_eq!(filtered.status, StatusCode::OK);
        assert_eq!(filtered.attr("#filter-feature option[selected]", "value"), "CALL_TRACKING");
    }
}

on_every_backend! {
    async fn portfolio_projects_and_photos_are_managed_from_the_features_page(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 300).await;
        let session = app.synced().await;
        let id = app.sim.programs().await.iter()
            .find(|p| p["program_type"] == "PORTFOLIO" && p["program_status"] == "ACTIVE")
            .and_then(|p| p["program_id"].as_str()).unwrap().to_owned();
        let page_path = format!("/program-features/{id}");
        let path = format!("{page_path}/portfolio");
        let made = post_form(&app, &path, Some(&session), &[("action", "new_project")]).await;
        assert_eq!(made.status, StatusCode::SEE_OTHER);
        let page = get(&app, &page_path, Some(&session)).await;
        let project = page.attr("#portfolio [data-project]", "data-project");
        assert!(!project.is_empty(), "the new project is listed");

        let refused = post_form(&app, &path, Some(&session), &[
            ("action", "save_project"), ("project_id", &project), ("name", "Kitchen"),
            ("service_offerings", "a, b, c, d, e"),
        ]).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        assert!(refused.text("#portfolio .alert-error").contains('4'), "{}", refused.text("#portfolio .alert-error"));
        let saved = post_form(&app, &path, Some(&session), &[
            ("action", "save_project"), ("project_id", &project), ("name", "Kitchen remodel"),
            ("description", "New cabinets\r\nand counters"), ("cost", "1000_5000"),
        ]).await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER);
        let added = post_form(&app, &path, Some(&session), &[
            ("action", "add_photo"), ("project_id", &project), ("photo_url", "https://cdn.example.com/after.jpg"),
            ("caption", "After"),
        ]).await;
        assert_eq!(added.status, StatusCode::SEE_OTHER);
        let page = get(&app, &page_path, Some(&session)).await;
        let card = format!("#project-{project}");
        assert!(page.text(&format!("{card} h3")).starts_with("Kitchen remodel"));
        assert_eq!(page.attr(&format!("{card} select[name=cost] option[selected]"), "value"), "1000_5000");
        assert!(page.text(&format!("{card} li[data-photo]")).contains("after.jpg"));
        let photo = page.attr(&format!("{card} li[data-photo]"), "data-photo");
        let removed = post_form(&app, &path, Some(&session), &[
            ("action", "delete_photo"), ("project_id", &project), ("photo_id", &photo),
        ]).await;
        assert_eq!(removed.status, StatusCode::SEE_OTHER);
        let page = get(&app, &page_path, Some(&session)).await;
        assert!(!page.has(&format!("{card} li[data-photo]")), "the photo is gone");
    }
}

on_every_backend! {
    async fn the_licenses_yelp_holds_are_listed_and_one_is_added_from_the_features_page(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 300).await;
        let session = app.synced().await;
        let id = app.sim.programs().await.iter()
            .find(|p| p["program_type"] == "VL" && p["program_status"] == "ACTIVE")
            .and_then(|p| p["program_id"].as_str()).unwrap().to_owned();
        let path = format!("/program-features/{id}");
        let added = post_form(&app, &path, Some(&session), &[
            ("feature_type", "VERIFIED_LICENSE"), ("license_number", "PL-7781"), ("license_trade", "Plumbing"),
            ("license_expiry_date", "2031-05-01"), ("action", "save"),
        ]).await;
        assert_eq!(added.status, StatusCode::SEE_OTHER);
        let page = get(&app, &path, Some(&session)).await;
        let row = page.all("#feature-VERIFIED_LICENSE table.licenses tbody tr").into_iter()
            .map(text).find(|r| r.contains("PL-7781")).expect("the new license is listed");
        assert!(row.contains("Plumbing") && row.contains("2031-05-01") && row.contains("PENDING"), "{row}");
        let bad = post_form(&app, &path, Some(&session), &[
            ("feature_type", "VERIFIED_LICENSE"), ("license_number", "PL-1"), ("license_expiry_date", "next May"),
            ("action", "save"),
        ]).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert_eq!(bad.attr("#feature-VERIFIED_LICENSE input[name=license_expiry_date]", "value"), "next May");
        assert!(bad.text("#feature-VERIFIED_LICENSE .field-error").contains("YYYY-MM-DD"), "the error is shown beside it");
    }
}
