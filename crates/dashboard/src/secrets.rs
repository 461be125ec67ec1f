//! Credentials encrypted at rest: the Yelp partner passwords of workspaces are stored sealed with
//! ChaCha20-Poly1305 under one key per installation, so that a copy of the database alone reveals none.
//!
//! The key comes from `YELP_ADS_SECRET_KEY` (base64 of 32 bytes; what several instances sharing one
//! PostgreSQL database must all be given) or else from `<data dir>/secret.key`, created on first use.

use std::ffi::OsStr;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand_core::{OsRng, RngCore};
use secrecy::{ExposeSecret, SecretString};

use crate::error::{Error, Result};

/// The environment variable that holds the key, when it is not in the data directory.
pub const SECRET_KEY_ENV: &str = "YELP_ADS_SECRET_KEY";

/// The key file's name inside the data directory.
pub const KEY_FILE_NAME: &str = "secret.key";

const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 12;
/// Poly1305's tag, appended to every ciphertext.
const TAG_LEN: usize = 16;

/// Seals and opens stored credentials. Cheap to clone; its `Debug` shows nothing of the key.
#[derive(Clone)]
pub struct SecretBox {
    cipher: ChaCha20Poly1305,
}

impl fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

impl SecretBox {
    /// The installation's key: `key` (the value of `YELP_ADS_SECRET_KEY`) when given, else the one in
    /// `<data_dir>/secret.key` (see [`SecretBox::load_key_file`]).
    pub fn load(data_dir: &Path, key: Option<&SecretString>) -> Result<Self> {
        match key {
            Some(value) => Self::from_env_value(OsStr::new(value.expose_secret())),
            None => Self::load_key_file(data_dir),
        }
    }

    /// The key in `<data_dir>/secret.key`, ignoring the environment. A missing file is created (and the
    /// directory with it) holding 32 random bytes in base64, readable by its owner only; an existing one
    /// that the group or others can read, or that does not hold a key, is refused.
    pub fn load_key_file(data_dir: &Path) -> Result<Self> {
        let path = data_dir.join(KEY_FILE_NAME);
        match std::fs::read(&path) {
            Ok(contents) => Self::from_key_file(&path, &contents),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                create_key_file(data_dir, &path)?;
                let contents = std::fs::read(&path)
                    .map_err(|e| file_error("cannot read the key file", &path, &e))?;
                Self::from_key_file(&path, &contents)
            }
            Err(e) => Err(file_error("cannot read the key file", &path, &e)),
        }
    }

    /// A box with this key (for tests, and for keys kept elsewhere).
    pub fn from_key_bytes(key: [u8; KEY_LEN]) -> Self {
        Self {
            cipher: ChaCha20Poly1305::new(&Key::from(key)),
        }
    }

    fn from_env_value(value: &OsStr) -> Result<Self> {
        value
            .to_str()
            .and_then(decode_key)
            .map(Self::from_key_bytes)
            .ok_or_else(|| {
                Error::Config(format!(
                    "{SECRET_KEY_ENV} must be the base64 of 32 bytes (for example the output of `openssl rand -base64 32`)"
                ))
            })
    }

    fn from_key_file(path: &Path, contents: &[u8]) -> Result<Self> {
        check_owner_only(path)?;
        std::str::from_utf8(contents)
            .ok()
            .and_then(decode_key)
            .map(Self::from_key_bytes)
            .ok_or_else(|| {
                Error::Config(format!(
                    "the key file {} does not hold the base64 of 32 bytes; restore it from a backup \
                     (stored Yelp passwords need the key they were sealed with)",
                    path.display()
                ))
            })
    }

    /// Seals `plaintext`: base64 of a random 12-byte nonce followed by the ciphertext and its tag.
    pub fn encrypt(&self, plaintext: &str) -> String {
        let nonce: [u8; NONCE_LEN] = random_bytes();
        // Sealing into a Vec fails only for plaintexts beyond ChaCha20's 256 GiB limit.
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plaintext.as_bytes())
            .unwrap_or_default();
        let mut stored = Vec::with_capacity(NONCE_LEN + sealed.len());
        stored.extend_from_slice(&nonce);
        stored.extend_from_slice(&sealed);
        STANDARD.encode(stored)
    }

    /// Opens what [`SecretBox::encrypt`] sealed. Fails, naming no value, when the key is not the one it
    /// was sealed with or the stored text was altered.
    pub fn decrypt(&self, stored: &str) -> Result<SecretString> {
        let undecryptable = || {
            Error::Config(
                "stored Yelp credentials cannot be decrypted with this key (was YELP_ADS_SECRET_KEY or \
                 the data directory's secret.key changed?); set the workspace's credentials again"
                    .into(),
            )
        };
        let bytes = STANDARD.decode(stored).map_err(|_| undecryptable())?;
        if bytes.len() < NONCE_LEN + TAG_LEN {
            return Err(undecryptable());
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), sealed)
            .map_err(|_| undecryptable())?;
        let plain = String::from_utf8(plain).map_err(|_| undecryptable())?;
        Ok(SecretString::from(plain))
    }
}

/// `N` bytes from the operating system's CSPRNG. Panics only if the OS has no randomness to give, in
/// which case nothing secret can be made safely anyway.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    OsRng.fill_bytes(&mut bytes);
    bytes
}

