// The score sheet, progressively enhanced: a running weighted total and autosave on change (with the sheet's
// version, so another tab's save is never silently overwritten). Without this file the Save and Submit
// buttons do everything.
(() => {
  "use strict";
  const DEBOUNCE_MS = 800;

  function total(form) {
    let sum = 0;
    form.querySelectorAll("fieldset.criterion").forEach((set) => {
      const input = set.querySelector("input[type=number], input[name^=s]");
      const value = parseInt(input && input.value, 10);
      const max = Number(set.dataset.max), weight = Number(set.dataset.weight);
      if (!Number.isNaN(value) && value >= 0 && value <= max) sum += (value / max) * weight;
    });
    return sum.toFixed(2);
  }

  function setup(form) {
    const status = document.getElementById("autosave-status");
    const output = document.getElementById("sheet-total");
    const token = form.querySelector("input[name=csrf_token]");
    const version = form.querySelector("input[name=version]");
    let timer = null, busy = false, again = false, stopped = false;

    async function save() {
      if (stopped) return;
      if (busy) { again = true; return; }
      busy = true;
      const data = new FormData(form);
      data.set("autosave", "1");
      data.set("action", "save");
      if (status) status.textContent = status.dataset.saving || "…";
      try {
        const response = await fetch(form.dataset.autosave, {
          method: "POST", body: data, credentials: "same-origin",
          headers: { "Accept": "application/json", "X-CSRFToken": token ? token.value : "" },
        });
        const result = await response.json();
        if (result.ok) {
          version.value = result.version;
          if (status) status.textContent = result.message;
        } else {
          if (response.status === 409) stopped = true;  // another tab saved: never overwrite it
          if (status) status.textContent = result.error;
        }
      } catch (err) {
        if (status) status.textContent = status.dataset.offline || "";
      } finally {
        busy = false;
        if (again) { again = false; save(); }
      }
    }

    form.addEventListener("input", () => {
      if (output) output.textContent = total(form);
      window.clearTimeout(timer);
      timer = window.setTimeout(save, DEBOUNCE_MS);
    });
    form.addEventListener("change", () => { window.clearTimeout(timer); save(); });
    form.addEventListener("submit", () => { stopped = true; window.clearTimeout(timer); });
  }

  document.addEventListener("DOMContentLoaded", () => {
    const form = document.getElementById("score-sheet");
    if (form && form.dataset.autosave && window.fetch) setup(form);
  });
})();
