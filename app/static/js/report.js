// The evaluation report page: while the report is queued or being prepared, ask for its status every two seconds
// and reload the page when it is ready or has failed (the page says what to do without this file).
(() => {
  "use strict";
  const box = document.querySelector("[data-report-status]");
  const progress = document.getElementById("report-progress");
  if (!box || !progress) return;
  const poll = () => {
    fetch(box.dataset.reportStatus, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((response) => (response.ok ? response.json() : null))
      .then((data) => {
        if (!data) return;
        if (data.ready || data.failed) { window.location.reload(); return; }
        progress.value = data.progress;
        progress.textContent = data.title;
        window.setTimeout(poll, 2000);
      })
      .catch(() => window.setTimeout(poll, 5000));
  };
  const reload = box.querySelector(".report-reload");
  if (reload) reload.hidden = true;
  window.setTimeout(poll, 1500);
})();
