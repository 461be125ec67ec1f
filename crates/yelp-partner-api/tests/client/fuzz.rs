//! Property tests of the response decoders, through the real client against a stub that answers whatever
//! a case says: arbitrary bytes and arbitrary JSON never panic a decoder (every endpoint answers `Ok` or an
//! error), and well-formed generated answers decode to the values they were made from. Case counts are
//! bounded so that the set runs in a few seconds in `cargo test`.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::{DateTime, NaiveDate};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Value, json};
use yelp_partner_api::{
    Address, BusinessId, Cents, Client, ClientConfig, CreateProgram, CustomRadiusTargeting,
    FeatureChanges, FeatureType, JobId, JobStatus, ListError, Migration, NewPhoto, PhotoSource,
    ProgramId, ProgramType, ProjectDetails, ProjectId, RetryPolicy, SecretString, StatusFilter,
};

/// A server answering every request with the status and body of the current case.
pub(crate) struct Stub {
    pub(crate) runtime: tokio::runtime::Runtime,
    answer: Arc<Mutex<(u16, Vec<u8>)>>,
    pub(crate) client: Client,
}

impl Stub {
    pub(crate) fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let answer = Arc::new(Mutex::new((200, Vec::new())));
        let shared = answer.clone();
        let addr: SocketAddr = runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let app = axum::Router::new().fallback(move || {
                let (status, body) = shared.lock().unwrap().clone();
                async move {
                    let status = StatusCode::from_u16(status).unwrap();
                    (status, [("content-type", "application/json")], body).into_response()
                }
            });
            tokio::spawn(async move { axum::serve(listener, app).await });
            addr
        });
        let mut config = ClientConfig::new(
            &format!("http://{addr}"),
            "fuzz",
            SecretString::from("fuzz-password".to_owned()),
        )
        .unwrap();
        config.retry = RetryPolicy::never();
        config.timeout = Duration::from_secs(30);
        let client = runtime.block_on(async { Client::new(config).unwrap() });
        Self {
            runtime,
            answer,
            client,
        }
    }

    pub(crate) fn answer(&self, status: u16, body: Vec<u8>) {
        *self.answer.lock().unwrap() = (status, body);
    }

    /// Every decoding endpoint on the current answer; each must come back, `Ok` or not.
    fn call_every_endpoint(&self) {
        let client = self.client.clone();
        self.runtime.block_on(async move {
            let program = ProgramId::parse("Qx7Lm2VbT0aZpR9sYc4kWg").unwrap();
            let business = BusinessId::parse("Zr5TgH2nKp8QwXy1LmN0bA").unwrap();
            let _ = client.list_programs(StatusFilter::All, 0, 20).await;
            let _ = client.program_info(&program).await;
            let _ = client.business_programs(&business, 0, 40).await;
            if let Ok(receipt) = client
                .job_status(&JobId::from_yelp("-8XYgJN8YpYWZ6vCrUjKJw"))
                .await
            {
                let _ = (receipt.outcome(), receipt.new_program_id());
                for reason in receipt.failure_reasons() {
                    let _ = reason.describe();
                }
            }
            let _ = client.end_program(&program).await;
            let _ = client.pause_program(&program).await;
            let _ = client.program_features(&program).await;
            let change = FeatureChanges::new().with(CustomRadiusTargeting {
                custom_radius: Some(25.0),
            });
            let _ = client.update_program_features(&program, &change).await;
            let _ = client
                .delete_program_features(&program, &[FeatureType::AdGoal])
                .await;
            let project = ProjectId::from_yelp("pr0ject");
            let _ = client.create_portfolio_project(&program).await;
            let _ = client.portfolio_project(&program, &project).await;
            let _ = client
                .update_portfolio_project(&program, &project, &ProjectDetails::default())
                .await;
            let _ = client.portfolio_photos(&program, &project).await;
            let photo = NewPhoto {
                source: PhotoSource::BusinessPhoto("b1z".into()),
                caption: None,
                is_before_photo: false,
            };
            let _ = client.add_portfolio_photo(&program, &project, &photo).await;
            let _ = client.delete_portfolio_project(&program, &project).await;
            let create = CreateProgram::new(business.clone(), ProgramType::Cpc);
            let _ = client.create_program(&create).await;
            let _ = client.business_info(std::slice::from_ref(&business)).await;
        });
    }
}

