"""Demo data, created through the ordinary use cases so it is audited. Idempotent."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from grants.domain.accounts import Locale, OrgKind, Role, corporate_number_check_digit
from grants.extensions import db
from grants.models import Organization, User
from grants.services import accounts
from grants.services.actors import SYSTEM

DEMO_PASSWORD = "demo-password"


def corporate_number(base12: str) -> str:
    return f"{corporate_number_check_digit(base12)}{base12}"


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
        corporate_number=corporate_number("010001000004"),
    ),
    accounts.OrganizationData(
        name="東都大学（デモ）",
        name_en="Toto University (demo)",
        kind=OrgKind.university,
        corporate_number=corporate_number("010005000005"),
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
    DemoAccount("reviewer@example.jp", "鈴木 一郎", Role.reviewer, 4),
    DemoAccount("reviewer2@example.jp", "高橋 美咲", Role.reviewer, 4),
    DemoAccount("officer@example.jp", "伊藤 健", Role.officer, 0),
    DemoAccount("officer2@example.jp", "Aiko Mori", Role.officer, 0, Locale.en),
    DemoAccount("admin@example.jp", "管理者", Role.admin, 0),
]


def load_demo() -> list[DemoAccount]:
    """Create whatever part of the demo data is missing; return the demo accounts."""
    orgs = [_organization(data) for data in ORGANIZATIONS]
    for account in ACCOUNTS:
        _account(account, orgs[account.organization_index].id)
    return ACCOUNTS


def _organization(data: accounts.OrganizationData) -> Organization:
    existing = db.session.scalar(
        select(Organization).where(Organization.corporate_number == data.corporate_number)
    )
    return existing or accounts.create_organization(SYSTEM, data)


def _account(account: DemoAccount, org_id: int) -> None:
    if db.session.scalar(select(User.id).where(User.email == account.email)) is not None:
        return
    data = accounts.UserData(
        email=account.email,
        name=account.name,
        role=account.role,
        locale=account.locale,
        organization_id=org_id,
    )
    accounts.create_user(SYSTEM, data, DEMO_PASSWORD)
