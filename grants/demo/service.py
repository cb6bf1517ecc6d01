"""Demo data, created through the ordinary use cases so it is audited. Idempotent.

Organisations and one account per role, then two programmes with a believable history
laid out around `today` (see demo_amed and demo_milestones): what the story says happened
on an earlier day carries that day's timestamp (demo_kit.backdate), and one milestone scan
for `today` flags what is overdue and creates the alerts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from grants.accounts import service as accounts
from grants.accounts.credentials.rules import PasswordPolicy
from grants.accounts.credentials.service import revoke_links
from grants.accounts.models import Organization, User
from grants.accounts.second_factor import service as second_factor
from grants.accounts.second_factor.rules import SecondFactorPolicy, SecretBox
from grants.alerts.scan import service as alerts_scan
from grants.applications.models import Application
from grants.awards.models import Disbursement, Grant, Milestone
from grants.core import audit
from grants.core.actors import SYSTEM
from grants.core.db import use_case
from grants.core.identity import Locale, OrgKind, Role
from grants.core.models import utcnow
from grants.demo import amed as demo_amed
from grants.demo import milestones as demo_milestones
from grants.demo.kit import (
    AOZORA,
    HIKARI,
    HOKUTO,
    KITAKAZE,
    MINATO,
    Cast,
    corporate_number,
    ensure_certified_vcs,
)
from grants.extensions import db
from grants.programs.models import Program

DEMO_PASSWORD = "demo-password"
# The authenticator-app key of the demo accounts whose role needs a second factor: public,
# like the password (README, "Demo accounts"), so that anyone can sign in to the demo.
DEMO_TOTP_SECRET = "GRANTSDEMOTOTPSECRETFORDEMOONLY2"


ORGANIZATIONS = [
    accounts.OrganizationData(
        name="医療スタートアップ支援機構（デモ）",
        name_en="Healthcare Startup Support Agency (demo)",
        kind=OrgKind.other,
        corporate_number=corporate_number("010005000001"),
    ),
    accounts.OrganizationData(
        name="株式会社サクラバイオ（デモ）",
        name_en="Sakura Bio K.K. (demo)",
        kind=OrgKind.startup,
        corporate_number=corporate_number("010001000002"),
    ),
    accounts.OrganizationData(
        name="メディデバイス株式会社（デモ）",
        name_en="MediDevice Inc. (demo)",
        kind=OrgKind.startup,
        corporate_number=corporate_number("010001000003"),
    ),
    accounts.OrganizationData(
        name="ひかりベンチャーキャピタル株式会社（デモ）",
        name_en="Hikari Venture Capital (demo)",
        kind=OrgKind.vc,
        corporate_number=HIKARI,
    ),
    accounts.OrganizationData(
        name="東都大学（デモ）",
        name_en="Toto University (demo)",
        kind=OrgKind.university,
        corporate_number=corporate_number("010005000005"),
    ),
    accounts.OrganizationData(
        name="株式会社ミライセラピューティクス（デモ）",
        name_en="Mirai Therapeutics K.K. (demo)",
        kind=OrgKind.startup,
        corporate_number=corporate_number("010001000006"),
    ),
    accounts.OrganizationData(
        name="あおぞらバイオベンチャーズ株式会社（デモ）",
        name_en="Aozora Bio Ventures (demo)",
        kind=OrgKind.vc,
        corporate_number=AOZORA,
    ),
    accounts.OrganizationData(
        name="みなとライフサイエンス・パートナーズ株式会社（デモ）",
        name_en="Minato Life Science Partners (demo)",
        kind=OrgKind.vc,
        corporate_number=MINATO,
    ),
    accounts.OrganizationData(
        name="きたかぜキャピタル株式会社（デモ）",
        name_en="Kitakaze Capital (demo)",
        kind=OrgKind.vc,
        corporate_number=KITAKAZE,
    ),
    accounts.OrganizationData(
        name="北斗製薬株式会社（デモ）",
        name_en="Hokuto Pharmaceutical (demo)",
        kind=OrgKind.company,
        corporate_number=HOKUTO,
    ),
]


@dataclass(frozen=True)
class DemoAccount:
    email: str
    name: str
    role: Role
    organization_index: int
    locale: Locale = Locale.ja


ACCOUNTS = [
    DemoAccount("applicant@example.jp", "佐藤 花子", Role.applicant, 1),
    DemoAccount("applicant2@example.jp", "Ken Tanaka", Role.applicant, 2, Locale.en),
    DemoAccount("applicant3@example.jp", "山本 大輔", Role.applicant, 5),
    DemoAccount("reviewer@example.jp", "鈴木 一郎", Role.reviewer, 4),
    DemoAccount("reviewer2@example.jp", "高橋 美咲", Role.reviewer, 4),
    DemoAccount("officer@example.jp", "伊藤 健", Role.officer, 0),
    DemoAccount("officer2@example.jp", "Aiko Mori", Role.officer, 0, Locale.en),
    DemoAccount("admin@example.jp", "管理者", Role.admin, 0),
]

PROGRAM_CODES = (demo_amed.CODE, demo_milestones.CODE)


@dataclass(frozen=True)
class DemoSummary:
    accounts: list[DemoAccount]
    lines: list[str]  # what the demo programmes hold now, for the command line


def load_demo(today: date, settings: Mapping[str, Any]) -> DemoSummary:
    """Create whatever part of the demo data is missing, laid out around `today`.

    `settings`: the installation's PASSWORD_HASH_METHOD and INVITATION_HOURS, for the
    accounts, its UPLOAD_FOLDER, for the evidence files, and its ALERT_* settings, for the
    scan."""
    orgs = [_organization(data) for data in ORGANIZATIONS]
    users = {
        account.email: _account(account, orgs[account.organization_index].id, settings)
        for account in ACCOUNTS
    }
    _second_factors(list(users.values()), settings)
    cast = Cast(
        admin=users["admin@example.jp"],
        officer=users["officer@example.jp"],
        officer2=users["officer2@example.jp"],
        reviewers=(users["reviewer@example.jp"], users["reviewer2@example.jp"]),
        applicants={a.email: users[a.email] for a in ACCOUNTS if a.role == Role.applicant},
        orgs={org.corporate_number or "": org for org in orgs},
    )
    ensure_certified_vcs(cast, today)
    demo_amed.load(cast, today)
    demo_milestones.load(cast, today, Path(settings["UPLOAD_FOLDER"]))
    # One milestone scan for the demo's day, as the scheduler would run it, so that the
    # overdue flags and the alerts exist at once (idempotent: a rerun adds nothing).
    alerts_scan.scan(SYSTEM, today, settings)
    return DemoSummary(ACCOUNTS, summary())


def _second_factors(users: list[User], settings: Mapping[str, Any]) -> None:
    """The demo key as the authenticator app of every account whose role needs one."""
    policy = SecondFactorPolicy.of(settings)
    box = SecretBox.of(settings)
    for user in users:
        if policy.required_for(user.role):
            second_factor.enrol_demo_totp(SYSTEM, user, DEMO_TOTP_SECRET, box, utcnow())


def needs_second_factor(account: DemoAccount, settings: Mapping[str, Any]) -> bool:
    return SecondFactorPolicy.of(settings).required_for(account.role)


def summary() -> list[str]:
    """One line per demo programme: applications and milestones by state, money released."""
    lines = []
    for program in db.session.scalars(select(Program).where(Program.code.in_(PROGRAM_CODES))):
        apps = Counter(
            str(state)
            for state in db.session.scalars(
                select(Application.state).where(Application.program_id == program.id)
            )
        )
        milestones = db.session.execute(
            select(Milestone.state, Milestone.overdue_since)
            .join(Grant, Grant.id == Milestone.grant_id)
            .where(Grant.program_id == program.id)
        ).all()
        states = Counter(str(state) for state, _since in milestones)
        overdue = sum(1 for _state, since in milestones if since is not None)  # the scan's flag
        released = db.session.scalar(
            select(func.coalesce(func.sum(Disbursement.amount), 0))
            .join(Grant, Grant.id == Disbursement.grant_id)
            .where(Grant.program_id == program.id)
        )
        grants = db.session.scalar(
            select(func.count()).select_from(Grant).where(Grant.program_id == program.id)
        )
        lines.append(
            f"{program.code}: {sum(apps.values())} applications ({_counts(apps)}); "
            f"{grants} grants; milestones: {_counts(states) or 'none'}; "
            f"{overdue} overdue; released {released:,} yen"
        )
    return lines


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{key} {value}" for key, value in sorted(counter.items()))


def _organization(data: accounts.OrganizationData) -> Organization:
    existing = db.session.scalar(
        select(Organization).where(Organization.corporate_number == data.corporate_number)
    )
    return existing or accounts.create_organization(SYSTEM, data)


def _account(account: DemoAccount, org_id: int, settings: Mapping[str, Any]) -> User:
    existing = db.session.scalar(select(User).where(User.email == account.email))
    if existing is not None:
        return existing
    data = accounts.UserData(
        email=account.email,
        name=account.name,
        role=account.role,
        locale=account.locale,
        organization_id=org_id,
    )
    user, _invitation = accounts.create_user(SYSTEM, data, now=utcnow(), settings=settings)
    set_demo_password(user, settings)
    return user


@use_case
def set_demo_password(user: User, settings: Mapping[str, Any]) -> None:
    """DEMO ONLY: give a demo account the README's known password, DEMO_PASSWORD.

    Real accounts set their own passwords through their invitation or a reset link, under
    the strength rules (accounts.credentials), and nobody else ever chooses one. The demo
    needs passwords everyone knows, which those rules refuse (`demo-password` is easy to
    guess), so only the demo data sets them, here, for the accounts it has just made; the
    change is audited like any other, and the invitation link, unused, is ended.
    `settings`: PASSWORD_HASH_METHOD."""
    method = PasswordPolicy.of(settings).hash_method
    user.password_hash = generate_password_hash(DEMO_PASSWORD, method=method)
    revoked = revoke_links(user, utcnow())
    audit.record(SYSTEM, "user.demo_password", user, after={"links_revoked": revoked})
    db.session.commit()