fn config(cases: u32) -> Config {
    Config {
        cases,
        // Regressions are reproduced from the printed seed, not files written into the tree.
        failure_persistence: None,
        ..Config::default()
    }
}

/// Field names the decoders look for, so that arbitrary JSON reaches past the first check.
const KEYS: &[&str] = &[
    "payment_programs",
    "total",
    "programs",
    "errors",
    "businesses",
    "program_id",
    "program_type",
    "program_status",
    "program_pause_status",
    "start_date",
    "end_date",
    "program_metrics",
    "budget",
    "max_bid",
    "ad_cost",
    "billed_clicks",
    "page_upgrade_info",
    "monthly_rate",
    "yelp_business_id",
    "active_features",
    "ad_categories",
    "future_budget_changes",
    "status",
    "created_at",
    "completed_at",
    "business_results",
    "update_results",
    "program_added",
    "requested_value",
    "error",
    "code",
    "id",
    "description",
    "message",
    "job_id",
    "features",
    "identifier",
    "name",
    "location",
    "address1",
    "city",
    "zip_code",
    "is_closed",
    "is_removed_from_search",
    "migration",
    "is_migrated",
    "destination_business_id",
    "category_list",
    "alias",
    "title",
    "feature_type",
    "custom_radius",
    "licenses",
    "license_number",
    "project_id",
    "photo_id",
    "photos",
    "AD_GOAL",
    "VERIFIED_LICENSE",
];

/// Any JSON value, its object keys often ones the decoders know.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        prop::sample::select(KEYS).prop_map(Value::from),
        prop::sample::select(
            &[
                "CPC",
                "EP",
                "ACTIVE",
                "PAUSED",
                "COMPLETED",
                "REJECTED",
                "PROCESSING",
                "9999-12-31",
                "2026-03-18",
                "2026-03-18T11:24:26+00:00",
                "Qx7Lm2VbT0aZpR9sYc4kWg",
                "",
            ][..]
        )
        .prop_map(Value::from),
        ".{0,24}".prop_map(Value::from),
    ];
    leaf.prop_recursive(5, 96, 8, |inner| {
        let key = prop_oneof![
            prop::sample::select(KEYS).prop_map(str::to_owned),
            ".{0,12}"
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((key, inner), 0..8)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Bodies: random bytes, JSON, and JSON cut short or with a byte changed.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..600),
        json_value().prop_map(|v| v.to_string().into_bytes()),
        (json_value(), any::<prop::sample::Index>()).prop_map(|(v, cut)| {
            let text = v.to_string().into_bytes();
            let at = cut.index(text.len() + 1);
            text[..at].to_vec()
        }),
        (json_value(), any::<prop::sample::Index>(), any::<u8>()).prop_map(|(v, at, byte)| {
            let mut text = v.to_string().into_bytes();
            if !text.is_empty() {
                let i = at.index(text.len());
                text[i] = byte;
            }
            text
        }),
    ]
}

#[test]
fn arbitrary_bodies_with_any_status_never_panic_a_decoder() {
    let stub = Stub::start();
    let statuses = prop::sample::select(&[200u16, 202, 400, 401, 404, 429, 500, 503][..]);
    TestRunner::new(config(160))
        .run(&(statuses, body()), |(status, body)| {
            stub.answer(status, body);
            stub.call_every_endpoint();
            Ok(())
        })
        .unwrap();
}

#[test]
fn pages_whose_entries_are_arbitrary_json_never_panic_and_keep_the_readable_entries() {
    let stub = Stub::start();
    let entries = prop::collection::vec(
        prop_oneof![json_value(), entry().prop_map(|e| e.json)],
        0..12,
    );
    TestRunner::new(config(96))
        .run(&(entries, json_value()), |(entries, total)| {
            let page = json!({"payment_programs": entries, "total": total});
            stub.answer(200, page.to_string().into_bytes());
            stub.call_every_endpoint();
            let listed = stub
                .runtime
                .block_on(stub.client.list_programs(StatusFilter::All, 0, 20));
            if let Ok(listed) = listed {
                let valid = total.as_u64().is_some();
                prop_assert!(valid, "a page is read only with a whole total");
                prop_assert_eq!(
                    listed.programs.len() + listed.malformed.len(),
                    entries.len()
                );
            }
            let info = json!({"programs": entries, "errors": []});
            stub.answer(200, info.to_string().into_bytes());
            stub.call_every_endpoint();
            let receipt = json!({"status": "COMPLETED", "business_results": entries});
            stub.answer(200, receipt.to_string().into_bytes());
            stub.call_every_endpoint();
            Ok(())
        })
        .unwrap();
}

