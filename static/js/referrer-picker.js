// "Referred by" type-ahead (templates/leads/_referrer_picker.html): htmx fetches the options
// as the salesperson types; this moves through them with the arrow keys, picks one with Enter
// or a click, and keeps the hidden token in step with the visible name. Without it the input
// is a plain text field, matched by name when the form is saved.
(() => {
  // htmx restoring a page from history sends swap events without a target.
  const pickerOf = (element) => element?.closest?.("[data-referrer-picker]");
  const partsOf = (picker) => ({
    input: picker.querySelector("[role=combobox]"),
    token: picker.querySelector("[data-referrer-token]"),
    listbox: picker.querySelector("[role=listbox]"),
  });
  const options = (listbox) => Array.from(listbox.querySelectorAll("[role=option]"));

  function open(picker) {
    const { input, listbox } = partsOf(picker);
    const isEmpty = listbox.children.length === 0;
    listbox.hidden = isEmpty;
    input.setAttribute("aria-expanded", String(!isEmpty));
  }

  function close(picker) {
    const { input, listbox } = partsOf(picker);
    listbox.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    picker.dataset.activeOption = "";
  }

  function activate(picker, option) {
    const { input, listbox } = partsOf(picker);
    options(listbox).forEach((each) => {
      const active = each === option;
      each.classList.toggle("is-active", active);
      each.setAttribute("aria-selected", String(active));
    });
    if (option) {
      input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
    // Token and name: "+ Add … as new" has the token "new" whatever was typed.
    picker.dataset.activeOption = option ? `${option.dataset.token} ${option.dataset.name}` : "";
  }

  function pick(picker, option) {
    const { input, token } = partsOf(picker);
    token.value = option.dataset.token;
    input.value = option.dataset.name;
    // Crediting a referrer makes the lead a referral (the server does the same): show it.
    const source = picker.closest("form")?.querySelector("select[name=source]");
    if (source && [...source.options].some((choice) => choice.value === "referral")) {
      source.value = "referral";
    }
    close(picker);
    input.focus();
  }

  // Typing makes the earlier pick void: the name typed is matched again on save, and the
  // options that come back start with none highlighted.
  document.addEventListener("input", (event) => {
    const picker = pickerOf(event.target);
    if (picker && event.target.matches("[role=combobox]")) {
      partsOf(picker).token.value = "";
      picker.dataset.activeOption = "";
    }
  });

  document.addEventListener("keydown", (event) => {
    const picker = pickerOf(event.target);
    if (!picker || !event.target.matches("[role=combobox]")) return;
    const { listbox } = partsOf(picker);
    const all = options(listbox);
    const current = listbox.querySelector(".is-active");
    const index = all.indexOf(current);
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!all.length) return;
      event.preventDefault();
      open(picker);
      const step = event.key === "ArrowDown" ? 1 : -1;
      activate(picker, all[(index + step + all.length) % all.length]);
    } else if (event.key === "Enter" && !listbox.hidden && current) {
      event.preventDefault(); // pick, don't submit the form
      pick(picker, current);
    } else if (event.key === "Escape" && !listbox.hidden) {
      event.preventDefault();
      event.stopPropagation(); // close the list, not a dialog around it
      close(picker);
    }
  });

  // mousedown, not click: the input's blur would close the list before a click lands.
  document.addEventListener("mousedown", (event) => {
    const option = event.target.closest?.(".referrer-option[role=option]");
    const picker = option && pickerOf(option);
    if (!picker) return;
    event.preventDefault();
    pick(picker, option);
  });

  document.addEventListener("focusout", (event) => {
    const picker = pickerOf(event.target);
    if (picker && !picker.contains(event.relatedTarget)) close(picker);
  });

  document.addEventListener("htmx:afterSwap", (event) => {
    const picker = pickerOf(event.detail.target);
    if (picker && event.detail.target.matches("[role=listbox]")) {
      // An answer queued before a pick lands after it: a picked name keeps the list closed.
      const picked = partsOf(picker).token.value !== "";
      if (picker.contains(document.activeElement) && !picked) open(picker);
      else close(picker);
    }
  });

  // An answer to an earlier keystroke can land after the arrow keys highlighted an option:
  // keep that option highlighted so Enter still picks it rather than submitting the form.
  // After settling: htmx puts an option's class back as the server sent it when it settles.
  document.addEventListener("htmx:afterSettle", (event) => {
    const picker = pickerOf(event.detail.target);
    if (!picker || !event.detail.target.matches("[role=listbox]")) return;
    const active = picker.dataset.activeOption;
    const same = options(event.detail.target).find(
      (each) => active && `${each.dataset.token} ${each.dataset.name}` === active,
    );
    activate(picker, same || null);
  });
})();
