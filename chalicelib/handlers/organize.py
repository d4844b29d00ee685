"""The organizer's pages under `/organize/{team_id}/`: the week, the feedback, the team's circles."""
from chalice import Blueprint

bp = Blueprint(__name__)
