// Pagefind search in the header, loaded on first use.
//
// 0. A page view loads only this script (a few KB). Pagefind's component UI and its CSS
//    (~210 KB) and the generated pagefind/dailypapers-indexes.js are added on the first
//    focus or click of the search button (the header's stand-in for Pagefind's own, which
//    replaces it when the component UI loads), its keyboard shortcuts (`/`, `s`, `f`, as in
//    Material), or at once for a `?q=words` link, which opens the search with those words.
//    The bundle is pagefind/ beside assets/, found from this script's own URL, so a site
//    served under a sub-path (https://example.org/daily-papers/) works.
// 1. The search index is one Pagefind bundle per year, or part of one (generator/search.py):
//    the newest is the primary bundle in pagefind/, each other is pagefind/<slice>/. The
//    generated script lists them as `recent` (merged into every search) and `older` (merged
//    when the reader asks for all years, or at once when the recent ones match nothing):
//    every merged bundle adds its page table and index chunks to a first search. The choice
//    of all years lasts for the browser tab (sessionStorage).
//    The component UI reads its options when it first loads Pagefind (on the first search),
//    so setting them here, before that, merges the bundles. Older ones are merged later into
//    the Pagefind instance it loaded (`__pagefind__`: Pagefind 1.5's component UI keeps it
//    there; tests/test_browser.py fails if a Pagefind upgrade moves it).
//    Paths are absolute paths derived from this page's script URL, so a site served under a
//    sub-path (https://example.org/daily-papers/) works; Pagefind's result URLs are relative
//    to the folder above pagefind/ for every bundle.
// 2. The modal's filter menus: a menu whose filter the index does not have (`filters` in the
//    generated script; e.g. no paper has an organization) is removed, as Pagefind would
//    show it with "No filter found".
// 3. Material's search shortcuts: `/` is the trigger's own `shortcut` attribute once Pagefind
//    is loaded (this script's until then); `s` and `f` are bound here.
// 4. The phone menu (a <details> in partials/header.html) closes on Escape or a click outside.
(function () {
  var self = document.currentScript;
  if (!self) return;
  var BUNDLE = new URL("../pagefind/", self.src).href;
  var loading = null; // the promise of a loaded, configured Pagefind
  var loaded = false;

  function add(tag, attributes) {
    return new Promise(function (resolve, reject) {
      var element = document.createElement(tag);
      Object.keys(attributes).forEach(function (name) {
        element[name] = attributes[name];
      });
      element.addEventListener("load", resolve);
      element.addEventListener("error", function () {
        reject(new Error("Daily Papers: could not load " + (attributes.src || attributes.href)));
      });
      (tag === "link" ? document.head : document.body).appendChild(element);
    });
  }

  // The search dialog: Pagefind's default modal, spelled out to cap the results it lists (it
  // draws a card for every match, and a common word matches thousands of papers: seconds of
  // work) and to add filters (lean pages' data-pagefind-filter, generator/search.py). The
  // organization menu lists only the organizations among the results, most frequent first.
  // No topic filter: see the README's Search section. The scope note tells what the results
  // cover on an archive whose older years are merged only on request (filled in setup()).
  // Added here, on first use, before Pagefind's component UI loads (which finds it), rather
  // than in every page (partials/header.html).
  var MODAL =
    '<pagefind-modal><pagefind-modal-header><pagefind-input placeholder="Search papers"></pagefind-input></pagefind-modal-header>' +
    "<pagefind-modal-body><pagefind-summary></pagefind-summary>" +
    '<div class="dp-search-tools">' +
    '<pagefind-filter-dropdown filter="year" label="Year"></pagefind-filter-dropdown>' +
    '<pagefind-filter-dropdown filter="organization" label="Organization" sort="count-desc"></pagefind-filter-dropdown>' +
    '<p class="dp-search-scope" hidden><span class="dp-search-scope__note"></span>' +
    '<button type="button" class="dp-search-scope__all"></button></p></div>' +
    '<pagefind-results max-results="50"></pagefind-results></pagefind-modal-body>' +
    "<pagefind-modal-footer><pagefind-keyboard-hints></pagefind-keyboard-hints></pagefind-modal-footer></pagefind-modal>";

  function addModal() {
    if (document.querySelector("pagefind-modal")) return;
    var place = document.querySelector(".dp-search") || document.body;
    place.insertAdjacentHTML("beforeend", MODAL);
  }

  function load() {
    if (!loading) {
      addModal();
      loading = Promise.all([
        add("link", { rel: "stylesheet", href: BUNDLE + "pagefind-component-ui.css" }),
        // Dynamic scripts run in the order added when not async: the index list first.
        add("script", { src: BUNDLE + "dailypapers-indexes.js", async: false }),
        add("script", { src: BUNDLE + "pagefind-component-ui.js", async: false }),
      ]).then(function () {
        setup();
        loaded = true;
        return triggerReady();
      });
      loading.catch(function (error) {
        console.error(error);
        loading = null; // a later use tries again
      });
    }
    return loading;
  }

  // Pagefind's trigger button, once it has found the modal (it sets aria-controls then).
  function triggerReady() {
    return new Promise(function (resolve) {
      (function poll() {
        var button = document.querySelector("pagefind-modal-trigger button[aria-controls]");
        if (button) resolve(button);
        else requestAnimationFrame(poll);
      })();
    });
  }

  // Open the search as Pagefind's own button does (it hands focus back to it on close).
  function open() {
    return load().then(function (button) {
      if (!document.querySelector("pagefind-modal dialog[open]")) button.click();
      return button;
    });
  }

  // The component UI replaces the stub with its own button as it loads. A press that began
  // on the stub and ends after that gets no click from Chromium (its target left the page),
  // so the release opens the search; clicks on Pagefind's own button, once loaded, are its
  // own. Clicks are heard on the parent <pagefind-modal-trigger>, which stays.
  var host = document.querySelector("pagefind-modal-trigger");
  var stub = host && host.querySelector(".dp-search-stub");
  if (stub) {
    var pressed = false; // a press began on the stub
    var activate = function () {
      var refocus = document.activeElement === stub;
      open().then(function (button) {
        if (refocus && !document.querySelector("pagefind-modal dialog[open]")) button.focus();
      });
    };
    stub.addEventListener("focus", load, { once: true });
    stub.addEventListener("pointerenter", load, { once: true });
    stub.addEventListener("pointerdown", function (event) {
      pressed = event.button === 0;
      load();
    });
    document.addEventListener("pointerup", function (event) {
      if (!pressed) return;
      pressed = false;
      if (!stub.isConnected && host.contains(event.target)) activate();
    });
    host.addEventListener("click", function (event) {
      if (loaded && event.target !== host) return;
      activate();
    });
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    // `/` is Pagefind's trigger's own shortcut once it is loaded.
    if (event.key !== "s" && event.key !== "f" && !(event.key === "/" && !loaded)) return;
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    event.preventDefault();
    open();
  });

  // A link to search results: ?q=words opens the search with them.
  var query = new URLSearchParams(window.location.search).get("q");
  if (query && query.trim()) {
    open().then(function () {
      // Typed into the modal's input, as a reader would: Pagefind's input searches it.
      var input = document.querySelector("pagefind-modal input.pf-input");
      if (!input) return;
      input.value = query.trim();
      input.dispatchEvent(new Event("input", { bubbles: true }));
    });
  }

  // The phone menu: Escape or a click outside closes it.
  var menu = document.querySelector("details.dp-menu");
  if (menu) {
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && menu.open) {
        menu.open = false;
        menu.querySelector("summary").focus();
      }
    });
    document.addEventListener("click", function (event) {
      if (menu.open && !menu.contains(event.target)) menu.open = false;
    });
  }

  // Pagefind's filter menu buttons are comboboxes, which their text does not name: each
  // gets its menu's label (Year, Organization) as it is drawn, and again if redrawn.
  function nameFilterMenus() {
    var modal = document.querySelector("pagefind-modal");
    if (!modal) return;
    function name() {
      modal.querySelectorAll("pagefind-filter-dropdown .pf-dropdown-trigger:not([aria-label])").forEach(
        function (button) {
          var label = button.closest("pagefind-filter-dropdown").getAttribute("label");
          if (label) button.setAttribute("aria-label", label);
        },
      );
    }
    new MutationObserver(name).observe(modal, { childList: true, subtree: true });
    name();
  }

  // Configure the component UI just loaded, before its first search.
  function setup() {
    nameFilterMenus();
    var components = window.PagefindComponents;
    if (!components) throw new Error("Daily Papers: Pagefind's component UI did not load");
    var bundle = new URL(BUNDLE).pathname;
    var indexes = window.dailyPapersSearchIndexes || {};
    var recent = indexes.recent || [];
    var older = indexes.older || [];
    var KEY = "dailypapers-search-all-years";
    var allYears = older.length === 0 || allYearsRemembered();
    var filters = indexes.filters || [];
    document.querySelectorAll(".dp-search-tools pagefind-filter-dropdown").forEach(function (menu) {
      if (filters.indexOf(menu.getAttribute("filter")) < 0) menu.remove();
    });
    var instance = components.getInstanceManager().getInstance("default");
    instance.options.bundlePath = bundle;
    instance.options.mergeIndex = recent.concat(allYears ? older : []).map(function (path) {
      return { bundlePath: bundle + path };
    });

    var scope = document.querySelector(".dp-search-scope");
    if (allYears || !scope) return;
    var note = scope.querySelector(".dp-search-scope__note");
    var button = scope.querySelector(".dp-search-scope__all");
    note.textContent = "Papers featured since " + indexes.since + ".";
    button.textContent = "Search all years (back to " + indexes.oldest + ")";
    button.addEventListener("click", function () {
      widen(true);
    });
    instance.on("search", function (term) {
      if (!term || !term.trim()) scope.hidden = true;
    });
    instance.on("results", function (result) {
      var term = (instance.searchTerm || "").trim();
      if (allYears || !term) {
        scope.hidden = true;
      } else if (!result || !result.results || result.results.length === 0) {
        widen(false); // nothing recent matches: the older papers may
      } else {
        scope.hidden = false;
      }
    });

    // Merge the older bundles into the loaded Pagefind instance and search again.
    function widen(remember) {
      if (allYears) return;
      var pagefind = instance.__pagefind__;
      if (!pagefind || typeof pagefind.mergeIndex !== "function") {
        console.error("Daily Papers: cannot merge older years into this Pagefind version's search");
        return;
      }
      allYears = true;
      if (remember) rememberAllYears();
      button.disabled = true;
      note.textContent = "Loading older papers…";
      Promise.all(
        older.map(function (path) {
          return pagefind.mergeIndex(bundle + path);
        }),
      )
        .then(function () {
          // Loads the merged bundles' filter data, which their results' year counts need.
          return pagefind.filters();
        })
        .then(function () {
          scope.hidden = true;
          if (remember) {
            var input = document.querySelector("pagefind-modal input.pf-input");
            if (input) input.focus(); // the button the reader pressed is gone
          }
          instance.triggerSearch(instance.searchTerm);
        });
    }

    function allYearsRemembered() {
      try {
        return window.sessionStorage.getItem(KEY) === "1";
      } catch (error) {
        return false; // storage off: every page starts with recent papers
      }
    }

    function rememberAllYears() {
      try {
        window.sessionStorage.setItem(KEY, "1");
      } catch (error) {
        /* storage off: this page searches all years, the next starts with recent papers */
      }
    }
  }
})();
