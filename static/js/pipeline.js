// Pipeline board: drag a card onto another column to change its stage. The move goes through
// the same endpoint as the card's "Move" form (and so the same service); the board then
// reloads itself on the leadChanged event the server announces.
(() => {
  let dragged = null;

  document.addEventListener("dragstart", (event) => {
    const card = event.target.closest?.(".board-card");
    if (!card) return;
    dragged = card;
    card.classList.add("is-dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.lead);
  });

  document.addEventListener("dragend", () => {
    dragged?.classList.remove("is-dragging");
    document.querySelectorAll(".board-column.is-over").forEach((c) => c.classList.remove("is-over"));
    dragged = null;
  });

  document.addEventListener("dragover", (event) => {
    const column = event.target.closest?.(".board-column");
    if (!column || !dragged) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    document.querySelectorAll(".board-column.is-over").forEach((c) => c !== column && c.classList.remove("is-over"));
    column.classList.add("is-over");
  });

  document.addEventListener("drop", (event) => {
    const column = event.target.closest?.(".board-column");
    if (!column || !dragged) return;
    event.preventDefault();
    const card = dragged;
    const from = card.closest(".board-column");
    if (from === column) return;
    moveCard(card, column.dataset.stage);
  });

  // Keyboard alternative: the card's "Move to" menu and button, sent in place with htmx.
  document.addEventListener("submit", (event) => {
    const form = event.target.closest?.(".move-form");
    if (!form) return;
    event.preventDefault();
    const card = form.closest(".board-card");
    moveCard(card, form.querySelector("[data-move]").value);
  });

  function moveCard(card, stage) {
    let reason = "";
    if (stage === "lost") {
      reason = window.prompt("Why was this lead lost?") || "";
      if (!reason.trim()) {
        card.querySelector("[data-move]").value = card.closest(".board-column").dataset.stage;
        return;
      }
    }
    card.classList.add("is-moving");
    htmx.ajax("POST", card.dataset.stageUrl, {
      values: { to_stage: stage, reason: reason },
      swap: "none",
    });
  }
})();
