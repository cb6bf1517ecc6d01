// On a phone a table's rows are stacked (static/css/app.css, max-width 40rem) and its header
// row is hidden: each cell is then labelled with its column's heading, which this copies
// into the cell's data-label. Cells that already have one, and tables without a header
// row, are left as they are.
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("table.table"), function (table) {
    var headings = table.querySelectorAll("thead tr:first-child th");
    if (!headings.length) { return; }
    var labels = Array.prototype.map.call(headings, function (th) { return th.textContent.trim(); });
    Array.prototype.forEach.call(table.querySelectorAll("tbody tr"), function (row) {
      var column = 0;
      Array.prototype.forEach.call(row.children, function (cell) {
        if (!cell.hasAttribute("data-label") && labels[column] && cell.colSpan === 1) {
          cell.setAttribute("data-label", labels[column]);
        }
        column += cell.colSpan || 1;
      });
    });
  });
})();
