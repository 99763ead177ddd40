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
  const subscribers = new Map(); // feed → RTCPeerConnection receiving another speaker (one per other speaker)
  const feedUsers = new Map(); // feed → the speaker's user id
  let invitable = [];
  let statsTimer = null;
  let muted = false;

  fetch(root.dataset.configUrl, { credentials: "same-origin" })
    .then((response) => response.json())
    .then((config) => {
      iceServers = config.ice_servers || [];
      invitable = config.invitable || [];
      const select = $("[data-call-invite-expert]");
      for (const expert of invitable) {
        const option = document.createElement("option");
        option.value = expert.user;
        option.textContent = expert.online ? `${expert.name} ●` : expert.name;
        select.append(option);
      }
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
    else if (frame.type === "call.caption") caption(frame);
    else if (frame.type === "error" && (frame.code?.startsWith("call") || ["busy", "calls_unavailable", "already_invited"].includes(frame.code))) {
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

  function mine(c) {
    return c.participants.find((p) => p.user === me);
  }

  function inCall(c) {
    // in it and not gone; an invited expert counts once they have joined
    const p = mine(c);
    return Boolean(p) && !p.left && !(p.invited && !p.joined);
  }

  function invitedNow(c) {
    const p = mine(c);
    return c.state === "active" && Boolean(p) && p.invited && !p.joined && !p.left;
  }

  function show(c) {
    call = c;
    root.dataset.state = c.state;
    root.dataset.callId = c.id;
    const live = c.state === "ringing" || c.state === "active";
    const caller = c.started_by === me;
    const invited = invitedNow(c);
    const speaking = c.state === "active" && inCall(c);
    $("[data-call-start]").hidden = live;
    $("[data-call-incoming]").hidden = !((c.state === "ringing" && !caller) || invited);
    $("[data-call-bar]").hidden = !(live && ((caller && c.state === "ringing") || speaking));
    $("[data-call-recorded]").hidden = !(live && c.recorded);
    $("[data-call-not-recorded]").hidden = !(live && !c.recorded);
    const present = c.participants.filter((p) => !p.left).length;
    $("[data-call-invite]").hidden = !(speaking && invitable.length && present < 3);
    if (c.state === "ringing") status.textContent = caller ? t.calling : t.incoming;
    else if (invited) status.textContent = t.invited;
    else if (c.state === "active") status.textContent = speaking ? t.inCall : (mine(c)?.left ? t.left : t.busy);
    else status.textContent = t[c.state] || "";
    for (const p of c.participants) if (p.left) dropSpeaker(p.user);
    if (speaking && !publisher) publish();
    const replay = $("[data-call-replay-link]");
    replay.hidden = !(c.state === "ended" && c.answered_at);
    replay.href = `/desk/consultations/${id}/calls/${c.id}/`;
    if (!live || !speaking) stopMedia();
  }

  function dropSpeaker(user) {
    // someone left a call that goes on: their feed is closed here (Janus unpublished it)
    for (const [feed, pc] of subscribers) {
      if (feedUsers.get(feed) !== user) continue;
      pc.close();
      subscribers.delete(feed);
      feedUsers.delete(feed);
    }
    root.querySelectorAll(`audio[data-call-audio="${user}"]`).forEach((audio) => audio.remove());
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
    subscribers.get(frame.feed)?.close();
    subscribers.set(frame.feed, pc);
    feedUsers.set(frame.feed, frame.user);
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
      const heard = [];
      for (const [feed, pc] of subscribers) {
        const report = await pc.getStats();
        let feedPackets = 0;
        report.forEach((s) => {
          if (s.type === "inbound-rtp" && s.kind === "audio") {
            feedPackets += s.packetsReceived || 0;
            energy += s.totalAudioEnergy || 0;
          }
        });
        packets += feedPackets;
        if (feedPackets > 0) heard.push(feedUsers.get(feed));
      }
      root.dataset.receivedPackets = packets;
      root.dataset.heardSpeakers = heard.sort().join(","); // the users whose audio arrives here
      root.dataset.receivedEnergy = energy.toFixed(4);
      const sent = publisher ? await publisher.getStats() : new Map();
      let out = 0;
      sent.forEach((s) => { if (s.type === "outbound-rtp" && s.kind === "audio") out += s.packetsSent || 0; });
      root.dataset.sentPackets = out;
    }, 1000);
  }

  // Live captions (call.caption, only where the server has them on): one line per speaker's line number; a later
  // frame of the same line replaces its text; the last few lines stay.
  const captionLines = new Map();
  function caption(frame) {
    const box = $("[data-call-captions]");
    const key = `${frame.user}:${frame.line}`;
    let line = captionLines.get(key);
    if (!line) {
      line = document.createElement("p");
      line.dataset.captionUser = String(frame.user);
      const who = document.createElement("strong");
      who.textContent = `${frame.name}: `;
      line.append(who, document.createElement("span"));
      box.append(line);
      captionLines.set(key, line);
      while (box.children.length > 4) {
        const oldest = box.firstElementChild;
        for (const [k, v] of captionLines) if (v === oldest) captionLines.delete(k);
        oldest.remove();
      }
    }
    line.lastElementChild.textContent = frame.text;
    line.classList.toggle("final", Boolean(frame.final));
    box.hidden = false;
  }

  function clearCaptions() {
    captionLines.clear();
    const box = $("[data-call-captions]");
    box.replaceChildren();
    box.hidden = true;
  }

  function stopMedia() {
    clearCaptions();
    clearInterval(statsTimer);
    publisher?.close();
    publisher = null;
    for (const pc of subscribers.values()) pc.close();
    subscribers.clear();
    feedUsers.clear();
    microphone?.getTracks().forEach((track) => track.stop());
    microphone = null;
    root.querySelectorAll("audio[data-call-audio]").forEach((audio) => audio.remove());
  }

  $("[data-call-start]").addEventListener("click", () => send({ type: "call.start" }));
  $("[data-call-accept]").addEventListener("click", () => send({ type: "call.accept", call: call.id }));
  $("[data-call-decline]").addEventListener("click", () => send({ type: "call.decline", call: call.id }));
  $("[data-call-hangup]").addEventListener("click", () => send({ type: "call.hangup", call: call.id }));
  $("[data-call-invite-send]").addEventListener("click", () => {
    const expert = Number($("[data-call-invite-expert]").value);
    if (expert) send({ type: "call.invite", call: call.id, expert });
  });
  $("[data-call-mute]").addEventListener("click", (event) => {
    muted = !muted;
    microphone?.getAudioTracks().forEach((track) => { track.enabled = !muted; });
    event.currentTarget.setAttribute("aria-pressed", String(muted));
    event.currentTarget.textContent = muted ? t.unmute : t.mute;
  });
}
