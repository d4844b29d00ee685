"""The learning circle insights report: its public page, generating it early, and the hourly job."""
from chalice import Blueprint

bp = Blueprint(__name__)
