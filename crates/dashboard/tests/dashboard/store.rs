//! The mirror's page writes and removals, on both databases.

use std::collections::HashSet;

use serde::Deserialize;
use serde_json::{Value, json};
use yelp_partner_api::{Program, ProgramEntry};

use crate::helpers::on_every_backend;

pub fn entry(id: &str, budget: i64) -> ProgramEntry {
    let raw = json!({
        "program_id": id, "program_type": "CPC", "program_status": "ACTIVE",
        "program_pause_status": "NOT_PAUSED", "start_date": "2026-01-05", "end_date": "9999-12-31",
        "program_metrics": {"budget": budget, "is_autobid": true, "ad_cost": 100},
        "ad_categories": ["plumbing"], "active_features": [], "available_features": ["AD_GOAL"],
        "businesses": [{"yelp_business_id": "biz-1", "partner_business_id": null}]
    });
    ProgramEntry {
        program: Program::deserialize(&raw).unwrap(),
        raw,
    }
}

fn ids(names: &[&str]) -> HashSet<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

on_every_backend! {
    async fn pages_insert_update_skip_and_restore_programs(db: TestDb) {
        let store = &db.store;
        let ws = store.workspace_for_credentials("http://127.0.0.1:1", "u").await.unwrap().id;
        let first = store.write_program_page(&ws, &[entry("a", 5000), entry("b", 6000)], &mut Default::default(), 1_000, dashboard::store::MirrorWriter::Refresh).await.unwrap();
        assert_eq!((first.added, first.updated, first.unchanged), (2, 0, 0));

        let second = store.write_program_page(&ws, &[entry("a", 5000), entry("b", 7000)], &mut Default::default(), 2_000, dashboard::store::MirrorWriter::Refresh).await.unwrap();
        assert_eq!((second.added, second.updated, second.unchanged), (0, 1, 1));
        let a = store.program(&ws, "a").await.unwrap().unwrap();
        let b = store.program(&ws, "b").await.unwrap().unwrap();
        assert_eq!((a.updated_at, a.first_seen_at), (1_000, 1_000), "unchanged rows are not written");
        assert_eq!((b.updated_at, b.first_seen_at, b.budget_cents), (2_000, 1_000, Some(7000)));
        assert_eq!(b.end_date, None, "9999-12-31 is stored as no end");
        assert_eq!(b.business_id.as_deref(), Some("biz-1"));

        assert_eq!(store.mark_programs_removed(&ws, &ids(&["a"]), 3_000, "test-run").await.unwrap(), 1);
        assert_eq!(store.program(&ws, "b").await.unwrap().unwrap().removed_at, Some(3_000));
        assert_eq!(store.count_live_programs(&ws).await.unwrap(), 1);
        assert_eq!(store.mark_programs_removed(&ws, &ids(&["a"]), 4_000, "test-run").await.unwrap(), 0);

        let back = store.write_program_page(&ws, &[entry("b", 7000)], &mut Default::default(), 5_000, dashboard::store::MirrorWriter::Refresh).await.unwrap();
        assert_eq!((back.restored, back.added, back.updated), (1, 0, 0));
        assert_eq!(store.program(&ws, "b").await.unwrap().unwrap().removed_at, None);
        let raw: Value = serde_json::from_str(&store.program(&ws, "b").await.unwrap().unwrap().raw).unwrap();
        assert_eq!(raw["program_metrics"]["budget"], 7000, "the raw entry is kept");
    }
}

on_every_backend! {
    async fn workspaces_are_one_per_credentials_and_their_programs_stay_apart(db: TestDb) {
        let store = &db.store;
        let one = store.workspace_for_credentials("http://yelp.test", "agency-one").await.unwrap();
        let again = store.workspace_for_credentials("http://yelp.test", "agency-one").await.unwrap();
        let two = store.workspace_for_credentials("http://yelp.test", "agency-two").await.unwrap();
        assert_eq!(one, again);
        assert_ne!(one.id, two.id);
        assert_eq!(one.name, "agency-one @ yelp.test");
        store.write_program_page(&one.id, &[entry("p", 5000)], &mut Default::default(), 1, dashboard::store::MirrorWriter::Refresh).await.unwrap();
        assert_eq!(store.count_live_programs(&two.id).await.unwrap(), 0);
        assert!(store.program(&two.id, "p").await.unwrap().is_none());
        // Removals in one workspace never touch another's programs.
        store.write_program_page(&two.id, &[entry("q", 5000)], &mut Default::default(), 1, dashboard::store::MirrorWriter::Refresh).await.unwrap();
        store.mark_programs_removed(&one.id, &HashSet::new(), 2, "test-run").await.unwrap();
        assert_eq!(store.count_live_programs(&two.id).await.unwrap(), 1);
    }
}

