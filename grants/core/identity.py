"""Who people and organisations are: roles, organisation kinds, languages."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    applicant = "applicant"
    reviewer = "reviewer"
    officer = "officer"
    admin = "admin"


class OrgKind(StrEnum):
    startup = "startup"
    university = "university"
    company = "company"
    vc = "vc"
    other = "other"


class Locale(StrEnum):
    ja = "ja"
    en = "en"
