//! The client's decoders against malformed and surprising answers: errors or tolerant values, never a panic.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::json;
use yelp_partner_api::{
    BusinessId, Client, ClientConfig, CreateProgram, EditProgram, Error, JobId, ProgramId,
    ProgramType, RetryPolicy, SecretString, StatusFilter,
};

/// A server that answers every request with the status and body currently set.
struct Canned {
    base_url: String,
    answer: Arc<Mutex<(u16, String)>>,
}

async fn canned_server() -> Canned {
    let answer = Arc::new(Mutex::new((200, String::new())));
    let shared = answer.clone();
    let app = Router::new().fallback(move || {
        let shared = shared.clone();
        async move {
            let (status, body) = shared.lock().unwrap().clone();
            (StatusCode::from_u16(status).unwrap(), body).into_response()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Canned {
        base_url: format!("http://{addr}"),
        answer,
    }
}

fn client(base_url: &str) -> Client {
    let mut config =
        ClientConfig::new(base_url, "partner", SecretString::from("pw".to_owned())).unwrap();
    config.retry = RetryPolicy::never();
    Client::new(config).unwrap()
}

/// Calls every reading endpoint and returns what each gave, as text; the point is that none panics.
async fn call_everything(client: &Client) -> Vec<Result<String, Error>> {
    let program = ProgramId::from_yelp("Qx7Lm2VbT0aZpR9sYc4kWg");
    let business = BusinessId::from_yelp("Zr5TgH2nKp8QwXy1LmN0bA");
    let edit = EditProgram {
        budget: Some(yelp_partner_api::Cents::new(5000)),
        ..EditProgram::default()
    };
    vec![
        client
            .list_programs(StatusFilter::All, 0, 20)
            .await
            .map(|p| format!("{p:?}")),
        client
            .program_info(&program)
            .await
            .map(|p| format!("{p:?}")),
        client
            .business_programs(&business, 0, 40)
            .await
            .map(|p| format!("{p:?}")),
        client
            .job_status(&JobId::from_yelp("-job"))
            .await
            .map(|r| format!("{:?}", r.outcome())),
        client
            .program_features(&program)
            .await
            .map(|f| format!("{f:?}")),
        client
            .create_program(&CreateProgram::new(business.clone(), ProgramType::Cpc))
            .await
            .map(|j| j.to_string()),
        client
            .edit_program(&program, &edit)
            .await
            .map(|j| j.to_string()),
        client.end_program(&program).await.map(|j| j.to_string()),
        client
            .business_info(std::slice::from_ref(&business))
            .await
            .map(|b| format!("{b:?}")),
    ]
}

#[tokio::test]
async fn malformed_and_surprising_answers_give_errors_or_tolerant_values_never_a_panic() {
    let server = canned_server().await;
    let client = client(&server.base_url);
    let huge = "9".repeat(400);
    let bodies = [
        String::new(),
        "not json at all".into(),
        "{".into(),
        "null".into(),
        "[]".into(),
        "42".into(),
        json!({}).to_string(),
        json!({"payment_programs": null, "total": 5}).to_string(),
        json!({"payment_programs": [], "total": -1}).to_string(),
        format!(r#"{{"payment_programs": [], "total": {huge}}}"#),
        json!({"payment_programs": [{"program_id": 7}], "total": "many"}).to_string(),
        json!({"payment_programs": [{"program_id": "p", "program_type": "NEW_TYPE",
               "program_status": "WEIRD", "start_date": "tomorrow"}], "total": 1})
        .to_string(),
        json!({"programs": [{"program_id": "p", "program_type": "CPC", "program_status": "ACTIVE",
               "program_metrics": {"budget": 1e300}}], "errors": []})
        .to_string(),
        json!({"programs": "nope", "errors": {"id": 1}}).to_string(),
        json!({"businesses": [{"programs": [null, 1, "x"]}], "errors": []}).to_string(),
        json!({"businesses": [{"yelp_business_id": 5}]}).to_string(),
        json!({"status": "NEW_STATUS", "business_results": "x"}).to_string(),
        json!({"status": ["COMPLETED"]}).to_string(),
        json!({"features": {"AD_GOAL": null, "X": [1, 2]}}).to_string(),
        json!({"features": 3}).to_string(),
        json!({"job_id": 12}).to_string(),
        json!({"job_id": ""}).to_string(),
        json!({"error": {"id": ["x"], "description": {"a": 1}}}).to_string(),
        "\u{0}\u{1}\u{fffd}".into(),
    ];
    let mut tolerated = 0;
    let mut refused = 0;
    for status in [200, 400, 404, 418, 500] {
        for body in &bodies {
            *server.answer.lock().unwrap() = (status, body.clone());
            for result in call_everything(&client).await {
                match result {
                    Ok(_) => tolerated += 1,
                    Err(err) => {
                        let message = err.to_string();
                        assert!(!message.is_empty());
                        assert!(!message.contains("pw"), "no credential in {message}");
                        refused += 1;
                    }
                }
            }
        }
    }
    assert!(
        tolerated > 0 && refused > 0,
        "{tolerated} tolerated, {refused} refused"
    );
}

#[tokio::test]
async fn an_unknown_program_type_and_status_are_kept_and_a_bad_entry_is_reported_not_dropped() {
    let server = canned_server().await;
    let body = json!({
        "payment_programs": [
            {"program_id": "a", "program_type": "HOLOGRAM", "program_status": "SCHEDULED",
             "businesses": [{"yelp_business_id": "b1", "partner_business_id": null}]},
            {"program_id": "b", "program_type": "CPC", "program_status": "ACTIVE",
             "end_date": "31/12/2026"}
        ],
        "total": 2
    });
    *server.answer.lock().unwrap() = (200, body.to_string());
    let page = client(&server.base_url)
        .list_programs(StatusFilter::All, 0, 20)
        .await
        .unwrap();
    assert_eq!(page.programs.len(), 1);
    let program = &page.programs[0].program;
    assert_eq!(program.program_type, ProgramType::Other("HOLOGRAM".into()));
    assert_eq!(program.program_status.as_str(), "SCHEDULED");
    assert_eq!(page.malformed.len(), 1);
    assert_eq!(page.malformed[0].program_id.as_deref(), Some("b"));
}

#[tokio::test]
async fn an_html_error_page_is_reported_with_its_status_and_never_quoted() {
    let server = canned_server().await;
    *server.answer.lock().unwrap() = (403, "<html><body>Forbidden</body></html>".into());
    let err = client(&server.base_url)
        .program_info(&ProgramId::from_yelp("p"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Rejected { status: 403, id: None, description } if description.is_empty()),
        "{err:?}"
    );
    assert!(!err.to_string().contains("Forbidden"), "{err}");
}
