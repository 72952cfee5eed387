// LeadHunter's small amount of hand-written behaviour; everything else is htmx.
document.addEventListener("htmx:responseError", (event) => {
  const messages = document.getElementById("messages");
  if (!messages) return;
  const note = document.createElement("div");
  note.className = "message message-error";
  note.setAttribute("role", "alert");
  note.textContent = "That didn't work (" + event.detail.xhr.status + "). Reload the page and try again.";
  messages.replaceChildren(note);
});
