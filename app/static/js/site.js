// Progressive enhancement only: every page works without this file.
document.addEventListener("DOMContentLoaded", () => {
  // Move focus to an error summary so keyboard and screen-reader users hear what to fix.
  const summary = document.querySelector(".error-summary");
  if (summary) summary.focus();
  // After an action, focus its message where the page shows it (the proposal page: where the vendor was).
  const message = document.getElementById("message");
  if (!summary && message) message.focus();
  // Prevent double submission of a form (the server is idempotent too).
  document.querySelectorAll("form[method=post]").forEach((form) => {
    form.addEventListener("submit", (ev) => {
      form.querySelectorAll("button[type=submit]").forEach((b) => { b.setAttribute("aria-disabled", "true"); });
      if (form.dataset.submitted) { ev.preventDefault(); }
      form.dataset.submitted = "1";
    });
  });
});
