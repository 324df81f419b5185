"use strict";

// Opened from disk, a page cannot fetch another page: search lists its results without the
// excerpt it would fetch from each one, instead of failing on the first.
if (location.protocol === "file:") {
  DOCUMENTATION_OPTIONS.SHOW_SEARCH_SUMMARY = false;
}

// Computed tables: a column of numbers is right-aligned, a column of words is not.
const NUMBER = /^[−+<>≈~-]?\s*\d[\d.,\s]*(%|×|\s*[A-Za-z]{1,3}(\/s)?)?$/;

/** The table as a grid of cells, a cell spanning rows or columns filling each place it covers. */
function grid(table) {
  const places = [];
  [...table.rows].forEach((row, r) => {
    places[r] = places[r] || [];
    let c = 0;
    for (const cell of row.cells) {
      while (places[r][c]) c += 1;
      for (let dr = 0; dr < cell.rowSpan; dr += 1) {
        for (let dc = 0; dc < cell.colSpan; dc += 1) {
          (places[r + dr] = places[r + dr] || [])[c + dc] = cell;
        }
      }
      c += cell.colSpan;
    }
  });
  return places;
}

document.addEventListener("DOMContentLoaded", () => {
  for (const table of document.querySelectorAll("table.gpumem-table")) {
    const places = grid(table);
    const width = Math.max(...places.map((row) => row.length));
    for (let c = 0; c < width; c += 1) {
      const cells = places.map((row) => row[c]).filter(Boolean);
      const values = cells
        .filter((cell) => cell.parentElement.parentElement.tagName === "TBODY")
        .map((cell) => cell.textContent.trim())
        .filter((text) => text && text !== "—");
      if (values.length > 0 && values.every((text) => NUMBER.test(text))) {
        for (const cell of cells) cell.classList.add("gpumem-number");
      }
    }
  }
});
