// The desk's bureau list: typing filters the bureaus by name, full name or topic (the list is already sorted by
// who is online on the server). The list is a live region that desk_live.js replaces: the filter is applied again
// to each fresh copy. Without JavaScript every bureau stays listed.
const input = document.querySelector("[data-bureau-filter]");
const none = document.querySelector("[data-bureau-none]");

function applyFilter() {
  const words = input.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
  let shown = 0;
  for (const item of document.querySelectorAll("#desk-bureau-list > li[data-search]")) {
    const match = words.every((word) => item.dataset.search.toLowerCase().includes(word));
    item.hidden = !match;
    if (match) shown += 1;
  }
  if (none) none.hidden = shown > 0 || words.length === 0;
}

if (input) {
  input.addEventListener("input", applyFilter);
  window.addEventListener("consult:regions", applyFilter);
}
