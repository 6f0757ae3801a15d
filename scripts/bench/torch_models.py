#!/usr/bin/env python3
"""PyTorch's side of `peerd-bench models`: the same train step (forward, backward, SGD step at
batch 16, one thread, best of 5) for the models peerd's benchmark measures, printed as one JSON
object per line: {"model": ..., "torch": "2.13.0+cpu", "us_per_step": ...}.

The models are decentralizepy's: LogisticRegression (784 -> 10), the FEMNIST CNN (5x5
convolutions 1->32->64 with padding 2, 2x2 max pooling, 3136 -> 512 -> 62) and MovieLens'
MatrixFactorization (610 x 20 and 9724 x 20 embeddings, dense gradients as nn.Embedding gives
them, MSE loss). Run by peerd-bench with the interpreter of .venv-torch (scripts/setup_torch.sh).
"""
import json
import sys
import time

import torch
from torch import nn

torch.set_num_threads(1)
torch.manual_seed(1)
BATCH = int(sys.argv[1]) if len(sys.argv) > 1 else 16
ONLY = sys.argv[2] if len(sys.argv) > 2 else ""


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 5, padding=2)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(32, 64, 5, padding=2)
        self.fc1 = nn.Linear(7 * 7 * 64, 512)
        self.fc2 = nn.Linear(512, 62)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv1(x)))
        x = self.pool(torch.relu(self.conv2(x)))
        return self.fc2(torch.relu(self.fc1(torch.flatten(x, 1))))


class MatrixFactorization(nn.Module):
    def __init__(self, users=610, items=9724, factors=20):
        super().__init__()
        self.user_factors = nn.Embedding(users, factors)
        self.item_factors = nn.Embedding(items, factors)

    def forward(self, data):
        return (self.user_factors(data[:, 0]) * self.item_factors(data[:, 1])).sum(dim=1)


def measure(model, x, y, loss, iterations):
    opt = torch.optim.SGD(model.parameters(), lr=0.01)

    def step():
        opt.zero_grad()
        loss(model(x), y).backward()
        opt.step()

    for _ in range(min(iterations, 20)):
        step()
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(iterations):
            step()
        best = min(best, (time.perf_counter() - start) / iterations)
    return best


cases = [
    ("LogisticRegression", nn.Linear(784, 10), torch.rand(BATCH, 784), torch.randint(0, 10, (BATCH,)),
     nn.CrossEntropyLoss(), 2000),
    ("FEMNIST CNN", CNN(), torch.rand(BATCH, 1, 28, 28), torch.randint(0, 62, (BATCH,)), nn.CrossEntropyLoss(), 20),
    ("MatrixFactorization", MatrixFactorization(),
     torch.stack([torch.randint(0, 610, (BATCH,)), torch.randint(0, 9724, (BATCH,))], dim=1),
     torch.randint(1, 6, (BATCH,)).float(), nn.MSELoss(), 2000),
]
for name, model, x, y, loss, iterations in cases:
    if ONLY.lower() not in name.lower():
        continue
    seconds = measure(model, x, y, loss, iterations)
    print(json.dumps({"model": name, "torch": torch.__version__, "us_per_step": seconds * 1e6}), flush=True)
