//! The accept loop: each connection served by hyper's HTTP/1, watched so that a client cannot hold one
//! open without using it. `axum::serve` has no such limit: connections that sent half a request and
//! stalled stayed open for ever, and a few hundred of them used up the process's file descriptors.
//!
//! A connection is *waiting* while none of its requests is being handled: then it is closed when the
//! request it started sending has not reached its end of headers within [`ConnectionLimits::header_read`],
//! or, when it sends nothing, after [`ConnectionLimits::idle`] without a byte either way (a keep-alive
//! connection between requests). While a handler runs, and for the whole life of an event stream, nothing
//! is timed: a sync answered at its end and a stream that is quiet between events are not cut.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, header};
use axum::serve::Listener;
use futures::StreamExt as _;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::time::Instant;
use tower::ServiceExt as _;

/// How long a connection may wait, by what it is waiting for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// From a request's first byte to the end of its headers.
    pub header_read: Duration,
    /// Without a byte either way while no request is being handled (between keep-alive requests).
    pub idle: Duration,
}

impl Default for ConnectionLimits {
    /// 10 s to send a request's headers; 75 s idle between requests, longer than the 60 s for which a
    /// reverse proxy in front (nginx's `keepalive_timeout` for upstreams) keeps an idle connection to us,
    /// so that the proxy closes it first and never sends a request on a connection we are closing.
    fn default() -> Self {
        Self {
            header_read: Duration::from_secs(10),
            idle: Duration::from_secs(75),
        }
    }
}

/// Serves `router` on `listener` until `shutdown` resolves; then accepts no more connections, lets each
/// finish the request it is handling, and returns once every connection has closed.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let mut listener = listener;
    let (stop_tx, stop_rx) = watch::channel(false);
    // Every connection task holds a receiver: when all are dropped, every connection has closed.
    let (closed_tx, closed_rx) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = Listener::accept(&mut listener) => accepted,
            () = &mut shutdown => break,
        };
        let connection = serve_connection(stream, peer, router.clone(), limits, stop_rx.clone());
        let closed = closed_rx.clone();
        tokio::spawn(async move {
            connection.await;
            drop(closed);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    drop(closed_rx);
    closed_tx.closed().await;
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: ConnectionLimits,
    mut stop: watch::Receiver<bool>,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched {
        inner: stream,
        activity: activity.clone(),
    });
    let handlers = activity.clone();
    let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        let busy = Busy::start(handlers.clone());
        let router = router.clone();
        async move {
            let response = router.oneshot(request.map(Body::new)).await?;
            let is_stream = response
                .headers()
                .get(header::CONTENT_TYPE)
                .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
            if !is_stream {
                return Ok::<_, std::convert::Infallible>(response);
            }
            // An event stream counts as handled until its last byte, however long it is quiet.
            Ok(response.map(|body| {
                Body::from_stream(body.into_data_stream().map(move |chunk| {
                    let _held = &busy;
                    chunk
                }))
            }))
        }
    });
    let connection = hyper::server::conn::http1::Builder::new().serve_connection(io, service);
    let mut connection = pin!(connection);
    let mut stopping = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            why = activity.expired(limits) => {
                tracing::debug!(%peer, why, "closing a connection that waited too long");
                return;
            }
            changed = stop.changed(), if !stopping => {
                stopping = true;
                if changed.is_err() || *stop.borrow() {
                    // Ends it after the request being handled, or at once when none is.
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// What a connection is doing, as its socket and its requests tell.
struct Activity {
    state: Mutex<State>,
    /// Told when a deadline may have come nearer or gone away.
    changed: Notify,
}

struct State {
    /// Requests being handled (and event streams being sent).
    handling: usize,
    /// The last byte read or written.
    last_io: Instant,
    /// When the request now arriving sent its first byte, while none is being handled.
    request_started: Option<Instant>,
}

impl Activity {
    fn new() -> Self {
        Self {
            state: Mutex::new(State {
                handling: 0,
                last_io: Instant::now(),
                request_started: None,
            }),
            changed: Notify::new(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn read(&self) {
        let mut state = self.state();
        let now = Instant::now();
        state.last_io = now;
        if state.handling == 0 && state.request_started.is_none() {
            state.request_started = Some(now);
            drop(state);
            self.changed.notify_one();
        }
    }

    fn wrote(&self) {
        self.state().last_io = Instant::now();
    }

    /// Resolves when the connection has waited past its limit; answers what for.
    async fn expired(&self, limits: ConnectionLimits) -> &'static str {
        loop {
            let deadline = {
                let state = self.state();
                if state.handling > 0 {
                    None
                } else if let Some(started) = state.request_started {
                    Some((started + limits.header_read, "headers not received in time"))
                } else {
                    Some((state.last_io + limits.idle, "idle"))
                }
            };
            match deadline {
                None => self.changed.notified().await,
                Some((at, why)) if at <= Instant::now() => return why,
                Some((at, _)) => {
                    tokio::select! {
                        () = self.changed.notified() => {}
                        () = tokio::time::sleep_until(at) => {}
                    }
                }
            }
        }
    }
}

/// A request being handled; the connection waits again once every one has been dropped.
struct Busy(Arc<Activity>);

impl Busy {
    fn start(activity: Arc<Activity>) -> Self {
        {
            let mut state = activity.state();
            state.handling += 1;
            state.request_started = None;
        }
        activity.changed.notify_one();
        Self(activity)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        {
            let mut state = self.0.state();
            state.handling = state.handling.saturating_sub(1);
            state.last_io = Instant::now();
        }
        self.0.changed.notify_one();
    }
}

/// A socket that tells its [`Activity`] of every byte that moves.
struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.read();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.wrote();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.wrote();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
