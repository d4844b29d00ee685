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

  function update() {
    var words = textarea.value.replace(/\s+/g, ' ').trim();
    var text = words ? prefix + words + suffix : prefix + suffix.replace(/^ /, '');
    var result = window.smsSegments(text);
    var limit = SINGLE[result.encoding];
    preview.textContent = text;
    var message = result.length + ' of ' + limit + ' characters (' + result.encoding + ')';
    if (result.length > limit && result.encoding === 'UCS-2') {
      message += ': too long for one text message, so your words will be shortened until it fits ' +
                 '(without the special character, 160 fit).';
    } else if (result.length > limit) {
      message += ': too long for one text message, so your words will be shortened by ' +
                 (result.length - limit) + '.';
    } else {
      message += ': one text message, to learners who gave a mobile number.';
    }
    if (result.encoding === 'UCS-2' && result.length <= limit) { message += ' A special character or emoji leaves room for 70 only.'; }
    count.textContent = message;
    count.classList.toggle('error', result.length > limit);
  }

  textarea.addEventListener('input', update);
  update();
}());
