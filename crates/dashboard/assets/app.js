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

  // Business pickers: a text field that suggests the workspace's businesses by name as the user types (a
  // few at a time from the businesses API, so that hundreds of businesses need no long list), and puts the
  // chosen one's id in the field. Without this script the field takes an id or part of a name, which the
  // server matches the same way.
  async function getJson(url) {
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      return { status: response.status, body: response.ok ? await response.json() : null };
    } catch (_) {
      return { status: 0, body: null };
    }
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function flagOf(b) {
    if (b.is_closed) return "Closed";
    if (b.is_removed_from_search) return "Removed from search";
    return null;
  }

  function programsText(count) {
    if (!count) return "No live programs";
    return count === 1 ? "1 live program" : count + " live programs";
  }

  // A business's card under a create form's field: who it is, a flag when Yelp would refuse a program for
  // it, and the programs it has. Built with textContent only: names come from Yelp.
  async function showCard(input) {
    const card = document.getElementById(input.dataset.businessCard);
    if (!card) return;
    const id = input.value.trim();
    if (!id) {
      card.replaceChildren();
      return;
    }
    const { status, body } = await getJson("/api/reseller/businesses/" + encodeURIComponent(id));
    if (input.value.trim() !== id) return; // changed again meanwhile
    if (!body) {
      card.replaceChildren(el("p", "muted", status === 404
        ? "Not a business of this workspace's programs: the server matches it by name, or Yelp judges the id."
        : "The business could not be looked up; it is checked when the form is sent."));
      return;
    }
    const head = el("p", "business-card-name");
    const link = el("a", "business", body.name || body.business_id);
    link.href = "/programs?business_id=" + encodeURIComponent(body.business_id);
    link.title = body.business_id + " · its programs";
    head.appendChild(link);
    if (body.city) head.appendChild(el("span", "muted", ", " + body.city));
    const flag = flagOf(body);
    if (flag) head.append(" ", el("span", "badge badge-flag", flag));
    const parts = [head];
    if (body.inactive_reason) {
      const warning = el("p", "field-warning", "Yelp refuses new programs here: " + body.inactive_reason + ".");
      warning.dataset.inactive = "true";
      parts.push(warning);
    }
    parts.push(el("p", "muted", programsText(body.live_programs)));
    const programs = (body.programs || []).slice(0, 8);
    if (programs.length) {
      const list = el("ul", "business-card-programs");
      programs.forEach(function (p) {
        const item = el("li");
        const a = el("a", "mono", p.program_id);
        a.href = "/program-status/" + encodeURIComponent(p.program_id);
        item.append(a, " " + p.program_type + " · " + p.program_status);
        list.appendChild(item);
      });
      parts.push(list);
    }
    card.replaceChildren.apply(card, parts);
  }

  function setupPicker(input) {
    if (input.dataset.pickerReady) return;
    input.dataset.pickerReady = "true";
    const list = el("ul", "picker-list");
    list.id = input.id + "-suggestions";
    list.hidden = true;
    input.insertAdjacentElement("afterend", list);
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("aria-expanded", "false");
    let timer = null;
    let asked = 0;

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
    }

    function choose(b) {
      input.value = b.business_id;
      close();
      input.focus();
      input.dispatchEvent(new Event("change", { bubbles: true }));
      if (input.hasAttribute("data-picker-submit") && input.form) input.form.requestSubmit();
    }

    async function suggest() {
      const text = input.value.trim();
      const mine = ++asked;
      if (text.length < 2) {
        list.replaceChildren();
        close();
        return;
      }
      const { body } = await getJson("/api/reseller/businesses?limit=8&search=" + encodeURIComponent(text));
      if (mine !== asked || !body) return; // a later keystroke asked since, or the lookup failed
      const found = (body.businesses || []).filter(function (b) { return b.business_id !== text; });
      list.replaceChildren.apply(list, found.map(function (b) {
        const button = el("button", "picker-option");
        button.type = "button";
        button.dataset.businessId = b.business_id;
        button.appendChild(el("strong", "", b.name || b.business_id));
        if (b.city) button.appendChild(el("span", "", ", " + b.city));
        const flag = flagOf(b);
        if (flag) button.append(" ", el("span", "badge badge-flag", flag));
        button.appendChild(el("small", "muted block", programsText(b.live_programs) + " · " + b.business_id));
        button.addEventListener("click", function () { choose(b); });
        const item = el("li");
        item.appendChild(button);
        return item;
      }));
      list.hidden = found.length === 0;
      input.setAttribute("aria-expanded", String(!list.hidden));
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(suggest, 150);
    });
    input.addEventListener("change", function () {
      if (input.dataset.businessCard) showCard(input);
    });
    // Arrow keys move between the field and the suggestions; Escape closes them.
    function move(from, step) {
      const buttons = Array.from(list.querySelectorAll("button"));
      const at = buttons.indexOf(from) + step;
      if (at < 0) input.focus();
      else if (buttons[at]) buttons[at].focus();
    }
    input.addEventListener("keydown", function (event) {
      if (event.key === "Escape") close();
      if (event.key === "ArrowDown" && !list.hidden) {
        event.preventDefault();
        move(null, 1);
      }
    });
    list.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        move(event.target, event.key === "ArrowDown" ? 1 : -1);
      } else if (event.key === "Escape") {
        close();
        input.focus();
      }
    });
    document.addEventListener("click", function (event) {
      if (event.target !== input && !list.contains(event.target)) close();
    });
    if (input.dataset.businessCard && input.value.trim() && !document.getElementById(input.dataset.businessCard).childElementCount) {
      showCard(input);
    }
  }
  function setupPickers(root) {
    root.querySelectorAll("input[data-business-picker]").forEach(setupPicker);
  }
  setupPickers(document);

  // Panels that fold on phones only (the menu, the list filters): <details data-wide-open>. From 700 px wide
  // the stylesheet shows their content even while closed; opening them there too keeps what assistive
  // technology and scripts read in line with what is shown. Crossing the width opens or folds them.
  const wide = window.matchMedia("(min-width: 700px)");
  function unfoldWhenWide(root) {
    root.querySelectorAll("details[data-wide-open]").forEach(function (panel) {
      if (wide.matches) panel.open = true;
    });
  }
  unfoldWhenWide(document);
  wide.addEventListener("change", function () {
    document.querySelectorAll("details[data-wide-open]").forEach(function (panel) {
      panel.open = wide.matches;
    });
  });
  // Escape folds an open menu on a phone and gives the focus back to its toggle.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || wide.matches) return;
    const menu = document.getElementById("menu");
    if (menu && menu.open && menu.contains(document.activeElement)) {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });

  window.YelpAds = {
    unfoldWhenWide: unfoldWhenWide,
    csrfToken: csrfToken,
    request: request,
    json: json,
    errorMessage: errorMessage,
    readEvents: readEvents,
    setProgress: setProgress,
    formatTime: formatTime,
    setupPickers: setupPickers,
  };
})();
