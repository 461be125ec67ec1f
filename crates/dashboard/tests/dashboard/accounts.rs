//! Users, sign-in throttling, sessions and encrypted credentials, on both databases.

use dashboard::Error;
use dashboard::auth::{
    self, LOGIN_LOCK_MS, LoginError, MAX_LOGIN_FAILURES, SESSION_TTL_MS, hash_password,
};
use dashboard::secrets::SecretBox;
use dashboard::store::{Role, Store, User, new_id};
use secrecy::ExposeSecret;

use crate::helpers::on_every_backend;

const PASSWORD: &str = "correct horse battery";
const NOW: i64 = 1_800_000_000_000;

async fn workspace(store: &Store, name: &str) -> String {
    store
        .create_workspace(name, &format!("http://{name}.test"), "partner", None)
        .await
        .unwrap()
        .id
}

async fn user(store: &Store, workspace_id: &str, username: &str, role: Role) -> User {
    store
        .create_user(
            workspace_id,
            username,
            &hash_password(PASSWORD).unwrap(),
            role,
        )
        .await
        .unwrap()
}

on_every_backend! {
    async fn users_are_unique_without_case_and_read_back_without_their_hash(db: TestDb) {
        let store = &db.store;
        let ws = workspace(store, "acme").await;
        let other = workspace(store, "globex").await;
        let alice = user(store, &ws, "alice", Role::Admin).await;
        assert_eq!((alice.username.as_str(), alice.role), ("alice", Role::Admin));

        for taken in ["alice", "ALICE"] {
            let err = store.create_user(&other, taken, "x", Role::Viewer).await.unwrap_err();
            assert!(matches!(&err, Error::Conflict(m) if m.contains("already exists")), "{err}");
        }
        assert!(matches!(
            store.create_user(&ws, "bad name", "x", Role::Viewer).await,
            Err(Error::Invalid(_))
        ));
        assert!(matches!(
            store.create_user("no-such-workspace", "bob", "x", Role::Viewer).await,
            Err(Error::NotFound(_))
        ));

        let bob = user(store, &other, "bob", Role::Viewer).await;
        let (found, hash) = store.user_by_username("Alice").await.unwrap().unwrap();
        assert_eq!(found, alice);
        assert!(auth::verify_password(PASSWORD, &hash));
        assert_eq!(store.user(&bob.id).await.unwrap(), Some(bob.clone()));
        assert_eq!(store.users().await.unwrap(), vec![alice.clone(), bob.clone()]);
        assert_eq!(store.workspace_users(&ws).await.unwrap(), vec![alice.clone()]);

        store.set_user_role(&other, &bob.id, Role::Operator).await.unwrap();
        assert_eq!(store.user(&bob.id).await.unwrap().unwrap().role, Role::Operator);
        assert!(matches!(
            store.set_user_role(&ws, &bob.id, Role::Admin).await,
            Err(Error::NotFound(_))
        ), "a role is changed only within the user's workspace");
    }
}

