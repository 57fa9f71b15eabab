// The dashboard's bulk bar, for those with JavaScript: "select every bill on this page" in the
// table's header, and the count of what is selected. Without it the checkboxes and the bar's
// buttons still work: they are a plain form (templates/bills/partials/bulk_bar.html).
(function () {
  "use strict";

  function items() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-bulk-item]"));
  }

  function refresh() {
    var bar = document.querySelector("[data-bulk-count]");
    if (!bar) return;
    var all = document.querySelector("[data-bulk-all]");
    var matching = document.querySelector("[data-bulk-matching]");
    var boxes = items();
    var ticked = boxes.filter(function (box) { return box.checked; }).length;
    if (all) {
      all.hidden = boxes.length === 0;
      all.checked = boxes.length > 0 && ticked === boxes.length;
      all.indeterminate = ticked > 0 && ticked < boxes.length;
    }
    if (matching && matching.checked) {
      bar.textContent = "All bills matching the filters are selected.";
    } else if (ticked) {
      bar.textContent = ticked + " selected";
    } else {
      bar.textContent = "Tick bills to act on several at once.";
    }
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("[data-bulk-all]")) {
      items().forEach(function (box) { box.checked = target.checked; });
    }
    if (target.matches("[data-bulk-all], [data-bulk-item], [data-bulk-matching]")) refresh();
  });

  document.addEventListener("DOMContentLoaded", refresh);
  // A new table (filters, pages) or a row answered in place: count again.
  document.addEventListener("htmx:afterSettle", refresh);
})();
