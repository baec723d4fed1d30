"""The blueprint of booking's HTML pages."""

from flask import Blueprint

bp = Blueprint("pages", __name__)
