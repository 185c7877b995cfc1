"""The seed-style baseline the serving benchmark compares against (not part of maas)."""

import os

import joblib
from flask import Flask, jsonify, request

app = Flask(__name__)
model = joblib.load(os.environ["MODEL_PATH"])  # a file this benchmark wrote itself


@app.route("/predict", methods=["POST"])
def predict():
    return jsonify(model.predict(request.get_json()["features"]).tolist())
