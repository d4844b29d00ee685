"""The Monday digest's web version and its one-click unsubscribe."""
from chalice import Blueprint

bp = Blueprint(__name__)
