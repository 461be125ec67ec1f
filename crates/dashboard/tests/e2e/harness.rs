//! What every browser test stands on: the real `yelp-ads` binary in demo mode on port 0, Debian's
//! ChromeDriver and headless Chromium over WebDriver, screenshots of the key moments, and waits that say
//! what they waited for.

use std::io::{BufRead, BufReader, Write as _};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use tokio::sync::{Semaphore, SemaphorePermit};

/// Set (by `.ci/run`) when a missing browser must fail the run instead of skipping the tests.
const REQUIRED_ENV: &str = "YELP_ADS_E2E_REQUIRED";

/// One browser test at a time: Chromium and a demo server per test are all two cores can carry.
static ONE_AT_A_TIME: Semaphore = Semaphore::const_new(1);

/// How long a page may take to show what a test waits for (the demo's Yelp answers in 250 ms).
pub const PATIENCE: Duration = Duration::from_secs(30);

/// Where ChromeDriver and Chromium are, if they are installed.
struct Browser {
    driver: PathBuf,
    chromium: PathBuf,
}

fn find_browser() -> Result<Browser, String> {
    let locate = |env: &str, names: &[&str]| -> Option<PathBuf> {
        if let Some(path) = std::env::var_os(env) {
            return Some(PathBuf::from(path));
        }
        let dirs = std::env::var_os("PATH").unwrap_or_default();
        std::env::split_paths(&dirs)
            .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
            .find(|candidate| candidate.is_file())
    };
    let driver = locate("CHROMEDRIVER", &["chromedriver"])
        .ok_or("chromedriver is not installed (nor named by CHROMEDRIVER)")?;
    let chromium = locate("CHROMIUM", &["chromium", "chromium-browser"])
        .ok_or("chromium is not installed (nor named by CHROMIUM)")?;
    Ok(Browser { driver, chromium })
}

/// The browser, or `None` after saying loudly why the test is skipped. Under `.ci/run` a missing browser
/// fails the test instead.
fn browser_or_skip(test: &str) -> Option<Browser> {
    match find_browser() {
        Ok(browser) => Some(browser),
        Err(why) if std::env::var_os(REQUIRED_ENV).is_some() => {
            panic!("{test}: {why}, and {REQUIRED_ENV} says the browser tests must run")
        }
        Err(why) => {
            // Straight to stderr: the test harness would swallow a print of a passing test.
            let _ = writeln!(
                std::io::stderr().lock(),
                "SKIPPED browser test {test}: {why}. Install them with \
                 `apt-get install -y chromium chromium-driver` (.ci/run does) to run it."
            );
            None
        }
    }
}

/// A child process killed when dropped; with `group`, with every process it started (ChromeDriver's
/// Chromium outlives ChromeDriver otherwise).
struct Process {
    child: Child,
    group: bool,
}

