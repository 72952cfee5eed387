// Today: keyboard-first queue. j/k move between rows, d/s/l act on the highlighted row,
// o or Enter opens the lead, ? shows the shortcuts.
//
// The highlighted row is remembered by its element id, never by its position: a row swapped
// for its result leaves the list of rows, and a position would then point at another lead.
// After an action the next row is highlighted; a key with no highlighted row does nothing
// and says so.
(() => {
  const ROW = "[data-queue-row]";
  const KEY_NAMES = { d: "Done", s: "Snooze", l: "Log" };
  let currentId = null;

  const rows = () => Array.from(document.querySelectorAll(ROW));
  const say = (text) => {
    const status = document.getElementById("queue-status");
    if (status) status.textContent = text;
  };

  function currentRow() {
    const row = currentId ? document.getElementById(currentId) : null;
    return row && row.matches(ROW) ? row : null;
  }

  function closeChoices(except) {
    document.querySelectorAll(".queue-row details[open]").forEach((details) => {
      if (details !== except) details.open = false;
    });
  }

  function highlight(row, { focus = true, scroll = true } = {}) {
    rows().forEach((other) => other.classList.toggle("is-current", other === row));
    currentId = row ? row.id : null;
    if (!row) return;
    if (focus) row.focus({ preventScroll: true });
    if (scroll) row.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    const all = rows();
    if (!all.length) {
      say("Nothing left in the queue.");
      return;
    }
    const row = currentRow();
    const index = row ? all.indexOf(row) + step : step > 0 ? 0 : all.length - 1;
    closeChoices();
    highlight(all[Math.max(0, Math.min(index, all.length - 1))]);
  }

  function rowName(row) {
    return row.querySelector("a.queue-name")?.textContent.trim() || "This row";
  }

  function keysOf(row) {
    return row.querySelector("[data-row-keys]")?.dataset.rowKeys || "l";
  }

  // A panel that is still loading: which row, which key opened it, and a choice key pressed
  // before it arrived (d then c typed quickly), to be picked once it is there.
  let loading = null;

  function act(key) {
    const row = currentRow();
    if (!row) {
      say(`No row is highlighted, so nothing was changed. Press j to highlight the first row, then ${key}.`);
      return;
    }
    const control = row.querySelector(`[data-key="${key}"]`);
    if (!control) {
      say(`${rowName(row)}: no ${KEY_NAMES[key]} on this row. It takes ${keysOf(row).split(" ").join(", ")}.`);
      return;
    }
    const details = control.closest("details");
    if (!details) {
      control.click();
      return;
    }
    closeChoices(details);
    details.open = true;
    const slot = details.querySelector(".panel-slot");
    if (slot && !slot.querySelector(".form-failure")) {
      // Opening the panel asked for it (the slot's toggle trigger); htmx:load below enters it.
      // Focus stays in the panel (on its summary), so keys typed meanwhile reach choiceKey.
      loading = { rowId: row.id, key, choice: null };
      details.querySelector("summary")?.focus();
      say(`${rowName(row)}: loading ${KEY_NAMES[key]}…`);
      return;
    }
    enterPanel(row, details, key);
  }

  // Focus the panel's first choice or field, and say what its keys do.
  function enterPanel(row, details, key) {
    const first = details.querySelector("[data-choice-key], select, input:not([type=hidden]), button");
    first?.focus();
    describe(row, details, key);
  }

  // Say what an open panel's keys do.
  function describe(row, details, key) {
    if (key === "d" && details.querySelector("[data-choice-key]")) {
      say(`${rowName(row)}: how did it go? c connected, v voicemail, n no answer, e emailed. Esc to cancel.`);
    } else if (key === "s") {
      say(`${rowName(row)}: snooze until? 1 tomorrow, 3 in 3 days, w in a week, or pick a day. Esc to cancel.`);
    } else {
      say(`${rowName(row)}: ${KEY_NAMES[key]} form open.`);
    }
  }

  function typing(target) {
    return target.closest("input, select, textarea, [contenteditable=true]") !== null;
  }

  // Inside an open Done or Snooze choice: its letter picks, arrows move, Esc closes.
  function choiceKey(event, details) {
    const row = details.closest(ROW);
    if (event.key === "Escape") {
      event.preventDefault();
      details.open = false;
      if (row) highlight(row);
      say("");
      return true;
    }
    if (typing(event.target)) return false;
    // Until htmx:load the panel is not ready, even once in the page: htmx has not yet wired
    // its forms, and a click then would post the whole page.
    if (loading && row?.id === loading.rowId && event.key.length === 1 && !"jk?dsl".includes(event.key)) {
      event.preventDefault();
      loading.choice = event.key;
      return true;
    }
    const pick = details.querySelector(`[data-choice-key="${CSS.escape(event.key)}"]`);
    if (pick) {
      event.preventDefault();
      pick.click();
      return true;
    }
    const arrows = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 };
    if (event.key in arrows) {
      event.preventDefault();
      const stops = Array.from(details.querySelectorAll("button, input:not([type=hidden])"));
      const index = stops.indexOf(document.activeElement);
      const next = (index + arrows[event.key] + stops.length) % stops.length;
      stops[index === -1 ? 0 : next]?.focus();
      return true;
    }
    return false;
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const help = document.getElementById("help");
    if (help?.open) return;
    const details = event.target.closest?.(".queue-row details[open]");
    if (details && choiceKey(event, details)) return;
    if (typing(event.target)) return;
    if (details && !["j", "k", "?"].includes(event.key)) return;
    switch (event.key) {
      case "?":
        event.preventDefault();
        help?.showModal();
        break;
      case "j":
        event.preventDefault();
        move(1);
        break;
      case "k":
        event.preventDefault();
        move(-1);
        break;
      case "d":
      case "s":
      case "l":
        if (!document.querySelector("[data-queue]")) return;
        event.preventDefault();
        act(event.key);
        break;
      case "o":
      case "Enter": {
        const row = currentRow();
        if (!row || event.target !== row) return;
        event.preventDefault();
        row.querySelector("a.queue-name")?.click();
        break;
      }
      default:
    }
  });

  // A click or Tab into a row makes it the highlighted one, so the keys follow the mouse.
  // Without scrolling: the focus comes on pressing the button, and a row moved into view
  // then would take the release, and the click, away from the button (Tab scrolls by itself).
  document.addEventListener("focusin", (event) => {
    const row = event.target.closest?.(ROW);
    if (row && row.id !== currentId) highlight(row, { focus: false, scroll: false });
  });

  // After a row's action: the row shows its result and the next row is highlighted. A row
  // that came back with errors (still a queue row) stays highlighted, its first error focused.
  // After settling, not swapping: until then htmx gives the new row the old one's classes.
  document.addEventListener("htmx:afterSettle", (event) => {
    const id = event.detail.target?.id;
    const swapped = id ? document.getElementById(id) : null;
    if (!swapped || !swapped.classList.contains("queue-row")) return;
    if (swapped.matches(ROW)) {
      highlight(swapped, { focus: false });
      swapped.querySelector("[aria-invalid=true], .field-invalid input, .field-invalid select")?.focus();
      return;
    }
    const wasCurrent = id === currentId || !currentRow();
    say(swapped.querySelector("[role=status], [role=alert]")?.textContent.trim() || "");
    if (!wasCurrent) return;
    let next = swapped.nextElementSibling;
    while (next && !next.matches(ROW)) next = next.nextElementSibling;
    if (!next) {
      const before = rows().filter((row) => row.compareDocumentPosition(swapped) & Node.DOCUMENT_POSITION_FOLLOWING);
      next = before[before.length - 1] || null;
    }
    highlight(next);
    if (!next) say(`${swapped.querySelector("[role=status], [role=alert]")?.textContent.trim() || ""} That was the last row.`);
  });

  // A row's Done, Snooze or Log panel arrives when it opens (its key or a click): its first
  // choice or field takes the focus, unless the salesperson has already moved on; a choice key
  // pressed while it loaded is picked now.
  document.addEventListener("htmx:load", (event) => {
    const panel = event.detail.elt;
    if (!panel.matches?.(".choice-panel, .log-form")) return;
    const row = panel.closest(ROW);
    const waiting = loading && row && loading.rowId === row.id ? loading : null;
    if (waiting) loading = null;
    const details = panel.closest("details[open]");
    const active = document.activeElement;
    if (!row || !details || !(active === document.body || details.contains(active) || active === row)) return;
    enterPanel(row, details, details.querySelector("summary[data-key]")?.dataset.key);
    if (waiting?.choice) details.querySelector(`[data-choice-key="${CSS.escape(waiting.choice)}"]`)?.click();
  });

  // A panel opened or closed with the mouse: the status line follows it (the keys say it in
  // act and choiceKey). It said the last panel's keys after that one was closed.
  document.addEventListener(
    "toggle",
    (event) => {
      const details = event.target;
      if (!details.matches?.(".queue-row details")) return;
      if (!details.open) {
        if (!document.querySelector(".queue-row details[open]")) say("");
        return;
      }
      // Still loading: htmx:load says it once the panel is there.
      if (details.querySelector(".panel-slot")) return;
      describe(details.closest(ROW), details, details.querySelector("summary[data-key]")?.dataset.key);
    },
    true, // toggle does not bubble
  );

  // A panel that did not load says why in its slot (app.js writes the sentence there) and
  // offers to try again; the link to the lead page stays beside it.
  const offerRetry = (event) => {
    const slot = event.detail.elt;
    if (!slot?.matches?.(".panel-slot") || !slot.isConnected) return;
    if (loading && slot.closest(ROW)?.id === loading.rowId) loading = null;
    if (slot.querySelector(".panel-retry")) return;
    const retry = document.createElement("button");
    retry.type = "button";
    retry.className = "button button-small panel-retry";
    retry.textContent = "Try again";
    retry.addEventListener("click", () => slot.dispatchEvent(new Event("retry")));
    slot.querySelector(".form-failure")?.after(retry);
  };
  ["htmx:responseError", "htmx:sendError", "htmx:timeout"].forEach((name) => document.addEventListener(name, offerRetry));

  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-help-open]")) document.getElementById("help")?.showModal();
  });
})();
