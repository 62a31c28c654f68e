"""JUnit XML of a model test report, with the standard library's ``xml.etree``.

One ``<testsuite>`` named after the version, one ``<testcase>`` per check (``classname`` is
``mlops.<model>.<kind>``), ``<failure>`` with the detail for a failed check, ``<skipped>`` for a
skipped one: the subset of the schema every CI reader (GitHub, GitLab, Jenkins) understands.
The elements are few and fixed, so the stdlib writes them as well as a dependency would.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from .report import FAIL, SKIP

if TYPE_CHECKING:
    from .report import ModelTestReport


def report_to_junit(report: ModelTestReport) -> str:
    """Return the report as a JUnit XML document (UTF-8 text with an XML declaration)."""
    counts = report.counts()
    attrs = {
        "tests": str(len(report.checks)),
        "failures": str(counts[FAIL]),
        "errors": "0",
        "skipped": str(counts[SKIP]),
        "time": f"{report.duration_s:.3f}",
    }
    root = ET.Element("testsuites", {"name": "mlops test", **attrs})
    stamp = dt.datetime.fromtimestamp(report.started_at, dt.timezone.utc)
    suite = ET.SubElement(
        root,
        "testsuite",
        {"name": report.ref, **attrs, "timestamp": stamp.strftime("%Y-%m-%dT%H:%M:%S")},
    )
    for check in report.checks:
        case = ET.SubElement(
            suite,
            "testcase",
            {
                "classname": f"mlops.{report.model}.{check.kind}",
                "name": check.name,
                "time": f"{check.duration_s:.3f}",
            },
        )
        if check.outcome == FAIL:
            failure = ET.SubElement(
                case, "failure", {"message": check.detail or check.name, "type": check.kind}
            )
            failure.text = f"measured: {check.measured}\nexpected: {check.expected}"
        elif check.outcome == SKIP:
            ET.SubElement(case, "skipped", {"message": check.detail})
        if check.measured:
            ET.SubElement(case, "system-out").text = f"measured: {check.measured}"
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
