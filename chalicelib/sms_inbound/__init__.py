"""Two-way SMS: what learners text to our Twilio number, and what Twilio reports about our texts.

- `keywords`: what a text means (STOP and START words, HELP, yes and no in the circle's language).
- `matching`: which learners a number belongs to (the `by_phone` index) and their current circles.
- `inbound`: the messaging webhook's work: opt out or in, help, RSVP by text, or forward.
- `forwarding`: a text that is no keyword, by email to the circle's facilitators (or support).
- `replies`: a facilitator's answer by SMS, from their page.
- `status`: Twilio's delivery status callback, recorded on the outbox item.
"""
