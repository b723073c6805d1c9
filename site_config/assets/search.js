// Material's search shortcuts (s, f, /) for the Pagefind modal in the header.
document.addEventListener("keydown", function (event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key !== "s" && event.key !== "f") return;
  var target = event.target;
  if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
  var trigger = document.querySelector("pagefind-modal-trigger button, pagefind-modal-trigger");
  if (!trigger) return;
  event.preventDefault();
  trigger.click();
});
