// The jobs page, live: while a job runs its list is refreshed every 2 s (every 10 s otherwise, to show new
// ones), by fetching the page's own HTML and swapping the lists. Only while the tab is visible.
(function () {
  "use strict";
  const RUNNING_MS = 2000;
  const IDLE_MS = 10000;
  let timer = null;

  function region() {
    return document.getElementById("jobs-region");
  }

  function running() {
    const r = region();
    return r && r.dataset.running === "true";
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(refresh, running() ? RUNNING_MS : IDLE_MS);
  }

  async function refresh() {
    if (document.hidden) {
      schedule();
      return;
    }
    const wasRunning = running();
    try {
      const response = await fetch(location.href, { credentials: "same-origin", headers: { Accept: "text/html" } });
      const landed = new URL(response.url, location.href);
      if (response.ok && landed.pathname === "/jobs") {
        const doc = new DOMParser().parseFromString(await response.text(), "text/html");
        const next = doc.getElementById("jobs-region");
        const current = region();
        // Keep the keyboard focus where it is: only swap when nothing inside has it.
        if (next && current && !current.contains(document.activeElement)) {
          current.replaceWith(next);
          if (wasRunning && next.dataset.running !== "true") {
            const announce = document.getElementById("jobs-announce");
            if (announce) announce.textContent = "The running jobs have ended.";
          }
        }
      }
    } catch (_) {
      // Try again later.
    }
    schedule();
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) refresh();
  });
  if (region()) schedule();
})();
