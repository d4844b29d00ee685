"""The end of a circle: wrap-up prompts after each meeting (`wrapups`), the learner and
facilitator surveys (`surveys`) sent when the last meeting ends, with one reminder
(`survey_job`), and the due items that follow the meetings (`schedule`). The insights report
(chalicelib.insights) takes the circle's closing from the `INSIGHTS` queue."""
