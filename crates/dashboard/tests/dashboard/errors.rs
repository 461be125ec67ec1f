//! How faults of ours answer: a 5xx whose body says nothing internal, the cause in the log once.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine;
use dashboard::app::Application;
use dashboard::auth::hash_password;
use dashboard::secrets::SecretBox;
use dashboard::store::Role;
use dashboard::web::router;
use serde_json::Value;
use tower::ServiceExt;

use crate::helpers::{TestDb, test_config};

/// What the log received, shared with the subscriber writing it.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl Log {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

impl Write for Log {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Log {
    type Writer = Log;

    fn make_writer(&'a self) -> Log {
        self.clone()
    }
}

// One thread: the subscriber set here sees every log line of the request.
#[tokio::test(flavor = "current_thread")]
async fn stored_credentials_that_cannot_be_decrypted_answer_500_with_a_generic_body_and_the_log_names_the_cause_once()
 {
    let db = TestDb::sqlite().await;
    let sealed_with = SecretBox::from_key_bytes([1; 32]);
    let ws = db
        .store
        .create_workspace(
            "Agency",
            "http://127.0.0.1:9",
            "agency",
            Some(&sealed_with.encrypt("partner-pw")),
        )
        .await
        .unwrap();
    db.store
        .create_user(
            &ws.id,
            "olga",
            &hash_password("olga-password").unwrap(),
            Role::Operator,
        )
        .await
        .unwrap();
    // Another key than the one the password was sealed with: YELP_ADS_SECRET_KEY changed.
    let app = Application::build_with_store(test_config([2; 32]), db.store.clone())
        .await
        .unwrap();
    let state = app.state().clone();
    let log = Log::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(log.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let basic = base64::engine::general_purpose::STANDARD.encode("olga:olga-password");
    let response = router(state)
        .oneshot(
            Request::post("/api/reseller/programs/sync")
                .header(header::AUTHORIZATION, format!("Basic {basic}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(body["error"]["code"], "internal", "{body}");
    assert_eq!(
        body["error"]["message"], "Something went wrong on our side; it has been logged.",
        "{body}"
    );
    let text = String::from_utf8_lossy(&bytes);
    for internal in ["decrypt", "YELP_ADS_SECRET_KEY", "secret.key", "partner-pw"] {
        assert!(
            !text.contains(internal),
            "the body names {internal}: {text}"
        );
    }
    let logged = log.text();
    assert_eq!(
        logged.matches("cannot be decrypted with this key").count(),
        1,
        "{logged}"
    );
    assert!(!logged.contains("partner-pw"), "{logged}");
}