on_every_backend! {
    async fn workspaces_refuse_duplicates_and_keep_the_password_apart(db: TestDb) {
        let store = &db.store;
        let sealed = SecretBox::from_key_bytes([3; 32]);
        let enc = sealed.encrypt("yelp-partner-pw");
        let ws = store
            .create_workspace("acme", "http://yelp.test", "acme-partner", Some(&enc))
            .await
            .unwrap();
        assert_eq!(store.workspace_by_name("acme").await.unwrap(), Some(ws.clone()));
        assert_eq!(store.workspace_by_name("nope").await.unwrap(), None);

        let same_name = store.create_workspace("acme", "http://other.test", "u", None).await.unwrap_err();
        assert!(matches!(&same_name, Error::Conflict(m) if m.contains("'acme' already exists")), "{same_name}");
        let same_credentials = store
            .create_workspace("acme 2", "http://yelp.test", "acme-partner", None)
            .await
            .unwrap_err();
        assert!(matches!(&same_credentials, Error::Conflict(m) if m.contains("already uses")), "{same_credentials}");

        let stored = store.workspace_password_enc(&ws.id).await.unwrap().unwrap();
        assert_eq!(sealed.decrypt(&stored).unwrap().expose_secret(), "yelp-partner-pw");
        assert!(!format!("{ws:?}").contains(&stored));

        let bare = store.create_workspace("globex", "http://yelp.test", "globex-partner", None).await.unwrap();
        assert_eq!(store.workspace_password_enc(&bare.id).await.unwrap(), None);
        let enc2 = sealed.encrypt("new-pw");
        store
            .set_workspace_credentials(&bare.id, "http://yelp2.test", "globex-2", &enc2)
            .await
            .unwrap();
        let bare = store.workspace(&bare.id).await.unwrap();
        assert_eq!((bare.yelp_base_url.as_str(), bare.yelp_username.as_str()), ("http://yelp2.test", "globex-2"));
        assert_eq!(store.workspace_password_enc(&bare.id).await.unwrap().as_deref(), Some(enc2.as_str()));
        let taken = store
            .set_workspace_credentials(&bare.id, "http://yelp.test", "acme-partner", &enc2)
            .await
            .unwrap_err();
        assert!(matches!(taken, Error::Conflict(_)), "{taken}");
        assert_eq!(
            store.workspaces().await.unwrap().iter().map(|w| w.name.as_str()).collect::<Vec<_>>(),
            ["acme", "globex"]
        );
        assert!(matches!(store.workspace_password_enc("missing").await, Err(Error::NotFound(_))));
    }
}

on_every_backend! {
    async fn login_accepts_the_right_password_and_answers_the_same_for_unknown_users(db: TestDb) {
        let store = &db.store;
        let ws = workspace(store, "acme").await;
        let alice = user(store, &ws, "alice", Role::Operator).await;

        let signed_in = auth::login(store, "Alice", PASSWORD, "10.0.0.1", NOW).await.unwrap();
        assert_eq!(signed_in, alice);

        let wrong = auth::login(store, "alice", "wrong password", "10.0.0.1", NOW).await.unwrap_err();
        let unknown = auth::login(store, "mallory", PASSWORD, "10.0.0.1", NOW).await.unwrap_err();
        assert!(matches!(wrong, LoginError::Invalid));
        assert!(matches!(unknown, LoginError::Invalid));
        assert_eq!(wrong.to_string(), unknown.to_string());
        let weird = auth::login(store, &"x".repeat(5000), PASSWORD, "10.0.0.1", NOW).await.unwrap_err();
        assert!(matches!(weird, LoginError::Invalid));
    }
}

on_every_backend! {
    async fn five_failures_lock_a_username_even_against_the_right_password(db: TestDb) {
        let store = &db.store;
        let ws = workspace(store, "acme").await;
        user(store, &ws, "alice", Role::Viewer).await;

        // Each failure from a new address, so that only the username's count locks.
        for i in 0..MAX_LOGIN_FAILURES {
            let err = auth::login(store, "alice", "nope-nope", &format!("10.0.0.{i}"), NOW + i).await.unwrap_err();
            assert!(matches!(err, LoginError::Invalid), "failure {i}: {err}");
        }
        let locked = auth::login(store, "ALICE", PASSWORD, "10.9.9.9", NOW + 10).await.unwrap_err();
        let LoginError::Throttled { retry_after_secs } = locked else { panic!("{locked}") };
        assert_eq!(retry_after_secs, 900);

        // Other users are not locked out by alice's lock.
        user(store, &ws, "bob", Role::Viewer).await;
        auth::login(store, "bob", PASSWORD, "10.9.9.9", NOW + 10).await.unwrap();

        // The lock ends, and a success forgets the failures.
        let later = NOW + 4 + LOGIN_LOCK_MS;
        auth::login(store, "alice", PASSWORD, "10.0.0.1", later).await.unwrap();
        assert_eq!(store.throttle_state("user:alice").await.unwrap(), None);
        for i in 0..MAX_LOGIN_FAILURES - 1 {
            let err = auth::login(store, "alice", "nope-nope", "10.0.0.1", later + 1 + i).await.unwrap_err();
            assert!(matches!(err, LoginError::Invalid));
        }
        auth::login(store, "alice", PASSWORD, "10.0.0.1", later + 100).await.unwrap();
    }
}

