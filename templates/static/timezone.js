// Pre-fills an empty timezone select with the browser's own zone (an online circle has no
// city to take it from). Without JavaScript the select is the whole answer.
(function () {
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!zone) { return; }
  document.querySelectorAll('form[data-browser-timezone] select[name="timezone"]').forEach(function (select) {
    if (select.value) { return; }
    for (var i = 0; i < select.options.length; i++) {
      if (select.options[i].value === zone) { select.value = zone; return; }
    }
  });
})();
