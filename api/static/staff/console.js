/* Agent console: live queue, conversation with what the bot understood, suggested answers,
 * claim / reply / note / release / reassign / resolve / hand back to the bot. */
(function () {
  "use strict";
  var S = window.Staff, el = S.el, api = S.api;
  var $ = function (id) { return document.getElementById(id); };

  var state = {
    view: "queue",
    selected: null,
    detail: null,
    suggestions: [],
    inserted: null, // {source, ref, text} of the suggestion put in the composer
    queued: 0,
    next: null,
    query: "",
    colleagues: [],
  };
  var baseTitle = document.title;

  // ---- inbox ------------------------------------------------------------------------------
  function itemButton(c) {
    var who = c.customer_name || c.customer_email || "Customer " + c.conversation_id.slice(0, 8);
    var badges = [];
    if (c.reason) badges.push(el("span", { className: "badge " + c.reason }, c.reason.replace(/_/g, " ")));
    var right = c.status === "queued" ? "waiting " + S.duration(c.wait_s) : c.status === "assigned"
      ? (c.assigned_agent_id === S.me.id ? "with you" : "with " + (c.assigned_agent_name || "an agent"))
      : c.status.replace(/_/g, " ");
    var button = el("button", {
      type: "button",
      dataset: { conversationId: c.conversation_id },
      "aria-current": state.selected === c.conversation_id ? "true" : "false",
      onclick: function () { select(c.conversation_id); },
    }, [
      el("span", { className: "row1" }, [el("span", { className: "who" }, who), el("span", { className: "small muted" }, right)]),
      badges.length ? el("span", null, badges) : null,
      el("span", { className: "last small" }, c.last_customer_message || "(no message yet)"),
    ]);
    return el("li", null, button);
  }

  function renderItems(list, append) {
    var box = $("items");
    if (!append) S.clear(box);
    if (!list.length && !append) box.append(el("li", { className: "muted" }, state.view === "all" ? "Nothing found." : "Nothing here right now."));
    list.forEach(function (c) { box.append(itemButton(c)); });
  }

  function loadInbox(append) {
    if (state.view === "queue" || state.view === "mine") {
      return api("GET", "/api/handoff/queue").then(function (data) {
        state.queued = data.queued.length;
        $("count-queue").textContent = String(data.queued.length);
        $("count-mine").textContent = String(data.mine.length);
        $("online").textContent = data.agents_online + " agent" + (data.agents_online === 1 ? "" : "s") + " online";
        renderItems(state.view === "queue" ? data.queued : data.mine);
        updateTitle();
        $("more").hidden = true;
      });
    }
    var params = new URLSearchParams({ view: state.view === "all" ? "all" : "open", limit: "50" });
    if (state.view === "all" && state.query) params.set("q", state.query);
    if (append && state.next) params.set("before", state.next);
    return api("GET", "/api/handoff/conversations?" + params).then(function (data) {
      state.next = data.next_before;
      renderItems(data.conversations, append);
      $("more").hidden = !data.next_before;
    });
  }

  function updateTitle() {
    document.title = (state.queued ? "(" + state.queued + ") " : "") + baseTitle;
  }

  function setView(view) {
    state.view = view;
    state.next = null;
    document.querySelectorAll(".tabs [role=tab]").forEach(function (tab) {
      tab.setAttribute("aria-selected", String(tab.dataset.view === view));
    });
    $("search-form").hidden = view !== "all";
    loadInbox(false).catch(showError);
  }

  // ---- conversation -------------------------------------------------------------------------
  function select(id) {
    state.selected = id;
    state.inserted = null;
    $("suggestion-used").textContent = "";
    document.querySelectorAll("#items button").forEach(function (b) { b.setAttribute("aria-current", "false"); });
    return refreshDetail(true).then(function () { loadInbox(false); });
  }

  function refreshDetail(withSuggestions) {
    if (!state.selected) return Promise.resolve();
    var id = state.selected;
    return api("GET", "/api/handoff/conversations/" + encodeURIComponent(id)).then(function (detail) {
      if (state.selected !== id) return;
      state.detail = detail;
      renderDetail(detail);
      if (withSuggestions) loadSuggestions();
    }).catch(showError);
  }

  function owner(detail) {
    return detail.status === "assigned" && (detail.assigned_agent_id === S.me.id || S.me.role === "admin");
  }

  function renderDetail(d) {
    $("empty").hidden = true;
    $("detail").hidden = false;
    $("context").hidden = false;
    $("conv-error").hidden = true;
    $("customer").textContent = d.customer_name || d.customer_email || "Customer " + d.conversation_id.slice(0, 8);
    var meta = [d.status.replace(/_/g, " ")];
    if (d.customer_user_id) meta.push("signed-in shopper " + d.customer_user_id);
    if (d.customer_email) meta.push(d.customer_email);
    if (d.reason) meta.push("reason: " + d.reason.replace(/_/g, " "));
    if (d.status === "queued" && d.wait_s != null) meta.push("waiting " + S.duration(d.wait_s));
    if (d.status === "assigned") meta.push(d.assigned_agent_id === S.me.id ? "assigned to you" : "assigned to " + (d.assigned_agent_name || "another agent"));
    $("conv-meta").textContent = meta.join(" \u00b7 ");

    var mine = owner(d);
    var open = d.status === "queued" || d.status === "assigned";
    setAction("claim", d.status === "queued");
    setAction("release", mine);
    setAction("resolve", d.status === "queued" || mine);
    setAction("return-to-bot", d.status === "queued" || mine);
    $("reassign").disabled = !mine;
    $("send-btn").disabled = !mine;
    $("reply").placeholder = mine ? "Write a reply to the customer\u2026" : open ? "Claim the conversation to reply (internal notes work any time)" : "Internal note for colleagues";

    var list = S.clear($("transcript"));
    d.messages.forEach(function (m) { list.append(messageItem(m)); });
    list.scrollTop = list.scrollHeight;
    renderContext(d);
  }

  function setAction(name, enabled) {
    var button = document.querySelector('[data-action="' + name + '"]');
    button.disabled = !enabled;
  }

  function messageItem(m) {
    var cls = m.audience === "internal" ? (m.sender === "system" ? "system" : "note") : m.sender;
    var from = {
      customer: "Customer",
      bot: "Bot",
      agent: (m.agent_name || "Agent") + (m.audience === "internal" ? " \u00b7 internal note" : ""),
      system: "",
    }[m.sender];
    var parts = [];
    if (from) parts.push(el("span", { className: "from" }, from));
    parts.push(m.text);
    if (m.articles && m.articles.length) {
      parts.push(el("span", { className: "meta" }, "cited: " + m.articles.map(function (a) { return a.title; }).join(", ")));
    }
    if (m.suggestion) parts.push(el("span", { className: "meta" }, "from a suggestion (" + m.suggestion.action + ")"));
    if (m.created_at) parts.push(el("span", { className: "meta" }, new Date(m.created_at).toLocaleTimeString()));
    return el("li", { className: cls }, parts);
  }

  function renderContext(d) {
    var context = (d.escalation && d.escalation.context) || {};
    var escalation = $("escalation");
    S.clear(escalation);
    if (d.escalation) {
      escalation.append(
        el("span", { className: "badge " + d.escalation.reason }, d.escalation.reason.replace(/_/g, " ")),
        " " + S.ago(d.escalation.created_at)
      );
      if (context.topic_intent) escalation.append(el("span", { className: "muted small" }, " \u00b7 topic: " + context.topic_intent));
      if (context.note) escalation.append(el("span", { className: "muted small" }, " \u00b7 " + context.note));
    } else {
      escalation.textContent = "Not escalated.";
    }
    var body = S.clear($("nlu").querySelector("tbody"));
    (context.nlu_history || []).forEach(function (turn) {
      var alternatives = (turn.ranking || []).slice(1, 3).map(function (r) {
        return r.intent + " " + Math.round(r.confidence * 100) + "%";
      });
      var entities = (turn.entities || []).map(function (e) { return e.entity + "=" + e.value; });
      body.append(el("tr", null, [
        el("td", null, turn.text),
        el("td", null, [turn.intent || "?", alternatives.length ? el("span", { className: "alt" }, "also: " + alternatives.join(", ")) : null,
          entities.length ? el("span", { className: "alt" }, entities.join(", ")) : null]),
        el("td", null, Math.round((turn.confidence || 0) * 100) + "%"),
      ]));
    });
    if (!(context.nlu_history || []).length) body.append(el("tr", null, el("td", { colspan: "3", className: "muted" }, "No NLU details (the customer asked for a person directly).")));

    var tried = S.clear($("tried"));
    (context.articles_tried || []).forEach(function (a) {
      tried.append(el("li", null, [
        el("a", { href: "/help/" + encodeURIComponent(a.slug), target: "_blank", rel: "noopener" }, a.title || a.slug),
        " " + (a.score != null ? a.score.toFixed(2) : "") + (a.shown ? " \u00b7 shown" : " \u00b7 below threshold"),
      ]));
    });
    if (!(context.articles_tried || []).length) tried.append(el("li", { className: "muted" }, "None."));

    var history = S.clear($("history"));
    (d.customer_history || []).forEach(function (h) {
      history.append(el("li", null, el("button", { type: "button", className: "link", onclick: function () { select(h.conversation_id); } },
        S.ago(h.created_at) + " \u00b7 " + h.status.replace(/_/g, " ") + (h.reason ? " (" + h.reason.replace(/_/g, " ") + ")" : "") + ": " + (h.first_message || ""))));
    });
    if (!(d.customer_history || []).length) {
      history.append(el("li", { className: "muted" }, d.customer_user_id ? "No earlier conversations." : "The customer is not signed in on the shop."));
    }
  }

  // ---- suggestions ---------------------------------------------------------------------------
  function loadSuggestions() {
    var id = state.selected;
    api("GET", "/api/handoff/conversations/" + encodeURIComponent(id) + "/suggestions").then(function (data) {
      if (state.selected !== id) return;
      state.suggestions = data.suggestions;
      $("suggest-for").textContent = data.query ? "For: \u201c" + data.query + "\u201d" : "";
      var list = S.clear($("suggestions"));
      data.suggestions.forEach(function (s) {
        var source = s.source === "kb"
          ? "Help center \u00b7 " + s.title + (s.section && s.section !== s.title ? " \u203a " + s.section : "")
          : "Past reply \u00b7 to \u201c" + (s.question || "").slice(0, 60) + "\u201d";
        list.append(el("li", null, [
          el("span", { className: "src" }, source + " \u00b7 " + Math.round(s.score * 100) + "%"),
          el("span", { className: "text" }, s.text),
          el("button", { type: "button", onclick: function () { insert(s); }, "aria-label": "Insert suggestion: " + source }, "Insert"),
        ]));
      });
      if (!data.suggestions.length) list.append(el("li", { className: "muted" }, "No suggestions."));
    }).catch(showError);
  }

  function insert(s) {
    var text = s.source === "kb" ? s.text + (s.url ? "\n\nMore: " + s.url : "") : s.text;
    $("reply").value = text;
    $("reply").focus();
    state.inserted = { source: s.source, ref: s.ref, text: text };
    $("suggestion-used").textContent = "Inserted a suggestion \u2014 edit it as you like.";
  }

  // ---- actions ---------------------------------------------------------------------------------
  function act(name, body) {
    var id = state.selected;
    return api("POST", "/api/handoff/conversations/" + encodeURIComponent(id) + "/" + name, body)
      .then(function (result) {
        if (name === "return-to-bot" && result && result.rasa_resumed === false) {
          S.toast("Handed back; the bot resumes on the customer's next message.");
        }
        return refreshDetail(name === "claim");
      })
      .then(function () { return loadInbox(false); })
      .catch(showError);
  }

  function send(internal) {
    var text = $("reply").value.trim();
    if (!text) return;
    var body = { text: text, internal: internal };
    if (!internal && state.inserted) {
      body.suggestion = {
        source: state.inserted.source,
        ref: String(state.inserted.ref),
        action: text === state.inserted.text.trim() ? "used" : "edited",
      };
    }
    var id = state.selected;
    var ignored = internal || state.inserted ? [] : state.suggestions.slice(0, 1);
    api("POST", "/api/handoff/conversations/" + encodeURIComponent(id) + "/messages", body).then(function () {
      $("reply").value = "";
      state.inserted = null;
      $("suggestion-used").textContent = "";
      ignored.forEach(function (s) {
        api("POST", "/api/handoff/conversations/" + encodeURIComponent(id) + "/suggestions/feedback",
          { source: s.source, ref: String(s.ref), action: "ignored" }).catch(function () {});
      });
      return refreshDetail(false);
    }).catch(showError);
  }

  function showError(error) {
    if (error && error.status === 401) return;
    var box = $("conv-error");
    var message = error && error.detail ? error.detail : "Something went wrong; try again.";
    if (state.selected && box) {
      box.textContent = message;
      box.hidden = false;
    }
    S.toast(message, true);
  }

  function loadColleagues() {
    api("GET", "/api/handoff/agents").then(function (people) {
      state.colleagues = people;
      var select = $("reassign");
      while (select.options.length > 1) select.remove(1);
      people.forEach(function (p) {
        if (p.id === S.me.id) return;
        select.append(el("option", { value: String(p.id) }, p.name + (p.online ? " (online)" : "")));
      });
    }).catch(function () {});
  }

  // ---- live events -------------------------------------------------------------------------------
  var audio = null;
  function beep() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = 880;
      gain.gain.value = 0.08;
      osc.connect(gain).connect(audio.destination);
      osc.start();
      osc.stop(audio.currentTime + 0.15);
    } catch (e) { /* no audio: the title badge still counts */ }
  }

  function notify(event) {
    beep();
    if (document.hidden && window.Notification && Notification.permission === "granted") {
      new Notification("New conversation in the queue", {
        body: "Reason: " + String(event.reason || "").replace(/_/g, " "),
        tag: "supportbot-" + event.conversation_id,
      });
    }
  }

  var refreshInbox = S.debounce(function () { loadInbox(false).catch(function () {}); }, 250);
  var refreshOpen = S.debounce(function (suggest) { refreshDetail(suggest); }, 200);

  function connect(attempt) {
    var ws = new WebSocket(location.origin.replace(/^http/, "ws") + "/api/handoff/ws");
    ws.onmessage = function (message) {
      var event;
      try { event = JSON.parse(message.data); } catch (e) { return; }
      if (event.type === "ready") { attempt = 0; refreshInbox(); return; }
      if (event.type === "ping") return;
      if (event.type === "queue.escalated") notify(event);
      refreshInbox();
      if (event.conversation_id && event.conversation_id === state.selected) {
        var fromCustomer = event.message && event.message.sender === "customer";
        refreshOpen(fromCustomer);
      }
    };
    ws.onclose = function (event) {
      if (event.code === 4401) { location.reload(); return; } // signed out or disabled
      var delay = Math.min(30000, 1000 * Math.pow(2, attempt || 0));
      S.toast("Live updates lost; reconnecting\u2026", true);
      setTimeout(function () { connect((attempt || 0) + 1); }, delay);
    };
  }

  // ---- wiring -----------------------------------------------------------------------------------
  document.querySelectorAll(".tabs [role=tab]").forEach(function (tab) {
    tab.addEventListener("click", function () { setView(tab.dataset.view); });
  });
  $("search-form").addEventListener("submit", function (event) {
    event.preventDefault();
    state.query = $("search").value.trim();
    state.next = null;
    loadInbox(false).catch(showError);
  });
  $("more").addEventListener("click", function () { loadInbox(true).catch(showError); });
  document.querySelectorAll("[data-action]").forEach(function (button) {
    button.addEventListener("click", function () { act(button.dataset.action); });
  });
  $("reassign").addEventListener("change", function () {
    var to = Number($("reassign").value);
    if (to) act("release", { to_agent_id: to }).then(function () { $("reassign").value = ""; });
  });
  $("composer").addEventListener("submit", function (event) {
    event.preventDefault();
    send(false);
  });
  $("note-btn").addEventListener("click", function () { send(true); });
  $("reply").addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      send(false);
    }
  });
  var notifyButton = $("notify");
  if (!window.Notification || Notification.permission !== "default") notifyButton.hidden = true;
  notifyButton.addEventListener("click", function () {
    Notification.requestPermission().then(function () { notifyButton.hidden = true; });
  });
  setInterval(function () { if (state.view === "queue") refreshInbox(); }, 30000); // wait times

  loadColleagues();
  loadInbox(false).catch(showError);
  var wanted = new URLSearchParams(location.search).get("c");
  if (wanted) select(wanted);
  connect(0);
})();