fn decode_key(text: &str) -> Option<[u8; KEY_LEN]> {
    STANDARD
        .decode(text.trim())
        .ok()
        .and_then(|bytes| <[u8; KEY_LEN]>::try_from(bytes.as_slice()).ok())
}

fn file_error(what: &str, path: &Path, e: &std::io::Error) -> Error {
    Error::Config(format!("{what} {}: {e}", path.display()))
}

/// Writes a new key to a temporary file readable by its owner only, then links it into place, so that two
/// processes starting at once agree on one key and nobody ever reads a half-written file.
fn create_key_file(data_dir: &Path, path: &Path) -> Result<()> {
    create_owner_only_dir(data_dir)?;
    let temp: PathBuf = data_dir.join(format!(".{KEY_FILE_NAME}.{}.tmp", crate::store::new_id()));
    let written = write_owner_only(&temp, STANDARD.encode(random_bytes::<KEY_LEN>()).as_bytes())
        .and_then(|()| std::fs::hard_link(&temp, path));
    let _ = std::fs::remove_file(&temp);
    match written {
        Ok(()) => {
            tracing::info!(path = %path.display(), "created a new secret key file");
            Ok(())
        }
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(file_error("cannot create the key file", path, &e)),
    }
}

/// Creates `dir` (and its missing parents) accessible to its owner only, as the data directory holds the
/// database and the key; an existing directory is left as it is.
pub(crate) fn create_owner_only_dir(dir: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| file_error("cannot create the data directory", dir, &e))
}

/// Creates `path` empty and readable by its owner only, unless it exists: SQLite then keeps the mode,
/// and gives its `-wal` and `-shm` files the same.
pub(crate) fn create_owner_only_file(path: &Path) -> Result<()> {
    match write_owner_only(path, b"") {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(file_error("cannot create the database file", path, &e)),
    }
}

fn write_owner_only(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(unix)]
fn check_owner_only(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|e| file_error("cannot read the key file", path, &e))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(Error::Config(format!(
            "the key file {} can be read by other users (mode {:o}); refusing to use it: run `chmod 600 {}`",
            path.display(),
            mode & 0o777,
            path.display()
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_owner_only(_path: &Path) -> Result<()> {
    Ok(())
}

/// The entries of `data_dir` (the directory itself, the SQLite files, the key file) that the group or
/// other users can read or write: they hold password hashes, sessions and the key of stored credentials.
pub fn readable_by_others(data_dir: &std::path::Path) -> Vec<PathBuf> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mut found = Vec::new();
        let candidates = std::iter::once(data_dir.to_path_buf()).chain(
            [
                "yelp-ads.db",
                "yelp-ads.db-wal",
                "yelp-ads.db-shm",
                KEY_FILE_NAME,
            ]
            .iter()
            .map(|name| data_dir.join(name)),
        );
        for path in candidates {
            if let Ok(meta) = std::fs::metadata(&path) {
                if meta.permissions().mode() & 0o077 != 0 {
                    found.push(path);
                }
            }
        }
        found
    }
    #[cfg(not(unix))]
    {
        let _ = data_dir;
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn sealed_text_opens_with_the_same_key_only_and_differs_every_time() {
        let sealed_box = SecretBox::from_key_bytes([7; 32]);
        let a = sealed_box.encrypt("hunter2-partner");
        let b = sealed_box.encrypt("hunter2-partner");
        assert_ne!(a, b, "a fresh nonce every time");
        assert!(!a.contains("hunter2"));
        assert_eq!(
            sealed_box.decrypt(&a).unwrap().expose_secret(),
            "hunter2-partner"
        );
        let err = SecretBox::from_key_bytes([8; 32])
            .decrypt(&a)
            .unwrap_err()
            .to_string();
        assert!(err.contains("cannot be decrypted with this key"), "{err}");
    }

    #[test]
    fn altered_or_malformed_stored_text_is_refused() {
        let sealed_box = SecretBox::from_key_bytes([7; 32]);
        let mut bytes = STANDARD.decode(sealed_box.encrypt("pw")).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        for stored in [STANDARD.encode(&bytes), "not base64!".into(), "AAAA".into()] {
            assert!(matches!(sealed_box.decrypt(&stored), Err(Error::Config(_))));
        }
    }

    #[test]
    fn an_environment_key_must_be_32_bytes_of_base64_and_is_never_echoed() {
        let good = STANDARD.encode([1u8; 32]);
        assert!(SecretBox::from_env_value(OsStr::new(&good)).is_ok());
        assert!(SecretBox::from_env_value(OsStr::new(&format!("{good}\n"))).is_ok());
        for bad in ["c2hvcnQta2V5LXZhbHVl", "%%%not-base64%%%", ""] {
            let err = SecretBox::from_env_value(OsStr::new(bad))
                .unwrap_err()
                .to_string();
            assert!(err.contains(SECRET_KEY_ENV), "{err}");
            assert!(bad.is_empty() || !err.contains(bad), "{err}");
        }
    }

    #[test]
    fn debug_shows_nothing_of_the_key() {
        let shown = format!("{:?}", SecretBox::from_key_bytes([0xAB; 32]));
        assert_eq!(shown, "SecretBox(..)");
    }
}
