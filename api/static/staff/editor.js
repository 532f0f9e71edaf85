/* Knowledge-base editor: articles with live sanitised preview, drafts, publish/unpublish,
 * revision history with diffs and restore, stale-edit conflicts explained, and the
 * unanswered-questions list. */
(function () {
  "use strict";
  var S = window.Staff, el = S.el, api = S.api;
  var $ = function (id) { return document.getElementById(id); };
  var state = { articles: [], current: null, creating: false, base: null, conflict: null, groups: [] };

  // ---- article list -----------------------------------------------------------------------
  function loadArticles() {
    return api("GET", "/api/kb/articles").then(function (articles) {
      state.articles = articles;
      var select = $("filter-category"), chosen = select.value;
      var categories = Array.from(new Set(articles.map(function (a) { return a.category; }).filter(Boolean))).sort();
      while (select.options.length > 1) select.remove(1);
      categories.forEach(function (c) { select.append(el("option", { value: c }, c)); });
      select.value = chosen;
      renderList();
    });
  }

  function renderList() {
    var q = $("filter-q").value.trim().toLowerCase();
    var category = $("filter-category").value, status = $("filter-status").value;
    var list = S.clear($("article-list"));
    state.articles
      .filter(function (a) {
        return (!q || a.title.toLowerCase().indexOf(q) >= 0 || a.slug.indexOf(q) >= 0) &&
          (!category || a.category === category) && (!status || a.status === status);
      })
      .forEach(function (a) {
        list.append(el("li", null, el("button", {
          type: "button",
          "aria-current": state.current && state.current.slug === a.slug ? "true" : "false",
          onclick: function () { open(a.slug); },
        }, [
          el("span", { className: "row1" }, [el("span", { className: "who" }, a.title), el("span", { className: "status small " + a.status }, a.status)]),
          el("span", { className: "last small" }, a.slug + (a.category ? " \u00b7 " + a.category : "")),
        ])));
      });
    if (!list.children.length) list.append(el("li", { className: "muted" }, "No articles match."));
  }

  // ---- one article ----------------------------------------------------------------------------
  function show(view) {
    $("article-view").hidden = view !== "article";
    $("unanswered-view").hidden = view !== "unanswered";
    $("editor-empty").hidden = view !== "empty";
  }

  function open(slug) {
    return api("GET", "/api/kb/articles/" + encodeURIComponent(slug)).then(function (article) {
      state.current = article;
      state.creating = false;
      state.base = article.revision;
      fill(article);
      setView("articles");
      show("article");
      renderList();
      loadRevisions();
    }).catch(error);
  }

  function fill(article) {
    $("conflict").hidden = true;
    $("form-error").hidden = true;
    $("f-slug").value = article.slug || "";
    $("f-slug").disabled = !state.creating;
    $("f-title").value = article.title || "";
    $("f-category").value = article.category || "";
    $("f-intent").value = article.intent || "";
    $("f-tags").value = (article.tags || []).join(", ");
    $("f-body").value = article.body || "";
    $("f-questions").value = (article.questions || []).join("\n");
    $("f-note").value = "";
    $("article-heading").textContent = state.creating ? "New article" : article.title;
    $("article-status").textContent = state.creating ? "not saved yet" : statusText(article);
    $("article-status").className = "status " + (article.status || "draft");
    $("article-meta").textContent = state.creating ? "" : "revision " + article.revision + " \u00b7 saved by " + article.author + " " + S.ago(article.updated_at);
    $("publish").disabled = state.creating || article.status === "published";
    $("unpublish").disabled = state.creating || article.status === "draft";
    $("delete").disabled = state.creating;
    var live = $("view-live");
    live.hidden = state.creating || article.status === "draft";
    if (!live.hidden) live.href = "/help/" + encodeURIComponent(article.slug);
    renderPreview(article.html);
  }

  function statusText(a) {
    return { draft: "Draft (not live)", published: "Published", changed: "Published, with unpublished changes" }[a.status] || a.status;
  }

  function renderPreview(html) {
    // Sanitised on the server (the same code that renders the help center); parsed, never run.
    var doc = new DOMParser().parseFromString(html || "", "text/html");
    var box = S.clear($("preview"));
    Array.from(doc.body.childNodes).forEach(function (node) { box.append(document.importNode(node, true)); });
  }

  var updatePreview = S.debounce(function () {
    api("POST", "/api/kb/preview", { body: $("f-body").value }).then(function (data) { renderPreview(data.html); }).catch(function () {});
  }, 300);

  function formData() {
    return {
      title: $("f-title").value.trim(),
      body: $("f-body").value,
      category: $("f-category").value.trim(),
      intent: $("f-intent").value.trim(),
      tags: $("f-tags").value.split(",").map(function (t) { return t.trim(); }).filter(Boolean),
      questions: $("f-questions").value.split("\n").map(function (q) { return q.trim(); }).filter(Boolean),
      note: $("f-note").value.trim(),
    };
  }

  function save() {
    $("form-error").hidden = true;
    var data = formData();
    var request = state.creating
      ? api("POST", "/api/kb/articles", Object.assign({ slug: $("f-slug").value.trim() }, data))
      : api("PUT", "/api/kb/articles/" + encodeURIComponent(state.current.slug), Object.assign({ base_revision: state.base }, data));
    return request.then(function (article) {
      state.current = article;
      state.creating = false;
      state.base = article.revision;
      fill(article);
      S.toast("Saved revision " + article.revision + " (not live until published)");
      loadArticles();
      loadRevisions();
      return article;
    }, function (err) {
      if (err.status === 409 && err.body && err.body.conflict) showConflict(err.body);
      else formError(err);
      throw err;
    });
  }

  function showConflict(body) {
    var c = body.conflict;
    state.conflict = c;
    $("conflict-text").textContent = body.detail + (c.note ? " Their note: \u201c" + c.note + "\u201d." : "") + " Their change:";
    renderDiff($("conflict-diff"), c.changes);
    $("conflict").hidden = false;
    $("conflict").scrollIntoView({ block: "nearest" });
  }

  function renderDiff(list, changes) {
    S.clear(list);
    if (!changes) return;
    Object.keys(changes.fields || {}).forEach(function (name) {
      var f = changes.fields[name];
      list.append(el("li", { className: "del" }, name + ": " + f.from), el("li", { className: "add" }, name + ": " + f.to));
    });
    (changes.body || []).forEach(function (line) {
      list.append(el("li", { className: line.op }, (line.op === "add" ? "+ " : line.op === "del" ? "- " : "  ") + line.text));
    });
    (changes.questions_added || []).forEach(function (q) { list.append(el("li", { className: "add" }, "+ question: " + q)); });
    (changes.questions_removed || []).forEach(function (q) { list.append(el("li", { className: "del" }, "- question: " + q)); });
    if (!list.children.length) list.append(el("li", { className: "gap" }, "No differences."));
  }

  function publish() {
    var slug = state.current.slug;
    api("POST", "/api/kb/articles/" + encodeURIComponent(slug) + "/publish").then(function (result) {
      S.toast("Published; search re-embedded " + result.embedded_passages + " passages of this article");
      return open(slug).then(loadArticles);
    }).catch(error);
  }

  function unpublish() {
    var slug = state.current.slug;
    api("POST", "/api/kb/articles/" + encodeURIComponent(slug) + "/unpublish").then(function () {
      S.toast("Unpublished: out of the help center and search, kept as a draft");
      return open(slug).then(loadArticles);
    }).catch(error);
  }

  function remove() {
    var slug = state.current.slug;
    if (!window.confirm("Delete \u201c" + state.current.title + "\u201d? It leaves the help center and search; its history is kept.")) return;
    api("DELETE", "/api/kb/articles/" + encodeURIComponent(slug)).then(function () {
      state.current = null;
      show("empty");
      S.toast("Deleted");
      loadArticles();
    }).catch(error);
  }

  // ---- history ---------------------------------------------------------------------------------
  function loadRevisions() {
    var slug = state.current.slug;
    $("diff-box").hidden = true;
    api("GET", "/api/kb/articles/" + encodeURIComponent(slug) + "/revisions").then(function (revisions) {
      var body = S.clear($("revisions"));
      revisions.forEach(function (r) {
        var actions = [];
        if (r.number > 1) {
          actions.push(el("button", { type: "button", onclick: function () { diff(slug, r.number - 1, r.number); } }, "Changes"));
        }
        if (r.number !== state.current.revision) {
          actions.push(" ", el("button", { type: "button", onclick: function () { restore(slug, r.number); } }, "Restore this revision"));
        }
        body.append(el("tr", null, [
          el("td", null, String(r.number) + (r.published ? " (live)" : "")),
          el("td", null, r.author),
          el("td", null, S.ago(r.created_at)),
          el("td", null, r.note),
          el("td", null, actions),
        ]));
      });
    }).catch(error);
  }

  function diff(slug, from, to) {
    api("GET", "/api/kb/articles/" + encodeURIComponent(slug) + "/diff?from=" + from + "&to=" + to).then(function (changes) {
      $("diff-title").textContent = "Changes from revision " + from + " to " + to;
      renderDiff($("diff"), changes);
      $("diff-box").hidden = false;
    }).catch(error);
  }

  function restore(slug, number) {
    api("POST", "/api/kb/articles/" + encodeURIComponent(slug) + "/revisions/" + number + "/restore").then(function (article) {
      state.current = article;
      state.base = article.revision;
      fill(article);
      S.toast("Restored revision " + number + " as revision " + article.revision + "; publish it to go live");
      loadRevisions();
      loadArticles();
    }).catch(error);
  }

  // ---- unanswered questions -----------------------------------------------------------------
  function loadUnanswered() {
    return api("GET", "/api/kb/unanswered").then(function (data) {
      state.groups = data.groups;
      $("count-unanswered").textContent = data.groups.length ? String(data.groups.length) : "";
      renderGroups();
    });
  }

  function articleOptions(selected) {
    var select = el("select", { "aria-label": "Article to attach these questions to" });
    state.articles.forEach(function (a) {
      var option = el("option", { value: a.slug }, a.title + " (" + a.slug + ")");
      if (a.slug === selected) option.selected = true;
      select.append(option);
    });
    return select;
  }

  function renderGroups() {
    var list = S.clear($("groups"));
    state.groups.forEach(function (g) {
      var ids = g.questions.map(function (q) { return q.message_id; });
      var target = articleOptions(g.closest_article && g.closest_article.slug);
      var slug = el("input", { "aria-label": "Slug of the new draft", placeholder: "new-article-slug", pattern: "[a-z0-9]+(-[a-z0-9]+)*" });
      var title = el("input", { "aria-label": "Title of the new draft", placeholder: "Title", value: g.questions[0].text.slice(0, 120) });
      var replies = g.agent_replies.map(function (r) { return el("li", null, (r.agent_name || "Agent") + ": " + r.text); });
      list.append(el("li", null, [
        el("h3", null, g.count + " question" + (g.count === 1 ? "" : "s") + " \u00b7 last asked " + S.ago(g.last_asked)),
        el("ul", { className: "qs" }, g.questions.slice(0, 8).map(function (q) {
          return el("li", null, [q.text, el("span", { className: "muted small" }, " (" + q.why.replace(/_/g, " ") + ")")]);
        })),
        replies.length ? el("p", { className: "small" }, "How agents answered:") : null,
        replies.length ? el("ul", { className: "qs small" }, replies) : null,
        g.closest_article ? el("p", { className: "muted small" }, "Closest article: " + g.closest_article.title + " (" + Math.round(g.closest_article.score * 100) + "%)") : null,
        el("div", { className: "toolbar" }, [
          target,
          el("button", { type: "button", className: "primary", onclick: function () { attach(ids, target.value); } }, "Attach to this article"),
        ]),
        el("div", { className: "toolbar" }, [
          slug, title,
          el("button", { type: "button", onclick: function () { draft(ids, slug.value.trim(), title.value.trim()); } }, "Start a new draft"),
          el("button", { type: "button", className: "link", onclick: function () { dismiss(ids); } }, "Dismiss"),
        ]),
      ]));
    });
    if (!state.groups.length) list.append(el("li", { className: "muted" }, "Nothing unanswered right now."));
  }

  function attach(ids, slug) {
    api("POST", "/api/kb/unanswered/attach", { message_ids: ids, slug: slug }).then(function (result) {
      S.toast(result.published ? "Attached and republished: search finds this article for these questions now"
        : "Attached to the draft; publish the article to make it searchable");
      loadUnanswered();
      loadArticles();
    }).catch(error);
  }

  function draft(ids, slug, title) {
    if (!slug || !title) { S.toast("Give the draft a slug and a title", true); return; }
    api("POST", "/api/kb/unanswered/draft", { message_ids: ids, slug: slug, title: title }).then(function (article) {
      loadUnanswered();
      loadArticles().then(function () { open(article.slug); });
    }).catch(error);
  }

  function dismiss(ids) {
    api("POST", "/api/kb/unanswered/dismiss", { message_ids: ids }).then(loadUnanswered).catch(error);
  }

  // ---- wiring ----------------------------------------------------------------------------------
  function formError(err) {
    var box = $("form-error");
    box.textContent = err.detail || "Could not save.";
    box.hidden = false;
  }

  function error(err) {
    if (err && err.status === 401) return;
    S.toast((err && err.detail) || "Something went wrong", true);
  }

  function setView(view) {
    document.querySelectorAll(".tabs [role=tab]").forEach(function (tab) {
      tab.setAttribute("aria-selected", String(tab.dataset.view === view));
    });
    $("filters").hidden = view !== "articles";
    if (view === "unanswered") {
      show("unanswered");
      loadUnanswered().catch(error);
    } else if (!state.current && !state.creating) {
      show("empty");
    } else {
      show("article");
    }
  }

  document.querySelectorAll(".tabs [role=tab]").forEach(function (tab) {
    tab.addEventListener("click", function () { setView(tab.dataset.view); });
  });
  ["filter-q", "filter-category", "filter-status"].forEach(function (id) {
    $(id).addEventListener("input", renderList);
  });
  $("new-article").addEventListener("click", function () {
    state.creating = true;
    state.current = { slug: "", title: "", body: "", status: "draft" };
    fill(state.current);
    setView("articles");
    show("article");
    $("f-slug").focus();
  });
  $("article-form").addEventListener("submit", function (event) {
    event.preventDefault();
    save().catch(function () {});
  });
  $("f-body").addEventListener("input", updatePreview);
  $("publish").addEventListener("click", publish);
  $("unpublish").addEventListener("click", unpublish);
  $("delete").addEventListener("click", remove);
  $("conflict-load").addEventListener("click", function () { open(state.current.slug); });
  $("conflict-keep").addEventListener("click", function () {
    state.base = state.conflict.latest_revision; // saves on top of theirs, on purpose
    $("conflict").hidden = true;
    save().catch(function () {});
  });

  loadArticles().catch(error);
  loadUnanswered().catch(function () {});
  var wanted = new URLSearchParams(location.search).get("article");
  if (wanted) open(wanted);
})();
