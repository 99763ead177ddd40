// Desk pages that follow live changes by re-reading parts of themselves (no JSON API, no build step).
//
//   <div data-desk-refresh data-url="/desk/workbench/"        the page to re-read (GET)
//        data-topics="bureau:3 consultation:12"               live topics to subscribe to (live.js)
//        data-events="queue.changed presence.changed"         live events that trigger a re-read
//        data-every="30"                                       and a re-read every N seconds anyway
//        data-poll-while="[data-queued]">                      ...only while this selector matches
//     <section data-region="queue">…</section>                 what a re-read replaces
//
// The channel layer is a notification bus: a missed event is caught by the periodic re-read and by the
// re-read after the live socket reconnects (its "hello").
import "./filter.js";

const DEBOUNCE_MS = 250;

function formState(region) {
  const kept = [];
  for (const input of region.querySelectorAll("input[type=radio]:checked, input[type=checkbox]:checked")) {
    kept.push([input.name, input.value]);
  }
  return kept;
}

function restoreFormState(region, kept) {
  for (const [name, value] of kept) {
    const input = region.querySelector(`input[name="${CSS.escape(name)}"][value="${CSS.escape(value)}"]`);
    if (input) input.checked = true;
  }
}

// Replace the [data-region] parts (all, or those named) with the same parts of a fresh copy of `url`.
// A region the fresh page no longer has is emptied; a region holding the focus is left alone.
// Answers can arrive out of order: a region is never overwritten by an answer older than the one it shows.
let tickets = 0;
const shown = new Map(); // region name -> ticket of the answer it shows

export async function refreshRegions(url, names = null) {
  const ticket = ++tickets;
  let response;
  try {
    response = await fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } });
  } catch {
    return false; // offline: the next event or tick tries again
  }
  if (!response.ok || response.redirected) return false;
  const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
  for (const region of document.querySelectorAll("[data-region]")) {
    const name = region.dataset.region;
    if (names && !names.includes(name)) continue;
    if ((shown.get(name) || 0) > ticket) continue;
    if (region.contains(document.activeElement) && document.activeElement !== document.body) continue;
    const replacement = fresh.querySelector(`[data-region="${CSS.escape(name)}"]`);
    if (!replacement) {
      shown.set(name, ticket);
      region.replaceChildren();
      region.hidden = true;
      continue;
    }
    shown.set(name, ticket);
    const kept = formState(region);
    region.replaceWith(replacement);
    restoreFormState(replacement, kept);
  }
  window.dispatchEvent(new CustomEvent("consult:regions", { detail: { names } }));
  return true;
}

function pageUrl(root) {
  const base = root.dataset.url || location.pathname;
  const bureau = root.querySelector("[data-bureau-select]");
  return bureau && bureau.value ? `${base}?bureau=${encodeURIComponent(bureau.value)}` : base;
}

function follow(root) {
  const events = new Set((root.dataset.events || "").split(/\s+/).filter(Boolean));
  let timer = null;
  const refresh = () => {
    clearTimeout(timer);
    timer = setTimeout(() => refreshRegions(pageUrl(root)), DEBOUNCE_MS);
  };

  for (const entry of (root.dataset.topics || "").split(/\s+/).filter(Boolean)) {
    const [topic, key] = entry.split(":");
    window.consultLive?.subscribe(topic, key);
  }
  window.addEventListener("consult:live", (event) => {
    const frame = event.detail || {};
    if (frame.type === "hello" || events.has(frame.type)) refresh();
  });

  const every = Number(root.dataset.every || 0);
  if (every > 0) {
    setInterval(() => {
      if (document.hidden) return;
      if (root.dataset.pollWhile && !document.querySelector(root.dataset.pollWhile)) return;
      refresh();
    }, every * 1000);
  }
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) refresh();
  });

  // The start form: choosing a bureau shows its experts (with who is online) to name one (点将).
  const bureau = root.querySelector("[data-bureau-select]");
  bureau?.addEventListener("change", () => refreshRegions(pageUrl(root), ["experts"]));
}

for (const root of document.querySelectorAll("[data-desk-refresh]")) follow(root);

// A form that asks before it acts (ending a consultation cannot be undone); delegated, as regions are replaced.
document.addEventListener("submit", (event) => {
  const form = event.target.closest?.("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
});
