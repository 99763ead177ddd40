// Every page: phone layout helpers. No dependencies.
//  - A table cell without data-label takes its column's header, so any table.grid reads as labelled cards on a
//    phone (app.css); templates may set data-label themselves ("" for none).
//  - The main menu says which side has more to scroll to: data-overflow="start end" on .mainnav-wrap
//    (app.css shows a fade and an arrow there).

function labelCells(table) {
  const head = table.tHead && table.tHead.rows[0];
  if (!head) return;
  const names = [];
  for (const th of head.cells) {
    const text = th.textContent.trim();
    for (let i = 0; i < (th.colSpan || 1); i += 1) names.push(text);
  }
  for (const body of table.tBodies) {
    for (const row of body.rows) {
      let column = 0;
      for (const cell of row.cells) {
        if (!cell.hasAttribute("data-label") && cell.colSpan === 1 && !(cell.tagName === "TH" && column === 0)) {
          cell.setAttribute("data-label", names[column] || "");
        }
        column += cell.colSpan || 1;
      }
    }
  }
}

function watchOverflow(wrap) {
  const nav = wrap.querySelector(".mainnav");
  if (!nav) return;
  const update = () => {
    const sides = [];
    if (nav.scrollLeft > 2) sides.push("start");
    if (nav.scrollLeft + nav.clientWidth < nav.scrollWidth - 2) sides.push("end");
    wrap.dataset.overflow = sides.join(" ") || "none";
  };
  nav.addEventListener("scroll", update, { passive: true });
  window.addEventListener("resize", update);
  const current = nav.querySelector('[aria-current="page"]');
  if (current && current.offsetLeft + current.offsetWidth > nav.clientWidth) {
    nav.scrollLeft = current.offsetLeft - nav.clientWidth / 3; // the page you are on is in view
  }
  update();
}

function labelAll(root) {
  for (const table of root.querySelectorAll("table.grid")) labelCells(table);
}

labelAll(document);
// Pages that swap regions in place (desk_live.js, search) bring new tables: label those as well.
new MutationObserver((changes) => {
  for (const change of changes) {
    for (const node of change.addedNodes) {
      if (node.nodeType === 1) {
        const table = node.closest("table.grid");
        if (table) labelCells(table);
        else labelAll(node);
      }
    }
  }
}).observe(document.body, { childList: true, subtree: true });
for (const wrap of document.querySelectorAll(".mainnav-wrap")) watchOverflow(wrap);