fn query(sort: dashboard::store::SortColumn, descending: bool) -> dashboard::store::ProgramQuery {
    dashboard::store::ProgramQuery {
        status: yelp_partner_api::StatusFilter::All,
        program_status: None,
        program_type: None,
        business_id: None,
        business_name: None,
        search: None,
        active_feature: None,
        include_removed: false,
        sort,
        descending,
        offset: 0,
        limit: 10,
        today: chrono::NaiveDate::from_ymd_opt(2026, 11, 21).unwrap(),
    }
}

on_every_backend! {
    async fn a_cached_list_is_never_stale_after_the_mirror_changes(db: TestDb) {
        use dashboard::store::SortColumn;
        let store = &db.store;
        let ws = store.workspace_for_credentials("http://127.0.0.1:1", "u").await.unwrap().id;
        store.write_program_page(&ws, &[entry("a", 5000), entry("b", 6000)], &mut Default::default(), 1, dashboard::store::MirrorWriter::Refresh).await.unwrap();
        let by_budget = query(SortColumn::Budget, true);
        let first = store.list_programs(&ws, &by_budget).await.unwrap();
        let ids = |l: &dashboard::store::ProgramListing| l.programs.iter().map(|p| p.program_id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&first), ["b", "a"]);
        assert_eq!(ids(&store.list_programs(&ws, &by_budget).await.unwrap()), ["b", "a"], "same answer again");

        store.write_program_page(&ws, &[entry("a", 9000), entry("c", 100)], &mut Default::default(), 2, dashboard::store::MirrorWriter::Refresh).await.unwrap();
        let after = store.list_programs(&ws, &by_budget).await.unwrap();
        assert_eq!(ids(&after), ["a", "b", "c"], "the write is visible at once");
        assert_eq!(after.total_count, 3);
        assert_eq!(after.programs[0].budget_cents, Some(9000));

        store.mark_programs_removed(&ws, &ids_of(&["a", "c"]), 3, "test-run").await.unwrap();
        let removed = store.list_programs(&ws, &by_budget).await.unwrap();
        assert_eq!(ids(&removed), ["a", "c"]);
        let mut with_removed = by_budget.clone();
        with_removed.include_removed = true;
        assert_eq!(store.list_programs(&ws, &with_removed).await.unwrap().total_count, 3);
    }
}

fn ids_of(names: &[&str]) -> HashSet<String> {
    ids(names)
}

fn business_info(id: &str, name: &str, closed: bool) -> yelp_partner_api::BusinessInfo {
    yelp_partner_api::BusinessInfo {
        business_id: id.parse().unwrap(),
        name: name.into(),
        address: yelp_partner_api::Address {
            lines: vec!["1 Market St".into(), "Suite 2".into()],
            city: Some("San Francisco".into()),
            state: Some("CA".into()),
            zip: Some("94105".into()),
            country: Some("US".into()),
        },
        is_closed: Some(closed),
        is_removed_from_search: Some(false),
        migration: None,
        categories: vec![],
        raw: json!({}),
    }
}

