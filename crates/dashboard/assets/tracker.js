// The job tracker: follows a job over its event stream (EventSource), or, where that is unavailable, by
// asking its status every 2 s until it ends. Shows status, progress and ETA, times, the program, every
// failure reason; on COMPLETED goes to the program's status page after 1.5 s unless told to stay. The tab
// title shows the job's state, and a desktop notification announces a job that ended in a hidden tab.
(function () {
  "use strict";
  const app = window.YelpAds;
  const POLL_MS = 2000;
  const REDIRECT_MS = 1500;
  const LABELS = { PENDING: "Pending", IN_PROGRESS: "In progress", COMPLETED: "Completed", FAILED: "Failed" };
  const SYMBOLS = { PENDING: "⏱", IN_PROGRESS: "⟳", COMPLETED: "✓", FAILED: "✕" };
  const JOBS = {
    create: "Create program",
    edit: "Edit program",
    duplicate: "Duplicate program",
    terminate: "End program",
    pause: "Pause program",
    resume: "Resume program",
  };
  const TICK_MS = 1000;
  const slot = document.getElementById("tracker-slot");
  let current = null;

  function finished(status) {
    return status === "COMPLETED" || status === "FAILED";
  }

  function notifyIfHidden(job) {
    if (!document.hidden || !("Notification" in window) || Notification.permission !== "granted") return;
    const label = JOBS[job.job_type] || "Job";
    const body = job.status === "COMPLETED"
      ? label + " completed" + (job.program_id ? " (program " + job.program_id + ")" : "") + "."
      : label + " failed" + (job.errors && job.errors[0] ? ": " + job.errors[0].message : ".");
    try {
      new Notification("Yelp Ads: " + LABELS[job.status], { body: body, tag: "job-" + job.job_id });
    } catch (_) {
      // Some browsers only notify from a service worker; the tab title still says it.
    }
  }

  /** Follows the job shown by `tracker`. `live` is true when the job was submitted from this page. */
  function Tracker(tracker, live) {
    this.el = tracker;
    this.jobId = tracker.dataset.jobId;
    this.status = tracker.dataset.status;
    this.live = live || !finished(this.status);
    this.stayed = false;
    this.source = null;
    this.timer = null;
    this.redirect = null;
    // Events come only when the status changes: between them the bar and the ETA move on the estimate.
    this.estimate = { progress: Number(tracker.dataset.progress) || 0, eta: 0, at: Date.now() };
    this.ticker = null;
    const stay = tracker.querySelector("#stay-here");
    stay.addEventListener("click", this.stay.bind(this));
    const notify = tracker.querySelector("#job-notify");
    if (!finished(this.status) && "Notification" in window && Notification.permission === "default") {
      notify.hidden = false;
      notify.addEventListener("click", function () {
        notify.hidden = true;
        Notification.requestPermission();
      });
    }
    this.title();
  }

  Tracker.prototype.q = function (selector) {
    return this.el.querySelector(selector);
  };

  Tracker.prototype.title = function () {
    const label = this.q("#job-type").textContent;
    document.title = SYMBOLS[this.status] + " " + LABELS[this.status] + " · " + label + " · Yelp Ads";
  };

  Tracker.prototype.tick = function () {
    if (finished(this.status)) return;
    const e = this.estimate;
    const elapsed = (Date.now() - e.at) / 1000;
    const left = Math.max(0, e.eta - elapsed);
    const progress = e.eta > 0 ? e.progress + (95 - e.progress) * Math.min(1, elapsed / e.eta) : e.progress;
    app.setProgress(this.q("#job-progress"), Math.min(95, progress));
    this.q("#job-eta").textContent = left >= 1 ? "About " + Math.ceil(left) + " s left" : "Any moment now";
  };

  Tracker.prototype.start = function () {
    if (finished(this.status)) return;
    this.ticker = setInterval(this.tick.bind(this), TICK_MS);
    if (!("EventSource" in window)) {
      this.poll();
      return;
    }
    const self = this;
    this.source = new EventSource("/api/reseller/jobs/" + encodeURIComponent(this.jobId) + "/events");
    this.source.onmessage = function (event) {
      let job;
      try {
        job = JSON.parse(event.data);
      } catch (_) {
        return;
      }
      self.update(job);
    };
    this.source.onerror = function () {
      // The stream ends after the final event; before it, an error means the stream is unavailable.
      self.source.close();
      self.source = null;
      if (!finished(self.status)) self.poll();
    };
  };

  Tracker.prototype.poll = async function () {
    if (this.stopped || finished(this.status)) return;
    try {
      const response = await fetch("/api/reseller/status/" + encodeURIComponent(this.jobId), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (response.ok) this.update(await response.json());
    } catch (_) {
      // Try again at the next tick.
    }
    if (!finished(this.status)) this.timer = setTimeout(this.poll.bind(this), POLL_MS);
  };

  Tracker.prototype.stop = function () {
    this.stopped = true;
    clearInterval(this.ticker);
    if (this.source) this.source.close();
    clearTimeout(this.timer);
    clearTimeout(this.redirect);
  };

  Tracker.prototype.update = function (job) {
    const was = this.status;
    this.status = job.status;
    this.el.dataset.status = job.status;
    this.q("#job-status").textContent = LABELS[job.status] || job.status;
    this.q("#job-type").textContent = JOBS[job.job_type] || "Job";
    this.q("#job-id").textContent = job.job_id;
    const created = this.q("#job-created");
    created.textContent = app.formatTime(job.created_at);
    this.q("#job-completed").textContent = job.completed_at ? app.formatTime(job.completed_at) : "—";
    if (job.program_id && !this.q("#job-program-link")) {
      const link = document.createElement("a");
      link.id = "job-program-link";
      link.href = "/program-status/" + encodeURIComponent(job.program_id);
      link.textContent = job.program_id;
      this.q("#job-program").replaceChildren(link);
    }
    this.estimate = { progress: Number(job.progress) || 0, eta: Number(job.eta_seconds) || 0, at: Date.now() };
    if (finished(job.status)) {
      app.setProgress(this.q("#job-progress"), 100);
      this.q("#job-eta").textContent = "";
    } else {
      this.tick();
    }
    const reasons = this.q("#job-reasons");
    reasons.replaceChildren();
    (job.errors || []).forEach(function (error) {
      const item = document.createElement("li");
      item.textContent = error.message;
      reasons.appendChild(item);
    });
    // A duplicate's copies of its source's features, each as it is taken.
    const steps = this.q("#job-steps");
    if (steps && job.feature_copy) {
      steps.replaceChildren();
      job.feature_copy.forEach(function (step) {
        const item = document.createElement("li");
        item.dataset.state = step.state;
        item.textContent = step.state === "copied" ? "✓ Copied " + step.label
          : step.state === "failed" ? "✕ " + step.label + " not copied" + (step.message ? ": " + step.message : "")
          : "Copying " + step.label + "…";
        steps.appendChild(item);
      });
      steps.hidden = job.feature_copy.length === 0;
    }
    this.title();
    if (finished(job.status) && was !== job.status) this.end(job);
  };

  Tracker.prototype.end = function (job) {
    clearInterval(this.ticker);
    // The forms of the page wait for this to be usable again (see program-form.js).
    document.dispatchEvent(new CustomEvent("yelp-ads:job-ended", { detail: job }));
    if (this.source) {
      this.source.close();
      this.source = null;
    }
    this.q("#job-notify").hidden = true;
    notifyIfHidden(job);
    const outcome = this.q("#job-outcome");
    if (job.status === "FAILED") {
      const where = slot && slot.dataset.context !== "job" ? " Correct the form below and send it again." : "";
      outcome.textContent = "✕ The job failed." + where;
      return;
    }
    if (!job.program_id) {
      outcome.textContent = "✓ Completed.";
      return;
    }
    if (!this.live || this.stayed) {
      outcome.textContent = "✓ Completed.";
      return;
    }
    outcome.textContent = "✓ Completed. Opening program " + job.program_id + "…";
    this.q("#stay-here").hidden = false;
    const target = "/program-status/" + encodeURIComponent(job.program_id);
    this.redirect = setTimeout(function () { location.assign(target); }, REDIRECT_MS);
  };

  Tracker.prototype.stay = function () {
    this.stayed = true;
    clearTimeout(this.redirect);
    this.q("#stay-here").hidden = true;
    this.q("#job-outcome").textContent = "✓ Completed. You stayed on this page; the program is linked above.";
  };

  /** Shows a new tracker for `jobId` at the top of the page (after a form was sent) and follows it. */
  function trackJob(jobId) {
    const template = document.getElementById("job-tracker-template");
    if (!slot || !template) return;
    if (current) current.stop();
    const tracker = template.content.firstElementChild.cloneNode(true);
    tracker.dataset.jobId = jobId;
    tracker.dataset.status = "PENDING";
    tracker.querySelector("#job-id").textContent = jobId;
    slot.replaceChildren(tracker);
    app.setProgress(tracker.querySelector("#job-progress"), 0);
    current = new Tracker(tracker, true);
    current.start();
    tracker.scrollIntoView({ block: "start", behavior: "smooth" });
  }

  const existing = document.querySelector("#tracker-slot > #job-tracker[data-job-id]");
  if (existing && existing.dataset.jobId) {
    current = new Tracker(existing, false);
    current.start();
  }

  app.trackJob = trackJob;
})();
