// The proposal page, progressively enhanced: live word counts, a live price total and autosave.
// Without this file the page works fully: the server renders the counts and totals and the buttons save.
(() => {
  "use strict";
  const AUTOSAVE_DELAY_MS = 3000;  // after typing stops

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

  // One editing model: every button of the form sends the whole page and the server saves it first. Here, on top:
  // autosave a few seconds after typing stops ("Saved at 21:03"), a warning before leaving with unsaved changes,
  // and a copy of what was typed kept in this tab (sessionStorage) until the server has it, so a signed-out
  // session or a refused request never loses it: after signing in again the page puts it back.
  function setupEditing(form) {
    const status = document.getElementById("autosave-status");
    const store = form.dataset.store;
    const maxUpload = parseInt(form.dataset.maxUpload || "0", 10);
    const fields = () => form.querySelectorAll("textarea[name^=answer_], input[name^=answer_], input[name^=price_]");
    let dirty = form.dataset.unsaved === "1", busy = false, submitting = false, signedOut = false, timer = null;
    let edits = 0;  // input events so far: a save only clears what it sent

    const say = (key, fallback) => { if (status) status.textContent = status.dataset[key] || fallback || ""; };
    const snapshot = () => { const out = {}; fields().forEach((f) => { out[f.name] = f.value; }); return out; };
    function keep() {
      try { sessionStorage.setItem(store, JSON.stringify({ fields: snapshot(), at: Date.now() })); } catch (err) { /* full or off */ }
    }
    function forget() { try { sessionStorage.removeItem(store); } catch (err) { /* off */ } }

    // The same value as the page shows? Prices as amounts ("1000" is the saved "1,000.00"), text by its lines.
    function same(field, value) {
      if (field.dataset.quantity !== undefined) {
        const a = parseAmount(value), b = parseAmount(field.value);
        if (a !== null && b !== null) return a === b;
      }
      return (value || "").replace(/\r\n/g, "\n").trim() === (field.value || "").replace(/\r\n/g, "\n").trim();
    }
    // Put back what was typed in this tab and never reached the server (signed out, expired page, closed tab).
    try {
      const kept = JSON.parse(sessionStorage.getItem(store) || "null");
      if (kept && kept.fields) {
        let restored = false;
        fields().forEach((f) => {
          if (Object.prototype.hasOwnProperty.call(kept.fields, f.name) && !same(f, kept.fields[f.name])) {
            f.value = kept.fields[f.name];
            f.dispatchEvent(new Event("input", { bubbles: true }));
            restored = true;
          }
        });
        if (restored) { dirty = true; say("restored"); } else { forget(); }
      }
    } catch (err) { /* nothing kept */ }

    async function save() {
      timer = null;
      if (!dirty || busy || submitting) return;
      busy = true;
      const sentAt = edits;
      const data = new FormData(form);
      for (const [name, value] of Array.from(data.entries())) {
        if (value instanceof File) data.delete(name);  // files go with a button press, never in the background
      }
      data.set("autosave", "1");
      say("saving");
      try {
        const response = await fetch(form.dataset.autosave, {
          method: "POST", body: data, credentials: "same-origin",
          headers: { "Accept": "application/json", "X-CSRFToken": data.get("csrf_token") || "" },
        });
        const type = response.headers.get("Content-Type") || "";
        if (response.redirected || !type.includes("json")) {  // signed out: the sign-in page answered
          signedOut = true; keep(); say("signedOut"); return;
        }
        const result = await response.json();
        if (result.ok === undefined && !result.error) {  // not the save's own answer: the session (and its form token) ended
          signedOut = true; keep(); say("signedOut"); return;
        }
        if (result.ok) {
          document.querySelectorAll("input[name=draft_version]").forEach((input) => { input.value = result.draft_version; });
          // What is stored now is what the next save compares with (a colleague's change is kept, not overwritten).
          Object.entries(result.bases || {}).forEach(([name, value]) => {
            const input = form.querySelector(`input[data-base][name="${name}"]`);
            if (input) input.value = value;
          });
          if (edits === sentAt) { dirty = false; forget(); }
          const lastSaved = document.getElementById("last-saved");
          if (lastSaved && result.last_saved) lastSaved.textContent = result.last_saved;
          if (status) status.textContent = result.warning ? `${result.message}. ${result.warning}` : result.message;
        } else {
          if (status) status.textContent = result.error;  // e.g. a price that is not an amount: fixed by typing
        }
      } catch (err) {
        keep(); say("offline");  // try again at the next change; the buttons always work
      } finally {
        busy = false;
      }
    }

    form.addEventListener("input", (ev) => {
      if (ev.target && ev.target.type === "file") return;
      dirty = true; edits += 1; keep(); say("unsaved");
      if (timer) window.clearTimeout(timer);
      timer = window.setTimeout(save, AUTOSAVE_DELAY_MS);
    });
    form.addEventListener("submit", (ev) => {
      for (const input of form.querySelectorAll("input[type=file]")) {
        const file = input.files && input.files[0];
        if (file && maxUpload && file.size > maxUpload) {  // refused here: the request would be lost whole
          ev.preventDefault();
          if (status) status.textContent = form.dataset.tooLarge;
          input.setAttribute("aria-invalid", "true");
          input.focus();
          return;
        }
      }
      submitting = true; keep();  // kept until the page that answers shows it saved
      if (timer) window.clearTimeout(timer);
    });
    window.addEventListener("beforeunload", (ev) => {
      if (dirty && !submitting) { ev.preventDefault(); ev.returnValue = ""; }
    });
    // Leaving on purpose (after the warning) discards; a press of a button or a lost session keeps the copy.
    window.addEventListener("pagehide", () => { if (!submitting && !signedOut) forget(); });
    if (dirty && !timer) timer = window.setTimeout(save, AUTOSAVE_DELAY_MS);
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
        const left = Date.parse(form.dataset.uploadClosesAt) - (Date.now() + offset);
        if (left >= CLOSING_SOON_MS) return;
        // Every chosen file is uploaded with the form: say it next to each one's upload button.
        form.querySelectorAll("input[type=file]").forEach((input) => {
          const status = form.querySelector(`[data-upload-status="${input.id}"]`);
          if (!input.files || !input.files.length || !status) return;
          status.textContent = hint.dataset.closingSoon;
          status.className = "flash flash-error";
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    setupUploadWarning();
    document.querySelectorAll("textarea[data-counter]").forEach((area) => {
      area.addEventListener("input", () => updateCounter(area));
    });
    const form = document.getElementById("proposal-form");
    const liveTotal = document.getElementById("price-live-total");
    if (form && liveTotal) {
      form.addEventListener("input", () => updateTotal(form, liveTotal));
      updateTotal(form, liveTotal);
    }
    if (form && form.dataset.autosave && window.fetch) setupEditing(form);
  });
})();
