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
    let timer = null, stopped = false, sending = false, chain = Promise.resolve();

    // Saves run one after another, each sending the version the previous one returned.
    function save() {
      chain = chain.then(doSave, doSave);
      return chain;
    }

    async function doSave() {
      if (stopped) return;
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
      }
    }

    form.addEventListener("input", () => {
      if (output) output.textContent = total(form);
      window.clearTimeout(timer);
      timer = window.setTimeout(save, DEBOUNCE_MS);
    });
    form.addEventListener("change", () => { window.clearTimeout(timer); save(); });
    // A Save or Submit click waits for an autosave in flight, then sends the version it returned: the page's own
    // autosave must never make its own submission look like another tab's.
    form.addEventListener("submit", async (event) => {
      window.clearTimeout(timer);
      if (sending) return;
      event.preventDefault();
      const submitter = event.submitter;
      await chain;
      stopped = true;
      sending = true;
      if (submitter && submitter.name) {
        const hidden = document.createElement("input");
        hidden.type = "hidden"; hidden.name = submitter.name; hidden.value = submitter.value;
        form.appendChild(hidden);
      }
      form.submit();
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    const form = document.getElementById("score-sheet");
    if (form && form.dataset.autosave && window.fetch) setup(form);
  });
})();
