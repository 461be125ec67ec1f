//! Alert webhooks, the pure part: the JSON body, its signature, how a receiver checks it, and when a failed
//! delivery is tried again. Sending is the delivery code's.
//!
//! # What a receiver gets
//! `POST <url>` with `Content-Type: application/json` and
//!
//! ```text
//! X-Yelp-Ads-Signature: sha256=<64 lowercase hex digits>
//! ```
//!
//! the HMAC-SHA256 of the exact bytes of the body, keyed with the webhook's secret (its UTF-8 bytes). The
//! body:
//!
//! ```json
//! {"text": "Acme Plumbing: spend is 92% of the budget on day 12 of the period <https://…|Open>",
//!  "timestamp": 1773964800,
//!  "alert": {"id": "…", "kind": "spend_threshold", "title": "…", "workspace": "Acme Agency",
//!            "program_id": "…", "business_id": "…", "link": "https://…", "raised_at": "2026-03-20T00:00:00Z"}}
//! ```
//!
//! `text` is what a Slack incoming webhook shows (Slack ignores the other fields and the header), so a
//! Slack URL works as it is; `&`, `<` and `>` in it are escaped as Slack asks. `timestamp` is when this
//! attempt was sent, in Unix seconds; every attempt is signed anew with its own, and keeps the alert's `id`.
//!
//! # Checking it ([`verify`] does this)
//! 1. Compute the HMAC-SHA256 of the raw body with the secret *before* parsing it, and compare it with the
//!    header's digits in constant time.
//! 2. Refuse a `timestamp` more than [`REPLAY_TOLERANCE`] away from your clock: an old delivery replayed.
//! 3. Keep the `alert.id`s you handled and drop a repeat: a replay inside the tolerance, or our retry of a
//!    delivery whose answer we did not get.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use yelp_partner_api::{BusinessId, ProgramId};

use crate::error::{Error, Result};
use crate::secrets::random_bytes;

/// The header that carries the signature.
pub const SIGNATURE_HEADER: &str = "X-Yelp-Ads-Signature";

/// What the header's value starts with, before the hex digits.
pub const SIGNATURE_PREFIX: &str = "sha256=";

/// How far a delivery's `timestamp` may be from the receiver's clock.
pub const REPLAY_TOLERANCE: TimeDelta = TimeDelta::minutes(5);

/// The shortest secret accepted, in bytes: 128 bits.
pub const MIN_SECRET_BYTES: usize = 16;

type HmacSha256 = Hmac<Sha256>;

/// The key a webhook's deliveries are signed with. Its `Debug` shows nothing of it.
#[derive(Clone, Debug)]
pub struct WebhookSecret(SecretString);

impl WebhookSecret {
    /// A secret given by an admin: at least [`MIN_SECRET_BYTES`] bytes, so that it cannot be guessed.
    pub fn new(secret: SecretString) -> Result<Self> {
        let len = secret.expose_secret().len();
        if len < MIN_SECRET_BYTES {
            return Err(Error::InvalidFields(vec![(
                "secret".into(),
                format!(
                    "a webhook secret must be at least {MIN_SECRET_BYTES} bytes long, not {len}"
                ),
            )]));
        }
        Ok(Self(secret))
    }

    /// A new random secret: 32 bytes from the operating system, as 64 hex digits.
    pub fn generate() -> Self {
        Self(SecretString::from(hex(&random_bytes::<32>())))
    }

    /// The secret, to show once to the admin who made it or to store sealed.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    fn mac(&self) -> Result<HmacSha256> {
        // HMAC takes keys of every length, so this does not fail; the error is kept rather than a panic.
        <HmacSha256 as Mac>::new_from_slice(self.0.expose_secret().as_bytes())
            .map_err(|e| Error::Internal(format!("the webhook secret cannot key HMAC-SHA256: {e}")))
    }
}

/// What an alert is about. The wire names (`spend_threshold`, …) are stable: receivers switch on them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// Spend reached a share of the budget before a day of the period.
    SpendThreshold,
    /// A current program had no new click for some days.
    NotSpending,
    /// A job (create, edit, end, …) failed.
    JobFailed,
    /// Syncs of the workspace failed twice in a row.
    SyncFailed,
    /// Yelp shows a business as closed.
    BusinessClosed,
    /// Yelp removed a business from search.
    BusinessRemovedFromSearch,
}

/// One alert, as deliveries carry it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// The alert's id: the same on every attempt to deliver it.
    pub id: String,
    /// What it is about.
    pub kind: AlertKind,
    /// One sentence a person reads, e.g. "Acme Plumbing: spend is 92% of the budget on day 12".
    pub title: String,
    /// The workspace's name.
    pub workspace: String,
    /// The program it is about, if one.
    pub program_id: Option<ProgramId>,
    /// The business it is about, if one.
    pub business_id: Option<BusinessId>,
    /// The absolute address of the dashboard page that shows it.
    pub link: Option<String>,
    /// When the condition was found.
    pub raised_at: DateTime<Utc>,
}

