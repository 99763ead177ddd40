// Long choice lists get a search box above them that hides what does not match (no server round trip):
//   <select data-filter="placeholder">            a select of deputies, for example
//   <div class="options" data-filter="placeholder"> a list of checkboxes, e.g. 40 bureaus
function searchBox(placeholder) {
  const box = document.createElement("input");
  box.type = "search";
  box.className = "list-filter";
  box.placeholder = placeholder;
  box.setAttribute("aria-label", placeholder);
  return box;
}

for (const select of document.querySelectorAll("select[data-filter]")) {
  const box = searchBox(select.dataset.filter);
  select.before(box);
  box.addEventListener("input", () => {
    const wanted = box.value.trim().toLowerCase();
    let first = null;
    for (const option of select.options) {
      const match = !option.value || option.text.toLowerCase().includes(wanted);
      option.hidden = !match;
      if (match && option.value && !first) first = option;
    }
    const current = select.selectedOptions[0];
    if (wanted && first && (!current || !current.value || current.hidden)) first.selected = true;
  });
}

for (const list of document.querySelectorAll(".options[data-filter]")) {
  const box = searchBox(list.dataset.filter);
  list.before(box);
  box.addEventListener("input", () => {
    const wanted = box.value.trim().toLowerCase();
    for (const label of list.querySelectorAll("label")) {
      const ticked = label.querySelector("input")?.checked;
      label.hidden = Boolean(wanted) && !ticked && !label.textContent.toLowerCase().includes(wanted);
    }
  });
}
