// The create and edit forms: only the fields a program type takes are shown, and the form (and the edit
// page's pause, resume, duplicate and end buttons) go to the JSON API, with the job tracker appearing
// above the form and the API's field errors shown next to their fields. Without this script the same
// forms post to the page, which validates them with the same code.
//
// Yelp has no idempotency key, so each form carries a one-time submission token (sent as
// X-Submission-Token): the server answers a second submission of it with the first one's job. Once a form
// has started a job its buttons stay disabled until the job ends; then the form gets a new token, for the
// next change it is used for.
(function () {
  "use strict";
  const app = window.YelpAds;
  const form = document.getElementById("program-form");
  if (!form) return;
  const mode = form.dataset.mode;
  const type = document.getElementById("program_name");
  const cpc = document.getElementById("cpc-fields");
  const autobid = document.getElementById("is_autobid");
  const manualBid = form.querySelector("[data-manual-bid]");
  const formError = document.getElementById("form-error");
  const submit = document.getElementById("program-submit");

  function isCpc() {
    return type ? type.value === "CPC" : Boolean(cpc);
  }

  // CPC-only fields are hidden, and disabled so that they are not sent, for other types.
  function showTypeFields() {
    if (!cpc || !type) return;
    cpc.hidden = !isCpc();
    cpc.disabled = !isCpc();
  }

  // A maximum bid only applies without autobid. The stylesheet hides the field while autobid is ticked
  // (keeping its place, so that nothing below moves); here it is also disabled, so that it is not sent.
  function showBidField() {
    if (!autobid || !manualBid) return;
    manualBid.querySelector("input").disabled = autobid.checked;
  }

  if (type) type.addEventListener("change", showTypeFields);
  if (autobid) autobid.addEventListener("change", showBidField);
  showTypeFields();
  showBidField();

  function usable(element) {
    return element && !element.disabled && !element.closest("fieldset[disabled]");
  }

  function categories(text) {
    return text.split(/[\s,]+/).filter(Boolean);
  }

  function changed(element) {
    if (element.type === "checkbox") return element.checked !== element.defaultChecked;
    if (element instanceof HTMLSelectElement) {
      const initial = Array.prototype.find.call(element.options, function (o) { return o.defaultSelected; });
      return element.value !== (initial ? initial.value : element.options[0] ? element.options[0].value : "");
    }
    return element.value.trim() !== element.defaultValue.trim();
  }

  /** The API body of the form: every filled field for a create; what changed for an edit. */
  function body() {
    const out = {};
    const names = ["business_id", "program_name", "start", "end", "promotion_code", "budget", "max_bid",
      "pacing_method", "fee_period", "future_budget_date", "ad_categories", "is_autobid"];
    names.forEach(function (name) {
      const element = form.elements.namedItem(name);
      if (!usable(element)) return;
      if (mode === "edit" && !changed(element)) return;
      if (name === "is_autobid") {
        if (isCpc()) out.is_autobid = element.checked;
      } else if (name === "ad_categories") {
        const list = categories(element.value);
        if (list.length || mode === "edit") out.ad_categories = list;
      } else if (element.value.trim() !== "") {
        out[name] = element.value.trim();
      }
    });
    return out;
  }

  function clearErrors() {
    form.querySelectorAll(".field-error").forEach(function (e) { e.remove(); });
    form.querySelectorAll('[aria-invalid="true"]').forEach(function (e) {
      e.removeAttribute("aria-invalid");
      const ids = (e.getAttribute("aria-describedby") || "").split(" ")
        .filter(function (id) { return id && !id.endsWith("-error"); });
      if (ids.length) e.setAttribute("aria-describedby", ids.join(" "));
      else e.removeAttribute("aria-describedby");
    });
    formError.replaceChildren();
    formError.hidden = true;
  }

  function showFormError(text) {
    const p = document.createElement("p");
    p.textContent = text;
    formError.appendChild(p);
    formError.hidden = false;
  }

  /** Puts every `{field, message}` next to its field; what belongs to no shown field goes on top. */
  function showErrors(fields) {
    let first = null;
    fields.forEach(function (problem) {
      const wrapper = form.querySelector('[data-field-wrapper="' + problem.field + '"]');
      const input = wrapper && wrapper.querySelector("input, select");
      if (!wrapper || wrapper.closest("[hidden]") || !input || getComputedStyle(wrapper).visibility === "hidden") {
        showFormError(problem.message);
        return;
      }
      const error = document.createElement("p");
      error.className = "field-error";
      error.id = problem.field + "-error";
      error.dataset.field = problem.field;
      error.textContent = problem.message;
      wrapper.appendChild(error);
      input.setAttribute("aria-invalid", "true");
      const described = (input.getAttribute("aria-describedby") || "").trim();
      input.setAttribute("aria-describedby", (described ? described + " " : "") + error.id);
      if (!first) first = input;
    });
    (first || formError).focus();
  }

  function jobUrl(jobId) {
    const url = new URL(location.href);
    url.searchParams.set("job", jobId);
    return url.pathname + url.search;
  }

  /** A new one-time token: 24 random bytes in base64url, as the server makes them. */
  function newToken() {
    const bytes = new Uint8Array(24);
    crypto.getRandomValues(bytes);
    let text = "";
    bytes.forEach(function (b) { text += String.fromCharCode(b); });
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  /** Whether the user ticked "create another identical program" in `scope` (shown after a 409). */
  function confirmed(scope) {
    const box = scope.querySelector("input[name=confirm_duplicate]");
    return Boolean(box && box.checked && !box.closest("[hidden]"));
  }

  function showConfirm(scope) {
    const panel = scope.querySelector("#duplicate-confirm");
    if (panel) panel.hidden = false;
  }

  // Buttons disabled by a job that is still running: enabled again, with a new token, when it ends.
  let waiting = null;
  document.addEventListener("yelp-ads:job-ended", function () {
    if (!waiting) return;
    const tokenInput = waiting.form.querySelector("input[name=submission_token]");
    if (tokenInput) tokenInput.value = newToken();
    waiting.buttons.forEach(function (b) { b.disabled = false; });
    waiting = null;
  });

  /** Sends a form's change; answers whether a job was started (the buttons then stay disabled). */
  async function send(url, payload, sourceForm, onRefused) {
    const tokenInput = sourceForm.querySelector("input[name=submission_token]");
    const headers = tokenInput && tokenInput.value ? { "X-Submission-Token": tokenInput.value } : {};
    let response;
    try {
      const options = payload === undefined ? { headers: headers } : { json: payload, headers: headers };
      response = await app.request(url, options);
    } catch (_) {
      onRefused([], "The dashboard could not be reached; check the connection and try again.");
      return false;
    }
    const answer = await app.json(response);
    if (response.status === 202 && answer.job_id) {
      history.replaceState(null, "", jobUrl(answer.job_id));
      app.trackJob(answer.job_id);
      return true;
    }
    const error = answer.error || {};
    if (error.code === "duplicate") showConfirm(sourceForm);
    const fields = error.fields || (error.field ? [{ field: error.field, message: error.message }] : []);
    onRefused(fields, app.errorMessage(answer, "The request was refused (" + response.status + ")."));
    return false;
  }

  /** Runs `work` with `buttons` disabled; they stay so while a job it started runs. */
  async function guarded(sourceForm, buttons, work) {
    if (waiting) return;
    buttons.forEach(function (b) { b.disabled = true; });
    let started = false;
    try {
      started = await work();
    } finally {
      if (started) waiting = { form: sourceForm, buttons: buttons };
      else buttons.forEach(function (b) { b.disabled = false; });
    }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (submit.disabled) return;
    clearErrors();
    const payload = body();
    if (confirmed(form)) payload.confirm_duplicate = true;
    guarded(form, [submit], function () {
      return send(form.dataset.api, payload, form, function (fields, text) {
        if (fields.length) showErrors(fields);
        else {
          showFormError(text);
          formError.focus();
        }
      });
    });
  });
  formError.tabIndex = -1;

  // The edit page's actions: each is a job, tracked like the form's.
  const actionError = document.getElementById("action-error-live");
  const dialog = document.getElementById("end-dialog");
  let endForm = null;

  function refusedAction(fields, text) {
    const old = document.getElementById("action-error");
    if (old) old.remove();
    actionError.textContent = fields.length
      ? fields.map(function (f) { return f.message; }).join(" ")
      : text;
    actionError.hidden = false;
  }

  function runAction(actionForm) {
    actionError.hidden = true;
    const buttons = Array.prototype.slice.call(actionForm.querySelectorAll("button"));
    let payload;
    if (actionForm.dataset.action === "duplicate") {
      payload = {};
      ["start", "end", "budget"].forEach(function (name) {
        const element = actionForm.elements.namedItem(name);
        if (element && element.value.trim() !== "") payload[name] = element.value.trim();
      });
      if (confirmed(actionForm)) payload.confirm_duplicate = true;
    }
    guarded(actionForm, buttons, function () {
      return send(actionForm.dataset.api, payload, actionForm, refusedAction);
    });
  }

  document.querySelectorAll("form[data-action]").forEach(function (actionForm) {
    actionForm.addEventListener("submit", function (event) {
      event.preventDefault();
      if (actionForm.dataset.action === "end" && dialog && typeof dialog.showModal === "function") {
        endForm = actionForm;
        dialog.showModal();
        return;
      }
      runAction(actionForm);
    });
  });

  if (dialog) {
    document.getElementById("end-dialog-cancel").addEventListener("click", function () { dialog.close(); });
    document.getElementById("end-dialog-confirm").addEventListener("click", function () {
      dialog.close();
      if (endForm) runAction(endForm);
    });
  }
})();
