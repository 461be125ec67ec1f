//! Sign-in throttling behind a reverse proxy, and HTTP Basic for scripts.

use std::time::Duration;

use dashboard::app::Application;
use dashboard::auth::{LOGIN_FAILURE_WINDOW_MS, LOGIN_LOCK_MS, MAX_LOGIN_FAILURES, hash_password};
use dashboard::store::{Role, now_ms};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{on_every_backend, test_config};
use crate::schedule::eventually;

async fn spawn(store: dashboard::store::Store, trust_forwarded_for: bool) -> String {
    let ws = store
        .create_workspace("Agency", "http://127.0.0.1:9", "p", None)
        .await
        .unwrap();
    for name in ["ann", "ben"] {
        let hash = hash_password(&format!("{name}-password")).unwrap();
        store
            .create_user(&ws.id, name, &hash, Role::Viewer)
            .await
            .unwrap();
    }
    let mut config = crate::helpers::test_config([1; 32]);
    config.trust_forwarded_for = trust_forwarded_for;
    format!("http://{}", crate::helpers::serve(config, store).await)
}

async fn login(
    http: &reqwest::Client,
    url: &str,
    user: &str,
    password: &str,
    from: &str,
) -> StatusCode {
    http.post(format!("{url}/api/auth/login"))
        .header("x-forwarded-for", format!("203.0.113.9, {from}"))
        .json(&json!({"username": user, "password": password}))
        .send()
        .await
        .unwrap()
        .status()
}

on_every_backend! {
    async fn behind_a_trusted_proxy_failures_lock_the_forwarded_address_not_everyone(db: TestDb) {
        let url = spawn(db.store.clone(), true).await;
        let http = reqwest::Client::new();
        for _ in 0..5 {
            assert_eq!(login(&http, &url, "ann", "wrong-guess", "198.51.100.1").await, StatusCode::BAD_REQUEST);
        }
        // That address is locked, even for another user with the right password...
        assert_eq!(login(&http, &url, "ben", "ben-password", "198.51.100.1").await, StatusCode::TOO_MANY_REQUESTS);
        // ...but other people behind the same proxy can still sign in.
        assert_eq!(login(&http, &url, "ben", "ben-password", "198.51.100.2").await, StatusCode::OK);
    }
}

on_every_backend! {
    async fn without_a_trusted_proxy_the_forwarded_header_is_ignored(db: TestDb) {
        let url = spawn(db.store.clone(), false).await;
        let http = reqwest::Client::new();
        for i in 0..5 {
            // A client cannot dodge the lock by inventing a new address each time.
            let status = login(&http, &url, "nobody", "wrong-guess", &format!("198.51.100.{i}")).await;
            assert_eq!(status, StatusCode::BAD_REQUEST);
        }
        assert_eq!(login(&http, &url, "ben", "ben-password", "198.51.100.77").await, StatusCode::TOO_MANY_REQUESTS);
    }
}

on_every_backend! {
    async fn basic_auth_caches_only_right_passwords_and_wrong_ones_still_count(db: TestDb) {
        let url = spawn(db.store.clone(), false).await;
        let http = reqwest::Client::new();
        let get = |user: &'static str, password: &'static str| {
            http.get(format!("{url}/api/reseller/programs")).basic_auth(user, Some(password)).send()
        };
        for _ in 0..3 {
            assert_eq!(get("ann", "ann-password").await.unwrap().status(), StatusCode::OK);
        }
        for _ in 0..5 {
            assert_eq!(get("ben", "not-it").await.unwrap().status(), StatusCode::UNAUTHORIZED);
        }
        assert_eq!(get("ben", "ben-password").await.unwrap().status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(get("ann", "ann-password").await.unwrap().status(), StatusCode::OK, "cached, so not locked out");
    }
}

on_every_backend! {
    async fn a_burst_of_basic_auth_requests_with_the_right_password_is_never_throttled(db: TestDb) {
        let url = spawn(db.store.clone(), false).await;
        let http = reqwest::Client::new();
        // More at once than the failures allowed: each would count as one until its check ended.
        let burst = (0..12).map(|_| {
            http.get(format!("{url}/api/reseller/programs")).basic_auth("ann", Some("ann-password")).send()
        });
        for answer in futures::future::join_all(burst).await {
            assert_eq!(answer.unwrap().status(), StatusCode::OK);
        }
        let wrong = (0..3).map(|_| {
            http.get(format!("{url}/api/reseller/programs")).basic_auth("ben", Some("not-it")).send()
        });
        for answer in futures::future::join_all(wrong).await {
            assert_eq!(answer.unwrap().status(), StatusCode::UNAUTHORIZED, "wrong ones still fail");
        }
    }
}

on_every_backend! {
    async fn the_server_deletes_expired_sessions_and_stale_sign_in_failures_on_its_own(db: TestDb) {
        let store = &db.store;
        let ws = store.create_workspace("Agency", "http://127.0.0.1:9", "p", None).await.unwrap();
        let ann = store.create_user(&ws.id, "ann", &hash_password("ann-password").unwrap(), Role::Viewer).await.unwrap();
        let (now, day) = (now_ms(), 24 * 60 * 60 * 1000);
        store.create_session(&ann.id, "expired-token-hash", "csrf-1", now - 2 * day, day).await.unwrap();
        store.create_session(&ann.id, "live-token-hash", "csrf-2", now, day).await.unwrap();
        let fail = |key: &'static str, at: i64| {
            store.record_login_failure(key, at, LOGIN_FAILURE_WINDOW_MS, MAX_LOGIN_FAILURES, LOGIN_LOCK_MS)
        };
        fail("user:stale", now - 2 * LOGIN_FAILURE_WINDOW_MS).await.unwrap();
        fail("user:fresh", now).await.unwrap();

        let mut config = test_config([1; 32]);
        config.tuning.prune_interval = Some(Duration::from_millis(50));
        let _app = Application::build_with_store(config, store.clone()).await.unwrap();
        let pruned = eventually(Duration::from_secs(30), || async {
            store.session_count().await.unwrap() == 1 && store.throttle_state("user:stale").await.unwrap().is_none()
        })
        .await;
        assert!(pruned, "the expired session and the stale failure count were deleted");
        assert!(store.session("live-token-hash", now_ms()).await.unwrap().is_some(), "the live session is kept");
        assert!(store.throttle_state("user:fresh").await.unwrap().is_some(), "the live failure count is kept");
    }
}