on_every_backend! {
    async fn five_failures_from_one_address_lock_that_address_for_every_username(db: TestDb) {
        let store = &db.store;
        let ws = workspace(store, "acme").await;
        user(store, &ws, "alice", Role::Viewer).await;

        for i in 0..MAX_LOGIN_FAILURES {
            let err = auth::login(store, &format!("guess{i}"), "nope-nope", "203.0.113.7", NOW + i).await.unwrap_err();
            assert!(matches!(err, LoginError::Invalid));
        }
        let locked = auth::login(store, "alice", PASSWORD, "203.0.113.7", NOW + 60_000).await.unwrap_err();
        assert!(matches!(locked, LoginError::Throttled { retry_after_secs: 841 }), "{locked}");
        auth::login(store, "alice", PASSWORD, "203.0.113.8", NOW + 60_000).await.unwrap();
    }
}

on_every_backend! {
    async fn failures_older_than_the_window_do_not_count(db: TestDb) {
        let store = &db.store;
        let ws = workspace(store, "acme").await;
        user(store, &ws, "alice", Role::Viewer).await;
        for i in 0..MAX_LOGIN_FAILURES - 1 {
            let _ = auth::login(store, "alice", "nope-nope", "10.0.0.1", NOW + i).await;
        }
        let after_window = NOW + auth::LOGIN_FAILURE_WINDOW_MS + 1;
        let err = auth::login(store, "alice", "nope-nope", "10.0.0.1", after_window).await.unwrap_err();
        assert!(matches!(err, LoginError::Invalid));
        let state = store.throttle_state("user:alice").await.unwrap().unwrap();
        assert_eq!((state.failures, state.window_started_at, state.locked_until), (1, after_window, 0));
        auth::login(store, "alice", PASSWORD, "10.0.0.1", after_window + 1).await.unwrap();

        // Stale counts are pruned; live ones are kept.
        let _ = auth::login(store, "bob", "nope-nope", "10.0.0.2", NOW).await;
        let _ = auth::login(store, "carol", "nope-nope", "10.0.0.3", after_window).await;
        auth::prune_expired(store, after_window + 1).await.unwrap();
        assert_eq!(store.throttle_state("user:bob").await.unwrap(), None);
        assert!(store.throttle_state("user:carol").await.unwrap().is_some());
    }
}

on_every_backend! {
    async fn sessions_round_trip_slide_expire_and_end(db: TestDb) {
        let store = &db.store;
        let ws = workspace(store, "acme").await;
        let alice = user(store, &ws, "alice", Role::Admin).await;

        let session = auth::start_session(store, &alice, NOW).await.unwrap();
        let token = session.token.expose_secret().to_owned();
        assert_eq!(token.len(), 43, "32 bytes of unpadded base64url");
        assert_eq!(session.csrf_token.len(), 43);
        assert!(!format!("{session:?}").contains(&token));

        let found = auth::session_for_token(store, &token, NOW + 1).await.unwrap().unwrap();
        assert_eq!(found.user, alice);
        assert_eq!(found.csrf_token, session.csrf_token);
        assert_eq!(found.expires_at, NOW + SESSION_TTL_MS);
        assert!(!format!("{found:?}").contains(&session.csrf_token));
        assert!(auth::session_for_token(store, "not-a-token", NOW).await.unwrap().is_none());

        // The token itself is not stored.
        assert!(store.session(&token, NOW).await.unwrap().is_none());
        assert!(store.session(&auth::token_hash(&token), NOW).await.unwrap().is_some());

        // Using it an hour later slides the expiry by an hour.
        let hour = 3_600_000;
        let slid = auth::session_for_token(store, &token, NOW + hour).await.unwrap().unwrap();
        assert_eq!(slid.expires_at, NOW + hour + SESSION_TTL_MS);
        let again = auth::session_for_token(store, &token, NOW + hour + 1).await.unwrap().unwrap();
        assert_eq!(again.expires_at, NOW + hour + SESSION_TTL_MS);

        // A role change shows at once.
        store.set_user_role(&ws, &alice.id, Role::Viewer).await.unwrap();
        let read = auth::session_for_token(store, &token, NOW + hour + 2).await.unwrap().unwrap();
        assert_eq!(read.user.role, Role::Viewer);

        let expiry = NOW + hour + SESSION_TTL_MS;
        assert!(auth::session_for_token(store, &token, expiry).await.unwrap().is_none(), "expired");
        assert_eq!(store.delete_expired_sessions(expiry).await.unwrap(), 1);

        let second = auth::start_session(store, &alice, NOW).await.unwrap();
        let second_token = second.token.expose_secret().to_owned();
        assert_ne!(second_token, token);
        auth::end_session(store, &second_token).await.unwrap();
        assert!(auth::session_for_token(store, &second_token, NOW).await.unwrap().is_none());
        auth::end_session(store, &second_token).await.unwrap();
    }
}