/// The JSON body of one delivery attempt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// What Slack shows: the title and a link, escaped for Slack.
    pub text: String,
    /// When this attempt was sent, Unix seconds.
    pub timestamp: i64,
    /// The alert.
    pub alert: Alert,
}

/// A delivery attempt ready to send: the exact body and the signature header's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedDelivery {
    /// The body, to send byte for byte.
    pub body: Vec<u8>,
    /// The value of [`SIGNATURE_HEADER`]: `sha256=<hex>`.
    pub signature: String,
}

/// The body of an attempt to deliver `alert` at `sent_at`, and its signature.
pub fn sign(
    secret: &WebhookSecret,
    alert: &Alert,
    sent_at: DateTime<Utc>,
) -> Result<SignedDelivery> {
    let delivery = Delivery {
        text: slack_text(alert),
        timestamp: sent_at.timestamp(),
        alert: alert.clone(),
    };
    let body = serde_json::to_vec(&delivery)
        .map_err(|e| Error::Internal(format!("an alert could not be written as JSON: {e}")))?;
    let signature = signature(secret, &body)?;
    Ok(SignedDelivery { body, signature })
}

/// `sha256=<hex>` of `body` under `secret`.
pub fn signature(secret: &WebhookSecret, body: &[u8]) -> Result<String> {
    let mut mac = secret.mac()?;
    mac.update(body);
    Ok(format!(
        "{SIGNATURE_PREFIX}{}",
        hex(&mac.finalize().into_bytes())
    ))
}

/// Checks a delivery as a receiver should: the signature over the raw body first (constant-time), then the
/// timestamp within [`REPLAY_TOLERANCE`] of `now`. Answers the delivery, or an error saying what is wrong.
pub fn verify(
    secret: &WebhookSecret,
    body: &[u8],
    signature_header: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Delivery> {
    let header = signature_header
        .ok_or_else(|| Error::Invalid(format!("the {SIGNATURE_HEADER} header is missing")))?;
    let digest = header
        .trim()
        .strip_prefix(SIGNATURE_PREFIX)
        .and_then(unhex)
        .ok_or_else(|| {
            Error::Invalid(format!(
                "the {SIGNATURE_HEADER} header must be {SIGNATURE_PREFIX} and 64 hex digits"
            ))
        })?;
    let mut mac = secret.mac()?;
    mac.update(body);
    mac.verify_slice(&digest).map_err(|_| {
        Error::Invalid("the signature does not match the body and the secret".into())
    })?;
    let delivery: Delivery = serde_json::from_slice(body)
        .map_err(|e| Error::Invalid(format!("the body is not an alert delivery: {e}")))?;
    let sent_at = DateTime::from_timestamp(delivery.timestamp, 0)
        .ok_or_else(|| Error::Invalid(format!("timestamp {} is not a time", delivery.timestamp)))?;
    if (now - sent_at).abs() > REPLAY_TOLERANCE {
        return Err(Error::Invalid(format!(
            "the delivery was sent at {sent_at}, more than {} minutes from now: refused as a replay",
            REPLAY_TOLERANCE.num_minutes()
        )));
    }
    Ok(delivery)
}

/// When failed deliveries are tried again: exponential backoff, capped, with a bounded number of attempts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetrySchedule {
    /// The wait after the first failed attempt; it doubles after each later one.
    pub first_delay: Duration,
    /// The longest wait between two attempts.
    pub max_delay: Duration,
    /// Attempts in all, the first included.
    pub max_attempts: u32,
}

impl Default for RetrySchedule {
    /// 8 attempts, waiting 30 s, 1, 2, 4, 8, 16 and 30 minutes between them: about an hour in all, long
    /// enough to outlast a receiver's restart or deploy.
    fn default() -> Self {
        Self {
            first_delay: Duration::from_secs(30),
            max_delay: Duration::from_secs(30 * 60),
            max_attempts: 8,
        }
    }
}

impl RetrySchedule {
    /// The wait before the next attempt once attempt `attempt` (1 for the first) failed; `None` when it was
    /// the last one allowed.
    pub fn delay_after(&self, attempt: u32) -> Option<Duration> {
        if attempt == 0 || attempt >= self.max_attempts {
            return None;
        }
        let doublings = (attempt - 1).min(31);
        Some(
            self.first_delay
                .saturating_mul(1u32 << doublings)
                .min(self.max_delay),
        )
    }

    /// The sum of every wait: how long after the first attempt the last one is made.
    pub fn total_delay(&self) -> Duration {
        (1..self.max_attempts)
            .filter_map(|attempt| self.delay_after(attempt))
            .fold(Duration::ZERO, Duration::saturating_add)
    }
}

