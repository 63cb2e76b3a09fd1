"""Register tiny sklearn models into a real MLflow tracking server, for
hoist's registry integration tests (hoist-testkit's MlflowServer::register).

    register.py register --name churn --value 3 [--value 5 ...] [--alias champion]
    register.py register --name churn --value 3 --count N

One new version per --value (importing MLflow takes seconds, so a test
registers all its versions in one process); --count N with one --value
registers N versions encoding V, V+1, ..., V+N-1. Each version is a
LinearRegression fitted on [[0], [1]] -> [0, V], so it predicts V for
input [[1]]: a test can tell versions apart by what the deployed model
answers.

Prints one JSON line per version on stdout:
{"name", "version", "source", "artifact_uri"}. Everything else (MLflow
prints run links to stdout, warnings, logs) goes to stderr.

Env: MLFLOW_TRACKING_URI, MLFLOW_S3_ENDPOINT_URL (artifacts go straight to
S3), AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION.
"""

import argparse
import json
import os
import sys
import tempfile

# Keep fd 1 for the JSON lines only and point everything else that writes
# to stdout (MLflow's "View run" links, subprocesses it starts) at stderr.
_out = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)
sys.stdout = sys.stderr


def register(name, value, alias, requirements):
    """Log and register one version; `requirements`: a requirements.txt to
    use instead of inferring one."""
    import mlflow
    import mlflow.sklearn
    from mlflow import MlflowClient
    from sklearn.linear_model import LinearRegression

    model = LinearRegression().fit([[0.0], [1.0]], [0.0, value])
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(model, name="model", registered_model_name=name, pip_requirements=requirements)
    version = str(info.registered_model_version)
    client = MlflowClient()
    if alias:
        client.set_registered_model_alias(name, alias, version)
    return {
        "name": name,
        "version": version,
        "source": client.get_model_version(name, version).source,
        "artifact_uri": client.get_model_version_download_uri(name, version),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    reg = sub.add_parser("register", help="log and register model versions")
    reg.add_argument("--name", required=True, help="registered model name")
    reg.add_argument("--value", type=float, action="append", required=True, help="what the model predicts for [[1]]; repeat for more versions")
    reg.add_argument("--alias", help="point this alias at the last new version")
    reg.add_argument("--count", type=int, default=1, help="with one --value V: register N versions encoding V, V+1, ...")
    args = parser.parse_args()
    values = args.value
    if args.count != 1:
        if len(values) != 1 or args.count < 1:
            parser.error("--count N takes exactly one --value and N >= 1")
        values = [values[0] + k for k in range(args.count)]

    requirements = None
    with tempfile.TemporaryDirectory() as tmp:
        for k, value in enumerate(values):
            last = k == len(values) - 1
            line = register(args.name, value, args.alias if last else None, requirements)
            _out.write(json.dumps(line) + "\n")
            _out.flush()
            if requirements is None and not last:
                # Inferring requirements runs a subprocess (~4 s a version):
                # reuse the first version's, which are the same for all.
                # (Not after the last: through a proxying server that is a
                # presigned download, which the emulator refuses under IAM
                # enforcement and MLflow's client retries for minutes.)
                import mlflow.artifacts

                requirements = mlflow.artifacts.download_artifacts(artifact_uri=line["artifact_uri"] + "/requirements.txt", dst_path=tmp)


if __name__ == "__main__":
    main()
