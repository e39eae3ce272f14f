// ec2-inventory page: the only script, and optional. Without it every view
// works the same through plain links and forms; with it the instance's
// package filter narrows the table as one types.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const input = document.querySelector("input[data-filters]");
  if (!input) return;
  const rows = Array.from(document.querySelectorAll(input.dataset.filters + " tbody tr"));
  const shown = document.querySelector("[data-shown]");
  const apply = () => {
    const needle = input.value.trim().toLowerCase();
    let count = 0;
    for (const row of rows) {
      const match = !needle || (row.dataset.name || "").toLowerCase().includes(needle);
      row.hidden = !match;
      if (match) count += 1;
    }
    if (shown) shown.textContent = String(count);
  };
  input.addEventListener("input", apply);
});
