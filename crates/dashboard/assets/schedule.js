// The schedule form of a program's edit page: shows only the fields the chosen change takes (the budget
// for "Set budget", the resume time for a pause window). Without this script every field shows; the server
// reads what the chosen change takes and says when a resume time is given to a change other than a pause.
(function () {
  "use strict";
  const kind = document.getElementById("schedule-kind");
  if (!kind) return;
  const fields = Array.prototype.slice.call(document.querySelectorAll("[data-schedule-for]"));

  function show() {
    fields.forEach(function (field) {
      const shown = field.dataset.scheduleFor.split(" ").indexOf(kind.value) >= 0;
      field.hidden = !shown;
      field.querySelectorAll("input").forEach(function (input) { input.disabled = !shown; });
    });
  }

  kind.addEventListener("change", show);
  show();
})();
