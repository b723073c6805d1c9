// Pagefind search in the header. Runs after pagefind/pagefind-component-ui.js and the
// generated pagefind/dailypapers-indexes.js (all three are deferred, so they run in order).
//
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
// 3. Material's search shortcuts: `/` is the trigger's own `shortcut` attribute; `s` and `f`
//    are bound here.
(function () {
  var components = window.PagefindComponents;
  var script = document.querySelector('script[src$="pagefind-component-ui.js"]');
  if (!components || !script) return;
  var bundle = new URL(".", script.src).pathname;
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
})();

document.addEventListener("keydown", function (event) {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key !== "s" && event.key !== "f") return;
  var target = event.target;
  if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
  // The button that <pagefind-modal-trigger> renders: a click on the custom element itself
  // would not reach the button's listener, so the modal would stay closed.
  var button = document.querySelector("pagefind-modal-trigger button");
  if (!button) return;
  event.preventDefault();
  button.click();
});
