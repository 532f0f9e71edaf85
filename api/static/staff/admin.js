/* Team admin: accounts, roles, disable/enable, password resets. */
(function () {
  "use strict";
  var S = window.Staff, el = S.el, api = S.api;
  var $ = function (id) { return document.getElementById(id); };

  function load() {
    return api("GET", "/api/admin/agents").then(render).catch(error);
  }

  function render(accounts) {
    var body = S.clear($("accounts"));
    accounts.forEach(function (a) {
      var role = el("select", { "aria-label": "Role of " + a.name }, ["agent", "editor", "admin"].map(function (r) {
        var option = el("option", { value: r }, r);
        if (r === a.role) option.selected = true;
        return option;
      }));
      role.addEventListener("change", function () { update(a, { role: role.value }); });
      var toggle = el("button", { type: "button", className: a.is_active ? "danger" : "" }, a.is_active ? "Disable" : "Enable");
      toggle.addEventListener("click", function () { update(a, { is_active: !a.is_active }); });
      var reset = el("button", { type: "button" }, "Reset password");
      reset.addEventListener("click", function () { resetForm(row, a); });
      var status = a.is_active ? (a.online ? "active \u00b7 online" : "active") : "disabled";
      var row = el("tr", null, [
        el("td", null, a.name + (a.id === S.me.id ? " (you)" : "")),
        el("td", null, a.email),
        el("td", null, role),
        el("td", null, status),
        el("td", null, a.last_seen_at ? S.ago(a.last_seen_at) : "\u2014"),
        el("td", null, [toggle, " ", reset]),
      ]);
      body.append(row);
    });
  }

  function resetForm(row, account) {
    var cell = row.lastChild;
    var input = el("input", { type: "password", minlength: "10", autocomplete: "new-password", "aria-label": "New password for " + account.name });
    var save = el("button", { type: "button", className: "primary" }, "Set");
    save.addEventListener("click", function () {
      api("POST", "/api/admin/agents/" + account.id + "/password", { password: input.value }).then(function () {
        S.toast("New password set for " + account.name + "; their sessions have ended");
        load();
      }).catch(error);
    });
    S.clear(cell).append(input, " ", save);
    input.focus();
  }

  function update(account, changes) {
    api("PATCH", "/api/admin/agents/" + account.id, changes).then(function (updated) {
      var what = "is_active" in changes ? (updated.is_active ? "enabled" : "disabled; every session ended")
        : "now " + updated.role + "; their sessions ended";
      S.toast(updated.name + " " + what);
      if (updated.id === S.me.id) location.reload();
      else load();
    }).catch(function (err) { error(err); load(); });
  }

  function error(err) {
    if (err && err.status === 401) return;
    S.toast((err && err.detail) || "Something went wrong", true);
  }

  $("create-form").addEventListener("submit", function (event) {
    event.preventDefault();
    api("POST", "/api/admin/agents", {
      name: $("c-name").value.trim(),
      email: $("c-email").value.trim(),
      role: $("c-role").value,
      password: $("c-password").value,
    }).then(function (account) {
      S.toast("Added " + account.name + " (" + account.role + ")");
      $("create-form").reset();
      load();
    }).catch(error);
  });

  load();
})();
