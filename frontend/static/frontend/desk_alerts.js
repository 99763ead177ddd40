// The expert's alerts while the workbench is in the background: a count in the tab's title, a short sound
// (can be turned off; remembered in this browser) and a desktop notification (permission asked once, on a click).
//
//   <div data-desk-alerts data-me="12">                   the expert's user id (their own messages never alert)
//     <section data-region="active">
//       <li data-consultation="307" data-active>…</li>      consultations in progress: their messages alert
//     <button data-alert-permission>…</button>             asks for desktop notifications (shown while undecided)
//     <input type="checkbox" data-alert-sound>              the sound on/off
//
// What alerts: a new consultation for me ("consultation.assigned"), someone starting one in my bureau's queue
// ("queue.changed" with action "started"), a message in one of mine ("consultation.message" on the live topic
// consultation.<id>, subscribed here for each consultation in progress). The unread badges themselves are
// re-read by desk_live.js on the same events. A consultation routed straight to me arrives as "started" then
// "assigned": one alert (one count, one chime; the desktop notice, of the same tag, takes the more precise text).
const root = document.querySelector("[data-desk-alerts]");
const SOUND_KEY = "consult.alertSound";
const baseTitle = document.title;
let missed = 0;
let audio = null;
const announced = new Set(); // new consultations alerted while the page was in the background

const texts = root ? JSON.parse(root.querySelector("#alert-texts")?.textContent || "{}") : {};

function hidden() {
  return document.visibilityState !== "visible";
}

function soundOn() {
  return localStorage.getItem(SOUND_KEY) !== "off";
}

// A short two-tone chime with WebAudio: nothing to download, works offline. The context is made (or resumed)
// on the first click on the page, as browsers allow sound only after a user gesture.
function unlockAudio() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return;
  if (!audio) audio = new Context();
  if (audio.state === "suspended") audio.resume();
}

function chime() {
  if (!audio || !soundOn()) return;
  const start = audio.currentTime;
  for (const [offset, frequency] of [[0, 880], [0.18, 660]]) {
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, start + offset);
    gain.gain.exponentialRampToValueAtTime(0.25, start + offset + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.16);
    tone.connect(gain).connect(audio.destination);
    tone.start(start + offset);
    tone.stop(start + offset + 0.17);
  }
}

function desktopNotice(title, body, tag) {
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  try {
    const notice = new Notification(title, { body, tag, lang: document.documentElement.lang });
    notice.onclick = () => {
      window.focus();
      notice.close();
    };
  } catch {
    // Some mobile browsers only allow notifications from a service worker: the title and sound remain.
  }
}

function alertMe(body, tag, once = "") {
  if (!hidden()) return;
  if (once && announced.has(once)) {
    desktopNotice(texts.title || baseTitle, body, tag); // replaces the first notice, counts nothing more
    return;
  }
  if (once) announced.add(once);
  missed += 1;
  document.title = `(${missed}) ${baseTitle}`;
  root.dataset.missed = String(missed);
  chime();
  desktopNotice(texts.title || baseTitle, body, tag);
}

function seen() {
  if (hidden()) return;
  missed = 0;
  announced.clear();
  document.title = baseTitle;
  if (root) root.dataset.missed = "0";
}

// The consultations in progress: subscribe to each one's live topic (its messages), drop those that ended.
const following = new Set();
function followActive() {
  const now = new Set([...document.querySelectorAll("[data-consultation][data-active]")].map((el) => el.dataset.consultation));
  for (const id of now) if (!following.has(id)) window.consultLive?.subscribe("consultation", id);
  for (const id of following) if (!now.has(id)) window.consultLive?.unsubscribe("consultation", id);
  following.clear();
  for (const id of now) following.add(id);
}

function topicOf(id) {
  const link = document.querySelector(`[data-consultation="${CSS.escape(String(id))}"] .title`);
  return link ? link.textContent.trim() : "";
}

// Which consultations' messages reach this page now (the server's "subscribed" answers): data-following.
const confirmed = new Set();

function onLive(event) {
  const frame = event.detail || {};
  const data = frame.data || {};
  if (frame.type === "hello") confirmed.clear(); // a new socket: live.js subscribes again
  if (frame.type === "subscribed" && frame.topic === "consultation") confirmed.add(String(frame.key));
  if (frame.type === "unsubscribed" && frame.topic === "consultation") confirmed.delete(String(frame.key));
  root.dataset.following = [...confirmed].sort().join(" ");
  if (frame.type === "consultation.message" && String(data.sender) !== root.dataset.me) {
    alertMe(`${texts.message || ""} ${topicOf(frame.key)}`.trim(), `consultation-${frame.key}`);
  } else if (frame.type === "consultation.assigned") {
    alertMe(`${texts.assigned || ""} ${data.topic || ""}`.trim(), `consultation-${data.id}`, `new-${data.id}`);
  } else if (frame.type === "queue.changed" && data.action === "started") {
    const tag = data.id ? `consultation-${data.id}` : `queue-${frame.key}`;
    alertMe(texts.waiting || "", tag, data.id ? `new-${data.id}` : "");
  }
}

function setUpControls() {
  const ask = root.querySelector("[data-alert-permission]");
  if (ask && "Notification" in window && Notification.permission === "default") {
    ask.hidden = false;
    ask.addEventListener("click", async () => {
      unlockAudio();
      await Notification.requestPermission();
      ask.hidden = Notification.permission === "default";
    });
  }
  const sound = root.querySelector("[data-alert-sound]");
  if (sound) {
    sound.checked = soundOn();
    sound.addEventListener("change", () => {
      localStorage.setItem(SOUND_KEY, sound.checked ? "on" : "off");
      if (sound.checked) {
        unlockAudio();
        chime();
      }
    });
  }
}

if (root) {
  setUpControls();
  followActive();
  window.addEventListener("consult:regions", followActive);
  window.addEventListener("consult:live", onLive);
  document.addEventListener("visibilitychange", seen);
  window.addEventListener("focus", seen);
  document.addEventListener("pointerdown", unlockAudio, { once: true });
  document.addEventListener("keydown", unlockAudio, { once: true });
}