/// Whether an answer with this HTTP status is worth another attempt: timeouts (408), throttling (429) and
/// server errors. Any other 4xx says the receiver refuses the delivery (Slack answers a removed webhook 404
/// or 410), and a 2xx or 3xx ends the delivery. A request that got no answer at all is worth another
/// attempt too; that is the delivery code's to decide.
pub fn is_retryable(status: u16) -> bool {
    matches!(status, 408 | 429 | 500..=599)
}

/// The Slack text of an alert: its title, then a link to it when there is one. Slack reads `&`, `<` and `>`
/// as markup, so they are escaped; `|` would end a link's address and is percent-encoded in it.
fn slack_text(alert: &Alert) -> String {
    let title = slack_escape(&alert.title);
    match &alert.link {
        Some(link) => {
            let address = slack_escape(link).replace('|', "%7C");
            format!("{title} <{address}|Open in the dashboard>")
        }
        None => title,
    }
}

fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// 64 hex digits (either case) as the 32 bytes of a SHA-256 digest.
fn unhex(digits: &str) -> Option<Vec<u8>> {
    if digits.len() != 64 || !digits.is_ascii() {
        return None;
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> WebhookSecret {
        WebhookSecret::new(SecretString::from("a-secret-of-enough-bytes")).unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn alert() -> Alert {
        Alert {
            id: "al_01".into(),
            kind: AlertKind::SpendThreshold,
            title: "Smith & Sons <Plumbing>: spend is 92% of the budget on day 12".into(),
            workspace: "Acme Agency".into(),
            program_id: Some(ProgramId::from_yelp("Qx7Lm2VbT0aZpR9sYc4kWg")),
            business_id: Some(BusinessId::from_yelp("Zr5TgH2nKp8QwXy1LmN0bA")),
            link: Some(
                "https://ads.example/program-status/Qx7Lm2VbT0aZpR9sYc4kWg?a=1&b=2|x".into(),
            ),
            raised_at: at("2026-03-20T00:00:00Z"),
        }
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_the_exact_body_in_hex() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let mut mac = <HmacSha256 as Mac>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            hex(&mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // The same construction, keyed with a webhook secret of at least 16 bytes.
        let key = WebhookSecret::new(SecretString::from("Jefe-Jefe-Jefe-Jefe")).unwrap();
        let mut mac = <HmacSha256 as Mac>::new_from_slice(b"Jefe-Jefe-Jefe-Jefe").unwrap();
        mac.update(b"{\"x\":1}");
        let expected = format!("sha256={}", hex(&mac.finalize().into_bytes()));
        assert_eq!(signature(&key, b"{\"x\":1}").unwrap(), expected);
    }

    #[test]
    fn a_signed_delivery_verifies_and_carries_the_alert_and_slack_text() {
        let sent = at("2026-03-20T00:00:10Z");
        let signed = sign(&secret(), &alert(), sent).unwrap();
        assert_eq!(
            signed.signature,
            signature(&secret(), &signed.body).unwrap()
        );
        let delivery = verify(
            &secret(),
            &signed.body,
            Some(&signed.signature),
            at("2026-03-20T00:04:00Z"),
        )
        .unwrap();
        assert_eq!(delivery.alert, alert());
        assert_eq!(delivery.timestamp, sent.timestamp());
        assert_eq!(
            delivery.text,
            "Smith &amp; Sons &lt;Plumbing&gt;: spend is 92% of the budget on day 12 \
             <https://ads.example/program-status/Qx7Lm2VbT0aZpR9sYc4kWg?a=1&amp;b=2%7Cx|Open in the dashboard>"
        );
        let json: serde_json::Value = serde_json::from_slice(&signed.body).unwrap();
        assert_eq!(json["alert"]["kind"], "spend_threshold");
        assert!(json["text"].is_string(), "Slack needs a top-level text");
    }

    #[test]
    fn a_changed_body_a_wrong_secret_or_a_bad_header_is_refused() {
        let now = at("2026-03-20T00:00:00Z");
        let signed = sign(&secret(), &alert(), now).unwrap();
        let mut tampered = signed.body.clone();
        let last = tampered.len() - 2;
        tampered[last] ^= 1;
        let refused = |body: &[u8], key: &WebhookSecret, header: Option<&str>| {
            verify(key, body, header, now).unwrap_err().to_string()
        };
        assert!(refused(&tampered, &secret(), Some(&signed.signature)).contains("does not match"));
        let other = WebhookSecret::new(SecretString::from("another-secret-entirely")).unwrap();
        assert!(refused(&signed.body, &other, Some(&signed.signature)).contains("does not match"));
        assert!(refused(&signed.body, &secret(), None).contains("missing"));
        let no_prefix = signed.signature.trim_start_matches(SIGNATURE_PREFIX);
        assert!(refused(&signed.body, &secret(), Some(no_prefix)).contains("64 hex digits"));
        assert!(refused(&signed.body, &secret(), Some("sha256=zz")).contains("64 hex digits"));
        let upper = format!("sha256={}", no_prefix.to_uppercase());
        assert!(
            verify(&secret(), &signed.body, Some(&upper), now).is_ok(),
            "hex of either case"
        );
    }

    #[test]
    fn a_delivery_older_or_newer_than_five_minutes_is_a_replay() {
        let signed = sign(&secret(), &alert(), at("2026-03-20T00:00:00Z")).unwrap();
        let check = |now: &str| verify(&secret(), &signed.body, Some(&signed.signature), at(now));
        assert!(
            check("2026-03-20T00:05:00Z").is_ok(),
            "exactly five minutes"
        );
        assert!(
            check("2026-03-20T00:05:01Z")
                .unwrap_err()
                .to_string()
                .contains("replay")
        );
        assert!(check("2026-03-19T23:54:59Z").is_err(), "from the future");
    }

    #[test]
    fn every_attempt_is_signed_with_its_own_timestamp_and_the_same_alert_id() {
        let first = sign(&secret(), &alert(), at("2026-03-20T00:00:00Z")).unwrap();
        let retry = sign(&secret(), &alert(), at("2026-03-20T00:30:00Z")).unwrap();
        assert_ne!(first.signature, retry.signature);
        let retried = verify(
            &secret(),
            &retry.body,
            Some(&retry.signature),
            at("2026-03-20T00:30:02Z"),
        )
        .unwrap();
        assert_eq!(retried.alert.id, "al_01");
    }

    #[test]
    fn a_slack_text_without_a_link_is_the_escaped_title() {
        let plain = Alert {
            link: None,
            title: "Sync failed twice in a row for <Acme> & co".into(),
            ..alert()
        };
        assert_eq!(
            slack_text(&plain),
            "Sync failed twice in a row for &lt;Acme&gt; &amp; co"
        );
    }

    #[test]
    fn short_secrets_are_refused_and_generated_ones_are_64_hex_digits() {
        assert!(WebhookSecret::new(SecretString::from("short")).is_err());
        let generated = WebhookSecret::generate();
        assert_eq!(generated.expose().len(), 64);
        assert!(generated.expose().bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(generated.expose(), WebhookSecret::generate().expose());
        assert!(!format!("{generated:?}").contains(generated.expose()));
    }

    #[test]
    fn retries_back_off_doubling_up_to_the_cap_and_stop_after_the_last_attempt() {
        let schedule = RetrySchedule::default();
        let minutes = |m: u64| Some(Duration::from_secs(m * 60));
        assert_eq!(schedule.delay_after(1), Some(Duration::from_secs(30)));
        assert_eq!(schedule.delay_after(2), minutes(1));
        assert_eq!(schedule.delay_after(3), minutes(2));
        assert_eq!(schedule.delay_after(6), minutes(16));
        assert_eq!(
            schedule.delay_after(7),
            minutes(30),
            "32 minutes, capped at 30"
        );
        assert_eq!(
            schedule.delay_after(8),
            None,
            "the eighth attempt is the last"
        );
        assert_eq!(schedule.delay_after(0), None);
        // 0.5 + 1 + 2 + 4 + 8 + 16 + 30 minutes.
        assert_eq!(schedule.total_delay(), Duration::from_secs(61 * 60 + 30));
        let huge = RetrySchedule {
            max_attempts: u32::MAX,
            ..schedule
        };
        assert_eq!(huge.delay_after(u32::MAX - 1), minutes(30), "no overflow");
    }

    #[test]
    fn only_timeouts_throttling_and_server_errors_are_retried() {
        assert!(is_retryable(500) && is_retryable(503) && is_retryable(429) && is_retryable(408));
        assert!(
            !is_retryable(200) && !is_retryable(404) && !is_retryable(410) && !is_retryable(400)
        );
    }

    #[test]
    fn alert_kinds_have_stable_wire_names() {
        let names: Vec<serde_json::Value> = [
            AlertKind::SpendThreshold,
            AlertKind::NotSpending,
            AlertKind::JobFailed,
            AlertKind::SyncFailed,
            AlertKind::BusinessClosed,
            AlertKind::BusinessRemovedFromSearch,
        ]
        .iter()
        .map(|k| serde_json::to_value(k).unwrap())
        .collect();
        assert_eq!(
            names,
            [
                "spend_threshold",
                "not_spending",
                "job_failed",
                "sync_failed",
                "business_closed",
                "business_removed_from_search"
            ]
        );
    }
}
