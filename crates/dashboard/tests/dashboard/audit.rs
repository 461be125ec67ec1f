//! The audit log: sign-ins, roles, credentials, the time zone, change sets and exports are recorded with who, when and
//! from where; never a password; admins only; each workspace sees its own.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::{Connection, Row};

use crate::helpers::{YELP_PASSWORD, on_every_backend};
use crate::web::{ALICE, BOB, OLGA, TestApp, VICTOR};

/// Every text of every audit row, whatever workspace, for a search of secrets.
async fn whole_table(url: &str) -> String {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    let rows = sqlx::query(
        "SELECT COALESCE(workspace_id, ''), COALESCE(actor_id, ''), COALESCE(actor, ''), action, \
         COALESCE(target, ''), COALESCE(detail, ''), COALESCE(address, ''), COALESCE(user_agent, '') \
         FROM audit_log",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    rows.iter()
        .map(|r| {
            (0..8)
                .map(|i| r.get::<String, _>(i))
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

on_every_backend! {
    async fn sign_ins_roles_credentials_and_exports_are_audited_without_a_secret_for_admins_of_the_workspace(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 20).await;
        let client = reqwest::Client::new();
        let attempt = |username: &'static str, password: &'static str| {
            client.post(app.url("/api/auth/login"))
                .header("user-agent", "audit-test/1.0")
                .json(&json!({"username": username, "password": password}))
                .send()
        };
        assert_eq!(attempt(OLGA.0, "not-her-password").await.unwrap().status(), StatusCode::BAD_REQUEST);
        assert_eq!(attempt("nobody-at-all", "whatever-typed").await.unwrap().status(), StatusCode::BAD_REQUEST);
        assert_eq!(attempt(OLGA.0, OLGA.1).await.unwrap().status(), StatusCode::OK);
        let olga = app.synced().await;
        let alice = app.login(ALICE).await;
        let (_, users) = app.get_json("/api/settings/users", &alice).await;
        let victor_id = users["users"].as_array().unwrap().iter().find(|u| u["username"] == "victor").unwrap()["id"]
            .as_str().unwrap().to_owned();
        let role = app.request(Method::POST, &format!("/api/settings/users/{victor_id}/role"), Some(&alice))
            .json(&json!({"role": "operator"})).send().await.unwrap();
        assert_eq!(role.status(), StatusCode::OK);
        let new_password = "a-new-partner-secret-77";
        let base_url = app.sim.base_url();
        let credentials = app.request(Method::POST, "/api/settings/credentials", Some(&alice))
            .json(&json!({"yelp_base_url": base_url, "yelp_username": "partner-2", "yelp_password": new_password}))
            .send().await.unwrap();
        assert_eq!(credentials.status(), StatusCode::OK);
        let zone = app.request(Method::POST, "/api/settings/workspace", Some(&alice))
            .json(&json!({"time_zone": "America/New_York"})).send().await.unwrap();
        assert_eq!(zone.status(), StatusCode::OK);
        let export = app.request(Method::GET, "/api/reseller/programs.csv?status=CURRENT", Some(&olga)).send().await.unwrap();
        assert_eq!(export.status(), StatusCode::OK);

        let (status, log) = app.get_json("/api/audit?limit=100", &alice).await;
        assert_eq!(status, StatusCode::OK, "{log}");
        let entries = log["entries"].as_array().unwrap();
        let of = |action: &str| entries.iter().filter(|e| e["action"] == action).cloned().collect::<Vec<Value>>();
        let failed = of("sign_in_failed");
        assert_eq!(failed.len(), 1, "one failed sign-in of a name this workspace knows: {log}");
        assert_eq!((failed[0]["actor"].as_str(), failed[0]["user_agent"].as_str()), (Some("olga"), Some("audit-test/1.0")));
        assert!(failed[0]["address"].is_string());
        assert!(of("sign_in").iter().any(|e| e["actor"] == "olga"), "{log}");
        let roles = of("role_changed");
        assert_eq!(roles.len(), 1);
        assert_eq!((roles[0]["actor"].as_str(), roles[0]["target"].as_str()), (Some("alice"), Some("victor")));
        assert_eq!(roles[0]["detail"], "victor is now operator");
        assert_eq!(of("credentials_replaced").len(), 1);
        let zones = of("time_zone_changed");
        assert_eq!(zones.len(), 1, "{log}");
        assert_eq!((zones[0]["actor"].as_str(), zones[0]["detail"].as_str()), (Some("alice"), Some("Time zone UTC → America/New_York")));
        let exports = of("export_made");
        assert_eq!(exports.len(), 1);
        assert!(exports[0]["detail"].as_str().unwrap().contains("status=CURRENT"), "{}", exports[0]);
        let (_, filtered) = app.get_json("/api/audit?action=role_changed", &alice).await;
        assert_eq!(filtered["total"], 1);
        let csv = app.request(Method::GET, "/api/audit.csv?actor=alice", Some(&alice)).send().await.unwrap().text().await.unwrap();
        assert!(csv.starts_with("at,actor,action,target,detail,address,user_agent\n"), "{csv}");
        assert!(csv.contains("role_changed"));

        let table = whole_table(&db.url).await;
        for secret in [OLGA.1, "not-her-password", "whatever-typed", new_password, YELP_PASSWORD, ALICE.1,
                       olga.cookie.split('=').nth(1).unwrap(), olga.csrf.as_str()] {
            assert!(!table.contains(secret), "the audit log holds a secret: {secret}");
        }

        let victor = app.login(VICTOR).await;
        assert_eq!(app.get_json("/api/audit", &victor).await.0, StatusCode::FORBIDDEN, "a viewer turned operator: still not an admin");
        assert_eq!(app.get_json("/api/audit", &olga).await.0, StatusCode::FORBIDDEN);
        let bob = app.login(BOB).await;
        let (_, theirs) = app.get_json("/api/audit", &bob).await;
        assert!(theirs["entries"].as_array().unwrap().iter().all(|e| e["actor"] == "bob"), "another workspace's own: {theirs}");
        let (status, bad) = app.get_json("/api/audit?action=explode", &alice).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }
}
