//! The stylesheet and scripts, embedded in the binary and served at content-hashed URLs
//! (`/assets/app.3f2a9c1b0d4e.css`) that browsers may cache for ever: a changed file gets a new URL.

use std::sync::LazyLock;

use crate::web::extract::PathParam;
use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};

use crate::web::AppState;

/// Hex digits of the SHA-256 in an asset's URL.
const HASH_HEX: usize = 12;

/// One embedded file.
struct Asset {
    /// Its file name, e.g. `app.css`.
    name: &'static str,
    body: &'static [u8],
    content_type: &'static str,
    /// `app.<hash>.css`.
    hashed: String,
}

impl Asset {
    fn new(name: &'static str, body: &'static [u8]) -> Self {
        let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
        let hash: String = Sha256::digest(body)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let content_type = match ext {
            "css" => "text/css; charset=utf-8",
            "js" => "text/javascript; charset=utf-8",
            "svg" => "image/svg+xml",
            _ => "application/octet-stream",
        };
        Self {
            name,
            body,
            content_type,
            hashed: format!("{stem}.{}.{ext}", &hash[..HASH_HEX]),
        }
    }

    fn url(&self) -> String {
        format!("/assets/{}", self.hashed)
    }
}

/// The URL of every asset, for templates; computed once.
pub struct Assets {
    files: Vec<Asset>,
    /// The one stylesheet.
    pub css: String,
    /// What every page uses: the CSRF header for scripts, the business picker.
    pub app_js: String,
    /// The programs page: sync progress, list refresh.
    pub programs_js: String,
    /// The job tracker.
    pub tracker_js: String,
    /// The create and edit forms.
    pub form_js: String,
    /// The jobs page: live refresh.
    pub jobs_js: String,
    /// The settings page: connection test.
    pub settings_js: String,
    /// The features page: live counters and checks.
    pub features_js: String,
    /// A change set's page: live progress while it posts.
    pub change_set_js: String,
    /// The schedule forms: the fields each change takes.
    pub schedule_js: String,
    /// The site's icon, linked from every page (and also answered at `/favicon.ico`).
    pub favicon: String,
}

static ASSETS: LazyLock<Assets> = LazyLock::new(|| {
    let files = vec![
        Asset::new("app.css", include_bytes!("../../assets/app.css")),
        Asset::new("app.js", include_bytes!("../../assets/app.js")),
        Asset::new("programs.js", include_bytes!("../../assets/programs.js")),
        Asset::new("tracker.js", include_bytes!("../../assets/tracker.js")),
        Asset::new(
            "program-form.js",
            include_bytes!("../../assets/program-form.js"),
        ),
        Asset::new("jobs.js", include_bytes!("../../assets/jobs.js")),
        Asset::new("settings.js", include_bytes!("../../assets/settings.js")),
        Asset::new("features.js", include_bytes!("../../assets/features.js")),
        Asset::new(
            "change-set.js",
            include_bytes!("../../assets/change-set.js"),
        ),
        Asset::new("schedule.js", include_bytes!("../../assets/schedule.js")),
        Asset::new("favicon.svg", include_bytes!("../../assets/favicon.svg")),
    ];
    let url = |name: &str| {
        files
            .iter()
            .find(|a| a.name == name)
            .map(Asset::url)
            .unwrap_or_default()
    };
    Assets {
        css: url("app.css"),
        app_js: url("app.js"),
        programs_js: url("programs.js"),
        tracker_js: url("tracker.js"),
        form_js: url("program-form.js"),
        jobs_js: url("jobs.js"),
        settings_js: url("settings.js"),
        features_js: url("features.js"),
        change_set_js: url("change-set.js"),
        schedule_js: url("schedule.js"),
        favicon: url("favicon.svg"),
        files,
    }
});

/// The assets and their URLs.
pub fn assets() -> &'static Assets {
    &ASSETS
}

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/assets/{file}", get(serve))
        .route("/favicon.ico", get(favicon))
}

/// How long a browser may keep `/favicon.ico` (seconds): its URL does not change with its content.
const FAVICON_MAX_AGE: &str = "public, max-age=86400";

/// `GET /favicon.ico`: the icon, for the browsers and tools that ask for it there whatever the page links
/// (an SVG body, which browsers read by its content type whatever the name says).
async fn favicon() -> Response {
    let Some(icon) = assets().files.iter().find(|a| a.name == "favicon.svg") else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    let mut response = icon.body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(icon.content_type),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(FAVICON_MAX_AGE),
    );
    response
}

/// `GET /assets/{name}.{hash}.{ext}`: the file, cacheable for a year; any other hash is a 404, so that a
/// stale URL never gets a new body cached under it.
async fn serve(PathParam(file): PathParam) -> Response {
    let Some(asset) = assets().files.iter().find(|a| a.hashed == file) else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    let mut response = asset.body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_has_a_url_named_by_its_content() {
        let assets = assets();
        for url in [
            &assets.css,
            &assets.app_js,
            &assets.programs_js,
            &assets.tracker_js,
            &assets.form_js,
            &assets.jobs_js,
            &assets.settings_js,
            &assets.features_js,
            &assets.change_set_js,
            &assets.schedule_js,
            &assets.favicon,
        ] {
            let file = url.strip_prefix("/assets/").unwrap();
            let parts: Vec<&str> = file.split('.').collect();
            assert_eq!(parts.len(), 3, "{url}");
            assert_eq!(parts[1].len(), HASH_HEX, "{url}");
            assert!(parts[1].bytes().all(|b| b.is_ascii_hexdigit()), "{url}");
        }
    }
}
