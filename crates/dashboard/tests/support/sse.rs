//! The one reader of the dashboard's event streams, for the tests (`helpers::sse`) and the benchmarks
//! (`support::sse`): `eventsource-stream` parses them as a browser's `EventSource` does (comments and
//! events without data skipped, multi-line data joined).

use eventsource_stream::Eventsource as _;
use futures::StreamExt as _;
use futures::stream::BoxStream;
use serde_json::Value;

/// One server-sent event.
#[derive(Debug, Clone, PartialEq)]
pub struct SseEvent {
    /// Its `id:`, if the stream has given one.
    pub id: Option<String>,
    /// Its `data:`, as JSON.
    pub data: Value,
}

/// Reads an event stream event by event, to its end or until the connection breaks (its server was
/// stopped).
pub struct SseReader {
    events: BoxStream<'static, Result<eventsource_stream::Event, String>>,
    broken: bool,
}

impl SseReader {
    /// A reader of `response`'s body; panics unless it is a 200.
    pub fn new(response: reqwest::Response) -> Self {
        assert_eq!(response.status(), 200, "an event stream answers 200");
        let events = response
            .bytes_stream()
            .eventsource()
            .map(|event| event.map_err(|e| e.to_string()))
            .boxed();
        Self {
            events,
            broken: false,
        }
    }

    /// The next event; `None` at the stream's end or once the connection broke ([`Self::broken`] tells
    /// which). Panics on data that is not JSON.
    pub async fn next(&mut self) -> Option<SseEvent> {
        if self.broken {
            return None;
        }
        match self.events.next().await? {
            Ok(event) => {
                let data = serde_json::from_str(&event.data)
                    .unwrap_or_else(|e| panic!("event data is not JSON ({e}): {}", event.data));
                let id = Some(event.id).filter(|id| !id.is_empty());
                Some(SseEvent { id, data })
            }
            Err(_) => {
                self.broken = true;
                None
            }
        }
    }

    /// Whether the connection broke before the stream's end.
    pub fn broken(&self) -> bool {
        self.broken
    }

    /// Every event left, to the stream's end or until the connection breaks.
    pub async fn rest(mut self) -> Vec<SseEvent> {
        let mut events = Vec::new();
        while let Some(event) = self.next().await {
            events.push(event);
        }
        events
    }
}

/// Reads a `text/event-stream` answer to its end, checking the headers every event stream of the dashboard
/// carries (not cached, not buffered by a proxy). Panics when the connection breaks first.
pub async fn read_sse(response: reqwest::Response) -> Vec<SseEvent> {
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    assert_eq!(response.headers()["cache-control"], "no-cache");
    assert_eq!(response.headers()["x-accel-buffering"], "no");
    let mut reader = SseReader::new(response);
    let mut events = Vec::new();
    while let Some(event) = reader.next().await {
        events.push(event);
    }
    assert!(!reader.broken(), "the event stream broke after {events:?}");
    events
}
