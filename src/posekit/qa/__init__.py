"""Skeletal annotation QA: rule checks, annotator agreement and a review queue.

Typical use::

    from posekit.qa import load_qa_input, run_qa, write_findings, review_queue, write_queue
    data = load_qa_input("person_keypoints.json")          # COCO file, results list or posekit JSON
    result = run_qa(data)                                   # default profile
    write_findings("findings.json", result.findings)        # {"findings": [...]}
    write_queue("queue.json", review_queue(result))         # + queue.csv

Rules (:func:`list_rules`) are registered objects with an id, description, severity and parameters;
profiles (:mod:`posekit.qa.profiles`) choose and tune them in TOML. :mod:`posekit.qa.agreement` compares
annotation files of the same images; :mod:`posekit.qa.report` writes a self-contained HTML page.
"""

from .data import QAData, check_images_exist, load_qa_input
from .findings import Finding, Severity, count_by, read_findings, write_findings
from .rules import RULES, Param, QAResult, Rule, get_rule, list_rules, register_rule, run_qa
from . import rules_body, rules_motion, rules_states  # noqa: E402,F401  (register the built-in rules)
from .profiles import Profile, ReviewWeights, RuleSettings, default_profile, load_profile, render_profile_toml
from .queue import QueueItem, review_queue, write_queue, read_queue
from .agreement import AgreementResult, agreement, write_agreement
from .report import write_report

__all__ = [
    "QAData", "load_qa_input", "check_images_exist",
    "Finding", "Severity", "count_by", "read_findings", "write_findings",
    "RULES", "Param", "QAResult", "Rule", "get_rule", "list_rules", "register_rule", "run_qa",
    "Profile", "ReviewWeights", "RuleSettings", "default_profile", "load_profile", "render_profile_toml",
    "QueueItem", "review_queue", "write_queue", "read_queue",
    "AgreementResult", "agreement", "write_agreement",
    "write_report",
]  # fmt: skip
