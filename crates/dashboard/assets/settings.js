// The settings page: the connection test runs in place (the form posts to the page without this script).
(function () {
  "use strict";
  const app = window.YelpAds;
  const form = document.getElementById("test-connection-form");
  const result = document.getElementById("connection-result");
  if (!form || !result) return;
  const button = document.getElementById("test-connection");

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    button.disabled = true;
    result.className = "alert";
    result.textContent = "Asking Yelp…";
    try {
      const response = await app.request("/api/settings/test-connection");
      const answer = await app.json(response);
      const ok = response.ok && answer.ok === true;
      result.className = ok ? "alert alert-success" : "alert alert-error";
      result.textContent = response.ok ? answer.message : app.errorMessage(answer, "The test could not run.");
    } catch (_) {
      result.className = "alert alert-error";
      result.textContent = "The dashboard could not be reached.";
    } finally {
      button.disabled = false;
    }
  });
})();
