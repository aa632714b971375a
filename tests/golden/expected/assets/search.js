/* The search page: loads Pagefind's search box from the bundle the build
   wrote (build.search). Without JavaScript, or without a bundle, the page's
   note and its links to the tag and interest indexes stay. */
(function () {
  "use strict";
  var box = document.getElementById("search");
  var note = document.getElementById("search-note");
  if (!box || !note) return;
  var bundle = box.getAttribute("data-bundle") || "/pagefind/";

  function unavailable() {
    note.textContent = "Search is not available on this copy of the site (it was built " +
      "without its search index). You can still find your way by tag or by interest.";
    box.setAttribute("data-search", "unavailable");
  }

  // A visible label for Pagefind's box, once it is there.
  function labelInput(tries) {
    var input = box.querySelector("input[type=text], input[type=search]");
    var label = document.querySelector("label[for=search-input]");
    if (!input) {
      if (tries < 50) window.requestAnimationFrame(function () { labelInput(tries + 1); });
      return;
    }
    input.id = "search-input";
    if (!label) {
      label = document.createElement("label");
      label.className = "search__label";
      label.htmlFor = "search-input";
      label.textContent = "What are you looking for?";
      box.parentNode.insertBefore(label, box);
    }
    box.setAttribute("data-search", "ready");
  }

  function start() {
    if (typeof window.PagefindUI !== "function") return unavailable();
    var ui = new window.PagefindUI({
      element: "#search",
      bundlePath: bundle,
      baseUrl: box.getAttribute("data-base") || "/",
      showImages: false,
      showSubResults: false,
      resetStyles: false,
      autofocus: false,
      openFilters: ["kind"],
      translations: { placeholder: "Search stories, events and members" }
    });
    labelInput(0);
    note.hidden = true;
    // Pagefind UI shows the filters its first search counted, and a search counts
    // only the filter chunks loaded by then: a search from ?q= started at once
    // could show the tag filter and never the kind one. Load every filter chunk
    // first (the UI imports this same module, so they are loaded once, for both).
    var q = new URLSearchParams(window.location.search).get("q");
    var search = function () {
      if (q) ui.triggerSearch(q);
    };
    import(bundle + "pagefind.js")
      .then(function (pagefind) { return pagefind.filters(); })
      .then(search, search);
  }

  var css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = bundle + "pagefind-ui.css";
  document.head.appendChild(css);
  var script = document.createElement("script");
  script.src = bundle + "pagefind-ui.js";
  script.onload = start;
  script.onerror = unavailable;
  document.head.appendChild(script);
})();