/// A well-formed program entry and the values it was made from.
#[derive(Clone, Debug)]
struct Entry {
    json: Value,
    program_id: String,
    program_type: &'static str,
    status: &'static str,
    paused: bool,
    start: NaiveDate,
    end: Option<NaiveDate>,
    budget: Option<i64>,
    business: String,
}

fn day(n: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2000, 1, 1).unwrap() + chrono::Days::new(u64::from(n))
}

fn entry() -> impl Strategy<Value = Entry> {
    let id = "[A-Za-z0-9_-]{22}";
    let types = prop::sample::select(
        ProgramType::KNOWN
            .iter()
            .map(ProgramType::as_str)
            .collect::<Vec<&'static str>>(),
    );
    (
        id,
        types,
        prop::sample::select(&["ACTIVE", "INACTIVE"][..]),
        any::<bool>(),
        0u32..20_000,
        prop::option::of(0u32..30_000),
        prop::option::of(0i64..10_000_000_000),
        id,
    )
        .prop_map(
            |(program_id, program_type, status, paused, start, end, budget, business)| {
                let (start, end) = (day(start), end.map(day));
                let mut json = json!({
                    "program_id": program_id,
                    "program_type": program_type,
                    "program_status": status,
                    "program_pause_status": if paused { "PAUSED" } else { "NOT_PAUSED" },
                    "start_date": start.to_string(),
                    "end_date": end.map_or("9999-12-31".to_owned(), |d| d.to_string()),
                    "businesses": [{"yelp_business_id": business, "partner_business_id": null}],
                });
                if let Some(budget) = budget {
                    json["program_metrics"] =
                        json!({"budget": budget, "currency": "USD", "is_autobid": true});
                }
                Entry {
                    json,
                    program_id,
                    program_type,
                    status,
                    paused,
                    start,
                    end,
                    budget,
                    business,
                }
            },
        )
}

fn assert_same(got: &yelp_partner_api::Program, want: &Entry) -> Result<(), TestCaseError> {
    prop_assert_eq!(got.program_id.as_str(), want.program_id.as_str());
    prop_assert_eq!(got.program_type.as_str(), want.program_type);
    prop_assert_eq!(got.program_status.as_str(), want.status);
    prop_assert_eq!(
        got.program_pause_status.as_str(),
        if want.paused { "PAUSED" } else { "NOT_PAUSED" }
    );
    prop_assert_eq!(got.start_date, Some(want.start));
    prop_assert_eq!(got.end_date, want.end);
    prop_assert_eq!(
        got.program_metrics.as_ref().and_then(|m| m.budget),
        want.budget.map(Cents::new)
    );
    prop_assert_eq!(
        got.business_id().map(BusinessId::as_str),
        Some(want.business.as_str())
    );
    Ok(())
}

