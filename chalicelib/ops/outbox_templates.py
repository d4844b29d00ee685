"""Which feature renders which kind of outbox item: the sender's table of templates.

The sender (chalicelib.messaging) sits below the features and knows none of them; the
Lambda handlers and the CLI pass it this table. Adding a message means adding a Template
in its feature and one line here.
"""
import functools


@functools.cache
def templates():
    from chalicelib.accounts import accounts
    from chalicelib.ending import survey_job, wrapups
    from chalicelib.facilitators import circle_admin, feedback, messages, publishing
    from chalicelib.insights import publish as insights
    from chalicelib.learners import welcome
    from chalicelib.privacy import erasure, my_data
    from chalicelib.reminders import change_notices, job
    from chalicelib.teams import digest_job
    from chalicelib.teams import invitations as team_invitations
    return {
        'welcome': welcome.WELCOME,
        'new_signup': welcome.NEW_SIGNUP,
        'already_signed_up': welcome.ALREADY_SIGNED_UP,
        'message_fan_out': messages.MESSAGE_FAN_OUT,
        'message': messages.MESSAGE,
        'message_sms': messages.MESSAGE_SMS,
        'recap_fan_out': feedback.RECAP_FAN_OUT,
        'recap': feedback.RECAP,
        'account_email': accounts.ACCOUNT_EMAIL,
        'circle_published': publishing.CIRCLE_PUBLISHED,
        'circle_unpublished_fan_out': circle_admin.CIRCLE_UNPUBLISHED_FAN_OUT,
        'circle_unpublished': circle_admin.CIRCLE_UNPUBLISHED,
        'cofacilitator_invitation': circle_admin.COFACILITATOR_INVITATION,
        'reminder': job.REMINDER,
        'reminder_sms': job.REMINDER_SMS,
        'reminder_facilitator': job.REMINDER_FACILITATOR,
        'change_fan_out': change_notices.CHANGE_FAN_OUT,
        'change': change_notices.CHANGE,
        'change_sms': change_notices.CHANGE_SMS,
        'team_invitation': team_invitations.TEAM_INVITATION_EMAIL,
        'digest': digest_job.DIGEST,
        'wrapup': wrapups.WRAPUP,
        'survey_fan_out': survey_job.SURVEY_FAN_OUT,
        'survey': survey_job.SURVEY,
        'survey_sms': survey_job.SURVEY_SMS,
        'facilitator_survey': survey_job.FACILITATOR_SURVEY,
        'insights_fan_out': insights.INSIGHTS_FAN_OUT,
        'insights': insights.INSIGHTS_EMAIL,
        'insights_sms': insights.INSIGHTS_SMS,
        'my_data_link': my_data.MY_DATA_LINK,
        'my_data_link_sms': my_data.MY_DATA_LINK_SMS,
        'my_data_erased': erasure.MY_DATA_ERASED,
        'my_data_erased_sms': erasure.MY_DATA_ERASED_SMS,
    }


def sweep(now=None):
    """The outbox sweep (the `send-outbox-sweep` job) with this table of templates."""
    from chalicelib.messaging import sender
    return sender.sweep(templates(), now)
