// A call's replay: every speaker's track plays on one timeline (each starts at its offset); a transcript line
// seeks all tracks to its time; the line being spoken is highlighted. `#t=<seconds>` (a search hit) seeks there.
// Who may correct gets a "Correct" button per line: the line's new text is sent to the call's transcript API, and
// the line, its "corrected" mark and its versions are redrawn from the answer.
const page = document.querySelector("[data-call-replay]");

function csrfToken() {
  const field = page.querySelector("input[name=csrfmiddlewaretoken]");
  if (field) return field.value;
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

function redraw(item, line) {
  item.querySelector("[data-line-text]").textContent = line.text;
  item.querySelector("[data-corrected]").hidden = !line.corrected;
  const versions = item.querySelector("[data-line-versions]");
  const list = versions.querySelector("ol");
  const machine = list.firstElementChild;
  list.replaceChildren(machine);
  for (const version of line.versions) {
    const entry = document.createElement("li");
    const who = document.createElement("span");
    who.className = "muted";
    const when = new Date(version.created_at).toLocaleString(document.documentElement.lang || undefined);
    who.textContent = `${version.author_name} · ${when}: `;
    entry.append(who, version.text);
    list.append(entry);
  }
  versions.hidden = line.versions.length === 0;
}

function correct(item) {
  if (item.querySelector("[data-line-form]")) return;
  const form = page.querySelector("template[data-correct-form]").content.firstElementChild.cloneNode(true);
  const area = form.querySelector("textarea");
  const error = form.querySelector("[data-error]");
  area.value = item.querySelector("[data-line-text]").textContent;
  form.querySelector("[data-cancel]").addEventListener("click", () => form.remove());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    const body = { track: Number(item.dataset.trackId), index: Number(item.dataset.index), text: area.value };
    let response;
    try {
      response = await fetch(page.dataset.api, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify(body),
      });
    } catch (failure) {
      error.textContent = String(failure);
      error.hidden = false;
      return;
    }
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      error.textContent = answer.message || response.statusText;
      error.hidden = false;
      return;
    }
    const line = answer.lines.find((l) => l.track === body.track && l.index === body.index);
    if (line) redraw(item, line);
    form.remove();
  });
  item.append(form);
  area.focus();
}

if (page) {
  const tracks = [...page.querySelectorAll("[data-track]")].map((li) => ({
    offset: Number(li.dataset.offset), audio: li.querySelector("audio"),
  })).filter((track) => track.audio);  // none once the recording was purged (retention): the transcript stays
  const lines = [...page.querySelectorAll("[data-seek]")];
  const seek = (time, play) => {
    for (const { offset, audio } of tracks) {
      audio.currentTime = Math.max(0, time - offset);
      if (play && time >= offset) audio.play().catch(() => {});
    }
  };
  const highlight = (now) => {
    let current = null;
    for (const line of lines) if (Number(line.dataset.seek) <= now) current = line;
    lines.forEach((line) => line.classList.toggle("current", line === current));
  };
  lines.forEach((line) => line.addEventListener("click", () => seek(Number(line.dataset.seek), true)));
  page.querySelectorAll("[data-correct-line]").forEach((button) =>
    button.addEventListener("click", () => correct(button.closest("[data-line]"))));
  const lead = tracks[0]?.audio;
  lead?.addEventListener("timeupdate", () => highlight(lead.currentTime + tracks[0].offset));
  const at = new URLSearchParams(location.hash.slice(1)).get("t");
  if (at !== null && Number.isFinite(Number(at))) {
    seek(Number(at), false);
    highlight(Number(at));
    page.querySelector("[data-seek].current")?.scrollIntoView({ block: "center" });
  }
}
