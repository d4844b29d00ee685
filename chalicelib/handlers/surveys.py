"""The end-of-circle surveys (learners by signed link, facilitators signed in) and the jobs
that send wrap-up prompts and surveys."""
from chalice import Blueprint

bp = Blueprint(__name__)
