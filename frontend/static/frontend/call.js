// Live voice calls in the chat room (chat/PROTOCOL.md, "Calls"). Its own socket to the consultation's chat URL
// carries the call.* frames; the server brokers the SDP with the media server (Janus), which records each speaker.
// The page never talks to Janus's API: it sends its offer, gets the answer, and answers one offer per other speaker.

const root = document.querySelector("[data-call]");
if (root) start(root);

function start(root) {
  const id = root.dataset.consultation;
  const me = Number(root.dataset.me);
  const t = root.dataset;
  const $ = (selector) => root.querySelector(selector);
  const status = $("[data-call-status]");
  let socket = null;
  let call = null; // the last "call" frame's call
  let iceServers = [];
  let publisher = null; // RTCPeerConnection sending the microphone
  let microphone = null;
  const subscribers = new Map(); // feed → RTCPeerConnection receiving another speaker
  let statsTimer = null;
  let muted = false;

  fetch(root.dataset.configUrl, { credentials: "same-origin" })
    .then((response) => response.json())
    .then((config) => {
      iceServers = config.ice_servers || [];
      if (!config.available) {
        root.dataset.state = "unavailable";
        $("[data-call-unavailable]").hidden = false;
        return;
      }
      connect();
    })
    .catch(() => { root.dataset.state = "unavailable"; $("[data-call-unavailable]").hidden = false; });

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}/ws/consultations/${id}/`);
    socket.addEventListener("message", (event) => onFrame(JSON.parse(event.data)));
    socket.addEventListener("close", (event) => {
      root.dataset.socket = "closed";
      stopMedia();
      if ([4401, 4403, 4404].includes(event.code)) return;
      setTimeout(connect, 2000 + Math.random() * 2000);
    });
  }

  function send(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
  }

  function onFrame(frame) {
    if (frame.type === "hello") caughtUp();
    else if (frame.type === "call") show(frame.call);
    else if (frame.type === "call.answer") publisher?.setRemoteDescription({ type: "answer", sdp: frame.sdp });
    else if (frame.type === "call.offer") subscribe(frame);
    else if (frame.type === "error" && (frame.code?.startsWith("call") || ["busy", "calls_unavailable"].includes(frame.code))) {
      status.textContent = frame.message;
    }
  }

  async function caughtUp() {
    // In the group now: read the live call (one may have rung while this socket was away), then offer to call.
    try {
      const config = await (await fetch(root.dataset.configUrl, { credentials: "same-origin" })).json();
      if (config.live) show(config.live);
      else if (!call || call.state === "ringing" || call.state === "active") {
        if (call) show({ ...call, state: "ended" });
        $("[data-call-start]").hidden = false;
      }
    } finally {
      root.dataset.socket = "open";
    }
  }

  function inCall(c) {
    return c.participants.some((p) => p.user === me);
  }

  function show(c) {
    call = c;
    root.dataset.state = c.state;
    root.dataset.callId = c.id;
    const live = c.state === "ringing" || c.state === "active";
    const mine = c.started_by === me;
    $("[data-call-start]").hidden = live;
    $("[data-call-incoming]").hidden = !(c.state === "ringing" && !mine);
    $("[data-call-bar]").hidden = !(live && (mine || (c.state === "active" && inCall(c))));
    $("[data-call-recorded]").hidden = !(live && c.recorded);
    if (c.state === "ringing") status.textContent = mine ? t.calling : t.incoming;
    else if (c.state === "active") status.textContent = inCall(c) ? t.inCall : t.busy;
    else status.textContent = t[c.state] || "";
    if (c.state === "active" && inCall(c) && !publisher) publish();
    const replay = $("[data-call-replay-link]");
    replay.hidden = !(c.state === "ended" && c.answered_at);
    replay.href = `/desk/consultations/${id}/calls/${c.id}/`;
    if (!live) stopMedia();
  }

  async function gathered(pc) {
    if (pc.iceGatheringState === "complete") return;
    await new Promise((resolve) => {
      const done = () => pc.iceGatheringState === "complete" && resolve();
      pc.addEventListener("icegatheringstatechange", done);
      setTimeout(resolve, 5000); // what was gathered by then is enough on a LAN; TURN candidates come early
    });
  }

  async function publish() {
    const callId = call.id;
    publisher = new RTCPeerConnection({ iceServers });
    try {
      microphone = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
    } catch {
      status.textContent = t.noMicrophone;
      return;
    }
    for (const track of microphone.getAudioTracks()) publisher.addTrack(track, microphone);
    await publisher.setLocalDescription(await publisher.createOffer());
    await gathered(publisher);
    send({ type: "call.offer", call: callId, sdp: publisher.localDescription.sdp });
    watch();
  }

  async function subscribe(frame) {
    const pc = new RTCPeerConnection({ iceServers });
    subscribers.set(frame.feed, pc);
    pc.addEventListener("track", (event) => {
      const audio = document.createElement("audio");
      audio.autoplay = true;
      audio.dataset.callAudio = frame.user ?? "";
      audio.srcObject = event.streams[0] || new MediaStream([event.track]);
      root.append(audio);
    });
    await pc.setRemoteDescription({ type: "offer", sdp: frame.sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    await gathered(pc);
    send({ type: "call.answer", call: frame.call, feed: frame.feed, sdp: pc.localDescription.sdp });
  }

  function watch() {
    // What is heard, for the person (a level) and for the tests (packets and energy received).
    clearInterval(statsTimer);
    statsTimer = setInterval(async () => {
      let packets = 0;
      let energy = 0;
      for (const pc of subscribers.values()) {
        const report = await pc.getStats();
        report.forEach((s) => {
          if (s.type === "inbound-rtp" && s.kind === "audio") {
            packets += s.packetsReceived || 0;
            energy += s.totalAudioEnergy || 0;
          }
        });
      }
      root.dataset.receivedPackets = packets;
      root.dataset.receivedEnergy = energy.toFixed(4);
      const sent = publisher ? await publisher.getStats() : new Map();
      let out = 0;
      sent.forEach((s) => { if (s.type === "outbound-rtp" && s.kind === "audio") out += s.packetsSent || 0; });
      root.dataset.sentPackets = out;
    }, 1000);
  }

  function stopMedia() {
    clearInterval(statsTimer);
    publisher?.close();
    publisher = null;
    for (const pc of subscribers.values()) pc.close();
    subscribers.clear();
    microphone?.getTracks().forEach((track) => track.stop());
    microphone = null;
    root.querySelectorAll("audio[data-call-audio]").forEach((audio) => audio.remove());
  }

  $("[data-call-start]").addEventListener("click", () => send({ type: "call.start" }));
  $("[data-call-accept]").addEventListener("click", () => send({ type: "call.accept", call: call.id }));
  $("[data-call-decline]").addEventListener("click", () => send({ type: "call.decline", call: call.id }));
  $("[data-call-hangup]").addEventListener("click", () => send({ type: "call.hangup", call: call.id }));
  $("[data-call-mute]").addEventListener("click", (event) => {
    muted = !muted;
    microphone?.getAudioTracks().forEach((track) => { track.enabled = !muted; });
    event.currentTarget.setAttribute("aria-pressed", String(muted));
    event.currentTarget.textContent = muted ? t.unmute : t.mute;
  });
}