on_every_backend! {
    async fn a_password_change_ends_every_session_of_that_user_only(db: TestDb) {
        let store = &db.store;
        let ws = workspace(store, "acme").await;
        let alice = user(store, &ws, "alice", Role::Admin).await;
        let bob = user(store, &ws, "bob", Role::Viewer).await;
        let a1 = auth::start_session(store, &alice, NOW).await.unwrap();
        let a2 = auth::start_session(store, &alice, NOW).await.unwrap();
        let b1 = auth::start_session(store, &bob, NOW).await.unwrap();

        let new_hash = hash_password("a brand new password").unwrap();
        store.set_user_password_hash(&alice.id, &new_hash).await.unwrap();
        for ended in [&a1, &a2] {
            assert!(auth::session_for_token(store, ended.token.expose_secret(), NOW).await.unwrap().is_none());
        }
        assert!(auth::session_for_token(store, b1.token.expose_secret(), NOW).await.unwrap().is_some());
        assert!(matches!(auth::login(store, "alice", PASSWORD, "10.0.0.1", NOW).await, Err(LoginError::Invalid)));
        auth::login(store, "alice", "a brand new password", "10.0.0.1", NOW).await.unwrap();
        assert!(matches!(
            store.set_user_password_hash("missing", &new_hash).await,
            Err(Error::NotFound(_))
        ));
    }
}

fn temp_dir(label: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("yelp-ads-{label}-{}", new_id()))
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn the_key_file_is_created_owner_only_and_reused() {
    let dir = temp_dir("key");
    let first = SecretBox::load_key_file(&dir.join("nested")).unwrap();
    let path = dir.join("nested").join("secret.key");
    #[cfg(unix)]
    assert_eq!(mode(&path), 0o600);
    let sealed = first.encrypt("yelp-partner-pw");
    let again = SecretBox::load_key_file(&dir.join("nested")).unwrap();
    assert_eq!(
        again.decrypt(&sealed).unwrap().expose_secret(),
        "yelp-partner-pw"
    );

    let elsewhere = SecretBox::load_key_file(&dir.join("other")).unwrap();
    let err = elsewhere.decrypt(&sealed).unwrap_err().to_string();
    assert!(err.contains("cannot be decrypted with this key"), "{err}");
    assert!(!err.contains("yelp-partner-pw"));
    let _ = std::fs::remove_dir_all(dir);
}

#[cfg(unix)]
#[test]
fn a_key_file_others_can_read_or_that_holds_no_key_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("key-perm");
    SecretBox::load_key_file(&dir).unwrap();
    let path = dir.join("secret.key");
    let key = std::fs::read_to_string(&path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = SecretBox::load_key_file(&dir).unwrap_err().to_string();
    assert!(
        err.contains("can be read by other users") && err.contains("chmod 600"),
        "{err}"
    );
    assert!(!err.contains(key.trim()));

    std::fs::write(&path, "not a key\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let err = SecretBox::load_key_file(&dir).unwrap_err().to_string();
    assert!(
        err.contains("does not hold the base64 of 32 bytes"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn two_processes_creating_the_key_at_once_agree_on_one() {
    let dir = temp_dir("key-race");
    let boxes: Vec<SecretBox> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| scope.spawn(|| SecretBox::load_key_file(&dir).unwrap()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let sealed = boxes[0].encrypt("pw");
    for other in &boxes {
        assert_eq!(other.decrypt(&sealed).unwrap().expose_secret(), "pw");
    }
    let leftovers = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(leftovers, 1, "only secret.key remains");
    let _ = std::fs::remove_dir_all(dir);
}
