import "./filter.js";

// Desks: a header checkbox ticks every row checkbox that belongs to the same bulk form.
for (const master of document.querySelectorAll("input[data-select-all]")) {
  const rows = () => document.querySelectorAll(`input[type=checkbox][form="${master.dataset.selectAll}"]`);
  master.addEventListener("change", () => {
    for (const box of rows()) box.checked = master.checked;
  });
}
