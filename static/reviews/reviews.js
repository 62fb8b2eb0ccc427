// "My reviews": decide without reloading the page, select rows, and work from the keyboard.
// The page works without this file (single decisions are plain forms; bulk is a form with checkboxes).
(() => {
  const rows = () => Array.from(document.querySelectorAll("tr.review-row"));
  const bulkForm = () => document.getElementById("bulk-form");
  let current = null; // the row the keys act on (focused, or the first one)

  const setCurrent = (row, focus = true) => {
    if (!row) return;
    for (const other of rows()) {
      other.classList.toggle("is-current", other === row);
      other.tabIndex = other === row ? 0 : -1;
    }
    current = row;
    if (focus) {
      row.focus({ preventScroll: true });
      row.scrollIntoView({ block: "nearest" });
    }
  };
  const currentRow = () => (current && current.isConnected ? current : rows()[0]);
  const move = (step) => {
    const all = rows();
    const row = currentRow();
    const at = all.indexOf(row);
    // the first key press (nothing chosen yet) lands on the first row
    const next = row === current && at >= 0 ? all[at + step] : all[0];
    if (next) setCurrent(next);
  };

  // -- selection ---------------------------------------------------------------------------------------------
  const boxes = () => Array.from(document.querySelectorAll("input[data-row-select]"));
  const scopeInput = (value) => {
    const form = bulkForm();
    return form && form.querySelector(`input[name="scope"][value="${value}"]`);
  };
  const refreshSelection = () => {
    const form = bulkForm();
    if (!form) return;
    const chosen = boxes().filter((box) => box.checked).length;
    const all = boxes().length;
    const pageBox = document.querySelector("input[data-select-page]");
    if (pageBox) {
      pageBox.checked = all > 0 && chosen === all;
      pageBox.indeterminate = chosen > 0 && chosen < all;
    }
    const counter = form.querySelector("[data-selected-count]");
    const everything = scopeInput("all") && scopeInput("all").checked;
    if (counter) {
      const text = everything ? form.dataset.textAll : form.dataset.textSelected.replace("%(count)s", chosen);
      counter.textContent = text;
      counter.hidden = false;
    }
    const banner = document.querySelector("[data-select-all-banner]");
    if (banner) banner.hidden = !(all > 0 && chosen === all) || everything;
  };
  const toggleRow = (row) => {
    const box = row.querySelector("input[data-row-select]");
    if (!box) return;
    box.checked = !box.checked;
    if (scopeInput("selected")) scopeInput("selected").checked = true;
    refreshSelection();
  };

  // -- deciding one row --------------------------------------------------------------------------------------
  const updateProgress = (fresh) => {
    const bar = document.querySelector("progress[data-progress]");
    const text = document.querySelector("[data-progress-text]:not(tr)");
    if (!fresh.dataset.total) return;
    if (bar) {
      bar.max = Number(fresh.dataset.total);
      bar.value = Number(fresh.dataset.decided);
    }
    if (text && fresh.dataset.progressText) text.textContent = fresh.dataset.progressText;
  };

  const decide = async (form, submitter, fromKeys) => {
    const row = form.closest("tr");
    const body = new FormData(form, submitter);
    const selected = row && row.querySelector("input[data-row-select]")?.checked;
    const response = await fetch(form.action, {
      method: "POST",
      body,
      headers: { "X-Requested-With": "fetch" },
      credentials: "same-origin",
    });
    const holder = document.createElement("tbody");
    holder.innerHTML = (await response.text()).trim();
    const fresh = holder.querySelector("tr");
    if (!fresh || !row) return;
    row.replaceWith(fresh);
    const box = fresh.querySelector("input[data-row-select]");
    if (box) box.checked = Boolean(selected);
    updateProgress(fresh);
    refreshSelection();
    if (response.ok) {
      setCurrent(fromKeys ? rows()[rows().indexOf(fresh) + 1] || fresh : fresh);
    } else {
      // refused (a justification is needed, …): stay on the row, the error is announced (role="alert")
      fresh.dataset.pending = submitter ? submitter.value : "";
      setCurrent(fresh, false);
      fresh.querySelector("input[name=justification]")?.focus();
    }
  };

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.matches("form[data-decide]")) return;
    event.preventDefault();
    decide(form, event.submitter, false);
  });

  const press = (row, decision) => {
    const button = row.querySelector(`button[value="${decision}"]`);
    const form = button && button.form;
    if (form) decide(form, button, true);
  };

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || !rows().length) return;
    const target = event.target;
    const typing = target.matches && target.matches("input:not([type=checkbox]), select, textarea");
    if (typing) {
      const row = target.closest("tr.review-row");
      if (!row || target.name !== "justification") return;
      if (event.key === "Escape") {
        event.preventDefault();
        setCurrent(row);
      } else if (event.key === "Enter") {
        // Enter in a justification decides what was asked for (never an unintended "keep")
        event.preventDefault();
        if (row.dataset.pending) press(row, row.dataset.pending);
      }
      return;
    }
    // keys act on the current row, from anywhere but a form field, links and buttons keep Enter/Space
    const inRow = target.closest && target.closest("tr.review-row");
    if (inRow && inRow !== current) setCurrent(inRow, false);
    const row = currentRow();
    const keys = {
      j: () => move(1),
      ArrowDown: () => move(1),
      k: () => move(-1),
      ArrowUp: () => move(-1),
      a: () => press(row, "keep"),
      r: () => press(row, "revoke"),
      x: () => toggleRow(row),
      "/": () => {
        setCurrent(row, false);
        row.querySelector("input[name=justification]")?.focus();
      },
    };
    if (!keys[event.key]) return;
    event.preventDefault();
    if (current !== row && !["j", "k", "ArrowDown", "ArrowUp"].includes(event.key)) setCurrent(row);
    keys[event.key]();
  });

  document.addEventListener("DOMContentLoaded", () => {
    const pageBox = document.querySelector("input[data-select-page]");
    if (pageBox) {
      pageBox.hidden = false;
      pageBox.addEventListener("change", () => {
        for (const box of boxes()) box.checked = pageBox.checked;
        if (scopeInput("selected")) scopeInput("selected").checked = true;
        refreshSelection();
      });
    }
    document.addEventListener("change", (event) => {
      if (event.target.matches("input[data-row-select]")) {
        if (scopeInput("selected")) scopeInput("selected").checked = true;
        refreshSelection();
      }
      if (event.target.matches('#bulk-form input[name="scope"]')) refreshSelection();
    });
    const all = document.querySelector("[data-select-all-matching]");
    if (all) {
      all.addEventListener("click", () => {
        scopeInput("all").checked = true;
        refreshSelection();
        scopeInput("all").focus();
      });
    }
    document.addEventListener("focusin", (event) => {
      const row = event.target.closest && event.target.closest("tr.review-row");
      if (row && row !== current) setCurrent(row, false);
    });
    if (rows().length) {
      rows()[0].tabIndex = 0;
      rows()[0].classList.add("is-current");
      current = null; // the first key press chooses the first row (no click needed)
    }
    refreshSelection();
  });
})();
