// Channel Manager dashboard: small conveniences only; every page works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // Ask before an action that changes something.
  document.querySelectorAll("button[data-confirm]").forEach((button) => {
    button.addEventListener("click", (event) => {
      if (document.body.dataset.noConfirm === undefined && !window.confirm(button.dataset.confirm)) {
        event.preventDefault();
      }
    });
  });
  // Filters apply as soon as they change.
  document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
    select.addEventListener("change", () => select.form.submit());
  });
  // A listing row's checkbox follows a click anywhere on the row.
  document.querySelectorAll("#listings tbody tr[data-sku]").forEach((row) => {
    row.addEventListener("click", (event) => {
      if (event.target.closest("a, button, input")) return;
      const box = row.querySelector("input[type=checkbox]");
      if (box) box.checked = !box.checked;
    });
  });
});
