"""The home page's dashboards: the applicant's applications and grants, reviewer and officer work.

The page uses the real today (Tokyo), so every date here is relative to it.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from grants.applications.models import Application
from grants.awards.models import Disbursement, EvidenceSubmission, Milestone
from grants.core.calendar import format_date, tokyo_today
from grants.core.identity import Locale, OrgKind, Role
from grants.core.states import ApplicationState, GrantState, MilestoneState
from grants.extensions import db
from grants.programs.models import BudgetPool
from tests.support.approvals import approve
from tests.support.factories import make_org, make_user
from tests.support.grants import GrantWorld, make_grant
from tests.support.matrix import ANONYMOUS, WHO, statuses, switch, user_for
from tests.support.web import login

TODAY = tokyo_today(datetime.now(UTC))
_GRANTS = re.compile(r'<article class="grant-summary" data-grant="([^"]+)"')
_APPLICATIONS = re.compile(r'<tr data-application="(\d+)">')


def _page(client: FlaskClient) -> str:
    response = client.get("/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _as(client: FlaskClient, role: Role, org: object = None) -> None:
    login(client, make_user(role, org, locale=Locale.en).email)  # type: ignore[arg-type]


def _grant_block(page: str, number: str) -> str:
    start = page.index(f'data-grant="{number}"')
    end = page.find("</article>", start)
    return page[start:end]


def _step(block: str, milestone: Milestone) -> str:
    found = block.index(f'data-milestone="{milestone.id}"', block.index('class="milestone-strip"'))
    start = block.rindex("<li", 0, found)
    return block[start : block.find("</li>", start)]


def _due_next(block: str) -> str:
    start = block.index('class="due-next"')
    return block[start : block.find("</dd>", start)]


def _release(world: GrantWorld, milestone: Milestone) -> None:
    pool = db.session.scalar(
        select(BudgetPool).where(
            BudgetPool.program_id == world.program.id,
            BudgetPool.fiscal_year == milestone.fiscal_year,
        )
    )
    assert pool is not None
    db.session.add(
        Disbursement(
            milestone_id=milestone.id,
            grant_id=world.grant.id,
            budget_pool_id=pool.id,
            amount=milestone.tranche_amount,
            fiscal_year=milestone.fiscal_year,
            released_by_id=make_user(Role.officer).id,
        )
    )
    db.session.commit()


def _submit(milestone: Milestone) -> None:
    milestone.round += 1
    milestone.state = MilestoneState.submitted
    db.session.add(
        EvidenceSubmission(
            milestone_id=milestone.id, round=milestone.round, narrative="Done.", measured=[]
        )
    )
    db.session.commit()


def _application(world: GrantWorld, title: str, state: ApplicationState) -> Application:
    application = Application(
        program_id=world.program.id,
        organization_id=world.grantee.id,
        title=title,
        theme="amr",
        modality="drug",
        stage="non_clinical",
        eligible_cost=3_000_000,
        indirect_cost=0,
        requested_subsidy=2_000_000,
        project_start=date(2026, 4, 1),
        project_end=date(2029, 3, 31),
        state=state,
        submitted_on=date(2026, 6, 2) if state != ApplicationState.draft else None,
    )
    db.session.add(application)
    db.session.commit()
    return application


# ---- the applicant ---------------------------------------------------------------------------


def test_permission_matrix(app: Flask, client: FlaskClient) -> None:
    """Everyone signed in has a home page (their role's dashboard); anonymous signs in first.
    Only the grantee's shows the grant."""
    world = make_grant(first_due=TODAY + timedelta(days=30))
    table = statuses(client, world, [("GET", "/")])
    assert {who: codes[("GET", "/")] for who, codes in table.items()} == {
        ANONYMOUS: 302, **dict.fromkeys(WHO, 200)
    }  # fmt: skip
    for who in ("grantee", "applicant_other_org"):  # (sign-ins are rate-limited: not all)
        switch(client, user_for(world, who))
        assert (world.grant.number in _page(client)) == (who == "grantee"), who


def test_applicant_sees_only_own_organizations_applications_and_grants(
    app: Flask, client: FlaskClient
) -> None:
    mine = make_grant(code="MINE", first_due=TODAY + timedelta(days=30))
    other = make_grant(code="THEIRS", first_due=TODAY + timedelta(days=30))
    draft = _application(mine, "Second project", ApplicationState.draft)
    hidden = _application(other, "Their secret project", ApplicationState.submitted)
    _as(client, Role.applicant, mine.grantee)
    page = _page(client)
    assert _GRANTS.findall(page) == ["MINE-0001"]
    assert sorted(_APPLICATIONS.findall(page)) == sorted(
        [str(mine.grant.application_id), str(draft.id)]
    )
    assert f'href="/applications/{draft.id}"' in page and "Second project" in page
    assert "Their secret project" not in page and "THEIRS-0001" not in page
    assert f'href="/applications/{hidden.id}"' not in page
    assert f'href="/grants/{mine.grant.id}"' in page
    assert f'href="/grants/{other.grant.id}"' not in page
    assert "Draft" in page and "Awarded" in page and "1 May 2026" in page


def test_timeline_lists_every_milestone_in_order_with_state_due_and_tranche(
    app: Flask, client: FlaskClient
) -> None:
    world = make_grant(first_due=TODAY + timedelta(days=30))
    _as(client, Role.applicant, world.grantee)
    block = _grant_block(_page(client), world.grant.number)
    steps = re.findall(r'class="strip-step [^"]*" data-milestone="(\d+)"', block)
    assert steps == [str(m.id) for m in world.milestones]
    first = _step(block, world.milestones[0])
    assert "strip-planned" in first and "Planned" in first  # state in text, not colour only
    assert "¥100,000,000" in first and f"FY{world.milestones[0].fiscal_year}" in first
    assert 'aria-current="step"' in first
    assert 'aria-current="step"' not in _step(block, world.milestones[1])
    assert "Overdue" not in block
    assert 'aria-label="Milestones of MS-TEST-0001"' in block


def _since(day: date, days: int) -> str:
    """The shared overdue marker's words in English (templates/_macros/milestones.html)."""
    unit = "day" if days == 1 else "days"
    return f"Overdue since {format_date(day, 'en')} ({days} {unit})"


def test_overdue_milestone_is_marked_with_its_date_and_is_due_next(
    app: Flask, client: FlaskClient
) -> None:
    world = make_grant(first_due=TODAY - timedelta(days=10))
    world.milestones[0].overdue_since = TODAY - timedelta(days=2)  # the scan's flag
    db.session.commit()
    _as(client, Role.applicant, world.grantee)
    block = _grant_block(_page(client), world.grant.number)
    first, second = _step(block, world.milestones[0]), _step(block, world.milestones[1])
    assert "is-overdue" in first and _since(TODAY - timedelta(days=2), 3) in first
    assert f'data-overdue-since="{(TODAY - timedelta(days=2)).isoformat()}"' in first
    assert "is-overdue" not in second and "Overdue" not in second
    due_next = _due_next(block)
    assert f'data-milestone="{world.milestones[0].id}"' in due_next
    assert "Milestone 1" in due_next and _since(TODAY - timedelta(days=2), 3) in due_next


def test_past_due_within_the_grace_period_is_not_overdue(app: Flask, client: FlaskClient) -> None:
    world = make_grant(first_due=TODAY - timedelta(days=3))  # not flagged (yet) by the scan
    _as(client, Role.applicant, world.grantee)
    block = _grant_block(_page(client), world.grant.number)
    assert "is-overdue" not in block and "Overdue" not in block


def test_changes_requested_flagged_is_overdue_but_submitted_is_not(
    app: Flask, client: FlaskClient
) -> None:
    world = make_grant(first_due=TODAY - timedelta(days=1))
    _submit(world.milestones[0])
    _as(client, Role.applicant, world.grantee)
    block = _grant_block(_page(client), world.grant.number)
    assert "is-overdue" not in _step(block, world.milestones[0])
    assert "Evidence submitted, awaiting review" in _due_next(block)
    world.milestones[0].state = MilestoneState.changes_requested
    db.session.commit()
    block = _grant_block(_page(client), world.grant.number)
    assert "is-overdue" not in _step(block, world.milestones[0])  # until the scan flags it
    world.milestones[0].overdue_since = TODAY
    db.session.commit()
    block = _grant_block(_page(client), world.grant.number)
    assert _since(TODAY, 1) in _step(block, world.milestones[0])
    assert "Changes requested" in _step(block, world.milestones[0])


def test_flagged_by_the_scan_is_overdue_even_before_the_due_date(
    app: Flask, client: FlaskClient
) -> None:
    world = make_grant(first_due=TODAY + timedelta(days=3))
    world.milestones[1].overdue_since = TODAY - timedelta(days=1)
    db.session.commit()
    _as(client, Role.applicant, world.grantee)
    block = _grant_block(_page(client), world.grant.number)
    flagged = _step(block, world.milestones[1])
    assert "is-overdue" in flagged and _since(TODAY - timedelta(days=1), 2) in flagged
    assert "3 days left" in _due_next(block)


def test_the_marker_in_japanese_shows_the_japanese_date(app: Flask, client: FlaskClient) -> None:
    world = make_grant(first_due=TODAY - timedelta(days=20))
    since = TODAY - timedelta(days=12)
    world.milestones[0].overdue_since = since
    db.session.commit()
    login(client, world.applicant.email)  # ja
    block = _grant_block(_page(client), world.grant.number)
    marker = _step(block, world.milestones[0])
    assert f"{since.year}年{since.month}月{since.day}日" in marker and "（13 日）" in marker


def test_due_next_skips_decided_milestones_and_counts_days_left(
    app: Flask, client: FlaskClient
) -> None:
    world = make_grant(first_due=TODAY - timedelta(days=30))
    approve(world, world.milestones[0])
    _release(world, world.milestones[0])
    world.milestones[1].due_date = TODAY + timedelta(days=12)
    db.session.commit()
    _as(client, Role.applicant, world.grantee)
    block = _grant_block(_page(client), world.grant.number)
    due_next = _due_next(block)
    assert f'data-milestone="{world.milestones[1].id}"' in due_next
    assert "12 days left" in due_next and "Milestone 2" in due_next
    first = _step(block, world.milestones[0])
    assert "Approved" in first and "Tranche released" in first and "is-overdue" not in first
    assert 'data-released="100000000"' in block and "¥100,000,000" in block
    assert 'data-remaining="500000000"' in block and "¥500,000,000" in block


def _evidence_links(html: str) -> list[str]:
    return re.findall(r'href="/milestones/(\d+)/evidence"', html)


def test_the_milestone_taking_evidence_links_to_the_form(app: Flask, client: FlaskClient) -> None:
    world = make_grant(first_due=TODAY + timedelta(days=20))
    first, second, third = world.milestones
    _as(client, Role.applicant, world.grantee)
    block = _grant_block(_page(client), world.grant.number)
    assert _evidence_links(_due_next(block)) == [str(first.id)]
    assert "Submit evidence" in _due_next(block)
    assert _evidence_links(_step(block, first)) == [str(first.id)]
    assert _evidence_links(_step(block, second)) == _evidence_links(_step(block, third)) == []
    # submitted: nothing takes evidence until it is decided
    _submit(first)
    assert _evidence_links(_grant_block(_page(client), world.grant.number)) == []
    # changes requested: the same milestone takes a new round
    first.state = MilestoneState.changes_requested
    db.session.commit()
    block = _grant_block(_page(client), world.grant.number)
    assert _evidence_links(block) == [str(first.id)] * 2


def test_after_a_no_go_or_on_a_suspended_grant_nothing_links_to_the_form(
    app: Flask, client: FlaskClient
) -> None:
    world = make_grant(first_due=TODAY - timedelta(days=10))
    world.milestones[0].state = MilestoneState.rejected
    db.session.commit()
    _as(client, Role.applicant, world.grantee)
    block = _grant_block(_page(client), world.grant.number)
    assert f'data-milestone="{world.milestones[1].id}"' in _due_next(block)  # due next ...
    assert _evidence_links(block) == []  # ... but it waits for the rejected milestone
    world.milestones[0].state = MilestoneState.approved
    world.grant.state = GrantState.suspended
    db.session.commit()
    assert _evidence_links(_grant_block(_page(client), world.grant.number)) == []


def test_due_today_and_a_grant_without_open_milestones(app: Flask, client: FlaskClient) -> None:
    world = make_grant(tranches=(1_000_000,), first_due=TODAY)
    _as(client, Role.applicant, world.grantee)
    assert "Due today" in _due_next(_grant_block(_page(client), world.grant.number))
    approve(world, world.milestones[0])
    due_next = _due_next(_grant_block(_page(client), world.grant.number))
    assert "No open milestone" in due_next


def test_applicant_without_anything_yet(app: Flask, client: FlaskClient) -> None:
    _as(client, Role.applicant, make_org(OrgKind.startup))
    page = _page(client)
    assert "Your organization has no applications yet." in page
    assert "Your organization has no grants yet." in page
    login(client, make_user(Role.applicant, locale=Locale.en).email)  # no organization
    assert "Your organization has no grants yet." in _page(client)


def test_japanese_dates_money_and_fiscal_years(app: Flask, client: FlaskClient) -> None:
    world = make_grant(first_due=date(2026, 9, 30))
    login(client, world.applicant.email)  # locale ja
    block = _grant_block(_page(client), world.grant.number)
    assert "2026年9月30日" in block and "1億円" in block and "2026年度" in block
    # the award amount is labelled as on the grant page, not as the application state
    assert "<dt>採択額</dt>" in block and "<dt>採択</dt>" not in block


# ---- reviewers, officers, admins ---------------------------------------------------------------


def test_reviewer_home_counts_the_queue(app: Flask, client: FlaskClient) -> None:
    world = make_grant(first_due=TODAY + timedelta(days=20))
    reviewer = world.reviewers[0]
    reviewer.locale = Locale.en
    db.session.commit()
    login(client, reviewer.email)
    page = _page(client)
    assert 'data-count="0"' in page and "Nothing awaits your review." in page
    assert 'href="/reviewer/queue"' in page
    _submit(world.milestones[0])
    _submit(world.milestones[1])
    page = _page(client)
    assert 'data-count="2"' in page and "2 milestones await your decision." in page
    assert "My grants" not in page and "Work waiting" not in page


def test_officer_home_summarises_waiting_work(app: Flask, client: FlaskClient) -> None:
    world = make_grant(first_due=TODAY - timedelta(days=5))
    _application(world, "To screen", ApplicationState.submitted)
    _application(world, "To decide", ApplicationState.screened_eligible)
    _application(world, "Still a draft", ApplicationState.draft)
    approve(world, world.milestones[1])
    world.milestones[2].overdue_since = TODAY
    db.session.commit()
    _as(client, Role.officer)
    page = _page(client)

    def count(key: str) -> str:
        row = page[page.index(f'data-summary="{key}"') :]
        return re.search(r'<td class="num">(\d+)</td>', row).group(1)  # type: ignore[union-attr]

    assert (count("screening"), count("decision")) == ("1", "1")
    assert count("release") == "1"
    # milestone 3 flagged by the scan; milestone 1, past due but not flagged, is in its grace
    assert count("overdue") == "1"
    assert 'href="/officer/screening"' in page and 'href="/officer/portfolio"' in page
    assert 'href="/officer/milestones/awaiting-release"' in page
    _release(world, world.milestones[1])
    assert count("release") == "1"  # the old page; a fresh one:
    page = _page(client)
    assert count("release") == "0"
    assert "My grants" not in page and "Review queue" not in page.split("</nav>")[1]


def test_admin_home_has_administration_only(app: Flask, client: FlaskClient) -> None:
    make_grant(first_due=TODAY - timedelta(days=5))
    _as(client, Role.admin)
    page = _page(client)
    assert "Administration" in page and 'href="/admin/users"' in page
    assert "Work waiting" not in page and "My grants" not in page
