// "Near me": fill the hidden latitude/longitude fields from the browser and search.
// Progressive enhancement: without JavaScript the button stays hidden. Its messages come
// translated in the button's data-finding and data-failed attributes (browse.html).
(function () {
  var button = document.getElementById('near-me');
  if (!button || !navigator.geolocation) return;
  var status = document.getElementById('near-me-status');
  var finding = button.getAttribute('data-finding') || 'Finding your location…';
  var failed = button.getAttribute('data-failed') || 'We could not get your location. Try searching by city instead.';
  button.hidden = false;
  button.addEventListener('click', function () {
    status.textContent = finding;
    navigator.geolocation.getCurrentPosition(function (position) {
      document.getElementById('latitude').value = position.coords.latitude.toFixed(4);
      document.getElementById('longitude').value = position.coords.longitude.toFixed(4);
      document.getElementById('near-me-distance').hidden = false;
      button.form.submit();
    }, function () {
      status.textContent = failed;
    }, {timeout: 10000, maximumAge: 600000});
  });
})();
