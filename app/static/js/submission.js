// The proposal page, progressively enhanced: live word counts, a live price total and autosave.
// Without this file the page works fully: the server renders the counts and totals and the buttons save.
(() => {
  "use strict";
  const AUTOSAVE_MS = 60 * 1000;

  // Same rule as eoi.operations.word_count: each CJK character is a word; Latin words split on spaces/punctuation.
  const isCjk = (ch) => (ch >= "\u3400" && ch <= "\u9fff") || (ch >= "\uf900" && ch <= "\ufaff");
  const SEPARATORS = new Set("，。、；：！？,.;:!?()（）「」");
  function wordCount(text) {
    let count = 0, inWord = false;
    for (const ch of text || "") {
      if (isCjk(ch)) { count += 1; inWord = false; }
      else if (/\s/.test(ch) || SEPARATORS.has(ch)) { inWord = false; }
      else if (!inWord) { count += 1; inWord = true; }
    }
    return count;
  }

  function updateCounter(area) {
    const counter = document.getElementById(area.dataset.counter);
    if (!counter) return;
    const count = wordCount(area.value);
    const limit = parseInt(area.dataset.wordLimit || "", 10);
    let template = counter.dataset.template;
    const over = limit > 0 && count > limit;
    if (limit > 0) template = over ? counter.dataset.templateOver : counter.dataset.templateLimit;
    counter.textContent = template.replace("{count}", String(count));
    counter.className = over ? "error" : "hint";
  }

  function parseAmount(value) {
    const cleaned = (value || "").replace(/,/g, "").replace("HK$", "").trim();
    if (!/^\d+(\.\d{1,2})?$/.test(cleaned)) return null;
    return Number(cleaned);
  }

  function updateTotal(form, output) {
    let total = 0, complete = true;
    form.querySelectorAll("input[data-quantity]").forEach((input) => {
      const amount = parseAmount(input.value);
      if (amount === null) { complete = complete && input.value.trim() === ""; return; }
      total += amount * Number(input.dataset.quantity);
    });
    const lang = document.documentElement.lang || "en";
    output.textContent = complete
      ? new Intl.NumberFormat(lang === "zh-Hant" ? "zh-HK" : "en-HK", { style: "currency", currency: "HKD" }).format(total)
      : "—";
  }

  function setupAutosave(form) {
    const status = document.getElementById("autosave-status");
    const token = form.querySelector("input[name=csrf_token]");
    let dirty = false, busy = false, stopped = false;
    form.addEventListener("input", () => { dirty = true; });
    form.addEventListener("submit", () => { stopped = true; });
    async function save() {
      if (!dirty || busy || stopped) return;
      busy = true; dirty = false;
      const data = new FormData(form);
      data.set("autosave", "1");
      try {
        const response = await fetch(form.dataset.autosave, {
          method: "POST", body: data, credentials: "same-origin",
          headers: { "Accept": "application/json", "X-CSRFToken": token ? token.value : "" },
        });
        const result = await response.json();
        if (result.ok) {
          document.querySelectorAll("input[name=draft_version]").forEach((input) => { input.value = result.draft_version; });
          if (status) status.textContent = result.warning ? `${result.message} ${result.warning}` : result.message;
        } else {
          stopped = true;  // e.g. closed or submitted: the buttons still give the full message
          dirty = true;
          if (status) status.textContent = result.error;
        }
      } catch (err) {
        dirty = true;  // try again next time; the Save button always works
      } finally {
        busy = false;
      }
    }
    window.setInterval(save, AUTOSAVE_MS);
  }

  // An upload started shortly before closing: say, while it uploads, that it must complete before the closing
  // time (the receipt time is when the upload completes). The server's clock is reckoned from the page.
  const CLOSING_SOON_MS = 10 * 60 * 1000;
  function setupUploadWarning() {
    const hint = document.getElementById("upload-deadline-hint");
    if (!hint || !hint.dataset.serverNow) return;
    const offset = Date.parse(hint.dataset.serverNow) - Date.now();
    document.querySelectorAll("form[data-upload-closes-at]").forEach((form) => {
      form.addEventListener("submit", () => {
        const input = form.querySelector("input[type=file]");
        const status = form.querySelector("[data-upload-status]");
        if (!input || !input.files || !input.files.length || !status) return;
        const left = Date.parse(form.dataset.uploadClosesAt) - (Date.now() + offset);
        if (left < CLOSING_SOON_MS) {
          status.textContent = hint.dataset.closingSoon;
          status.className = "flash flash-error";
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    setupUploadWarning();
    document.querySelectorAll("textarea[data-counter]").forEach((area) => {
      area.addEventListener("input", () => updateCounter(area));
    });
    const priceForm = document.getElementById("price-form");
    const liveTotal = document.getElementById("price-live-total");
    if (priceForm && liveTotal) {
      priceForm.addEventListener("input", () => updateTotal(priceForm, liveTotal));
      updateTotal(priceForm, liveTotal);
    }
    const draft = document.getElementById("draft-form");
    if (draft && draft.dataset.autosave && window.fetch) setupAutosave(draft);
  });
})();
