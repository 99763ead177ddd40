// Voice messages, files and images in the chat room (chat/PROTOCOL.md, "REST equivalents"): what chat.js draws
// inside a bubble, and the composer's recorder and attach button.
//
// - A voice message has a player (play/pause, a 48-bar level bar that fills as it plays and seeks on a tap,
//   the duration), an "unplayed" dot for the other side until they play it, and its transcript under the clip,
//   live: queued → transcribing → done (segments seek the clip), or failed (the office gets a retry button).
//   Participants and the office correct a transcript; every version is listed.
// - The player and transcript of a message are kept across redraws (a transcript arriving mid-play must not
//   stop the clip): one per message id.
// - Recording: hold to talk on phones (slide up or away to cancel), click to start and click again to send on
//   desktops (or cancel), a timer, stopped at the limit. Opus in WebM or Ogg at 24 kbit/s where the browser can
//   (Safari: AAC in MP4). Uploads go by XHR with progress, with a client id made once: a failed upload is sent
//   again with the same id, so the server stores it once.

const LEVEL_BARS = 48;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function clock(seconds) {
  const s = Math.max(0, Math.round(seconds || 0));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function csrfToken() {
  const field = document.querySelector("input[name=csrfmiddlewaretoken]");
  if (field) return field.value;
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

async function api(url, options = {}) {
  const response = await fetch(url, {
    credentials: "same-origin",
    ...options,
    headers: { "X-CSRFToken": csrfToken(), Accept: "application/json", ...(options.headers || {}) },
  });
  const body = response.status === 204 ? {} : await response.json().catch(() => ({}));
  if (!response.ok) throw Object.assign(new Error(body.message || response.statusText), { body });
  return body;
}

function sizeText(bytes) {
  if (!Number.isFinite(bytes)) return "";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

// --- files and images ------------------------------------------------------------------------------------------

export function fileContent(m) {
  const file = m.file;
  if (!file) return null;
  if (m.kind === "image" || (file.content_type || "").startsWith("image/")) {
    const link = el("a", "image-link");
    link.href = file.url;
    link.target = "_blank";
    link.rel = "noopener";
    const img = el("img", "chat-image");
    img.src = file.url;
    img.alt = file.name;
    img.loading = "lazy";
    link.append(img);
    return link;
  }
  const link = el("a", "file-link", `📎 ${file.name}`);
  link.href = file.url;
  link.download = file.name;
  link.append(el("span", "muted small", ` ${sizeText(file.size)}`));
  return link;
}

// --- voice messages --------------------------------------------------------------------------------------------

export function createVoice(ctx) {
  // ctx: { consultation, me, t, canCorrect(), canPost(), isOffice, toast(text) }
  const players = new Map(); // message id -> { node, audio, bars, time, duration }
  const transcripts = new Map(); // message id -> { node, editing }
  let seekOnLoad = null; // { id, t } from the address (#voice=<id>&t=<s>): a search hit

  function markPlayed(m) {
    const v = m.voice;
    if (!v || m.sender === ctx.me || !ctx.canPost() || v.played_by.includes(ctx.me)) return;
    v.played_by = [...v.played_by, ctx.me];
    const li = document.querySelector(`[data-chat-log] > li[data-id="${m.id}"]`);
    li?.querySelector(".unplayed")?.remove();
    if (li) li.dataset.played = "1";
    api(`/api/consultations/${ctx.consultation}/voice/${m.id}/played/`, { method: "POST" }).catch(() => {});
  }

  function player(m) {
    const known = players.get(m.id);
    if (known) {
      known.m = m;
      return known;
    }
    const v = m.voice;
    const node = el("div", "voice-player");
    const audio = el("audio");
    audio.preload = "metadata";
    audio.src = v.url;
    const button = el("button", "voice-play", "▶");
    button.type = "button";
    button.setAttribute("aria-label", ctx.t.play || "Play");
    const bars = el("span", "voice-bars");
    bars.setAttribute("aria-hidden", "true");
    for (const level of (v.levels && v.levels.length ? v.levels : new Array(LEVEL_BARS).fill(0.2))) {
      const bar = el("i");
      bar.style.height = `${Math.max(12, Math.round(level * 100))}%`;
      bars.append(bar);
    }
    const time = el("span", "voice-time", clock(v.duration));
    node.append(button, bars, time, audio);
    const entry = { node, audio, bars, time, m };
    const duration = () => (Number.isFinite(audio.duration) && audio.duration > 0 ? audio.duration : entry.m.voice.duration);
    function paint() {
      const done = audio.currentTime / (duration() || 1);
      const lit = Math.round(done * bars.children.length);
      [...bars.children].forEach((bar, i) => bar.classList.toggle("lit", i < lit));
      time.textContent = audio.paused && audio.currentTime === 0 ? clock(duration()) : clock(audio.currentTime);
      node.dataset.state = audio.paused ? "paused" : "playing";
      button.textContent = audio.paused ? "▶" : "❚❚";
      button.setAttribute("aria-label", audio.paused ? ctx.t.play || "Play" : ctx.t.pause || "Pause");
    }
    button.addEventListener("click", (event) => {
      event.stopPropagation();
      if (audio.paused) {
        for (const other of players.values()) if (other.audio !== audio) other.audio.pause();
        audio.play().catch((error) => ctx.toast(error.message));
      } else audio.pause();
    });
    bars.addEventListener("click", (event) => {
      event.stopPropagation();
      const box = bars.getBoundingClientRect();
      seek(entry, ((event.clientX - box.left) / box.width) * duration(), false);
    });
    audio.addEventListener("play", () => {
      node.dataset.played = "1";
      markPlayed(entry.m);
    });
    for (const name of ["timeupdate", "pause", "ended", "loadedmetadata", "seeked"]) audio.addEventListener(name, paint);
    audio.addEventListener("ended", () => {
      audio.currentTime = 0;
      paint();
    });
    paint();
    players.set(m.id, entry);
    return entry;
  }

  function seek(entry, seconds, play) {
    const to = Math.max(0, Math.min(seconds, (entry.m.voice.duration || seconds) - 0.05));
    const go = () => {
      entry.audio.currentTime = to;
      if (play) entry.audio.play().catch(() => {});
    };
    if (entry.audio.readyState >= 1) go();
    else entry.audio.addEventListener("loadedmetadata", go, { once: true });
    entry.node.dataset.seekedTo = String(to);
  }

  const statusWords = () => ({
    queued: ctx.t.transcriptQueued,
    running: ctx.t.transcriptRunning,
    failed: ctx.t.transcriptFailed,
  });

  function transcriptBlock(m) {
    let entry = transcripts.get(m.id);
    if (!entry) {
      entry = { node: el("div", "transcript"), editing: false };
      transcripts.set(m.id, entry);
    }
    if (!entry.editing) drawTranscript(entry, m);
    return entry.node;
  }

  function drawTranscript(entry, m) {
    const node = entry.node;
    const tr = m.voice.transcript;
    node.replaceChildren();
    node.dataset.status = tr ? tr.status : "none";
    if (!tr) return;
    if (tr.status !== "done") {
      node.append(el("span", "transcript-status muted small", statusWords()[tr.status] || tr.status));
      if (tr.status === "failed" && ctx.isOffice) {
        const retry = el("button", "link small", ctx.t.retryTranscript);
        retry.type = "button";
        retry.dataset.retryTranscript = "";
        retry.addEventListener("click", (event) => {
          event.stopPropagation();
          retry.disabled = true;
          api(`/api/consultations/${ctx.consultation}/voice/${m.id}/transcript/retry/`, { method: "POST" })
            .then((detail) => {
              m.voice.transcript = { ...tr, status: detail.status };
              drawTranscript(entry, m);
            })
            .catch((error) => ctx.toast(error.message));
        });
        node.append(" ", retry);
      }
      return;
    }
    const text = el("p", "transcript-text");
    text.lang = "zh-CN";
    if (tr.corrected || !tr.segments.length) text.textContent = tr.text;
    else {
      for (const segment of tr.segments) {
        const part = el("span", "segment", segment.text);
        part.dataset.start = segment.start;
        part.addEventListener("click", (event) => {
          event.stopPropagation();
          const p = players.get(m.id);
          if (p) seek(p, segment.start, true);
        });
        text.append(part);
      }
    }
    node.append(text);
    const tools = el("span", "transcript-tools small");
    if (tr.corrected) tools.append(el("span", "muted", ctx.t.corrected), " ");
    if (ctx.canCorrect()) {
      const correct = el("button", "link small", ctx.t.correct);
      correct.type = "button";
      correct.dataset.correctTranscript = "";
      correct.addEventListener("click", (event) => {
        event.stopPropagation();
        openEditor(entry, m);
      });
      tools.append(correct, " ");
    }
    const versions = el("button", "link small", ctx.t.versions);
    versions.type = "button";
    versions.dataset.transcriptVersions = "";
    versions.addEventListener("click", (event) => {
      event.stopPropagation();
      showVersions(entry, m);
    });
    tools.append(versions);
    node.append(tools);
  }

  function openEditor(entry, m) {
    entry.editing = true;
    const form = el("form", "transcript-edit");
    const area = el("textarea");
    area.value = m.voice.transcript.text;
    area.rows = 3;
    area.setAttribute("aria-label", ctx.t.correct);
    const save = el("button", "small primary", ctx.t.save);
    save.type = "submit";
    const cancel = el("button", "small", ctx.t.cancel);
    cancel.type = "button";
    form.append(area, save, cancel);
    const close = () => {
      entry.editing = false;
      drawTranscript(entry, m);
    };
    cancel.addEventListener("click", close);
    form.addEventListener("click", (event) => event.stopPropagation());
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      save.disabled = true;
      api(`/api/consultations/${ctx.consultation}/voice/${m.id}/transcript/`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ text: area.value }),
      })
        .then((detail) => {
          m.voice.transcript = { ...m.voice.transcript, text: detail.text, corrected: detail.corrected };
          close();
        })
        .catch((error) => {
          save.disabled = false;
          ctx.toast(error.message);
        });
    });
    entry.node.replaceChildren(form);
    area.focus();
  }

  function showVersions(entry, m) {
    const open = entry.node.querySelector(".transcript-versions");
    if (open) {
      open.remove();
      return;
    }
    api(`/api/consultations/${ctx.consultation}/voice/${m.id}/transcript/`).then((detail) => {
      const list = el("ol", "transcript-versions small");
      list.start = 0;
      const machine = el("li");
      machine.append(el("span", "muted", `${ctx.t.machineText}: `), detail.machine_text);
      list.append(machine);
      for (const version of detail.versions) {
        const item = el("li");
        const when = new Date(version.created_at).toLocaleString(document.documentElement.lang || undefined);
        item.append(el("span", "muted", `${version.author_name} · ${when}: `), version.text);
        list.append(item);
      }
      entry.node.append(list);
    });
  }

  // The bubble's content of a voice message.
  function content(m, li) {
    const box = el("div", "voice");
    const p = player(m);
    box.append(p.node);
    const played = (m.voice.played_by || []).filter((user) => user !== m.sender);
    if (m.sender !== ctx.me && ctx.canPost() && !m.voice.played_by.includes(ctx.me)) {
      const dot = el("span", "unplayed");
      dot.title = ctx.t.unplayed;
      dot.setAttribute("aria-label", ctx.t.unplayed);
      box.append(dot);
      li.dataset.played = "0";
    } else if (m.sender === ctx.me) {
      li.dataset.played = played.length ? "1" : "0";
      if (played.length) box.append(el("span", "played-mark muted small", ctx.t.played));
    }
    box.append(transcriptBlock(m));
    if (seekOnLoad && seekOnLoad.id === m.id) {
      const target = seekOnLoad;
      seekOnLoad = null;
      li.classList.add("found");
      seek(p, target.t, false);
      requestAnimationFrame(() => li.scrollIntoView({ block: "center" }));
    }
    return box;
  }

  function fromAddress() {
    const params = new URLSearchParams(location.hash.replace(/^#/, ""));
    const id = Number(params.get("voice"));
    if (id) seekOnLoad = { id, t: Number(params.get("t")) || 0 };
  }
  fromAddress();

  return { content, players };
}

// --- uploads: voice clips and files, with progress and resends ----------------------------------------------

function newClientId() {
  if (window.crypto?.randomUUID) return window.crypto.randomUUID();
  const bytes = window.crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export function createUploads(ctx) {
  // ctx: { consultation, list (the <ol> of pending uploads), t, merge(payloads), toBottom() }
  const uploads = [];

  function draw() {
    ctx.list.replaceChildren(
      ...uploads.map((u) => {
        const li = el("li", `msg mine pending upload${u.error ? " failed" : ""}`);
        li.dataset.clientId = u.client_id;
        li.dataset.upload = u.kind;
        const bubble = el("div", "bubble");
        bubble.append(el("p", "body", u.kind === "voice" ? `🎤 ${clock(u.seconds)}` : `📎 ${u.name}`));
        const bar = el("progress");
        bar.max = 100;
        bar.value = u.progress;
        if (!u.error) bubble.append(bar);
        bubble.append(el("span", "meta", u.error ? `${ctx.t.failed}: ${u.error}` : ctx.t.sending));
        if (u.error) {
          if (u.retryable) {
            const again = el("button", "link small", ctx.t.resend);
            again.type = "button";
            again.dataset.resend = "";
            again.addEventListener("click", () => send(u));
            bubble.append(" ", again);
          }
          const dismiss = el("button", "link small", ctx.t.dismiss);
          dismiss.type = "button";
          dismiss.addEventListener("click", () => {
            uploads.splice(uploads.indexOf(u), 1);
            draw();
          });
          bubble.append(" ", dismiss);
        }
        li.append(bubble);
        return li;
      }),
    );
  }

  function send(u) {
    u.error = "";
    u.progress = 0;
    draw();
    const form = new FormData();
    form.append("client_id", u.client_id); // the same id on every resend: stored once
    form.append("file", u.blob, u.name);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/consultations/${ctx.consultation}/${u.kind === "voice" ? "voice" : "files"}/`);
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", (event) => {
      if (!event.lengthComputable) return;
      u.progress = Math.round((event.loaded / event.total) * 100);
      const bar = ctx.list.querySelector(`[data-client-id="${u.client_id}"] progress`);
      if (bar) bar.value = u.progress;
    });
    xhr.addEventListener("load", () => {
      let body = {};
      try {
        body = JSON.parse(xhr.responseText || "{}");
      } catch {
        body = {};
      }
      if (xhr.status === 200 || xhr.status === 201) {
        uploads.splice(uploads.indexOf(u), 1);
        draw();
        ctx.merge([body]);
        ctx.toBottom();
        return;
      }
      // Refused for what it is (not audio, too long…): resending the same bytes cannot help.
      u.retryable = xhr.status >= 500 || xhr.status === 429 || xhr.status === 0;
      u.error = body.message || `${xhr.status}`;
      draw();
    });
    const lost = () => {
      u.retryable = true;
      u.error = ctx.t.networkError;
      draw();
    };
    xhr.addEventListener("error", lost);
    xhr.addEventListener("timeout", lost);
    xhr.send(form);
  }

  function add(kind, blob, name, seconds) {
    const u = { kind, blob, name, seconds, client_id: newClientId(), progress: 0, error: "", retryable: true };
    uploads.push(u);
    send(u);
    ctx.toBottom();
    return u;
  }

  return { add, pending: () => uploads.map((u) => u.client_id) };
}

// --- the recorder ------------------------------------------------------------------------------------------

function recorderType() {
  const wanted = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/webm", "audio/mp4"];
  return wanted.find((type) => window.MediaRecorder?.isTypeSupported?.(type)) || "";
}

export function createRecorder(ctx) {
  // ctx: { button, bar (recording strip), t, maxSeconds, onClip(blob, name, seconds), toast(text) }
  const { button, bar } = ctx;
  const timer = bar.querySelector("[data-recording-time]");
  const meter = bar.querySelector("[data-recording-level]");
  const hint = bar.querySelector("[data-recording-hint]");
  const cancelButton = bar.querySelector("[data-recording-cancel]");
  const sendButton = bar.querySelector("[data-recording-send]");
  const phone = () => window.matchMedia("(pointer: coarse)").matches;
  let state = null; // { recorder, stream, chunks, startedAt, tick, cancelled, audioContext }
  let pointerStart = null; // a phone's finger on the button

  if (!window.MediaRecorder || !navigator.mediaDevices?.getUserMedia) {
    button.hidden = true;
    return null;
  }

  async function start() {
    if (state) return;
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true } });
    } catch {
      ctx.toast(ctx.t.noMicrophone);
      return;
    }
    if (state || (phone() && !pointerStart)) {
      for (const track of stream.getTracks()) track.stop(); // released before the microphone opened
      return;
    }
    const mimeType = recorderType();
    const recorder = new MediaRecorder(stream, { ...(mimeType ? { mimeType } : {}), audioBitsPerSecond: 24000 });
    const chunks = [];
    state = { recorder, stream, chunks, startedAt: Date.now(), cancelled: false };
    recorder.addEventListener("dataavailable", (event) => {
      if (event.data && event.data.size) chunks.push(event.data);
    });
    recorder.addEventListener("stop", () => finish(recorder, stream, chunks));
    recorder.start(250);
    bar.hidden = false;
    button.dataset.recordState = "1";
    button.setAttribute("aria-pressed", "true");
    if (hint) hint.textContent = phone() ? ctx.t.releaseToSend : ctx.t.clickToSend;
    try {
      const audioContext = new AudioContext();
      const analyser = audioContext.createAnalyser();
      analyser.fftSize = 512;
      audioContext.createMediaStreamSource(stream).connect(analyser);
      state.audioContext = audioContext;
      state.analyser = analyser;
    } catch {
      // no level meter: the timer is enough
    }
    const samples = new Uint8Array(512);
    state.tick = setInterval(() => {
      const seconds = (Date.now() - state.startedAt) / 1000;
      timer.textContent = `${clock(seconds)} / ${clock(ctx.maxSeconds)}`;
      if (state.analyser && meter) {
        state.analyser.getByteTimeDomainData(samples);
        let peak = 0;
        for (const s of samples) peak = Math.max(peak, Math.abs(s - 128) / 128);
        meter.style.width = `${Math.min(100, Math.round(peak * 140))}%`;
      }
      if (seconds >= ctx.maxSeconds - 0.5) stop(false); // the server refuses more than the limit
    }, 100);
    timer.textContent = `${clock(0)} / ${clock(ctx.maxSeconds)}`;
  }

  function stop(cancel) {
    if (!state) return;
    state.cancelled = cancel;
    clearInterval(state.tick);
    state.seconds = (Date.now() - state.startedAt) / 1000;
    if (state.recorder.state !== "inactive") state.recorder.stop();
  }

  function finish(recorder, stream, chunks) {
    const done = state;
    state = null;
    for (const track of stream.getTracks()) track.stop();
    done?.audioContext?.close();
    bar.hidden = true;
    bar.dataset.cancelling = "0";
    button.dataset.recordState = "0";
    button.setAttribute("aria-pressed", "false");
    if (!done || done.cancelled) return;
    if (done.seconds < 0.7) {
      ctx.toast(ctx.t.tooShort);
      return;
    }
    const type = recorder.mimeType || chunks[0]?.type || "audio/webm";
    const extension = type.includes("ogg") ? "ogg" : type.includes("mp4") ? "m4a" : "webm";
    ctx.onClip(new Blob(chunks, { type }), `voice.${extension}`, done.seconds);
  }

  // Desktop: click to start, click again (or 发送) to send. Phone: hold to talk, release to send; slide up or
  // away to cancel.
  button.addEventListener("click", (event) => {
    event.preventDefault();
    if (phone()) return;
    if (state) stop(false);
    else start();
  });
  button.addEventListener("pointerdown", (event) => {
    if (!phone()) return;
    event.preventDefault();
    pointerStart = { x: event.clientX, y: event.clientY };
    button.setPointerCapture?.(event.pointerId);
    start();
  });
  button.addEventListener("pointermove", (event) => {
    if (!pointerStart || !state) return;
    const away = pointerStart.y - event.clientY > 60 || Math.abs(event.clientX - pointerStart.x) > 120;
    bar.dataset.cancelling = away ? "1" : "0";
    if (hint) hint.textContent = away ? ctx.t.releaseToCancel : ctx.t.releaseToSend;
  });
  const release = () => {
    if (!pointerStart) return;
    pointerStart = null;
    stop(bar.dataset.cancelling === "1");
  };
  button.addEventListener("pointerup", release);
  button.addEventListener("pointercancel", () => {
    pointerStart = null;
    stop(true);
  });
  button.addEventListener("contextmenu", (event) => event.preventDefault());
  cancelButton?.addEventListener("click", () => stop(true));
  sendButton?.addEventListener("click", () => stop(false));
  return { recording: () => Boolean(state), stop };
}
