from transformers import AutoModel

model = AutoModel.from_pretrained("acme/pickle-only")