#[test]
fn well_formed_pages_and_program_info_decode_to_the_values_they_were_made_from() {
    let stub = Stub::start();
    let cases = (prop::collection::vec(entry(), 0..12), 0u64..100_000);
    TestRunner::new(config(96))
        .run(&cases, |(entries, extra)| {
            let total = entries.len() as u64 + extra;
            let page = json!({"payment_programs": entries.iter().map(|e| &e.json).collect::<Vec<_>>(),
                              "total": total, "offset": 0, "limit": 20});
            stub.answer(200, page.to_string().into_bytes());
            let listed = stub
                .runtime
                .block_on(stub.client.list_programs(StatusFilter::All, 0, 20))
                .unwrap();
            prop_assert_eq!(listed.total, total);
            prop_assert!(listed.malformed.is_empty(), "{:?}", listed.malformed);
            prop_assert_eq!(listed.programs.len(), entries.len());
            for (got, want) in listed.programs.iter().zip(&entries) {
                assert_same(&got.program, want)?;
                prop_assert_eq!(&got.raw, &want.json);
            }
            if let Some(first) = entries.first() {
                let mut info = first.json.clone();
                info.as_object_mut().unwrap().remove("businesses");
                info["yelp_business_id"] = json!(first.business);
                stub.answer(200, json!({"programs": [info], "errors": []}).to_string().into_bytes());
                let id = ProgramId::parse(&first.program_id).unwrap();
                let got = stub.runtime.block_on(stub.client.program_info(&id)).unwrap();
                assert_same(&got.program, first)?;
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn well_formed_job_receipts_keep_their_status_times_and_businesses() {
    let stub = Stub::start();
    let status = prop::sample::select(&["PROCESSING", "COMPLETED", "REJECTED"][..]);
    let seconds = 946_684_800i64..4_102_444_800;
    let businesses = prop::collection::vec(
        (
            "[A-Za-z0-9_-]{22}",
            prop::sample::select(&["COMPLETED", "REJECTED"][..]),
        ),
        0..4,
    );
    TestRunner::new(config(96))
        .run(
            &(status, seconds, businesses),
            |(status, seconds, businesses)| {
                let created = DateTime::from_timestamp(seconds, 0).unwrap().fixed_offset();
                let receipt = json!({
                    "status": status,
                    "created_at": created.format("%Y-%m-%dT%H:%M:%S+00:00").to_string(),
                    "completed_at": null,
                    "business_results": businesses.iter().map(|(id, s)| json!({
                        "status": s, "identifier": id, "identifier_type": "BUSINESS",
                        "update_results": {"program_added": {"program_id": {"status": s}}},
                    })).collect::<Vec<_>>(),
                });
                stub.answer(200, receipt.to_string().into_bytes());
                let got = stub
                    .runtime
                    .block_on(
                        stub.client
                            .job_status(&JobId::from_yelp("-8XYgJN8YpYWZ6vCrUjKJw")),
                    )
                    .unwrap();
                prop_assert_eq!(got.status.clone(), JobStatus::from_wire(status));
                prop_assert_eq!(got.created_at, Some(created));
                prop_assert_eq!(got.completed_at, None);
                prop_assert_eq!(got.business_results.len(), businesses.len());
                for (got, (id, s)) in got.business_results.iter().zip(&businesses) {
                    prop_assert_eq!(got.identifier.as_deref(), Some(id.as_str()));
                    prop_assert_eq!(got.status.clone(), JobStatus::from_wire(s));
                }
                let _ = (got.outcome(), got.failure_reasons());
                Ok(())
            },
        )
        .unwrap();
}

#[test]
fn a_listing_of_arbitrary_pages_ends_with_every_page_or_an_error_for_it() {
    // The full listing's page stream, fed a first page with an arbitrary total, never panics or hangs.
    let stub = Stub::start();
    TestRunner::new(config(32))
        .run(&(0u64..200, prop::collection::vec(entry(), 0..3)), |(total, entries)| {
            let page = json!({"payment_programs": entries.iter().map(|e| &e.json).collect::<Vec<_>>(), "total": total});
            stub.answer(200, page.to_string().into_bytes());
            let pages: Vec<Result<_, ListError>> = stub.runtime.block_on(async {
                use futures::StreamExt;
                stub.client
                    .list_all_programs(yelp_partner_api::ListAllOptions { page_size: 20, ..Default::default() })
                    .collect()
                    .await
            });
            let expected = total.div_ceil(20).max(1);
            prop_assert_eq!(pages.len() as u64, expected);
            Ok(())
        })
        .unwrap();
}

/// A well-formed business info entry, in one of the spellings the decoder accepts, and what it says.
#[derive(Clone, Debug)]
struct InfoEntry {
    json: Value,
    id: String,
    name: String,
    address: Address,
    is_closed: Option<bool>,
    is_removed_from_search: Option<bool>,
    migration: Option<Migration>,
    categories: Vec<String>,
}

fn info_entry() -> impl Strategy<Value = InfoEntry> {
    let id = "[A-Za-z0-9_-]{22}";
    let name = "[A-Za-z0-9]([A-Za-z0-9&'. -]{0,30}[A-Za-z0-9])?";
    let address = (
        prop::option::of("[1-9][0-9]{0,4} [A-Z][a-z]{2,10} (St|Ave|Blvd)"),
        prop::option::of("(Suite|Unit) [0-9]{1,3}"),
        prop::option::of("[A-Z][a-z]{2,12}( [A-Z][a-z]{2,8})?"),
        prop::option::of("[A-Z]{2}"),
        prop::option::of(0u32..100_000),
    );
    let flags = (
        prop::option::of(any::<bool>()),
        prop::option::of(any::<bool>()),
    );
    let migration = prop_oneof![
        Just(None),
        Just(Some(Migration::NotMigrated)),
        Just(Some(Migration::MigratedTo(None))),
        id.prop_map(|d| Some(Migration::MigratedTo(Some(BusinessId::from_yelp(d))))),
    ];
    let categories = prop::collection::vec("[a-z][a-z_]{2,20}", 0..4);
    (id, name, address, flags, migration, categories, any::<bool>()).prop_map(
        |(id, name, (line1, line2, city, state, zip), (closed, removed), migration, categories, flat)| {
            let lines: Vec<String> = line1.iter().chain(&line2).cloned().collect();
            let json = if flat {
                // Flat: the address at the top, a numeric ZIP, flags as text, aliases as plain strings.
                let mut json = json!({"business_id": id, "business_name": name, "address": line1,
                                      "address2": line2, "city": city, "state_code": state, "zip": zip,
                                      "categories": categories});
                if let Some(closed) = closed {
                    json["is_closed"] = json!(closed.to_string());
                }
                if let Some(removed) = removed {
                    json["is_removed_from_search"] = json!(if removed { 1 } else { 0 });
                }
                match &migration {
                    None => {}
                    Some(Migration::NotMigrated) => json["is_migrated"] = json!(false),
                    Some(Migration::MigratedTo(to)) => {
                        json["is_migrated"] = json!(true);
                        json["destination_yelp_business_id"] = json!(to);
                    }
                }
                json
            } else {
                // The simulator's spelling.
                let mut json = json!({"id": id, "name": name,
                    "location": {"address1": line1, "address2": line2, "city": city, "state": state,
                                 "zip_code": zip.map(|z| format!("{z:05}")), "country": "US"},
                    "category_list": categories.iter().map(|c| json!({"alias": c, "title": c.to_uppercase()})).collect::<Vec<_>>(),
                    "cta": {"anything": [1, 2]}});
                json["is_closed"] = json!(closed);
                json["is_removed_from_search"] = json!(removed);
                if let Some(migration) = &migration {
                    json["migration"] = match migration {
                        Migration::NotMigrated => json!({"is_migrated": false, "destination_business_id": null}),
                        Migration::MigratedTo(to) => json!({"is_migrated": true, "destination_business_id": to}),
                    };
                }
                json
            };
            InfoEntry {
                address: Address {
                    lines,
                    city,
                    state,
                    zip: zip.map(|z| if flat { z.to_string() } else { format!("{z:05}") }),
                    country: (!flat).then(|| "US".to_owned()),
                },
                json,
                id,
                name,
                is_closed: closed,
                is_removed_from_search: removed,
                migration,
                categories,
            }
        },
    )
}

/// Entries with distinct ids.
fn info_entries(max: usize) -> impl Strategy<Value = Vec<InfoEntry>> {
    prop::collection::vec(info_entry(), 0..max).prop_map(|entries| {
        let mut seen = std::collections::HashSet::new();
        entries
            .into_iter()
            .filter(|e| seen.insert(e.id.clone()))
            .collect()
    })
}

#[test]
fn well_formed_business_info_decodes_to_the_values_it_was_made_from() {
    let stub = Stub::start();
    let unanswered = prop::collection::vec("[A-Za-z0-9_-]{22}", 0..4);
    TestRunner::new(config(96))
        .run(
            &(info_entries(12), unanswered, any::<bool>()),
            |(entries, unanswered, keyed)| {
                let answer = if keyed {
                    let by_id: Map<String, Value> = entries
                        .iter()
                        .map(|e| (e.id.clone(), e.json.clone()))
                        .collect();
                    json!({"businesses": by_id})
                } else {
                    json!({"businesses": entries.iter().map(|e| &e.json).collect::<Vec<_>>()})
                };
                stub.answer(200, answer.to_string().into_bytes());
                let asked: Vec<BusinessId> = entries
                    .iter()
                    .map(|e| e.id.clone())
                    .chain(unanswered.iter().cloned())
                    .map(BusinessId::from_yelp)
                    .collect();
                let batch = stub
                    .runtime
                    .block_on(stub.client.business_info(&asked))
                    .unwrap();
                prop_assert!(batch.malformed.is_empty(), "{:?}", batch.malformed);
                let unanswered: Vec<BusinessId> = unanswered
                    .into_iter()
                    .filter(|id| !entries.iter().any(|e| &e.id == id))
                    .map(BusinessId::from_yelp)
                    .collect();
                prop_assert_eq!(&batch.missing, &unanswered);
                prop_assert_eq!(batch.businesses.len(), entries.len());
                let mut got = batch.businesses.clone();
                let mut want = entries.clone();
                got.sort_by(|a, b| a.business_id.cmp(&b.business_id));
                want.sort_by(|a, b| a.id.cmp(&b.id));
                for (got, want) in got.iter().zip(&want) {
                    prop_assert_eq!(got.business_id.as_str(), want.id.as_str());
                    prop_assert_eq!(&got.name, &want.name);
                    prop_assert_eq!(&got.address, &want.address);
                    prop_assert_eq!(got.is_closed, want.is_closed);
                    prop_assert_eq!(got.is_removed_from_search, want.is_removed_from_search);
                    prop_assert_eq!(&got.migration, &want.migration);
                    let aliases: Vec<Option<String>> =
                        got.categories.iter().map(|c| c.alias.clone()).collect();
                    prop_assert_eq!(
                        aliases,
                        want.categories
                            .iter()
                            .cloned()
                            .map(Some)
                            .collect::<Vec<_>>()
                    );
                    prop_assert_eq!(&got.raw, &want.json);
                }
                Ok(())
            },
        )
        .unwrap();
}

#[test]
fn business_info_with_arbitrary_entries_never_panics_and_accounts_for_every_asked_id_once() {
    let stub = Stub::start();
    let mixed = prop::collection::vec(
        prop_oneof![json_value().prop_map(Err), info_entry().prop_map(Ok)],
        0..12,
    );
    TestRunner::new(config(96))
        .run(&mixed, |mixed| {
            let entries: Vec<Value> = mixed
                .iter()
                .map(|e| e.as_ref().map_or_else(Clone::clone, |e| e.json.clone()))
                .collect();
            stub.answer(200, json!({"businesses": entries}).to_string().into_bytes());
            let well_formed: Vec<&InfoEntry> =
                mixed.iter().filter_map(|e| e.as_ref().ok()).collect();
            let mut asked: Vec<BusinessId> = well_formed
                .iter()
                .map(|e| BusinessId::from_yelp(e.id.clone()))
                .collect();
            asked.push(BusinessId::from_yelp("Qx7Lm2VbT0aZpR9sYc4kWg"));
            asked.sort();
            asked.dedup();
            let batch = stub
                .runtime
                .block_on(stub.client.business_info(&asked))
                .unwrap();
            for id in &asked {
                let described = batch
                    .businesses
                    .iter()
                    .filter(|b| &b.business_id == id)
                    .count();
                let missing = batch.missing.iter().filter(|m| *m == id).count();
                let malformed = batch
                    .malformed
                    .iter()
                    .filter(|m| m.business_id.as_ref() == Some(id))
                    .count();
                prop_assert_eq!(described + missing + malformed, 1, "{} in {:?}", id, batch);
            }
            for entry in &well_formed {
                // Described, unless an arbitrary entry happens to claim its id too.
                let claimed = mixed
                    .iter()
                    .any(|e| e.as_ref().is_err_and(|v| v.to_string().contains(&entry.id)));
                if !claimed {
                    prop_assert!(
                        batch
                            .businesses
                            .iter()
                            .any(|b| b.business_id.as_str() == entry.id && b.name == entry.name),
                        "{} in {:?}",
                        entry.id,
                        batch
                    );
                }
            }
            Ok(())
        })
        .unwrap();
}
