// Settings → Email capture: the "Copy" button puts the capture address on the clipboard.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("#email-capture [data-copy-from]");
  if (!button) return;
  const field = document.getElementById(button.dataset.copyFrom);
  if (!field) return;
  field.select();
  try {
    await navigator.clipboard.writeText(field.value);
  } catch {
    document.execCommand("copy");
  }
  const label = button.textContent;
  button.textContent = "Copied";
  setTimeout(() => { button.textContent = label; }, 2000);
});
