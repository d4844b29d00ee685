// The team widget's one script, served from our origin (CSP script-src 'self').
//
// Inside the widget (a page with data-circles-embed-page, in an iframe): tell the parent page
// our height whenever it changes, by postMessage. The message holds only a number, so any
// parent may read it ('*').
//
// On a partner's page (loaded by the snippet's <script src>): resize each of our iframes
// (data-circles-embed) to the height its own page reports. Messages are taken only from one
// of those iframes' windows and from our origin, so no other frame can resize them.
// Without this script the iframe keeps its height attribute and scrolls.
(function () {
  'use strict';
  var KIND = 'circles-embed:height';

  if (document.documentElement && document.querySelector('[data-circles-embed-page]')) {
    if (window.parent === window) { return; }
    // The site's body fills the viewport (min-height: 100vh): in a frame that would keep the
    // frame as tall as it is now, so the widget's body is as tall as its content.
    document.body.style.minHeight = '0';
    var last = 0;
    var report = function () {
      var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
      if (height !== last) {
        last = height;
        window.parent.postMessage({ type: KIND, height: height }, '*');
      }
    };
    window.addEventListener('load', report);
    window.addEventListener('resize', report);
    if (window.ResizeObserver) { new ResizeObserver(report).observe(document.body); }
    report();
    return;
  }

  var script = document.currentScript;
  var origin = script ? new URL(script.src, window.location.href).origin : null;
  window.addEventListener('message', function (event) {
    var data = event.data;
    if (!origin || event.origin !== origin || !data || data.type !== KIND) { return; }
    var height = Number(data.height);
    if (!isFinite(height) || height <= 0) { return; }
    var frames = document.querySelectorAll('iframe[data-circles-embed]');
    for (var i = 0; i < frames.length; i += 1) {
      if (frames[i].contentWindow === event.source) {
        frames[i].style.height = Math.min(Math.max(height, 120), 20000) + 'px';
      }
    }
  });
}());
