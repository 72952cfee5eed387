// Today: keyboard-first queue. j/k move between rows, d/s/l act on the current row,
// o or Enter opens the lead, ? shows the shortcuts.
(() => {
  const rows = () => Array.from(document.querySelectorAll("[data-queue-row]"));
  let current = -1;

  function focusRow(index) {
    const all = rows();
    if (!all.length) return;
    current = Math.max(0, Math.min(index, all.length - 1));
    all.forEach((row, i) => row.classList.toggle("is-current", i === current));
    all[current].focus({ preventScroll: false });
    all[current].scrollIntoView({ block: "nearest" });
  }

  function currentRow() {
    const all = rows();
    const focused = document.activeElement?.closest?.("[data-queue-row]");
    if (focused) current = all.indexOf(focused);
    return all[current] || null;
  }

  function typing(target) {
    return target.closest("input, select, textarea, [contenteditable=true]") !== null;
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    const help = document.getElementById("help");
    if (event.key === "?") {
      event.preventDefault();
      help?.showModal();
      return;
    }
    if (help?.open) return;
    const row = currentRow();
    switch (event.key) {
      case "j":
        event.preventDefault();
        focusRow(current + 1);
        break;
      case "k":
        event.preventDefault();
        focusRow(current - 1);
        break;
      case "d":
      case "s":
        if (!row) return;
        event.preventDefault();
        row.querySelector(`button[data-key="${event.key}"]`)?.click();
        break;
      case "l": {
        if (!row) return;
        event.preventDefault();
        const details = row.querySelector("details.log-touch");
        if (details) {
          details.open = true;
          details.querySelector("select")?.focus();
        }
        break;
      }
      case "o":
      case "Enter":
        if (!row || event.target !== row) return;
        event.preventDefault();
        row.querySelector("a.queue-name")?.click();
        break;
      default:
    }
  });

  // After a row is swapped, keep the keyboard position on it.
  document.addEventListener("htmx:afterSwap", (event) => {
    const row = event.detail.target?.closest?.(".queue-row") || document.getElementById(event.detail.target?.id);
    if (row && row.classList.contains("queue-row")) {
      row.classList.add("is-current");
      row.focus({ preventScroll: true });
    }
  });

  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-help-open]")) document.getElementById("help")?.showModal();
  });
})();
