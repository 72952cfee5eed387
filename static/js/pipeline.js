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

  // Lost needs a reason: asked in the lost-reason dialog (lost_reason.js), never window.prompt.
  // The move is the card's own form sent with htmx: the server answers with a message naming the
  // lead (with Undo) into #messages, or, when the move is refused, the form with the reason
  // under it (HX-Retarget) and focus on it.
  async function moveCard(card, stage) {
    const form = card.querySelector(".move-form");
    const select = form.querySelector("[data-move]");
    const stayed = card.closest(".board-column").dataset.stage;
    let reason = "";
    if (stage === "lost" && stayed !== "lost") {
      const name = card.querySelector(".board-card-top a")?.textContent.trim();
      reason = await window.askLostReason(name, select);
      if (reason === null) {
        select.value = stayed;
        return;
      }
    }
    select.value = stage;
    // A new try: the last refusal no longer applies.
    form.querySelector(".field-error")?.remove();
    select.removeAttribute("aria-invalid");
    card.classList.add("is-moving");
    htmx.ajax("POST", form.action, {
      source: form,
      values: { to_stage: stage, reason: reason },
      target: "#messages",
      swap: "innerHTML",
    }).then(settle, settle);  // a failed send rejects; app.js has already said "not moved"

    function settle() {
      // Moved: the board reloads itself (leadChanged). Not moved: the card stays where it was,
      // its menu still on the stage picked, so Move tries again.
      card.classList.remove("is-moving");
    }
  }
})();
