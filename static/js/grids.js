// Row and column toggles of the checkbox grids (templates/portal/_matrix_grid.html: the role matrix, an API key's
// scopes). Every grid works without this file: its toggles stay hidden and each box is ticked by hand. With it, a
// toggle (a button, data-grid-toggle="row" or "col", data-grid-key the module or the action) ticks every box of
// its row or column, or unticks them all when all are ticked already; aria-pressed says whether all are ticked.
(() => {
  "use strict";

  function enhance(grid) {
    const toggles = Array.from(grid.querySelectorAll("button[data-grid-toggle]"));
    const boxesOf = (toggle) => {
      const attribute = toggle.dataset.gridToggle === "row" ? "data-grid-row" : "data-grid-col";
      const selector = `input[type="checkbox"][${attribute}="${CSS.escape(toggle.dataset.gridKey)}"]:not(:disabled)`;
      return Array.from(grid.querySelectorAll(selector));
    };
    const refresh = () => {
      for (const toggle of toggles) {
        const boxes = boxesOf(toggle);
        toggle.setAttribute("aria-pressed", String(boxes.length > 0 && boxes.every((box) => box.checked)));
      }
    };
    for (const toggle of toggles) {
      toggle.addEventListener("click", () => {
        const boxes = boxesOf(toggle);
        const tick = boxes.some((box) => !box.checked);
        for (const box of boxes) {
          if (box.checked !== tick) {
            box.checked = tick;
            box.dispatchEvent(new Event("change", { bubbles: true }));
          }
        }
        refresh();
      });
      toggle.hidden = false;
    }
    grid.addEventListener("change", refresh);
    refresh();
  }

  const start = () => {
    for (const grid of document.querySelectorAll("[data-grid]")) enhance(grid);
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
