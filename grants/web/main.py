"""The home page: what the signed-in user can do, by role."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required
def home() -> str:
    return render_template("main/home.html")
