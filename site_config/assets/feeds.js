// The feeds page's picker: tick topics and organizations, download one OPML file of their
// RSS feeds, made here in the browser (no server, no other script). Without this script
// the page is a plain list of feed links; with it the checkboxes and the button appear.
// Each feed's address is its link resolved against the page's public address (data-base,
// from site_url, like the addresses feeds.opml lists), its title the site's name and the
// label; the OPML is built as an XML DOM, so the serializer escapes every attribute.
(function () {
  "use strict";
  var form = document.getElementById("dp-picker");
  if (!form || !window.Blob || !window.XMLSerializer || !window.URL) return;
  var status = form.querySelector(".dp-picker-status");
  var boxes = form.querySelectorAll('input[type="checkbox"]');

  function opml(chosen) {
    var doc = document.implementation.createDocument(null, "opml", null);
    var root = doc.documentElement;
    root.setAttribute("version", "2.0");
    var head = root.appendChild(doc.createElement("head"));
    head.appendChild(doc.createElement("title")).textContent = form.dataset.site + ": chosen feeds";
    var body = root.appendChild(doc.createElement("body"));
    var groups = {};
    chosen.forEach(function (box) {
      var fieldset = box.closest("fieldset");
      var legend = fieldset.querySelector("legend").textContent;
      var label = form.querySelector('label[for="' + box.id + '"]').textContent;
      var title = form.dataset.site + ": " + fieldset.dataset.what + label;
      var feed = new URL(box.parentNode.querySelector("a").getAttribute("href"), form.dataset.base);
      if (!groups[legend]) {
        groups[legend] = body.appendChild(doc.createElement("outline"));
        groups[legend].setAttribute("text", legend);
        groups[legend].setAttribute("title", legend);
      }
      var outline = groups[legend].appendChild(doc.createElement("outline"));
      outline.setAttribute("type", "rss");
      outline.setAttribute("text", title);
      outline.setAttribute("title", title);
      outline.setAttribute("xmlUrl", feed.href);
      outline.setAttribute("htmlUrl", new URL("./", feed).href);
    });
    return '<?xml version="1.0" encoding="utf-8"?>\n' + new XMLSerializer().serializeToString(doc) + "\n";
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var chosen = Array.prototype.filter.call(boxes, function (box) { return box.checked; });
    if (!chosen.length) {
      status.textContent = "Tick at least one topic or organization first.";
      return;
    }
    var blob = new Blob([opml(chosen)], { type: "text/x-opml" });
    var link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = form.dataset.file;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(link.href); }, 10000);
    status.textContent = chosen.length === 1 ? "Downloaded 1 feed." : "Downloaded " + chosen.length + " feeds.";
  });

  Array.prototype.forEach.call(boxes, function (box) { box.hidden = false; });
  Array.prototype.forEach.call(form.querySelectorAll(".dp-picker-js"), function (el) { el.hidden = false; });
})();
