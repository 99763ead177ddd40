// "Similar proposals": earlier proposals on the subject of the one being written or registered.
//
//   <aside data-similar data-url="/api/search/proposals/similar/" data-exclude="12"
//          data-title-field="id_title" data-body-field="id_body"
//          data-text-class="{c}类" data-text-lead="主办：" hidden>
//     <ul data-similar-list></ul>
//   </aside>
//       As the deputy types (400 ms after the last key, 2 characters at least), ask the API and list up to 5
//       proposals with their reply class and lead bureau, opening in a new tab. A newer question cancels the
//       older one. The panel is a help, never a step: a failure hides it and says nothing; typing and
//       submitting never wait for it.
//
//   <details data-similar-src="/search/similar/12/"><div data-similar-body>…</div></details>
//       The office's fold: the server-rendered list, fetched the first time it is opened.

const DEBOUNCE_MS = 400;
const MIN_CHARS = 2;
const BODY_CHARS = 3000; // what the similar query reads of the text

function csrfToken(panel) {
  const field = panel.closest("form")?.querySelector("input[name=csrfmiddlewaretoken]")
    || document.querySelector("input[name=csrfmiddlewaretoken]");
  return field ? field.value : "";
}

function item(result, texts) {
  const li = document.createElement("li");
  li.dataset.proposal = String(result.id);
  const a = document.createElement("a");
  a.href = result.url;
  a.target = "_blank";
  a.rel = "noopener";
  if (result.code) {
    const code = document.createElement("span");
    code.className = "code";
    code.textContent = result.code;
    a.append(code, " ");
  }
  const title = document.createElement("span");
  // The API's highlights are the original text HTML-escaped, with <mark> around the matches.
  if (result.highlights && result.highlights.title) title.innerHTML = result.highlights.title;
  else title.textContent = result.title;
  a.append(title);
  const chips = document.createElement("span");
  chips.className = "chips";
  const state = document.createElement("span");
  if (result.outcome_class) {
    state.className = "chip class";
    state.dataset.class = result.outcome_class;
    state.title = result.outcome_display || "";
    state.textContent = texts.cls.replace("{c}", result.outcome_class);
  } else {
    state.className = "chip status";
    state.dataset.status = result.status;
    state.textContent = result.status_display;
  }
  chips.append(state);
  if (result.lead_bureaus && result.lead_bureaus.length) {
    const lead = document.createElement("span");
    lead.className = "chip plain bureau";
    lead.textContent = `${texts.lead} ${result.lead_bureaus.join("、")}`;
    chips.append(lead);
  }
  li.append(a, " ", chips);
  return li;
}

function watch(panel) {
  const title = document.getElementById(panel.dataset.titleField || "id_title");
  const body = document.getElementById(panel.dataset.bodyField || "id_body");
  const list = panel.querySelector("[data-similar-list]");
  if (!title || !list) return;
  const texts = { cls: panel.dataset.textClass || "{c}", lead: panel.dataset.textLead || "" };
  let timer = 0;
  let running = null;
  let asked = "";

  const show = (results) => {
    list.replaceChildren(...results.map((result) => item(result, texts)));
    panel.hidden = results.length === 0;
    panel.dataset.state = "shown";
  };
  const hide = () => {
    list.replaceChildren();
    panel.hidden = true;
  };

  async function ask() {
    const question = {
      title: title.value.trim(),
      body: body ? body.value.trim().slice(0, BODY_CHARS) : "",
    };
    if (question.title.length + question.body.length < MIN_CHARS) {
      running?.abort();
      asked = "";
      hide();
      return;
    }
    const key = JSON.stringify(question);
    if (key === asked) return;
    asked = key;
    if (panel.dataset.exclude) question.exclude = Number(panel.dataset.exclude);
    running?.abort();
    const mine = new AbortController();
    running = mine;
    panel.dataset.state = "asking";
    try {
      const response = await fetch(panel.dataset.url, {
        method: "POST",
        credentials: "same-origin",
        signal: mine.signal,
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(panel) },
        body: JSON.stringify(question),
      });
      if (!response.ok) throw new Error(`similar: ${response.status}`);
      const answer = await response.json();
      if (running === mine) show(Array.isArray(answer.results) ? answer.results : []);
    } catch {
      if (running === mine) {
        asked = ""; // ask again on the next key
        hide();
      }
    } finally {
      if (running === mine) running = null;
    }
  }

  const later = () => {
    clearTimeout(timer);
    timer = setTimeout(ask, DEBOUNCE_MS);
  };
  title.addEventListener("input", later);
  body?.addEventListener("input", later);
  if (title.value.trim() || body?.value.trim()) ask(); // a draft being edited, or one pre-filled
}

function fold(details) {
  details.addEventListener("toggle", async () => {
    if (!details.open || details.dataset.loaded) return;
    details.dataset.loaded = "1";
    const target = details.querySelector("[data-similar-body]");
    try {
      const response = await fetch(details.dataset.similarSrc, {
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch" },
      });
      if (!response.ok || response.redirected) throw new Error(`similar: ${response.status}`);
      target.innerHTML = await response.text(); // our own server's template (search/_similar_list.html)
    } catch {
      delete details.dataset.loaded; // keep the plain link; try again on the next opening
    }
  });
}

for (const panel of document.querySelectorAll("[data-similar]")) watch(panel);
for (const details of document.querySelectorAll("details[data-similar-src]")) fold(details);
