//! Business info (`GET /v1/business_info/{ids}`) and the control API's changes of businesses.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use yelp_sim::{Business, SimConfig};

use crate::helpers::{TestSim, config};

const ROUTE: &str = "GET /v1/business_info/{business_ids}";

fn info_path(ids: &[&str]) -> String {
    format!("/v1/business_info/{}", ids.join(","))
}

/// The entries of a business info answer, by id.
fn entries(answer: &Value) -> Vec<(String, Value)> {
    answer["businesses"]
        .as_array()
        .expect("businesses is a list")
        .iter()
        .map(|e| (e["id"].as_str().expect("id").to_owned(), e.clone()))
        .collect()
}

async fn patch(sim: &TestSim, id: &str, body: Value) -> (StatusCode, Value) {
    let answer = sim
        .control(
            Method::PATCH,
            &format!("/_sim/businesses/{id}"),
            Some(&body.to_string()),
        )
        .await;
    let json = serde_json::from_str(&answer.text).unwrap_or(Value::Null);
    (answer.status, json)
}

fn assert_describes(entry: &Value, business: &Business) {
    let a = &business.address;
    assert_eq!(entry["name"], business.name.as_str());
    assert_eq!(
        entry["location"],
        json!({"address1": a.address1, "address2": a.address2, "address3": null, "city": a.city,
               "state": a.state, "zip_code": a.zip_code, "country": "US"})
    );
    assert_eq!(entry["is_closed"], business.is_closed);
    assert_eq!(
        entry["is_removed_from_search"],
        business.is_removed_from_search
    );
    assert_eq!(
        entry["migration"],
        json!({"is_migrated": business.migrated_to.is_some(),
               "destination_business_id": business.migrated_to})
    );
    let aliases: Vec<&str> = entry["category_list"]
        .as_array()
        .expect("category_list is a list")
        .iter()
        .map(|c| {
            assert!(c["title"].as_str().is_some_and(|t| !t.is_empty()), "{c}");
            c["alias"].as_str().expect("alias")
        })
        .collect();
    assert_eq!(aliases, business.categories);
}

#[tokio::test]
async fn business_info_describes_every_seeded_business_asked_for_in_the_order_asked() {
    let sim = TestSim::with_defaults().await;
    let businesses = sim.state().businesses();
    // The flagged ones first, so that the answer shows every status the seed has.
    let flagged =
        |b: &&Business| b.is_closed || b.is_removed_from_search || b.migrated_to.is_some();
    let asked: Vec<&Business> = businesses
        .iter()
        .filter(flagged)
        .chain(businesses.iter().rev().filter(|b| !flagged(b)))
        .take(200)
        .collect();
    let ids: Vec<&str> = asked.iter().map(|b| b.yelp_business_id.as_str()).collect();
    let answer = sim.get(&info_path(&ids)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let answer = answer.json();
    assert_eq!(answer["errors"], json!([]));
    let got = entries(&answer);
    assert_eq!(
        got.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(),
        ids
    );
    for ((_, entry), business) in got.iter().zip(&asked) {
        assert_describes(entry, business);
    }
    assert!(
        businesses.iter().all(|b| !b.name.is_empty()),
        "every seeded business has a name"
    );
    assert!(
        asked.iter().any(|b| b.is_closed)
            && asked.iter().any(|b| b.is_removed_from_search)
            && asked.iter().any(|b| b.migrated_to.is_some()),
        "the seed has closed businesses, businesses removed from search and a migrated one"
    );
    assert_eq!(sim.state().stats().requests.get(ROUTE), Some(&1));
}

#[tokio::test]
async fn unknown_ids_are_left_out_and_named_in_errors_and_repeated_ids_answered_once() {
    let sim = TestSim::with_defaults().await;
    let known = sim.plain_business();
    let unknown = "AAAAAAAAAAAAAAAAAAAAAA";
    let answer = sim.get(&info_path(&[unknown, &known, &known])).await;
    assert_eq!(answer.status, StatusCode::OK);
    let answer = answer.json();
    let got = entries(&answer);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, known);
    assert_eq!(
        answer["errors"],
        json!([{"id": "INVALID_BUSINESS_ID", "business_id": unknown,
                "description": "Supplied business ID does not exist or is not managed by this partner."}])
    );
}

