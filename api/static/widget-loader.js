/* supportbot chat bubble loader. A site adds one tag:
 *   <script src="https://HOST/widget.js" data-title="Northpeak" data-color="#1f6f5c" async></script>
 * This small file is served with a short cache; it mounts <supportbot-widget> and loads the
 * element's code from a versioned URL that browsers may cache for a year. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || document.querySelector("supportbot-widget")) return;
  var api = script.getAttribute("data-api") || new URL(script.src, location.href).origin;
  var element = document.createElement("supportbot-widget");
  element.setAttribute("api", api);
  for (var i = 0; i < script.attributes.length; i++) {
    var attr = script.attributes[i];
    if (attr.name.indexOf("data-") === 0 && attr.name !== "data-api") {
      element.setAttribute(attr.name.slice(5), attr.value);
    }
  }
  function mount() {
    document.body.appendChild(element);
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
  if (!window.customElements.get("supportbot-widget")) {
    var code = document.createElement("script");
    code.src = api + "__WIDGET_SRC__";
    code.async = true;
    document.head.appendChild(code);
  }
})();
