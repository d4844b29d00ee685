// Live preview of a reminder's whole text message while the facilitator edits its words.
// The server renders the SMS around a marker and passes what comes before and after the
// words (data-prefix, data-suffix: the circle's short name before, the date, link and opt-out
// words "Reply STOP to stop texts" after); this counts the whole text with smsSegments from
// sms-counter.js, the browser twin of chalicelib/sms_text.py. The server shortens words
// that do not fit one message, so the preview says so instead of refusing.
(function () {
  'use strict';
  var section = document.querySelector('[data-reminder-sms]');
  if (!section || !window.smsSegments) { return; }
  var textarea = document.getElementById(section.getAttribute('data-reminder-sms'));
  var preview = document.getElementById('sms-preview');
  var count = document.getElementById('sms-full-count');
  if (!textarea || !preview || !count) { return; }
  var prefix = section.getAttribute('data-prefix');
  var suffix = section.getAttribute('data-suffix');
  var SINGLE = { 'GSM-7': 160, 'UCS-2': 70 };
  // The sentences come translated from the page (data-text-*, with {length}, {limit},
  // {encoding} and {over} to fill in); English when the page gives none.
  var TEXTS = {
    fits: '{length} of {limit} characters ({encoding}): one text message, to learners who gave a mobile number.',
    shortened: '{length} of {limit} characters ({encoding}): too long for one text message, so your words will be shortened by {over}.',
    shortenedSpecial: '{length} of {limit} characters ({encoding}): too long for one text message, so your words will be shortened until it fits (without the special character, 160 fit).',
    special: 'A special character or emoji leaves room for 70 only.'
  };
  Object.keys(TEXTS).forEach(function (key) {
    var given = section.getAttribute('data-text-' + key.replace(/[A-Z]/g, function (c) { return '-' + c.toLowerCase(); }));
    if (given) { TEXTS[key] = given; }
  });

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
    });
  }

  function update() {
    var words = textarea.value.replace(/\s+/g, ' ').trim();
    var text = words ? prefix + words + suffix : prefix + suffix.replace(/^ /, '');
    var result = window.smsSegments(text);
    var limit = SINGLE[result.encoding];
    preview.textContent = text;
    var values = { length: result.length, limit: limit, encoding: result.encoding, over: result.length - limit };
    var message;
    if (result.length > limit && result.encoding === 'UCS-2') {
      message = fill(TEXTS.shortenedSpecial, values);
    } else if (result.length > limit) {
      message = fill(TEXTS.shortened, values);
    } else {
      message = fill(TEXTS.fits, values);
    }
    if (result.encoding === 'UCS-2' && result.length <= limit) { message += ' ' + TEXTS.special; }
    count.textContent = message;
    count.classList.toggle('error', result.length > limit);
  }

  textarea.addEventListener('input', update);
  update();
}());
