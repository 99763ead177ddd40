// A call's replay: every speaker's track plays on one timeline (each starts at its offset); a transcript line
// seeks all tracks to its time; the line being spoken is highlighted.
const page = document.querySelector("[data-call-replay]");
if (page) {
  const tracks = [...page.querySelectorAll("[data-track]")].map((li) => ({
    offset: Number(li.dataset.offset), audio: li.querySelector("audio"),
  }));
  const lines = [...page.querySelectorAll("[data-seek]")];
  const seek = (time, play) => {
    for (const { offset, audio } of tracks) {
      audio.currentTime = Math.max(0, time - offset);
      if (play && time >= offset) audio.play().catch(() => {});
    }
  };
  lines.forEach((line) => line.addEventListener("click", () => seek(Number(line.dataset.seek), true)));
  const lead = tracks[0]?.audio;
  lead?.addEventListener("timeupdate", () => {
    const now = lead.currentTime + tracks[0].offset;
    let current = null;
    for (const line of lines) if (Number(line.dataset.seek) <= now) current = line;
    lines.forEach((line) => line.classList.toggle("current", line === current));
  });
}
