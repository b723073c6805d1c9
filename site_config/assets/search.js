// Pagefind search in the header. Runs after pagefind/pagefind-component-ui.js and the
// generated pagefind/dailypapers-indexes.js (all three are deferred, so they run in order).
//
// 1. The search index is one Pagefind bundle per year (generator/search.py): the newest
//    year's is the primary bundle in pagefind/, each other year's is pagefind/<year>/, listed
//    in window.dailyPapersSearchIndexes. The component UI reads its options when it first
//    loads Pagefind (on the first search), so setting them here, before that, merges them.
//    Paths are absolute paths derived from this page's script URL, so a site served under a
//    sub-path (https://example.org/daily-papers/) works; Pagefind's result URLs are relative
//    to the folder above pagefind/ for every bundle.
// 2. Material's search shortcuts: `/` is the trigger's own `shortcut` attribute; `s` and `f`
//    are bound here.
(function () {
  var components = window.PagefindComponents;
  var script = document.querySelector('script[src$="pagefind-component-ui.js"]');
  if (!components || !script) return;
  var bundle = new URL(".", script.src).pathname;
  var instance = components.getInstanceManager().getInstance("default");
  instance.options.bundlePath = bundle;
  instance.options.mergeIndex = (window.dailyPapersSearchIndexes || []).map(function (path) {
    return { bundlePath: bundle + path };
  });
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
