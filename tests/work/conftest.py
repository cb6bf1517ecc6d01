"""The office every My work test starts from."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.support.work import Office, one_of_each


@pytest.fixture
def office(app: Flask) -> Office:
    return one_of_each()
