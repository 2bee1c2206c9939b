import torch


def load_checkpoint(path):
    model = torch.load(path)
    return model
