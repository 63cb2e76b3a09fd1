"""Run parliament and cloudsplaining over IAM policy documents.

    .venv/bin/python tests/lint/lint_policies.py < input.json > findings.json

Input (stdin), one JSON object:

    {"documents": {"<name>": <policy document>, ...}}

Output (stdout), one JSON object, findings sorted by (document, tool, id,
detail), the same bytes for the same input:

    {"findings": [{"document": "<name>", "tool": "parliament" | "cloudsplaining",
                   "id": "<stable id>", "detail": "<short text>"}, ...]}

parliament (its Python API, `analyze_policy_string`): every finding, with
the bundled community auditors on and private auditors off. `id` is the
issue key (RESOURCE_STAR, UNKNOWN_ACTION, ...); `detail` is
"[SEVERITY] Statement[i] (Sid): detail; what the location names"
(or "policy" for findings about the whole document).

cloudsplaining (its Python API, `PolicyDocument` + `PolicyFinding`, as
`cloudsplaining scan-policy-file -aR` with the default exclusions): the
document is analysed as written, so actions scoped to resource ARNs or
conditions are flagged too. `id` is "<risk category>:<action>" for
DataExfiltration, ResourceExposure, CredentialsExposure,
InfrastructureModification, "ServiceWildcard:<service>", and
"PrivilegeEscalation:<method>". cloudsplaining judges identity policies
only: a document any of whose statements has a Principal or NotPrincipal
(a trust or resource policy) is left to parliament.

Both tools run offline from the data bundled in their pinned packages
(tests/lint/requirements.txt); policy_sentry's override in
~/.policy_sentry is ignored. A tool that fails on a document reports
`id` "ERROR". Exit status 0 whenever the output was written.
"""

import contextlib
import json
import os
import shutil
import sys
import tempfile

# policy_sentry (cloudsplaining's database) prefers ~/.policy_sentry/
# iam-definition.json, a copy fetched from the network, over the one in the
# pinned package; point HOME away so the results depend on the pins only.
_HOME = tempfile.mkdtemp(prefix="hoist-lint-home-")
os.environ["HOME"] = _HOME
os.environ.pop("CUSTOM_ACCESS_OVERRIDES_FILE", None)

import logging  # noqa: E402

logging.disable(logging.CRITICAL)

with contextlib.redirect_stdout(sys.stderr):
    import jsoncfg  # noqa: E402
    import parliament  # noqa: E402
    from cloudsplaining.output.policy_finding import PolicyFinding  # noqa: E402
    from cloudsplaining.scan.policy_document import PolicyDocument  # noqa: E402
    from cloudsplaining.shared.constants import DEFAULT_EXCLUSIONS_CONFIG, ISSUE_SEVERITY  # noqa: E402
    from cloudsplaining.shared.exclusions import Exclusions  # noqa: E402

shutil.rmtree(_HOME, ignore_errors=True)

_COMMUNITY_CONFIG = os.path.join(os.path.dirname(parliament.__file__), "community_auditors", "config_override.yaml")
parliament.override_config(_COMMUNITY_CONFIG)

CLOUDSPLAINING_CATEGORIES = (
    "DataExfiltration",
    "ResourceExposure",
    "CredentialsExposure",
    "InfrastructureModification",
    "ServiceWildcard",
)


def _statements(document):
    if not isinstance(document, dict):
        return []
    s = document.get("Statement")
    if isinstance(s, list):
        return s
    return [s] if isinstance(s, dict) else []


def _policy_text(document):
    """The document as JSON with each statement on its own line (line
    i + 2 holds statement i), so parliament's line numbers name statements."""
    if not isinstance(document, dict) or not isinstance(document.get("Statement"), (list, dict)):
        return json.dumps(document)
    head = {k: v for k, v in document.items() if k != "Statement"}
    statements = document["Statement"]
    lines = [json.dumps(head)[:-1] + (", " if head else "") + '"Statement": ' + ("[" if isinstance(statements, list) else "")]
    if isinstance(statements, list):
        lines += [json.dumps(s) + ("," if i + 1 < len(statements) else "") for i, s in enumerate(statements)]
        lines.append("]}")
    else:
        lines += [json.dumps(statements), "}"]
    return "\n".join(lines)


