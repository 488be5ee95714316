#!/usr/bin/env python3
"""Checks the Helm chart (deploy/helm/esignet) without a cluster or a helm binary.

1. `helm lint --strict` through Helm's own Go SDK (the helm-python-sdk wheel ships it);
2. renders the templates for several value sets (defaults, everything on, everything off);
3. validates every rendered manifest against the Kubernetes OpenAPI schemas in strict mode
   (kubernetes-validate), except the Prometheus Operator's ServiceMonitor (a CRD);
4. writes each rendered config.toml to OUT_DIR/<case>.toml so the caller can run
   `esignet config check` on it (crates/esignet/tests/e2e/helm.rs does).

Usage: helm-check.py OUT_DIR. Exit status 0 when every check passed; the problems otherwise.
"""

import json
import pathlib
import sys

import helm_python
import kubernetes_validate
import yaml

CHART = pathlib.Path(__file__).resolve().parent.parent / "deploy" / "helm" / "esignet"
KUBERNETES_VERSION = "1.33.0"
CRDS = {"ServiceMonitor"}

CASES = {
    "defaults": {},
    "everything-on": {
        "ingress": {"enabled": True, "className": "nginx", "tls": [{"secretName": "esignet-tls", "hosts": ["esignet.example.org"]}]},
        "metrics": {"serviceMonitor": {"enabled": True}},
        "extraEnv": [{"name": "ESIGNET_LOG", "value": "info"}],
        "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "esignet"}}}],
    },
    "minimal": {
        "autoscaling": {"enabled": False},
        "podDisruptionBudget": {"enabled": False},
        "metrics": {"enabled": False},
        "migrations": {"enabled": False},
        "serviceAccount": {"create": False},
        "secrets": {"keys": {"adminToken": ""}},
    },
}


def main() -> int:
    out_dir = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else pathlib.Path("target/helm")
    out_dir.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []

    report = helm_python.lint(str(CHART), strict=True, kube_version=f"v{KUBERNETES_VERSION}")
    for message in report.get("messages", []):
        if message.get("severity", 0) >= 2:
            problems.append(f"lint: {message.get('path')}: {message.get('error')}")
    problems.extend(f"lint: {error}" for error in report.get("errors", []))

    chart = helm_python.Chart.load(str(CHART))
    for case, values in CASES.items():
        rendered = chart.render(values, name="esignet", namespace="identity", is_install=True)
        kinds = []
        for template, text in sorted(rendered.items()):
            if template.endswith("NOTES.txt"):
                continue
            for document in yaml.safe_load_all(text):
                if not document:
                    continue
                kind = document.get("kind", "?")
                kinds.append(kind)
                if kind in CRDS:
                    continue
                try:
                    kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
                except kubernetes_validate.ValidationError as error:
                    problems.append(f"{case}: {template}: {kind}: {error.message} at {list(error.path)}")
                except kubernetes_validate.InvalidSchemaError as error:
                    problems.append(f"{case}: {template}: {kind}: no schema ({error})")
                if kind == "ConfigMap":
                    (out_dir / f"{case}.toml").write_text(document["data"]["config.toml"])
        print(f"{case}: {len(kinds)} manifests: {', '.join(sorted(kinds))}")

    for problem in problems:
        print(f"PROBLEM {problem}", file=sys.stderr)
    print(json.dumps({"cases": len(CASES), "problems": len(problems)}))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
