// A change set's page while it posts: follows its event stream (EventSource) and moves the combined bar
// and the done / failed / pending counts; once the stream says it is done, reloads the page, which then
// shows every item's outcome and what can be done next. Without EventSource (or when the stream breaks)
// it reloads the page every few seconds instead. Without this script the page has a Refresh link.
(function () {
  "use strict";
  const app = window.YelpAds;
  const RELOAD_MS = 3000;
  const panel = document.getElementById("change-set-progress");
  if (!panel || panel.dataset.state !== "posting") return;
  const bar = document.getElementById("change-set-bar");
  const counts = {
    completed: document.getElementById("count-completed"),
    failed: document.getElementById("count-failed"),
    pending: document.getElementById("count-pending"),
  };

  function update(event) {
    const c = event.counts || {};
    const ended = (c.completed || 0) + (c.failed || 0);
    const total = c.changes || 0;
    app.setProgress(bar, total ? (ended * 100) / total : 100);
    bar.setAttribute("aria-valuetext", ended + " of " + total + " ended");
    Object.keys(counts).forEach(function (name) {
      if (counts[name]) counts[name].textContent = String(c[name] || 0);
    });
    panel.dataset.state = event.state;
  }

  function reloadSoon() {
    setTimeout(function () { location.reload(); }, RELOAD_MS);
  }

  if (!("EventSource" in window)) {
    reloadSoon();
    return;
  }
  let done = false;
  const source = new EventSource(
    "/api/reseller/change-sets/" + encodeURIComponent(panel.dataset.changeSetId) + "/events"
  );
  source.onmessage = function (message) {
    let event;
    try {
      event = JSON.parse(message.data);
    } catch (_) {
      return;
    }
    update(event);
    if (event.state === "done" && !done) {
      done = true;
      source.close();
      location.reload();
    }
  };
  source.onerror = function () {
    // The stream closes after its last event; before that, an error means it is unavailable.
    source.close();
    if (!done) reloadSoon();
  };
})();
