// The programs page: the sync that starts when the page opens (or joins the one running), its live
// progress, the "Sync Programs" button, and list navigation without reloads (so a filter change does not
// start another sync), and the selection of programs to change together. Without this script the filters,
// sorting and pages are plain links and forms, and the selection is the current page's ticked rows.
(function () {
  "use strict";
  const app = window.YelpAds;
  const panel = document.getElementById("sync-panel");
  const message = document.getElementById("sync-message");
  const bar = document.getElementById("sync-progress");
  const retry = document.getElementById("sync-retry");
  const button = document.getElementById("sync-button");
  const announce = document.getElementById("sync-announce");
  const HIDE_AFTER_MS = 5000;

  let running = false;
  let hideTimer = null;

  function say(text) {
    if (announce) announce.textContent = text;
  }

  function show(state, text, percent) {
    panel.hidden = false;
    panel.dataset.state = state;
    message.textContent = text;
    if (percent !== undefined) app.setProgress(bar, percent);
  }

  function fail(text) {
    show("error", text);
    retry.hidden = false;
    say("Sync failed: " + text);
  }

  function completeText(event) {
    if (event.status === "up_to_date") return "✅ Already up to date";
    const plural = event.added === 1 ? "program" : "programs";
    return "✅ Synced " + event.added + " new " + plural + " · " + event.updated + " updated · " +
      event.removed + " removed";
  }

  /** Starts a sync (or joins the running one) and shows its events until it ends. */
  async function sync(trigger) {
    if (!panel || running) return;
    running = true;
    clearTimeout(hideTimer);
    if (button) {
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
    }
    retry.hidden = true;
    show("running", "Starting synchronization…", 0);
    delete panel.dataset.ended;
    let changed = false;
    let ended = false;
    let outcome = null; // the program sync's outcome, once the `listed` event has said it
    let shown = null; // the list's reload at `listed`, awaited before the panel says it has ended
    try {
      const response = await app.request(
        "/api/reseller/programs/sync-stream?trigger=" + encodeURIComponent(trigger),
        { headers: { Accept: "text/event-stream" } }
      );
      if (!response.ok) {
        const body = await app.json(response);
        throw new Error(app.errorMessage(body, "The sync could not start (" + response.status + ")."));
      }
      await app.readEvents(response, function (event) {
        switch (event.type) {
          case "start":
            show("running", "Starting synchronization…", 0);
            break;
          case "info": {
            const found = "Found " + event.to_sync + (event.to_sync === 1 ? " program" : " programs") + " to sync";
            show("running", found, 0);
            say(found);
            break;
          }
          case "progress":
            show("running", event.synced + "/" + event.total + " (" + event.percentage + "%)", event.percentage);
            if (event.added > 0 || event.updated > 0) changed = true;
            break;
          case "listed":
            // The programs are in: say so and show them now; business names follow in a moment.
            outcome = completeText(event);
            show("success", outcome, 100);
            say(outcome);
            if (event.added > 0 || event.updated > 0 || event.removed > 0) {
              changed = false;
              shown = load(location.href, { push: false, filters: false });
            }
            break;
          case "enrich":
            if (outcome) show("success", outcome + " · naming businesses " + event.done + " of " + event.total);
            break;
          case "complete": {
            ended = true;
            // Shown at `listed` already, but names changed since (or no `listed` came): show the list again.
            const counts = event.added > 0 || event.updated > 0 || event.removed > 0;
            if (event.businesses_updated > 0 || (!outcome && counts)) changed = true;
            const text = completeText(event);
            show("success", text, 100);
            say(text + (event.warning ? ". " + event.warning : ""));
            hideTimer = setTimeout(function () { panel.hidden = true; }, HIDE_AFTER_MS);
            break;
          }
          case "error":
            ended = true;
            fail(event.message || "The sync failed.");
            break;
        }
      });
      if (!ended) fail("The connection ended before the sync did; try again.");
    } catch (error) {
      fail(error && error.message ? error.message : "The sync could not start.");
    } finally {
      running = false;
      if (button) {
        button.disabled = false;
        button.removeAttribute("aria-busy");
      }
      await shown;
      if (changed) await load(location.href, { push: false, filters: false });
      // Said once the list on screen is the final one (names included): what a test waits for.
      if (ended) panel.dataset.ended = "true";
    }
  }

  // List navigation: fetch the page's own HTML for the new URL and swap the list in place.
  const listAnnounce = document.createElement("p");
  listAnnounce.className = "sr-only";
  listAnnounce.setAttribute("aria-live", "polite");
  document.body.appendChild(listAnnounce);

  function swap(id, doc) {
    const current = document.getElementById(id);
    const next = doc.getElementById(id);
    if (current && next) current.replaceWith(next);
  }

  async function load(url, options) {
    let response;
    try {
      response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
    } catch (_) {
      location.assign(url);
      return;
    }
    const landed = new URL(response.url, location.href);
    if (!response.ok || landed.pathname !== "/programs") {
      location.assign(url); // a signed-out session or an error: let the browser show it
      return;
    }
    const doc = new DOMParser().parseFromString(await response.text(), "text/html");
    swap("programs-region", doc);
    swap("last-synced", doc);
    if (options.filters) {
      swap("program-filters", doc);
      swap("filter-summary", doc);
      const filters = document.getElementById("program-filters");
      if (filters) app.setupPickers(filters);
    }
    restoreSelection();
    if (options.push) history.pushState({ list: true }, "", url);
    const count = document.getElementById("program-count");
    if (count && options.filters) listAnnounce.textContent = count.textContent;
  }

  document.addEventListener("click", function (event) {
    const link = event.target.closest("a[data-nav]");
    if (!link || event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    load(link.href, { push: true, filters: true });
  });

  // The filters and the page jump: the same GET forms, loaded in place.
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    if (form.id !== "program-filters" && form.id !== "page-jump") return;
    event.preventDefault();
    const params = new URLSearchParams();
    new FormData(form).forEach(function (value, name) {
      if (value !== "") params.append(name, value);
    });
    const query = params.toString();
    load("/programs" + (query ? "?" + query : ""), { push: true, filters: true });
  });


  // Selection: the ticked programs of a view, kept per filter in sessionStorage so that paging (and
  // sorting) keeps them; "Select all N matching" selects the whole view, which the server reads from the
  // form's filter fields. The toolbar (the stage form) shows while something is selected.
  const SELECTION_PREFIX = "yelp-ads:selection:";
  const VALUE_HINTS = {
    set_budget: "Dollars, such as 300.00",
    budget_percent: "Percent, such as 10 or -2.5",
    budget_dollars: "Dollars to add, such as 50 or -12.50",
    set_max_bid: "Dollars, such as 5.00",
    set_end_date: "YYYY-MM-DD",
  };

  function stageForm() {
    return document.getElementById("stage-form");
  }

  function rowBoxes() {
    return Array.from(document.querySelectorAll('#programs-table input[type="checkbox"][name="program_id"]'));
  }

  function selectionKey(form) {
    return SELECTION_PREFIX + (form.dataset.selectionKey || "");
  }

  function readSelection(form) {
    try {
      const stored = JSON.parse(sessionStorage.getItem(selectionKey(form)) || "null");
      if (stored && Array.isArray(stored.ids)) return stored;
    } catch (_) {
      // A broken entry is an empty selection.
    }
    return { ids: [], all: false, sent: false };
  }

  function writeSelection(form, selection) {
    try {
      if (!selection.all && selection.ids.length === 0) sessionStorage.removeItem(selectionKey(form));
      else sessionStorage.setItem(selectionKey(form), JSON.stringify(selection));
    } catch (_) {
      // Storage full or refused: the selection lasts as long as the page.
    }
  }

  /** Shows `selection` on the page: ticks, the page's box, the count and the toolbar. */
  function showSelection(form, selection) {
    const all = document.getElementById("select-all-matching");
    const boxes = rowBoxes();
    const chosen = new Set(selection.ids);
    boxes.forEach(function (box) {
      box.checked = selection.all || chosen.has(box.value);
      box.disabled = selection.all; // the filter says which: the rows are not sent
    });
    if (all) all.checked = selection.all;
    const page = document.getElementById("select-page");
    if (page) {
      page.hidden = false;
      const ticked = boxes.filter(function (b) { return b.checked; }).length;
      page.checked = boxes.length > 0 && ticked === boxes.length;
      page.indeterminate = ticked > 0 && ticked < boxes.length;
      page.disabled = selection.all;
    }
    const total = all ? Number(all.dataset.total) || 0 : 0;
    const count = selection.all ? total : selection.ids.length;
    const refused = form.dataset.refused === "true";
    document.getElementById("selection-count").textContent =
      count.toLocaleString("en-US") + " selected" + (selection.all ? " (every program matching the filters)" : "");
    document.getElementById("clear-selection").hidden = count === 0;
    form.hidden = count === 0 && !refused;
  }

  function restoreSelection() {
    const form = stageForm();
    if (!form) return;
    let selection = readSelection(form);
    if (form.dataset.refused === "true") {
      // Shown again with why the change was refused: what the server ticked joins what was kept.
      rowBoxes().forEach(function (box) {
        if (box.checked && selection.ids.indexOf(box.value) < 0) selection.ids.push(box.value);
      });
      const all = document.getElementById("select-all-matching");
      if (all && all.checked) selection.all = true;
      selection.sent = false;
      writeSelection(form, selection);
    } else if (selection.sent) {
      // Staged since: a new selection starts empty.
      selection = { ids: [], all: false, sent: false };
      writeSelection(form, selection);
    }
    showSelection(form, selection);
    showValueHint();
    showSubmitLabel();
  }

  /** The toolbar's button says what it does: stage now, or schedule for the time given. */
  function showSubmitLabel() {
    const at = document.getElementById("stage-at");
    const submit = document.getElementById("stage-submit");
    if (!at || !submit) return;
    submit.textContent = at.value ? "Schedule change" : "Stage change";
  }

  function showValueHint() {
    const kind = document.getElementById("stage-kind");
    const value = document.getElementById("stage-value");
    if (!kind || !value) return;
    const hint = VALUE_HINTS[kind.value];
    value.disabled = !hint;
    value.placeholder = hint || "No value needed";
  }

  document.addEventListener("change", function (event) {
    const target = event.target;
    const form = stageForm();
    if (!form || !(target instanceof HTMLElement)) return;
    if (target.id === "stage-kind") {
      showValueHint();
      return;
    }
    if (target.id === "stage-at") {
      showSubmitLabel();
      return;
    }
    const selection = readSelection(form);
    if (target.id === "select-all-matching") {
      selection.all = target.checked;
    } else if (target.id === "select-page") {
      rowBoxes().forEach(function (box) {
        const at = selection.ids.indexOf(box.value);
        if (target.checked && at < 0) selection.ids.push(box.value);
        if (!target.checked && at >= 0) selection.ids.splice(at, 1);
      });
    } else if (target.matches('#programs-table input[name="program_id"]')) {
      const at = selection.ids.indexOf(target.value);
      if (target.checked && at < 0) selection.ids.push(target.value);
      if (!target.checked && at >= 0) selection.ids.splice(at, 1);
    } else {
      return;
    }
    writeSelection(form, selection);
    showSelection(form, selection);
  });

  document.addEventListener("click", function (event) {
    if (!(event.target instanceof HTMLElement) || event.target.id !== "clear-selection") return;
    const form = stageForm();
    if (!form) return;
    delete form.dataset.refused;
    const error = document.getElementById("stage-error");
    if (error) error.remove();
    const selection = { ids: [], all: false, sent: false };
    writeSelection(form, selection);
    showSelection(form, selection);
  });

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || form.id !== "stage-form") return;
    const selection = readSelection(form);
    // The programs selected on other pages go with the form as hidden fields.
    form.querySelectorAll("input[data-kept]").forEach(function (input) { input.remove(); });
    if (!selection.all) {
      const onPage = new Set(rowBoxes().map(function (b) { return b.value; }));
      selection.ids.forEach(function (id) {
        if (onPage.has(id)) return;
        const input = document.createElement("input");
        input.type = "hidden";
        input.name = "program_id";
        input.value = id;
        input.dataset.kept = "true";
        form.appendChild(input);
      });
    }
    selection.sent = true;
    writeSelection(form, selection);
  });

  window.addEventListener("popstate", function () {
    load(location.href, { push: false, filters: true });
  });

  restoreSelection();

  if (panel) {
    if (button) button.addEventListener("click", function () { sync("button"); });
    retry.addEventListener("click", function () { sync("button"); });
    if (panel.dataset.autosync === "true") sync("page");
  }
})();
