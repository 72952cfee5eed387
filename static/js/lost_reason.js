// The lost-reason dialog (templates/leads/_lost_reason_dialog.html): window.askLostReason(name)
// opens it and resolves with the reason, or null when the person cancels (button or Esc).
// A modal <dialog> makes the rest of the page inert; Tab still cycles inside it, and focus goes
// back to whatever opened it.
(() => {
  window.askLostReason = (leadName, opener) => {
    const dialog = document.getElementById("lost-reason-dialog");
    if (!dialog) return Promise.resolve(null);
    const form = dialog.querySelector("[data-lost-reason-form]");
    const text = dialog.querySelector("#lost-reason-text");
    const error = dialog.querySelector("[data-lost-reason-error]");
    const returnTo = opener || document.activeElement;
    form.reset();
    error.hidden = true;
    text.removeAttribute("aria-invalid");
    dialog.querySelector("[data-lost-lead]").textContent = leadName || "this lead";
    dialog.returnValue = "";
    dialog.showModal();
    dialog.querySelector("input[type=radio]")?.focus();

    return new Promise((resolve) => {
      function reason() {
        const picked = form.querySelector("input[name=lost_reason_choice]:checked")?.value || "";
        const words = text.value.trim();
        if (picked && words) return (picked + ": " + words).slice(0, 200);
        return picked || words;
      }
      function onSubmit(event) {
        event.preventDefault();
        if (!reason()) {
          error.hidden = false;
          text.setAttribute("aria-invalid", "true");
          text.focus();
          return;
        }
        dialog.close("confirm");
      }
      function onCancelClick() {
        dialog.close("");
      }
      function onKeydown(event) {
        if (event.key !== "Tab") return;
        const focusable = Array.from(dialog.querySelectorAll("a[href], button, input")).filter(
          (el) => !el.disabled && el.offsetParent !== null
        );
        const first = focusable[0];
        const last = focusable[focusable.length - 1];
        if (event.shiftKey && document.activeElement === first) {
          event.preventDefault();
          last.focus();
        } else if (!event.shiftKey && document.activeElement === last) {
          event.preventDefault();
          first.focus();
        }
      }
      function onClose() {
        form.removeEventListener("submit", onSubmit);
        dialog.removeEventListener("keydown", onKeydown);
        dialog.querySelector("[data-lost-reason-cancel]").removeEventListener("click", onCancelClick);
        const value = dialog.returnValue === "confirm" ? reason() : null;
        if (returnTo?.isConnected) returnTo.focus();
        resolve(value);
      }
      form.addEventListener("submit", onSubmit);
      dialog.addEventListener("keydown", onKeydown);
      dialog.querySelector("[data-lost-reason-cancel]").addEventListener("click", onCancelClick);
      dialog.addEventListener("close", onClose, { once: true });
    });
  };

  // The lead page's stage form: with JavaScript the reason is asked in the dialog, so its text
  // field hides (unless the server sent it back with an error next to it).
  function hideReasonFields() {
    document.querySelectorAll("[data-lost-reason-field]:not(.field-invalid)").forEach((field) => {
      field.hidden = true;
    });
  }
  document.addEventListener("DOMContentLoaded", hideReasonFields);
  document.addEventListener("htmx:load", hideReasonFields);

  // Capture phase: this runs before htmx sends the form, and stops it until a reason is given.
  document.addEventListener(
    "submit",
    (event) => {
      const form = event.target.closest?.("[data-stage-form]");
      if (!form) return;
      const reasonField = form.querySelector("[name=reason]");
      if (form.querySelector("[name=to_stage]").value !== "lost" || reasonField.value.trim()) return;
      event.preventDefault();
      event.stopPropagation();
      const opener = event.submitter || form.querySelector("[type=submit]");
      window.askLostReason(form.dataset.leadName, opener).then((reason) => {
        if (reason === null) return;
        reasonField.value = reason;
        form.requestSubmit();  // now with a reason: this listener lets it through
      });
    },
    true
  );
})();
