/* <supportbot-widget>: the customer chat bubble (no dependencies, no build step).
 *
 * Talks to the supportbot app's customer API: POST /api/conversations, POST .../messages
 * (idempotent on client_message_id), GET .../{id}, POST .../handoff|feedback|csat|email and
 * the conversation WebSocket for live agent replies, status and queue position.
 *
 * Everything the server or the customer wrote is inserted with textContent, never as HTML.
 * Styles live in a constructable stylesheet inside the shadow root: the host page's CSS
 * cannot reach in, ours cannot leak out, and a strict CSP on the host page still applies.
 */
(function () {
  "use strict";
  if (window.customElements.get("supportbot-widget")) return;

  var DEFAULT_GREETING =
    "Hi! I'm the virtual assistant. Ask me about orders, delivery, returns, payments or " +
    "your account \u2014 or talk to a person any time.";
  var BACKOFF_MS = [1000, 2000, 4000, 8000, 15000, 30000];
  var RESOLVED = { resolved: true, resolved_by_bot: true };
  var CSAT_LABELS = ["1 - Very poor", "2 - Poor", "3 - Okay", "4 - Good", "5 - Great"];

  var CSS = [
    ":host { all: initial; position: fixed; z-index: 2147483000; right: 16px; bottom: 16px;",
    "  font: 15px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; color: #1b2730; }",
    "*, *::before, *::after { box-sizing: border-box; }",
    "[hidden] { display: none !important; }",
    ".sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0);",
    "  white-space: nowrap; }",
    "button, input, textarea { font: inherit; color: inherit; }",
    "button { cursor: pointer; }",
    ":focus-visible { outline: 3px solid var(--sb-focus); outline-offset: 2px; }",
    ".bubble { width: 60px; height: 60px; border-radius: 50%; border: none; background: var(--sb-accent);",
    "  color: var(--sb-on-accent); box-shadow: 0 4px 14px rgba(0,0,0,.25); display: grid;",
    "  place-items: center; position: relative; margin-left: auto; }",
    ".bubble svg { width: 28px; height: 28px; fill: currentColor; }",
    ".badge { position: absolute; top: -4px; right: -4px; min-width: 22px; height: 22px;",
    "  border-radius: 11px; background: #b3261e; color: #fff; font-size: 12px; font-weight: 700;",
    "  display: grid; place-items: center; padding: 0 6px; }",
    ".panel { position: absolute; right: 0; bottom: 76px; width: min(380px, calc(100vw - 32px));",
    "  height: min(620px, calc(100vh - 112px)); background: #fff; border-radius: 14px;",
    "  box-shadow: 0 10px 40px rgba(0,0,0,.28); display: flex; flex-direction: column; overflow: hidden; }",
    "@media (max-width: 480px) { :host { right: 8px; bottom: 8px; }",
    "  .panel { width: calc(100vw - 16px); height: calc(100vh - 88px); bottom: 68px; } }",
    "header { background: var(--sb-accent); color: var(--sb-on-accent); padding: 12px 12px 10px 16px;",
    "  display: flex; align-items: center; gap: 8px; }",
    "header h2 { font-size: 16px; margin: 0; flex: 1; font-weight: 700; }",
    "header .sub { display: block; font-size: 12px; font-weight: 400; opacity: .95; }",
    ".hbtn { background: transparent; border: 1px solid currentColor; color: inherit; border-radius: 16px;",
    "  padding: 4px 10px; font-size: 13px; white-space: nowrap; }",
    ".close { border: none; background: transparent; color: inherit; font-size: 24px; line-height: 1;",
    "  width: 36px; height: 36px; border-radius: 50%; }",
    ".banner { padding: 8px 14px; font-size: 13px; background: #eef3f1; color: #1b2730;",
    "  border-bottom: 1px solid #d7e0dc; }",
    ".banner.offline { background: #fff4e5; color: #5c3b00; }",
    ".banner button { margin-left: 6px; }",
    ".log { flex: 1; overflow-y: auto; padding: 12px; display: flex; flex-direction: column; gap: 8px; }",
    ".msg { max-width: 85%; padding: 8px 12px; border-radius: 14px; white-space: pre-wrap;",
    "  overflow-wrap: anywhere; }",
    ".msg.customer { align-self: flex-end; background: var(--sb-accent); color: var(--sb-on-accent);",
    "  border-bottom-right-radius: 4px; }",
    ".msg.customer.pending { opacity: .75; }",
    ".msg.bot, .msg.agent { align-self: flex-start; background: #f1f3f4; border-bottom-left-radius: 4px; }",
    ".msg.agent { background: #e8f0fe; }",
    ".msg.system { align-self: center; background: none; color: #4a5863; font-size: 13px;",
    "  text-align: center; max-width: 95%; padding: 2px 8px; }",
    ".who { display: block; font-size: 12px; font-weight: 700; color: #3c4a54; margin-bottom: 2px; }",
    ".note { display: block; font-size: 12px; margin-top: 4px; }",
    ".sources { margin-top: 6px; font-size: 13px; white-space: normal; }",
    ".sources a { color: var(--sb-link); font-weight: 600; }",
    ".thumbs { display: flex; gap: 4px; margin-top: 6px; align-items: center; font-size: 12px; color: #4a5863; }",
    ".thumbs button { border: 1px solid #9aa7b0; background: #fff; border-radius: 12px; padding: 3px 9px;",
    "  line-height: 0; color: #3c4a54; }",
    ".thumbs svg { width: 16px; height: 16px; fill: currentColor; }",
    ".thumbs svg.down { transform: rotate(180deg); }",
    ".thumbs button[aria-pressed=true] { background: #dde6e3; border-color: #2d3d47; }",
    ".replies { display: flex; flex-wrap: wrap; gap: 6px; align-self: flex-start; }",
    ".replies button, .action { border: 1px solid var(--sb-link); color: var(--sb-link); background: #fff;",
    "  border-radius: 16px; padding: 5px 12px; font-size: 14px; }",
    ".typing { align-self: flex-start; color: #4a5863; font-size: 13px; padding: 0 4px; }",
    ".panel-foot { border-top: 1px solid #e2e6e9; padding: 10px 12px; display: flex; flex-direction: column;",
    "  gap: 8px; }",
    ".card { background: #f7f9fa; border: 1px solid #e2e6e9; border-radius: 10px; padding: 10px; font-size: 14px; }",
    ".card p { margin: 0 0 8px; }",
    ".row { display: flex; gap: 6px; flex-wrap: wrap; }",
    ".row input { flex: 1; min-width: 0; border: 1px solid #7b8a94; border-radius: 8px; padding: 6px 8px; }",
    ".stars button { min-width: 40px; }",
    "form.composer { display: flex; gap: 8px; align-items: flex-end; }",
    "textarea { flex: 1; resize: none; border: 1px solid #7b8a94; border-radius: 10px; padding: 8px 10px;",
    "  max-height: 120px; min-height: 40px; background: #fff; }",
    ".send { border: none; background: var(--sb-accent); color: var(--sb-on-accent); border-radius: 10px;",
    "  padding: 9px 14px; font-weight: 600; }",
    ".error { color: #8c1d18; font-size: 13px; }",
  ].join("\n");

  var ICON_PATH =
    "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2zm3 6v2h2v-2H7zm4 0v2h2v-2h-2zm4 0v2h2v-2h-2z";

  // Material Design "thumb_up" (Apache-2.0); thumbs-down is the same shape turned over.
  var THUMB_PATH =
    "M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L14.17 1" +
    " 7.59 7.59C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09" +
    "-.23.14-.47.14-.73v-2z";

  function icon(d, className) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    if (className) svg.setAttribute("class", className);
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", d || ICON_PATH);
    svg.appendChild(path);
    return svg;
  }

  // ---- colour: readable text on the accent, links that pass WCAG AA on white ----------
  function parseColor(value) {
    var m = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.exec((value || "").trim());
    if (!m) return null;
    var hex = m[1].length === 3 ? m[1].replace(/./g, "$&$&") : m[1];
    return [0, 2, 4].map(function (i) { return parseInt(hex.slice(i, i + 2), 16); });
  }
  function luminance(rgb) {
    var c = rgb.map(function (v) {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  }
  function contrast(a, b) {
    var la = luminance(a), lb = luminance(b);
    return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
  }
  function toHex(rgb) {
    return "#" + rgb.map(function (v) { return ("0" + Math.round(v).toString(16)).slice(-2); }).join("");
  }
  function darkenUntil(rgb, against, ratio) {
    var c = rgb.slice();
    for (var i = 0; i < 40 && contrast(c, against) < ratio; i++) {
      c = c.map(function (v) { return v * 0.9; });
    }
    return c;
  }
  function palette(value) {
    var white = [255, 255, 255], ink = [17, 24, 28];
    var accent = parseColor(value) || [31, 111, 92];
    var onAccent = contrast(accent, white) >= contrast(accent, ink) ? white : ink;
    // White text on a light accent would fail: darken the accent instead when needed.
    if (onAccent === white && contrast(accent, white) < 4.5) accent = darkenUntil(accent, white, 4.5);
    var link = darkenUntil(accent, white, 4.5);
    return { accent: toHex(accent), onAccent: toHex(onAccent), link: toHex(link) };
  }

  // ---- small helpers ------------------------------------------------------------------------
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (key) {
        if (attrs[key] === false || attrs[key] == null) return;
        if (key === "className") node.className = attrs[key];
        else node.setAttribute(key, attrs[key] === true ? "" : attrs[key]);
      });
    }
    if (text != null) node.textContent = String(text);
    return node;
  }
  function uid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "m-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 10);
  }
  function safeUrl(url, base) {
    try {
      var u = new URL(url, base);
      return u.protocol === "https:" || u.protocol === "http:" ? u.href : null;
    } catch (e) {
      return null;
    }
  }
  function minutes(seconds) {
    return Math.max(1, Math.round(seconds / 60));
  }
  function ApiError(status, detail, retryAfter) {
    this.status = status;
    this.detail = detail;
    this.retryAfter = retryAfter;
  }

  class SupportbotWidget extends HTMLElement {
    constructor() {
      super();
      this.root = this.attachShadow({ mode: "open" });
      this.messages = new Map(); // server id -> element
      this.pending = new Map(); // client_message_id -> element
      this.seenCids = new Set(); // client_message_ids the server has stored
      this.conv = null; // {id, token, user}
      this.status = "bot";
      this.handoff = null;
      this.csat = null;
      this.unread = 0;
      this.open = false;
      this.ws = null;
      this.wsAttempt = 0;
      this.wsTimer = null;
      this.flushing = false;
      this.online = true;
      this.retryTimer = null;
    }

    // ---- lifecycle ----------------------------------------------------------------------
    connectedCallback() {
      if (this.built) return;
      this.built = true;
      this.api = (this.getAttribute("api") || location.origin).replace(/\/$/, "");
      this.brand = this.getAttribute("title") || "Support";
      this.userId = this.getAttribute("user-id") || null;
      this.storeKey = "supportbot:" + this.api;
      this.outboxKey = this.storeKey + ":outbox";
      var colors = palette(this.getAttribute("color"));
      this.style.setProperty("--sb-accent", colors.accent);
      this.style.setProperty("--sb-on-accent", colors.onAccent);
      this.style.setProperty("--sb-link", colors.link);
      this.style.setProperty("--sb-focus", colors.link);
      this.render();
      this.restore();
      var self = this;
      window.addEventListener("online", function () { self.reconnectNow(); });
      window.addEventListener("offline", function () { self.dropSocket(); });
      // The server sends a ping every 25 s; a silent socket is a dead one (sleep, network).
      setInterval(function () {
        if (self.ws && self.lastSeen && Date.now() - self.lastSeen > 70000) self.dropSocket();
      }, 10000);
      window.addEventListener("storage", function (event) { self.onStorage(event); });
    }

    render() {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      this.root.adoptedStyleSheets = [sheet];
      var self = this;

      this.bubble = el("button", {
        className: "bubble",
        type: "button",
        "aria-expanded": "false",
        "aria-controls": "sb-panel",
      });
      this.bubble.appendChild(icon());
      this.badge = el("span", { className: "badge", "aria-hidden": "true", hidden: true });
      this.bubble.appendChild(this.badge);
      this.bubble.addEventListener("click", function () { self.toggle(); });

      this.panel = el("section", {
        className: "panel",
        id: "sb-panel",
        role: "dialog",
        "aria-label": "Chat with " + this.brand,
        hidden: true,
      });
      var header = el("header");
      var h2 = el("h2", null, this.brand);
      this.subtitle = el("span", { className: "sub" }, "Assistant \u00b7 a person is one click away");
      h2.appendChild(this.subtitle);
      this.personBtn = el("button", { className: "hbtn", type: "button" }, "Talk to a person");
      this.personBtn.addEventListener("click", function () { self.talkToPerson(); });
      var close = el("button", { className: "close", type: "button", "aria-label": "Close chat" }, "\u00d7");
      close.addEventListener("click", function () { self.toggle(false); });
      header.append(h2, this.personBtn, close);

      this.banner = el("div", { className: "banner", role: "status", hidden: true });
      this.log = el("div", { className: "log", role: "log", "aria-live": "polite", "aria-label": "Conversation", tabindex: "0" });
      this.greeting = el("div", { className: "msg bot" });
      this.greeting.append(el("span", { className: "who" }, this.brand + " assistant"));
      this.greeting.append(document.createTextNode(this.getAttribute("greeting") || DEFAULT_GREETING));
      this.log.appendChild(this.greeting);
      this.replies = el("div", { className: "replies", hidden: true });
      this.typing = el("div", { className: "typing", hidden: true }, "The assistant is typing\u2026");

      var foot = el("div", { className: "panel-foot" });
      this.extra = el("div", { hidden: true });
      this.form = el("form", { className: "composer" });
      var label = el("label", { className: "sr-only", for: "sb-input" }, "Your message");
      this.input = el("textarea", { id: "sb-input", rows: "1", placeholder: "Type your question\u2026", maxlength: "2000" });
      var send = el("button", { className: "send", type: "submit" }, "Send");
      this.form.append(label, this.input, send);
      this.form.addEventListener("submit", function (event) {
        event.preventDefault();
        self.submit();
      });
      this.input.addEventListener("keydown", function (event) {
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
          event.preventDefault();
          self.submit();
        }
      });
      this.error = el("div", { className: "error", role: "alert", hidden: true });
      foot.append(this.extra, this.error, this.form);
      this.panel.append(header, this.banner, this.log, foot);
      this.root.append(this.panel, this.bubble);
      this.panel.addEventListener("keydown", function (event) { self.onPanelKey(event); });
      this.updateBadge();
    }

    // ---- open / close, keyboard -----------------------------------------------------------
    toggle(force) {
      this.open = force === undefined ? !this.open : force;
      this.panel.hidden = !this.open;
      this.bubble.setAttribute("aria-expanded", String(this.open));
      if (this.open) {
        this.unread = 0;
        this.updateBadge();
        this.input.focus();
        this.scrollDown();
      } else {
        this.bubble.focus();
      }
    }

    focusables() {
      return Array.prototype.filter.call(
        this.panel.querySelectorAll("button, [href], input, textarea, [tabindex]"),
        function (node) { return !node.disabled && !node.closest("[hidden]") && node.tabIndex >= 0; }
      );
    }

    onPanelKey(event) {
      if (event.key === "Escape") {
        event.preventDefault();
        this.toggle(false);
        return;
      }
      if (event.key !== "Tab") return;
      var items = this.focusables();
      if (!items.length) return;
      var first = items[0], last = items[items.length - 1];
      var active = this.root.activeElement;
      if (event.shiftKey && (active === first || !this.panel.contains(active))) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && active === last) {
        event.preventDefault();
        first.focus();
      }
    }

    updateBadge() {
      var label = "Open chat with " + this.brand;
      if (this.unread > 0 && !this.open) {
        this.badge.textContent = this.unread > 9 ? "9+" : String(this.unread);
        this.badge.hidden = false;
        label += ", " + this.unread + " unread message" + (this.unread === 1 ? "" : "s");
      } else {
        this.badge.hidden = true;
      }
      this.bubble.setAttribute("aria-label", this.open ? "Close chat with " + this.brand : label);
    }

    scrollDown() {
      this.log.scrollTop = this.log.scrollHeight;
    }

    // ---- storage: the conversation survives reloads and is shared by tabs ---------------
    restore() {
      // A link from a reply email: #supportbot-resume=<conversation id>.<signed key>
      var link = /(?:^#|&)supportbot-resume=([^&]+)/.exec(location.hash);
      if (link) {
        history.replaceState(null, "", location.pathname + location.search);
        this.resumeFromLink(decodeURIComponent(link[1]));
        return;
      }
      var saved = null;
      try {
        saved = JSON.parse(localStorage.getItem(this.storeKey) || "null");
      } catch (e) {
        saved = null;
      }
      // A different signed-in shopper on this browser must not see the previous one's chat.
      if (saved && (saved.user || null) !== this.userId) {
        this.forget();
        saved = null;
      }
      this.conv = saved && saved.id && saved.token ? saved : null;
      if (this.conv) this.load();
    }

    resumeFromLink(raw) {
      var dot = raw.indexOf(".");
      var self = this;
      var id = raw.slice(0, dot), key = raw.slice(dot + 1);
      this.toggle(true);
      fetch(this.api + "/api/conversations/" + encodeURIComponent(id) + "/resume", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ key: key }),
        credentials: "omit",
        mode: "cors",
      })
        .then(function (response) {
          return response.json().then(function (data) {
            if (!response.ok) throw new ApiError(response.status, data.detail || "HTTP " + response.status, 0);
            return data;
          });
        })
        .then(
          function (data) {
            self.conv = { id: data.conversation_id, token: data.token, user: self.userId };
            self.save();
            self.load();
          },
          function (error) { self.showError(error); }
        );
    }

    save() {
      localStorage.setItem(this.storeKey, JSON.stringify(this.conv));
    }

    forget() {
      localStorage.removeItem(this.storeKey);
      localStorage.removeItem(this.outboxKey);
    }

    outbox() {
      try {
        return JSON.parse(localStorage.getItem(this.outboxKey) || "[]");
      } catch (e) {
        return [];
      }
    }

    setOutbox(items) {
      if (items.length) localStorage.setItem(this.outboxKey, JSON.stringify(items));
      else localStorage.removeItem(this.outboxKey);
    }

    onStorage(event) {
      if (event.key === this.storeKey) {
        var next = null;
        try {
          next = JSON.parse(event.newValue || "null");
        } catch (e) {
          next = null;
        }
        if (!next || !this.conv || next.id !== this.conv.id) {
          this.resetView();
          this.conv = next;
          if (this.conv) this.load();
        }
      }
    }

    // ---- HTTP -------------------------------------------------------------------------
    request(method, path, body) {
      var headers = { "content-type": "application/json" };
      if (this.conv) headers.authorization = "Bearer " + this.conv.token;
      return fetch(this.api + path, {
        method: method,
        headers: headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "omit",
        mode: "cors",
      }).then(function (response) {
        if (response.status === 204) return null;
        return response.json().then(
          function (data) {
            if (response.ok) return data;
            var detail = data && typeof data.detail === "string" ? data.detail : "HTTP " + response.status;
            throw new ApiError(response.status, detail, Number(response.headers.get("retry-after")) || 0);
          },
          function () {
            throw new ApiError(response.status, "HTTP " + response.status, 0);
          }
        );
      });
    }

    ensureConversation() {
      if (this.conv) return Promise.resolve(this.conv);
      if (this.creating) return this.creating;
      var self = this;
      var body = {
        metadata: {
          page: location.pathname.slice(0, 200),
          locale: (navigator.language || "").slice(0, 20),
        },
      };
      var user = {
        id: this.getAttribute("user-id"),
        hash: this.getAttribute("user-hash"),
        name: this.getAttribute("user-name") || null,
        email: this.getAttribute("user-email") || null,
      };
      if (user.id && user.hash) body.user = user;
      this.creating = this.request("POST", "/api/conversations", body).then(
        function (data) {
          self.creating = null;
          self.conv = { id: data.conversation_id, token: data.token, user: self.userId };
          self.save();
          self.connect();
          return self.conv;
        },
        function (error) {
          self.creating = null;
          throw error;
        }
      );
      return this.creating;
    }

    load() {
      var self = this;
      return this.request("GET", "/api/conversations/" + encodeURIComponent(this.conv.id)).then(
        function (data) {
          self.csat = data.csat_score;
          data.messages.forEach(function (m) { self.addMessage(m, { history: true }); });
          self.setState(data.status, data.handoff);
          self.connect();
          self.flush();
        },
        function (error) {
          if (error instanceof ApiError && (error.status === 401 || error.status === 404)) {
            self.forget(); // the conversation is gone: start fresh next time
            self.conv = null;
          } else {
            self.setOffline(true);
            self.scheduleReconnect();
          }
        }
      );
    }

    // ---- live updates over the WebSocket, reconnecting with backoff ---------------------------
    connect() {
      if (!this.conv || this.ws) return;
      var self = this;
      var url = this.api.replace(/^http/, "ws") + "/api/conversations/" + encodeURIComponent(this.conv.id) + "/ws";
      var ws;
      try {
        ws = new WebSocket(url);
      } catch (e) {
        this.scheduleReconnect();
        return;
      }
      this.ws = ws;
      ws.onopen = function () {
        ws.send(JSON.stringify({ type: "auth", token: self.conv.token }));
      };
      ws.onmessage = function (event) {
        self.lastSeen = Date.now();
        var data;
        try {
          data = JSON.parse(event.data);
        } catch (e) {
          return;
        }
        if (data.type === "ready") {
          var wasOffline = self.wsAttempt > 0 || !self.online;
          self.wsAttempt = 0;
          self.setOffline(false);
          if (wasOffline) self.resync(); // pick up what happened while we were away
          self.flush();
        } else if (data.type === "message") {
          self.addMessage(data.message, { live: true });
        } else if (data.type === "status") {
          self.setState(data.status, data.handoff);
        } else if (data.type === "queue") {
          self.setState("queued", Object.assign({}, self.handoff || {}, data));
        }
      };
      ws.onclose = function (event) {
        if (self.ws === ws) self.ws = null;
        if (event.code === 4401) {
          self.forget();
          self.conv = null;
          return;
        }
        if (self.conv) {
          self.setOffline(true);
          self.scheduleReconnect();
        }
      };
    }

    dropSocket() {
      var ws = this.ws;
      this.ws = null;
      if (ws) ws.close();
      if (this.conv) {
        this.setOffline(true);
        this.scheduleReconnect();
      }
    }

    scheduleReconnect() {
      if (this.wsTimer) return;
      var self = this;
      var base = BACKOFF_MS[Math.min(this.wsAttempt, BACKOFF_MS.length - 1)];
      var delay = Math.round(base * (0.75 + Math.random() * 0.5));
      this.wsAttempt += 1;
      this.retryAt = Date.now() + delay;
      this.renderBanner();
      this.wsTimer = setTimeout(function () {
        self.wsTimer = null;
        if (!self.conv) return;
        if (self.messages.size === 0) self.load();
        else self.connect();
      }, delay);
    }

    reconnectNow() {
      if (this.wsTimer) {
        clearTimeout(this.wsTimer);
        this.wsTimer = null;
      }
      if (this.conv && !this.ws) this.connect();
      this.flush();
    }

    resync() {
      var self = this;
      if (!this.conv) return;
      this.request("GET", "/api/conversations/" + encodeURIComponent(this.conv.id)).then(function (data) {
        self.csat = data.csat_score;
        data.messages.forEach(function (m) { self.addMessage(m, { live: true }); });
        self.setState(data.status, data.handoff);
      }, function () {});
    }

    setOffline(offline) {
      if (this.online === !offline) return;
      this.online = !offline;
      var self = this;
      clearInterval(this.tick);
      if (offline) this.tick = setInterval(function () { self.renderBanner(); }, 1000);
      this.renderBanner();
    }

    // ---- sending (outbox: typed while offline, sent once when back) ------------------------
    submit() {
      var text = this.input.value.trim();
      if (!text) return;
      this.input.value = "";
      this.send(text, null);
    }

    send(text, payload) {
      var item = { cid: uid(), text: text, payload: payload || null };
      this.setOutbox(this.outbox().concat([item]));
      this.showPending(item);
      this.flush();
    }

    showPending(item) {
      if (this.pending.has(item.cid) || this.seenCids.has(item.cid)) return;
      var node = el("div", { className: "msg customer pending" }, item.text);
      node.append(el("span", { className: "note" }, "Sending\u2026"));
      this.pending.set(item.cid, node);
      this.clearReplies();
      this.log.appendChild(node);
      this.scrollDown();
    }

    flush() {
      if (this.flushing) return;
      var queue = this.outbox();
      if (!queue.length) return;
      this.flushing = true;
      var self = this;
      var item = queue[0];
      this.showPending(item);
      this.error.hidden = true;
      this.typing.hidden = this.status !== "bot";
      this.log.appendChild(this.typing);
      this.scrollDown();
      this.ensureConversation()
        .then(function (conv) {
          var body = { text: item.text, client_message_id: item.cid };
          if (item.payload) body.payload = item.payload;
          return self.request("POST", "/api/conversations/" + encodeURIComponent(conv.id) + "/messages", body);
        })
        .then(
          function (data) {
            self.dropFromOutbox(item.cid);
            self.markSent(item.cid);
            data.messages.forEach(function (m) { self.addMessage(m, { live: true }); });
            self.setState(data.status, data.handoff);
            self.setOffline(false);
            self.done(true);
          },
          function (error) {
            if (error instanceof ApiError && error.status === 429) {
              self.markNote(item.cid, "Waiting a moment before sending\u2026");
              self.done(false);
              self.retryLater((error.retryAfter || 5) * 1000);
            } else if (error instanceof ApiError && error.status >= 400 && error.status < 500) {
              self.dropFromOutbox(item.cid); // the server refused it for good: say why
              self.markNote(item.cid, "Not sent: " + error.detail);
              self.done(true);
            } else {
              self.markNote(item.cid, "Not sent yet \u2014 will retry when the connection is back");
              self.setOffline(true);
              self.done(false);
              self.scheduleReconnect();
              self.retryLater(5000);
            }
          }
        );
    }

    done(continueFlush) {
      this.flushing = false;
      this.typing.hidden = true;
      if (continueFlush) this.flush();
    }

    retryLater(ms) {
      var self = this;
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(function () { self.flush(); }, ms);
    }

    dropFromOutbox(cid) {
      this.setOutbox(this.outbox().filter(function (i) { return i.cid !== cid; }));
    }

    markSent(cid) {
      var node = this.pending.get(cid);
      if (!node) return;
      node.classList.remove("pending");
      var note = node.querySelector(".note");
      if (note) note.remove();
    }

    markNote(cid, text) {
      var node = this.pending.get(cid);
      if (!node) return;
      var note = node.querySelector(".note") || node.appendChild(el("span", { className: "note" }));
      note.textContent = text;
    }

    // ---- rendering messages ---------------------------------------------------------------
    addMessage(m, opts) {
      if (!m || this.messages.has(m.id)) return;
      if (m.client_message_id) this.seenCids.add(m.client_message_id);
      if (m.sender === "customer" && m.client_message_id && this.pending.has(m.client_message_id)) {
        var mine = this.pending.get(m.client_message_id);
        this.markSent(m.client_message_id);
        this.messages.set(m.id, mine);
        return;
      }
      if (m.kind === "csat_prompt") {
        this.messages.set(m.id, null);
        this.renderExtra();
        return;
      }
      var node;
      if (m.sender === "customer") {
        node = el("div", { className: "msg customer" }, m.text);
        this.clearReplies();
      } else if (m.sender === "system" && !m.buttons) {
        node = el("div", { className: "msg system" }, m.text);
      } else {
        node = el("div", { className: "msg " + (m.sender === "agent" ? "agent" : "bot") });
        var who = m.sender === "agent" ? (m.agent_name || "Support agent") + " \u00b7 support team" : this.brand + " assistant";
        node.append(el("span", { className: "who" }, who));
        node.append(document.createTextNode(m.text));
        if (m.articles && m.articles.length) node.append(this.sources(m.articles));
        if (m.sender === "bot" && m.articles && m.articles.length) node.append(this.thumbs(m));
        if (!opts.history && !this.open) {
          this.unread += 1;
          this.updateBadge();
        }
      }
      this.messages.set(m.id, node);
      this.log.appendChild(node);
      if (m.buttons && m.buttons.length && m.sender !== "customer") this.showReplies(m.buttons);
      if (!this.typing.hidden) this.log.appendChild(this.typing);
      this.scrollDown();
    }

    sources(articles) {
      var box = el("div", { className: "sources" });
      var self = this;
      articles.forEach(function (article, i) {
        var href = safeUrl(article.url, self.api);
        var line = el("div");
        line.append(document.createTextNode(i === 0 ? "From our help center: " : "See also: "));
        if (href) {
          line.append(el("a", { href: href, target: "_blank", rel: "noopener noreferrer" }, article.title));
        } else {
          line.append(document.createTextNode(article.title));
        }
        box.append(line);
      });
      return box;
    }

    thumbs(m) {
      var box = el("div", { className: "thumbs", role: "group", "aria-label": "Was this answer helpful?" });
      var up = el("button", { type: "button", "aria-label": "This answer helped", "aria-pressed": "false" });
      var down = el("button", { type: "button", "aria-label": "This answer did not help", "aria-pressed": "false" });
      up.appendChild(icon(THUMB_PATH));
      down.appendChild(icon(THUMB_PATH, "down"));
      var self = this;
      function rate(helpful) {
        up.setAttribute("aria-pressed", String(helpful));
        down.setAttribute("aria-pressed", String(!helpful));
        self
          .request("POST", "/api/conversations/" + encodeURIComponent(self.conv.id) + "/feedback", {
            message_id: m.id,
            helpful: helpful,
          })
          .then(function (data) {
            (data && data.messages ? data.messages : []).forEach(function (x) { self.addMessage(x, { live: true }); });
          }, function (error) { self.showError(error); });
      }
      up.addEventListener("click", function () { rate(true); });
      down.addEventListener("click", function () { rate(false); });
      box.append(el("span", null, "Helpful?"), up, down);
      return box;
    }

    showReplies(buttons) {
      var self = this;
      this.clearReplies();
      buttons.forEach(function (b) {
        var button = el("button", { type: "button" }, b.title);
        button.addEventListener("click", function () {
          self.clearReplies();
          if (b.payload === "/request_human") self.talkToPerson();
          else self.send(b.title, b.payload);
        });
        self.replies.appendChild(button);
      });
      this.replies.hidden = false;
      this.log.appendChild(this.replies);
    }

    clearReplies() {
      this.replies.textContent = "";
      this.replies.hidden = true;
    }

    showError(error) {
      this.error.textContent =
        error instanceof ApiError ? error.detail : "Can't reach the server right now. Please try again.";
      this.error.hidden = false;
    }

    // ---- conversation state: bot, queue, agent, resolved ------------------------------------
    setState(status, handoff) {
      this.status = status;
      this.handoff = handoff || null;
      var human = status === "queued" || status === "assigned";
      this.personBtn.hidden = human;
      this.subtitle.textContent =
        status === "assigned" && handoff && handoff.agent_name
          ? "You're chatting with " + handoff.agent_name
          : human
          ? "Waiting for a person from our team"
          : "Assistant \u00b7 a person is one click away";
      if (human) this.clearReplies();
      this.renderBanner();
      this.renderExtra();
    }

    renderBanner() {
      var b = this.banner;
      b.textContent = "";
      b.className = "banner";
      if (!this.online && this.conv) {
        b.classList.add("offline");
        var wait = this.retryAt ? Math.max(1, Math.round((this.retryAt - Date.now()) / 1000)) : 1;
        b.append(document.createTextNode("You're offline. Reconnecting in " + wait + " s\u2026"));
        var retry = el("button", { type: "button", className: "action" }, "Retry now");
        var self = this;
        retry.addEventListener("click", function () { self.reconnectNow(); });
        b.append(retry);
        b.hidden = false;
        return;
      }
      var h = this.handoff;
      if (this.status === "queued" && h) {
        if (h.agents_online === false) {
          b.textContent = "Our team is offline right now. Your conversation is in the queue.";
        } else {
          var text = "You're number " + (h.position || 1) + " in the queue.";
          if (h.expected_wait_s) text += " Expected wait: about " + minutes(h.expected_wait_s) + " min.";
          b.textContent = text;
        }
        b.hidden = false;
      } else if (this.status === "assigned" && h && h.agent_name) {
        b.textContent = h.agent_name + " from our support team is with you.";
        b.hidden = false;
      } else {
        b.hidden = true;
      }
    }

    renderExtra() {
      var box = this.extra;
      box.textContent = "";
      box.hidden = true;
      var self = this;
      var h = this.handoff;
      if (this.status === "queued" && h && h.agents_online === false && !h.email_on_file) {
        box.append(this.emailCard());
        box.hidden = false;
      } else if (RESOLVED[this.status]) {
        var card = el("div", { className: "card" });
        if (this.csat) {
          card.append(el("p", null, "Thanks for rating this conversation " + this.csat + "/5."));
        } else {
          var title = el("p", { id: "sb-csat" }, "How did we do? Rate this conversation:");
          var stars = el("div", { className: "row stars", role: "group", "aria-labelledby": "sb-csat" });
          [1, 2, 3, 4, 5].forEach(function (score) {
            var button = el("button", { type: "button", className: "action", "aria-label": CSAT_LABELS[score - 1] }, String(score));
            button.addEventListener("click", function () { self.rate(score); });
            stars.append(button);
          });
          card.append(title, stars);
        }
        var fresh = el("button", { type: "button", className: "action" }, "Start a new conversation");
        fresh.addEventListener("click", function () { self.newConversation(); });
        card.append(el("div", { className: "row" }, null));
        card.lastChild.append(fresh);
        box.append(card);
        box.hidden = false;
      }
    }

    emailCard() {
      var self = this;
      var card = el("form", { className: "card" });
      card.append(el("p", null, "Nobody is online right now. Leave your email and we'll reply there:"));
      var row = el("div", { className: "row" });
      var label = el("label", { className: "sr-only", for: "sb-email" }, "Your email address");
      var input = el("input", { id: "sb-email", type: "email", required: true, autocomplete: "email", placeholder: "you@example.com" });
      var button = el("button", { type: "submit", className: "action" }, "Send");
      row.append(label, input, button);
      card.append(row);
      card.addEventListener("submit", function (event) {
        event.preventDefault();
        self
          .request("POST", "/api/conversations/" + encodeURIComponent(self.conv.id) + "/email", { email: input.value.trim() })
          .then(function () {
            self.handoff = Object.assign({}, self.handoff, { email_on_file: true });
            self.extra.textContent = "";
            self.extra.append(el("p", { className: "card" }, "Thanks! We'll reply to " + input.value.trim() + "."));
          }, function (error) { self.showError(error); });
      });
      return card;
    }

    rate(score) {
      var self = this;
      this.request("POST", "/api/conversations/" + encodeURIComponent(this.conv.id) + "/csat", { score: score }).then(
        function () {
          self.csat = score;
          self.renderExtra();
        },
        function (error) { self.showError(error); }
      );
    }

    talkToPerson() {
      var self = this;
      this.error.hidden = true;
      this.ensureConversation()
        .then(function (conv) {
          return self.request("POST", "/api/conversations/" + encodeURIComponent(conv.id) + "/handoff");
        })
        .then(function (data) {
          data.messages.forEach(function (m) { self.addMessage(m, { live: true }); });
          self.setState(data.status, data.handoff);
          self.resync();
        }, function (error) { self.showError(error); });
      if (!this.open) this.toggle(true);
    }

    newConversation() {
      if (this.ws) {
        var ws = this.ws;
        this.ws = null;
        ws.close();
      }
      this.forget();
      this.conv = null;
      this.resetView();
      this.input.focus();
    }

    resetView() {
      this.messages.clear();
      this.pending.clear();
      this.seenCids.clear();
      this.log.textContent = "";
      this.log.appendChild(this.greeting);
      this.status = "bot";
      this.handoff = null;
      this.csat = null;
      this.clearReplies();
      this.setState("bot", null);
    }
  }

  window.customElements.define("supportbot-widget", SupportbotWidget);
})();
