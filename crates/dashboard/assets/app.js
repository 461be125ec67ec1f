// Shared by every page: requests that carry the session's CSRF token, server-sent events read from a
// fetch body (EventSource cannot POST), progress bars, and the business picker. Pages work without this;
// it only makes them livelier.
(function () {
  "use strict";

  const meta = document.querySelector('meta[name="csrf-token"]');
  const csrfToken = meta ? meta.content : "";

  /** fetch() with the CSRF header the API wants on every change; `json` becomes the JSON body. */
  function request(url, options) {
    const opts = options || {};
    const headers = Object.assign(
      { "X-CSRF-Token": csrfToken, Accept: "application/json" },
      opts.headers || {}
    );
    const init = { method: opts.method || "POST", headers: headers, credentials: "same-origin" };
    if (opts.json !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(opts.json);
    }
    return fetch(url, init);
  }

  /** The JSON of an answer; an answer that is not JSON becomes an error object saying its status. */
  async function json(response) {
    try {
      return await response.json();
    } catch (_) {
      return { error: { message: "The server answered " + response.status + "." } };
    }
  }

  /** The message of an API error answer: every field's message when there are several. */
  function errorMessage(body, fallback) {
    const error = body && body.error;
    if (!error) return fallback;
    return error.message || fallback;
  }

  /** Calls onEvent with the parsed `data:` of every event of a text/event-stream body, until it ends. */
  async function readEvents(response, onEvent) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n?/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block
          .split("\n")
          .filter(function (line) { return line.startsWith("data:"); })
          .map(function (line) { return line.slice(5).replace(/^ /, ""); })
          .join("\n");
        if (!data) continue; // a heartbeat comment
        let event;
        try {
          event = JSON.parse(data);
        } catch (_) {
          continue;
        }
        onEvent(event);
      }
    }
  }

  /** Sets a role=progressbar element to `percent` (0–100): its ARIA value and its fill's width. */
  function setProgress(bar, percent) {
    if (!bar) return;
    const value = Math.max(0, Math.min(100, Math.round(Number(percent) || 0)));
    bar.setAttribute("aria-valuenow", String(value));
    const fill = bar.querySelector(".progress-fill");
    if (fill) fill.style.width = value + "%";
  }

  /** `2026-05-01T13:45:00Z` as the server writes times: `2026-05-01 13:45 UTC`. */
  function formatTime(iso) {
    if (!iso) return "";
    const date = new Date(iso);
    if (isNaN(date.getTime())) return "";
    const text = date.toISOString();
    return text.slice(0, 10) + " " + text.slice(11, 16) + " UTC";
  }

  // Progress bars rendered by the server carry their value in aria-valuenow; the fill follows it.
  document.querySelectorAll('[role="progressbar"]').forEach(function (bar) {
    setProgress(bar, bar.getAttribute("aria-valuenow"));
  });

  // Business pickers: a text input with a <datalist> filled, on first use, from the businesses API, so the
  // browser filters hundreds of businesses as the user types instead of showing one long select.
  let businesses = null;
  async function fillPicker(input) {
    const list = input.list;
    if (!list || list.dataset.filled) return;
    list.dataset.filled = "true";
    try {
      if (!businesses) {
        const response = await fetch("/api/reseller/business-ids", {
          credentials: "same-origin",
          headers: { Accept: "application/json" },
        });
        if (!response.ok) return;
        businesses = (await response.json()).businesses || [];
      }
      const fragment = document.createDocumentFragment();
      businesses.forEach(function (b) {
        const option = document.createElement("option");
        option.value = b.business_id;
        const name = b.name || b.partner_business_id || "";
        const count = b.program_count === 1 ? "1 program" : b.program_count + " programs";
        option.label = name ? name + " · " + count : count;
        option.textContent = option.label;
        fragment.appendChild(option);
      });
      list.replaceChildren(fragment);
    } catch (_) {
      delete list.dataset.filled;
    }
  }
  document.addEventListener("focusin", function (event) {
    const input = event.target;
    if (input instanceof HTMLInputElement && input.hasAttribute("data-business-picker")) {
      fillPicker(input);
    }
  });

  window.YelpAds = {
    csrfToken: csrfToken,
    request: request,
    json: json,
    errorMessage: errorMessage,
    readEvents: readEvents,
    setProgress: setProgress,
    formatTime: formatTime,
  };
})();