#[tokio::test]
async fn more_than_200_ids_or_an_empty_one_is_a_400_that_says_so() {
    let sim = TestSim::with_defaults().await;
    let businesses = sim.state().businesses();
    let ids: Vec<&str> = businesses
        .iter()
        .take(201)
        .map(|b| b.yelp_business_id.as_str())
        .collect();
    assert_eq!(
        sim.get(&info_path(&ids[..200])).await.status,
        StatusCode::OK
    );
    let too_many = sim.get(&info_path(&ids)).await;
    assert_eq!(too_many.status, StatusCode::BAD_REQUEST);
    assert_eq!(too_many.json()["error"]["id"], "INVALID_PARAMETER");
    assert!(
        too_many.json()["error"]["description"]
            .as_str()
            .is_some_and(|d| d.contains("200") && d.contains("201")),
        "{}",
        too_many.text
    );
    let empty = sim
        .get(&format!("/v1/business_info/{},,{}", ids[0], ids[1]))
        .await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    assert!(empty.text.contains("position 2"), "{}", empty.text);
}

#[tokio::test]
async fn business_info_needs_the_partner_credentials_and_meets_the_injected_faults() {
    let sim = TestSim::start(SimConfig {
        error_rate: 1.0,
        ..config()
    })
    .await;
    let id = sim.plain_business();
    let faulted = sim.get(&info_path(&[&id])).await;
    assert!(faulted.status.is_server_error(), "{faulted:?}");
    sim.control(Method::PUT, "/_sim/faults", Some(r#"{"error_rate": 0}"#))
        .await;
    let anonymous = sim
        .client
        .get(sim.url(&info_path(&[&id])))
        .send()
        .await
        .expect("an answer");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(sim.get(&info_path(&[&id])).await.status, StatusCode::OK);
    assert_eq!(sim.state().stats().requests.get(ROUTE), Some(&3));
}

#[tokio::test]
async fn the_control_api_renames_closes_removes_from_search_and_migrates_a_business() {
    let sim = TestSim::with_defaults().await;
    let id = sim.plain_business();
    let destination = sim
        .state()
        .businesses()
        .into_iter()
        .map(|b| b.yelp_business_id)
        .find(|other| *other != id)
        .expect("another business");

    let (status, shown) = patch(
        &sim,
        &id,
        json!({"name": "  Golden Gate Legal Pros  ", "is_closed": true, "migrated_to": destination}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    assert_eq!(shown["name"], "Golden Gate Legal Pros");
    assert_eq!(shown["is_closed"], true);
    assert_eq!(shown["active"], false);
    assert_eq!(shown["migrated_to"], destination.as_str());
    let listed = sim
        .control(Method::GET, "/_sim/businesses", None)
        .await
        .json();
    let listed = listed["businesses"]
        .as_array()
        .expect("list")
        .iter()
        .find(|b| b["yelp_business_id"] == id.as_str())
        .cloned()
        .expect("listed");
    assert_eq!(listed, shown);
    for key in [
        "address",
        "is_removed_from_search",
        "categories",
        "partner_business_id",
    ] {
        assert!(listed.get(key).is_some(), "{key}");
    }

    let answer = sim.get(&info_path(&[&id])).await.json();
    let business = sim.state().business(&id).expect("known");
    assert_describes(&entries(&answer)[0].1, &business);
    assert_eq!(
        answer["businesses"][0]["migration"],
        json!({"is_migrated": true, "destination_business_id": destination})
    );
    let listing = sim.get(&format!("/v1/programs/list/{id}")).await.json();
    assert_eq!(
        listing["businesses"][0]["destination_yelp_business_id"],
        destination.as_str()
    );

    let (_, shown) = patch(
        &sim,
        &id,
        json!({"is_closed": false, "is_removed_from_search": true, "migrated_to": null}),
    )
    .await;
    assert_eq!(
        (
            &shown["is_closed"],
            &shown["is_removed_from_search"],
            &shown["migrated_to"]
        ),
        (&json!(false), &json!(true), &Value::Null)
    );
    let (_, shown) = patch(&sim, &id, json!({"active": true})).await;
    assert_eq!(
        (&shown["active"], &shown["is_removed_from_search"]),
        (&json!(true), &json!(false)),
        "active: true reopens the business whatever held it back"
    );

    let before = sim.state().business(&id);
    for body in [
        json!({"name": "   "}),
        json!({"name": "x".repeat(201)}),
        json!({"name": 7}),
        json!({"is_closed": "yes"}),
        json!({"migrated_to": id}),
        json!({"migrated_to": "not/an id"}),
        json!({"name": "Fine", "migrated_to": ""}),
        json!({"nickname": "Goldie"}),
    ] {
        let (status, _) = patch(&sim, &id, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }
    assert_eq!(
        sim.state().business(&id),
        before,
        "a refused patch changes nothing"
    );
    let (status, _) = patch(&sim, "AAAAAAAAAAAAAAAAAAAAAA", json!({"name": "X"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_create_for_a_closed_business_or_one_removed_from_search_is_rejected_with_its_reason() {
    let sim = TestSim::with_defaults().await;
    let id = sim.plain_business();
    let create = format!(
        "/v1/reseller/program/create?business_id={id}&program_name=CPC&budget=300000&is_autobid=true"
    );
    for (flags, code) in [
        (
            json!({"is_closed": true}),
            "PROGRAM_NOT_ACTIVE_CLOSED_BUSINESS",
        ),
        (
            json!({"active": true, "is_removed_from_search": true}),
            "PROGRAM_NOT_ACTIVE_BUSINESS_REMOVED_FROM_SEARCH",
        ),
        (
            json!({"active": true, "is_closed": true, "is_removed_from_search": true}),
            "PROGRAM_NOT_ACTIVE_CLOSED_BUSINESS",
        ),
        (json!({"active": false}), "BUSINESS_NOT_ACTIVE"),
    ] {
        let (status, _) = patch(&sim, &id, json!({"active": true})).await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = patch(&sim, &id, flags.clone()).await;
        assert_eq!(status, StatusCode::OK);
        let receipt = sim.wait_for_job(&sim.submit(&create).await).await;
        assert_eq!(receipt["status"], "REJECTED", "{flags}: {receipt}");
        let result = &receipt["business_results"][0];
        assert_eq!(result["error"]["code"], code, "{flags}");
        assert!(
            result["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
        assert!(result.get("update_results").is_none());
    }
    assert_eq!(sim.state().program_count(), 1900, "no program was created");

    patch(&sim, &id, json!({"active": true})).await;
    let receipt = sim.wait_for_job(&sim.submit(&create).await).await;
    assert_eq!(receipt["status"], "COMPLETED", "{receipt}");
}

#[tokio::test]
async fn the_same_seed_gives_the_same_names_and_addresses() {
    let a = TestSim::with_defaults().await;
    let b = TestSim::with_defaults().await;
    let c = TestSim::start(SimConfig {
        seed: 43,
        ..config()
    })
    .await;
    assert_eq!(a.state().businesses(), b.state().businesses());
    let addresses = |sim: &TestSim| -> Vec<_> {
        sim.state()
            .businesses()
            .into_iter()
            .map(|b| b.address)
            .collect()
    };
    assert_ne!(addresses(&a), addresses(&c));
}
