# Written by hoist into an MLflow model's model.tar.gz as code/inference.py:
# the SageMaker inference toolkit (in AWS's PyTorch and Hugging Face serving
# containers) loads it, after installing code/requirements.txt (the model's
# own requirements, MLflow among them). The model is served with
# mlflow.pyfunc, so any flavour with a python_function loader works.
#
# Requests take MLflow's scoring formats: JSON {"dataframe_split": ...},
# {"dataframe_records": [...]}, {"instances": [...]} or {"inputs": ...},
# or CSV rows (text/csv, no header). Answers are JSON {"predictions": ...}.
import io
import json

import mlflow.pyfunc


def model_fn(model_dir, context=None):
    return mlflow.pyfunc.load_model(model_dir)


def input_fn(body, content_type, context=None):
    import pandas as pd

    if isinstance(body, (bytes, bytearray)):
        body = body.decode("utf-8")
    content_type = (content_type or "application/json").split(";")[0].strip()
    if content_type == "text/csv":
        return pd.read_csv(io.StringIO(body), header=None)
    if content_type != "application/json":
        raise ValueError(f"unsupported content type {content_type!r}: send application/json or text/csv")
    data = json.loads(body)
    if isinstance(data, dict):
        if "dataframe_split" in data:
            return pd.DataFrame(**data["dataframe_split"])
        if "dataframe_records" in data:
            return pd.DataFrame(data["dataframe_records"])
        if "instances" in data:
            return pd.DataFrame(data["instances"])
        if "inputs" in data:
            return data["inputs"]
    return data


def predict_fn(data, model, context=None):
    return model.predict(data)


def output_fn(prediction, accept, context=None):
    if hasattr(prediction, "to_dict"):  # pandas
        prediction = prediction.to_dict(orient="records") if hasattr(prediction, "columns") else prediction.tolist()
    elif hasattr(prediction, "tolist"):  # numpy
        prediction = prediction.tolist()
    return json.dumps({"predictions": prediction}), "application/json"
