/* Shared by the staff pages: JSON API calls with the session cookie and CSRF token, DOM
 * building that only ever sets text (never HTML), times, toasts. */
(function () {
  "use strict";
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  function ApiError(status, detail, body) {
    this.status = status;
    this.detail = detail;
    this.body = body;
  }
  ApiError.prototype.toString = function () { return this.detail; };

  function api(method, path, body) {
    var headers = { "X-CSRF-Token": csrf };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(path, {
      method: method,
      headers: headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(function (response) {
      if (response.status === 401) {
        location.reload(); // signed out elsewhere: show the sign-in form
        throw new ApiError(401, "signed out", null);
      }
      if (response.status === 204) return null;
      return response.json().then(
        function (data) {
          if (response.ok) return data;
          var detail = data && data.detail;
          if (typeof detail !== "string") detail = detail ? JSON.stringify(detail) : "HTTP " + response.status;
          throw new ApiError(response.status, detail, data);
        },
        function () { throw new ApiError(response.status, "HTTP " + response.status, null); }
      );
    });
  }

  /* el("li", {className: "x", "aria-label": "y"}, "text" | [children]) */
  function el(tag, attrs, content) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === false || value == null) return;
      if (key === "className") node.className = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key.indexOf("on") === 0 && typeof value === "function") node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    });
    if (content == null) return node;
    (Array.isArray(content) ? content : [content]).forEach(function (child) {
      if (child == null || child === false) return;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    });
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  function ago(iso) {
    if (!iso) return "";
    var seconds = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
    if (seconds < 60) return Math.round(seconds) + " s ago";
    if (seconds < 3600) return Math.round(seconds / 60) + " min ago";
    if (seconds < 86400) return Math.round(seconds / 3600) + " h ago";
    return new Date(iso).toLocaleDateString();
  }

  function duration(seconds) {
    if (seconds == null) return "";
    if (seconds < 60) return Math.round(seconds) + " s";
    if (seconds < 3600) return Math.round(seconds / 60) + " min";
    return (seconds / 3600).toFixed(1) + " h";
  }

  var toastTimer = null;
  function toast(message, isError) {
    var box = document.getElementById("toast");
    if (!box) return;
    box.textContent = message;
    box.className = "toast" + (isError ? " error" : "");
    box.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { box.hidden = true; }, isError ? 7000 : 3500);
  }

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      var args = arguments, self = this;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(self, args); }, ms);
    };
  }

  window.Staff = {
    api: api,
    ApiError: ApiError,
    el: el,
    clear: clear,
    ago: ago,
    duration: duration,
    toast: toast,
    debounce: debounce,
    me: {
      id: Number(document.body.dataset.meId),
      name: document.body.dataset.meName,
      role: document.body.dataset.role,
    },
  };
})();
