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

  // Failures of htmx requests: one short message in the page's message area (#messages, a
  // live region), never an error page swapped into a row or a table. The server says what
  // went wrong with an HX-Trigger "showFailure" event (billing_site/core/http.htmx_failure);
  // anything else (a proxy's page, a refused connection) is read from the status here.
  // htmx itself logs each failed request to the console.
  var FAILED = "Something went wrong; nothing was changed. Try again.";

  function currentPage() {
    return window.location.pathname + window.location.search;
  }

  function failureFor(status) {
    if (status === 401) {
      return {
        kind: "login",
        message: "Your session has ended. Log in again to continue.",
        login: "/welcome?next=" + encodeURIComponent(currentPage()),
      };
    }
    if (status === 403) {
      return { kind: "reload", message: "This could not be done. Reload the page and try again." };
    }
    if (status === 404) {
      return { kind: "reload", message: "This no longer exists. Reload the page." };
    }
    if (status > 0 && status < 400) {
      return { kind: "reload", message: "The page could not be updated. Reload it." };
    }
    return { kind: "error", message: FAILED };
  }

  function showFailure(detail) {
    var area = document.getElementById("messages");
    if (!area) return;
    var flash = document.createElement("div");
    flash.className = "flash flash-error";
    flash.setAttribute("role", "alert");
    flash.setAttribute("data-failure", detail.kind || "error");
    var text = document.createElement("span");
    text.className = "flash-text";
    text.textContent = detail.message || FAILED;
    flash.appendChild(text);
    if (detail.kind === "csrf" || detail.kind === "reload") {
      var reload = document.createElement("button");
      reload.type = "button";
      reload.className = "btn btn-sm";
      reload.setAttribute("data-reload", "");
      reload.textContent = "Reload";
      flash.appendChild(reload);
    } else if (detail.kind === "login") {
      var login = document.createElement("a");
      login.className = "btn btn-sm btn-primary";
      login.href = detail.login || "/welcome?next=" + encodeURIComponent(currentPage());
      login.textContent = "Log in";
      flash.appendChild(login);
    }
    var close = document.createElement("button");
    close.type = "button";
    close.className = "flash-close";
    close.setAttribute("data-dismiss", "");
    close.setAttribute("aria-label", "Dismiss message");
    close.textContent = "×";
    flash.appendChild(close);
    // A second failed click replaces the message rather than stacking another.
    area.querySelectorAll("[data-failure]").forEach(function (old) {
      old.remove();
    });
    area.appendChild(flash);
  }

  function serverExplained(xhr) {
    return /showFailure/.test((xhr && xhr.getResponseHeader("HX-Trigger")) || "");
  }

  document.addEventListener("showFailure", function (event) {
    showFailure(event.detail || {});
  });
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-reload]")) window.location.reload();
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail;
    var xhr = detail.xhr;
    if (serverExplained(xhr)) {
      detail.shouldSwap = false;
      xhr.failureShown = true;
      return;
    }
    var body = typeof detail.serverResponse === "string" ? detail.serverResponse : "";
    if (/<html[\s>]/i.test(body) && detail.target !== document.body) {
      detail.shouldSwap = false;
      xhr.failureShown = true;
      showFailure(failureFor(xhr.status));
    }
  });
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    if (xhr && !xhr.failureShown) showFailure(failureFor(xhr.status));
  });
  ["htmx:sendError", "htmx:timeout"].forEach(function (name) {
    document.addEventListener(name, function () {
      showFailure(failureFor(0));
    });
  });

  // Focus after a swap: the control that was used (a tile, a sort header, the pager's Next,
  // each with a stable id) is found again in what came in, so a second Enter does the same
  // thing again; if it is gone, the first row's link. Otherwise the next handler applies.
  var lastUsedId = "";
  document.addEventListener(
    "click",
    function (event) {
      var used = event.target.closest && event.target.closest("a[id], button[id]");
      lastUsedId = used ? used.id : "";
    },
    true
  );
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    var active = document.activeElement;
    var inside = active && active.id && target && target.contains(active);
    event.detail.target.focusId = inside ? active.id : lastUsedId;
    lastUsedId = "";
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    var focusId = target && target.focusId;
    if (target && !target.isConnected && target.id) target = document.getElementById(target.id);
    if (!target || !focusId) return;
    if (document.activeElement && document.activeElement !== document.body) return;
    var again = document.getElementById(focusId);
    if (!again && target.id === "bill-index") again = target.querySelector("tbody tr a[href]");
    if (again && target.contains(again)) {
      again.focus({ preventScroll: true });
      pendingFocus = again;
    }
  });
  // htmx settles (attributes, history, out-of-band parts) after the swap; if that left focus
  // on nothing, put it back where the swap put it.
  var pendingFocus = null;
  document.addEventListener("htmx:afterSettle", function () {
    var element = pendingFocus;
    pendingFocus = null;
    if (!element || !element.isConnected) return;
    if (document.activeElement && document.activeElement !== document.body) return;
    element.focus({ preventScroll: true });
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
