//! Accounts: password hashing, sign-in with throttling, and sessions. No HTTP here: the web layer reads the
//! cookie and the client address and calls these.
//!
//! Session tokens are 32 random bytes (base64url); the database keeps only their SHA-256, so that a copy of
//! it signs nobody in. Passwords are hashed with argon2id (RustCrypto's defaults: 19 MiB, 2 passes).

use std::fmt;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand_core::OsRng;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::secrets::random_bytes;
use crate::store::{MAX_USERNAME_LEN, SessionRecord, Store, User, validate_username};

/// How long a session lives without being used (ms): 30 days. Each use slides it.
pub const SESSION_TTL_MS: i64 = 30 * 24 * 60 * 60 * 1000;

/// Failed sign-ins against one key (a username or a client address) that lock it.
pub const MAX_LOGIN_FAILURES: i64 = 5;

/// The window in which those failures count (ms): 15 minutes from the first.
pub const LOGIN_FAILURE_WINDOW_MS: i64 = 15 * 60 * 1000;

/// How long a key stays locked once it reached [`MAX_LOGIN_FAILURES`] (ms): 15 minutes.
pub const LOGIN_LOCK_MS: i64 = 15 * 60 * 1000;

/// The shortest password accepted for a new one, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// The longest password accepted for a new one, in characters.
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// An argon2id hash, with the parameters of [`hash_password`], of a password nobody knows: sign-ins with an
/// unknown username verify against it, so that they take as long as those with a known one.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$ORUfaH2fjh7eI6y7Plb3XQ$mRvJL3D+t2qRZmrq20s710GbXVi1STCwGIWsaEVZPNk";

/// Hashes a new password (argon2id, random salt, PHC string) after checking that it is 8 to 1024
/// characters. Takes tens of milliseconds of CPU: call it from `spawn_blocking` in a server.
pub fn hash_password(password: &str) -> Result<String> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(Error::Invalid(format!(
            "password must be at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(Error::Invalid(format!(
            "password must be at most {MAX_PASSWORD_CHARS} characters"
        )));
    }
    hash_password_unchecked(password)
}

/// Hashes a password without the length rule. Only for the demo user (`demo`/`demo`); every password a
/// person chooses goes through [`hash_password`].
pub fn hash_password_unchecked(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| Error::Internal(format!("cannot hash the password: {e}")))
}

/// Whether `password` matches the PHC string `phc` (false, too, when `phc` is not one). Constant-time in
/// the comparison; as slow as hashing.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
}

/// Hex SHA-256 of a session token: what the database keeps instead of the token.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A session just started: the token goes into the cookie and is not kept anywhere else; the CSRF token
/// goes into pages.
pub struct NewSession {
    /// The session's token (for the cookie only).
    pub token: SecretString,
    /// The token that state-changing requests must carry.
    pub csrf_token: String,
}

impl fmt::Debug for NewSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewSession")
            .field("token", &"[redacted]")
            .field("csrf_token", &"[redacted]")
            .finish()
    }
}

/// Starts a session of `user` living [`SESSION_TTL_MS`] from `now`.
pub async fn start_session(store: &Store, user: &User, now: i64) -> Result<NewSession> {
    let token = URL_SAFE_NO_PAD.encode(random_bytes::<32>());
    let csrf_token = URL_SAFE_NO_PAD.encode(random_bytes::<32>());
    store
        .create_session(
            &user.id,
            &token_hash(&token),
            &csrf_token,
            now,
            SESSION_TTL_MS,
        )
        .await?;
    Ok(NewSession {
        token: SecretString::from(token),
        csrf_token,
    })
}

/// The live session of this token, if any (using it slides its expiry).
pub async fn session_for_token(
    store: &Store,
    token: &str,
    now: i64,
) -> Result<Option<SessionRecord>> {
    store.session(&token_hash(token), now).await
}

/// Ends the session of this token (signing out).
pub async fn end_session(store: &Store, token: &str) -> Result<()> {
    store.delete_session(&token_hash(token)).await
}

/// Removes expired sessions and failure counts that no longer matter; answers how many sessions went.
/// For a periodic task.
pub async fn prune_expired(store: &Store, now: i64) -> Result<u64> {
    store
        .delete_stale_login_throttles(now, LOGIN_FAILURE_WINDOW_MS)
        .await?;
    store.delete_expired_sessions(now).await
}

/// Why a sign-in was refused.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Unknown username or wrong password: the same answer for both.
    #[error("invalid username or password")]
    Invalid,
    /// Too many failures for this username or from this address; try again later.
    #[error("too many failed sign-ins; try again in {retry_after_secs} seconds")]
    Throttled {
        /// Seconds until the lock ends.
        retry_after_secs: u64,
    },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] Error),
}

