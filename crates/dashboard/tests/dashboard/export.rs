//! The programs list as CSV: every matching program, the visible columns plus ids, dollars as dollars.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::on_every_backend;
use crate::web::{OLGA, TestApp, VICTOR};

async fn get(app: &TestApp, pair: (&str, &str), path: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(app.url(path))
        .basic_auth(pair.0, Some(pair.1))
        .send()
        .await
        .unwrap()
}

on_every_backend! {
    async fn an_export_of_a_filtered_view_holds_exactly_its_programs(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 120).await;
        app.synced().await;
        let listed: Value = get(&app, OLGA, "/api/reseller/programs?status=CURRENT&program_type=CPC&limit=500")
            .await.json().await.unwrap();
        let total = listed["total_count"].as_u64().unwrap() as usize;
        assert!(total > 1, "{listed}");
        let first = &listed["programs"][0];
        let id = first["program_id"].as_str().unwrap().to_owned();
        let named = reqwest::Client::new()
            .post(app.url(&format!("/api/reseller/program/{id}/custom-name")))
            .basic_auth(OLGA.0, Some(OLGA.1))
            .json(&json!({"custom_name": "=Spring, \"push\""}))
            .send().await.unwrap();
        assert_eq!(named.status(), StatusCode::OK);

        let response = get(&app, VICTOR, "/api/reseller/programs.csv?status=CURRENT&program_type=CPC").await;
        assert_eq!(response.status(), StatusCode::OK, "a viewer exports too");
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        assert!(response.headers()["content-disposition"].to_str().unwrap().contains("programs.csv"));
        let text = response.text().await.unwrap();
        let mut file = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = file.headers().unwrap().iter().map(str::to_owned).collect();
        assert_eq!(&header[..4], ["program_id", "custom_name", "program_type", "business_id"]);
        let rows: Vec<csv::StringRecord> = file.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), total, "exactly the view's total_count");
        let column = |name: &str| header.iter().position(|h| h == name).unwrap();
        assert!(rows.iter().all(|r| &r[column("program_type")] == "CPC"));
        let row = rows.iter().find(|r| r[0] == *id).expect("the labelled program");
        assert_eq!(&row[column("custom_name")], "'=Spring, \"push\"", "quoted, and not a formula");
        let budget = first["program_metrics"]["budget"].as_i64().unwrap();
        assert_eq!(row[column("budget")], format!("{}.{:02}", budget / 100, budget % 100));
        assert_eq!(&row[column("business_name")], first["business_name"].as_str().unwrap_or(""));

        let all = get(&app, OLGA, "/api/reseller/programs.csv").await.text().await.unwrap();
        assert_eq!(csv::Reader::from_reader(all.as_bytes()).records().count(), 120, "every program by default");
        let bad = get(&app, OLGA, "/api/reseller/programs.csv?limit=10").await;
        assert_eq!(bad.status(), StatusCode::BAD_REQUEST, "paging does not apply to a file");
    }
}
