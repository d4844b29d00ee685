// Live SMS character and segment counter for <textarea data-sms-counter="ID-of-output">.
// The text learners get has words around the facilitator's (the circle's name and sender
// before, the opt-out words after: chalicelib/facilitators/messages.py `sms_frame`), given as
// data-sms-prefix and data-sms-suffix; they are counted too.
// Counts exactly as chalicelib/messaging/sms_text.py does (the server checks again on submit):
// GSM-7 160 per message / 153 per segment, extension characters count twice;
// any other character makes the text UCS-2: 70 / 67 UTF-16 units, emoji count twice.
(function () {
  'use strict';
  var BASIC = '@\u00a3$\u00a5\u00e8\u00e9\u00f9\u00ec\u00f2\u00c7\n\u00d8\u00f8\r\u00c5\u00e5\u0394_\u03a6\u0393\u039b\u03a9\u03a0\u03a8\u03a3\u0398\u039e\u00c6\u00e6\u00df\u00c9 !"#\u00a4%&\'()*+,-./0123456789:;<=>?' +
              '\u00a1ABCDEFGHIJKLMNOPQRSTUVWXYZ\u00c4\u00d6\u00d1\u00dc\u00a7\u00bfabcdefghijklmnopqrstuvwxyz\u00e4\u00f6\u00f1\u00fc\u00e0';
  var EXTENSION = '\f^{}\\[~]|\u20ac';
  var SINGLE = { 'GSM-7': 160, 'UCS-2': 70 };
  var CONCATENATED = { 'GSM-7': 153, 'UCS-2': 67 };

  function segments(text) {
    var chars = Array.from(text);   // code points, so an emoji is one character here
    var gsm = chars.every(function (ch) { return BASIC.indexOf(ch) >= 0 || EXTENSION.indexOf(ch) >= 0; });
    var encoding = gsm ? 'GSM-7' : 'UCS-2';
    var units = chars.map(function (ch) {
      if (gsm) { return EXTENSION.indexOf(ch) >= 0 ? 2 : 1; }
      return ch.codePointAt(0) > 0xFFFF ? 2 : 1;
    });
    var length = units.reduce(function (a, b) { return a + b; }, 0);
    if (length === 0) { return { encoding: encoding, length: 0, segments: 0 }; }
    if (length <= SINGLE[encoding]) { return { encoding: encoding, length: length, segments: 1 }; }
    var capacity = CONCATENATED[encoding], count = 1, used = 0;
    units.forEach(function (size) {
      if (used + size > capacity) { count += 1; used = 0; }
      used += size;
    });
    return { encoding: encoding, length: length, segments: count };
  }

  // The whole text message for the facilitator's `words`: nothing at all when there are none.
  function framed(words, prefix, suffix) {
    return words ? prefix + words + suffix : '';
  }

  // The sentences, with {length}, {limit}, {encoding}, {segments} and {max} to fill in: the page
  // gives them translated (data-text-none, -one, -other, -special, -too-long on the textarea);
  // these English ones are for a page that gives none.
  function englishTexts(maxSegments, isFramed) {
    var end = isFramed ? ", with the circle's name and the opt-out words." : '.';
    return {
      none: 'No text message will be sent.',
      one: '{length} of {limit} characters ({encoding}), {segments} message per learner' + end,
      other: '{length} of {limit} characters ({encoding}), {segments} messages per learner' + end,
      special: 'A special character or emoji halves the room per message.',
      tooLong: 'Too long: at most {max} ' + (maxSegments === 1 ? 'message.' : 'messages.')
    };
  }

  function pageTexts(textarea, maxSegments, isFramed) {
    var texts = englishTexts(maxSegments, isFramed);
    Object.keys(texts).forEach(function (key) {
      var given = textarea.getAttribute('data-text-' + key.replace(/[A-Z]/g, function (c) { return '-' + c.toLowerCase(); }));
      if (given) { texts[key] = given; }
    });
    return texts;
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
    });
  }

  function describe(result, maxSegments, texts) {
    if (result.segments === 0) { return texts.none; }
    var limit = result.segments === 1 ? SINGLE[result.encoding] : result.segments * CONCATENATED[result.encoding];
    var values = { length: result.length, limit: limit, encoding: result.encoding, segments: result.segments, max: maxSegments };
    var text = fill(result.segments === 1 ? texts.one : texts.other, values);
    if (result.encoding === 'UCS-2') { text += ' ' + fill(texts.special, values); }
    if (result.segments > maxSegments) { text += ' ' + fill(texts.tooLong, values); }
    return text;
  }

  function attach(textarea) {
    var output = document.getElementById(textarea.getAttribute('data-sms-counter'));
    if (!output) { return; }
    var maxSegments = parseInt(textarea.getAttribute('data-max-segments') || '3', 10);
    var prefix = textarea.getAttribute('data-sms-prefix') || '';
    var suffix = textarea.getAttribute('data-sms-suffix') || '';
    var texts = pageTexts(textarea, maxSegments, Boolean(prefix || suffix));
    function update() {
      var result = segments(framed(textarea.value.replace(/\r\n/g, '\n').trim(), prefix, suffix));
      output.textContent = describe(result, maxSegments, texts);
      output.classList.toggle('error', result.segments > maxSegments);
    }
    textarea.addEventListener('input', update);
    update();
  }

  window.smsSegments = segments;   // for the browser test
  window.smsFramed = framed;
  document.querySelectorAll('textarea[data-sms-counter]').forEach(attach);
}());