impl Drop for Process {
    fn drop(&mut self) {
        if self.group {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", self.child.id())])
                .status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `yelp-ads` server in demo mode, with its own data directory, on a free port.
pub struct DemoServer {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// The demo's Yelp simulator (its control API is under `/_sim`).
    pub sim_url: String,
    data_dir: PathBuf,
    _process: Process,
}

impl DemoServer {
    fn start() -> Self {
        let data_dir =
            std::env::temp_dir().join(format!("yelp-ads-e2e-{:016x}", fastrand::u64(..)));
        std::fs::create_dir_all(&data_dir).expect("a temporary data directory");
        let log = std::fs::File::create(data_dir.join("server.log")).expect("a log file");
        let mut child = Command::new(env!("CARGO_BIN_EXE_yelp-ads"))
            .args(["serve", "--demo", "--bind", "127.0.0.1:0", "--data-dir"])
            .arg(&data_dir)
            .env_remove("DATABASE_URL")
            .env_remove("YELP_ADS_SECRET_KEY")
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("yelp-ads starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let process = Process {
            child,
            group: false,
        };
        let (mut base_url, mut sim_url) = (None, None);
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("the server's stdout");
            if let Some(url) = line.strip_prefix("yelp-ads listening on ") {
                base_url = Some(url.trim().to_owned());
            }
            if let Some(rest) = line.strip_prefix("Demo Yelp simulator: ") {
                sim_url = rest.split_whitespace().next().map(str::to_owned);
            }
            if base_url.is_some() && sim_url.is_some() {
                break;
            }
        }
        let (Some(base_url), Some(sim_url)) = (base_url, sim_url) else {
            panic!(
                "yelp-ads --demo did not say where it listens; its log: {}",
                data_dir.join("server.log").display()
            );
        };
        Self {
            base_url,
            sim_url,
            data_dir,
            _process: process,
        }
    }

    /// Adds a user to the demo workspace with the real CLI, on the server's own database.
    pub fn add_user(&self, username: &str, password: &str, role: &str) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_yelp-ads"))
            .args([
                "user",
                "add",
                username,
                "--workspace",
                "Demo agency",
                "--role",
                role,
                "--password-stdin",
                "--data-dir",
            ])
            .arg(&self.data_dir)
            .env_remove("DATABASE_URL")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("yelp-ads user add starts");
        writeln!(child.stdin.take().expect("piped stdin"), "{password}").expect("password sent");
        assert!(
            child.wait().expect("yelp-ads user add ends").success(),
            "yelp-ads user add {username} failed"
        );
    }

    /// A call of the demo simulator's control API.
    pub async fn sim(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = http().request(method, format!("{}{path}", self.sim_url));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the simulator answers");
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.unwrap_or(Value::Null)
    }
}

impl DemoServer {
    /// A call of the dashboard's own API as the demo user (HTTP Basic, which needs no CSRF token): its
    /// status and JSON body.
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (reqwest::StatusCode, Value) {
        let mut request = http()
            .request(method, format!("{}{path}", self.base_url))
            .basic_auth("demo", Some("demo"));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the dashboard answers");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.data_dir);
        }
    }
}

fn http() -> &'static reqwest::Client {
    static CLIENT: LazyLock<reqwest::Client> = LazyLock::new(|| {
        yelp_partner_api::install_crypto_provider();
        reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("an HTTP client")
    });
    &CLIENT
}

/// ChromeDriver on a free port.
struct Driver {
    url: String,
    _process: Process,
}

impl Driver {
    async fn start(browser: &Browser) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(&browser.driver)
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let process = Process { child, group: true };
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = match http().get(format!("{url}/status")).send().await {
                Ok(response) => response
                    .json::<Value>()
                    .await
                    .is_ok_and(|v| v["value"]["ready"] == true),
                Err(_) => false,
            };
            if ready {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver did not get ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self {
            url,
            _process: process,
        }
    }
}

/// One browser test: a demo server, a headless Chromium, and the test's screenshots.
pub struct Ui {
    /// The WebDriver session.
    pub client: Client,
    /// The server under test.
    pub server: DemoServer,
    test: String,
    shots: u32,
    _driver: Driver,
    _turn: SemaphorePermit<'static>,
}

