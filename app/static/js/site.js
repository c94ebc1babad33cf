// Progressive enhancement only: every page works without this file.
document.addEventListener("DOMContentLoaded", () => {
  // Move focus to an error summary so keyboard and screen-reader users hear what to fix.
  const summary = document.querySelector(".error-summary");
  if (summary) summary.focus();
  // After an action, focus its message where the page shows it (the proposal page: where the vendor was).
  const message = document.getElementById("message");
  if (!summary && message) message.focus();
  // Phones (issue 8, item 5): every table in the page reads as one card per row (CSS "table.stack" under 40rem),
  // each cell labelled with its column heading, so no cell or control is hidden off screen in a sideways scroll.
  document.querySelectorAll("main table").forEach((table) => {
    const heads = Array.from(table.querySelectorAll("thead th")).map((th) => th.textContent.trim());
    if (!heads.length) return;
    table.querySelectorAll("tbody tr").forEach((row) => {
      let column = 0;
      for (const cell of row.children) {
        if (cell.tagName === "TD" && !cell.hasAttribute("data-label") && heads[column]) cell.dataset.label = heads[column];
        // A card's cell is a two-column grid (its label, then its content): content of several parts (a unit and its
        // Chinese on the next line, a link and a size) goes in one box, or its later parts wrap under the label.
        const parts = Array.from(cell.childNodes).filter((node) => node.nodeType === 1 || node.textContent.trim());
        if (cell.tagName === "TD" && parts.length > 1) {
          const box = document.createElement("div");
          box.append(...cell.childNodes);
          cell.append(box);
        }
        column += cell.colSpan || 1;
      }
    });
    table.classList.add("stack");
  });
  // Signing out forgets the copies of unsaved proposal text this tab kept (a shared computer keeps none).
  document.querySelectorAll("form[action$='/logout']").forEach((form) => {
    form.addEventListener("submit", () => {
      try {
        Object.keys(sessionStorage).filter((key) => key.startsWith("proposal-")).forEach((key) => sessionStorage.removeItem(key));
      } catch (err) { /* storage off */ }
    });
  });
  // Prevent double submission of a form (the server is idempotent too).
  document.querySelectorAll("form[method=post]").forEach((form) => {
    form.addEventListener("submit", (ev) => {
      form.querySelectorAll("button[type=submit]").forEach((b) => { b.setAttribute("aria-disabled", "true"); });
      if (form.dataset.submitted) { ev.preventDefault(); }
      form.dataset.submitted = "1";
    });
  });
});