def _text(value):
    """Deterministic short text for a finding's detail or location value."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return " ".join(f"{k}={_text(v)}" for k, v in sorted(value.items()))
    if isinstance(value, (list, tuple, set)):
        items = [_text(v) for v in value]
        return ", ".join(sorted(items) if isinstance(value, set) or all(isinstance(v, str) for v in value) else items)
    try:
        return json.dumps(value, sort_keys=True)
    except TypeError:
        return str(value)


_POSITION_KEYS = {"line", "lineno", "column", "filepath"}


def _where(location, statements):
    """(which statement, other location facts) for a parliament location."""
    line, facts = None, []
    if isinstance(location, dict):
        line = location.get("line", location.get("lineno"))
        facts = [
            _text(v) if k == "string" else f"{k}: {_text(v)}"
            for k, v in sorted(location.items())
            if k not in _POSITION_KEYS and v not in (None, "", [], {})
        ]
    elif location is not None:
        with contextlib.suppress(Exception):
            line = jsoncfg.node_location(location)[0]
    if isinstance(line, int) and 2 <= line < len(statements) + 2:
        i = line - 2
        sid = statements[i].get("Sid") if isinstance(statements[i], dict) else None
        return f"Statement[{i}]" + (f" ({sid})" if sid else ""), facts
    return "policy", facts


def run_parliament(document):
    statements = _statements(document)
    policy = parliament.analyze_policy_string(
        _policy_text(document), ignore_private_auditors=True, include_community_auditors=True
    )
    out = []
    for finding in policy.findings:
        finding = parliament.enhance_finding(finding)
        where, facts = _where(finding.location, statements)
        text = _text(finding.detail) if finding.detail not in (None, "", [], {}) else finding.title
        parts = [p for p in [text, *facts] if p]
        severity = f"[{finding.severity}] " if finding.severity else ""
        out.append((finding.issue, f"{severity}{where}: " + "; ".join(dict.fromkeys(parts))))
    return out


def _is_resource_policy(document):
    return any(isinstance(s, dict) and ("Principal" in s or "NotPrincipal" in s) for s in _statements(document))


def run_cloudsplaining(document):
    if not isinstance(document, dict):
        raise ValueError("the document is not a JSON object")
    if _is_resource_policy(document):
        return []
    if not isinstance(document.get("Statement"), list):
        document = {**document, "Statement": _statements(document)}
    policy = PolicyDocument(
        document,
        exclusions=Exclusions(DEFAULT_EXCLUSIONS_CONFIG),
        flag_conditional_statements=True,
        flag_resource_arn_statements=True,
    )
    results = PolicyFinding(policy, Exclusions(DEFAULT_EXCLUSIONS_CONFIG)).results
    out = []
    for item in results["PrivilegeEscalation"]["findings"]:
        out.append(
            (
                f"PrivilegeEscalation:{item['type']}",
                f"[{ISSUE_SEVERITY['PrivilegeEscalation']}] actions: {', '.join(sorted(item['actions']))}",
            )
        )
    for category in CLOUDSPLAINING_CATEGORIES:
        for action in sorted(set(results[category]["findings"])):
            out.append((f"{category}:{action}", f"[{ISSUE_SEVERITY[category]}] {category}: {action}"))
    return out


TOOLS = (("parliament", run_parliament), ("cloudsplaining", run_cloudsplaining))


def lint(documents):
    findings = []
    for name, document in documents.items():
        for tool, run in TOOLS:
            try:
                with contextlib.redirect_stdout(sys.stderr):
                    results = run(document)
            except Exception as e:  # noqa: BLE001 - a tool's crash is a finding
                results = [("ERROR", f"{type(e).__name__}: {e}")]
            findings.extend((name, tool, i, d) for i, d in results)
    return [
        {"document": name, "tool": tool, "id": i, "detail": d} for name, tool, i, d in sorted(findings)
    ]


def main():
    request = json.load(sys.stdin)
    documents = request.get("documents") if isinstance(request, dict) else None
    if not isinstance(documents, dict):
        sys.exit('expected {"documents": {"<name>": <policy document>, ...}} on stdin')
    json.dump({"findings": lint(documents)}, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
