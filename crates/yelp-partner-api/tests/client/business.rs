//! Business info: batching at 200, per-business reports of what Yelp did not know or sent unreadably,
//! retries as a read, against the simulator and against a stub whose answers a test chooses.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{StatusCode, Uri};
use axum::response::IntoResponse;
use futures::StreamExt;
use serde_json::{Value, json};
use yelp_partner_api::{
    BusinessId, CallRecord, Cents, Client, ClientConfig, CreateProgram, Error, JobOutcome,
    Migration, ProgramType, RetryPolicy, SecretString,
};

use crate::helpers::TestSim;

const ENDPOINT: &str = "GET /v1/business_info/{business_ids}";

/// The ids of the simulator's businesses, in seed order.
async fn business_ids(sim: &TestSim) -> Vec<BusinessId> {
    sim.get("/_sim/businesses").await["businesses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| BusinessId::parse(b["yelp_business_id"].as_str().unwrap()).unwrap())
        .collect()
}

/// One business as the control API shows it.
async fn sim_business(sim: &TestSim, id: &BusinessId) -> Value {
    sim.get("/_sim/businesses").await["businesses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["yelp_business_id"] == id.as_str())
        .cloned()
        .unwrap()
}

#[tokio::test]
async fn business_info_for_201_ids_takes_two_calls_and_describes_every_business_as_the_simulator_has_it()
 {
    let sim = TestSim::start_with(10, |c| c.businesses = 250).await;
    let ids: Vec<BusinessId> = business_ids(&sim).await.into_iter().take(201).collect();
    let batch = sim.client().business_info(&ids).await.unwrap();
    assert_eq!(
        sim.requests(ENDPOINT).await,
        2,
        "200 ids, then 1 (the simulator refuses more than 200)"
    );
    assert!(
        batch.missing.is_empty() && batch.malformed.is_empty(),
        "{batch:?}"
    );
    let got: Vec<&BusinessId> = batch.businesses.iter().map(|b| &b.business_id).collect();
    assert_eq!(got, ids.iter().collect::<Vec<_>>(), "in the order asked");
    let listed = sim.get("/_sim/businesses").await;
    for (info, want) in batch
        .businesses
        .iter()
        .zip(listed["businesses"].as_array().unwrap())
    {
        assert_eq!(info.name, want["name"].as_str().unwrap());
        let address = &want["address"];
        let mut lines = vec![address["address1"].as_str().unwrap().to_owned()];
        lines.extend(address["address2"].as_str().map(str::to_owned));
        assert_eq!(info.address.lines, lines);
        assert_eq!(info.address.city.as_deref(), address["city"].as_str());
        assert_eq!(info.address.state.as_deref(), address["state"].as_str());
        assert_eq!(info.address.zip.as_deref(), address["zip_code"].as_str());
        assert_eq!(info.address.country.as_deref(), Some("US"));
        assert_eq!(info.is_closed, want["is_closed"].as_bool());
        assert_eq!(
            info.is_removed_from_search,
            want["is_removed_from_search"].as_bool()
        );
        assert_eq!(
            info.migrated_to().map(BusinessId::as_str),
            want["migrated_to"].as_str()
        );
        let aliases: Vec<&str> = info
            .categories
            .iter()
            .map(|c| c.alias.as_deref().unwrap())
            .collect();
        assert_eq!(json!(aliases), want["categories"]);
        assert!(info.categories.iter().all(|c| c.title.is_some()));
        assert!(info.raw.get("cta").is_some(), "unknown fields stay in raw");
    }
}

#[tokio::test]
async fn an_id_yelp_does_not_know_is_reported_missing_and_the_others_are_described() {
    let sim = TestSim::start(10).await;
    let known = business_ids(&sim).await;
    let unknown = BusinessId::parse("AAAAAAAAAAAAAAAAAAAAAA").unwrap();
    let asked = [known[0].clone(), unknown.clone(), known[1].clone()];
    let batch = sim.client().business_info(&asked).await.unwrap();
    assert_eq!(batch.missing, [unknown]);
    assert!(batch.malformed.is_empty());
    let described: Vec<&BusinessId> = batch.businesses.iter().map(|b| &b.business_id).collect();
    assert_eq!(described, [&known[0], &known[1]]);
}

#[tokio::test]
async fn what_the_control_api_changes_business_info_reports() {
    let sim = TestSim::start(10).await;
    let ids = business_ids(&sim).await;
    let (renamed, closed, removed, migrated) = (&ids[0], &ids[1], &ids[2], &ids[3]);
    for (id, patch) in [
        (
            renamed,
            json!({"name": "Golden Gate Legal Pros", "active": true, "migrated_to": null}),
        ),
        (
            closed,
            json!({"active": true, "is_closed": true, "migrated_to": null}),
        ),
        (
            removed,
            json!({"active": true, "is_removed_from_search": true, "migrated_to": null}),
        ),
        (
            migrated,
            json!({"active": true, "migrated_to": ids[4].as_str()}),
        ),
    ] {
        sim.send(
            reqwest::Method::PATCH,
            &format!("/_sim/businesses/{id}"),
            patch,
        )
        .await;
    }
    let batch = sim.client().business_info(&ids[..4]).await.unwrap();
    let [renamed, closed, removed, migrated] = &batch.businesses[..] else {
        panic!("four businesses: {batch:?}");
    };
    assert_eq!(renamed.name, "Golden Gate Legal Pros");
    assert_eq!(
        (
            renamed.is_closed,
            renamed.is_removed_from_search,
            &renamed.migration
        ),
        (Some(false), Some(false), &Some(Migration::NotMigrated))
    );
    assert_eq!(
        (closed.is_closed, closed.is_removed_from_search),
        (Some(true), Some(false))
    );
    assert_eq!(
        (removed.is_closed, removed.is_removed_from_search),
        (Some(false), Some(true))
    );
    assert_eq!(migrated.migrated_to(), Some(&ids[4]));
    assert_eq!(
        sim_business(&sim, &closed.business_id).await["active"],
        false
    );
}

#[tokio::test]
async fn a_create_for_a_closed_business_is_rejected_with_a_reason_that_says_so() {
    let sim = TestSim::start(10).await;
    let business = sim.active_business().await;
    sim.send(
        reqwest::Method::PATCH,
        &format!("/_sim/businesses/{business}"),
        json!({"is_closed": true}),
    )
    .await;
    let client = sim.client();
    let mut create = CreateProgram::new(BusinessId::parse(&business).unwrap(), ProgramType::Cpc);
    create.budget = Some(Cents::new(300_000));
    create.is_autobid = Some(true);
    let job = client.create_program(&create).await.unwrap();
    let receipt = loop {
        let receipt = client.job_status(&job).await.unwrap();
        if receipt.outcome() != JobOutcome::InProgress {
            break receipt;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(receipt.outcome(), JobOutcome::Rejected);
    let reasons = receipt.failure_reasons();
    assert_eq!(reasons[0].code, "PROGRAM_NOT_ACTIVE_CLOSED_BUSINESS");
    assert_eq!(reasons[0].describe(), "The business is closed on Yelp");
}

/// A server answering each request with what `answer(n, path)` says (n counts from 0), recording the paths.
struct Stub {
    base_url: String,
    paths: Arc<Mutex<Vec<String>>>,
}

type Answer = dyn Fn(usize, &str) -> (u16, Value) + Send + Sync;

async fn stub(answer: impl Fn(usize, &str) -> (u16, Value) + Send + Sync + 'static) -> Stub {
    let paths = Arc::new(Mutex::new(Vec::new()));
    let seen = paths.clone();
    let answer: Arc<Answer> = Arc::new(answer);
    let app = axum::Router::new().fallback(move |uri: Uri| {
        let (n, path) = {
            let mut seen = seen.lock().unwrap();
            seen.push(uri.path().to_owned());
            (seen.len() - 1, uri.path().to_owned())
        };
        let (status, body) = answer(n, &path);
        async move { (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response() }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Stub {
        base_url: format!("http://{addr}"),
        paths,
    }
}

impl Stub {
    fn client(&self, configure: impl FnOnce(&mut ClientConfig)) -> Client {
        let mut config = ClientConfig::new(
            &self.base_url,
            "partner",
            SecretString::from("pw".to_owned()),
        )
        .unwrap();
        config.retry = RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
            ..RetryPolicy::default()
        };
        configure(&mut config);
        Client::new(config).unwrap()
    }

    fn paths(&self) -> Vec<String> {
        self.paths.lock().unwrap().clone()
    }
}

/// The stub's answer: every id of the path described, with the name `Business <id>`.
fn describe_all(path: &str) -> Value {
    let ids = path.trim_start_matches("/v1/business_info/").split(',');
    json!({"businesses": ids.map(|id| json!({"id": id, "name": format!("Business {id}")})).collect::<Vec<_>>()})
}

fn numbered_ids(n: usize) -> Vec<BusinessId> {
    (0..n)
        .map(|i| BusinessId::parse(&format!("biz{i:04}")).unwrap())
        .collect()
}

#[tokio::test]
async fn a_malformed_entry_costs_only_its_own_business_and_says_what_is_wrong() {
    let stub = stub(|_, _| {
        (
            200,
            json!({"businesses": [
                {"id": "good", "name": "Good Plumbing", "location": {"city": "Mesa", "state": "AZ"}},
                {"id": "bad", "name": "Bad Data", "location": {"city": "Mesa", "zip_code": {"five": 85201}}},
                {"id": "anonymous"},
            ]}),
        )
    })
    .await;
    let ids: Vec<BusinessId> = ["good", "bad", "anonymous", "absent"]
        .iter()
        .map(|id| BusinessId::parse(id).unwrap())
        .collect();
    let batch = stub.client(|_| {}).business_info(&ids).await.unwrap();
    assert_eq!(batch.businesses.len(), 1);
    assert_eq!(batch.businesses[0].name, "Good Plumbing");
    assert_eq!(batch.businesses[0].address.city.as_deref(), Some("Mesa"));
    let malformed: Vec<(&str, &str)> = batch
        .malformed
        .iter()
        .map(|m| (m.business_id.as_ref().unwrap().as_str(), m.error.as_str()))
        .collect();
    assert_eq!(
        malformed,
        [
            ("bad", "`zip_code` must be text, found an object"),
            ("anonymous", "the entry has no `name`"),
        ]
    );
    assert_eq!(batch.missing, [BusinessId::parse("absent").unwrap()]);
}

#[tokio::test]
async fn business_info_is_retried_on_5xx_like_every_read() {
    let stub = stub(|n, path| match n {
        0 => (503, json!({})),
        1 => (
            500,
            json!({"error": {"id": "INTERNAL", "description": "try again"}}),
        ),
        _ => (200, describe_all(path)),
    })
    .await;
    let attempts = Arc::new(Mutex::new(Vec::new()));
    let seen = attempts.clone();
    let client = stub.client(|c| {
        c.observer = Some(Arc::new(move |call: &CallRecord| {
            seen.lock().unwrap().push((call.endpoint, call.outcome));
        }));
    });
    let batch = client.business_info(&numbered_ids(3)).await.unwrap();
    assert_eq!(batch.businesses.len(), 3);
    assert_eq!(stub.paths().len(), 3, "two failures, then the answer");
    assert_eq!(
        *attempts.lock().unwrap(),
        [
            (ENDPOINT, "server_error"),
            (ENDPOINT, "server_error"),
            (ENDPOINT, "ok")
        ]
    );
}

#[tokio::test]
async fn a_call_failing_after_retries_fails_business_info_but_the_batches_keep_the_other_calls() {
    // The call holding the 201st id always fails; the call of the first 200 always succeeds.
    let stub = stub(|_, path| {
        if path.contains("biz0200") {
            (503, json!({}))
        } else {
            (200, describe_all(path))
        }
    })
    .await;
    let client = stub.client(|_| {});
    let ids = numbered_ids(201);
    let err = client.business_info(&ids).await.unwrap_err();
    assert!(matches!(err, Error::Server { status: 503 }), "{err:?}");

    let results: Vec<_> = client.business_info_batches(&ids, 2).collect().await;
    let [first, second] = &results[..] else {
        panic!("two calls: {results:?}");
    };
    assert_eq!(first.as_ref().unwrap().businesses.len(), 200);
    let failed = second.as_ref().unwrap_err();
    assert_eq!(failed.business_ids, &ids[200..]);
    assert!(matches!(failed.source, Error::Server { status: 503 }));
    let calls_of_one: Vec<usize> = stub
        .paths()
        .iter()
        .map(|p| p.matches(',').count() + 1)
        .collect();
    assert!(
        calls_of_one.iter().all(|&n| n == 200 || n == 1),
        "{calls_of_one:?}"
    );
    assert_eq!(
        calls_of_one.iter().filter(|&&n| n == 1).count(),
        6,
        "the failing call was tried 3 times in each of the two runs"
    );
}

#[tokio::test]
async fn repeated_ids_are_asked_once_ids_not_of_yelps_form_are_never_sent_and_none_ask_nothing() {
    let stub = stub(|_, path| (200, describe_all(path))).await;
    let client = stub.client(|_| {});
    assert_eq!(client.business_info(&[]).await.unwrap(), Default::default());
    assert!(stub.paths().is_empty(), "no ids, no call");

    let ids: Vec<BusinessId> = ["ok1", "a,b", "ok2", "ok1", "x/y"]
        .iter()
        .map(|id| BusinessId::from_yelp(*id))
        .collect();
    let batch = client.business_info(&ids).await.unwrap();
    assert_eq!(stub.paths(), ["/v1/business_info/ok1,ok2"]);
    let described: Vec<&str> = batch
        .businesses
        .iter()
        .map(|b| b.business_id.as_str())
        .collect();
    assert_eq!(described, ["ok1", "ok2"]);
    assert_eq!(
        batch.missing,
        [BusinessId::from_yelp("a,b"), BusinessId::from_yelp("x/y")]
    );
}

#[tokio::test]
async fn an_answer_that_is_not_a_list_of_businesses_fails_the_call_as_unreadable() {
    let stub = stub(|_, _| (200, json!({"total": 1}))).await;
    let err = stub
        .client(|_| {})
        .business_info(&numbered_ids(1))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Decode { endpoint: ENDPOINT, detail } if detail.contains("businesses")),
        "{err:?}"
    );
}
