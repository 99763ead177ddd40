import "./filter.js";

// The proposal page: a banner when the proposal changes under the reader's eyes (and filterable lists).
// The page is not reloaded by itself: a half-typed form would be lost.
const banner = document.querySelector("[data-live-topic]");
if (banner && window.consultLive) {
  const { liveTopic: topic, liveKey: key, url } = banner.dataset;
  window.consultLive.subscribe(topic, key);
  window.addEventListener("consult:live", (event) => {
    const frame = event.detail || {};
    if (frame.type === `${topic}.changed` && frame.topic === topic && String(frame.key) === key) {
      banner.hidden = false;
    }
  });
  // Reload by address, not location.reload(): after a refused form the page is a POST's answer.
  banner.querySelector("[data-reload]")?.addEventListener("click", () => location.assign(url));
}