impl Ui {
    /// Starts everything for `test`, or `None` (having said why) when the browser is not installed.
    pub async fn start(test: &str) -> Option<Self> {
        let browser = browser_or_skip(test)?;
        let turn = ONE_AT_A_TIME.acquire().await.expect("never closed");
        let server = DemoServer::start();
        let driver = Driver::start(&browser).await;
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": browser.chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run",
                    "--disable-dev-shm-usage", "--window-size=1280,1000", "--lang=en-US",
                ],
            },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("an object literal")
        };
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver.url)
            .await
            .expect("a Chromium session");
        Some(Self {
            client,
            server,
            test: test.to_owned(),
            shots: 0,
            _driver: driver,
            _turn: turn,
        })
    }

    /// Opens `path` of the server.
    pub async fn open(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.server.base_url))
            .await
            .unwrap_or_else(|e| panic!("open {path}: {e}"));
    }

    /// The path (and query) the browser is on.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("the current URL");
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// Saves a screenshot of this moment as `target/e2e-screenshots/<test>-<n>-<moment>.png`.
    pub async fn shot(&mut self, moment: &str) {
        self.shots += 1;
        let png = self.client.screenshot().await.expect("a screenshot");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("the screenshot directory");
        let file = dir.join(format!("{}-{:02}-{moment}.png", self.test, self.shots));
        std::fs::write(&file, png).expect("the screenshot is saved");
    }

    /// Saves a screenshot of the whole page, not only what the window shows: the window is made as tall as
    /// the page (at most 8,000 px) for the shot, then given its height back.
    pub async fn shot_page(&mut self, moment: &str) {
        let (width, height) = self.window_size().await;
        let page_height = self
            .client
            .execute(
                "return Math.ceil(document.documentElement.scrollHeight);",
                vec![],
            )
            .await
            .expect("the script runs")
            .as_u64()
            .unwrap_or(u64::from(height));
        let tall = u32::try_from(page_height.min(8000))
            .unwrap_or(8000)
            .max(height);
        self.client
            .set_window_size(width, tall)
            .await
            .expect("the window is resized");
        self.shot(moment).await;
        self.client
            .set_window_size(width, height)
            .await
            .expect("the window is resized back");
    }

    /// The window's outer size.
    async fn window_size(&self) -> (u32, u32) {
        let (width, height) = self
            .client
            .get_window_size()
            .await
            .expect("the window's size");
        (
            u32::try_from(width).unwrap_or(1280),
            u32::try_from(height).unwrap_or(1000),
        )
    }

    /// Makes the page `width` × `height` CSS pixels wide and tall, such as a phone's 390 × 844; answers
    /// the width the page then has (`innerWidth`).
    pub async fn viewport(&mut self, width: u32, height: u32) -> u64 {
        self.client
            .set_window_size(width, height)
            .await
            .expect("the window is resized");
        // The outer window may have edges: grow it by what the page lacks.
        let inner = self.inner_size().await;
        let (dw, dh) = (
            u64::from(width).saturating_sub(inner.0),
            u64::from(height).saturating_sub(inner.1),
        );
        if dw > 0 || dh > 0 {
            self.client
                .set_window_size(
                    width + u32::try_from(dw).unwrap_or(0),
                    height + u32::try_from(dh).unwrap_or(0),
                )
                .await
                .expect("the window is resized");
        }
        self.inner_size().await.0
    }

    async fn inner_size(&self) -> (u64, u64) {
        let size = self
            .client
            .execute("return [window.innerWidth, window.innerHeight];", vec![])
            .await
            .expect("the script runs");
        (size[0].as_u64().unwrap_or(0), size[1].as_u64().unwrap_or(0))
    }

    /// What sticks out sideways on the page now: empty when the page is no wider than the window
    /// (`scrollWidth <= innerWidth`), else the page's width and the elements beyond the window's edges
    /// (or scrolling sideways inside it), each named by its tag, id and classes.
    pub async fn too_wide(&self) -> Vec<String> {
        let found = self
            .client
            .execute(
                r##"
                const width = window.innerWidth;
                const page = document.documentElement.scrollWidth;
                const name = (e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") +
                    (typeof e.className === "string" && e.className.trim()
                        ? "." + e.className.trim().split(/\s+/).join(".") : "");
                const path = (e) => {
                    const parts = [];
                    for (let n = e; n && n !== document.body && parts.length < 4; n = n.parentElement) parts.unshift(name(n));
                    return parts.join(" > ");
                };
                // What a box that clips (overflow other than visible) holds cannot stick out of it: the
                // box itself is checked, and whether it scrolls sideways.
                const clipped = (e) => {
                    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
                        if (getComputedStyle(a).overflowX !== "visible") return true;
                    }
                    return false;
                };
                const offenders = [];
                for (const e of document.body.querySelectorAll("*")) {
                    const style = getComputedStyle(e);
                    if (style.display === "none" || style.visibility === "hidden") continue;
                    // Text for screen readers only (`.sr-only`) clips itself to nothing: it shows nowhere.
                    if (style.clip === "rect(0px, 0px, 0px, 0px)") continue;
                    const r = e.getBoundingClientRect();
                    if (r.width === 0 || r.height === 0) continue;
                    if ((r.right > width + 0.5 || r.left < -0.5) && !clipped(e)) {
                        offenders.push(path(e) + " spans " + Math.round(r.left) + "–" + Math.round(r.right) + " px");
                    } else if ((style.overflowX === "auto" || style.overflowX === "scroll") && e.scrollWidth > e.clientWidth + 1) {
                        offenders.push(path(e) + " scrolls sideways: " + e.scrollWidth + " px in " + e.clientWidth);
                    }
                }
                if (page <= width && offenders.length === 0) return [];
                return ["the page is " + page + " px wide in a window of " + width].concat(offenders.slice(0, 25));
                "##,
                vec![],
            )
            .await
            .expect("the script runs");
        found
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The first element matching `css`, if any, now.
    pub async fn find(&self, css: &str) -> Option<Element> {
        self.client.find(Locator::Css(css)).await.ok()
    }

    /// Every element matching `css`, now.
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_default()
    }

    /// Waits for an element matching `css`.
    pub async fn element(&mut self, css: &str) -> Element {
        let what = format!("an element {css}");
        self.until(&what, async |ui: &Ui| ui.find(css).await).await
    }

    /// Waits until `check` answers `Some`, polling every 50 ms for at most [`PATIENCE`]; on time-out saves
    /// a screenshot and fails naming `what`.
    pub async fn until<T>(
        &mut self,
        what: &str,
        mut check: impl AsyncFnMut(&Ui) -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(found) = check(self).await {
                return found;
            }
            if Instant::now() > deadline {
                self.shot("timed-out").await;
                let path = self.path().await;
                panic!("{}: waited {PATIENCE:?} for {what} on {path}", self.test);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The text of `css` now, or an empty string when there is no such element.
    /// Scrolls `css` into view, for a screenshot of it.
    pub async fn scroll_to(&self, css: &str) {
        self.client
            .execute(
                "const e = document.querySelector(arguments[0]); if (e) e.scrollIntoView({block: 'start'});",
                vec![serde_json::json!(css)],
            )
            .await
            .expect("the script runs");
    }

    pub async fn text(&self, css: &str) -> String {
        match self.find(css).await {
            Some(element) => element.text().await.unwrap_or_default(),
            None => String::new(),
        }
    }

    /// An attribute of `css` now.
    pub async fn attr(&self, css: &str, name: &str) -> Option<String> {
        self.find(css).await?.attr(name).await.ok().flatten()
    }

    /// Whether `css` is on the page and shown.
    pub async fn visible(&self, css: &str) -> bool {
        match self.find(css).await {
            Some(element) => element.is_displayed().await.unwrap_or(false),
            None => false,
        }
    }

    /// Replaces the value of the input `css` with `value`, as a user would type it.
    pub async fn fill(&mut self, css: &str, value: &str) {
        let input = self.element(css).await;
        input.clear().await.expect("the input is cleared");
        input.send_keys(value).await.expect("the input takes keys");
    }

    /// Sets a `<select>` to the option of `value`.
    pub async fn choose(&mut self, css: &str, value: &str) {
        let select = self.element(css).await;
        select
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("{css} has no option {value}: {e}"));
    }

    /// Clicks `css`.
    pub async fn click(&mut self, css: &str) {
        let element = self.element(css).await;
        element
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Signs in through the sign-in form, from wherever the browser is sent to it.
    pub async fn sign_in(&mut self, username: &str, password: &str) {
        self.fill("#username", username).await;
        self.fill("#password", password).await;
        self.shot("sign-in").await;
        self.click("#login-submit").await;
        self.until("the sign-in to finish", async |ui: &Ui| {
            (!ui.path().await.starts_with("/login")).then_some(())
        })
        .await;
    }

    /// Signs in as the demo user from `/programs` and waits for its automatic sync to end successfully,
    /// business names included.
    pub async fn signed_in_and_synced(&mut self) {
        self.open("/programs").await;
        self.sign_in("demo", "demo").await;
        self.until("the first sync to succeed", async |ui: &Ui| {
            let state = ui.attr("#sync-panel", "data-state").await;
            let ended = ui.attr("#sync-panel", "data-ended").await;
            (state.as_deref() == Some("success") && ended.as_deref() == Some("true")).then_some(())
        })
        .await;
    }
}

fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"),
        PathBuf::from,
    );
    target.join("e2e-screenshots")
}

/// Today's date as the forms take it.
pub fn today() -> String {
    chrono::Utc::now().date_naive().to_string()
}

/// A date `days` from today.
pub fn in_days(days: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(days)).to_string()
}
