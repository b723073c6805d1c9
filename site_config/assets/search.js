// Material's search shortcuts for the Pagefind modal in the header: `/` is the trigger's own
// `shortcut` attribute; `s` and `f` are bound here.
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
