"""The notices a grantee receives, as PDF files in Japanese (or English on request): the
notice of the grant decision (交付決定通知書) and the notice of the final amount of a period
(額の確定通知書). The grantee and the officers download them; each download is an audited
read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from grants.accounts.models import User
from grants.awards.models import Grant, Settlement
from grants.awards.queries import grant_subject, visible_grant
from grants.core import audit
from grants.core.calendar import fiscal_year_label, format_date
from grants.core.db import use_case
from grants.core.errors import NotAllowed, NotFound
from grants.core.i18n import translate
from grants.core.money import format_yen
from grants.core.permissions import Action, decide
from grants.core.problems import N_, Problem
from grants.extensions import db
from grants.rules.settlement import ExcessMethod, PeriodKind, ratio_text
from grants.settlement.documents.pdf import Notice, render
from grants.settlement.queries import grant_periods, rules_of
from grants.settlement.rules import find_period, label


@dataclass(frozen=True)
class Document:
    filename: str
    data: bytes


@use_case
def decision_notice(actor: User, grant_id: int, locale: str, today: date) -> Document:
    """The notice of the grant decision: the amount, the period, the conditions."""
    grant = _readable(actor, grant_id)
    rules = rules_of(grant)
    say = _say(locale)
    application = grant.application
    notice = Notice(
        title=say(N_("Notice of the grant decision")),
        number=f"{grant.number}",
        issued=format_date(today, locale),
        addressee=_addressee(grant, locale),
        issuer=grant.program.name(locale),
        body=say(
            N_(
                "We have decided to grant the subsidy applied for on %(day)s as follows, "
                "under the conditions below.",
                day=format_date(application.submitted_on or today, locale),
            )
        ),
        items=[
            (say(N_("Project")), application.title),
            (say(N_("Amount of the grant decision")), format_yen(grant.award_amount, locale)),
            (
                say(N_("Project period")),
                f"{format_date(application.project_start, locale)} – "
                f"{format_date(application.project_end, locale)}",
            ),
            (say(N_("Subsidy rate")), ratio_text(rules.rate)),
            (
                say(N_("Indirect cost")),
                say(
                    N_(
                        "Up to %(cap)s of the direct cost",
                        cap=ratio_text(rules.cap_for(str(grant.organization.kind))),
                    )
                ),
            ),
            (say(N_("Payment")), label(rules.payment, locale)),
            (
                say(N_("Results report")),
                say(
                    N_(
                        "A results report of actual costs for each %(period)s, within %(days)d "
                        "days after it ends; the final amount follows the inspection.",
                        period=_period_word(rules.period),
                        days=rules.report_due_days,
                    )
                ),
            ),
        ],
        tables=[(say(N_("Milestones and tranches")), _milestone_rows(grant, locale))],
        subject=say(N_("Notice of the grant decision")),
        lang=locale,
    )
    _read(actor, grant, "decision", locale)
    return Document(f"{grant.number}-decision-{locale}.pdf", render(notice))


@use_case
def final_notice(actor: User, settlement_id: int, locale: str, today: date) -> Document:
    """The notice of the final amount of one period, with the figures that make it."""
    settlement = db.session.get(Settlement, settlement_id)
    if settlement is None:
        raise NotFound(N_("Not found."))
    grant = _readable(actor, settlement.grant_id)
    say = _say(locale)
    period = find_period(grant_periods(grant), settlement.period)
    period_name = period.name(locale) if period is not None else settlement.period
    items = [
        (say(N_("Project")), grant.application.title),
        (say(N_("Period")), period_name),
        (say(N_("Decided for the period")), format_yen(settlement.decided, locale)),
        (say(N_("Final amount")), format_yen(settlement.final_amount, locale)),
        (say(N_("Date of the final amount")), format_date(settlement.confirmed_at.date(), locale)),
    ]
    if settlement.excess:
        items.append((say(N_("Advance paid")), format_yen(settlement.advance_paid, locale)))
        method = _excess_words(settlement, locale)
        items.append((say(N_("Advance above the final amount")), method))
    figures = [[say(N_("Explanation")), say(N_("Amount"))]] + [
        [figure["message"][locale], format_yen(int(figure["amount"]), locale)]
        for figure in settlement.trace["figures"]
    ]
    notice = Notice(
        title=say(N_("Notice of the final amount")),
        number=f"{grant.number} / {settlement.period}",
        issued=format_date(today, locale),
        addressee=_addressee(grant, locale),
        issuer=grant.program.name(locale),
        body=say(
            N_(
                "Having inspected the results report for %(period)s, we have fixed the amount "
                "of the subsidy as follows.",
                period=period_name,
            )
        ),
        items=items,
        tables=[(say(N_("How the final amount was computed")), figures)],
        subject=say(N_("Notice of the final amount")),
        lang=locale,
    )
    _read(actor, grant, "final_amount", locale, settlement.period)
    return Document(f"{grant.number}-{settlement.period}-final-{locale}.pdf", render(notice))


def _readable(actor: User, grant_id: int) -> Grant:
    """The grant, for its grantee and the officers (reviewers do not receive notices)."""
    grant, _subject = visible_grant(actor, grant_id)
    subject = grant_subject(actor, grant)
    grantee = decide(Action.file_results_report, subject).allowed
    if not (grantee or decide(Action.inspect_results_report, subject).allowed):
        raise NotAllowed(N_("Your role does not allow this."))
    return grant


def _read(actor: User, grant: Grant, document: str, locale: str, period: str = "") -> None:
    after = {"document": document, "lang": locale} | ({"period": period} if period else {})
    audit.record(actor, "settlement.notice_read", grant, after=after)
    db.session.commit()


def _say(locale: str) -> Callable[[Problem], str]:
    return lambda problem: str(translate(problem, locale))


def _addressee(grant: Grant, locale: str) -> str:
    name = grant.organization.display_name(locale)
    return f"{name} 御中" if locale == "ja" else f"To: {name}"


def _period_word(kind: PeriodKind) -> Problem:
    return N_("fiscal year") if kind is PeriodKind.fiscal_year else N_("milestone")


def _excess_words(settlement: Settlement, locale: str) -> str:
    amount = format_yen(settlement.excess, locale)
    if settlement.excess_method == ExcessMethod.set_off:
        return f"{amount} · {label(ExcessMethod.set_off, locale)}"
    due = format_date(settlement.return_due_on, locale) if settlement.return_due_on else ""
    words = translate(N_("to be returned by %(day)s", day=due), locale)
    return f"{amount} · {label(ExcessMethod.returned, locale)} ({words})"


def _milestone_rows(grant: Grant, locale: str) -> list[list[str]]:
    say = _say(locale)
    header = [
        say(N_("Milestone")),
        say(N_("Due date")),
        say(N_("Tranche")),
        say(N_("Fiscal year")),
    ]
    rows = [
        [
            f"{m.sequence}. {m.title}",
            format_date(m.due_date, locale),
            format_yen(m.tranche_amount, locale),
            fiscal_year_label(m.fiscal_year, locale),
        ]
        for m in grant.milestones
    ]
    return [header, *rows]
