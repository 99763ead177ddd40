// The chat room: one socket per open room, /ws/consultations/<id>/ (frames and close codes: chat/PROTOCOL.md).
//
// The server stores a message before it tells anyone, numbers it (seq) per consultation, and answers a
// retry with the same client_id with the stored message. So this client's job is to never lose or double:
//  - messages are kept by seq (a second copy of a seq replaces the first); everything after the last
//    seq held without a hole is asked for with {type:"sync", after} on every hello and whenever a hole shows;
//  - every pong (one a heartbeat) carries the thread's last_seq and change counter: a higher one than held
//    means a broadcast was lost, and a sync (with changes_after) fetches the new messages and the edits and
//    deletions made meanwhile (PROTOCOL.md rules 5 and 7);
//  - a message is sent with a client_id and shown as pending ("发送中") until its ack; pending messages are
//    kept in localStorage, so a reload or a dead network keeps them, and are sent again, with the SAME
//    client_id, on every (re)connection; reconnecting backs off exponentially, with jitter.
import "./desk_live.js";
import { createRecorder, createUploads, createVoice, fileContent } from "./voice.js";

const PING_EVERY_MS = 25000;
const SILENCE_LIMIT_MS = 60000; // no frame for this long: the socket is dead even if it says it is open
const TYPING_EVERY_MS = 3000;
const TYPING_SHOWN_MS = 5000;
const RATE_LIMIT_RETRY_MS = 5000;
const NEAR_BOTTOM_PX = 80;

