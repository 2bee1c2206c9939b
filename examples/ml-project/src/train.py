"""Training script with every unsafe model-loading pattern ModelVet knows about."""
import pickle
import joblib
import numpy as np
import torch
import yaml
from huggingface_hub import hf_hub_download
from keras.models import load_model
from transformers import AutoModel, AutoTokenizer


def load_checkpoint(path):
    # LOAD001: torch.load runs pickled code unless weights_only=True.
    return torch.load(path)


def load_downloaded():
    # LOAD005 + LOAD006: unpinned Hub download of a pickle-format file; the load is tainted.
    path = hf_hub_download("acme-research/sentiment-model", filename="pytorch_model.bin")
    return torch.load(path, weights_only=False)


def load_everything():
    with open("features.pkl", "rb") as fh:
        features = pickle.load(fh)  # LOAD002
    clf = joblib.load("classifier.joblib")  # LOAD002
    arr = np.load("arrays.npy", allow_pickle=True)  # LOAD003
    model = AutoModel.from_pretrained("acme-research/sentiment-model", trust_remote_code=True)  # LOAD004 + LOAD005
    tok = AutoTokenizer.from_pretrained("acme-research/sentiment-model", revision="3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39")
    keras_model = load_model("model.keras", safe_mode=False)  # LOAD007
    with open("config.yaml") as fh:
        cfg = yaml.load(fh)  # LOAD008
    safe = torch.load("weights.pt", weights_only=True)  # fine
    return features, clf, arr, model, tok, keras_model, cfg, safe