on_every_backend! {
    async fn business_info_is_kept_per_workspace_asked_again_once_stale_and_written_only_when_it_changed(db: TestDb) {
        let store = &db.store;
        let ws = store.workspace_for_credentials("http://127.0.0.1:1", "u").await.unwrap().id;
        let other = store.workspace_for_credentials("http://127.0.0.1:2", "u").await.unwrap().id;
        store.write_program_page(&ws, &[entry("a", 5000)], &mut Default::default(), 1_000, dashboard::store::MirrorWriter::Refresh).await.unwrap();
        let due = store.businesses_needing_info(&ws, 5_000).await.unwrap();
        assert_eq!(due.iter().map(|b| b.as_str()).collect::<Vec<_>>(), ["biz-1"], "never asked: due");
        assert!(store.businesses_needing_info(&other, 5_000).await.unwrap().is_empty());

        let version = store.mirror_version(&ws).await.unwrap();
        let changed = store.write_business_info(&ws, &[business_info("biz-1", "Café Noël", true)], &[], 10_000, true).await.unwrap();
        assert_eq!(changed, 1);
        assert!(store.mirror_version(&ws).await.unwrap() > version, "lists show the new name");
        let profile = store.business_profile(&ws, "biz-1").await.unwrap().unwrap();
        assert_eq!(profile.name.as_deref(), Some("Café Noël"));
        assert_eq!(profile.display_name().as_deref(), Some("Café Noël, San Francisco"));
        assert_eq!(profile.address.as_deref(), Some("1 Market St, Suite 2"));
        assert_eq!((profile.state.as_deref(), profile.zip.as_deref()), (Some("CA"), Some("94105")));
        assert_eq!(profile.inactive_reason(), Some("the business is closed on Yelp"));
        assert_eq!(profile.info_at, Some(10_000));
        assert!(store.business_profile(&other, "biz-1").await.unwrap().is_none(), "another workspace's business");
        // Another workspace's answer cannot write this one's businesses.
        assert_eq!(store.write_business_info(&other, &[business_info("biz-1", "Intruder", false)], &[], 11_000, true).await.unwrap(), 0);
        assert_eq!(store.business_profile(&ws, "biz-1").await.unwrap().unwrap().name.as_deref(), Some("Café Noël"));

        // The programs search finds a business's programs by part of its name, whatever the case or accents.
        let today = chrono::Utc::now().date_naive();
        for text in ["noël", "CAFE NOEL", "fé n"] {
            let query = dashboard::store::ProgramQuery { search: Some(text.into()), ..dashboard::store::ProgramQuery::every_program(today, 10) };
            let found = store.list_programs(&ws, &query).await.unwrap();
            assert_eq!(found.programs.iter().map(|p| p.program_id.as_str()).collect::<Vec<_>>(), ["a"], "{text}");
        }
        let query = dashboard::store::ProgramQuery { search: Some("café noël".into()), ..dashboard::store::ProgramQuery::every_program(today, 10) };
        assert_eq!(store.list_programs(&other, &query).await.unwrap().total_count, 0, "another workspace's names");
        let query = dashboard::store::ProgramQuery { search: Some("plumbing co".into()), ..dashboard::store::ProgramQuery::every_program(today, 10) };
        assert_eq!(store.list_programs(&ws, &query).await.unwrap().total_count, 0);

        assert!(store.businesses_needing_info(&ws, 10_000).await.unwrap().is_empty(), "fresh: not due");
        assert_eq!(store.businesses_needing_info(&ws, 10_001).await.unwrap().len(), 1, "stale: due");

        // The same answer again changes nothing but the time it was asked.
        let version = store.mirror_version(&ws).await.unwrap();
        assert_eq!(store.write_business_info(&ws, &[business_info("biz-1", "Café Noël", true)], &[], 20_000, true).await.unwrap(), 0);
        assert_eq!(store.mirror_version(&ws).await.unwrap(), version);
        assert_eq!(store.business_profile(&ws, "biz-1").await.unwrap().unwrap().info_at, Some(20_000));

        // Unknown at Yelp: asked, so not due again for a while, and the old name kept.
        assert_eq!(store.write_business_info(&ws, &[], &["biz-1".parse().unwrap()], 30_000, true).await.unwrap(), 0);
        let profile = store.business_profile(&ws, "biz-1").await.unwrap().unwrap();
        assert_eq!((profile.name.as_deref(), profile.info_at), (Some("Café Noël"), Some(30_000)));
        assert_eq!(store.business_profiles(&ws).await.unwrap().len(), 1);
    }
}
