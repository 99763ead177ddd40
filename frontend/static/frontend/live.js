// The live-events socket (/ws/live/): reconnects with backoff and re-subscribes.
// Pages listen with: window.addEventListener("consult:live", (e) => e.detail)
// and subscribe with: window.consultLive.subscribe("bureau", "12").
const statusDot = document.getElementById("live-status");
const topics = new Set();
let socket = null;
let attempt = 0;

function setState(state) {
  if (statusDot) statusDot.dataset.state = state;
  document.body.dataset.live = state;
}

function send(frame) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/ws/live/`);
  setState("connecting");
  socket.addEventListener("open", () => {
    setState("open");
    for (const entry of topics) {
      const [topic, key] = entry.split("\u0000");
      send({ type: "subscribe", topic, key });
    }
  });
  // A heartbeat: keeps idle proxies from closing the socket, and tells the desk an expert is still here.
  const heartbeat = setInterval(() => send({ type: "ping" }), 25000);
  socket.addEventListener("close", () => clearInterval(heartbeat), { once: true });
  socket.addEventListener("message", (event) => {
    const frame = JSON.parse(event.data);
    // The backoff resets on hello, not on open: a socket closed at once (1013 while Redis is down, 4429) keeps
    // backing off instead of reconnecting every half second.
    if (frame.type === "hello") attempt = 0;
    window.dispatchEvent(new CustomEvent("consult:live", { detail: frame }));
  });
  socket.addEventListener("close", (event) => {
    setState("closed");
    if (event.code === 4401) return; // signed out: nothing to reconnect to
    const delay = Math.min(30000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2);
    attempt += 1;
    setTimeout(connect, delay);
  });
}

window.consultLive = {
  subscribe(topic, key) {
    topics.add(`${topic}\u0000${key}`);
    send({ type: "subscribe", topic, key: String(key) });
  },
  unsubscribe(topic, key) {
    topics.delete(`${topic}\u0000${key}`);
    send({ type: "unsubscribe", topic, key: String(key) });
  },
};
connect();

// The unread badge of the notifications link follows the user's own topic ("notification.new" / ".read").
window.addEventListener("consult:live", (event) => {
  const frame = event.detail || {};
  if (typeof frame.type !== "string" || !frame.type.startsWith("notification.") || !frame.data) return;
  const unread = Number(frame.data.unread);
  if (!Number.isFinite(unread)) return;
  for (const badge of document.querySelectorAll("[data-unread-badge]")) {
    badge.textContent = String(unread);
    badge.hidden = unread === 0;
  }
});
