// The few things htmx does not cover: dismissing messages, printing, tidy shareable URLs,
// closing a comment popover with Escape.
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var dismiss = event.target.closest("[data-dismiss]");
    if (dismiss) {
      var flash = dismiss.closest(".flash");
      if (flash) flash.remove();
      return;
    }
    if (event.target.closest("[data-print]")) {
      window.print();
    }
  });

  // Escape closes the open comment popover or panel and puts focus back on its button.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var open = event.target.closest && event.target.closest("details[open]");
    if (!open) return;
    open.open = false;
    var summary = open.querySelector("summary");
    if (summary) summary.focus();
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-print][hidden]").forEach(function (button) {
      button.hidden = false;
    });
  });

  // A tile, chip or column header that changes one filter of a form (data-filters: the
  // form's id; data-filter-values: {"status": "draft"}) asks the form itself for the list,
  // so every request of the list comes from one element and one hx-sync queue, and the last
  // one asked for is the one shown. The values are written into the form at once and also
  // kept until the form's next request goes out: an answer still on its way may reset the
  // form (its out-of-band fields) before that request reads the form.
  document.addEventListener(
    "click",
    function (event) {
      var link = event.target.closest && event.target.closest("[data-filters]");
      var form = link && document.getElementById(link.getAttribute("data-filters"));
      if (!form || !window.htmx || event.ctrlKey || event.metaKey || event.shiftKey) return;
      event.preventDefault();
      var values = JSON.parse(link.getAttribute("data-filter-values") || "{}");
      form.pendingFilterValues = Object.assign(form.pendingFilterValues || {}, values);
      Object.keys(values).forEach(function (name) {
        var control = form.elements[name];
        if (control && control.type !== "checkbox") control.value = values[name];
      });
      htmx.trigger(form, "submit");
    },
    true
  );
  document.addEventListener("htmx:configRequest", function (event) {
    var form = event.detail.elt;
    var pending = form && form.pendingFilterValues;
    if (!pending) return;
    var params = event.detail.parameters;
    Object.keys(pending).forEach(function (name) {
      if (typeof params.set === "function") params.set(name, pending[name]);
      else params[name] = pending[name];
    });
    delete form.pendingFilterValues;
  });

  // Filters send every field; leave the empty ones out so the pushed URL stays short.
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.verb !== "get") return;
    var params = event.detail.parameters;
    var empty = [];
    if (typeof params.forEach === "function") {
      params.forEach(function (value, key) {
        if (value === "") empty.push(key);
      });
    } else {
      Object.keys(params).forEach(function (key) {
        if (params[key] === "") empty.push(key);
      });
    }
    empty.forEach(function (key) {
      if (typeof params.delete === "function") params.delete(key);
      else delete params[key];
    });
  });

  // After a row or panel is swapped in, keep keyboard focus inside it rather than losing it.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (target && !target.isConnected && target.id) target = document.getElementById(target.id);
    if (!target) return;
    if (document.activeElement && document.activeElement !== document.body) return;
    var note = target.querySelector("[role=alert], [role=status]");
    var focusable = target.querySelector("button, a[href], summary, input, textarea, select");
    var element = note || focusable;
    if (element) {
      if (!element.matches("button, a[href], summary, input, textarea, select")) {
        element.setAttribute("tabindex", "-1");
      }
      element.focus({ preventScroll: true });
    }
  });
})();
