// The features page: a live character counter and the length rule of the custom ad text, and the range of
// the custom radius, checked as the user types; a form that breaks them is not sent. The server checks the
// same rules (and the others) again; without this script the forms post as they are.
(function () {
  "use strict";
  const text = document.getElementById("custom-text");
  const counter = document.getElementById("custom-text-counter");
  const radius = document.getElementById("custom-radius");

  function show(form, message) {
    const error = form.querySelector("[data-live-error]");
    if (!error) return;
    error.textContent = message || "";
    error.hidden = !message;
  }

  function textProblem() {
    const min = Number(text.dataset.min);
    const max = Number(text.dataset.max);
    const length = Array.from(text.value.trim()).length;
    counter.textContent = length + " / " + max + " characters";
    counter.classList.toggle("bad", length > 0 && (length < min || length > max));
    if (length === 0) return "";
    if (length < min) return "Custom ad text must be at least " + min + " characters (" + (min - length) + " more).";
    if (length > max) return "Custom ad text must be at most " + max + " characters (" + (length - max) + " too many).";
    return "";
  }

  function radiusProblem() {
    const typed = radius.value.trim();
    if (typed === "") return "";
    const miles = Number(typed);
    const min = Number(radius.dataset.min);
    const max = Number(radius.dataset.max);
    if (!Number.isFinite(miles)) return "Custom radius must be a number of miles, such as 25.";
    if (miles < min || miles > max) return "Custom radius must be from " + min + " to " + max + " miles, or off.";
    return "";
  }

  for (const [input, problem] of [[text, textProblem], [radius, radiusProblem]]) {
    if (!input) continue;
    const form = input.form;
    input.addEventListener("input", function () { show(form, problem()); });
    form.addEventListener("submit", function (event) {
      const turningOff = event.submitter && event.submitter.value === "off";
      const message = turningOff ? "" : problem();
      if (message) {
        event.preventDefault();
        show(form, message);
        input.focus();
      }
    });
  }
  if (text) textProblem();
})();