function newClientId() {
  if (window.crypto?.randomUUID) return window.crypto.randomUUID();
  // randomUUID needs a secure context; getRandomValues does not.
  const bytes = window.crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function readJson(id, fallback) {
  const node = document.getElementById(id);
  try {
    return node ? JSON.parse(node.textContent) : fallback;
  } catch {
    return fallback;
  }
}

function startRoom(root) {
  const id = root.dataset.consultation;
  const me = Number(root.dataset.me);
  const myName = root.dataset.myName || "";
  const editWindowMs = Number(root.dataset.editWindow || 0) * 1000;
  const t = document.querySelector("[data-chat-strings]")?.dataset || {};
  const scroller = root.querySelector("[data-chat-scroll]");
  const log = root.querySelector("[data-chat-log]");
  const pendingList = root.querySelector("[data-chat-pending]");
  const typingNote = root.querySelector("[data-typing]");
  const connection = root.querySelector("[data-connection]");
  const form = root.querySelector("[data-chat-form]");
  const input = form?.querySelector("textarea");
  const editingBar = form?.querySelector("[data-editing]");
  const endedNote = root.querySelector("[data-chat-ended]");
  const timeFormat = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
    hour: "2-digit",
    minute: "2-digit",
    hour12: false,
  });

  const messages = new Map(); // seq -> payload
  const nodes = new Map(); // seq -> <li>
  const readBy = new Map(); // user id -> last seq they read
  let lastSeq = 0; // every seq up to this one is held
  let changes = 0; // every edit and deletion up to this change number is held
  let serverChanges = 0; // the change counter the server last told (hello, pong, edited, deleted)
  let canPost = root.dataset.canPost === "1";
  let status = root.dataset.status;
  let socket = null;
  let generation = 0; // which connection a pending message was last sent on
  let attempt = 0;
  let reconnectTimer = null;
  let stopped = false;
  let syncing = false;
  let syncAgain = false;
  let lastFrameAt = 0;
  let readSent = 0;
  let typingSentAt = 0;
  let typingTimer = null;
  let editing = null; // the message being edited

  // --- pending messages, kept across reloads ------------------------------------------------------------
  const storeKey = `consult.chat.pending.${id}.${me}`;
  let pending = [];
  try {
    pending = JSON.parse(localStorage.getItem(storeKey) || "[]").filter((p) => p && p.client_id && p.body);
  } catch {
    pending = [];
  }
  function savePending() {
    try {
      const kept = pending.filter((p) => !p.failed).map(({ client_id, body, at }) => ({ client_id, body, at }));
      if (kept.length) localStorage.setItem(storeKey, JSON.stringify(kept));
      else localStorage.removeItem(storeKey);
    } catch {
      // storage full or forbidden: pending messages then live as long as the page
    }
  }

  // --- drawing --------------------------------------------------------------------------------------------
  // On a desktop the thread scrolls inside its box; on a phone the page itself scrolls (no nested scrolling)
  // and the composer is fixed at the bottom of the screen.
  function innerScroll() {
    return getComputedStyle(scroller).overflowY !== "visible";
  }
  function visibleBottom() {
    if (innerScroll()) return scroller.getBoundingClientRect().bottom;
    const composer = form && !form.hidden ? form.getBoundingClientRect().top : window.innerHeight;
    return Math.min(window.innerHeight, composer);
  }
  function nearBottom() {
    if (innerScroll()) return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < NEAR_BOTTOM_PX;
    return scroller.getBoundingClientRect().bottom - visibleBottom() < NEAR_BOTTOM_PX;
  }
  function toBottom() {
    // The end of the thread, not of the page: on a phone the expert's panels come after the thread.
    if (innerScroll()) scroller.scrollTop = scroller.scrollHeight;
    else window.scrollBy(0, scroller.getBoundingClientRect().bottom - visibleBottom());
  }
  function otherSideRead() {
    let seq = 0;
    for (const [user, read] of readBy) if (user !== me && read > seq) seq = read;
    return seq;
  }
  function editable(m) {
    const age = Date.now() - Date.parse(m.created_at);
    return m.sender === me && m.kind === "text" && !m.deleted && canPost && status !== "ended" && age < editWindowMs;
  }
  function timeOf(iso) {
    const when = new Date(iso);
    return Number.isNaN(when.getTime()) ? "" : timeFormat.format(when);
  }

  function messageNode(m) {
    if (m.kind === "system") {
      const li = el("li", "msg system");
      li.dataset.seq = m.seq;
      li.dataset.id = m.id;
      li.dataset.kind = "system";
      li.append(el("span", "text", m.body));
      return li;
    }
    const mine = m.sender === me;
    const li = el("li", `msg${mine ? " mine" : ""}${m.deleted ? " deleted" : ""}`);
    Object.assign(li.dataset, { seq: m.seq, id: m.id, kind: m.kind, sender: m.sender ?? "" });
    const bubble = el("div", "bubble");
    if (!mine) bubble.append(el("span", "sender", m.sender_name));
    if (m.kind === "voice" && m.voice && !m.deleted) bubble.append(voice.content(m, li));
    else if (m.file && !m.deleted) bubble.append(fileContent(m));
    else bubble.append(el("p", "body", m.deleted ? t.withdrawn : m.body));
    const meta = el("span", "meta");
    const time = el("time", "", timeOf(m.created_at));
    time.dateTime = m.created_at;
    meta.append(time);
    if (m.edited && !m.deleted) meta.append(` · ${t.edited}`);
    if (mine && !m.deleted) meta.append(el("span", "receipt", ""));
    bubble.append(meta);
    if (editable(m)) {
      bubble.tabIndex = 0;
      bubble.setAttribute("role", "button");
      bubble.addEventListener("click", () => toggleActions(li, m));
    }
    li.append(bubble);
    return li;
  }

  function toggleActions(li, m) {
    const open = li.querySelector(".msg-actions");
    for (const other of log.querySelectorAll(".msg-actions")) other.remove();
    if (open || !editable(m)) return;
    const bar = el("div", "msg-actions");
    const edit = el("button", "small", t.edit);
    edit.type = "button";
    edit.addEventListener("click", () => startEdit(m));
    const withdraw = el("button", "small danger", t.withdraw);
    withdraw.type = "button";
    withdraw.addEventListener("click", () => {
      bar.remove();
      if (window.confirm(t.confirmWithdraw)) send({ type: "delete", id: m.id });
    });
    bar.append(edit, withdraw);
    li.append(bar);
  }

  function updateReceipts() {
    const read = otherSideRead();
    for (const [seq, node] of nodes) {
      const receipt = node.querySelector(".receipt");
      if (!receipt) continue;
      const isRead = seq <= read;
      receipt.textContent = isRead ? ` · ${t.read}` : ` · ${t.delivered}`;
      receipt.dataset.read = isRead ? "1" : "0";
    }
  }

  // Keep (or replace) one message in its place by seq. Returns true when it was new.
  function put(m) {
    if (!Number.isInteger(m.seq) || m.seq < 1) return false;
    const known = messages.has(m.seq);
    messages.set(m.seq, m);
    const node = messageNode(m);
    const old = nodes.get(m.seq);
    if (old) {
      old.replaceWith(node);
    } else {
      let next = null;
      for (let other = log.lastElementChild; other; other = other.previousElementSibling) {
        if (Number(other.dataset.seq) < m.seq) break;
        next = other;
      }
      log.insertBefore(node, next);
    }
    nodes.set(m.seq, node);
    while (messages.has(lastSeq + 1)) lastSeq += 1;
    // A message of mine whose ack was lost (or came before a reload) is no longer pending.
    if (m.sender === me && m.client_id) dropPending(m.client_id);
    return !known;
  }

  function drawPending() {
    pendingList.replaceChildren(
      ...pending.map((p) => {
        const li = el("li", `msg mine pending${p.failed ? " failed" : ""}`);
        li.dataset.clientId = p.client_id;
        const bubble = el("div", "bubble");
        bubble.append(el("p", "body", p.body));
        const meta = el("span", "meta", p.failed ? `${t.failed}: ${p.failed}` : t.sending);
        bubble.append(meta);
        if (p.failed) {
          const dismiss = el("button", "link small", t.dismiss);
          dismiss.type = "button";
          dismiss.addEventListener("click", () => {
            pending = pending.filter((q) => q !== p);
            drawPending();
          });
          bubble.append(dismiss);
        }
        li.append(bubble);
        return li;
      }),
    );
  }

  function dropPending(clientId) {
    const before = pending.length;
    pending = pending.filter((p) => p.client_id !== clientId);
    if (pending.length !== before) {
      savePending();
      drawPending();
    }
  }

  function merge(items) {
    const stick = nearBottom();
    let added = false;
    for (const m of items) added = put(m) || added;
    updateReceipts();
    if (added && stick) toBottom();
    scheduleRead();
  }

  // --- the socket -----------------------------------------------------------------------------------------
  function setConnection(state) {
    connection.dataset.state = state;
    root.dataset.socket = state;
    // The first connection is quiet; only a lost one is worth a line.
    const words = { closed: t.reconnecting, offline: t.offline, stopped: t.forbidden };
    if (state === "connecting" && generation > 1) words.connecting = t.connecting;
    connection.textContent = words[state] || "";
  }

  function send(frame) {
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(JSON.stringify(frame));
    return true;
  }

  function requestSync() {
    if (syncing) {
      syncAgain = true;
      return;
    }
    if (send({ type: "sync", after: lastSeq, changes_after: changes })) syncing = true;
  }

  function hasHole() {
    for (const seq of messages.keys()) if (seq > lastSeq) return true;
    return false;
  }

  function flushPending() {
    for (const p of pending) {
      if (p.failed || p.sentOn === generation) continue;
      if (send({ type: "send", client_id: p.client_id, body: p.body })) p.sentOn = generation;
    }
  }

  function connect() {
    if (stopped || socket) return;
    if (!navigator.onLine) {
      setConnection("offline");
      return;
    }
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ws/consultations/${id}/`);
    socket = ws;
    generation += 1;
    lastFrameAt = Date.now();
    syncing = false;
    syncAgain = false;
    setConnection("connecting");
    ws.addEventListener("message", (event) => {
      if (socket !== ws) return;
      lastFrameAt = Date.now();
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      onFrame(frame);
    });
    ws.addEventListener("close", (event) => {
      if (socket !== ws) return;
      socket = null;
      onClose(event.code);
    });
  }

  function drop() {
    // Forget the socket at once (a close handshake over a dead network can take long), then close it.
    const ws = socket;
    socket = null;
    if (ws) ws.close();
  }

  function onClose(code) {
    if (code === 4401) {
      location.assign(`/accounts/login/?next=${encodeURIComponent(location.pathname)}`);
      return;
    }
    if (code === 4403 || code === 4404) {
      stopped = true;
      setConnection("stopped");
      return;
    }
    scheduleReconnect();
  }

  function scheduleReconnect() {
    clearTimeout(reconnectTimer);
    if (stopped) return;
    if (!navigator.onLine) {
      setConnection("offline"); // the "online" event reconnects
      return;
    }
    setConnection("closed");
    const delay = Math.min(30000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2);
    attempt += 1;
    reconnectTimer = setTimeout(connect, delay);
  }

  function onFrame(frame) {
    switch (frame.type) {
      case "hello":
        attempt = 0;
        setConnection("open");
        canPost = Boolean(frame.you?.can_post);
        for (const [user, seq] of Object.entries(frame.read || {})) noteRead(Number(user), seq);
        if (frame.consultation?.status) setStatus(frame.consultation.status);
        serverChanges = Math.max(serverChanges, frame.consultation?.changes || 0);
        requestSync();
        flushPending();
        scheduleRead();
        break;
      case "messages":
        syncing = false;
        merge(frame.items || []);
        merge(frame.changed || []);
        if (typeof frame.changes === "number") changes = Math.max(changes, frame.changes);
        if (frame.more || changes < serverChanges) requestSync();
        else if (syncAgain) {
          syncAgain = false;
          if (hasHole() || frame.last_seq > lastSeq) requestSync();
        }
        break;
      case "pong":
        // The heartbeat's check: a lost broadcast (message, edit or deletion) shows as a higher number.
        serverChanges = Math.max(serverChanges, frame.changes || 0);
        if (frame.last_seq > lastSeq || serverChanges > changes || hasHole()) requestSync();
        break;
      case "message":
        if (frame.message?.sender !== me) typingNote.hidden = true;
        merge([frame.message]);
        if (hasHole()) requestSync();
        break;
      case "edited":
      case "deleted":
        merge([frame.message]);
        if (typeof frame.change === "number") {
          serverChanges = Math.max(serverChanges, frame.change);
          if (frame.change === changes + 1) changes = frame.change;
          else if (frame.change > changes) requestSync(); // one was missed
        }
        break;
      case "transcript":
        onVoiceChange(frame.message_id, (v) => {
          const { message_id: _id, v: _v, type: _type, ...transcript } = frame;
          v.transcript = transcript;
        });
        break;
      case "played":
        onVoiceChange(frame.message_id, (v) => {
          if (!v.played_by.includes(frame.user)) v.played_by = [...v.played_by, frame.user];
        });
        break;
      case "ack":
        onAck(frame);
        break;
      case "typing":
        if (frame.user !== me) showTyping();
        break;
      case "read":
        noteRead(Number(frame.user), frame.seq);
        break;
      case "error":
        onError(frame);
        break;
      default:
        break;
    }
  }

  // A voice message's transcript or played state changed: redraw it (its player keeps playing).
  function onVoiceChange(messageId, change) {
    for (const m of messages.values()) {
      if (m.id !== messageId || !m.voice) continue;
      change(m.voice);
      put(m);
      return;
    }
  }

  function onAck(frame) {
    const p = pending.find((q) => q.client_id === frame.client_id);
    if (p && !messages.has(frame.seq)) {
      const created_at = p.at || new Date().toISOString();
      merge([{ seq: frame.seq, id: frame.id, kind: "text", sender: me, sender_name: myName, client_id: p.client_id, body: p.body, created_at, edited: false, deleted: false }]);
    }
    dropPending(frame.client_id);
    if (hasHole()) requestSync();
  }

  function onError(frame) {
    const p = frame.client_id ? pending.find((q) => q.client_id === frame.client_id) : null;
    if (p && frame.code === "rate_limited") {
      p.sentOn = null;
      const wait = typeof frame.retry_after === "number" ? frame.retry_after * 1000 : RATE_LIMIT_RETRY_MS;
      setTimeout(flushPending, Math.max(250, wait));
      return;
    }
    if (p) {
      p.failed = frame.message || frame.code;
      savePending();
      drawPending();
      return;
    }
    if (frame.code !== "not_found") toast(frame.message || frame.code);
  }

  function toast(text) {
    const note = el("p", "chat-toast", text);
    note.setAttribute("role", "alert");
    root.append(note);
    setTimeout(() => note.remove(), 6000);
  }

  function noteRead(user, seq) {
    if (!Number.isInteger(seq)) return;
    readBy.set(user, Math.max(readBy.get(user) || 0, seq));
    if (user === me) readSent = Math.max(readSent, seq);
    updateReceipts();
  }

  function showTyping() {
    typingNote.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => {
      typingNote.hidden = true;
    }, TYPING_SHOWN_MS);
  }

  // 已读: tell the server how far the reader has seen, when the page is visible.
  let readTimer = null;
  function scheduleRead() {
    clearTimeout(readTimer);
    readTimer = setTimeout(markRead, 300);
  }
  function lastVisibleSeq() {
    const bottom = visibleBottom();
    for (let node = log.lastElementChild; node; node = node.previousElementSibling) {
      if (node.getBoundingClientRect().top < bottom) return Number(node.dataset.seq);
    }
    return 0;
  }
  function markRead() {
    if (!canPost || document.visibilityState !== "visible") return;
    const seq = Math.min(lastVisibleSeq(), lastSeq);
    if (seq > readSent && send({ type: "read", seq })) readSent = seq;
  }

  function setStatus(next) {
    status = next;
    root.dataset.status = next;
    const ended = next === "ended";
    if (form) form.hidden = ended;
    if (endedNote) endedNote.hidden = !ended;
    if (ended) stopEdit();
  }

  // --- writing ---------------------------------------------------------------------------------------------
  function startEdit(m) {
    for (const bar of log.querySelectorAll(".msg-actions")) bar.remove();
    if (!input) return;
    editing = m;
    editingBar.hidden = false;
    input.value = m.body;
    input.focus();
  }
  function stopEdit() {
    editing = null;
    if (editingBar) editingBar.hidden = true;
  }

  function submit() {
    const body = input.value.trim();
    if (!body) return;
    if (editing) {
      if (!send({ type: "edit", id: editing.id, body })) {
        toast(t.offlineEdit);
        return;
      }
      stopEdit();
      input.value = "";
      return;
    }
    const item = { client_id: newClientId(), body, at: new Date().toISOString() };
    pending.push(item);
    savePending();
    drawPending();
    input.value = "";
    resize();
    if (send({ type: "send", client_id: item.client_id, body })) item.sentOn = generation;
    toBottom();
  }

  function resize() {
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
  }

  if (form && input) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      submit();
      input.focus();
    });
    input.addEventListener("keydown", (event) => {
      // Enter sends on a keyboard, never while an input method is composing Chinese; phones get a newline.
      const phone = window.matchMedia("(pointer: coarse)").matches;
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && !phone) {
        event.preventDefault();
        submit();
      }
      if (event.key === "Escape" && editing) {
        stopEdit();
        input.value = "";
      }
    });
    input.addEventListener("input", () => {
      resize();
      if (!editing && Date.now() - typingSentAt > TYPING_EVERY_MS && send({ type: "typing" })) typingSentAt = Date.now();
    });
    form.querySelector("[data-cancel-edit]")?.addEventListener("click", () => {
      stopEdit();
      input.value = "";
    });
  }

  // --- voice messages, files and images (voice.js) ---------------------------------------------------------
  const voice = createVoice({
    consultation: id,
    me,
    t,
    isOffice: root.dataset.office === "1",
    canPost: () => canPost,
    canCorrect: () => canPost || root.dataset.office === "1",
    toast,
  });
  const uploadList = root.querySelector("[data-upload-pending]");
  const uploads = uploadList
    ? createUploads({ consultation: id, list: uploadList, t, merge: (items) => merge(items), toBottom })
    : null;
  const recordButton = form?.querySelector("[data-voice-record]");
  const recordingBar = form?.querySelector("[data-recording]");
  if (uploads && recordButton && recordingBar) {
    createRecorder({
      button: recordButton,
      bar: recordingBar,
      t,
      maxSeconds: Number(root.dataset.voiceMax || 60),
      onClip: (blob, name, seconds) => uploads.add("voice", blob, name, seconds),
      toast,
    });
  }
  const attachButton = form?.querySelector("[data-attach]");
  const attachInput = form?.querySelector("[data-attach-input]");
  if (uploads && attachButton && attachInput) {
    attachButton.addEventListener("click", () => attachInput.click());
    attachInput.addEventListener("change", () => {
      for (const file of attachInput.files) uploads.add("file", file, file.name, 0);
      attachInput.value = "";
    });
  }

  // --- start ---------------------------------------------------------------------------------------------
  log.replaceChildren();
  for (const [user, seq] of Object.entries(readJson("chat-read", {}))) noteRead(Number(user), seq);
  merge(readJson("chat-initial", []));
  drawPending();
  setStatus(status);
  toBottom();

  scroller.addEventListener("scroll", scheduleRead, { passive: true });
  window.addEventListener("scroll", scheduleRead, { passive: true });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") {
      scheduleRead();
      if (!socket) connect();
    }
  });
  window.addEventListener("focus", scheduleRead);
  window.addEventListener("offline", () => {
    drop();
    setConnection("offline");
  });
  window.addEventListener("online", () => {
    clearTimeout(reconnectTimer);
    attempt = 0;
    connect();
  });
  setInterval(() => {
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    if (Date.now() - lastFrameAt > SILENCE_LIMIT_MS) {
      drop();
      scheduleReconnect();
      return;
    }
    send({ type: "ping" });
  }, PING_EVERY_MS);
  // The consultation's own live topic says when it is taken, transferred or ended.
  window.addEventListener("consult:live", (event) => {
    const frame = event.detail || {};
    if (frame.type === "consultation.changed" && String(frame.key) === String(id) && frame.data?.status) {
      setStatus(frame.data.status);
    }
  });
  window.addEventListener("consult:regions", () => updateReceipts());
  connect();

  // For tests and the curious: what this page holds.
  root.chat = {
    seqs: () => [...messages.keys()].sort((a, b) => a - b),
    pending: () => pending.map((p) => p.client_id),
    uploads: () => (uploads ? uploads.pending() : []),
    lastSeq: () => lastSeq,
  };
}

const chatRoot = document.querySelector("[data-chat]");
if (chatRoot && chatRoot.dataset.canRead === "1") startRoom(chatRoot);