/// Signs a user in: the one check of a username and password, behind the sign-in API, the sign-in page and
/// HTTP Basic. Refuses at once, without checking the password, when the username or the client address is
/// locked. Attempts on one username or from one address take turns in this process (see
/// [`Store::login_turn`]), so that concurrent guesses cannot outrun the count, yet right passwords sent at
/// the same moment all succeed: a failure is counted against both keys only once its check found the
/// password wrong, and a success forgets the username's failures only (the address's stay counted, so a
/// success of one's own cannot reset guesses at others). An unknown username costs the same work as a
/// wrong password and gets the same [`LoginError::Invalid`].
pub async fn login(
    store: &Store,
    username: &str,
    password: &str,
    client_addr: &str,
    now: i64,
) -> Result<User, LoginError> {
    let user_key = user_key(username);
    let addr_key = addr_key(client_addr);
    let keys = [&addr_key, &user_key];
    check_locks(store, &keys, now).await?;
    // Always the address first, then the username: one order, so two attempts never wait on each other.
    let _addr_turn = store.login_turn(&addr_key).await;
    let _user_turn = store.login_turn(&user_key).await;
    // Those ahead in the line may have locked a key.
    check_locks(store, &keys, now).await?;

    let found = if validate_username(username).is_ok() {
        store.user_by_username(username).await?
    } else {
        None
    };
    let (user, phc) = match found {
        Some((user, phc)) => (Some(user), phc),
        None => (None, DUMMY_HASH.to_owned()),
    };
    let password = SecretString::from(password.to_owned());
    let matches =
        tokio::task::spawn_blocking(move || verify_password(password.expose_secret(), &phc))
            .await
            .map_err(|e| {
                Error::Internal(format!("the password check stopped before it ended: {e}"))
            })?;
    match user {
        Some(user) if matches => {
            store.clear_login_failures(&user_key).await?;
            Ok(user)
        }
        _ => {
            for key in keys {
                store
                    .record_login_failure(
                        key,
                        now,
                        LOGIN_FAILURE_WINDOW_MS,
                        MAX_LOGIN_FAILURES,
                        LOGIN_LOCK_MS,
                    )
                    .await?;
            }
            Err(LoginError::Invalid)
        }
    }
}

/// `Throttled` when any of `keys` is locked at `now`, until the latest lock ends.
async fn check_locks(store: &Store, keys: &[&String], now: i64) -> Result<(), LoginError> {
    let mut locked_until = 0;
    for key in keys {
        if let Some(state) = store.throttle_state(key).await? {
            if state.is_locked(now) {
                locked_until = locked_until.max(state.locked_until);
            }
        }
    }
    if locked_until > now {
        return Err(throttled(locked_until, now));
    }
    Ok(())
}

fn throttled(locked_until: i64, now: i64) -> LoginError {
    let ms = u64::try_from(locked_until - now).unwrap_or(0);
    LoginError::Throttled {
        retry_after_secs: ms.div_ceil(1000).max(1),
    }
}

/// The throttle key of a username: lowercased, as sign-in compares names without case, and cut to the
/// longest possible name so that a huge input cannot make a huge row.
fn user_key(username: &str) -> String {
    let name: String = username.chars().take(MAX_USERNAME_LEN + 1).collect();
    format!("user:{}", name.to_lowercase())
}

/// The throttle key of a client address (cut like a username's).
fn addr_key(client_addr: &str) -> String {
    let addr: String = client_addr.chars().take(64).collect();
    format!("addr:{addr}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_passwords_must_be_8_to_1024_characters() {
        let err = hash_password("short").unwrap_err().to_string();
        assert_eq!(err, "password must be at least 8 characters");
        assert!(hash_password(&"x".repeat(1025)).is_err());
        // Characters, not bytes.
        assert!(hash_password("ééé").is_err());
        let phc = hash_password("correct horse").unwrap();
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        assert!(verify_password("correct horse", &phc));
        assert!(!verify_password("correct horsf", &phc));
        assert!(!verify_password("correct horse", "not a phc string"));
    }

    #[test]
    fn the_demo_password_skips_the_length_rule_and_salts_differ() {
        let a = hash_password_unchecked("demo").unwrap();
        let b = hash_password_unchecked("demo").unwrap();
        assert_ne!(a, b);
        assert!(verify_password("demo", &a) && verify_password("demo", &b));
    }

    #[test]
    fn the_dummy_hash_costs_what_a_real_one_does() {
        let dummy = PasswordHash::new(DUMMY_HASH).unwrap();
        let real_phc = hash_password("a real password").unwrap();
        let real = PasswordHash::new(&real_phc).unwrap();
        assert_eq!(dummy.algorithm, real.algorithm);
        assert_eq!(dummy.version, real.version);
        assert_eq!(
            dummy.params.iter().collect::<Vec<_>>(),
            real.params.iter().collect::<Vec<_>>()
        );
        assert!(!verify_password("", DUMMY_HASH));
    }

    #[test]
    fn token_hashes_are_hex_sha256() {
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn throttle_keys_ignore_case_and_are_bounded() {
        assert_eq!(user_key("Alice"), "user:alice");
        assert_eq!(addr_key("127.0.0.1"), "addr:127.0.0.1");
        assert!(user_key(&"x".repeat(10_000)).len() <= 5 + MAX_USERNAME_LEN + 1);
    }

    #[test]
    fn a_lock_is_reported_in_whole_seconds_rounded_up() {
        let LoginError::Throttled { retry_after_secs } = throttled(10_001, 0) else {
            panic!("throttled");
        };
        assert_eq!(retry_after_secs, 11);
    }

    #[test]
    fn debug_hides_session_tokens() {
        let session = NewSession {
            token: SecretString::from("tok-secret".to_owned()),
            csrf_token: "csrf-secret".into(),
        };
        let shown = format!("{session:?}");
        assert!(!shown.contains("secret"), "{shown}");
    }
}
