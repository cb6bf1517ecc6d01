"""Starting RuleSet documents for the two programmes in DOMAIN.md. Each call returns a new dict."""

from __future__ import annotations

from typing import Any

from grants.rules.schema import DEFAULT_MAX_EXTENSION_DAYS

Rule = dict[str, Any]


def _rule(rule_id: str, phase: str, rule_type: str, ja: str, en: str, **params: Any) -> Rule:
    return {
        "id": rule_id,
        "phase": phase,
        "type": rule_type,
        "severity": "block",
        "params": params,
        "applies_when": {},
        "relaxations": [],
        "label": {"ja": ja, "en": en},
    }


def _document(rules: list[Rule]) -> dict[str, Any]:
    return {
        "rules": rules,
        "schedule": {},  # every alert offset from the installation's configuration
        "amendments": {"max_extension_days": DEFAULT_MAX_EXTENSION_DAYS},
    }


def _tranche_gates(*, certified_vcs: bool, pro_rata: str | None) -> list[Rule]:
    gate = "tranche_gates"
    rules = [
        _rule(
            "prior_milestones",
            gate,
            "prior_milestones_approved",
            "先行マイルストーンがすべて承認済み",
            "All earlier milestones approved",
        ),
        _rule("review_quorum", gate, "review_quorum", "審査の定足数", "Review quorum", min=2),
    ]
    if certified_vcs:
        rules.append(
            _rule(
                "lead_vc_certified_at_release",
                gate,
                "certified_on",
                "支払日にリードVCが認定VCであること",
                "Lead VC certified on the release date",
                date_fact="release_date",
                who="lead",
            )
        )
    if pro_rata is not None:
        rules.append(
            _rule(
                "paid_in_pro_rata",
                gate,
                "pro_rata_paid_in",
                "累計補助額に見合うVC出資の払込",
                "VC co-investment paid in pro rata to the subsidy",
                ratio=pro_rata,
            )
        )
    rules.append(
        _rule(
            "budget_pool", gate, "within_budget_pool", "予算残額の範囲内", "Within the budget pool"
        )
    )
    return rules


def amed_certified_vc() -> dict[str, Any]:
    """AMED drug-discovery venture ecosystem programme (認定VC co-investment)."""
    lead = _rule(
        "lead_vc_min",
        "eligibility",
        "min_amount",
        "リードVCの出資額の下限",
        "Minimum lead VC investment",
        fact="lead_vc_committed",
        amount=1_000_000_000,
    )
    lead["relaxations"] = [
        {
            "when": {"stage": {"in": ["non_clinical", "discovery"]}},
            "params": {"amount": 100_000_000},
            "label": {
                "ja": "第6回公募以降: 非臨床段階は1億円",
                "en": "From call 6: ¥100M for non-clinical stages",
            },
        }
    ]
    size = _rule(
        "project_size",
        "eligibility",
        "max_amount",
        "事業規模(補助対象経費100億円程度まで)",
        "Project size (eligible cost up to about ¥10bn)",
        fact="eligible_cost",
        amount=10_000_000_000,
    )
    size["severity"] = "warn"
    eligibility = [
        _rule(
            "stage_eligible",
            "eligibility",
            "one_of",
            "対象となる開発段階",
            "Eligible development stage",
            fact="stage",
            values=["non_clinical", "phase1", "phase2", "exploratory"],
        ),
        _rule(
            "unlisted", "eligibility", "equals", "非上場", "Unlisted", fact="listed", value=False
        ),
        _rule(
            "rd_base_in_japan",
            "eligibility",
            "equals",
            "国内に研究開発拠点",
            "R&D base in Japan",
            fact="rd_base_in_japan",
            value=True,
        ),
        _rule(
            "vc_share_min",
            "eligibility",
            "min_ratio",
            "認定VCの出資が補助対象経費の1/3以上",
            "Certified VCs invest at least 1/3 of the eligible cost",
            numerator="vc_committed_total",
            denominator="eligible_cost",
            ratio="1/3",
        ),
        lead,
        size,
        _rule(
            "project_end_deadline",
            "eligibility",
            "date_before",
            "事業終了が令和13年9月末まで",
            "Project ends by 30 Sep 2031",
            fact="project_end",
            date="2031-09-30",
        ),
        _rule(
            "lead_vc_certified",
            "eligibility",
            "certified_on",
            "応募日にリードVCが認定VCであること(認定VCの出資のみ算入)",
            "Lead VC certified on the submission date (only certified VCs' money counts)",
            date_fact="submitted_on",
            who="lead",
        ),
    ]
    award = [
        _rule(
            "subsidy_rate_max",
            "award",
            "max_ratio",
            "補助率2/3以内",
            "Subsidy at most 2/3 of the eligible cost",
            numerator="requested_subsidy",
            denominator="eligible_cost",
            ratio="2/3",
        )
    ]
    return _document(eligibility + award + _tranche_gates(certified_vcs=True, pro_rata="1/2"))


def milestone_programme() -> dict[str, Any]:
    """DARPA-style milestone funding for the ministry's priority themes.

    The upfront cap is on the requested subsidy, not on award_amount: the award phase
    computes the award, so it cannot also read it.
    """
    eligibility = [
        _rule(
            "theme_eligible",
            "eligibility",
            "one_of",
            "対象領域(難病・希少疾患、AMR、感染症危機、アンメット医療機器)",
            "Priority theme (rare disease, AMR, infectious crisis, unmet-need device)",
            fact="theme",
            values=["rare_disease", "amr", "infectious_crisis", "unmet_device"],
        ),
        _rule(
            "milestones_measurable",
            "eligibility",
            "equals",
            "すべてのマイルストーンが測定可能",
            "Every milestone is measurable",
            fact="milestones_all_measurable",
            value=True,
        ),
    ]
    award = [
        _rule(
            "upfront_max",
            "award",
            "max_ratio",
            "初回トランシェは補助額の1/4以内",
            "Upfront tranche at most 1/4 of the subsidy",
            numerator="upfront_tranche",
            denominator="requested_subsidy",
            ratio="1/4",
        )
    ]
    return _document(eligibility + award + _tranche_gates(certified_vcs=False, pro_rata=None))
