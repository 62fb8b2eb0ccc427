// Search-as-you-type pickers (portal/pickers): every field marked data-picker works and posts the same values
// without this file; with it, a search box following the ARIA 1.2 combobox pattern (a list box of options from the
// server, arrow keys, Enter to choose, Escape to close) and, for several values, removable chips.
(() => {
  "use strict";
  const DELAY = 200; // ms after the last key before the server is asked
  let serial = 0;

  const make = (tag, className, text) => {
    const element = document.createElement(tag);
    if (className) element.className = className;
    if (text !== undefined) element.textContent = text;
    return element;
  };
  const fill = (template, value) => (template || "%s").replace("%s", value);

  // Where the chosen values live: the field the form posts, whatever its kind.
  function storeOf(field) {
    if (field.tagName === "SELECT") {
      const options = () => Array.from(field.options);
      return {
        values: () => options().filter((o) => o.selected && o.value !== "").map((o) => ({ value: o.value, label: o.textContent })),
        set(items) {
          const wanted = new Set(items.map((item) => item.value));
          for (const item of items) {
            if (!options().some((o) => o.value === item.value)) field.add(new Option(item.label, item.value));
          }
          for (const option of options()) option.selected = wanted.has(option.value);
          if (!field.multiple && !items.length) {
            const empty = options().find((o) => o.value === "");
            if (empty) empty.selected = true;
          }
          field.dispatchEvent(new Event("change", { bubbles: true }));
        },
      };
    }
    const separator = field.dataset.pickerSeparator;
    if (separator) {
      // several values in a text field: one a line, or comma-separated
      return {
        values: () => field.value.split(/[\n,]/).map((v) => v.trim()).filter(Boolean).map((v) => ({ value: v, label: v })),
        set(items) {
          field.value = items.map((item) => item.value).join(separator === "newline" ? "\n" : ", ");
        },
      };
    }
    return {
      // one id (a hidden field) shown by its label
      values: () => (field.value ? [{ value: field.value, label: field.dataset.pickerLabel || field.value }] : []),
      set(items) {
        field.value = items.length ? items[0].value : "";
        field.dataset.pickerLabel = items.length ? items[0].label : "";
      },
    };
  }

  function enhance(field) {
    const id = `picker-${++serial}`;
    const multiple = "pickerMultiple" in field.dataset;
    const free = "pickerFree" in field.dataset;
    const inPlace = !multiple && field.tagName === "INPUT" && field.type !== "hidden"; // one typed value: the field itself
    const store = inPlace ? null : storeOf(field);
    const label = field.id ? document.querySelector(`label[for="${CSS.escape(field.id)}"]`) : null;

    const box = make("div", "picker");
    const input = inPlace ? field : make("input", "picker-input");
    const list = make("ul", "picker-list");
    const status = make("p", "visually-hidden");
    const empty = make("p", "picker-empty muted small", field.dataset.pickerNone || "");
    const hint = make("p", "visually-hidden", field.dataset.pickerHint || "");
    const chips = multiple ? make("ul", "picker-chips") : null;
    list.id = `${id}-list`;
    list.setAttribute("role", "listbox");
    list.hidden = true;
    empty.hidden = true;
    status.setAttribute("role", "status");
    hint.id = `${id}-hint`;
    // the list's own name (not the field's label: the label names the search box, and only it)
    list.setAttribute("aria-label", field.dataset.pickerList || "");

    field.parentNode.insertBefore(box, field);
    if (inPlace) box.append(field);
    else {
      input.type = "text";
      input.autocomplete = "off";
      input.id = field.id ? `${field.id}-search` : `${id}-input`;
      if (label) label.htmlFor = input.id;
      if (field.required) {
        field.required = false; // a hidden control cannot say what it misses: the search box does, or the server
        if (!multiple) input.required = true;
      }
      field.hidden = true;
      const current = field.parentNode.querySelector("[data-picker-current]");
      if (current) current.hidden = true;
      if (chips) box.append(chips);
      box.append(input, field);
    }
    box.append(list, empty, status, hint);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);
    const described = [input.getAttribute("aria-describedby"), hint.id].filter(Boolean).join(" ");
    input.setAttribute("aria-describedby", described);

    let options = [];
    let active = -1;
    let timer = null;
    let pending = null;

    const renderChips = () => {
      chips.replaceChildren();
      for (const item of store.values()) {
        const chip = make("li", "picker-chip");
        chip.append(make("span", "", item.label));
        const remove = make("button", "picker-chip-remove", "×");
        remove.type = "button";
        remove.setAttribute("aria-label", fill(field.dataset.pickerRemove, item.label));
        remove.addEventListener("click", () => {
          store.set(store.values().filter((v) => v.value !== item.value));
          renderChips();
          input.focus();
        });
        chip.append(remove);
        chips.append(chip);
      }
    };
    if (multiple) renderChips();
    else if (!inPlace) input.value = (store.values()[0] || {}).label || "";

    const close = () => {
      clearTimeout(timer); // a search still to come would open the list again
      if (pending) pending.abort();
      list.hidden = true;
      empty.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    };
    const highlight = (index) => {
      active = index;
      Array.from(list.children).forEach((li, i) => li.setAttribute("aria-selected", String(i === index)));
      if (index >= 0) {
        const li = list.children[index];
        input.setAttribute("aria-activedescendant", li.id);
        li.scrollIntoView({ block: "nearest" });
      } else input.removeAttribute("aria-activedescendant");
    };
    const choose = (item) => {
      if (inPlace) input.value = item.value;
      else if (multiple) {
        const values = store.values();
        if (!values.some((v) => v.value === item.value)) store.set([...values, item]);
        renderChips();
        input.value = "";
      } else {
        store.set([item]);
        input.value = item.label;
      }
      close();
    };
    const show = (results) => {
      const typed = input.value.trim().toLowerCase();
      if (inPlace && results.some((item) => item.value.toLowerCase() === typed)) return close(); // already complete
      if (free && !results.length) return close(); // a new value is welcome: nothing to report
      options = results;
      list.replaceChildren();
      results.forEach((item, index) => {
        const li = make("li", "picker-option");
        li.id = `${id}-option-${index}`;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.append(make("span", "picker-option-label", item.label));
        if (item.detail) li.append(make("span", "picker-option-detail", item.detail));
        li.addEventListener("mousedown", (event) => event.preventDefault()); // the box keeps the focus
        li.addEventListener("click", () => choose(item));
        list.append(li);
      });
      list.hidden = !results.length;
      empty.hidden = results.length > 0;
      input.setAttribute("aria-expanded", String(results.length > 0));
      status.textContent = results.length ? fill(field.dataset.pickerFound, results.length) : field.dataset.pickerNone || "";
      highlight(-1);
    };
    const search = () => {
      const url = new URL(field.dataset.picker, window.location.href);
      url.searchParams.set("q", input.value.trim());
      for (const pair of (field.dataset.pickerParams || "").split(",").filter(Boolean)) {
        const [key, elementId] = pair.split("=");
        const source = document.getElementById(elementId);
        if (source && source.value) url.searchParams.set(key, source.value);
      }
      if (pending) pending.abort();
      pending = new AbortController();
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", signal: pending.signal })
        .then((response) => (response.ok ? response.json() : { results: [] }))
        .then((answer) => {
          if (document.activeElement === input) show(answer.results || []);
        })
        .catch(() => {}); // aborted by a newer search, or offline: the field still takes typed text
    };
    const later = () => {
      clearTimeout(timer);
      timer = setTimeout(search, DELAY);
    };
    const addTyped = () => {
      // what was typed (or pasted: several values, comma-separated or one a line) becomes chips
      const typed = input.value.split(/[\n,]/).map((v) => v.trim()).filter(Boolean);
      const values = store.values();
      const added = typed.filter((v) => !values.some((item) => item.value === v)).map((v) => ({ value: v, label: v }));
      if (added.length) store.set([...values, ...added]);
      input.value = "";
      renderChips();
      close();
    };

    input.addEventListener("input", () => {
      if (!inPlace && !multiple && store.values().length) store.set([]); // the text no longer names the choice
      later();
    });
    input.addEventListener("blur", close);
    if (multiple && free && field.form) {
      // what is still typed when the form is sent is one more value (the event comes before the form's data is
      // read); never on blur, where a new row of chips would move the button being clicked
      field.form.addEventListener("submit", () => {
        if (input.value.trim()) addTyped();
      });
    }
    input.addEventListener("keydown", (event) => {
      const open = !list.hidden;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        if (!open) return search();
        if (!options.length) return;
        const step = event.key === "ArrowDown" ? 1 : -1;
        highlight((active + step + options.length) % options.length);
      } else if (event.key === "Enter") {
        if (open && active >= 0) {
          event.preventDefault();
          choose(options[active]);
        } else if (multiple && input.value.trim()) {
          event.preventDefault(); // a half-typed value is never posted by accident
          if (free) addTyped();
        }
      } else if (event.key === "Escape") {
        if (open || !empty.hidden) {
          event.preventDefault();
          close();
        }
      } else if (event.key === "," && multiple && free) {
        event.preventDefault();
        addTyped();
      } else if (event.key === "Backspace" && multiple && !input.value) {
        const values = store.values();
        if (values.length) {
          store.set(values.slice(0, -1));
          renderChips();
        }
      }
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const field of document.querySelectorAll("[data-picker]")) enhance(field);
  });
})();
